"""The sales team over time: a hiring plan, ramp-up, attrition, vacations and pay by month."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from hourglass import ScenarioError, analysis, simulate, theory
from hourglass.config.budgets import pay_per_day
from hourglass.sim.staffing import Person, StaffedTeam
from hourglass.stages import DAYS_PER_MONTH, FUNNEL
from tests.helpers import INSTANT, ROOT, exits_2_saying, make_scenario, stat_close

TRUST = FUNNEL.index("trust")
"""The stage the SDRs work (their `design` is beside the customer's Trust)."""


def _scenario(lam: float, sdr: dict, mean_days: float | None, horizon: float, **changes):
    """Poisson leads at `lam` a day for one role of SDRs; Trust ends every journey."""
    duration = {"exponential": {"mean_days": mean_days}} if mean_days else INSTANT
    stages = {name: {"pass_prob": 1.0, "duration": INSTANT} for name in FUNNEL}
    stages["trust"] = {"pass_prob": 0.0, "duration": duration}
    return make_scenario(
        channels={"organic": {"prospects_per_day": lam}},
        stages=stages,
        sales={"roles": {"sdr": {"stages": ["design"], **sdr}}},
        horizon_days=horizon,
        **changes,
    )


def test_a_plan_from_two_to_four_sellers_gives_each_periods_erlang_c():
    """M/M/c with c = 2 for six months, then 4: each period's mean wait, away from the change."""
    lam, mu, change = 1.5, 1.0, 6 * DAYS_PER_MONTH
    sdr = {"headcount": 2, "hiring": [{"month": 6, "add": 2}]}
    scenario = _scenario(lam, sdr, 1.0 / mu, horizon=12 * DAYS_PER_MONTH)
    periods = {2: (30.0, change - 5.0), 4: (change + 15.0, scenario.horizon_days - 15.0)}
    waits: dict[int, list[float]] = {2: [], 4: []}
    for seed in range(40):
        v = simulate(scenario, seed=seed).log.visits
        at_trust = (v["stage"] == TRUST) & np.isfinite(v["wait"])
        for c, (start, end) in periods.items():
            inside = at_trust & (v["enter"] >= start) & (v["enter"] < end)
            waits[c].append(float(v["wait"][inside].mean()))
    for c in periods:
        stat_close(waits[c], theory.erlang_c_wait(lam, mu, c))


def test_a_new_hire_at_half_speed_takes_twice_as_long():
    """Fixed one-day calls: a hire ramping at 50% takes 2 days in month one, then 1."""
    sdr = {"headcount": 1, "hiring": [{"month": 1, "add": 1}], "ramp": [0.5]}
    fixed = {"pass_prob": 0.0, "duration": {"fixed": {"days": 1.0}}}
    scenario = _scenario(3.0, sdr, None, horizon=3 * DAYS_PER_MONTH, stages__trust=fixed)
    log = simulate(scenario, seed=1).log
    assert log.sellers == (("sdr 1", "sdr"), ("sdr 2", "sdr"))
    v = log.visits
    done = (v["stage"] == TRUST) & np.isfinite(v["exit"])
    began = v["enter"] + v["wait"]
    took = v["exit"] - began
    new, tenure = v["seller"] == 1, (began - DAYS_PER_MONTH) / DAYS_PER_MONTH
    assert np.allclose(took[done & new & (tenure < 1)], 2.0)
    assert np.allclose(took[done & new & (tenure >= 1)], 1.0)
    assert np.allclose(took[done & ~new], 1.0)
    assert (done & new & (tenure < 1)).sum() > 5
    assert not (new & (began < DAYS_PER_MONTH)).any()


def test_leavers_over_a_year_follow_the_attrition_rate():
    """100 sellers at 20% a year: leavers are Poisson in the years served; replaced 60 days on."""
    sdr = {"headcount": 100, "attrition_per_year": 0.2, "replacement_days": 60}
    scenario = _scenario(0.1, sdr, None, horizon=365.25)
    leavers, expected = 0, 0.0
    for seed in range(10):
        log = simulate(scenario, seed=seed).log
        spans = np.array(log.seller_spans)
        left = spans[:, 1] < scenario.horizon_days
        leavers += int(left.sum())
        expected += 0.2 * float((spans[:, 1] - spans[:, 0]).sum()) / 365.25
        joined_later = np.sort(spans[spans[:, 0] > 0, 0])
        replaced = np.sort(spans[left, 1] + 60.0)
        assert np.allclose(joined_later, replaced[replaced < scenario.horizon_days])
    assert 150 < expected < 200
    assert abs(leavers - expected) < 4 * math.sqrt(expected), (leavers, expected)


def test_the_teams_pay_follows_the_headcount_month_by_month():
    """Two SDRs at 1000 a month, two more from month 3: 2000, then 4000, to the cent."""
    sdr = {"headcount": 2, "hiring": [{"month": 3, "add": 2}], "cost_per_month": 1000.0}
    scenario = _scenario(1.0, sdr, None, horizon=6 * DAYS_PER_MONTH)
    run = simulate(scenario, seed=1)
    cost = analysis.daily_table(run)["cost"].to_numpy()
    per_day = 1000.0 / DAYS_PER_MONTH
    assert cost[:91] == pytest.approx(np.full(91, 2 * per_day), rel=1e-12)
    assert cost[92:182] == pytest.approx(np.full(90, 4 * per_day), rel=1e-12)
    assert cost.sum() == pytest.approx(2000.0 * 6 + 2000.0 * 3, rel=1e-12)
    planned = pay_per_day(scenario, 182)
    assert planned[91] * DAYS_PER_MONTH == pytest.approx(2000.0)
    assert planned[92] * DAYS_PER_MONTH == pytest.approx(4000.0)


def test_vacations_take_the_days_off_utilisation():
    """20 days a year in two blocks: 345.25 days present of 365.25, and no lead served away."""
    sdr = {"headcount": 3, "vacation_days_per_year": 20}
    scenario = _scenario(2.0, sdr, 0.2, horizon=365.25)
    log = simulate(scenario, seed=3).log
    assert log.seller_days == pytest.approx((345.25,) * 3)
    assert len(log.sellers) == 3


def test_a_seller_away_is_routed_no_lead_but_finishes_the_one_begun():
    """Away from day 10 to 20: a lead begun at 9 runs on to 15; the next waits for day 20."""
    away = Person("sdr 1", None, present=[(0.0, 10.0), (20.0, math.inf)])
    team = StaffedTeam([away], 1, 0, "first_free", None, [])
    assert team.seat(9.0, TRUST) == (9.0, 0)
    team.take(9.0, 15.0, 0)
    assert team.seat(12.0, TRUST) == (20.0, 0)
    team.take(20.0, 25.0, 0)
    assert team.seat(21.0, TRUST) == (25.0, 0)


# -- bad input ------------------------------------------------------------------------------


def _write(tmp_path: Path, sdr: dict) -> str:
    data = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text())
    data["sales"] = {"roles": {"sdr": {"headcount": 2, "stages": ["design"], **sdr}}}
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def test_a_hiring_month_past_the_horizon_is_refused(tmp_path):
    horizon = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text())["horizon_days"]
    last = math.ceil(horizon / DAYS_PER_MONTH) - 1
    exits_2_saying(
        ["check", _write(tmp_path, {"hiring": [{"month": 3, "add": 1}, {"month": 40, "add": 1}]})],
        f"sales.roles.sdr.hiring.1.month: month 40 is past the horizon ({horizon:g} days: "
        f"months 0 to {last})",
    )


def test_a_ramp_share_outside_zero_to_one_is_refused(tmp_path):
    exits_2_saying(
        ["check", _write(tmp_path, {"ramp": [0.5, 1.5]})],
        "ramp.1: 1.5 is not a share of full speed; give one in (0, 1]",
    )


def test_more_leavers_than_people_are_refused():
    sdr = {"headcount": 2, "hiring": [{"month": 1, "add": 1}, {"month": 2, "add": -4}]}
    with pytest.raises(
        ScenarioError, match=r"hiring\.1: 4 leave in month 2, but 3 are on the team"
    ):
        _scenario(1.0, sdr, None, horizon=100.0)


def test_the_planners_spend_plan_pays_the_sellers_expected_to_stay():
    """With attrition, the Planner's month plan pays fewer people than the hiring plan names."""
    import datetime

    from hourglass.analysis.forecast import monthly_spend

    sdr = {"headcount": 4, "cost_per_month": 1000.0, "attrition_per_year": 0.5}
    sdr["replacement_days"] = 60
    scenario = _scenario(1.0, sdr, None, horizon=12 * DAYS_PER_MONTH)
    days = 365
    plan = monthly_spend(scenario, datetime.date(2026, 1, 1), days)
    expected = pay_per_day(scenario, days)
    assert plan["sellers"].sum() == pytest.approx(expected.sum(), rel=1e-12)
    assert plan["sellers"].iloc[-1] < 4000.0 * 0.97  # a year in, some seats stand empty
