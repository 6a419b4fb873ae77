"""The analytic search behind budget allocation: a box of amounts that add up to the spend.

SLSQP maximises the objective's expectation (`theory.expected_outcome`) over the free lines'
amounts, from an even split and from the current shares; `feasible` moves any point into
the box with the right sum.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize as scipy_optimize

from hourglass.config.budgets import budget_lines
from hourglass.config.plan import compile_plan
from hourglass.config.scenario import Scenario
from hourglass.kpis import KPIS, Better
from hourglass.theory import expected_outcome


def search_amounts(
    scenario: Scenario,
    free: list[str],
    locked: dict[str, float],
    low: np.ndarray,
    high: np.ndarray,
    spend: float,
    kpi: str,
    queues: bool = False,
) -> np.ndarray:
    """Maximise the KPI's expectation over the free lines' amounts that add up to `spend`.

    With `queues`, the expectation counts the sales team's queues (`theory_queues`).
    """
    sign = -1.0 if KPIS[kpi].better is Better.UP else 1.0  # scipy minimises
    scale = max(spend, 1.0)

    def value(shares: np.ndarray) -> float:
        amounts = dict(zip(free, (shares * scale).tolist(), strict=True))
        return sign * expected_outcome(compile_plan(scenario, {**locked, **amounts}), queues)[kpi]

    first = value(np.clip(np.full(len(free), spend / len(free)), low, high) / scale)
    norm = abs(first) or 1.0
    bounds = list(zip(low / scale, high / scale, strict=True))
    total = {"type": "eq", "fun": lambda x: x.sum() - spend / scale}
    best = None
    current = np.array([budget_lines(scenario)[k] for k in free])
    for start in _starts(current, low, high, spend):
        found = scipy_optimize.minimize(
            lambda x: value(x) / norm,
            start / scale,
            method="SLSQP",
            bounds=bounds,
            constraints=[total],
            options={"ftol": 1e-10, "maxiter": 200},
        )
        if best is None or found.fun < best.fun:
            best = found
    return feasible(best.x * scale, low, high, spend)


def _starts(
    current: np.ndarray, low: np.ndarray, high: np.ndarray, spend: float
) -> list[np.ndarray]:
    """Feasible starting points: an even split, and the current shares scaled to `spend`."""
    even = np.full(len(low), spend / len(low))
    shares = current / current.sum() * spend if current.sum() > 0 else even
    return [feasible(even, low, high, spend), feasible(shares, low, high, spend)]


def feasible(x: np.ndarray, low: np.ndarray, high: np.ndarray, spend: float) -> np.ndarray:
    """Move x into the box [low, high] with sum `spend` (water-filling on the slack)."""
    x = np.clip(x, low, high)
    for _step in range(len(x) + 1):
        gap = spend - x.sum()
        if abs(gap) < 1e-9 * max(spend, 1.0):
            break
        room = (high - x) if gap > 0 else (x - low)
        movable = room > 0
        if not movable.any():
            break
        step = np.minimum(room[movable], abs(gap) / movable.sum())
        x[movable] += np.sign(gap) * step
    return x
