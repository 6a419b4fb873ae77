"""Pass-probability intervals hold the true rate 95% of the time, censored visits and all."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from hourglass.analysis.intervals import Estimate, wilson_score
from hourglass.calibration.estimators import FEW, PassDraws, pass_probability_draws

UNTIL = 365.0
"""Days the synthetic exports cover."""

CASES: dict[str, list[tuple[float, int, float]]] = {
    "stage": [(0.5, 400, 0.0), (0.7, 400, 0.0), (0.85, 300, 0.0), (0.95, 200, 0.0)],
    "source": [(0.6, 150, 0.0), (0.9, 150, 215.0), (0.15, 100, 0.0), (0.95, 100, 0.0)],
    "seller": [(0.4, 60, 0.0), (0.9, 40, 250.0), (0.95, 40, 0.0), (0.9, 25, 0.0)],
}
"""Per kind of group, its visits: (true pass probability, visits, first day they enter).

Stages have many visits; sources and sellers fewer, some entering only in the last 150
or 115 days (many still open); each kind has rates near 0 or 1, where a percentile
interval falls short most.
"""


def stage_visits(rng: np.random.Generator, p: float, n: int, first: float) -> np.ndarray:
    """`n` visits' (days in stage, status), entering from day `first`, passing at `p`.

    Passing takes 40 days on average and losing 8, so the open visits are mostly future
    passes, as in a CRM export where deals that will buy are the slow ones.
    """
    entered = rng.uniform(first, UNTIL, n)
    passed = rng.random(n) < p
    left = entered + np.where(passed, rng.exponential(40.0, n), rng.exponential(8.0, n))
    is_open = left > UNTIL
    status = np.where(is_open, "open", np.where(passed, "passed", "lost"))
    return np.minimum(left, UNTIL) - entered, status


def fitted(kind: str, exports: int, seed: int) -> Iterator[tuple[float, PassDraws, int]]:
    """Each export's (true rate, fitted pass probability, decided visits) for `kind`'s cases."""
    rng = np.random.default_rng(seed)
    for _ in range(exports):
        for p, n, first in CASES[kind]:
            days, status = stage_visits(rng, p, n, first)
            yield p, pass_probability_draws(days, status, rng), int((status != "open").sum())


def percentile_interval(drawn: PassDraws, decided: int) -> Estimate:
    """The former interval: the draws' 2.5 and 97.5 percentiles, Wilson's under FEW decided."""
    low, high = np.clip(np.nanpercentile(drawn.draws, [2.5, 97.5]), 0.0, 1.0)
    point = drawn.estimate.value
    if decided < FEW:
        counted = wilson_score(point, decided)
        low, high = min(low, counted.low), max(high, counted.high)
    return Estimate(point, float(low), float(high))


def coverage(held: list[bool]) -> tuple[float, float]:
    """The share of intervals that held the truth and its binomial standard error at 95%."""
    return sum(held) / len(held), math.sqrt(0.95 * 0.05 / len(held))


def test_without_open_visits_the_interval_is_wilson_s_over_the_visits():
    """40 of 50 visits passed, none open: n_eff is about 50: Wilson's 0.670 to 0.888.

    Wilson's interval by hand: centre (0.8 + z²/100) / (1 + z²/50) = 0.7786 and half
    width z sqrt(0.8 * 0.2 / 50 + z²/10000) / (1 + z²/50) = 0.1090. The bootstrap's
    variance is off by about 7% over 400 replicates, the bounds by under 0.01.
    """
    days = np.arange(1.0, 51.0)
    status = np.array(["passed"] * 40 + ["lost"] * 10)
    drawn = pass_probability_draws(days, status, np.random.default_rng(7))
    point = drawn.estimate.value
    assert point == pytest.approx(0.8, abs=1e-12)
    assert drawn.estimate.low == pytest.approx(0.6696, abs=0.01)
    assert drawn.estimate.high == pytest.approx(0.8876, abs=0.01)
    spread = np.var(drawn.draws, ddof=1)
    by_hand = wilson_score(point, point * (1 - point) / spread)
    assert (drawn.estimate.low, drawn.estimate.high) == pytest.approx((by_hand.low, by_hand.high))


def test_open_visits_count_for_less_than_decided_ones():
    """The same 40 of 50 with 30 more visits open: wider than Wilson's over all 80 visits."""
    days = np.arange(1.0, 81.0)
    status = np.array(["passed"] * 40 + ["lost"] * 10 + ["open"] * 30)
    interval = pass_probability_draws(days, status, np.random.default_rng(7)).estimate
    over_all = wilson_score(interval.value, 80)
    assert interval.high - interval.low > over_all.high - over_all.low


@pytest.mark.slow
def test_pass_probability_intervals_hold_the_truth_95_percent_of_the_time():
    """3,600 intervals over stages, sources and sellers (300 exports of each kind's 4 cases).

    The coverage's binomial standard error is 0.36 points; it must lie within 3 of them
    of 95%. Measured here: 96.0% (stages 96.6%, sources 94.9%, sellers 96.5%); the draws'
    percentiles held 93.7% (95.5%, 94.3%, 91.4%), 3.6 standard errors short, so on the same
    draws this test fails with them. With seed 1 and 200 exports (`bench_coverage.py`):
    94.9%, 95.3% and 94.9% (mean widths 0.084, 0.124, 0.218) against 94.5%, 93.5% and
    90.7% (0.082, 0.121, 0.199).
    """
    held, former = [], []
    for kind in CASES:
        for truth, drawn, decided in fitted(kind, 300, 2):
            held.append(drawn.estimate.low <= truth <= drawn.estimate.high)
            before = percentile_interval(drawn, decided)
            former.append(before.low <= truth <= before.high)
    share, se = coverage(held)
    assert abs(share - 0.95) < 3 * se, share
    assert coverage(former)[0] < 0.95 - 3 * se
