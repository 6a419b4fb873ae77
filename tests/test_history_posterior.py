"""Known customers conditioned on their own history, against BG/NBD's closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from hourglass.calibration.btyd import bgnbd_alive_prob, bgnbd_conditional_expected
from hourglass.config.sections import Repeat
from hourglass.sim.engine import simulate
from hourglass.sim.known import KnownCustomers
from hourglass.stages import DAYS_PER_MONTH, LOYALTY_CLASSES
from tests.helpers import make_scenario

PARAMS = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
"""BG/NBD per week, chosen apart from any fit."""
HISTORIES = [(0, 0.0, 20.0), (3, 10.0, 30.0), (6, 29.0, 30.0), (2, 5.0, 40.0)]
"""Hand-picked (x, t_x, T) in weeks: a one-time buyer, a lapsing one, a regular, a long-gone."""
EACH, WEEKS = 3000, 26


def _known(histories: list[tuple[int, float, float]], each: int) -> KnownCustomers:
    x, t_x, age = (np.repeat([h[i] for h in histories], each) for i in range(3))
    repeat = Repeat.model_validate({"bgnbd": {**PARAMS, "period_days": 7.0}})
    return KnownCustomers(x=x, t_x=t_x * 7.0, age=age * 7.0, repeat=repeat)


def _quiet_shop(days: float, per_day: float = 0.0, **changes):
    return make_scenario(
        horizon_days=days,
        channels={"organic": {"prospects_per_day": per_day}},
        after_sale={"order_value": {"fixed": {"value": 10.0}}},
        **changes,
    )


@pytest.fixture(scope="module")
def conditioned_run():
    return simulate(_quiet_shop(WEEKS * 7.0), 3, known=_known(HISTORIES, EACH))


def test_each_history_buys_as_bgnbd_conditional_expectation_says(conditioned_run):
    """Mean repeat purchases in (T, T + 26 weeks] per history: eq. 10 within 4 SE."""
    bought = conditioned_run.log.purchases
    per_customer = np.bincount(bought["customer"], minlength=EACH * len(HISTORIES))
    assert (bought["kind"] >= 1).all()
    for k, (x, t_x, big_t) in enumerate(HISTORIES):
        counts = per_customer[k * EACH : (k + 1) * EACH]
        expected = bgnbd_conditional_expected(WEEKS, x, t_x, big_t, **PARAMS)
        se = counts.std(ddof=1) / np.sqrt(EACH)
        assert abs(counts.mean() - expected) < 4 * se, (x, t_x, big_t, counts.mean(), expected)


def test_each_history_starts_alive_with_bgnbd_probability(conditioned_run):
    """The share starting alive (not lapsed) per history: P(alive | x, t_x, T) within 4 SE."""
    run = conditioned_run
    moves = run.log.moves
    start = moves["time"] == 0.0
    lapsed = run.log.classes.index("temporarily_lost")
    alive = (moves["klass"][start] != lapsed)[np.argsort(moves["customer"][start])]
    for k, (x, t_x, big_t) in enumerate(HISTORIES):
        share = alive[k * EACH : (k + 1) * EACH].mean()
        p = float(bgnbd_alive_prob(x, t_x, big_t, **PARAMS))
        se = max(np.sqrt(p * (1 - p) / EACH), 1e-9)
        assert abs(share - p) <= 4 * se, (x, t_x, big_t, share, p)
    assert float(bgnbd_alive_prob(0, 0.0, 20.0, **PARAMS)) == 1.0


def test_known_customers_draw_the_same_lives_with_the_same_seed():
    """Same seed, same purchases; the known customers' draws leave the shop's own alone."""
    known = _known(HISTORIES[1:2], 200)
    shop = _quiet_shop(60.0, per_day=3.0)
    one, two = simulate(shop, 5, known=known), simulate(shop, 5, known=known)
    assert np.array_equal(one.log.purchases["time"], two.log.purchases["time"])
    assert one.log.purchases["kind"].size > 200
    alone = simulate(shop, 5).log.prospects
    joined = one.log.prospects
    outside = joined["channel"] != one.log.channels.index("cohort")
    assert np.array_equal(joined["arrival"][outside], alone["arrival"])


def test_a_simple_repeat_model_keeps_those_whose_silence_is_likely():
    """Same rate and drop-out for all: P(alive) = 1 / (1 + p / (1 - p) e^(rate (T - t_x)))."""
    repeat = Repeat.model_validate({"simple": {"purchases_per_month": 2.0, "dropout_prob": 0.3}})
    n = 4000
    known = KnownCustomers(
        x=np.full(n, 2), t_x=np.full(n, 10.0), age=np.full(n, 40.0), repeat=repeat
    )
    moves = simulate(_quiet_shop(10.0), 6, known=known).log.moves
    lapsed = moves["klass"][moves["time"] == 0.0] == LOYALTY_CLASSES.index("temporarily_lost")
    p = 1.0 / (1.0 + 0.3 / 0.7 * np.exp(2.0 / DAYS_PER_MONTH * 30.0))
    assert abs((1.0 - lapsed.mean()) - p) < 4 * np.sqrt(p * (1 - p) / n), (lapsed.mean(), p)
