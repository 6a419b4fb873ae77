"""Response curves: what a budget per month does, saturating (Hill) or linear with a cap.

A curve maps effective spend per month to an effect: prospects per day for a paid channel,
a lift in pass probability for a funnel stage, a relative lift for repeat buying and for
referrals. With carry-over (adstock) last month's effective spend still acts, decayed:
A_t = b_t + decay * A_(t-1), so a steady budget b acts as b / (1 - decay).
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field, model_validator

from hourglass.config.base import Model, NonNegativeFloat, PositiveFloat, exactly_one
from hourglass.i18n import _

Money = Annotated[float, Field(ge=0.0, le=1e12, allow_inf_nan=False)]
Decay = Annotated[float, Field(ge=0.0, lt=1.0)]
"""Share of last month's effective spend that still acts this month."""


class Hill(Model):
    """effect(A) = max_effect * A^shape / (A^shape + half_saturation^shape)."""

    max_effect: NonNegativeFloat
    half_saturation: PositiveFloat
    shape: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0


class Linear(Model):
    """effect(A) = min(cap, per_unit * A): a constant return until the cap."""

    per_unit: NonNegativeFloat
    cap: NonNegativeFloat


class Response(Model):
    """A response curve: exactly one of hill or linear."""

    hill: Hill | None = None
    linear: Linear | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Response:
        exactly_one(self, ("hill", "linear"))
        return self

    def effect(self, spend: np.ndarray | float) -> np.ndarray | float:
        """The effect of an effective spend per month."""
        a = np.maximum(np.asarray(spend, dtype=float), 0.0)
        if self.hill:
            h = self.hill
            ratio = _hill_ratio(a, h)
            # far past saturation the ratio overflows to inf: the effect is then the maximum
            with np.errstate(invalid="ignore"):
                out = np.where(np.isinf(ratio), h.max_effect, h.max_effect * ratio / (1.0 + ratio))
        else:
            out = np.minimum(self.linear.cap, self.linear.per_unit * a)
        return float(out) if out.ndim == 0 else out

    def slope(self, spend: np.ndarray | float) -> np.ndarray | float:
        """The effect of one more unit of effective spend (the curve's derivative)."""
        a = np.maximum(np.asarray(spend, dtype=float), 0.0)
        if self.hill:
            h = self.hill
            ratio = _hill_ratio(a, h)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                out = np.where(
                    (a > 0) & np.isfinite(ratio),
                    h.max_effect * h.shape * ratio / (a * (1.0 + ratio) ** 2),
                    0.0,
                )
            if h.shape < 1.0:
                out = np.where(a > 0, out, np.inf)
            elif h.shape == 1.0:
                out = np.where(a > 0, out, h.max_effect / h.half_saturation)
        else:
            lin = self.linear
            out = np.where(lin.per_unit * a < lin.cap, lin.per_unit, 0.0)
        return float(out) if np.ndim(out) == 0 else out


def _hill_ratio(spend: np.ndarray, hill: Hill) -> np.ndarray:
    """(spend / half_saturation) ^ shape; inf, without a warning, where it overflows."""
    with np.errstate(over="ignore"):
        return (spend / hill.half_saturation) ** hill.shape


Plan = Annotated[list[Money], Field(min_length=1, max_length=1200)]
"""Money month by month from the start of a run; later months keep the steady amount."""


def spend_by_month(per_month: float, plan: list[float] | None, months: int) -> np.ndarray:
    """Money spent in each of `months` months."""
    spend = np.full(months, per_month, dtype=float)
    if plan:
        given = min(months, len(plan))
        spend[:given] = plan[:given]
    return spend


def effective_spend(
    per_month: float, plan: list[float] | None, decay: float, months: int
) -> np.ndarray:
    """Effective spend in each of `months` months: A_m = b_m + decay * A_(m-1).

    Before the run the steady `per_month` was spent, so A_(-1) = per_month / (1 - decay).
    """
    spend = spend_by_month(per_month, plan, months)
    out = np.empty(months)
    carried = per_month / (1.0 - decay)
    for m in range(months):
        carried = spend[m] + decay * carried
        out[m] = carried
    return out


class Budget(Model):
    """Money per month on one lever, what it does, and how long it keeps acting."""

    per_month: Money
    response: Response
    adstock: Decay = 0.0
    plan: Plan | None = None

    def steady_effect(self, per_month: float | None = None) -> float:
        """The effect of a budget (default: `per_month`) spent month after month."""
        money = self.per_month if per_month is None else per_month
        return float(self.response.effect(money / (1.0 - self.adstock)))

    def steady_slope(self, per_month: float | None = None) -> float:
        """The effect of one more unit of money per month, spent month after month."""
        money = self.per_month if per_month is None else per_month
        return float(self.response.slope(money / (1.0 - self.adstock))) / (1.0 - self.adstock)

    def effects(self, months: int) -> np.ndarray:
        """The effect in each of `months` months, following the plan."""
        effective = effective_spend(self.per_month, self.plan, self.adstock, months)
        return np.asarray(self.response.effect(effective), dtype=float)


class SteadyBudget(Model):
    """A section whose `budget` is spent steadily, month after month.

    A plan over time is for paid channels and funnel stages. Each such section names its budget
    line.
    """

    budget_line: ClassVar[str]

    @model_validator(mode="after")
    def _steady_budget(self) -> SteadyBudget:
        budget: Budget | None = getattr(self, "budget", None)
        if budget is not None and budget.plan is not None:
            raise ValueError(
                _(
                    "budget.plan: a plan over time is for paid channels and funnel stages; "
                    "give {line} a steady per_month"
                ).format(line=self.budget_line)
            )
        return self
