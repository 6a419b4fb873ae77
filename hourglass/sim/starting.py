"""The starting customers on day 0: each one's loyalty class, purchase rate and drop-out chance.

How the scenario's `starting_customers` fields are used is in `hourglass.config.cohort`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hourglass.config.cohort import StartingCustomers
from hourglass.config.loading import ScenarioError
from hourglass.config.sections import Repeat
from hourglass.i18n import _, grouped
from hourglass.stages import ACTIVE_CLASSES, DAYS_PER_MONTH, LOYALTY_CLASSES

STARTING_STREAM = 8131
"""The child index of the starting customers' stream, so runs without them draw as before."""
SURVIVAL_ROUNDS = 64
"""Rounds of drawing BG/NBD customers until enough have survived their tenure."""
LEAST_DRAWS = 1024
"""The fewest customers drawn in a round."""
MOST_DRAWS = 1 << 22
"""The most customers drawn in a round (memory)."""


@dataclass(frozen=True)
class StartingLives:
    """Per starting customer: the loyalty class on day 0, repeat rate per day, drop-out chance."""

    classes: np.ndarray
    """Indices into LOYALTY_CLASSES."""
    rates: np.ndarray
    dropouts: np.ndarray


def class_counts(count: int, shares: dict[str, float]) -> dict[str, int]:
    """The customers in each class: the shares of `count`, rounded to add up to it.

    Largest remainders: each class gets its share rounded down, and the customers left
    over go one each to the classes whose shares lost most in rounding.
    """
    names = list(shares)
    exact = np.array([shares[n] for n in names]) * count
    whole = np.floor(exact).astype(int)
    left = count - int(whole.sum())
    whole[np.argsort(-(exact - whole), kind="stable")[:left]] += 1
    return dict(zip(names, whole.tolist(), strict=True))


def starting_lives(
    starting: StartingCustomers,
    start_class: str,
    repeat: Repeat | None,
    boost: float,
    rng: np.random.Generator,
) -> StartingLives:
    """Draw the starting customers' states on day 0 from what the scenario says of them.

    `boost` multiplies purchase rates (the repeat budget's lift), as for new customers.
    """
    n, tenure = starting.count, starting.months_as_customers * DAYS_PER_MONTH
    if starting.by_class is None:
        rates, dropouts = _prior(repeat, boost, n, rng)
        # each one's past: still buying unless a repeat purchase ended in a drop-out
        alive = rng.random(n) < np.exp(-rates * dropouts * tenure)
        codes = np.where(
            alive, LOYALTY_CLASSES.index(start_class), LOYALTY_CLASSES.index("temporarily_lost")
        )
        return StartingLives(codes, rates, dropouts)
    counts = class_counts(n, starting.by_class)
    codes = np.repeat([LOYALTY_CLASSES.index(c) for c in counts], list(counts.values()))
    buying = np.isin(np.asarray(LOYALTY_CLASSES)[codes], list(ACTIVE_CLASSES))
    rates, dropouts = _prior(repeat, boost, n, rng)
    if repeat is not None and repeat.bgnbd is not None and tenure > 0:
        rates[buying], dropouts[buying] = _survivors(
            repeat, boost, int(buying.sum()), tenure, rng, starting.months_as_customers
        )
    return StartingLives(codes, rates, dropouts)


def _prior(
    repeat: Repeat | None, boost: float, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Purchase rates per day and drop-out chances of `n` new customers."""
    if repeat is None:
        return np.zeros(n), np.zeros(n)
    if repeat.simple is not None:
        rate = repeat.simple.purchases_per_month / DAYS_PER_MONTH * boost
        return np.full(n, rate), np.full(n, repeat.simple.dropout_prob)
    g = repeat.bgnbd
    return rng.gamma(g.r, boost / g.alpha / g.period_days, n), rng.beta(g.a, g.b, n)


def _survivors(
    repeat: Repeat, boost: float, n: int, days: float, rng: np.random.Generator, months: float
) -> tuple[np.ndarray, np.ndarray]:
    """BG/NBD rates and drop-out chances of `n` customers who bought `days` without dropping out.

    Drawn by rejection: a new customer's (lambda, p) is kept with its chance e^(-lambda p days)
    of having gone that long without a drop-out; each round draws enough for those still
    missing at the share kept so far.
    """
    rates, dropouts = np.empty(0), np.empty(0)
    drawn = 0
    for _round in range(SURVIVAL_ROUNDS):
        if len(rates) >= n:
            return rates[:n], dropouts[:n]
        kept_share = len(rates) / drawn if len(rates) else 1.0 / max(drawn, 1)
        size = int(min(MOST_DRAWS, max(LEAST_DRAWS, 2 * (n - len(rates)) / kept_share)))
        lam, p = _prior(repeat, boost, size, rng)
        kept = rng.random(size) < np.exp(-lam * p * days)
        rates, dropouts = np.concatenate([rates, lam[kept]]), np.concatenate([dropouts, p[kept]])
        drawn += size
    if len(rates) >= n:
        return rates[:n], dropouts[:n]
    raise ScenarioError(
        _(
            "starting_customers.months_as_customers: under after_sale.repeat.bgnbd "
            "fewer than 1 in {least} customers go {months} months without dropping "
            "out, too few to stand for those still buying; give a shorter time"
        ).format(least=grouped(drawn // max(len(rates), 1)), months=f"{months:g}")
    )
