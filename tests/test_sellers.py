"""Sellers as people: who worked each visit, and the team the log names."""

from __future__ import annotations

import numpy as np

from hourglass import simulate
from hourglass.stages import FUNNEL


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
