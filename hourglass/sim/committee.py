"""A B2B buying centre at work: each deal's agreements, asked one after another.

The engine convenes the committee for every deal that passes the committee's stage; this
module draws who is asked, what each says and when, and writes each answer to the log.
"""

from __future__ import annotations

import numpy as np

from hourglass.config.scenario import Committee
from hourglass.log import AGREED, OVERRULED, REFUSED, Table


class BuyingCentre:
    """The committee's roles as plain numbers, and how each deal's answers are drawn.

    Each deal draws its answers from its own generator, seeded by the deal's own luck, so a
    change to one role leaves every other deal's answers alone (common random numbers).
    """

    def __init__(
        self,
        committee: Committee,
        channels: tuple[str, ...],
        worked: set[str],
        codes: tuple[str, ...] = (),
    ) -> None:
        """`codes` are the run's roles (all its committees'), whose codes the log writes."""
        self.roles = tuple(committee.roles)
        self.code = [(codes or self.roles).index(role) for role in self.roles]
        specs = list(committee.roles.values())
        self.agree = [committee.agreement_prob(r, worked) for r in self.roles]
        self.weight = [spec.weight for spec in specs]
        self.extra_people = np.array([spec.people - 1.0 for spec in specs])
        self.delay = [spec.delay.sampler() for spec in specs]
        self.order = [
            np.array([self.roles.index(r) for r in committee.sequence(channel)])
            for channel in channels
        ]

    def convene(
        self, deal: int, channel: int, start: float, horizon: float, log: Table, luck: float
    ) -> tuple[float, int]:
        """Ask the deal's committee from `start`: the end time and the role that ended it.

        The role (its code among the run's roles) is -1 where all agreed. Answers are drawn
        from `luck` (a uniform of its own); those before `horizon` are logged, and a deal
        open at it ends past it.
        """
        rng = np.random.default_rng(int(luck * 2.0**53))
        order = self.order[channel]
        people = (1 + rng.poisson(self.extra_people[order])).tolist()
        answers = iter(rng.random((sum(people), 2)).tolist())
        t = start
        for role, n in zip(order.tolist(), people, strict=True):
            for delay in self.delay[role].draw(rng, n).tolist():
                agree, end_it = next(answers)
                t += delay
                if agree < self.agree[role]:
                    answer = AGREED
                elif end_it < self.weight[role]:
                    answer = REFUSED
                else:
                    answer = OVERRULED
                if t >= horizon:
                    return t, -1
                log.add_row(deal, self.code[role], t, answer)
                if answer == REFUSED:
                    return t, self.code[role]
        return t, -1
