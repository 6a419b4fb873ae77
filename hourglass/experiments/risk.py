"""Risk-aware objectives: judge an allocation by a low percentile across replications.

The mean of profit rewards a line that pays well on average even when it often pays badly;
a planner who cannot afford the bad months asks instead how much profit is nearly certain,
the 10th percentile across replications, and prefers the allocation that raises it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy import stats

from hourglass.i18n import _

RISK_AWARE: dict[str, float] = {"profit_p10": 10.0}
"""Objectives judged on a percentile of their KPI across replications, not on its mean."""


def risk_label(objective: str) -> str:
    """A risk-aware objective as the reader's language names it."""
    return {"profit_p10": _("the 10th percentile of profit across replications")}[objective]


def objective_score(outcomes: np.ndarray, objective: str) -> float:
    """What an objective makes of one allocation's replications: a low percentile, or the mean."""
    if objective in RISK_AWARE:
        return float(np.percentile(outcomes, RISK_AWARE[objective]))
    return float(np.mean(outcomes))


def best_candidate(outcomes: Mapping[str, np.ndarray], objective: str) -> str:
    """The candidate whose replications score highest under the objective (first on a tie)."""
    return max(outcomes, key=lambda name: objective_score(outcomes[name], objective))


def percentile_change(
    before: np.ndarray, after: np.ndarray, percentile: float, seed: int
) -> tuple[float, float, float, float]:
    """The percentile's change, after against before on paired replications.

    Returns the change, its 95% paired-bootstrap interval, and the change in percent of
    `before`'s percentile.
    """

    def change(b: np.ndarray, a: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.percentile(a, percentile, axis=axis) - np.percentile(b, percentile, axis=axis)

    delta = float(change(before, after))
    interval = stats.bootstrap(
        (before, after),
        change,
        paired=True,
        vectorized=True,
        method="percentile",
        n_resamples=2000,
        random_state=np.random.default_rng(seed),
    ).confidence_interval
    base = float(np.percentile(before, percentile))
    pct = 100.0 * delta / abs(base) if base else math.nan
    return delta, float(interval.low), float(interval.high), pct
