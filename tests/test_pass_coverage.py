"""Pass-probability intervals hold the true rate 95% of the time, censored visits and all."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from hourglass.analysis.intervals import Estimate, wilson_score
from hourglass.calibration.estimators import FEW, PassDraws, pass_probability_draws

UNTIL = 365.0
"""Days the synthetic exports cover."""

CASES: dict[str, list[tuple[float, int, float]]] = {
    "stage": [(0.5, 400, 0.0), (0.6, 400, 0.0), (0.7, 400, 0.0), (0.8, 400, 0.0)],
    "source": [(0.6, 150, 0.0), (0.9, 150, 0.0), (0.6, 150, 215.0), (0.9, 150, 215.0)],
    "seller": [(0.4, 60, 0.0), (0.9, 60, 0.0), (0.62, 40, 0.0), (0.9, 30, 0.0)],
}
"""Per kind of group, its visits: (true pass probability, visits, first day they enter).

Stages have many visits; sources fewer, some entering only in the last 150 days (many
still open); sellers few, some near 1 where a percentile interval falls short most.
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
