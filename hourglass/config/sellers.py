"""The sales team as people: roles, their sellers, how leads are routed, and speed to lead.

A scenario's `sales.roles` names the roles, for example SDRs who qualify and account
executives who close:

    sales:
      routing: by_skill
      speed_to_lead: {exponential: {half_life_hours: 2}}
      roles:
        sdr: {headcount: 4, stages: [design], batch_days: 1,
              qualification: {share: 0.6, duration: {fixed: {days: 0.02}}}}
        ae:
          headcount: 2
          stages: [define, deliver]
          sellers: [{name: Anna, skill: {define: 1.3}}, {name: Boris, skill: {define: 0.9}}]

The old form (`sales.sellers`, `leads_per_seller`, `stages`, `skill`) is one role.

A role's team may change over the run: `hiring` adds (or, negative, lets go) people at the
start of a month counted from the scenario's start, the latest hired leaving first; new
hires work at `ramp[m]` of full speed in their month m of tenure (their time per lead is
divided by it); `attrition_per_year` makes each seller leave at that yearly rate, their
seat empty for `replacement_days` before a new hire takes it; `vacation_days_per_year`
keeps each seller away in blocks of at most `VACATION_BLOCK_DAYS` days, one block in each
equal part of every year, starting at random in it. Pay follows the people on the payroll.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from hourglass.config.base import Model, NonNegativeFloat, PositiveFloat, exactly_one
from hourglass.config.distributions import Duration
from hourglass.i18n import _
from hourglass.stages import DAYS_PER_MONTH, SellerStageName

if TYPE_CHECKING:
    from hourglass.config.sales import Sales

MAX_SELLERS = 100_000
"""The largest sales team a scenario may have."""

Multiplier = Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)]
Headcount = Annotated[int, Field(ge=1, le=MAX_SELLERS)]
LeadsAtOnce = Annotated[int, Field(ge=1, le=1000)]
SellerName = Annotated[str, Field(min_length=1, max_length=40)]
Routing = Literal["first_free", "round_robin", "least_loaded", "by_skill", "weighted"]
HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.25
VACATION_BLOCK_DAYS = 10.0
"""The longest a seller is away at once; a year's vacation is split into such blocks."""
Productivity = Annotated[float, Field(allow_inf_nan=False)]
SHARE_SLACK = 1e-3
"""How far from 1 the sellers' shares may add up (rounding in a file)."""


class Qualification(Model):
    """Early qualification: a share of the leads a seller would lose get a fast "no"."""

    share: Annotated[float, Field(ge=0.0, le=1.0)]
    duration: Duration


class NamedSeller(Model):
    """One seller of a role, by name; `skill` replaces the role's for the stages it lists."""

    name: SellerName
    skill: dict[SellerStageName, Multiplier] = {}
    share: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] | None = None
    """The seller's share of the role's leads under `routing: weighted` (None: an equal
    part of what the shares given leave)."""


class SkillSpread(Model):
    """Sellers of a role differ: each one's skill is the role's times a draw of mean 1.

    The draws are lognormal with coefficient of variation `cv`, one per seller, fixed for
    the run by its seed.
    """

    cv: Annotated[float, Field(gt=0.0, le=2.0, allow_inf_nan=False)]


class Hire(Model):
    """People joining a role (or leaving it, when `add` is negative) at a month's start."""

    month: Annotated[int, Field(ge=0)]
    """Months from the scenario's start: 0 is the first month."""
    add: int

    @field_validator("add")
    @classmethod
    def _someone(cls, add: int) -> int:
        if add == 0 or abs(add) > MAX_SELLERS:
            raise ValueError(
                _("add {add}: give the people who join (or, negative, leave)").format(add=add)
            )
        return add


class SalesRole(Model):
    """A role in the sales team: its people, the stages it works and how well."""

    headcount: Headcount
    leads_per_seller: LeadsAtOnce = 1
    stages: Annotated[list[SellerStageName], Field(min_length=1)]
    skill: dict[SellerStageName, Multiplier] = {}
    skill_spread: SkillSpread | None = None
    sellers: list[NamedSeller] = []
    """Named sellers; the rest of the headcount are "<role> 1", "<role> 2"..."""
    cost_per_month: NonNegativeFloat = 0.0
    """Pay per seller and month."""
    qualification: Qualification | None = None
    batch_days: PositiveFloat | None = None
    """Leads reach this role in batches: those that came within each `batch_days` days are
    handed over together at its end (1: a day's leads, worked from the next morning)."""
    hiring: list[Hire] = []
    ramp: list[Productivity] = []
    """A new hire's share of full speed in each month of tenure; 1 after the list."""
    attrition_per_year: Annotated[float, Field(ge=0.0, le=12.0, allow_inf_nan=False)] = 0.0
    replacement_days: NonNegativeFloat = 0.0
    vacation_days_per_year: Annotated[float, Field(ge=0.0, le=180.0, allow_inf_nan=False)] = 0.0

    @field_validator("ramp")
    @classmethod
    def _shares_of_full_speed(cls, ramp: list[float]) -> list[float]:
        for i, share in enumerate(ramp):
            if not 0.0 < share <= 1.0:
                raise ValueError(
                    _("ramp.{i}: {share} is not a share of full speed; give one in (0, 1]").format(
                        i=i, share=f"{share:g}"
                    )
                )
        return ramp

    @model_validator(mode="after")
    def _never_fewer_than_none(self) -> SalesRole:
        on_team = self.headcount
        for i, hire in sorted(enumerate(self.hiring), key=lambda pair: pair[1].month):
            on_team += hire.add
            if on_team < 0:
                raise ValueError(
                    _("hiring.{i}: {n} leave in month {month}, but {left} are on the team").format(
                        i=i, n=-hire.add, month=hire.month, left=on_team - hire.add
                    )
                )
        return self

    @field_validator("stages")
    @classmethod
    def _each_stage_once(cls, stages: list[str]) -> list[str]:
        twice = sorted({s for s in stages if stages.count(s) > 1})
        if twice:
            raise ValueError(_("'{stage}' is listed twice").format(stage=twice[0]))
        return stages

    @model_validator(mode="after")
    def _people_fit(self) -> SalesRole:
        idle = [s for s in self.skill if s not in self.stages]
        if idle:
            raise ValueError(
                _("skill.{stage}: the role does not work this stage; add it to stages").format(
                    stage=idle[0]
                )
            )
        if len(self.sellers) > self.headcount:
            raise ValueError(
                _("sellers: {named} named, but the headcount is {headcount}").format(
                    named=len(self.sellers), headcount=self.headcount
                )
            )
        names = [s.name for s in self.sellers]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(_("sellers: '{name}' is named twice").format(name=twice[0]))
        for i, seller in enumerate(self.sellers):
            idle = [s for s in seller.skill if s not in self.stages]
            if idle:
                raise ValueError(
                    _("sellers.{i}.skill.{stage}: the role does not work this stage").format(
                        i=i, stage=idle[0]
                    )
                )
        self._check_shares()
        return self

    def _check_shares(self) -> None:
        """The shares given add up to at most 1, and to 1 when every seller has one."""
        given = [s.share for s in self.sellers if s.share is not None]
        total = sum(given)
        if total > 1.0 + SHARE_SLACK:
            raise ValueError(
                _("sellers: the shares add up to {total}; give each seller's part of 1").format(
                    total=f"{total:g}"
                )
            )
        if len(given) == self.headcount and abs(total - 1.0) > SHARE_SLACK:
            raise ValueError(
                _(
                    "sellers: every seller has a share and they add up to {total}; "
                    "they must add up to 1"
                ).format(total=f"{total:g}")
            )

    def shares(self) -> list[float]:
        """Each seller's share of the role's leads; those without one split what is left."""
        given = [s.share for s in self.sellers if s.share is not None]
        others = self.headcount - len(given)
        rest = max(0.0, 1.0 - sum(given)) / others if others else 0.0
        shares = [rest if s.share is None else s.share for s in self.sellers]
        return shares + [rest] * (self.headcount - len(self.sellers))

    def names(self, role: str) -> list[str]:
        """Each seller's name: the named ones, then "<role> 1", "<role> 2"... for the rest."""
        named = [s.name for s in self.sellers]
        return named + [f"{role} {i}" for i in range(len(named) + 1, self.headcount + 1)]

    @property
    def staffed(self) -> bool:
        """Whether the role's people change over the run (hires, leavers or vacations)."""
        return bool(self.hiring) or self.attrition_per_year > 0 or self.vacation_days_per_year > 0

    def planned_headcount(self, days: int) -> list[int]:
        """People on the role's payroll on each of `days` days, by the hiring plan alone.

        Attrition is left out: it is chance, and the run's own pay counts it.
        """
        on_day = [self.headcount] * days
        for hire in self.hiring:
            for day in range(math.ceil(hire.month * DAYS_PER_MONTH), days):
                on_day[day] += hire.add
        return on_day

    def expected_headcount(self, days: int) -> np.ndarray:
        """People expected on the role's payroll on each of `days` days (a mean over the day).

        Each seat of the hiring plan (from the first whole day of its month; a leaver's seat
        is the latest hired) is filled with the chance that its seller has not left or has
        been replaced since (`filled_share`). Without attrition: `planned_headcount`.
        """
        if not self.attrition_per_year:
            return np.asarray(self.planned_headcount(days), dtype=float)
        rate = self.attrition_per_year / DAYS_PER_YEAR
        filled = filled_share(rate, self.replacement_days, days)
        people = np.zeros(days)
        for start, end in self._seat_days(days):
            people[start:end] += filled[: max(0, end - start)]
        return people

    def _seat_days(self, days: int) -> list[tuple[int, int]]:
        """Each seat of the hiring plan: its first day and the day after its last."""
        open_since = [0] * self.headcount
        seats: list[tuple[int, int]] = []
        for hire in sorted(self.hiring, key=lambda h: h.month):
            day = min(days, math.ceil(hire.month * DAYS_PER_MONTH))
            if hire.add > 0:
                open_since += [day] * hire.add
            else:
                seats += [(start, day) for start in open_since[hire.add :]]
                open_since = open_since[: hire.add]
        return seats + [(start, days) for start in open_since]

    @property
    def identical(self) -> bool:
        """Whether every seller of the role works every stage equally well."""
        return self.skill_spread is None and not any(s.skill for s in self.sellers)


class Exponential(Model):
    """A decay by half every `half_life_hours` of waiting."""

    half_life_hours: PositiveFloat


class SpeedToLead(Model):
    """How a lead's chance at the first worked stage falls with its wait for a seller.

    Either halves every `exponential.half_life_hours`, or follows `table`: rows of
    [hours, factor], each factor holding from its hours on (the first row at 0 hours).
    """

    exponential: Exponential | None = None
    table: list[tuple[NonNegativeFloat, Annotated[float, Field(ge=0.0, le=1.0)]]] | None = None

    @model_validator(mode="after")
    def _one_curve(self) -> SpeedToLead:
        exactly_one(self, ("exponential", "table"))
        rows = self.table or []
        if self.table is not None and (not rows or rows[0][0] != 0.0):
            raise ValueError(_("table: the first row is for 0 hours, e.g. [0, 1.0]"))
        for i in range(1, len(rows)):
            if rows[i][0] <= rows[i - 1][0]:
                raise ValueError(_("table.{i}: the hours must grow from row to row").format(i=i))
        return self

    @property
    def decay_per_day(self) -> float:
        """K in e^(-k w), w the wait in days (exponential curves only)."""
        return math.log(2.0) * HOURS_PER_DAY / self.exponential.half_life_hours

    def factor(self, wait_days: float) -> float:
        """The multiplier of the pass probability for a lead that waited `wait_days`."""
        if self.exponential is not None:
            return math.exp(-self.decay_per_day * wait_days)
        hours = wait_days * HOURS_PER_DAY
        return next(f for h, f in reversed(self.table) if hours >= h)


@lru_cache(maxsize=64)
def filled_share(rate: float, replacement_days: float, days: int) -> np.ndarray:
    """Per day of a seat's age, the expected share of it a seller fills (a mean over the day).

    Sellers leave at `rate` a day and are replaced `replacement_days` later, so the chance
    p(t) that the seat is filled at age t follows p'(t) = -rate (p(t) - p(t - r)), the
    second term only from t = r on: p(t) = e^(-rate t) before r. It is stepped in eighths
    of a day, exactly for the leaving, with the replacements of half a step back. The
    answer is kept for the next plan that asks (read-only).
    """
    steps = 8
    h = 1.0 / steps
    stay = math.exp(-rate * h)
    back = replacement_days / h - 0.5  # steps back to the middle of the step, r earlier
    p = [1.0]
    for k in range(days * steps):
        delayed = k - back
        if delayed < 0.0:
            returning = 0.0
        elif delayed >= k:
            returning = p[k]
        else:
            i = int(delayed)
            returning = p[i] + (p[i + 1] - p[i]) * (delayed - i)
        p.append(p[k] * stay + (1.0 - stay) * returning)
    edges = np.asarray(p)
    middles = (edges[:-1] + edges[1:]) / 2.0
    share = middles.reshape(days, steps).mean(axis=1)
    share.flags.writeable = False
    return share


def check_roles_form(sales: Sales) -> None:
    """In `sales.roles`' form the old form's fields are the roles' own; a stage has one role."""
    for field in ("sellers", "leads_per_seller", "stages", "cost_per_seller_per_month"):
        if getattr(sales, field) is not None:
            raise ValueError(
                _("{field}: set it on each role under sales.roles, not beside them").format(
                    field=field
                )
            )
    if sales.qualification is not None:
        raise ValueError(
            _("qualification: set it on the role that qualifies (roles.<name>.qualification)")
        )
    if not sales.roles:
        raise ValueError(_("roles: name at least one role"))
    owner: dict[str, str] = {}
    for name, role in sales.roles.items():
        for stage in role.stages:
            if stage in owner:
                raise ValueError(
                    _(
                        "roles.{role}.stages: '{stage}' is worked by role '{other}' "
                        "already; each stage has one role"
                    ).format(role=name, stage=stage, other=owner[stage])
                )
            owner[stage] = name
    worked = [s for s in sales.skill if s not in ("measure", "engage")]
    if worked:
        raise ValueError(
            _("skill.{stage}: set it on the role that works the stage").format(stage=worked[0])
        )


def check_hiring_in_run(roles: Mapping[str, SalesRole], horizon_days: float) -> None:
    """Each hiring month starts before the run ends."""
    last = math.ceil(horizon_days / DAYS_PER_MONTH) - 1
    for name, role in roles.items():
        for i, hire in enumerate(role.hiring):
            if hire.month > last:
                raise ValueError(
                    _(
                        "sales.roles.{role}.hiring.{i}.month: month {month} is past the "
                        "horizon ({horizon} days: months 0 to {last})"
                    ).format(
                        role=name, i=i, month=hire.month, horizon=f"{horizon_days:g}", last=last
                    )
                )
