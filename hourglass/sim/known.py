"""Known customers who join a run at its start, each conditioned on their own purchases so far.

BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way"): a customer buys
at rate lambda ~ Gamma(r, alpha) while alive and, after each repeat purchase, drops out with
chance p ~ Beta(a, b). Given x repeat purchases, the last at t_x, seen to age T, the
likelihood is

    L(lambda, p) = (1 - p)^x lambda^x e^(-lambda T)                  (alive at T)
                 + [x > 0] p (1 - p)^(x - 1) lambda^x e^(-lambda t_x)  (dropped out at t_x)

(their eq. 3). The share of the posterior in the first term is P(alive | x, t_x, T)

    1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))

(eq. 13 of Fader, Hardie and Lee's note "Computing P(alive) using the BG/NBD model"), and
within it the prior times (1 - p)^x lambda^x e^(-lambda T) factors into lambda ~
Gamma(r + x, alpha + T) (rate) and p ~ Beta(a, b + x), independent. A customer alive at T
buys on from there as a new one would with those draws (the clocks are memoryless), so a
run started at T from these draws gives eq. 10's conditional expectation E[Y(t) | x, t_x, T].

A `simple` repeat model (every customer's rate and drop-out the same) has P(alive) =
1 / (1 + [x > 0] p / (1 - p) e^(lambda (T - t_x))) and nothing else to draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hourglass.config.sections import Repeat
from hourglass.stages import DAYS_PER_MONTH

KNOWN_STREAM = 8117
"""The child index of the known customers' stream, far from the others: runs without known
customers draw as before."""


@dataclass(frozen=True)
class KnownCustomers:
    """Customers with a purchase history who join on day 0 of a run, outside the funnel.

    Per customer: repeat purchases `x`, the days from the first purchase to the last
    (`t_x`) and to day 0 (`age`). `repeat` is their repeat model; `order_value` (an amount
    spec) prices their purchases instead of the scenario's when given.
    """

    x: np.ndarray
    t_x: np.ndarray
    age: np.ndarray
    repeat: Repeat
    order_value: object | None = None

    def __len__(self) -> int:
        return len(self.x)

    def alive_prob(self) -> np.ndarray:
        """P(alive | x, t_x, T) per customer."""
        x, t_x, age = (np.asarray(v, float) for v in (self.x, self.t_x, self.age))
        g = self.repeat.bgnbd
        if g is not None:
            period = g.period_days
            odds = (
                g.a
                / np.maximum(g.b + x - 1.0, 1e-300)
                * np.exp(
                    (g.r + x) * (np.log(g.alpha + age / period) - np.log(g.alpha + t_x / period))
                )
            )
        else:
            simple = self.repeat.simple
            rate = simple.purchases_per_month / DAYS_PER_MONTH
            p = simple.dropout_prob
            with np.errstate(divide="ignore", over="ignore"):
                odds = (p / (1.0 - p) if p < 1.0 else np.inf) * np.exp(rate * (age - t_x))
        with np.errstate(over="ignore", invalid="ignore"):
            return np.where(x > 0, 1.0 / (1.0 + odds), 1.0)

    def lives(self, rng: np.random.Generator, boost: float = 1.0) -> tuple[np.ndarray, ...]:
        """Per customer: alive at day 0, purchase rate per day (times `boost`), drop-out chance.

        Each customer takes the row of three uniforms at their place, turned into draws by the
        inverse distribution functions: one customer's luck does not hang on another's.
        """
        from scipy import special  # only runs with known customers pay for loading SciPy

        u = rng.random((len(self), 3))
        alive = u[:, 0] < self.alive_prob()
        g = self.repeat.bgnbd
        if g is None:
            simple = self.repeat.simple
            rate = np.full(len(self), simple.purchases_per_month / DAYS_PER_MONTH)
            return alive, rate * boost, np.full(len(self), simple.dropout_prob)
        x = np.asarray(self.x, float)
        per_period = special.gammaincinv(g.r + x, u[:, 1]) / (g.alpha + self.age / g.period_days)
        dropout = special.betaincinv(g.a, g.b + x, u[:, 2])
        return alive, per_period / g.period_days * boost, dropout
