"""The sales team's section: one role of sellers alike, or people in roles (`config.sellers`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from hourglass.config.base import (
    Model,
    NonNegativeFloat,
    did_you_mean,
)
from hourglass.config.distributions import Duration
from hourglass.config.follow_up import Engage, FollowUp
from hourglass.config.loading import NAME_PATTERN
from hourglass.config.sellers import (
    MAX_SELLERS as MAX_SELLERS,
)
from hourglass.config.sellers import (
    Headcount,
    LeadsAtOnce,
    Multiplier,
    Qualification,
    Routing,
    SalesRole,
    SpeedToLead,
    check_roles_form,
)
from hourglass.i18n import _
from hourglass.stages import (
    SELLER_STAGES,
    SellerStageName,
)

RoleName = Annotated[str, Field(pattern=NAME_PATTERN, max_length=40)]

DEFAULT_SELLER_STAGES = ("define", "deliver")
"""The stages a team of the old form works unless it lists its own."""
AFTER_SALE = ("measure", "engage")
"""The seller stages after the sale: follow-ups (`sales.follow_up`), talks (`sales.engage`)."""


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
    roles: dict[RoleName, SalesRole] | None = None
    routing: Routing = "first_free"
    speed_to_lead: SpeedToLead | None = None
    follow_up: FollowUp | None = None
    engage: Engage | None = None

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
        self._check_engage()
        self._check_shares()
        worked = self.worked_stages
        idle = [s for s in self.skill if s not in worked and s not in ("measure", "engage")]
        if idle:
            raise ValueError(
                f"skill for '{idle[0]}', but the team does not work it: add it to sales.stages"
            )
        return self

    def _check_shares(self) -> None:
        """Sellers' shares of the leads route them only under weighted routing."""
        if self.routing == "weighted":
            return
        for name, role in (self.roles or {}).items():
            for i, seller in enumerate(role.sellers):
                if seller.share is not None:
                    raise ValueError(
                        _(
                            "roles.{role}.sellers.{i}.share: shares route leads only with "
                            "sales.routing: weighted (it is {routing})"
                        ).format(role=name, i=i, routing=self.routing)
                    )

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

    def _check_engage(self) -> None:
        """The engagement's role is a role of `roles` that works `engage`, and only it does."""
        roles, engage = self.roles or {}, self.engage
        engaging = [name for name, role in roles.items() if "engage" in role.stages]
        if engage is None:
            if engaging:
                raise ValueError(
                    _(
                        "roles.{role}.stages: 'engage' is the referral talk after a sale; "
                        "add sales.engage with role: {role}"
                    ).format(role=engaging[0])
                )
            return
        if engage.role not in roles:
            raise ValueError(
                _("engage.role: there is no role '{role}' under sales.roles{hint}").format(
                    role=engage.role, hint=did_you_mean(engage.role, list(roles))
                )
            )
        if "engage" not in roles[engage.role].stages:
            raise ValueError(
                _("roles.{role}.stages: add 'engage'; the referral talk is its work").format(
                    role=engage.role
                )
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
        worked = {s for role in self.roles.values() for s in role.stages} - set(AFTER_SALE)
        return [s for s in SELLER_STAGES if s in worked]

    @property
    def stage_skill(self) -> dict[str, float]:
        """The whole team's multiplier per seller stage, the roles' own included.

        A role's measure and engage skills act only on its own work after the sale (the
        follow-ups, the referral talks), so `sales.skill` alone gives those two.
        """
        merged = dict(self.skill)
        for role in (self.roles or {}).values():
            merged.update({s: m for s, m in role.skill.items() if s not in AFTER_SALE})
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
