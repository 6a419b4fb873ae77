"""The hourglass dashboard: Streamlit pages over the hourglass library's public API.

    streamlit run dashboard.py

Nine pages, each at its own address: Trainer (/trainer, where the app opens), Marketer,
Budget, Planner, Compare, B2B deals (/deals), Network, Scenario and Import data (/import).
The sidebar's scenario, seed, replications and stage labels hold on every page. Nothing
here models anything: every number comes from `hourglass`, and the pages live in
`hourglass.app.pages`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from hourglass.app import state, widgets

SCENARIO_DIR = Path(__file__).parent / "scenarios"
PAGE_DIR = Path("hourglass", "app", "pages")  # relative to this file, as st.Page wants it

PAGES = (  # address, title, icon, script
    ("trainer", "Trainer", ":material/hourglass_empty:", "trainer.py"),
    ("marketer", "Marketer", ":material/tune:", "marketer.py"),
    ("budget", "Budget", ":material/payments:", "budget.py"),
    ("planner", "Planner", ":material/timeline:", "planner.py"),
    ("compare", "Compare", ":material/compare_arrows:", "compare.py"),
    ("deals", "B2B deals", ":material/handshake:", "deals.py"),
    ("network", "Network", ":material/hub:", "network.py"),
    ("scenario", "Scenario", ":material/edit_document:", "scenario.py"),
    ("import", "Import data", ":material/upload_file:", "import_data.py"),
)


def pages() -> list[st.Page]:
    """Every page at its address; the app's root opens the first one."""
    shown = [
        st.Page(PAGE_DIR / script, url_path=path, title=title, icon=icon)
        for path, title, icon, script in PAGES
    ]
    # the default page would be served at "/" only, so the root passes on to /trainer
    root = st.Page(
        lambda: st.switch_page(shown[0]),
        url_path="home",
        title="hourglass",
        default=True,
        visibility="hidden",
    )
    return [root, *shown]


def main() -> None:
    """Set the page up, lay out the sidebar, and run the page at the browser's address."""
    st.set_page_config(page_title="hourglass", page_icon="⏳", layout="wide")
    page = st.navigation(pages())
    state.open_library(SCENARIO_DIR)
    state.choose(widgets.sidebar())
    page.run()


main()
