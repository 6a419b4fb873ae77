"""The engine's sales team: each role's seats, its sellers' names and skills, and who works what."""

from __future__ import annotations

import math

import numpy as np

from hourglass.config.sales import AFTER_SALE
from hourglass.config.sellers import SalesRole
from hourglass.log import FIRST_REASON
from hourglass.sim.staffing import Person, StaffedTeam, presence, staff_roles
from hourglass.sim.streams import RUN_STREAMS, child
from hourglass.sim.team import RoutedTeam, Team
from hourglass.stages import DISQUALIFIED, FUNNEL, HOURGLASS, SELLER_BESIDE, WENT_COLD


class SalesSetup:
    """A part of the engine (`sim.engine`): it sets up the sales team from the scenario."""

    def _setup_sales(self) -> None:
        sales = self.s.sales
        self.went_cold = FIRST_REASON + self.reasons.index(WENT_COLD)
        self.disqualified = FIRST_REASON + self.reasons.index(DISQUALIFIED)
        self.team_of: list[Team | RoutedTeam | StaffedTeam | None] = [None] * (len(FUNNEL) + 1)
        self.qual_share = [0.0] * len(FUNNEL)
        self.qual_duration = self.qual_durations = self.patience = self.decay = None
        self.skill_of: list[list[float]] | None = None
        self.first_worked = self.worked.index(True) if any(self.worked) else -1
        self.decay_at = -1  # the stage whose chance falls with the wait: the first worked
        self.sellers: tuple[tuple[str, str], ...] = ()
        self.seller_capacity: tuple[int, ...] = ()
        self.seller_days: tuple[float, ...] = ()
        self.seller_spans: tuple[tuple[float, float], ...] = ()
        self.follow_team: Team | RoutedTeam | StaffedTeam | None = None
        self.engage_team: Team | RoutedTeam | StaffedTeam | None = None
        self.follow_skill = self.engage_skill = 1.0  # the roles' own, on their work
        if sales is None:
            return
        self.patience = sales.patience.sampler() if sales.patience else None
        self.decay = sales.speed_to_lead
        self.decay_at = self.first_worked if self.decay else -1
        roles = sales.team
        prefixes = [name if sales.roles else "Seller" for name in roles]  # old form: "Seller 1"
        people = staff_roles(roles, prefixes, self.seq, self.horizon)
        self.skill_of = self._seller_skills(roles, people)
        for (name, role), prefix, staff in zip(roles.items(), prefixes, people, strict=True):
            team = self._role_team(role, staff, len(self.sellers), sales.routing)
            team.batch = role.batch_days or 0.0
            names = role.names(prefix) if staff is None else [p.name for p in staff]
            self.sellers += tuple((who, name) for who in names)
            self.seller_capacity += (role.leads_per_seller,) * len(names)
            qual = sales.qualification if sales.roles is None else role.qualification
            if name == getattr(sales.follow_up, "role", None):
                self.follow_team, self.follow_skill = team, role.skill.get("measure", 1.0)
            if name == getattr(sales.engage, "role", None):
                self.engage_team, self.engage_skill = team, role.skill.get("engage", 1.0)
            for stage in role.stages:
                if stage in AFTER_SALE:  # the follow-ups' and the talks', not the funnel's
                    continue
                k = HOURGLASS.index(SELLER_BESIDE[stage])
                self.team_of[k] = team
                self.qual_share[k] = qual.share if qual else 0.0
                if qual and sales.roles:  # each role's own fast "no", drawn stage by stage
                    self.qual_durations = self.qual_durations or [None] * len(FUNNEL)
                    self.qual_durations[k] = qual.duration.sampler()
        if sales.roles is None and sales.qualification:  # one draw for all stages, as ever
            self.qual_duration = sales.qualification.duration.sampler()
        if any(people):
            window = (self.s.warmup_days, self.horizon)
            self.seller_days, self.seller_spans = presence(roles, people, *window)

    def _role_team(
        self, role: SalesRole, people: list[Person] | None, first: int, routing: str
    ) -> Team | RoutedTeam | StaffedTeam:
        """A role's seats: a heap where first-free routing suffices, else each seller's."""
        shares = role.shares() if routing == "weighted" else None
        if people is not None:
            return StaffedTeam(
                people,
                role.leads_per_seller,
                first,
                routing,
                self.skill_of,
                role.ramp,
                shares,
                self.seq,
            )
        if routing == "first_free":
            return Team(role.headcount * role.leads_per_seller, role.leads_per_seller, first)
        return RoutedTeam(
            role.headcount, role.leads_per_seller, first, routing, self.skill_of, shares, self.seq
        )

    def _seller_skills(
        self, roles: dict[str, SalesRole], people: list[list[Person] | None]
    ) -> list[list[float]] | None:
        """Each seller's skill per funnel stage, over the role's (folded into the plan).

        None where all sellers of every role are alike. A named seller's skill replaces the
        role's; a spread draws each unnamed seller's from the run's own stream.
        """
        if all(role.identical for role in roles.values()):
            return None
        spread_rng = np.random.default_rng(child(self.seq, len(RUN_STREAMS) + 1))
        skills: list[list[float]] = []
        for role, staff in zip(roles.values(), people, strict=True):
            mine = [HOURGLASS.index(SELLER_BESIDE[stage]) for stage in role.stages]
            size = role.headcount if staff is None else len(staff)
            factors = np.ones((size, len(HOURGLASS)))
            if role.skill_spread is not None:
                sigma2 = math.log1p(role.skill_spread.cv**2)
                draws = spread_rng.lognormal(-sigma2 / 2, math.sqrt(sigma2), size)
                factors[:, mine] = draws[:, None]
            for i, seller in enumerate(role.sellers):
                factors[i, mine] = 1.0
                for stage, own in seller.skill.items():
                    k = HOURGLASS.index(SELLER_BESIDE[stage])
                    factors[i, k] = own / role.skill.get(stage, 1.0)
            skills += factors.tolist()
        return skills
