"""Dashboard answers sooner: one Planner simulation for every horizon, streamed and cached runs."""

from __future__ import annotations

import pandas as pd
import pytest

import hourglass as hg
from hourglass.analysis import forecast
from hourglass.app import cache, runs
from hourglass.config.business import days_in_months
from hourglass.experiments import replication
from hourglass.experiments.replication import summarize
from hourglass.kpis import KPIS
from tests.test_dashboard import open_page, script
from tests.test_planner import DATED, START


@pytest.fixture
def simulations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the scenarios the dashboard simulates from now on, one per simulation.

    The results other tests left in this process's store are cleared first, so each test
    counts its own simulations whatever ran before it.
    """
    store, lock = cache.result_store()
    with lock:
        store.clear()
    names: list[str] = []
    collect = replication.collect

    def counted(executor: object, scenario: hg.Scenario, *args: object, **kwargs: object) -> None:
        names.append(scenario.name)
        return collect(executor, scenario, *args, **kwargs)

    monkeypatch.setattr(replication, "collect", counted)
    return names


def test_a_planner_horizon_change_simulates_nothing_and_cuts_the_longest_run(simulations):
    at = open_page("planner", library={"dated": DATED}, chosen="dated")
    assert len(simulations) == 1
    at.slider(key="horizon-dated").set_value(7)
    at.button[0].click().run()
    at.slider(key="horizon-dated").set_value(30)
    at.button[0].click().run()
    assert not at.exception
    assert len(simulations) == 1  # both horizons cut from the first simulation
    longest = hg.config.parse_scenario_text(DATED).with_overrides(
        {"horizon_days": float(days_in_months(START, 36))}
    )
    direct = hg.replicate(longest, 2, 1, backend="serial").daily
    days = days_in_months(START, 30)
    buyers = summarize(direct[direct["day"] < days].groupby("rep")["buyers"].sum().to_numpy())
    shown = next(m for m in at.metric if m.label == "Buyers")
    assert shown.value == KPIS["buyers"].format(buyers["p50"], compact=True)
    months = forecast.calendar_months(direct, START, days)
    first = months[months["month"] == months["month"].min()]["buyers"].median()
    cell = at.dataframe[0].value["New buyers"][0]
    assert cell.startswith(KPIS["buyers"].format(first, compact=True) + " (")
    assert len(at.dataframe[0].value) == 30


def test_streamed_replications_arrive_one_by_one_and_end_as_replicate_does():
    scenario = hg.config.parse_scenario_text(DATED).with_overrides({"horizon_days": 120.0})
    finished: dict = {}
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(len(finished))

    result = runs.simulated(scenario, 3, 5, finished, progress)
    expected = hg.replicate(scenario, 3, 5, backend="serial")
    assert seen == [1, 2, 3]
    pd.testing.assert_frame_equal(result.kpis, expected.kpis)
    pd.testing.assert_frame_equal(result.daily, expected.daily)


def test_the_marketers_numbers_are_todays_for_the_same_seed():
    short = DATED.replace("name: dated", "name: short").replace(
        "horizon_days: 365", "horizon_days: 120"
    )
    at = open_page("marketer", library={"short": short}, chosen="short")
    assert not at.exception
    expected = hg.replicate(hg.config.parse_scenario_text(short), 2, 1, backend="serial")
    buyers = next(m for m in at.metric if m.label == "Buyers")
    assert buyers.value == KPIS["buyers"].format(expected.kpis["buyers"].mean(), compact=True)
    assert not [c for c in at.caption if "range follows" in c.value]  # the early numbers went


def test_compare_takes_both_scenarios_from_the_marketers_runs(simulations):
    at = open_page("marketer", chosen="baseline")
    at.session_state["chosen"] = "no_referrals"
    at.run()
    assert not at.exception
    assert sorted(set(simulations)) == ["baseline", "no_referrals"]
    simulations.clear()
    at.switch_page(script("compare")).run()
    assert not at.exception
    assert simulations == []  # both came from the cache
    assert len(at.get("plotly_chart")) == 3


def test_a_result_is_cached_by_content_not_by_name():
    baseline = hg.load_scenario()
    renamed = baseline.model_copy(update={"name": "copy", "description": "another"})
    assert cache.result_key(baseline, 2, 1) == cache.result_key(renamed, 2, 1)
