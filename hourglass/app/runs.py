"""Simulations a page asks for: from the cache, or run under a progress bar within a cap."""

from __future__ import annotations

import streamlit as st

import hourglass as hg
from hourglass.app import cache

MAX_PROSPECT_RUNS = 3_000_000
"""Prospects x replications per request: a page answers in a minute."""


class TooBig(Exception):
    """A run the dashboard will not simulate; the message says why."""


def run(scenario: hg.Scenario, reps: int, seed: int) -> hg.experiments.Replications | None:
    """Replications of a scenario, from the cache or simulated under a progress bar.

    None, after saying why, when the request is over the cap or the simulation fails.
    """
    key = cache.result_key(scenario, reps, seed)
    found = cache.cached(key)
    if found is not None:
        return found
    outside = hg.theory.expected_prospects(scenario)
    if outside > MAX_PROSPECT_RUNS:
        st.error(
            f"'{scenario.name}' would bring about {outside:,.0f} prospects in one run; the "
            f"dashboard stops at {MAX_PROSPECT_RUNS:,}. Shorten the horizon or lower the "
            "arrivals, or run it headless: hourglass run SCENARIO."
        )
        return None
    if reps > 1 and not measured_size(scenario, seed, reps):
        return None
    bar = st.progress(0.0, text=f"Simulating {scenario.name}: 0 of {reps} replications")

    def tick(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Simulating {scenario.name}: {done} of {total}")

    try:
        result = hg.replicate(scenario, reps, seed, "processes", progress=tick)
    except hg.experiments.ReplicationError as err:
        st.error(f"The simulation failed: {err}")
        return None
    finally:
        bar.empty()
    cache.store(key, result)
    return result


def measured_size(scenario: hg.Scenario, seed: int, runs: int) -> bool:
    """Whether `runs` runs of the scenario fit under the cap; says why not if they do not.

    One run is simulated (and cached) to count its prospects.
    """
    first = run(scenario, 1, seed)
    if first is None:
        return False
    per_run = max(float(first.kpis["prospects"].iloc[0]), 1.0)
    if per_run * runs > MAX_PROSPECT_RUNS:
        st.error(
            f"'{scenario.name}' brings about {per_run:,.0f} prospects per run, so {runs} runs "
            f"would simulate {per_run * runs:,.0f}; the dashboard stops at "
            f"{MAX_PROSPECT_RUNS:,}, about {int(MAX_PROSPECT_RUNS // per_run)} runs of it. Use "
            "fewer replications or a shorter horizon, or the command line (hourglass run, "
            "compare, optimize), which has no cap."
        )
        return False
    return True


def within_cap(scenario: hg.Scenario, runs: int) -> None:
    """Raise TooBig if `runs` runs of the scenario would bring more prospects than the cap."""
    outside = hg.theory.expected_outside_prospects(scenario)
    if outside * runs > MAX_PROSPECT_RUNS:
        raise TooBig(
            f"the optimal allocation would bring about {outside:,.0f} outside prospects per "
            f"run, {outside * runs:,.0f} in {runs} runs; the dashboard stops at "
            f"{MAX_PROSPECT_RUNS:,}. Use a smaller total or fewer replications, or the "
            "command line: hourglass optimize SCENARIO --budget AMOUNT."
        )
