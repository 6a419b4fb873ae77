"""Known customers in a forecast with a scenario talk at its referral rates, as new ones do."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hourglass.calibration import read_transactions
from hourglass.calibration.btyd import bgnbd_alive_prob
from hourglass.forecasting import forecast
from hourglass.stages import DAYS_PER_MONTH
from tests.helpers import make_scenario, stat_close

EACH = 400
BGNBD = {"r": 1.0, "alpha": 5000.0, "a": 1.0, "b": 1.0}
"""Per week: repeat buying so slow that hardly anyone drops out within the month."""


def _log() -> pd.DataFrame:
    """EACH customers who bought on 1 and 15 January 2026, EACH who bought once on the 31st."""
    twice = [(f"a{i}", day) for i in range(EACH) for day in ("2026-01-01", "2026-01-15")]
    once = [(f"b{i}", "2026-01-31") for i in range(EACH)]
    rows = pd.DataFrame(twice + once, columns=["customer_id", "date"])
    return rows.assign(amount="10")


def test_known_customers_refer_new_ones_in_the_first_month():
    """February: A alive customers talking at q a month, each won contact a talking customer.

    With every contact won at once and bought at once, the referred grow as a Yule process:
    A (e^(q t) - 1) in t months, A = sum of P(alive | x, t_x, T) (N q (alive share) t to
    first order). The twice-buyers (x = 1, t_x = 2 weeks, T = 31 days) are alive with
    chance 1 / (1 + a / b ((alpha + T) / (alpha + t_x))^2), about a half; the once-buyers
    surely.
    """
    q = 0.3
    shop = make_scenario(
        channels={"organic": {"prospects_per_day": 0.0}},
        market={"size": 10_000_000},
        referral={"contacts_per_month": {"one_time": q}, "win_prob": 1.0},
        after_sale={
            "order_value": {"fixed": {"value": 10.0}},
            "repeat": {"bgnbd": {**BGNBD, "period_days": 7.0}},
        },
    )
    log = read_transactions(_log(), None, "log.csv")
    result = forecast(log, pd.Timestamp("2026-01-31"), 1, shop, reps=30, seed=4)
    alive = EACH * (1.0 + float(bgnbd_alive_prob(1, 2.0, 31 / 7, **BGNBD)))
    months = 28 / DAYS_PER_MONTH
    referred = result.draws["referrals"][:, 0]
    stat_close(referred, alive * math.expm1(q * months))
    assert np.array_equal(referred, result.draws["new_customers"][:, 0])
    assert 0.45 < float(bgnbd_alive_prob(1, 2.0, 31 / 7, **BGNBD)) < 0.55
