"""The analytic expectation shown while a page's replications run."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _expectation_page() -> None:
    """Draw the baseline's expectation of buyers and profit, as a page does before its run."""
    import streamlit as st

    import hourglass as hg
    from hourglass.app.expected_first import _show_expectation

    scenario = hg.load_scenario("baseline")
    _show_expectation(st.empty(), scenario, ["buyers", "profit"], "en")


def test_the_expectation_shows_theory_numbers_before_the_simulation():
    import hourglass as hg
    from hourglass.kpis import KPIS

    at = AppTest.from_function(_expectation_page, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    expected = hg.theory.expected_outcome(hg.load_scenario("baseline"), queues=True)
    shown = {m.label: m.value for m in at.metric}
    assert shown == {
        "Buyers": KPIS["buyers"].format(expected["buyers"], compact=True),
        "Profit": KPIS["profit"].format(expected["profit"], compact=True),
    }
    assert "Expected from the rates while baseline is simulated" in at.caption[0].value
