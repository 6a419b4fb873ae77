"""Metrics on a hand-written event log: every number checked against a count by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hourglass import Run
from hourglass.analysis import (
    bands,
    daily_table,
    filling,
    kpis,
    loss_table,
    monthly_growth,
    stage_occupancy,
    stage_table,
)
from hourglass.log import FIRST_REASON, INSIDE, PASSED, EventLog
from hourglass.stages import DAYS_PER_MONTH, FUNNEL, LOYALTY_CLASSES
from tests.helpers import make_scenario

NAN = math.nan


def _cols(**columns) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in columns.items()}


@pytest.fixture
def run() -> Run:
    """Three prospects: p0 (ads) buys and buys again and refers p2; p1 (organic) is lost."""
    scenario = make_scenario(
        horizon_days=10.0,
        channels={
            "paid": {"ads": {"budget_per_month": 10 * DAYS_PER_MONTH, "cost_per_prospect": 1.0}}
        },
        sales={"sellers": 1, "stages": ["define"]},
        market={"size": 1000},
        after_sale={"order_value": {"fixed": {"value": 100.0}}, "margin": 0.5},
        referral={"contacts_per_month": {"one_time": 1.0}, "win_prob": 1.0, "bonus": 5.0},
    )
    log = EventLog(
        horizon_days=10.0,
        warmup_days=0.0,
        seats=1,
        channels=("ads", "organic", "referral"),
        reasons=("not_interested", "went_cold"),
        classes=LOYALTY_CLASSES,
        prospects=_cols(arrival=[0.5, 1.0, 5.0], channel=[0, 1, 2], referrer=[-1, -1, 0]),
        visits=_cols(
            prospect=[0, 0, 0, 0, 0, 1, 2, 2],
            stage=[0, 1, 2, 3, 4, 0, 0, 1],
            enter=[0.5, 1.0, 2.0, 2.5, 3.5, 1.0, 5.0, 6.0],
            exit=[1.0, 2.0, 2.5, 3.5, 4.0, 1.5, 6.0, NAN],
            wait=[NAN, NAN, NAN, 0.5, NAN, NAN, NAN, NAN],
            outcome=[PASSED] * 5 + [FIRST_REASON, PASSED, INSIDE],
        ),
        purchases=_cols(customer=[0, 0], time=[4.0, 6.0], value=[100.0, 50.0], kind=[0, 1]),
        moves=_cols(customer=[0, 0], time=[4.0, 5.0], klass=[0, 1]),
        contacts=_cols(referrer=[0], time=[4.5], won=[1]),
    )
    return Run(scenario=scenario, seed=0, log=log)


def test_stage_table_by_hand(run):
    t = stage_table(run).set_index("stage")
    assert t["entered"].tolist() == [3, 2, 1, 1, 1, 1, 1]
    # p0 bought again and had brought p2, who is still inside Like, so has not bought yet
    assert t["passed"].tolist() == [2, 1, 1, 1, 1, 1, 0]
    assert t["lost"].tolist() == [1, 0, 0, 0, 0, 0, 0]
    assert t["inside"].tolist() == [0, 1, 0, 0, 0, 0, 1]
    assert t.loc["know", "conversion"] == pytest.approx(2 / 3)
    assert t.loc["know", "mean_days"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert t.loc["try", "mean_days"] == pytest.approx(1.0)
    assert t.loc["repeat", "mean_days"] == 0.0  # p0 had brought p2 before buying again
    losses = loss_table(run)
    assert losses.to_dict("records") == [{"stage": "know", "reason": "not_interested", "lost": 1}]


def test_kpis_by_hand(run):
    k = kpis(run)
    assert (k["prospects"], k["outside_prospects"], k["referred_prospects"]) == (3, 2, 1)
    assert (k["buyers"], k["referred_buyers"], k["customers_end"]) == (1, 0, 1)
    assert k["revenue"] == 150.0
    assert k["cost"] == pytest.approx(100.0)  # ten a day for ten days, no referred buyer yet
    assert k["cac"] == pytest.approx(100.0)
    assert k["ltv"] == pytest.approx(75.0)
    assert k["roi"] == pytest.approx(-0.25)
    assert k["referral_share"] == 0.0
    assert k["k_factor"] == 0.0
    assert k["seller_utilization"] == pytest.approx(0.5 / 10.0)
    assert k["mean_wait_days"] == pytest.approx(0.5)
    assert (k["lost_waiting"], k["leads_to_sellers"], k["referral_contacts"]) == (0, 1, 1)


def test_daily_series_by_hand(run):
    d = daily_table(run)
    assert len(d) == 10
    assert d["arrivals_ads"].tolist() == [1] + [0] * 9
    assert d["arrivals_referral"].tolist() == [0] * 5 + [1] + [0] * 4
    assert d["buyers"].tolist() == [0] * 4 + [1] + [0] * 5
    assert d["revenue"].tolist() == [0] * 4 + [100.0, 0, 50.0] + [0] * 3
    assert d["cost"].tolist() == pytest.approx([10.0] * 10)
    # stocks are taken just before midnight: the buyer of day 4 is one_time at its end
    assert d["customers_one_time"].tolist() == [0] * 4 + [1] + [0] * 5
    assert d["customers_regular"].tolist() == [0] * 5 + [1] * 5
    assert d["active_customers"].tolist() == [0] * 4 + [1] * 6
    assert d["entered_know"].tolist() == [1, 1, 0, 0, 0, 1, 0, 0, 0, 0]
    assert d["entered_buy"].tolist() == [0, 0, 0, 1] + [0] * 6
    assert d["repeat_purchases"].tolist() == [0] * 6 + [1] + [0] * 3
    assert d["referred_buyers"].sum() == 0
    assert d["brought_buyers"].sum() == 0  # p2 was referred but has not bought


def test_filling_by_hand(run):
    """By day 5: know 3 (p0, p1, p2), like 1, ...; the lower half counts repeats and referred."""
    f = filling(daily_table(run))
    assert f.loc[4].tolist() == [2, 1, 1, 1, 1, 0, 0]
    assert f.loc[9].tolist() == [3, 2, 1, 1, 1, 1, 1]
    assert f.loc[9, list(FUNNEL)].tolist() == stage_table(run)["entered"].tolist()[:5]


def test_occupancy_by_hand(run):
    occ = stage_occupancy(run)
    assert occ["know"].tolist() == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]  # p0 on day 0, p2 on day 5
    assert occ["like"].tolist() == [0, 1, 0, 0, 0, 0, 1, 1, 1, 1]  # p0 on day 1; p2 stays


def test_k_factor_and_referral_share_by_hand():
    """p0 (day 1) brings p1 (day 3), both won in the first half: K = 1/2, share = 1/2."""
    scenario = make_scenario(
        horizon_days=10.0,
        market={"size": 100},
        referral={"contacts_per_month": {"one_time": 1.0}, "win_prob": 1.0, "bonus": 7.0},
    )
    log = EventLog(
        horizon_days=10.0,
        warmup_days=0.0,
        seats=0,
        channels=("organic", "referral"),
        reasons=("not_interested", "went_cold"),
        classes=LOYALTY_CLASSES,
        prospects=_cols(arrival=[0.5, 2.0, 6.0], channel=[0, 1, 1], referrer=[-1, 0, 1]),
        visits=_cols(
            prospect=[0, 1, 2],
            stage=[4, 4, 0],
            enter=[0.5, 2.0, 6.0],
            exit=[1.0, 3.0, 7.0],
            wait=[NAN] * 3,
            outcome=[PASSED, PASSED, FIRST_REASON],
        ),
        purchases=_cols(customer=[0, 1], time=[1.0, 3.0], value=[10.0, 10.0], kind=[0, 0]),
        moves=_cols(customer=[0, 1], time=[1.0, 3.0], klass=[0, 0]),
        contacts=_cols(referrer=[0, 1], time=[1.5, 5.5], won=[1, 1]),
    )
    k = kpis(Run(scenario=scenario, seed=0, log=log))
    assert k["k_factor"] == pytest.approx(0.5)
    assert k["referral_share"] == pytest.approx(0.5)
    assert k["cost"] == pytest.approx(7.0)  # one referred buyer's bonus, nothing else paid
    assert k["referred_prospects"] == 2 and k["referral_contacts"] == 2
    d = daily_table(Run(scenario=scenario, seed=0, log=log))
    assert d["referred_buyers"].tolist() == [0, 0, 0, 1] + [0] * 6
    assert d["brought_buyers"].tolist() == [0, 1] + [0] * 8  # p0, a buyer of day 1, brought p1


def test_monthly_growth_by_hand():
    """Whole 30-day months only; K and share per month and replication."""
    days = np.arange(75)
    daily = pd.DataFrame(
        {
            "day": np.concatenate([days, days]),
            "rep": np.repeat([0, 1], 75),
            "buyers": np.tile(np.where(days < 30, 1, 2), 2),
            "referred_buyers": np.tile(np.where(days < 30, 0, 1), 2),
            "brought_buyers": np.concatenate([np.full(75, 1), np.zeros(75, dtype=int)]),
            "active_customers": np.tile(days, 2),
        }
    )
    g = monthly_growth(daily).set_index(["rep", "month"])
    assert list(g.index) == [(0, 0), (0, 1), (1, 0), (1, 1)]  # days 60-74 are no whole month
    assert g.loc[(0, 0), "buyers"] == 30 and g.loc[(0, 1), "buyers"] == 60
    assert g.loc[(0, 1), "referral_share"] == pytest.approx(0.5)
    assert g.loc[(0, 0), "k_factor"] == pytest.approx(1.0)
    assert g.loc[(0, 1), "k_factor"] == pytest.approx(0.5)
    assert g.loc[(1, 1), "k_factor"] == 0.0
    assert g.loc[(1, 1), "active_customers"] == 59


def test_bands_by_hand():
    """Percentiles over replications per step, NaNs left out, all-NaN steps stay NaN."""
    frame = pd.DataFrame(
        {
            "rep": [0, 1, 2, 0, 1, 2],
            "month": [0, 0, 0, 1, 1, 1],
            "x": [1.0, 2.0, 9.0, NAN, NAN, NAN],
        }
    )
    b = bands(frame, "month", ["x"]).set_index("month")
    assert b.loc[0, "mean"] == pytest.approx(4.0)
    assert b.loc[0, "p50"] == 2.0
    assert b.loc[0, "p5"] == pytest.approx(np.percentile([1, 2, 9], 5))
    assert b.loc[0, "p95"] == pytest.approx(np.percentile([1, 2, 9], 95))
    assert math.isnan(b.loc[1, "mean"]) and math.isnan(b.loc[1, "p95"])
