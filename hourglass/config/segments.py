"""Customer segments: each one's share of every channel's arrivals, and what it does differently.

A segment gives only the parameters in which it differs from the scenario; everything else
is the scenario's. Every channel the scenario has (each paid one, organic if set, referral if
the scenario has a referral section) is shared out over the segments: the shares of each
channel add up to 1, a segment that does not name a channel gets none of it. Referred
prospects take the referral channel's shares (not their referrer's segment); prospects from
social selling and known customers joined from a transaction log go to the first segment.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from hourglass.config.base import Model, NonNegativeFloat, Probability, did_you_mean
from hourglass.config.distributions import Amount, Duration
from hourglass.config.sections import (
    SHARES_TOLERANCE,
    MonthlyRate,
    Multiplier,
    Name,
    Repeat,
)
from hourglass.i18n import _
from hourglass.stages import LoyaltyClass

MAX_SEGMENTS = 20
"""The most segments a scenario may declare."""


class SegmentStage(Model):
    """A funnel stage as a segment meets it: its own pass probability (or a multiplier), time."""

    pass_prob: Probability | None = None
    pass_mult: Multiplier | None = None
    """Multiplies the scenario's pass probability (budget lift and seller skill included)."""
    duration: Duration | None = None

    @model_validator(mode="after")
    def _one_probability(self) -> SegmentStage:
        if self.pass_prob is not None and self.pass_mult is not None:
            raise ValueError(_("give pass_prob or pass_mult, not both"))
        return self


class SegmentStages(Model):
    """The funnel stages a segment meets differently; those not named are the scenario's."""

    know: SegmentStage | None = None
    like: SegmentStage | None = None
    trust: SegmentStage | None = None
    try_: SegmentStage | None = Field(default=None, alias="try")
    buy: SegmentStage | None = None

    def get(self, name: str) -> SegmentStage:
        """The segment's changes to stage `name` (none if it names no changes)."""
        return getattr(self, "try_" if name == "try" else name) or SegmentStage()


class SegmentReferral(Model):
    """How much a segment's customers talk: referral contacts per month by loyalty class."""

    contacts_per_month: dict[LoyaltyClass, MonthlyRate]


class Segment(Model):
    """One segment: its share of each channel's arrivals, and its own parameters."""

    share: Annotated[dict[Name, Probability], Field(min_length=1)]
    stages: SegmentStages = SegmentStages()
    order_value: Amount | None = None
    repeat: Repeat | None = None
    referral: SegmentReferral | None = None
    cost_to_serve_per_month: NonNegativeFloat | None = None
    """What each active customer of the segment costs per month."""


Segments = Annotated[dict[Name, Segment], Field(max_length=MAX_SEGMENTS)]


def check_segments(
    segments: dict[str, Segment], channels: list[str], shared: list[str], referral: bool
) -> None:
    """Refuse shares of unknown channels, and channels whose shares do not add up to 1.

    `channels` are the channels a share may name; `shared` those that must be shared out.
    """
    if len(segments) == 1:
        raise ValueError(_("segments: declare at least two segments, or none"))
    for name, segment in segments.items():
        for channel in segment.share:
            if channel not in channels:
                raise ValueError(
                    _(
                        "segments.{segment}.share.{channel}: not a channel{hint} "
                        "(channels: {known})"
                    ).format(
                        segment=name,
                        channel=channel,
                        hint=did_you_mean(channel, channels),
                        known=", ".join(channels),
                    )
                )
        if segment.referral is not None and not referral:
            raise ValueError(
                _(
                    "segments.{segment}.referral: the scenario has no referral section; add one"
                ).format(segment=name)
            )
    named = {c for segment in segments.values() for c in segment.share}
    for channel in [c for c in channels if c in shared or c in named]:
        total = sum(segment.share.get(channel, 0.0) for segment in segments.values())
        if abs(total - 1.0) > SHARES_TOLERANCE:
            raise ValueError(
                _(
                    "segments: the shares of channel '{channel}' add up to {total}, not 1; "
                    "give each segment its share of the channel's arrivals"
                ).format(channel=channel, total=f"{total:.6g}")
            )
