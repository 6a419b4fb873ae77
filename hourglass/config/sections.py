"""A scenario's sections: channels, market, stages, sales, after the sale, referral, committee."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from hourglass.config.base import (
    Model,
    NonNegativeFloat,
    PositiveFloat,
    Probability,
    did_you_mean,
    exactly_one,
)
from hourglass.config.distributions import Amount, Duration, UncertainProbability
from hourglass.config.ladder import ServiceLadder
from hourglass.config.loading import NAME_PATTERN
from hourglass.config.response import (
    Budget,
    Decay,
    Plan,
    Response,
    SteadyBudget,
    effective_spend,
    spend_by_month,
)
from hourglass.config.sales import Sales as Sales
from hourglass.config.sellers import (
    MAX_SELLERS as MAX_SELLERS,
)
from hourglass.i18n import _, grouped
from hourglass.stages import (
    ACTIVE_CLASSES,
    DAYS_PER_MONTH,
    DISQUALIFIED,
    HOURGLASS,
    REFUSED_BY,
    WENT_COLD,
    LoyaltyClass,
    SellerStageName,
    StageName,
)

MAX_MARKET = 500_000_000
"""Largest addressable market: the engine keeps one bit per person."""

Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=40)]
Reason = Annotated[str, Field(pattern=NAME_PATTERN, max_length=40)]
Multiplier = Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)]
MonthlyRate = Annotated[float, Field(ge=0.0, le=1000.0, allow_inf_nan=False)]

MAX_PROSPECTS_PER_DAY = 1_000_000
"""A bound on each channel's daily contacts: beyond it a run would not fit in memory."""


class PaidChannel(Model):
    """A paid channel: money buys contacts, at a cost per prospect or along a response curve.

    A response curve gives prospects per day for the effective budget per month (with
    carry-over `adstock`, a steady budget b acts as b / (1 - adstock)).
    """

    budget_per_month: NonNegativeFloat
    cost_per_prospect: PositiveFloat | None = None
    response: Response | None = None
    adstock: Decay = 0.0
    plan: Plan | None = None
    """Money month by month from the start; later months keep budget_per_month."""

    @model_validator(mode="after")
    def _affordable_volume(self) -> PaidChannel:
        exactly_one(self, ("cost_per_prospect", "response"))
        most = max(self.reach_by_month(len(self.plan) + 1 if self.plan else 1))
        if most > MAX_PROSPECTS_PER_DAY:
            raise ValueError(
                _(
                    "buys {count} prospects a day; at most {limit} "
                    "(raise cost_per_prospect or lower the budget)"
                ).format(count=grouped(most), limit=grouped(MAX_PROSPECTS_PER_DAY))
            )
        return self

    @property
    def prospects_per_day(self) -> float:
        """Contacts bought per day at the steady budget."""
        return self.reach(self.budget_per_month)

    def reach_by_month(self, months: int) -> list[float]:
        """Contacts bought per day in each of `months` months, following the plan."""
        if self.response is None:
            spend = spend_by_month(self.budget_per_month, self.plan, months)
            return (spend / DAYS_PER_MONTH / self.cost_per_prospect).tolist()
        acting = effective_spend(self.budget_per_month, self.plan, self.adstock, months)
        return np.asarray(self.response.effect(acting), dtype=float).tolist()

    def reach(self, budget_per_month: float) -> float:
        """Contacts per day that a steady budget per month buys."""
        if self.response is not None:
            return float(self.response.effect(budget_per_month / (1.0 - self.adstock)))
        return budget_per_month / DAYS_PER_MONTH / self.cost_per_prospect


class Organic(Model):
    """Organic arrivals: search, word of the street, walk-ins; free."""

    prospects_per_day: Annotated[float, Field(ge=0.0, le=MAX_PROSPECTS_PER_DAY)]


class Channels(Model):
    """Where outside prospects come from (referrals are set under `referral`)."""

    paid: Annotated[dict[Name, PaidChannel], Field(max_length=100)] = {}
    organic: Organic | None = None

    @field_validator("paid")
    @classmethod
    def _reserved_names(cls, paid: dict[str, PaidChannel]) -> dict[str, PaidChannel]:
        clash = sorted(set(paid) & {"organic", "referral", *HOURGLASS})
        if clash:
            raise ValueError(
                _(
                    "'{name}' is a reserved name (a channel or a stage); call the paid one else"
                ).format(name=clash[0])
            )
        return paid


class Market(Model):
    """The addressable market; leave `size` out for an unlimited one."""

    size: Annotated[int, Field(ge=1, le=MAX_MARKET)] | None = None


SHARES_TOLERANCE = 1e-6
"""How far shares written to 6 decimals may add up from 1."""


class Stage(Model):
    """One customer stage: who passes, how long they stay, why the others leave.

    `pass_prob` is a number, or a probability known within bounds (`UncertainProbability`):
    then `pass_prob` holds its mean and `pass_prob_interval` the distribution each
    replication draws it from.
    """

    pass_prob: Probability
    duration: Duration = Duration(exponential={"mean_days": 1.0})
    loss_reasons: Annotated[dict[Reason, PositiveFloat], Field(max_length=20)] | None = None
    budget: Budget | None = None
    """Money on the stage's levers; its effect is added to pass_prob (at most 1)."""
    _interval: UncertainProbability | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _uncertain_pass_prob(cls, data: Any, handler: ModelWrapValidatorHandler[Stage]) -> Stage:
        given = data.get("pass_prob") if isinstance(data, dict) else None
        if not isinstance(given, dict):
            return handler(data)
        try:
            interval = UncertainProbability.model_validate(given)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(["pass_prob", *map(str, first["loc"])])
            raise ValueError(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None
        stage = handler({**data, "pass_prob": interval.expected})
        stage._interval = interval
        return stage

    @model_serializer(mode="wrap")
    def _write_interval(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if self._interval is not None and data.get("pass_prob") == self.pass_prob:
            data["pass_prob"] = self._interval.to_data()
        return data

    @property
    def pass_prob_interval(self) -> UncertainProbability | None:
        """The distribution of a pass probability given with bounds (None: a plain number)."""
        return self._interval

    @field_validator("loss_reasons")
    @classmethod
    def _own_reasons(cls, reasons: dict[str, float] | None) -> dict[str, float] | None:
        taken = sorted(set(reasons or {}) & {WENT_COLD, DISQUALIFIED})
        taken += [r for r in reasons or {} if r.startswith(REFUSED_BY)]
        if taken:
            raise ValueError(
                _("'{reason}' is a reserved loss reason; name it else").format(reason=taken[0])
            )
        total = sum((reasons or {}).values())
        if reasons and abs(total - 1.0) > SHARES_TOLERANCE:
            raise ValueError(
                _(
                    "the shares add up to {total}, not 1; give each reason's share of the "
                    "stage's losses (e.g. price: 0.5, timing: 0.5)"
                ).format(total=f"{total:.9g}")
            )
        return reasons


class Stages(Model):
    """The funnel stages know, like, trust, try, buy."""

    know: Stage
    like: Stage
    trust: Stage
    try_: Stage = Field(alias="try")
    buy: Stage

    def __getitem__(self, name: str) -> Stage:
        return getattr(self, "try_" if name == "try" else name)


class BGNBD(Model):
    """Buy-till-you-die (BG/NBD): purchase rate ~ Gamma(r, alpha), drop-out ~ Beta(a, b)."""

    r: Annotated[float, Field(ge=1e-3, le=1e3)]
    alpha: Annotated[float, Field(ge=1e-3, le=1e6)]
    a: Annotated[float, Field(ge=1e-3, le=1e6)]
    b: Annotated[float, Field(ge=1e-3, le=1e6)]
    period_days: Annotated[float, Field(ge=0.01, le=3650.0)] = 7.0

    @model_validator(mode="after")
    def _plausible_rate(self) -> BGNBD:
        per_month = self.r / self.alpha / self.period_days * DAYS_PER_MONTH
        if per_month > 1000.0:
            raise ValueError(
                _("a mean of {count} purchases a month; at most {limit}").format(
                    count=grouped(per_month), limit=grouped(1000)
                )
            )
        return self


class SimpleRepeat(Model):
    """The same repeat rate and drop-out chance for every customer."""

    purchases_per_month: MonthlyRate
    dropout_prob: Probability


class Repeat(Model):
    """Repeat purchases: `bgnbd` parameters or a `simple` rate."""

    bgnbd: BGNBD | None = None
    simple: SimpleRepeat | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Repeat:
        exactly_one(self, ("bgnbd", "simple"))
        return self


class Offer(Model):
    """An offer made at a repeat purchase, and what it does to the order's value."""

    prob: Probability
    value_factor: Multiplier


class Offers(Model):
    """Upsell (a bigger order), cross-sell (an add-on), down-sell (a smaller order)."""

    upsell: Offer | None = None
    cross_sell: Offer | None = None
    down_sell: Offer | None = None

    @model_validator(mode="after")
    def _at_most_one_offer(self) -> Offers:
        total = sum(o.prob for o in (self.upsell, self.cross_sell, self.down_sell) if o)
        if total > 1.0:
            raise ValueError(
                _("offer probabilities add up to {total}; at most 1").format(total=f"{total:g}")
            )
        return self


class Loyalty(Model):
    """Loyalty classes after the sale: where a new customer starts and the monthly moves."""

    start: LoyaltyClass = "one_time"
    transitions_per_month: dict[LoyaltyClass, dict[LoyaltyClass, MonthlyRate]] = {}

    @field_validator("start")
    @classmethod
    def _start_active(cls, start: str) -> str:
        if start not in ACTIVE_CLASSES:
            raise ValueError(_("a new customer cannot start as '{start}'").format(start=start))
        return start

    @field_validator("transitions_per_month")
    @classmethod
    def _no_self_loops(cls, moves: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for source, targets in moves.items():
            if source in targets:
                raise ValueError(_("'{source}' cannot move to itself").format(source=source))
        return moves


class AfterSale(SteadyBudget):
    """What happens after the first purchase."""

    budget_line = "repeat"

    order_value: Amount
    margin: Probability = 1.0
    repeat: Repeat | None = None
    offers: Offers = Offers()
    loyalty: Loyalty = Loyalty()
    cost_to_serve_per_month: NonNegativeFloat = 0.0
    """What each active customer costs per month (service, loyalty programme upkeep)."""
    budget: Budget | None = None
    """Money on repeat-sales levers; its effect lifts the repeat rate (0.2: 20% more)."""
    service_ladder: ServiceLadder | None = None
    """Service levels a customer climbs after the first purchase (land and expand)."""


class Referral(SteadyBudget):
    """Word of mouth: advocates contact the market; won contacts arrive warmer."""

    budget_line = "refer"

    contacts_per_month: dict[LoyaltyClass, MonthlyRate] = {}
    win_prob: Probability
    delay: Duration = Duration(fixed={"days": 0.0})
    boost: dict[StageName, Multiplier] = {}
    bonus: NonNegativeFloat = 0.0
    antagonist_drag: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    budget: Budget | None = None
    """Money on word-of-mouth levers; its effect lifts the contact rates (0.2: 20% more)."""


MAX_ROLE_PEOPLE = 50.0
"""The most people a committee role may hold on average."""


class Role(Model):
    """One role in a B2B buying centre: who holds it, how they answer, how long each takes.

    How many people hold it, how likely each agrees, how much a refusal counts, and how long each
    agreement takes.

    Each deal draws 1 + Poisson(people - 1) people for the role; they are asked one after
    another. A refusal ends the deal with chance `weight` (1: a veto); otherwise the others
    overrule it and the deal goes on. Seller work on the stages in `reached_by` adds its lift
    to `approval` (at most 1).
    """

    people: Annotated[float, Field(ge=1.0, le=MAX_ROLE_PEOPLE, allow_inf_nan=False)] = 1.0
    approval: Probability
    weight: Probability = 1.0
    delay: Duration = Duration(fixed={"days": 0.0})
    reached_by: dict[SellerStageName, Probability] = {}


class Committee(Model):
    """B2B mode: a deal that passes `stage` still needs its buying centre's agreements.

    They are asked in the order its channel sets (`default` for channels not named).
    """

    stage: StageName = "buy"
    roles: Annotated[dict[Name, Role], Field(min_length=1, max_length=20)]
    order: Annotated[dict[Name, list[Name]], Field(min_length=1)]

    @model_validator(mode="after")
    def _orders_name_roles(self) -> Committee:
        if "default" not in self.order:
            raise ValueError(_("order: give a 'default' order (for channels not named)"))
        roles = list(self.roles)
        for channel, sequence in self.order.items():
            if not sequence:
                raise ValueError(
                    _("order.{channel}: name at least one role").format(channel=channel)
                )
            for role in sequence:
                if role not in self.roles:
                    hint = did_you_mean(role, roles)
                    raise ValueError(
                        _("order.{channel}: '{role}' is not a role{hint} (roles: {roles})").format(
                            channel=channel, role=role, hint=hint, roles=", ".join(roles)
                        )
                    )
            twice = next((r for i, r in enumerate(sequence) if r in sequence[:i]), None)
            if twice:
                raise ValueError(
                    _("order.{channel}: role '{role}' is named twice").format(
                        channel=channel, role=twice
                    )
                )
        unasked = [r for r in roles if not any(r in seq for seq in self.order.values())]
        if unasked:
            raise ValueError(
                _("roles.{role}: asked in no order; add it to one or drop it").format(
                    role=unasked[0]
                )
            )
        return self

    def sequence(self, channel: str) -> list[str]:
        """The roles asked, in order, for a deal from `channel`."""
        return self.order.get(channel, self.order["default"])

    def agreement_prob(self, role: str, worked: set[str]) -> float:
        """A person's chance to agree, with the lifts of the seller stages in `worked`."""
        r = self.roles[role]
        return min(1.0, r.approval + sum(v for k, v in r.reached_by.items() if k in worked))
