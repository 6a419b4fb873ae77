"""What a planner plans with: LTV and LTV:CAC by channel, and a risk-aware objective."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from hourglass import Run, Scenario, load_scenario, optimize, replicate, simulate
from hourglass.analysis import kpis
from hourglass.analysis.stages import first_purchases
from hourglass.experiments.risk import best_candidate, objective_score, percentile_change
from hourglass.kpis import KPIS
from hourglass.log import PASSED, EventLog
from hourglass.stages import DAYS_PER_MONTH, LOYALTY_CLASSES
from tests.helpers import exits_2_saying, invoke_cli, make_scenario

ROOT = Path(__file__).resolve().parents[1]
NAN = math.nan


def _cols(**columns) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in columns.items()}


def _three_buyers() -> Run:
    """p0 (ads) buys 100 then 50 and refers p2 (buys 100); p1 (organic) buys 40; margin 0.5."""
    scenario = make_scenario(
        horizon_days=10.0,
        channels={
            "paid": {"ads": {"budget_per_month": 10 * DAYS_PER_MONTH, "cost_per_prospect": 1.0}}
        },
        market={"size": 1000},
        after_sale={"order_value": {"fixed": {"value": 100.0}}, "margin": 0.5},
        referral={"contacts_per_month": {"one_time": 1.0}, "win_prob": 1.0, "bonus": 5.0},
    )
    log = EventLog(
        horizon_days=10.0,
        warmup_days=0.0,
        seats=0,
        channels=("ads", "organic", "referral"),
        reasons=("not_interested", "went_cold"),
        classes=LOYALTY_CLASSES,
        prospects=_cols(arrival=[0.5, 1.0, 5.0], channel=[0, 1, 2], referrer=[-1, -1, 0]),
        visits=_cols(
            prospect=[0, 1, 2],
            stage=[4, 4, 4],
            enter=[0.5, 1.0, 5.0],
            exit=[1.0, 2.0, 6.0],
            wait=[NAN] * 3,
            outcome=[PASSED] * 3,
        ),
        purchases=_cols(
            customer=[0, 1, 0, 2],
            time=[1.0, 2.0, 4.0, 6.0],
            value=[100.0, 40.0, 50.0, 100.0],
            kind=[0, 0, 1, 0],
        ),
        moves=_cols(customer=[0, 1, 2], time=[1.0, 2.0, 6.0], klass=[0, 0, 0]),
        contacts=_cols(referrer=[0], time=[4.5], won=[1]),
    )
    return Run(scenario=scenario, seed=0, log=log)


def test_ltv_by_channel_by_hand():
    """Margin on each channel's buyers' revenue over its buyers; the referred buyer: referral."""
    k = kpis(_three_buyers())
    assert k["buyers"] == 3
    assert (k["ltv_ads"], k["ltv_organic"], k["ltv_referral"]) == (75.0, 20.0, 50.0)
    assert k["ltv"] == pytest.approx(0.5 * 290.0 / 3)
    assert (k["cac_ads"], k["cac_referral"]) == (pytest.approx(100.0), 5.0)
    assert k["ltv_cac_ads"] == pytest.approx(0.75)
    assert k["ltv_cac_referral"] == pytest.approx(10.0)
    assert math.isnan(k["ltv_cac_organic"])  # a free channel has no ratio
    assert k["ltv_cac"] == pytest.approx(k["ltv"] / k["cac"])


@pytest.mark.parametrize("name", ["baseline", "key_accounts"])
def test_channel_ltvs_weighted_by_buyers_make_the_total(name):
    """The buyer-weighted mean of the channels' LTVs is the total LTV (service fees too)."""
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    run = simulate(scenario.with_overrides({"horizon_days": 90.0}), 3)
    k = kpis(run)
    came_by = run.log.prospects["channel"][first_purchases(run)["customer"].to_numpy()]
    won = {c: int((came_by == code).sum()) for code, c in enumerate(run.log.channels)}
    assert sum(won.values()) == k["buyers"] and sum(n > 0 for n in won.values()) >= 2
    weighted = sum(n * k[f"ltv_{c}"] for c, n in won.items() if n) / k["buyers"]
    assert weighted == pytest.approx(k["ltv"], rel=1e-12)


def test_labels():
    """Per-channel LTV and LTV:CAC read as their families, money and a ratio, higher better."""
    assert KPIS["ltv_ads"].label() == "LTV (ads)"
    assert KPIS["ltv_cac_ads"].label() == "LTV:CAC (ads)"
    assert KPIS["ltv_cac_ads"].unit == "" and KPIS["ltv_ads"].unit == "money"


def test_p10_objective_picks_the_safe_line_and_the_mean_the_risky_one():
    """Risky: 310 on average but -200 in 3 of 20 replications; safe: 250 every time."""
    outcomes = {"risky": np.array([-200.0] * 3 + [400.0] * 17), "safe": np.full(20, 250.0)}
    assert objective_score(outcomes["risky"], "profit") == pytest.approx(310.0)
    assert objective_score(outcomes["risky"], "profit_p10") == pytest.approx(-200.0)
    assert objective_score(outcomes["safe"], "profit_p10") == pytest.approx(250.0)
    assert best_candidate(outcomes, "profit") == "risky"
    assert best_candidate(outcomes, "profit_p10") == "safe"


def test_a_percentile_change_has_its_paired_interval():
    """Every replication 50 higher: the 10th percentile is 50 higher, and surely so."""
    before = np.arange(20.0) * 10.0
    delta, low, high, pct = percentile_change(before, before + 50.0, 10.0, seed=1)
    assert (delta, low, high) == (pytest.approx(50.0),) * 3
    assert pct == pytest.approx(100.0 * 50.0 / 19.0)


def _two_lines() -> Scenario:
    paid = {
        line: {
            "budget_per_month": money,
            "response": {"hill": {"max_effect": 40.0, "half_saturation": 3000.0}},
        }
        for line, money in (("a", 4000.0), ("b", 1000.0))
    }
    return make_scenario(channels={"paid": paid}, horizon_days=30.0, market={"size": 5000})


def test_optimize_p10_confirms_on_other_replications_and_names_its_objective():
    """The kept allocation is one of the candidates; its gain is that of the 10th percentile."""
    scenario = _two_lines()
    result = optimize(scenario, 5000.0, "profit_p10", reps=4, seed=3, backend="serial")
    assert result.objective == "profit_p10"
    assert result.objective_label() == "the 10th percentile of profit across replications"
    assert sum(result.optimal.values()) == pytest.approx(5000.0)
    now, best = (
        replicate(spec, 4, 3, backend="serial").kpis["profit"].to_numpy()
        for spec in (scenario, result.scenario)
    )
    delta = np.percentile(best, 10) - np.percentile(now, 10)
    assert result.gain.mean == pytest.approx(delta)
    assert result.gain.ci_low <= result.gain.mean <= result.gain.ci_high
    assert "chosen by simulation among" in result.notes[-1]


def test_optimize_cli_says_it_maximised_the_p10(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(_two_lines().to_yaml())
    args = ["optimize", str(path), "--budget", "5000", "--reps", "3", "--backend", "serial"]
    shown = invoke_cli([*args, "--objective", "profit_p10"])
    assert shown.returncode == 0, shown.stderr
    assert "10th percentile of profit across replications" in " ".join(shown.stdout.split())
    said = invoke_cli([*args, "--objective", "profit_p10", "--json"])
    assert json.loads(said.stdout)["objective"] == "profit_p10"


def test_an_unknown_objective_lists_the_risk_aware_one(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(_two_lines().to_yaml())
    exits_2_saying(
        ["optimize", str(path), "--budget", "5000", "--objective", "p10"],
        "--objective p10: use one of buyers, revenue, profit, customers, profit_p10",
    )
