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
from hourglass.config.follow_up import FollowUp
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
from hourglass.config.sellers import (
    MAX_SELLERS as MAX_SELLERS,
)
from hourglass.config.sellers import (
    Headcount,
    LeadsAtOnce,
    Qualification,
    Routing,
    SalesRole,
    SpeedToLead,
    check_roles_form,
)
from hourglass.i18n import _, grouped
from hourglass.stages import (
    ACTIVE_CLASSES,
    DAYS_PER_MONTH,
    DISQUALIFIED,
    HOURGLASS,
    REFUSED_BY,
    SELLER_STAGES,
    WENT_COLD,
    LoyaltyClass,
    SellerStageName,
    StageName,
)

DEFAULT_SELLER_STAGES = ("define", "deliver")
"""The stages a team of the old form works unless it lists its own."""

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


class Sales(Model):
    """The sales team: sellers work beside the customer stages listed in `stages`.

    A seller carries up to `leads_per_seller` leads at once (B2B deals run side by side);
    a worked stage's duration is the time a lead holds one of those places. The team is
    either one role of `sellers` alike, or people in `roles` (see `config.sellers`).
    """

    sellers: Headcount | None = None
    leads_per_seller: LeadsAtOnce | None = None
    stages: list[SellerStageName] | None = None
    patience: Duration | None = None
    skill: dict[SellerStageName, Multiplier] = {}
    qualification: Qualification | None = None
    cost_per_seller_per_month: NonNegativeFloat | None = None
    roles: dict[Name, SalesRole] | None = None
    routing: Routing = "first_free"
    speed_to_lead: SpeedToLead | None = None
    follow_up: FollowUp | None = None

    @field_validator("stages")
    @classmethod
    def _presale_once(cls, stages: list[str] | None) -> list[str] | None:
        if stages is None:
            return stages
        if len(set(stages)) != len(stages):
            raise ValueError("a seller stage is listed twice")
        late = [s for s in stages if s in ("measure", "engage")]
        if late:
            raise ValueError(
                f"'{late[0]}' takes no seller time here; set its effect under sales.skill"
            )
        return stages

    @model_validator(mode="after")
    def _one_team(self) -> Sales:
        if self.roles is None:
            if self.sellers is None:
                raise ValueError(_("give sales.sellers (one role of alike sellers) or sales.roles"))
        else:
            check_roles_form(self)
        self._check_follow_up()
        worked = self.worked_stages
        idle = [s for s in self.skill if s not in worked and s not in ("measure", "engage")]
        if idle:
            raise ValueError(
                f"skill for '{idle[0]}', but the team does not work it: add it to sales.stages"
            )
        return self

    def _check_follow_up(self) -> None:
        """The follow-up's role is a role of `roles` that works `measure`, and only it does."""
        roles, follow_up = self.roles or {}, self.follow_up
        measuring = [name for name, role in roles.items() if "measure" in role.stages]
        if follow_up is None:
            if measuring:
                raise ValueError(
                    _(
                        "roles.{role}.stages: 'measure' is the follow-up after a sale; "
                        "add sales.follow_up with role: {role}"
                    ).format(role=measuring[0])
                )
            return
        if follow_up.role not in roles:
            raise ValueError(
                _("follow_up.role: there is no role '{role}' under sales.roles{hint}").format(
                    role=follow_up.role, hint=did_you_mean(follow_up.role, list(roles))
                )
            )
        role = roles[follow_up.role]
        if "measure" not in role.stages:
            raise ValueError(
                _("roles.{role}.stages: add 'measure'; the follow-up is its work").format(
                    role=follow_up.role
                )
            )
        if "measure" in role.skill or any("measure" in s.skill for s in role.sellers):
            raise ValueError(
                _(
                    "roles.{role}: a follow-up's effect is follow_up.repeat_prob; a multiplier "
                    "on every customer's repeat rate stays under sales.skill"
                ).format(role=follow_up.role)
            )

    @property
    def team(self) -> dict[str, SalesRole]:
        """The roles by name; the old form is one role, "seller"."""
        if self.roles is not None:
            return self.roles
        one = SalesRole(
            headcount=self.sellers,
            leads_per_seller=self.leads_per_seller or 1,
            stages=self.worked_stages,
            skill={s: m for s, m in self.skill.items() if s not in ("measure", "engage")},
            cost_per_month=self.cost_per_seller_per_month or 0.0,
        )
        return {"seller": one}

    @property
    def worked_stages(self) -> list[str]:
        """The seller stages the team works, in the hourglass's order."""
        if self.roles is None:
            return list(self.stages if self.stages is not None else DEFAULT_SELLER_STAGES)
        worked = {s for role in self.roles.values() for s in role.stages} - {"measure"}
        return [s for s in SELLER_STAGES if s in worked]

    @property
    def stage_skill(self) -> dict[str, float]:
        """The whole team's multiplier per seller stage, the roles' own included."""
        merged = dict(self.skill)
        for role in (self.roles or {}).values():
            merged.update(role.skill)
        return merged

    @property
    def headcount(self) -> int:
        """Sellers in the team, all roles together."""
        if self.roles is None:
            return self.sellers
        return sum(role.headcount for role in self.roles.values())

    @property
    def seats(self) -> int:
        """Leads the team can hold at once, all roles together."""
        if self.roles is None:
            return self.sellers * (self.leads_per_seller or 1)
        return sum(role.headcount * role.leads_per_seller for role in self.roles.values())

    @property
    def pay_per_month(self) -> float:
        """What the team costs per month, all roles together."""
        if self.roles is None:
            return self.sellers * (self.cost_per_seller_per_month or 0.0)
        return sum(role.headcount * role.cost_per_month for role in self.roles.values())


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
