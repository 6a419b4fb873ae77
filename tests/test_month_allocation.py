"""The month-by-month plan: known optima on the expectation, the check by simulation, bad flags."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hourglass.experiments.allocation import OptimizeError
from hourglass.experiments.month_allocation import plan_months
from hourglass.experiments.month_layout import month_blocks
from hourglass.stages import DAYS_PER_MONTH
from tests.helpers import exits_2_saying, make_scenario, run_cli

HALF = 3000.0
"""The channel's half-saturation: money per month that buys half its most prospects."""
LATE_YAML = """\
name: late
horizon_days: 120
seed: 1
channels:
  paid:
    ads:
      budget_per_month: 3000
      response: {hill: {max_effect: 20, half_saturation: 3000}}
stages:
  know: {pass_prob: 1.0, duration: {fixed: {days: 0}}}
  like: {pass_prob: 1.0, duration: {fixed: {days: 0}}}
  trust: {pass_prob: 1.0, duration: {fixed: {days: 0}}}
  try: {pass_prob: 1.0, duration: {fixed: {days: 0}}}
  buy: {pass_prob: 1.0, duration: {fixed: {days: 45}}}
after_sale:
  order_value: {fixed: {value: 100}}
"""


def late_buyers():
    """Four months; a prospect buys 45 days after arriving, so only arrivals by day 75 count."""
    channel = {
        "budget_per_month": HALF,
        "response": {"hill": {"max_effect": 20.0, "half_saturation": HALF}},
    }
    return make_scenario(
        channels={"paid": {"ads": channel}},
        stages__buy={"pass_prob": 1.0, "duration": {"fixed": {"days": 45.0}}},
        horizon_days=120.0,
    )


def test_months_are_grouped_into_blocks_the_longer_first():
    assert month_blocks(13, 3) == [(1, 5), (6, 9), (10, 13)]
    assert month_blocks(4, 4) == [(1, 1), (2, 2), (3, 3), (4, 4)]


def test_the_plan_spends_where_arrivals_still_buy_with_equal_marginal_returns():
    """A plan with a known optimum: equal marginal returns over the months that still convert.

    Buyers = 30.44 x sum_m w_m 20 b_m / (b_m + h): w_m is the share of month m whose arrivals
    buy by day 120 (1, 1, (75 - 2 x 30.44) / 30.44, 0). At the optimum w_m h / (b_m + h)^2 is one
    value, so b_m = c sqrt(w_m) - h, c fixed by the run's money, 3000 x 120 / 30.44.
    """
    result = plan_months(late_buyers(), HALF, "buyers", blocks=4, reps=4, seed=1, backend="serial")
    amounts = np.array(result.amounts["ads"])
    weights = np.array([1.0, 1.0, (75.0 - 2 * DAYS_PER_MONTH) / DAYS_PER_MONTH])
    money = HALF * 120.0 / DAYS_PER_MONTH
    c = (money + 3 * HALF) / np.sqrt(weights).sum()
    assert amounts[:3] == pytest.approx(c * np.sqrt(weights) - HALF, rel=0.03)
    assert amounts[3] == pytest.approx(0.0, abs=1.0)
    marginal = np.array(result.marginal["ads"])
    assert marginal[:3] == pytest.approx(np.full(3, marginal[0]), rel=0.005)
    assert marginal[3] == pytest.approx(0.0, abs=1e-9)
    assert result.expected["steady"] == pytest.approx(750.0, rel=0.01)  # 20 x 1/2 x 75 days
    assert result.expected["plan"] > 1.15 * result.expected["steady"]
    gain = result.gain
    assert result.confirmed and gain.ci_low > 0.0
    assert result.compared["buyers"].plan == pytest.approx(result.expected["plan"], rel=0.05)


def test_the_plan_spends_the_steady_splits_money_over_the_run():
    result = plan_months(late_buyers(), HALF, "buyers", blocks=2, reps=2, seed=1, backend="serial")
    share = np.clip((120.0 - np.arange(4) * DAYS_PER_MONTH) / DAYS_PER_MONTH, 0.0, 1.0)
    spent = np.repeat(result.amounts["ads"], [2, 2]) @ share
    assert spent == pytest.approx(HALF * 120.0 / DAYS_PER_MONTH, rel=1e-6)
    assert result.amounts["ads"][0] > result.amounts["ads"][1]


def test_a_month_cap_fills_the_best_months_up_to_it():
    """Months 1 and 2 at the cap; month 3, still worth something, takes the rest; month 4 none."""
    result = plan_months(
        late_buyers(), HALF, "buyers", blocks=4, month_cap=4000.0, reps=2, seed=1, backend="serial"
    )
    money = HALF * 120.0 / DAYS_PER_MONTH
    assert result.amounts["ads"] == pytest.approx([4000.0, 4000.0, money - 8000.0, 0.0], abs=2.0)


def test_a_cap_that_cannot_spend_the_budget_is_refused():
    with pytest.raises(OptimizeError, match=r"a month cap of 2,000\.00 cannot spend the budget"):
        plan_months(late_buyers(), HALF, "buyers", month_cap=2000.0, reps=2, backend="serial")


def jackpot_lines():
    """Two linear channels, one prospect a day per 1,200 a month each, for 60 days.

    The run's money, 6,000 a month, brings 300 prospects however it is split. Every prospect
    of "safe" buys once for 100, as do the 60 organic ones (6,000 more revenue in every
    plan). A prospect of "lottery" buys with chance 1/600 for 61,200: 102 on average, so the
    expectation puts everything on it. Then the jackpots are
    Poisson(0.5): none in 61% of runs, so at least 2 of 10 replications have none (chance
    0.9986) and the p10 of profit is near 6,000 - 1.28 x 775 - 11,828 = -6,800. Half on
    each: 210 buyers at 100 (21,000, sd 1,450) and Poisson(0.25) jackpots, none in 78% of
    runs: a p10 near 21,000 - 1.28 x 1,450 - 11,828 = 7,300, for 300 less expected profit
    (24,472 against 24,772).
    """

    def linear(money: float) -> dict:
        return {
            "budget_per_month": money,
            "response": {"linear": {"per_unit": 1 / 1200, "cap": 1000.0}},
        }

    segments = {
        "steady": {
            "share": {"safe": 1.0, "lottery": 0.0, "organic": 1.0},
            "order_value": {"fixed": {"value": 100.0}},
        },
        "jackpot": {
            "share": {"safe": 0.0, "lottery": 1.0, "organic": 0.0},
            "stages": {"buy": {"pass_prob": 1 / 600}},
            "order_value": {"fixed": {"value": 61_200.0}},
        },
    }
    return make_scenario(
        channels={
            "paid": {"safe": linear(3000.0), "lottery": linear(3000.0)},
            "organic": {"prospects_per_day": 1.0},
        },
        horizon_days=60.0,
        segments=segments,
        after_sale={"order_value": {"fixed": {"value": 100.0}}, "margin": 1.0},
    )


def test_the_p10_plan_moves_money_off_the_risky_line_that_the_mean_plan_prefers():
    """The mean plan puts everything on the lottery; the p10 plan halves it (see jackpot_lines)."""
    mean = plan_months(
        jackpot_lines(), 6000.0, "profit", blocks=2, reps=2, seed=1, backend="serial"
    )
    risky = plan_months(
        jackpot_lines(), 6000.0, "profit_p10", blocks=2, reps=10, seed=1, backend="serial"
    )
    on_lottery = {name: sum(r.amounts["lottery"]) for name, r in (("mean", mean), ("p10", risky))}
    assert sum(mean.amounts["safe"]) == pytest.approx(0.0, abs=1.0)
    assert on_lottery["p10"] == pytest.approx(on_lottery["mean"] / 2, rel=1e-6)
    assert risky.amounts["safe"] == pytest.approx(risky.amounts["lottery"], rel=1e-6)
    assert risky.risk is not None and risky.gain is risky.risk
    assert risky.notes[-1].startswith("chosen by simulation among 4 plans")
    assert risky.compared["profit"].plan == pytest.approx(24_472.0, rel=0.2)
    assert risky.to_dict()["risk"]["mean"] == risky.gain.mean
    assert risky.gain.mean > 5000.0 and risky.confirmed  # about 14,000 by the numbers above


def test_more_blocks_than_months_is_refused():
    with pytest.raises(OptimizeError, match="blocks: 5 given; the run has 4 months, so use 1 to 4"):
        plan_months(late_buyers(), HALF, "buyers", blocks=5, reps=2, backend="serial")


def test_optimize_by_month_prints_json_with_the_blocks(tmp_path):
    path = tmp_path / "late.yaml"
    path.write_text(LATE_YAML)
    args = ["optimize", str(path), "--budget", "3000", "--objective", "buyers", "--by-month"]
    proc = run_cli([*args, "--blocks", "2", "--reps", "2", "--backend", "serial", "--json"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [(b["first_month"], b["last_month"]) for b in doc["blocks"]] == [(1, 2), (3, 4)]
    first, second = (b["amounts"]["ads"] for b in doc["blocks"])
    assert first > second and math.isfinite(doc["compared"]["buyers"]["change"]["ci_low"])
    assert set(doc["compared"]) == {"buyers", "profit", "customers_end"}


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--blocks", "2"], "error: --blocks plans money month by month; add --by-month"),
        (["--month-cap", "5000"], "error: --month-cap plans money month by month; add --by-month"),
        (
            ["--by-month", "--blocks", "13"],
            "error: --blocks 13: the run has 12 months; give 1 to 12",
        ),
        (
            ["--by-month", "--month-cap", "1000"],
            "error: --month-cap 1000 is below --budget 22000: no plan could spend the budget",
        ),
    ],
)
def test_bad_month_flags_are_refused(flags, words):
    exits_2_saying(
        ["optimize", "scenarios/marketing_budgets.yaml", "--budget", "22000", *flags], words
    )
