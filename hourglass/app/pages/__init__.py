"""The dashboard's pages: each a script that `st.navigation` runs at its own address."""
