"""The dashboard's pages and what they share: session state, server caches, runs, widgets.

The only part of hourglass that imports streamlit; `dashboard.py` starts it. Each page is a
script under `pages/` with its own address; the rest of the package stays free of pandas
until a page needs it, so the Trainer page's theory sketch goes out first.
"""
