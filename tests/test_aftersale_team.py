"""Work after the sale takes seller time: follow-ups held by account managers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import yaml

from hourglass import analysis, simulate, theory
from hourglass.calibration.export import export_deals
from hourglass.stages import FUNNEL
from tests.helpers import ROOT, exits_2_saying, make_scenario

REPEAT = len(FUNNEL)  # a follow-up is a visit to Repeat


def _follow_ups(headcount: int, places: int, duration: dict, horizon: float, **extra):
    """Instant purchases of Poisson arrivals at 20 a day, each followed up 90 days later."""
    follow_up = {"after_days": 90, "role": "account_manager", "duration": duration, **extra}
    return make_scenario(
        channels={"organic": {"prospects_per_day": 20.0}},
        horizon_days=horizon,
        sales={
            "follow_up": {"repeat_prob": 0.3, **follow_up},
            "roles": {
                "account_manager": {
                    "headcount": headcount,
                    "leads_per_seller": places,
                    "stages": ["measure"],
                }
            },
        },
    )


def test_with_ample_account_managers_every_follow_up_is_worked_on_its_day():
    run = simulate(_follow_ups(50, 10, {"fixed": {"days": 0.1}}, 200.0), seed=3)
    p, v = run.log.purchases, run.log.visits
    first = p["kind"] == 0
    due = p["time"][first] + 90.0
    owed = due < 200.0
    mine = v["stage"] == REPEAT
    order = np.argsort(v["prospect"][mine])
    assert np.array_equal(v["prospect"][mine][order], np.sort(p["customer"][first][owed]))
    expected_day = dict(zip(p["customer"][first], due, strict=True))
    days = np.array([expected_day[c] for c in v["prospect"][mine]])
    assert np.array_equal(v["enter"][mine], days)  # exactly 90 days after the sale
    assert np.all(v["wait"][mine] == 0.0)
    assert np.allclose(v["exit"][mine], days + 0.1)
    assert np.all(v["seller"][mine] >= 0)
    # no repeat buying of its own: every repeat purchase is a follow-up's, with chance 0.3
    worked = int(mine.sum())
    repeats = int((p["kind"] != 0).sum())
    assert worked > 1500
    assert abs(repeats - 0.3 * worked) < 4 * math.sqrt(worked * 0.3 * 0.7), (repeats, worked)
    assert np.all(np.isin(p["time"][~first], v["exit"][mine]))


def test_one_account_manager_loses_follow_ups_as_erlang_b_says():
    """No patience: a follow-up nobody takes at once is lost, an M/M/c/c loss system.

    Purchases are Poisson at 20 a day and shifted by 90 days, so follow-ups come due as a
    Poisson stream; one manager with 3 places and 0.15 days a follow-up is offered 3 Erlangs.
    """
    scenario = _follow_ups(1, 3, {"exponential": {"mean_days": 0.15}}, 260.0)
    shares = []
    for seed in range(8):
        run = simulate(scenario, seed=seed)
        p, v = run.log.purchases, run.log.visits
        due = p["time"][p["kind"] == 0] + 90.0
        owed = int(((due >= 100.0) & (due < 260.0)).sum())
        done = int(((v["stage"] == REPEAT) & (v["enter"] >= 100.0)).sum())
        shares.append(done / owed)
    expected = 1.0 - theory.erlang_b(20.0, 1.0 / 0.15, 3)
    sem = np.std(shares, ddof=1) / math.sqrt(len(shares))
    assert abs(expected - 0.6537) < 1e-3
    assert abs(np.mean(shares) - expected) < 4 * sem, (np.mean(shares), expected, sem)


def test_the_seller_report_counts_the_account_managers_follow_ups():
    run = simulate(_follow_ups(2, 1, {"fixed": {"days": 0.5}}, 150.0), seed=5)
    v = run.log.visits
    mine = v["stage"] == REPEAT
    report = analysis.seller_report(run)
    table = report.sellers.set_index("name")
    managers = ["account_manager 1", "account_manager 2"]
    for seller, name in enumerate(managers):
        worked = mine & (v["seller"] == seller)
        assert table.loc[name, "visits"] == worked.sum() > 0
        assert table.loc[name, "leads"] == len(np.unique(v["prospect"][worked]))
        busy = np.where(np.isnan(v["exit"][worked]), 150.0, v["exit"][worked])
        busy = (busy - v["enter"][worked] - v["wait"][worked]).sum()
        assert math.isclose(table.loc[name, "utilization"], busy / 150.0)
        assert table.loc[name, "won"] == 0  # a follow-up closes no first sale
    stages = report.stages
    assert set(stages["stage"]) == {"repeat"}
    assert stages["visits"].sum() == mine.sum()


def test_a_follow_up_for_a_role_that_does_not_exist_says_did_you_mean(tmp_path: Path):
    data = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text())
    data["sales"] = {
        "follow_up": {
            "after_days": 90,
            "role": "acount_manager",
            "duration": {"fixed": {"days": 0.1}},
            "repeat_prob": 0.2,
        },
        "roles": {
            "ae": {"headcount": 2, "stages": ["define"]},
            "account_manager": {"headcount": 1, "stages": ["measure"]},
        },
    }
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    exits_2_saying(
        ["check", str(path)],
        "follow_up.role: there is no role 'acount_manager' under sales.roles; "
        "did you mean 'account_manager'?",
    )


def test_follow_ups_stay_out_of_the_exported_deal_history():
    run = simulate(_follow_ups(50, 10, {"fixed": {"days": 0.1}}, 120.0), seed=4)
    deals = export_deals(run)
    v = run.log.visits
    assert (v["stage"] == REPEAT).sum() > 0
    assert len(deals) == (v["stage"] < REPEAT).sum()
    assert set(deals["stage"]) == set(FUNNEL)
