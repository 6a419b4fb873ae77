"""The work estimate against real runs, the limits commands keep, and the dashboard's budgets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest

import hourglass.config.work as limits
import hourglass.sim.engine as engine
from hourglass import load_scenario, replicate, simulate
from hourglass.app import cache, runs
from hourglass.config.work import (
    MAX_EVENTS,
    TooMuchWork,
    WorkCeilingError,
    WorkEstimate,
    check_work,
    estimate_work,
)
from tests.helpers import ROOT, SCENARIOS, exits_2_saying, make_scenario

TOLERANCE = 0.35
"""Prospects and purchases of one run lie within this share of the estimate."""

HUGE = """\
name: huge
horizon_days: 36500
channels:
  organic: {prospects_per_day: 1000000}
stages:
  know: {pass_prob: 0.5}
  like: {pass_prob: 0.5}
  trust: {pass_prob: 0.5}
  try: {pass_prob: 0.5}
  buy: {pass_prob: 0.5}
after_sale:
  order_value: {fixed: {value: 10}}
"""


def _counts(scenario, seed: int = 1) -> tuple[int, int]:
    log = simulate(scenario, seed).log
    return len(log.prospects["arrival"]), len(log.purchases["time"])


def _close(estimated: float, got: int) -> bool:
    return abs(estimated - got) <= TOLERANCE * max(got, 1)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_the_estimate_matches_a_run_of_each_shipped_scenario(path):
    scenario = load_scenario(path)
    work = estimate_work(scenario)
    prospects, purchases = _counts(scenario)
    assert _close(work.prospects, prospects), (work.prospects, prospects)
    assert _close(work.purchases, purchases), (work.purchases, purchases)


REPEAT = {"simple": {"purchases_per_month": 20.0, "dropout_prob": 0.01}}


@pytest.mark.parametrize(
    "changes",
    [
        {},  # every stage passes at once: 50 a day for 100 days, each buys once
        {"market__size": 2000},  # the market runs out: about 2,000 (1 - e^-2.5) prospects
        {"after_sale__repeat": REPEAT},  # heavy repeat buying: the purchases are repeats
        {"stages__know__pass_prob": 0.2, "after_sale__repeat": REPEAT},
        {
            "sales": {"sellers": 1, "stages": ["define"], "patience": {"fixed": {"days": 0.5}}},
            "stages__try__duration": {"fixed": {"days": 1.0}},
        },  # one seller: a lead a day gets through, the others go cold
    ],
    ids=["instant", "small-market", "repeat", "narrow-repeat", "one-seller"],
)
def test_the_estimate_matches_a_run_of_made_scenarios(changes):
    scenario = make_scenario(**changes)
    work = estimate_work(scenario)
    prospects, purchases = _counts(scenario)
    assert _close(work.prospects, prospects), (work.prospects, prospects)
    assert _close(work.purchases, purchases), (work.purchases, purchases)


def test_heavy_repeat_buying_is_counted_though_prospects_are_few():
    scenario = make_scenario(
        horizon_days=730.0,
        **{"channels__organic__prospects_per_day": 1.0, "after_sale__repeat": REPEAT},
    )
    work = estimate_work(scenario)
    assert work.prospects == pytest.approx(730, rel=0.01)
    assert work.driver == "purchases"
    assert work.purchases > 50 * work.prospects
    assert _close(work.purchases, _counts(scenario)[1])


def test_a_huge_scenario_is_refused_saying_what_drives_it_and_what_fits(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(HUGE, encoding="utf-8")
    scenario = load_scenario(path)
    work = estimate_work(scenario)
    assert work.prospects == pytest.approx(3.65e10, rel=0.01)
    with pytest.raises(TooMuchWork) as err:
        check_work(scenario)
    message = str(err.value)
    assert "about 3.6e10 prospects over 36500 days: about 1.1e11 events" in message
    assert "horizon_days of 31" in message
    assert "channels.organic.prospects_per_day" in message
    shorter = scenario.model_copy(update={"horizon_days": 31.0})
    assert check_work(shorter).over_limit() is None
    assert check_work(scenario, allow_large=True).prospects == work.prospects


def test_replications_that_do_not_fit_say_how_many_would():
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    per_run = estimate_work(scenario).events_per_run
    with pytest.raises(TooMuchWork) as err:
        check_work(scenario, 5000)
    assert f"at most {int(MAX_EVENTS / per_run):,} runs" in str(err.value)


def test_every_shipped_scenario_fits_as_the_readme_runs_it():
    for path in SCENARIOS:
        assert check_work(load_scenario(path), 1000).over_limit() is None, path


def test_check_prints_the_estimate_and_does_not_call_the_absurd_ok(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(HUGE, encoding="utf-8")
    shown = subprocess.run(
        [sys.executable, "-m", "hourglass.cli", "check", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ": ok:" not in shown
    assert "valid, but too large to run" in shown
    assert "about 3.6e10 prospects, 1.1e9 purchases, 1.1e11 events" in shown


def test_run_refuses_the_absurd_before_simulating(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(HUGE, encoding="utf-8")
    exits_2_saying(["run", str(path)], "what would fit: horizon_days of 31")


def test_sweep_counts_points_times_replications():
    exits_2_saying(
        [
            "sweep",
            "scenarios/seller_bottleneck.yaml",
            "--vary",
            "sales.sellers=2:12:2",
            "--reps",
            "100000",
        ],
        "in each of 600,000 runs",
    )


def test_compare_and_optimize_refuse_too_many_replications():
    exits_2_saying(
        ["compare", "scenarios/baseline.yaml", "scenarios/no_referrals.yaml", "--reps", "30000"],
        "in each of 60,000 runs",
    )
    exits_2_saying(
        ["optimize", "scenarios/marketing_budgets.yaml", "--budget", "22000", "--reps", "10000"],
        "--allow-large runs it anyway",
    )


def test_the_engine_stops_a_run_far_past_its_estimate(monkeypatch):
    scenario = make_scenario()  # 5,000 prospects, each with 6 visits and a purchase
    tiny = WorkEstimate(100.0, 10.0, 0.0, 10.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0)
    monkeypatch.setattr(engine, "CEILING_SLACK", 1000)
    monkeypatch.setattr(limits, "CEILING_SLACK", 1000)
    monkeypatch.setattr(engine, "estimate_work", lambda *_, **__: tiny)
    with pytest.raises(WorkCeilingError, match=r"'test' stopped at day 2: 1,\d{3} events, past"):
        simulate(scenario, 1)


def test_replications_stopped_by_the_ceiling_are_not_retried(monkeypatch):
    tiny = WorkEstimate(100.0, 10.0, 0.0, 10.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0)
    calls = []

    def estimate(*args, **kwargs):
        calls.append(1)
        return tiny

    monkeypatch.setattr(engine, "CEILING_SLACK", 1000)
    monkeypatch.setattr(limits, "CEILING_SLACK", 1000)
    monkeypatch.setattr(engine, "estimate_work", estimate)
    with pytest.raises(WorkCeilingError, match="'test' stopped at day 2"):
        replicate(make_scenario(), 3, backend="serial")
    assert len(calls) == 1


def test_a_run_within_its_ceiling_is_untouched(monkeypatch):
    scenario = make_scenario()
    unchecked = _counts(scenario)
    monkeypatch.setattr(engine, "CEILING_SLACK", 1000)
    assert _counts(scenario) == unchecked


# -- the dashboard's budgets ---------------------------------------------------------------


def _work(events_per_run: float, runs: int = 1, memory: float = 1e6) -> WorkEstimate:
    return WorkEstimate(100.0, events_per_run, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, memory, runs)


def test_a_request_within_both_budgets_is_admitted():
    assert runs.refusal(_work(1e6, 8), runs.Load(), runs.Load(), 2) is None


def test_a_request_over_the_session_budget_says_how_many_replications_fit():
    why = runs.refusal(_work(4e6, 10), runs.Load(), runs.Load(), 2)
    assert f"At most {int(runs.SESSION_EVENTS // 4e6)} replications fit: use fewer" in why
    assert "hourglass run SCENARIO" in why


def test_heavy_memory_is_refused_though_events_are_few():
    why = runs.refusal(_work(1e3, 4, memory=2 * 2**30), runs.Load(), runs.Load(), 2)
    assert "4,096 MB of memory at once; a session may run 12.0 million events and 3 GB" in why


def test_a_session_waits_for_its_own_running_work():
    busy = runs.Load(events=runs.SESSION_EVENTS - 1e6)
    why = runs.refusal(_work(2e6), busy, busy, 2)
    assert why.startswith("this session already has about 11.0 million events running")


def test_the_server_budget_holds_across_sessions():
    ledger = runs.Ledger(workers=2)
    big = _work(runs.SESSION_EVENTS * 0.9)
    with ledger.admitted("a", big), ledger.admitted("b", big), ledger.admitted("c", big):
        assert ledger.load().events == pytest.approx(3 * big.events)
        with pytest.raises(runs.TooBig, match="the server is busy"), ledger.admitted("d", big):
            pass
        more = _work(runs.SESSION_EVENTS * 0.2)
        with (
            pytest.raises(runs.TooBig, match="this session already has"),
            ledger.admitted("a", more),
        ):
            pass
    assert ledger.load() == runs.Load()
    with ledger.admitted("d", big):
        assert ledger.load("d").events == big.events


def test_all_sessions_share_one_worker_pool():
    pool = cache.worker_pool()
    try:
        assert cache.worker_pool() is pool
        assert pool.backend == "processes"
        assert runs.ledger() is runs.ledger()
    finally:
        pool.__exit__(None, None, None)
        cache.worker_pool.clear()


def test_the_estimate_is_a_pure_function_of_the_plan():
    scenario = load_scenario(ROOT / "scenarios" / "referral_driven.yaml")
    first, again = estimate_work(scenario), estimate_work(scenario)
    assert first == again
    assert np.isfinite(first.memory_bytes) and first.memory_bytes > 0


def test_precision_adds_replications_only_as_far_as_the_limit():
    from hourglass.cli.simulation import MAX_PRECISION_REPS, _most_reps

    heavy = make_scenario(channels__organic__prospects_per_day=5000.0)
    per_run = estimate_work(heavy).events_per_run
    assert 100 < limits.MAX_EVENTS // per_run < MAX_PRECISION_REPS
    assert _most_reps(heavy, 2, allow_large=False) == int(limits.MAX_EVENTS // per_run)
    assert _most_reps(heavy, 2, allow_large=True) == MAX_PRECISION_REPS
    assert _most_reps(make_scenario(), 2, allow_large=False) == MAX_PRECISION_REPS


def test_the_network_page_holds_its_one_run_within_the_server_budget():
    from streamlit.testing.v1 import AppTest

    from tests.test_dashboard import DASHBOARD, script

    full = WorkEstimate(100.0, runs.SESSION_EVENTS, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1e6, 1)
    at = AppTest.from_file(DASHBOARD, default_timeout=180)
    at.session_state["chosen"] = "social_network"
    at.switch_page(script("scenario")).run()
    others = [f"session {n}" for n in range(int(runs.SERVER_EVENTS // runs.SESSION_EVENTS))]
    with ExitStack() as held:
        for other in others:
            held.enter_context(runs.ledger().admitted(other, full))
        at.switch_page(script("network")).run()
    assert "the server is busy with other sessions" in at.error[0].value


def test_a_superseded_page_run_releases_its_share_at_once():
    ledger = runs.Ledger(workers=2)
    big = _work(runs.SESSION_EVENTS * 0.9)
    holding, done = threading.Event(), threading.Event()
    claims = []

    def first_run() -> None:  # a page run, still simulating when its page runs again
        with ledger.admitted("a", big) as claim:
            claims.append(claim)
            holding.set()
            done.wait(10)

    thread = threading.Thread(target=first_run)
    thread.start()
    holding.wait(10)
    try:
        with ledger.admitted("a", big):
            assert ledger.load("a").events == big.events
            with pytest.raises(runs.Superseded):
                claims[0].check()
    finally:
        done.set()
        thread.join()
    assert ledger.load() == runs.Load()


def test_a_century_long_horizon_is_counted_by_its_days():
    """One run of b2b_committee over 36,500 days took 26 s, though it logs 95,000 events."""
    scenario = load_scenario(ROOT / "scenarios" / "b2b_committee.yaml")
    century = scenario.with_overrides({"horizon_days": 36_500.0})
    assert runs.refusal(runs.estimate(scenario, 10), runs.Load(), runs.Load(), 2) is None
    why = runs.refusal(runs.estimate(century, 10), runs.Load(), runs.Load(), 2)
    assert "mostly the 36,500 days of its horizon" in why
    assert "At most 3 replications fit" in why


def test_the_estimate_of_referrals_grows_with_the_horizon():
    """Referrals won in a long step arrive in a later one instead of being lost."""
    scenario = load_scenario(ROOT / "scenarios" / "referral_driven.yaml")
    events = [
        estimate_work(scenario.with_overrides({"horizon_days": days})).events_per_run
        for days in (365.0, 730.0, 1825.0, 3650.0)
    ]
    assert events == sorted(events)
    assert events[2] > 3e6


def test_a_calibration_is_held_in_the_budgets_by_its_rows():
    rows = int(runs.SESSION_EVENTS / runs.CALIBRATION_ROW_EVENTS) + 1
    why = runs.calibration_refusal(rows, runs.Load(), runs.Load())
    assert f"these files hold {rows:,} rows" in why
    assert "hourglass calibrate --deals FILE" in why
    ledger = runs.Ledger(workers=2)
    with ledger.calibration_admitted("a", 1000):
        assert ledger.load("a").events == 1000 * runs.CALIBRATION_ROW_EVENTS


def test_the_import_page_calibrates_only_within_the_server_budget():
    from streamlit.testing.v1 import AppTest

    from tests.test_dashboard import DASHBOARD, script, shown

    full = WorkEstimate(100.0, runs.SESSION_EVENTS, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1e6, 1)
    deals = (ROOT / "tests" / "data" / "crm" / "hourglass.csv").read_bytes()
    at = AppTest.from_file(DASHBOARD, default_timeout=180)
    at.switch_page(script("scenario")).run()
    at.switch_page(script("import")).run()
    at.file_uploader(key="deals").upload("deals.csv", deals, "text/csv")
    others = [f"session {n}" for n in range(int(runs.SERVER_EVENTS // runs.SESSION_EVENTS))]
    with ExitStack() as held:
        for other in others:
            held.enter_context(runs.ledger().admitted(other, full))
        at.button[0].click().run()
    assert "Not calibrated: the server is busy with other sessions" in shown(at.error[0].value)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_dask_workers_end_with_their_killed_parent():
    from tests.test_outputs import _alive, _children, _start, _wait_for

    proc = _start(["run", "baseline", "--reps", "40", "--backend", "dask"])
    workers: set[int] = set()
    try:
        assert _wait_for(lambda: len(_children(proc.pid)) >= 2, 60), "no workers started"
        time.sleep(3.0)  # the workers are busy with their first replications
        workers = _children(proc.pid)
        proc.kill()
        proc.wait()
        assert _wait_for(lambda: not _alive(workers), 10), "workers outlived their parent"
    finally:
        proc.kill()
        for pid in _alive(workers):
            os.kill(pid, signal.SIGKILL)
