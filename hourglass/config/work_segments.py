"""The work estimate's parts: each segment's flows, and the service ladder's moves."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hourglass.config.ladder import ServiceLadder
from hourglass.config.plan import Plan, SegmentPlan
from hourglass.config.scenario import Scenario
from hourglass.config.sections import Market, Stages
from hourglass.config.segments import segment_committees, segment_ladders
from hourglass.config.work_flows import Flows, exp_and_integral
from hourglass.stages import FUNNEL


def segment_parts(plan: Plan) -> list[tuple[Plan, ServiceLadder | None]]:
    """The plan of each segment's flows, with its service ladder (the plan alone without any).

    A segment's plan has its share of each outside channel's contacts and of the market (so
    that the market runs out for each as it does for all), and its own rates and committee.
    """
    s = plan.scenario
    ladders = segment_ladders(s.after_sale.service_ladder, s.segments)
    if not s.segments:
        return [(plan, ladders[0])]
    channels = [*s.channels.paid, "organic"]
    shares = np.array([[seg.share.get(c, 0.0) for c in channels] for seg in s.segments.values()])
    totals = shares.sum(axis=0)
    shares[0, totals == 0.0] = 1.0  # a channel no segment names goes to the first
    shares /= shares.sum(axis=0)
    outside = np.array([np.mean(rates) for rates in plan.outside_per_day])
    weights = shares @ outside / max(outside.sum(), 1e-12)
    committees = segment_committees(s.committee, s.segments)
    parts = []
    for own, share, weight, committee, ladder in zip(
        plan.segments, shares, weights, committees, ladders, strict=True
    ):
        size = s.market.size
        market = Market(size=max(1, round(size * weight)) if size else None)
        scenario = s.model_copy(
            update={"stages": _stages_of(s, own), "committee": committee, "market": market}
        )
        part = replace(
            plan,
            scenario=scenario,
            outside_per_day=tuple(
                tuple(r * f for r in rates)
                for rates, f in zip(plan.outside_per_day, share, strict=True)
            ),
            pass_prob=own.pass_prob,
            pass_prob_referred=own.pass_prob_referred,
            mean_pass_prob=own.mean_pass_prob,
            repeat=own.repeat,
            contacts_per_month=own.contacts_per_month,
            segments=(own,),
        )
        parts.append((part, ladder))
    return parts


def _stages_of(scenario: Scenario, segment: SegmentPlan) -> Stages:
    """The scenario's stages with the segment's times in them."""
    stages = scenario.stages
    update = {
        ("try_" if name == "try" else name): stages[name].model_copy(update={"duration": d})
        for name, d in zip(FUNNEL, segment.durations, strict=True)
    }
    return stages.model_copy(update=update)


def level_moves(ladder: ServiceLadder | None, plan: Plan, flows: Flows) -> float:
    """Expected service-level rows: each buyer's start, and its moves until the horizon.

    A buyer joining at step i moves at the expected exit rate of the level it holds, its
    occupancy stepped with the ladder's generator (the scenario's account-management lift in).
    """
    common = plan.scenario.after_sale.service_ladder
    if ladder is None or common is None:
        return 0.0
    q = ladder.generator(common.upgrade_factor())
    exits = -np.diag(q)  # left (absorbing) has none
    step, occupancy = exp_and_integral(q, flows.dt)
    per_step = occupancy @ exits  # moves in one step, by the level held at its start
    joined = flows.joined[: flows.steps]
    held = np.zeros((len(joined), len(q)))  # cohorts by joining step, their level shares
    moves = 0.0
    for i, new in enumerate(joined):
        held[i, ladder.start_index] = new
        moves += new + float((held[: i + 1] @ per_step).sum())
        held[: i + 1] = held[: i + 1] @ step
    return moves
