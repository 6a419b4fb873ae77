"""The sales team's loose ends: routing by heaps, follow-ups missed, pay over time, skills."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from hourglass import Scenario, analysis, simulate
from hourglass.analysis.sellers import (
    SellerReport,
    role_records,
    seller_records,
    stacked,
    standout,
)
from hourglass.config.budgets import spend_per_day
from hourglass.config.sellers import filled_share
from hourglass.kpis import KPIS, Better
from hourglass.log import PASSED
from hourglass.sim.staffing import Person, StaffedTeam
from hourglass.sim.team import RoutedTeam
from hourglass.stages import DAYS_PER_MONTH, FUNNEL
from tests.helpers import ROOT, exits_2_saying, make_scenario


def _always_there(n: int) -> list[Person]:
    return [Person(f"s{i}", None, present=[(0.0, math.inf)]) for i in range(n)]


@pytest.mark.parametrize("routing", ["round_robin", "least_loaded", "by_skill", "first_free"])
@pytest.mark.parametrize(("sellers", "per_seller"), [(1, 1), (3, 2), (7, 1), (12, 3)])
def test_routed_team_by_heaps_routes_every_lead_as_a_scan_of_the_seats(
    routing: str, sellers: int, per_seller: int
) -> None:
    """The heaps give each lead the same start and seller as scanning every seat."""
    rng = np.random.default_rng(sellers * 10 + per_seller)
    skill = rng.choice([0.8, 1.0, 1.2], size=(sellers + 2, 6)).tolist()
    fast = RoutedTeam(sellers, per_seller, 2, routing, skill)
    scanned = StaffedTeam(_always_there(sellers), per_seller, 2, routing, skill, [])
    now = 0.0
    for _ in range(3000):
        now += rng.exponential(0.3)
        stage = int(rng.integers(3, 5))
        got = fast.seat(now, stage)
        assert got == scanned.seat(now, stage)
        if rng.random() < 0.8:  # the rest go cold before their seat
            until = got[0] + (0.0 if rng.random() < 0.05 else rng.exponential(1.0))
            fast.take(got[0], until, got[1])
            scanned.take(got[0], until, got[1])


def test_a_staffed_role_routed_first_free_ignores_skill() -> None:
    """First-free routing in a team whose people change gives the lead to the first free."""
    team = StaffedTeam(_always_there(2), 1, 0, "first_free", [[0.5] * 6, [2.0] * 6], [])
    assert team.seat(1.0, 3) == (1.0, 0)


REPEAT = len(FUNNEL)  # a follow-up is a visit to Repeat


def _follow_ups(role: dict, horizon: float, duration: float, **follow_up) -> Scenario:
    """Instant purchases of Poisson arrivals at 20 a day, each followed up 5 days later."""
    return make_scenario(
        channels={"organic": {"prospects_per_day": 20.0}},
        horizon_days=horizon,
        sales={
            "follow_up": {
                "after_days": 5,
                "role": "account_manager",
                "duration": {"fixed": {"days": duration}},
                "repeat_prob": 0.3,
                **follow_up,
            },
            "roles": {"account_manager": {"stages": ["measure"], **role}},
        },
    )


def test_missed_follow_ups_are_counted_and_the_repeat_bar_shows_the_share_done() -> None:
    """Owed = done + missed; Repeat's conversion is done over done and missed (ended ones)."""
    scenario = _follow_ups({"headcount": 2, "leads_per_seller": 1}, 60.0, 0.2)
    run = simulate(scenario, seed=2)
    p, v = run.log.purchases, run.log.visits
    owed = int(((p["kind"] == 0) & (p["time"] + 5.0 < 60.0)).sum())
    done = int((v["stage"] == REPEAT).sum())
    missed = run.log.follow_ups_missed
    assert len(missed) == 2 and min(missed) > 0
    assert done + sum(missed) == owed
    report = analysis.seller_report(run)
    table = report.sellers.set_index("name")
    assert table["follow_ups_missed"].tolist() == list(missed)
    roles = analysis.sales_roles(report)
    assert roles.loc[0, "follow_ups_missed"] == sum(missed)
    team = analysis.stage_conversion(report, by="team").set_index("stage")
    passed = int(((v["stage"] == REPEAT) & np.isfinite(v["exit"])).sum())  # the rest: inside
    assert team.loc["repeat", "conversion"] == pytest.approx(passed / (passed + sum(missed)))
    assert team.loc["repeat", "conversion"] < 0.9
    first = seller_records(report, 1)[0]
    assert first["follow_ups_missed"] == missed[0]
    assert first["by_stage"]["repeat"]["missed"] == missed[0]


def test_a_ramping_account_manager_works_follow_ups_at_the_ramps_pace() -> None:
    """A hire in month 0 at a quarter of full speed takes 4 x 0.1 days a follow-up."""
    role = {"headcount": 1, "hiring": [{"month": 0, "add": 1}], "ramp": [0.25]}
    run = simulate(_follow_ups(role, 30.0, 0.1), seed=3)
    v = run.log.visits
    worked = (v["stage"] == REPEAT) & np.isfinite(v["exit"])
    took = v["exit"] - v["enter"] - v["wait"]
    for seller, days in ((0, 0.1), (1, 0.4)):
        mine = worked & (v["seller"] == seller)
        assert mine.sum() > 20
        assert np.allclose(took[mine], days)


DAY_31 = math.ceil(DAYS_PER_MONTH)  # month 1's first whole day


def test_spend_per_day_pays_the_hiring_plan_month_by_month() -> None:
    """Two SDRs at 3000 a month, a third from month 1: 6000, then 9000 a month."""
    sdr = {
        "headcount": 2,
        "stages": ["design"],
        "cost_per_month": 3000.0,
        "hiring": [{"month": 1, "add": 1}],
    }
    scenario = make_scenario(sales={"roles": {"sdr": sdr}})
    spend = spend_per_day(scenario, 100)
    assert spend[:DAY_31] == pytest.approx(6000.0 / DAYS_PER_MONTH, rel=1e-12)
    assert spend[DAY_31:] == pytest.approx(9000.0 / DAYS_PER_MONTH, rel=1e-12)


def test_spend_per_day_pays_the_sellers_expected_to_stay() -> None:
    """Leaving at 0.5 a year, replaced after the run: each day pays e^(-a t) over the day."""
    ae = {
        "headcount": 3,
        "stages": ["define"],
        "cost_per_month": 6000.0,
        "attrition_per_year": 0.5,
        "replacement_days": 1000.0,
    }
    scenario = make_scenario(sales={"roles": {"ae": ae}})
    a = 0.5 / 365.25
    day = np.arange(100)
    staying = (np.exp(-a * day) - np.exp(-a * (day + 1))) / a
    expected = 3 * 6000.0 / DAYS_PER_MONTH * staying
    assert spend_per_day(scenario, 100) == pytest.approx(expected, rel=1e-6)
    assert expected[99] / expected[0] == pytest.approx(0.873, abs=1e-3)


def test_a_leaver_in_the_plan_ends_the_latest_seat_and_the_rest_keep_their_expectation() -> None:
    """Three AEs, one let go in month 1, leaving at 0.5 a year and never replaced in the run."""
    ae = {
        "headcount": 3,
        "stages": ["define"],
        "hiring": [{"month": 1, "add": -1}],
        "attrition_per_year": 0.5,
        "replacement_days": 1000.0,
    }
    role = make_scenario(sales={"roles": {"ae": ae}}).sales.team["ae"]
    a = 0.5 / 365.25
    day = np.arange(60)
    staying = (np.exp(-a * day) - np.exp(-a * (day + 1))) / a
    expected = np.where(day < DAY_31, 3, 2) * staying
    assert role.expected_headcount(60) == pytest.approx(expected, rel=1e-6)


def test_replaced_sellers_fill_their_seat_for_the_long_run_share() -> None:
    """With replacement after r days the seat is filled (1/a) / (1/a + r) of the time."""
    a, r = 4.0 / 365.25, 30.0
    share = filled_share(a, r, 1000)
    assert share[0] == pytest.approx((1 - math.exp(-a)) / a, rel=1e-6)
    assert share[-1] == pytest.approx(1 / (1 + a * r), rel=1e-3)


def _wilson(hits: int, n: int, z: float) -> tuple[float, float]:
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_the_best_closers_interval_is_bonferronis_for_the_best_of_three() -> None:
    """Ann 58 of 100, Ben 50, Cy 40 at Buy: Wilson intervals at 1 - 0.05/3, combined."""
    sellers = pd.DataFrame({"seller": [0, 1, 2], "name": ["Ann", "Ben", "Cy"], "role": "ae"})
    stages = pd.DataFrame(
        {
            "seller": [0, 1, 2],
            "stage": "buy",
            "visits": 100,
            "passed": [58, 50, 40],
            "lost": [42, 50, 60],
            "inside": 0,
            "missed": 0,
        }
    )
    empty = pd.DataFrame()
    best = standout(SellerReport(sellers, stages, empty, empty), "buy")
    z = 2.3939797998185104  # the normal quantile at 1 - 0.05 / 3 / 2
    ann, rest = _wilson(58, 100, z), _wilson(90, 200, z)
    assert (best.name, best.gap) == ("Ann", pytest.approx(0.13))
    assert best.low == pytest.approx(0.13 - math.hypot(0.58 - ann[0], rest[1] - 0.45))
    assert best.high == pytest.approx(0.13 + math.hypot(ann[1] - 0.58, 0.45 - rest[0]))
    assert best.low < 0  # at 95% for one seller alone it would seem sure: above 0
    one = _wilson(58, 100, 1.959964), _wilson(90, 200, 1.959964)
    assert 0.13 - math.hypot(0.58 - one[0][0], one[1][1] - 0.45) > 0


def test_roles_over_replications_carry_bands() -> None:
    """Each role's numbers over 3 runs: the mean, p5 and p95 of the runs' own."""
    scenario = _follow_ups({"headcount": 2, "leads_per_seller": 1}, 40.0, 0.2)
    reports = [(rep, analysis.seller_report(simulate(scenario, seed=rep))) for rep in range(3)]
    roles = role_records(stacked(reports), 3)
    missed = [float(r.sellers["follow_ups_missed"].sum()) for _, r in reports]
    band = roles[0]["follow_ups_missed"]
    assert band["mean"] == pytest.approx(np.mean(missed))
    assert (band["p5"], band["p95"]) == pytest.approx(tuple(np.percentile(missed, [5, 95])))
    busy = [float(r.sellers["busy_days"].sum() / r.sellers["seat_days"].sum()) for _, r in reports]
    assert roles[0]["utilization"]["mean"] == pytest.approx(np.mean(busy))


def test_follow_ups_missed_is_a_kpi_of_the_run() -> None:
    """The registry names it; a run's KPIs count it as the log does."""
    run = simulate(_follow_ups({"headcount": 1, "leads_per_seller": 1}, 40.0, 0.5), seed=1)
    assert analysis.kpis(run)["follow_ups_missed"] == sum(run.log.follow_ups_missed) > 0
    kpi = KPIS["follow_ups_missed"]
    assert (kpi.label("en"), kpi.better, kpi.unit) == (
        "Follow-ups missed",
        Better.DOWN,
        "follow-ups",
    )


REFER = len(FUNNEL) + 1  # a referral talk worked by a seller is a visit to Refer


def _talks(role: dict, win_prob: float = 0.5, horizon: float = 120.0) -> Scenario:
    """Buyers at 20 a day who each talk 3 times a month, the talks worked by account managers."""
    return make_scenario(
        channels={"organic": {"prospects_per_day": 20.0}},
        horizon_days=horizon,
        market={"size": 1_000_000},
        referral={
            "contacts_per_month": {"one_time": 3.0},
            "win_prob": win_prob,
            "delay": {"fixed": {"days": 1.0}},
        },
        sales={
            "engage": {"role": "am", "duration": {"fixed": {"days": 0.5}}},
            "roles": {"am": {"stages": ["engage"], **role}},
        },
    )


def test_engage_talks_hold_an_account_manager() -> None:
    """One manager with one place: talks never overlap, and only the talks worked are made."""
    alone = simulate(_talks({"headcount": 1}), seed=4)
    v, contacts = alone.log.visits, alone.log.contacts
    talks = v["stage"] == REFER
    start = v["enter"][talks] + v["wait"][talks]
    order = np.argsort(start)
    ends = np.where(np.isnan(v["exit"][talks]), np.inf, v["exit"][talks])[order]
    assert np.all(start[order][1:] >= ends[:-1])  # one place: one talk at a time
    assert np.allclose(ends[:-1] - start[order][:-1], 0.5)
    assert len(contacts["time"]) == talks.sum() > 100
    assert np.array_equal(np.sort(contacts["time"]), np.sort(start))
    missed = sum(alone.log.talks_missed)
    team = analysis.stage_conversion(analysis.seller_report(alone), by="team")
    done = int((talks & np.isfinite(v["exit"])).sum())
    assert team.set_index("stage").loc["refer", "conversion"] == pytest.approx(
        done / (done + missed)
    )
    assert missed > 100
    ample = simulate(_talks({"headcount": 50, "leads_per_seller": 10}), seed=4)
    worked = ample.log.visits["stage"] == REFER
    assert np.all(ample.log.visits["wait"][worked] == 0.0)
    assert len(ample.log.contacts["time"]) == worked.sum() > 1.5 * talks.sum()


def test_a_roles_engage_skill_scales_each_talks_chance() -> None:
    """Skill 0.5 on a win chance of 0.6: three talks in ten win someone over."""
    run = simulate(
        _talks({"headcount": 50, "leads_per_seller": 10, "skill": {"engage": 0.5}}, 0.6), seed=2
    )
    won = run.log.contacts["won"]
    se = math.sqrt(0.3 * 0.7 / len(won))
    assert len(won) > 3000
    assert abs(won.mean() - 0.3) < 4 * se, (won.mean(), se)


def test_a_roles_measure_skill_scales_each_follow_ups_chance() -> None:
    """Repeat chance 0.3: the role's skill 2 makes it 0.6, Ann's own 3 makes hers 0.9.

    The old multiplier under `sales.skill` is still taken: it acts on customers' own repeat
    buying, which these customers have none of.
    """
    role = {
        "headcount": 2,
        "leads_per_seller": 50,
        "skill": {"measure": 2.0},
        "sellers": [{"name": "Ann", "skill": {"measure": 3.0}}],
    }
    scenario = _follow_ups(role, 200.0, 0.1)
    scenario = scenario.with_overrides(
        {"sales.skill": {"measure": 1.5}, "sales.routing": "round_robin"}
    )
    run = simulate(scenario, seed=6)
    p, v = run.log.purchases, run.log.visits
    repeats = p["time"][p["kind"] != 0]
    for seller, chance in ((0, 0.9), (1, 0.6)):
        worked = (v["stage"] == REPEAT) & (v["seller"] == seller) & np.isfinite(v["exit"])
        share = np.isin(v["exit"][worked], repeats).mean()
        se = math.sqrt(chance * (1 - chance) / worked.sum())
        assert worked.sum() > 300
        assert abs(share - chance) < 4 * se, (seller, share, chance, se)


def test_sellers_of_different_skill_pass_leads_at_base_times_skill() -> None:
    """Skills 0.5, 1.0 and 1.5 at Try (pass 0.6) on one round-robin stream: 0.3, 0.6, 0.9.

    About 27,000 leads each, so the standard error at 0.6 is 0.003 and a 2% bias (0.012)
    is four of them.
    """
    stages = {name: {"pass_prob": 1.0, "duration": {"fixed": {"days": 0.0}}} for name in FUNNEL}
    stages["try"]["pass_prob"] = 0.6
    ae = {
        "headcount": 3,
        "stages": ["define"],
        "sellers": [
            {"name": "Slow", "skill": {"define": 0.5}},
            {"name": "Even", "skill": {"define": 1.0}},
            {"name": "Sharp", "skill": {"define": 1.5}},
        ],
    }
    scenario = make_scenario(
        channels={"organic": {"prospects_per_day": 810.0}},
        stages=stages,
        sales={"routing": "round_robin", "roles": {"ae": ae}},
    )
    v = simulate(scenario, seed=11).log.visits
    at_try = v["stage"] == FUNNEL.index("try")
    for seller, skill in enumerate((0.5, 1.0, 1.5)):
        mine = at_try & (v["seller"] == seller)
        n, rate = int(mine.sum()), 0.6 * skill
        passed = (v["outcome"][mine] == PASSED).mean()
        assert n > 26_000
        assert abs(passed - rate) < 4 * math.sqrt(rate * (1 - rate) / n), (seller, passed, n)


def test_a_role_that_engages_without_sales_engage_is_refused_at_the_command_line(tmp_path) -> None:
    """The role lists engage, the scenario says not who talks or for how long: exit 2."""
    data = yaml.safe_load((ROOT / "scenarios" / "sales_team.yaml").read_text())
    data["sales"]["roles"]["account_manager"]["stages"] = ["measure", "engage"]
    path = tmp_path / "talks.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    exits_2_saying(
        ["check", str(path)],
        "roles.account_manager.stages: 'engage' is the referral talk after a sale; "
        "add sales.engage with role: account_manager",
    )
    data["sales"]["engage"] = {"role": "acount_manager", "duration": {"fixed": {"days": 0.1}}}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    exits_2_saying(
        ["check", str(path)],
        "engage.role: there is no role 'acount_manager' under sales.roles; "
        "did you mean 'account_manager'?",
    )
