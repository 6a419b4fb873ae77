"""The hourglass dashboard: Streamlit pages over the hourglass library's public API.

    streamlit run dashboard.py

Twelve pages, each at its own address: Trainer (/trainer, where the app opens), Marketer,
Budget, Planner, Compare, B2B deals (/deals), Sales team (/sales-team), Network, Key accounts
(/accounts), My business (/business), Scenario and Import data (/import).
The sidebar's scenario, seed, replications, language and presentation mode hold on
every page (`?lang=ru`, `?present=1` in the address set the last two). Nothing
here models anything: every number comes from `hourglass`, and the pages live in
`hourglass.app.pages`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from hourglass.app import shell, state, widgets
from hourglass.i18n import set_language

SCENARIO_DIR = Path(__file__).parent / "scenarios"


def main() -> None:
    """Set the language and layout up, lay out the sidebar, and run the page at the address."""
    set_language(shell.reader_language())
    presenting = shell.presenting()
    st.set_page_config(page_title="hourglass", page_icon="⏳", layout="wide")
    page = st.navigation(shell.pages())
    state.open_library(SCENARIO_DIR)
    state.choose(widgets.sidebar(presenting))
    if presenting:
        shell.present()
    widgets.calibration_warning(state.choice())
    page.run()


# Streamlit runs this file as __main__; a spawned worker imports it as __mp_main__ and must
# not lay out the app
if __name__ == "__main__":
    main()
