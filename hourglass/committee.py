"""A B2B buying centre at work: each deal's agreements, asked one after another, drawn as it goes.

The engine convenes the committee for every deal that passes the committee's stage; this
module draws who is asked, what each says and when, and writes each answer to the log.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from hourglass.distributions import draws
from hourglass.log import AGREED, OVERRULED, REFUSED, Table
from hourglass.scenario import Committee


class BuyingCentre:
    """The committee's roles as plain numbers, and the random streams its answers use."""

    def __init__(
        self,
        committee: Committee,
        channels: tuple[str, ...],
        worked: set[str],
        rng: np.random.Generator,
    ) -> None:
        self.roles = tuple(committee.roles)
        specs = list(committee.roles.values())
        self.agree = [committee.agreement_prob(r, worked) for r in self.roles]
        self.weight = [spec.weight for spec in specs]
        self.extra_people = [
            draws(partial(rng.poisson, spec.people - 1.0)) if spec.people > 1.0 else None
            for spec in specs
        ]
        self.delay = [draws(partial(spec.delay.sampler().draw, rng)) for spec in specs]
        self.uniform = draws(rng.random)
        self.order = [
            [self.roles.index(r) for r in committee.sequence(channel)] for channel in channels
        ]

    def convene(
        self, deal: int, channel: int, start: float, horizon: float, log: Table
    ) -> tuple[float, int]:
        """Ask the deal's committee from `start`; the end time and the role that ended it (-1:
        all agreed). Answers before `horizon` are logged; a deal open at it ends past it."""
        t, uniform = start, self.uniform
        for role in self.order[channel]:
            extra = self.extra_people[role]
            for _ in range(1 + (int(extra()) if extra else 0)):
                t += self.delay[role]()
                if uniform() < self.agree[role]:
                    answer = AGREED
                elif uniform() < self.weight[role]:
                    answer = REFUSED
                else:
                    answer = OVERRULED
                if t >= horizon:
                    return t, -1
                log.add_row(deal, role, t, answer)
                if answer == REFUSED:
                    return t, role
        return t, -1
