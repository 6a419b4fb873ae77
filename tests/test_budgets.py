"""Budgets: response curves, what they change in a run, full costs, and the optimiser."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

from hourglass import ScenarioError, load_scenario, optimize, replicate, simulate
from hourglass.analysis import daily_table, kpis, stage_table
from hourglass.cli import app
from hourglass.config import budget_lines, with_budgets
from hourglass.config.budgets import spend_per_day
from hourglass.config.response import Budget, Response, effective_spend
from hourglass.experiments import Constraints, OptimizeError, line_curves, marginal_roi
from hourglass.experiments.allocation import allocate
from hourglass.experiments.replication import Executor
from hourglass.plots import response_figure
from hourglass.stages import DAYS_PER_MONTH, FUNNEL
from hourglass.theory import expected_outcome
from tests.helpers import ROOT, make_scenario

runner = CliRunner()
BUDGETS = ROOT / "scenarios" / "marketing_budgets.yaml"


def hill(max_effect: float, half: float, shape: float = 1.0) -> dict:
    return {"hill": {"max_effect": max_effect, "half_saturation": half, "shape": shape}}


def channel(budget: float, response: dict) -> dict:
    return {"budget_per_month": budget, "response": response}


# -- curves ------------------------------------------------------------------------------------


def test_hill_and_linear_curves_by_hand():
    curve = Response(**hill(0.2, 1000.0, 2.0))
    assert curve.effect(1000.0) == pytest.approx(0.1)  # half the maximum at half-saturation
    assert curve.effect(3000.0) == pytest.approx(0.2 * 9 / 10)
    assert curve.effect(0.0) == 0.0
    for spend in (300.0, 1000.0, 5000.0):  # the slope is the derivative
        h = 1e-5 * spend
        numeric = (curve.effect(spend + h) - curve.effect(spend - h)) / (2 * h)
        assert curve.slope(spend) == pytest.approx(numeric, rel=1e-6)
    line = Response(linear={"per_unit": 0.001, "cap": 0.5})
    assert line.effect(200.0) == pytest.approx(0.2)
    assert line.effect(900.0) == 0.5
    assert (line.slope(200.0), line.slope(900.0)) == (0.001, 0.0)


def test_adstock_makes_a_steady_budget_act_larger():
    """A_t = b + d A_(t-1): a steady b acts as b / (1 - d)."""
    budget = Budget(per_month=1000.0, response=Response(**hill(1.0, 2000.0)), adstock=0.5)
    assert budget.steady_effect() == pytest.approx(0.5)  # effective 2000 = half-saturation
    h = 1e-2
    numeric = (budget.steady_effect(1000.0 + h) - budget.steady_effect(1000.0 - h)) / (2 * h)
    assert budget.steady_slope() == pytest.approx(numeric, rel=1e-6)


def test_a_curve_needs_exactly_one_shape():
    with pytest.raises(ScenarioError, match="give exactly one of: hill, linear"):
        make_scenario(stages__like={"pass_prob": 0.5, "budget": {"per_month": 1, "response": {}}})
    with pytest.raises(ScenarioError, match="give exactly one of: cost_per_prospect, response"):
        make_scenario(channels={"paid": {"ads": {"budget_per_month": 5}}})


# -- what budgets change in a run --------------------------------------------------------------


def test_a_stage_budget_lifts_its_pass_probability():
    """Like passes with 0.3 + the curve's lift (0.2 at half-saturation): 4 standard errors."""
    budget = {"per_month": 500.0, "response": hill(0.4, 500.0)}
    scenario = make_scenario(stages__like={"pass_prob": 0.3, "budget": budget})
    row = stage_table(simulate(scenario, 1)).set_index("stage").loc["like"]
    n = row["passed"] + row["lost"]
    assert abs(row["conversion"] - 0.5) < 4 * math.sqrt(0.25 / n)


def test_a_channel_curve_sets_its_arrivals():
    """Arrivals a day are the curve's effect of the effective budget: Poisson, 4 SE."""
    response = hill(200.0, 3000.0, 1.5)
    paid = {"ads": {**channel(3000.0, response), "adstock": 0.25}}
    scenario = make_scenario(channels={"paid": paid}, horizon_days=200.0)
    expected = Response(**response).effect(3000.0 / 0.75) * 200.0
    got = kpis(simulate(scenario, 2))["prospects"]
    assert abs(got - expected) < 4 * math.sqrt(expected)


def test_repeat_and_refer_budgets_scale_their_rates():
    base = {"order_value": {"fixed": {"value": 10.0}}}
    repeat = {"simple": {"purchases_per_month": 2.0, "dropout_prob": 0.0}}
    lift = {"per_month": 100.0, "response": {"linear": {"per_unit": 0.005, "cap": 1.0}}}
    plain = make_scenario(after_sale={**base, "repeat": repeat}, horizon_days=60.0)
    lifted = make_scenario(after_sale={**base, "repeat": repeat, "budget": lift}, horizon_days=60.0)
    r0 = replicate(plain, 4, 3, backend="serial").kpis["repeat_purchases"].sum()
    r1 = replicate(lifted, 4, 3, backend="serial").kpis["repeat_purchases"].sum()
    assert abs(r1 / r0 - 1.5) < 4 * math.sqrt(1 / r0 + 1 / r1) * 1.5  # a lift of 0.5


def test_full_costs_by_hand():
    """Budgets, sellers, bonuses and the cost to serve each active customer."""
    stage_budget = {"per_month": 300.0, "response": hill(0.0, 1.0)}  # money with no effect
    scenario = make_scenario(
        horizon_days=30.0,
        channels={
            "paid": {"ads": {"budget_per_month": 600.0, "cost_per_prospect": 30.0}},
            "organic": {"prospects_per_day": 1.0},
        },
        stages__like={"pass_prob": 1.0, "budget": stage_budget},
        sales={"sellers": 1, "stages": ["define"], "cost_per_seller_per_month": 900.0},
        after_sale={"order_value": {"fixed": {"value": 100.0}}, "cost_to_serve_per_month": 3.0},
    )
    run = simulate(scenario, 4)
    k = kpis(run)
    active_days = daily_table(run)["active_customers"].sum()
    fixed = (600.0 + 300.0 + 900.0) / DAYS_PER_MONTH * 30.0
    assert k["cost"] == pytest.approx(fixed + 3.0 / DAYS_PER_MONTH * active_days)
    assert k["profit"] == pytest.approx(k["revenue"] - k["cost"])
    assert k["cac_ads"] == pytest.approx(600.0 / DAYS_PER_MONTH * 30.0 / _buyers_from(run, "ads"))
    assert k["cac_organic"] == 0.0


def _buyers_from(run, channel: str) -> int:
    p = run.log.purchases
    first = p["customer"][p["kind"] == 0]
    return int((run.log.prospects["channel"][first] == run.log.channels.index(channel)).sum())


def test_payback_is_the_first_day_margin_covers_costs():
    scenario = make_scenario(
        horizon_days=40.0,
        channels={"organic": {"prospects_per_day": 2.0}},
        sales={"sellers": 1, "stages": ["define"], "cost_per_seller_per_month": 2000.0},
        after_sale={"order_value": {"fixed": {"value": 50.0}}, "margin": 0.5},
    )
    run = simulate(scenario, 5)
    d = daily_table(run)
    balance = (0.5 * d["revenue"] - d["cost"]).cumsum()
    first = int(np.flatnonzero(balance.to_numpy() >= 0)[0]) + 1
    assert kpis(run)["payback_days"] == first
    never = scenario.with_overrides({"after_sale.order_value": {"fixed": {"value": 1.0}}})
    assert math.isnan(kpis(simulate(never, 5))["payback_days"])


# -- the optimiser -----------------------------------------------------------------------------


def two_channels(first: float, second: float, response: dict, **extra) -> object:
    paid = {"a": channel(first, response), "b": channel(second, response)}
    return make_scenario(channels={"paid": paid}, horizon_days=60.0, **extra)


def test_two_identical_lines_get_an_equal_split():
    scenario = two_channels(9000.0, 1000.0, hill(100.0, 4000.0))
    optimal, notes = allocate(scenario, 10_000.0, "buyers", Constraints())
    assert optimal["a"] == pytest.approx(5000.0, abs=50.0)
    assert optimal["a"] + optimal["b"] == pytest.approx(10_000.0)
    assert not notes


def test_a_line_with_no_effect_gets_no_money():
    useless = {"per_month": 4000.0, "response": hill(0.0, 100.0)}
    scenario = two_channels(
        3000.0, 3000.0, hill(100.0, 4000.0), stages__like={"pass_prob": 0.5, "budget": useless}
    )
    optimal, _ = allocate(scenario, 10_000.0, "buyers", Constraints())
    assert optimal["like"] < 10.0
    assert sum(optimal.values()) == pytest.approx(10_000.0)


def test_locks_bounds_and_what_cannot_be_spent():
    scenario = two_channels(6000.0, 1000.0, hill(100.0, 4000.0))
    locked, _ = allocate(scenario, 9000.0, "buyers", Constraints(locked=frozenset({"a"})))
    assert locked == {"a": 6000.0, "b": 3000.0}  # the lock kept exactly, the rest to b
    bounded, _ = allocate(scenario, 10_000.0, "buyers", Constraints(maximum={"a": 2000.0}))
    assert bounded["a"] <= 2000.0 + 1e-9 and bounded["b"] == pytest.approx(8000.0)
    floor, _ = allocate(scenario, 10_000.0, "buyers", Constraints(minimum={"b": 7000.0}))
    assert floor["b"] >= 7000.0 - 1e-9
    capped, notes = allocate(
        scenario, 10_000.0, "buyers", Constraints(maximum={"a": 2000.0, "b": 3000.0})
    )
    assert sum(capped.values()) == pytest.approx(5000.0)
    assert "5,000.00 of the budget is left unspent" in notes[0]


def test_impossible_constraints_are_refused():
    scenario = two_channels(1000.0, 1000.0, hill(100.0, 4000.0))
    with pytest.raises(OptimizeError, match=r"minima add up to 12,000\.00"):
        allocate(scenario, 10_000.0, "buyers", Constraints(minimum={"a": 6000, "b": 6000}))
    with pytest.raises(OptimizeError, match="unknown budget line 'bb'; did you mean 'b'"):
        allocate(scenario, 10_000.0, "buyers", Constraints(locked=frozenset({"bb"})))
    with pytest.raises(OptimizeError, match="more than the budget"):
        allocate(scenario, 500.0, "buyers", Constraints(locked=frozenset({"a"})))
    with pytest.raises(ScenarioError, match="unknown budget line"):
        with_budgets(scenario, {"c": 1.0})


def test_no_gain_is_not_confirmed():
    """Linear reach: every split brings the same prospects, so the true gain is zero."""
    linear = {"linear": {"per_unit": 0.01, "cap": 1000.0}}
    scenario = two_channels(8000.0, 2000.0, linear)
    # a true gain of zero has its 95% interval above zero, and looks confirmed, for 1 seed
    # in 40; this seed is not one of them
    result = optimize(scenario, 10_000.0, "buyers", reps=8, seed=4, backend="serial")
    assert result.expected["optimal"] == pytest.approx(result.expected["current"], rel=1e-9)
    g = result.gain
    se = (g.ci_high - g.ci_low) / 2 / stats.t.ppf(0.975, 8 - 1)
    assert abs(g.mean) < 4 * se  # a gain of zero, within sampling error
    assert not result.confirmed
    assert result.verdict().startswith("Not confirmed")


@pytest.mark.slow
def test_a_real_gain_is_confirmed():
    """Money moved off a line with no effect onto reach: more buyers, and the CI says so."""
    useless = {"per_month": 8000.0, "response": hill(0.0, 100.0)}
    scenario = two_channels(
        1000.0, 1000.0, hill(100.0, 4000.0), stages__like={"pass_prob": 0.5, "budget": useless}
    )
    result = optimize(scenario, 10_000.0, "buyers", reps=6, seed=2, backend="serial")
    assert result.optimal["like"] < 10.0
    assert result.confirmed and result.gain.ci_low > 0
    assert result.verdict().startswith("Confirmed")
    with Executor("processes", workers=2) as pool:  # as the dashboard's shared pool runs it
        shared = optimize(scenario, 10_000.0, "buyers", reps=6, seed=2, executor=pool)
    assert shared.gain == result.gain


# -- the command line --------------------------------------------------------------------------


def test_optimize_cli_json_and_output(tmp_path):
    target = tmp_path / "best.yaml"
    result = runner.invoke(
        app,
        [
            "optimize", str(BUDGETS), "--budget", "22000", "--objective", "buyers",
            "--lock", "display_ads", "--max", "try=500", "--reps", "3", "--json",
            "--backend", "serial", "-o", str(target),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) >= {"objective", "budget", "current", "optimal", "gain", "confirmed"}
    assert set(doc["gain"]) == {"mean", "ci_low", "ci_high", "pct"}
    assert set(doc["marginal_roi"]) == set(doc["current"])
    assert doc["optimal"]["display_ads"] == 12000.0 and doc["optimal"]["try"] <= 500.0
    assert sum(doc["optimal"].values()) == pytest.approx(22000.0)
    written = load_scenario(target)
    assert budget_lines(written) == pytest.approx(doc["optimal"])
    assert yaml.safe_load(target.read_text())["name"] == "marketing_budgets"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "-5"], "--budget -5: at least 0 a month"),
        (["--budget", "1000", "--lock", "displayads"], "did you mean 'display_ads'"),
        (["--budget", "1000", "--min", "like=900", "--min", "trust=900"], "minima add up to"),
        (["--budget", "1000", "--max", "like"], "--max like: expected LINE=AMOUNT"),
        (["--budget", "1000", "--objective", "fame"], "--objective fame: use one of"),
    ],
)
def test_optimize_cli_bad_input(args, message):
    result = runner.invoke(app, ["optimize", str(BUDGETS), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_shipped_budget_scenario_has_every_lever():
    lines = budget_lines(load_scenario(BUDGETS))
    assert list(lines) == [
        "display_ads", "search_ads", "like", "trust", "try", "repeat", "refer"
    ]  # fmt: skip
    assert sum(lines.values()) == 22000.0


def test_at_the_optimum_the_free_lines_return_alike():
    """Lagrange: with the total fixed, every line inside its bounds has the same marginal ROI."""
    scenario = load_scenario(BUDGETS)
    optimal, _ = allocate(scenario, 22_000.0, "profit", Constraints())
    best = with_budgets(scenario, optimal)
    marginal = marginal_roi(best)
    capped = {"try"}  # linear up to a cap: the optimum sits on the kink
    assert optimal["try"] == pytest.approx(2000.0, rel=1e-3)  # 0.10 / 0.00005
    inside = [v for k, v in marginal.items() if k not in capped]
    assert max(inside) - min(inside) < 0.01 * abs(np.mean(inside))
    before = marginal_roi(scenario)
    assert max(before.values()) - min(before.values()) > 1.0  # it was not so before


def test_curves_table_and_figure():
    scenario = load_scenario(BUDGETS)
    curves = line_curves(scenario)
    assert list(dict.fromkeys(curves["line"])) == list(budget_lines(scenario))
    now = curves[curves["current"]].set_index("line")
    assert now.loc["like", "money"] == 2000.0
    assert now.loc["like", "effect"] == pytest.approx(0.15 * 2000 / 4500)
    acting = 12000 / 0.7  # adstock 0.3
    assert now.loc["display_ads", "effect"] == pytest.approx(500 * acting / (acting + 15000))
    assert (curves.groupby("line")["money"].apply(lambda m: m.is_monotonic_increasing)).all()
    far = line_curves(scenario, reach={"like": 50_000.0})
    assert far[far["line"] == "like"]["money"].max() >= 50_000.0  # a far optimum is on the curve
    fig = response_figure(curves, optimal={"like": 3000.0})
    marked = [t for t in fig.data if t.name == "optimal"]
    assert len(marked) == 1 and marked[0].x[0] == 3000.0
    assert marked[0].y[0] == pytest.approx(0.15 * 3000 / 5500, rel=1e-3)


# -- budget plans over time --------------------------------------------------------------------


def test_effective_spend_follows_the_plan_with_carry_over():
    """A_m = b_m + d A_(m-1), from the steady state of per_month before the run."""
    got = effective_spend(100.0, [0.0, 300.0], 0.5, 4)
    expected = [0.0 + 0.5 * 200.0, 300.0 + 0.5 * 100.0, 100.0 + 0.5 * 350.0]
    expected.append(100.0 + 0.5 * expected[-1])
    assert got.tolist() == pytest.approx(expected)


def test_a_channel_plan_drives_arrivals_and_costs_month_by_month():
    """Nothing in the first month, then 3,000 a month at 10 a prospect: ~9.86 a day."""
    plan = [0.0, 3000.0, 6000.0]
    ads = {"budget_per_month": 3000.0, "cost_per_prospect": 10.0, "plan": plan}
    scenario = make_scenario(channels={"paid": {"ads": ads}}, horizon_days=4 * DAYS_PER_MONTH)
    run = simulate(scenario, 6)
    d = daily_table(run)
    month = (d.index / DAYS_PER_MONTH).astype(int)
    arrivals = d.groupby(month)["arrivals_ads"].sum()
    days = d.groupby(month).size()
    assert arrivals[0] == 0
    for m, money in ((1, 3000.0), (2, 6000.0), (3, 3000.0)):  # after the plan: per_month
        expected = money / DAYS_PER_MONTH / 10.0 * days[m]
        assert abs(arrivals[m] - expected) < 4 * math.sqrt(expected), m
    cost = d.groupby(month)["cost"].sum()
    assert cost[0] == 0.0
    assert cost[2] == pytest.approx(6000.0 / DAYS_PER_MONTH * days[2])


def test_a_stage_plan_lifts_pass_probability_in_its_months():
    """Like passes at 0.3 in month 0 (no money) and 0.3 + 0.4 later (a saturated curve)."""
    budget = {"per_month": 1e6, "plan": [0.0], "response": hill(0.4, 1.0)}
    scenario = make_scenario(
        stages__like={"pass_prob": 0.3, "budget": budget}, horizon_days=2 * DAYS_PER_MONTH
    )
    v = simulate(scenario, 7).log.visits
    like = v["stage"] == FUNNEL.index("like")
    for first, p in ((True, 0.3), (False, 0.7)):
        mine = like & ((v["enter"] < DAYS_PER_MONTH) == first)
        passed = (v["outcome"][mine] == 0).mean()
        n = int(mine.sum())
        assert abs(passed - p) < 4 * math.sqrt(p * (1 - p) / n), (first, passed)


def test_plans_are_for_channels_and_stages_only():
    lift = {"per_month": 100.0, "plan": [0.0, 100.0], "response": hill(0.2, 50.0)}
    with pytest.raises(ScenarioError, match="give repeat a steady per_month"):
        make_scenario(after_sale={"order_value": {"fixed": {"value": 1.0}}, "budget": lift})


def test_the_optimiser_keeps_planned_lines_and_theory_follows_plans():
    scenario = load_scenario(ROOT / "scenarios" / "budget_plan.yaml")
    optimal, notes = allocate(scenario, 20_000.0, "profit", Constraints())
    assert optimal == budget_lines(scenario)
    assert "'ads' follows a month-by-month plan" in notes[0]
    # the expectation's cost is the plan's money, month by month, plus the sellers
    days = math.ceil(scenario.horizon_days)
    fixed = float(spend_per_day(scenario, days).sum())
    steady = (15000 + 3000 + 12 * 2500) / DAYS_PER_MONTH * days
    assert fixed < steady  # the plan spends less than the steady amounts would
    assert expected_outcome(scenario)["cost"] > fixed
