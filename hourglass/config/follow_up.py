"""The follow-up after a sale: a task an account manager must work, which may bring a repeat.

    sales:
      follow_up: {after_days: 90, role: account_manager, repeat_prob: 0.3,
                  duration: {fixed: {days: 0.05}}, patience: {fixed: {days: 7}}}
      roles:
        account_manager: {headcount: 2, leads_per_seller: 10, stages: [measure]}

`after_days` after each new customer's first purchase, a follow-up task comes due for a
customer who still buys then (not lapsed, left or hostile). It takes a place of one of the
role's sellers for `duration`; if none is free within `patience` (none given: at once), the
follow-up does not happen. A follow-up worked ends in a repeat purchase with probability
`repeat_prob`, on top of the customer's own repeat buying. The role works the `measure`
stage: the follow-up is its measure work, logged as a visit to Repeat with the seller. The
role's `skill.measure` (and a named seller's own) multiplies `repeat_prob` while it works
one; `sales.skill.measure` still multiplies every customer's own repeat rate.

    sales:
      engage: {role: account_manager, duration: {fixed: {days: 0.02}}}

Engagement: each referral talk of a customer takes a place of one of the role's sellers
(who works `engage`) for `duration`, from when the talk comes up or when a place frees
within `patience` (none given: at once); with no one free in time, the talk does not
happen. It is logged as a visit to Refer with the seller; the role's `skill.engage`
multiplies the talk's chance to win someone over (`referral.win_prob`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from hourglass.config.base import Model, Probability
from hourglass.config.distributions import Duration


class FollowUp(Model):
    """A follow-up task `after_days` after each first purchase, worked by a seller of `role`."""

    after_days: Annotated[float, Field(gt=0.0, le=3650.0, allow_inf_nan=False)]
    role: Annotated[str, Field(min_length=1)]
    duration: Duration
    repeat_prob: Probability
    patience: Duration | None = None


class Engage(Model):
    """Referral talks worked by a seller of `role`, each holding a place for `duration`."""

    role: Annotated[str, Field(min_length=1)]
    duration: Duration
    patience: Duration | None = None
