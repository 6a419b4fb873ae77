"""Solving for a target: the budget a hand calculation gives, its simulated check, refusals."""

from __future__ import annotations

import json
import math

import pytest
from scipy import optimize

from hourglass import load_scenario
from hourglass.experiments.targets import TargetError, budget_for, reach_target
from hourglass.stages import DAYS_PER_MONTH
from tests.helpers import exits_2_saying, make_scenario, run_cli

COST = 10.0
"""Money per prospect on the one channel."""
LINEAR_YAML = """\
name: linear
horizon_days: 400
seed: 1
channels:
  paid:
    ads: {budget_per_month: 3000, cost_per_prospect: 10}
stages:
  know: {pass_prob: 1.0, duration: {fixed: {days: 0}}}
  like: {pass_prob: 1.0, duration: {fixed: {days: 0}}}
  trust: {pass_prob: 1.0, duration: {fixed: {days: 0}}}
  try: {pass_prob: 1.0, duration: {fixed: {days: 0}}}
  buy: {pass_prob: 1.0, duration: {fixed: {days: 0}}}
after_sale:
  order_value: {fixed: {value: 100}}
"""


def linear(**changes):
    """Every prospect buys at once and stays: customers by day d are budget / 30.44 / 10 x d."""
    ads = {"budget_per_month": 3000.0, "cost_per_prospect": COST}
    return make_scenario(channels={"paid": {"ads": ads}}, horizon_days=400.0, **changes)


def hand_budget(customers: float, month: int) -> float:
    """The budget a month whose prospects, one per 10 of money, number `customers` by `month`."""
    days = math.floor(month * DAYS_PER_MONTH)
    return customers * COST * DAYS_PER_MONTH / days


def test_the_budget_for_customers_by_a_month_is_the_hand_value_and_the_simulation_agrees():
    reach = reach_target(linear(), "customers", 5000.0, 12, reps=10, seed=1, backend="serial")
    assert reach.budget == pytest.approx(hand_budget(5000.0, 12), rel=1e-6)  # 4,169.52
    assert reach.amounts == {"ads": pytest.approx(reach.budget)}
    assert reach.expected == pytest.approx(5000.0, rel=1e-9)
    assert reach.simulated["ci_low"] <= 5000.0 <= reach.simulated["ci_high"]
    chance = reach.chance
    assert chance["ci_low"] <= chance["share"] <= chance["ci_high"]
    assert chance["ci_low"] < 0.5 < chance["ci_high"]  # aimed at the mean: half the runs


def test_buyers_and_revenue_follow_the_pass_probability_and_the_order_value():
    half = linear(stages__buy={"pass_prob": 0.5, "duration": {"fixed": {"days": 0.0}}})
    _spec, budget, _value, _notes = budget_for(half, "buyers", 1000.0, 6)
    assert budget == pytest.approx(2 * hand_budget(1000.0, 6), rel=1e-6)
    _spec, budget, _value, _notes = budget_for(linear(), "revenue", 100_000.0, 6)
    assert budget == pytest.approx(hand_budget(1000.0, 6), rel=1e-6)  # 100 an order


def test_a_target_out_of_reach_says_the_most_the_allowed_budget_reaches():
    """1,000 a month buys 100 prospects a month: 1,199 customers in 365 days."""
    with pytest.raises(
        TargetError,
        match=(
            "customers: 5,000 by month 12 cannot be reached within 1,000 a month: the most "
            "expected is 1,199; allow a larger budget or a later month"
        ),
    ):
        budget_for(linear(), "customers", 5000.0, 12, most=1000.0)


def test_a_scenario_without_money_to_scale_is_refused():
    with pytest.raises(TargetError, match="spends nothing on budget lines that can be scaled"):
        budget_for(make_scenario(), "customers", 100.0, 1)


def test_a_target_organic_arrivals_meet_needs_no_money():
    """50 organic prospects a day, all buying at once: 1,500 customers by day 30."""
    organic = {
        "organic": {"prospects_per_day": 50.0},
        "paid": {"ads": {"budget_per_month": 10.0, "cost_per_prospect": COST}},
    }
    _spec, budget, value, notes = budget_for(
        make_scenario(channels=organic), "customers", 1000.0, 1
    )
    assert budget == 0.0 and value == pytest.approx(1500.0, rel=1e-9)
    assert notes == ["the target is met without money on the lines"]


def test_a_month_inside_the_warm_up_is_refused():
    with pytest.raises(TargetError, match="month 1 ends on day 30, inside the warm-up of 60 days"):
        budget_for(linear(warmup_days=60.0), "customers", 100.0, 1)


def test_target_prints_json_with_the_budget_and_the_chance(tmp_path):
    path = tmp_path / "linear.yaml"
    path.write_text(LINEAR_YAML)
    args = ["target", str(path), "--customers", "5000", "--by-month", "12"]
    proc = run_cli([*args, "--reps", "4", "--backend", "serial", "--json"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["kpi"] == "customers_end" and doc["month"] == 12
    assert doc["budget"] == pytest.approx(hand_budget(5000.0, 12), rel=1e-6)
    assert 0.0 <= doc["chance"]["ci_low"] <= doc["chance"]["share"] <= doc["chance"]["ci_high"]


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (
            ["--customers", "5000", "--buyers", "10", "--by-month", "12"],
            "error: give one target: --customers, --buyers or --revenue "
            "(given: --customers, --buyers)",
        ),
        (["--by-month", "12"], "error: give one target: --customers, --buyers or --revenue"),
        (["--customers", "5000"], "error: --by-month: give the month (from 1) to reach the target"),
        (["--customers", "0", "--by-month", "12"], "error: --customers 0: at least 1"),
        (
            ["--customers", "50000", "--by-month", "12", "--max-budget", "3000"],
            "error: customers: 50,000 by month 12 cannot be reached within 3,000 a month",
        ),
    ],
)
def test_bad_target_flags_are_refused(tmp_path, flags, words):
    path = tmp_path / "linear.yaml"
    path.write_text(LINEAR_YAML)
    exits_2_saying(["target", str(path), *flags], words)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ("Find the budget", "Budget a month", "Chance of reaching it", "1,569")),
        ("ru", ("Найти бюджет", "Бюджет в месяц", "Шанс достичь цели", "1\N{NO-BREAK SPACE}569")),
    ],
)
def test_the_planner_finds_the_budget_for_a_target(lang, words):
    """300 customers by month 6 on the dated shop: the budget its expectation needs, 1,569."""
    from tests.test_planner import dated_page

    button, budget_label, chance_label, budget = words
    at = dated_page(language=lang)
    at.number_input(key="target-value").set_value(300.0)
    at.number_input(key="target-month").set_value(6)
    next(b for b in at.button if b.label == button).click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = {m.label: m for m in at.metric}
    assert shown[budget_label].value == budget
    chance = shown[chance_label]
    share = float(chance.value.rstrip("%"))
    low, high = (float(x) for x in chance.delta.rstrip("%").split("\N{EN DASH}"))
    assert low <= share <= high


def _hill(most: float, money: float) -> dict:
    """A channel whose prospects a day are most x b / (b + 1,000) at b a month."""
    return {
        "budget_per_month": money,
        "response": {"hill": {"max_effect": most, "half_saturation": 1000.0}},
    }


def test_the_target_takes_the_cheapest_split_not_the_current_one_scaled():
    """Two Hill channels, every prospect buying at once: 10 b1/(b1+h) + 40 b2/(b2+h) a day.

    The cheapest b1 + b2 giving R a day has equal marginals, M_i h / (b_i + h)^2: with
    sqrt(M_i h) = 100 and 200, b_i = s sqrt(M_i h) - h, and R = 50 - 300 / s. R = 35 gives
    s = 20: 1,000 and 3,000, 4,000 a month. The current split, 3 to 1, needs 7,815.
    """
    scenario = make_scenario(
        channels={"paid": {"a": _hill(10.0, 3000.0), "b": _hill(40.0, 1000.0)}},
        horizon_days=400.0,
    )
    days = math.floor(12 * DAYS_PER_MONTH)
    spec, budget, value, notes = budget_for(scenario, "customers", 35.0 * days, 12)
    assert budget == pytest.approx(4000.0, rel=1e-4)
    assert spec.channels.paid["a"].budget_per_month == pytest.approx(1000.0, rel=1e-3)
    assert spec.channels.paid["b"].budget_per_month == pytest.approx(3000.0, rel=1e-3)
    assert value == pytest.approx(35.0 * days, rel=1e-6)

    def scaled(total: float) -> float:
        return 10 * 0.75 * total / (0.75 * total + 1000) + 40 * 0.25 * total / (0.25 * total + 1000)

    by_hand = optimize.brentq(lambda t: scaled(t) - 35.0, 4000.0, 30_000.0)  # 7,815
    assert budget <= by_hand
    assert notes == [
        f"keeping the current split would take {by_hand:,.0f} a month, "
        f"{by_hand - budget:,.0f} more"
    ]


def test_the_baseline_buyers_target_is_refused_where_the_sellers_cap_it():
    """12,000 buyers by month 12: 12 sellers cap the buyers near 9,477, reached at 51,919.

    Without the queues the expectation answered 45,427 a month, where the simulation gives
    about 9,330 buyers.
    """
    words = (
        "buyers: 12,000 by month 12 cannot be reached: the most expected is 9,477, at "
        "51,919 a month; more money brings fewer, as the sales team cannot work more leads "
        "and they go cold waiting; hire sellers or choose a later month"
    )
    with pytest.raises(TargetError, match=words):
        budget_for(load_scenario("baseline"), "buyers", 12_000.0, 12)
    args = ["target", "scenarios/baseline.yaml", "--buyers", "12000", "--by-month", "12"]
    exits_2_saying(args, f"error: {words}")
