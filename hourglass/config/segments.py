"""Customer segments: each one's share of every channel's arrivals, and what it does differently.

A segment gives only the parameters in which it differs from the scenario; everything else
is the scenario's. Every channel the scenario has (each paid one, organic if set, referral if
the scenario has a referral section) is shared out over the segments: the shares of each
channel add up to 1, a segment that does not name a channel gets none of it. Referred
prospects take the referral channel's shares (not their referrer's segment); prospects from
social selling and known customers joined from a transaction log go to the first segment.

A segment may also have its own margin, its own buying committee (at the scenario's
committee stage, if the scenario has one) and its own service ladder: the scenario's levels
by name and in order, with the segment's own fees, costs and rates; account management (the
ladder's budget) stays the scenario's and lifts every segment's upgrades alike.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from hourglass.config.base import Model, NonNegativeFloat, Probability, did_you_mean
from hourglass.config.distributions import Amount, Duration
from hourglass.config.ladder import ServiceLadder
from hourglass.config.sections import (
    SHARES_TOLERANCE,
    Committee,
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
    margin: Probability | None = None
    """The share of the segment's revenue (purchases and service fees) kept as margin."""
    committee: Committee | None = None
    """The segment's own buying centre, asked instead of the scenario's."""
    service_ladder: ServiceLadder | None = None
    """The segment's own ladder: the scenario's levels, its own fees, costs and rates."""


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


def check_segment_parts(
    segments: dict[str, Segment],
    ladder: ServiceLadder | None,
    committee: Committee | None,
    channels: list[str],
    worked: set[str],
) -> None:
    """Refuse a segment's ladder or committee that does not fit the scenario's.

    `ladder` and `committee` are the scenario's; `worked` the seller stages of its team.
    """
    for name, segment in segments.items():
        if segment.service_ladder is not None:
            _check_ladder(name, segment.service_ladder, ladder)
        if segment.committee is not None:
            _check_committee(name, segment.committee, committee, channels, worked)
            committee = committee or segment.committee  # the first sets the stage for all


def _check_ladder(name: str, own: ServiceLadder, ladder: ServiceLadder | None) -> None:
    where = f"segments.{name}.service_ladder"
    if ladder is None:
        raise ValueError(
            _(
                "{where}: the scenario has no after_sale.service_ladder; add one "
                "(a segment's ladder changes the scenario's)"
            ).format(where=where)
        )
    if own.names != ladder.names:
        raise ValueError(
            _("{where}.levels: name the scenario's levels in order ({levels}), got {own}").format(
                where=where, levels=", ".join(ladder.names), own=", ".join(own.names)
            )
        )
    if own.budget is not None:
        raise ValueError(
            _(
                "{where}.budget: account management is the scenario's; give it in "
                "after_sale.service_ladder.budget"
            ).format(where=where)
        )


def _check_committee(
    name: str, own: Committee, committee: Committee | None, channels: list[str], worked: set[str]
) -> None:
    where = f"segments.{name}.committee"
    if committee is not None and own.stage != committee.stage:
        raise ValueError(
            _(
                "{where}.stage: '{stage}' differs from the committee stage '{scenario}' "
                "of the scenario or an earlier segment; every committee sits at one stage"
            ).format(where=where, stage=own.stage, scenario=committee.stage)
        )
    for channel in own.order:
        if channel != "default" and channel not in channels:
            raise ValueError(
                _("{where}.order.{name}: not a channel{hint} (channels: {channels})").format(
                    where=where,
                    name=channel,
                    hint=did_you_mean(channel, channels),
                    channels=", ".join(channels),
                )
            )
    for role, spec in own.roles.items():
        idle = [s for s in spec.reached_by if s not in worked]
        if idle:
            raise ValueError(
                _(
                    "{where}.roles.{role}.reached_by.{stage}: the team does not work "
                    "this stage; add it to sales.stages"
                ).format(where=where, role=role, stage=idle[0])
            )


def segment_margins(scenario_margin: float, segments: dict[str, Segment] | None) -> list[float]:
    """Each segment's margin, the scenario's where it gives none (one without segments)."""
    if not segments:
        return [scenario_margin]
    return [scenario_margin if s.margin is None else s.margin for s in segments.values()]


def segment_committees(
    committee: Committee | None, segments: dict[str, Segment] | None
) -> list[Committee | None]:
    """Each segment's buying centre, the scenario's where it has none (one without segments)."""
    if not segments:
        return [committee]
    return [s.committee or committee for s in segments.values()]


def segment_ladders(
    ladder: ServiceLadder | None, segments: dict[str, Segment] | None
) -> list[ServiceLadder | None]:
    """Each segment's service ladder, the scenario's where it has none (one without segments)."""
    if not segments:
        return [ladder]
    return [s.service_ladder or ladder for s in segments.values()]


def committee_stage(committee: Committee | None, segments: dict[str, Segment] | None) -> str | None:
    """The stage where deals meet a committee: the scenario's, or its segments' (None if none)."""
    own = [c for c in segment_committees(committee, segments) if c is not None]
    return own[0].stage if own else None
