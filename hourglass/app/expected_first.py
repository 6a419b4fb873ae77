"""The analytic expectation on screen at once, while a scenario's replications run."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import streamlit as st

import hourglass as hg
from hourglass.app import cache, runs, widgets
from hourglass.i18n import _

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

EXPECTED_KPIS = ("buyers", "revenue", "profit")
"""The KPIs `hourglass.theory.expected_outcome` gives, counted as the simulation counts them."""


@contextmanager
def expected_first(
    scenario: hg.Scenario, kpis: Sequence[str], reps: int, seed: int, language: str
) -> Iterator[runs.Partial]:
    """`runs.so_far`, with theory's expectation of the KPIs it gives shown until then.

    The expectation costs milliseconds, so it is on screen before the first replication
    ends; the first replication's numbers take its place. A cached result shows at once,
    with no expectation before it.
    """
    with runs.so_far(kpis, reps, language) as shown:
        slot = st.empty()
        if cache.cached(cache.result_key(scenario, reps, seed)) is None:
            _show_expectation(slot, scenario, [k for k in kpis if k in EXPECTED_KPIS], language)

        def draw(replications: hg.experiments.Replications) -> None:
            slot.empty()
            shown(replications)

        try:
            yield draw
        finally:
            slot.empty()


def _show_expectation(
    slot: DeltaGenerator,
    scenario: hg.Scenario,
    kpis: list[str],
    language: str,
) -> None:
    """Theory's first-order numbers for `kpis` in `slot`, said to be an expectation."""
    if not kpis:
        return
    expected = hg.theory.expected_outcome(scenario, queues=True)
    with slot.container():
        st.caption(
            _(
                "Expected from the rates while {name} is simulated (theory, with the sellers' "
                "queues taken as steady month by month):"
            ).format(name=widgets.escape(scenario.name))
        )
        for column, kpi in zip(widgets.grid(len(kpis)), kpis, strict=True):
            widgets.kpi_metric(column, kpi, expected[kpi], language)
