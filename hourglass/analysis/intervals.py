"""Estimates with their 95% intervals: the shape every interval in the results takes."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""


@dataclass(frozen=True)
class Estimate:
    """A fitted number and its 95% interval."""

    value: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        """Value and interval as plain numbers."""
        return {"value": self.value, "low": self.low, "high": self.high}


def wilson(hits: int, n: int) -> Estimate:
    """A proportion with its 95% Wilson score interval."""
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan)
    return wilson_score(hits / n, n)


def wilson_score(p: float, n: float) -> Estimate:
    """The 95% Wilson score interval around a proportion `p` estimated from `n` cases.

    Unlike p ± z se it stays honest at small n and at 0 or 1: 3 of 3 gives 0.44 to 1.
    """
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half))
