"""The service ladder: land with one service, then expand level by level (land and expand).

A customer's service level follows a continuous-time Markov chain: from each level it may
move one step up or one step down, or leave the service, each on its own exponential
clock. A level brings its value per month (recurring revenue) and costs its cost to serve
per month, for as long as the customer holds it:

    service_ladder:
      levels:
        - {name: audit, value_per_month: 200, cost_to_serve_per_month: 50}
        - {name: full_partnership, value_per_month: 3000, cost_to_serve_per_month: 2600}
      upgrade_per_month: [0.1]
      downgrade_per_month: [0.02]
      churn_per_month: [0.05, 0.01]
      start: audit
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field, model_validator

from hourglass.config.base import Model, NonNegativeFloat, did_you_mean
from hourglass.config.loading import NAME_PATTERN
from hourglass.config.response import Budget, SteadyBudget
from hourglass.stages import DAYS_PER_MONTH

LevelName = Annotated[str, Field(pattern=NAME_PATTERN, max_length=40)]
Rate = Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]
"""Moves per customer and month."""

MAX_LEVELS = 10


class Level(Model):
    """One step of the ladder: what it brings and what it costs, per customer and month."""

    name: LevelName
    value_per_month: NonNegativeFloat
    cost_to_serve_per_month: NonNegativeFloat = 0.0


class ServiceLadder(SteadyBudget):
    """Service levels from one specialised service up to a full partnership.

    `upgrade_per_month[i]` moves a customer from level i to i + 1, `downgrade_per_month[i]`
    from level i + 1 to i; `churn_per_month[i]` (optional) ends the service from level i.
    Account-management effort is the budget line `expand`: its response curve's effect e
    multiplies every upgrade rate by 1 + e (0.5: half as many upgrades again). Account
    managers (a sales team's seller stage) may take this place later.
    """

    budget_line = "expand"

    levels: Annotated[list[Level], Field(min_length=2, max_length=MAX_LEVELS)]
    upgrade_per_month: list[Rate]
    downgrade_per_month: list[Rate] = []
    churn_per_month: list[Rate] = []
    start: LevelName | None = None
    """The level new buyers start at; the first (lowest) one when not given."""
    budget: Budget | None = None
    """Money on account management; its effect lifts the upgrade rates (0.2: 20% more)."""

    @model_validator(mode="after")
    def _fits_the_levels(self) -> ServiceLadder:
        names = self.names
        twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
        if twice:
            raise ValueError(f"levels: '{twice}' is named twice")
        steps = len(names) - 1
        for field, rates, want in (
            ("upgrade_per_month", self.upgrade_per_month, steps),
            ("downgrade_per_month", self.downgrade_per_month, steps),
            ("churn_per_month", self.churn_per_month, len(names)),
        ):
            required = field == "upgrade_per_month"
            if (rates or required) and len(rates) != want:
                raise ValueError(
                    f"{field}: give {want} rates (one per "
                    f"{'step between neighbouring levels' if want == steps else 'level'}), "
                    f"got {len(rates)}"
                )
        if self.start is not None and self.start not in names:
            raise ValueError(
                f"start: '{self.start}' is not a level{did_you_mean(self.start, names)} "
                f"(levels: {', '.join(names)})"
            )
        return self

    @property
    def names(self) -> list[str]:
        """The levels' names, lowest first."""
        return [level.name for level in self.levels]

    @property
    def start_index(self) -> int:
        """The index of the level new buyers start at."""
        return self.names.index(self.start) if self.start else 0

    def upgrade_factor(self) -> float:
        """What account-management money multiplies the upgrade rates by (1 without a budget)."""
        return 1.0 + (self.budget.steady_effect() if self.budget else 0.0)

    def generator(self, factor: float | None = None) -> np.ndarray:
        """The chain's generator matrix Q per day: the levels, then `left` (absorbing) last.

        Row i holds the rates out of level i off the diagonal and minus their sum on it.
        `factor` multiplies the upgrade rates instead of this ladder's own budget's (a
        segment's ladder climbs with the scenario's account management).
        """
        n = len(self.levels)
        q = np.zeros((n + 1, n + 1))
        lift = self.upgrade_factor() if factor is None else factor
        up = np.asarray(self.upgrade_per_month, dtype=float) * lift
        q[np.arange(n - 1), np.arange(1, n)] = up
        if self.downgrade_per_month:
            q[np.arange(1, n), np.arange(n - 1)] = self.downgrade_per_month
        if self.churn_per_month:
            q[np.arange(n), n] = self.churn_per_month
        q /= DAYS_PER_MONTH
        np.fill_diagonal(q, -q.sum(axis=1))
        return q
