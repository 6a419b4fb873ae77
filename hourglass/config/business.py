"""A scenario from a few plain answers about a business, for people who write no YAML.

The answers (`Business`) are turned into a scenario's data and validated by `Scenario`
itself, so a value out of range is refused with the field it went to.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, field
from typing import Any

from hourglass.config.scenario import Scenario, parse_scenario
from hourglass.stages import ACTIVE_CLASSES, DAYS_PER_MONTH, FUNNEL


def days_in_months(start: datetime.date, months: int) -> int:
    """Days from `start` to the same day `months` calendar months later (or the month's last)."""
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return (datetime.date(year, month + 1, day) - start).days


@dataclass(frozen=True)
class PaidLine:
    """A paid channel: its name, money per month, and what its money buys.

    With `most_prospects_per_month` the channel's reach saturates (a Hill curve): the budget
    `half_reach_budget` buys half of that most, and twice the money never buys twice the
    prospects. Without it each prospect costs `cost_per_prospect`.
    """

    name: str
    budget_per_month: float
    cost_per_prospect: float
    most_prospects_per_month: float = 0.0
    """The most prospects a month any budget buys; 0: no ceiling (a cost per prospect)."""
    half_reach_budget: float = 0.0
    """The money a month that buys half of `most_prospects_per_month`."""

    def to_data(self) -> dict[str, Any]:
        """The channel as a scenario file holds it: a cost per prospect or a response curve."""
        data: dict[str, Any] = {"budget_per_month": self.budget_per_month}
        if self.most_prospects_per_month > 0:
            data["response"] = {
                "hill": {
                    "max_effect": self.most_prospects_per_month / DAYS_PER_MONTH,
                    "half_saturation": self.half_reach_budget,
                }
            }
        else:
            data["cost_per_prospect"] = self.cost_per_prospect
        return data


@dataclass(frozen=True)
class Step:
    """A funnel stage: the share who pass it and the mean days spent in it."""

    pass_rate: float
    mean_days: float


DEFAULT_STEPS = {
    "know": Step(0.6, 2.0),
    "like": Step(0.5, 4.0),
    "trust": Step(0.5, 6.0),
    "try": Step(0.5, 1.0),
    "buy": Step(0.7, 1.0),
}


@dataclass(frozen=True)
class Business:
    """What a business owner knows: channels, stages, sellers, orders, repeats, referrals."""

    name: str = "my_business"
    start_date: datetime.date | None = None
    months: int = 12
    market_size: int = 200_000
    paid: tuple[PaidLine, ...] = (PaidLine("ads", 5000.0, 2.5),)
    organic_per_month: float = 300.0
    """Free prospects a month: search, walk-ins, the street."""
    steps: dict[str, Step] = field(default_factory=lambda: dict(DEFAULT_STEPS))
    sellers: int = 4
    """Sellers who run demos and close; 0: no sales team."""
    cost_per_seller_per_month: float = 2500.0
    order_value: float = 120.0
    margin: float = 0.5
    repeats_per_month: float = 0.3
    dropout_prob: float = 0.1
    """The chance a customer stops buying after each repeat purchase."""
    referral_contacts_per_month: float = 0.3
    """People a customer tells about the business a month."""
    referral_win_prob: float = 0.2
    """The share of those told who come to look."""
    starting_customers: int = 0
    """Customers the business already has on the start date; 0: none."""
    months_as_customers: float = 0.0
    """How long they have been customers; those who stopped buying in that time start lapsed."""

    def to_data(self) -> dict[str, Any]:
        """The scenario's plain data, as a scenario file would hold it."""
        data: dict[str, Any] = {
            "name": self.name,
            "horizon_days": float(self.horizon_days),
            "market": {"size": self.market_size},
            "channels": {
                "paid": {line.name: line.to_data() for line in self.paid},
                "organic": {"prospects_per_day": self.organic_per_month / DAYS_PER_MONTH},
            },
            "stages": {
                stage: {
                    "pass_prob": self.steps[stage].pass_rate,
                    "duration": {"exponential": {"mean_days": self.steps[stage].mean_days}},
                }
                for stage in FUNNEL
            },
            "after_sale": {
                "order_value": {"fixed": {"value": self.order_value}},
                "margin": self.margin,
                "repeat": {
                    "simple": {
                        "purchases_per_month": self.repeats_per_month,
                        "dropout_prob": self.dropout_prob,
                    }
                },
            },
            "referral": {
                "contacts_per_month": dict.fromkeys(
                    sorted(ACTIVE_CLASSES), self.referral_contacts_per_month
                ),
                "win_prob": self.referral_win_prob,
            },
        }
        if self.start_date is not None:
            data["start_date"] = self.start_date.isoformat()
        if self.starting_customers:
            data["starting_customers"] = {"count": self.starting_customers}
            if self.months_as_customers:
                data["starting_customers"]["months_as_customers"] = self.months_as_customers
        if self.sellers:
            data["sales"] = {
                "sellers": self.sellers,
                "cost_per_seller_per_month": self.cost_per_seller_per_month,
            }
        return data

    @property
    def horizon_days(self) -> int:
        """Days in the business's months, from its start date (else of average length)."""
        if self.start_date is None:
            return round(self.months * DAYS_PER_MONTH)
        return days_in_months(self.start_date, self.months)

    def to_scenario(self, source: str = "the form") -> Scenario:
        """The scenario, validated; a ScenarioError names the field a wrong value went to."""
        return parse_scenario(self.to_data(), source=source, files=False)
