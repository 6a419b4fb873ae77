"""Sellers as people: who worked each visit, and the team the log names."""

from __future__ import annotations

import numpy as np

from hourglass import simulate
from hourglass.stages import FUNNEL
from tests.helpers import make_scenario


def test_each_worked_visit_names_its_seller_and_no_seller_holds_more_than_his_seats():
    """Four anonymous sellers: worked visits name one, the others -1; no seller double-booked."""
    log = simulate("seller_bottleneck", seed=1).log
    assert log.sellers == tuple((f"Seller {i}", "seller") for i in range(1, 5))
    assert log.seller_capacity == (1, 1, 1, 1)
    v = log.visits
    worked = np.isin(v["stage"], [FUNNEL.index("try"), FUNNEL.index("buy")])
    served = np.isfinite(v["wait"])
    assert v["seller"].dtype == np.int16
    assert set(np.unique(v["seller"][served]).tolist()) == {0, 1, 2, 3}
    assert (v["seller"][~served] == -1).all()
    assert served[worked].any() and not served[~worked].any()
    for seller in range(4):
        mine = (v["seller"] == seller) & np.isfinite(v["exit"])
        start = v["enter"][mine] + v["wait"][mine]
        order = np.argsort(start, kind="stable")
        # one seat: each visit starts once the one before it (continuity included) is over
        assert (start[order][1:] >= v["exit"][mine][order][:-1] - 1e-9).all()


def test_a_role_taking_leads_in_daily_batches_starts_each_at_the_end_of_its_day():
    """SDRs with batch_days 1 and seats to spare: every lead waits until its day is over."""
    sales = {
        "roles": {"sdr": {"headcount": 50, "stages": ["explore"], "batch_days": 1}},
    }
    log = simulate(make_scenario(sales=sales, horizon_days=30.0), 2).log
    v = log.visits
    know = (v["stage"] == 0) & np.isfinite(v["wait"])
    assert know.sum() > 1000
    np.testing.assert_allclose(v["wait"][know], np.ceil(v["enter"][know]) - v["enter"][know])


def test_a_roles_fast_no_is_its_own():
    """Only the SDRs qualify: their losses are disqualified, the closers' are not."""
    sales = {
        "roles": {
            "sdr": {
                "headcount": 50,
                "stages": ["explore"],
                "qualification": {"share": 1.0, "duration": {"fixed": {"days": 0.0}}},
            },
            "ae": {"headcount": 50, "stages": ["collaborate"]},
        },
    }
    scenario = make_scenario(sales=sales, horizon_days=30.0).with_overrides(
        {"stages.know.pass_prob": 0.5, "stages.like.pass_prob": 0.5}
    )
    log = simulate(scenario, 2).log
    v, disqualified = log.visits, 2 + log.reasons.index("disqualified")
    lost = (v["outcome"] >= 2) & np.isfinite(v["exit"])
    assert (v["outcome"][lost & (v["stage"] == 0)] == disqualified).all()
    assert not (v["outcome"][lost & (v["stage"] == 1)] == disqualified).any()
    assert (lost & (v["stage"] == 1)).sum() > 100
