"""What a planner plans with: LTV and LTV:CAC by channel, and a risk-aware objective."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from hourglass import Run, load_scenario, simulate
from hourglass.analysis import kpis
from hourglass.analysis.stages import first_purchases

from hourglass.kpis import KPIS
from hourglass.log import PASSED, EventLog
from hourglass.stages import DAYS_PER_MONTH, LOYALTY_CLASSES
from tests.helpers import make_scenario

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
