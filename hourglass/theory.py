"""Closed forms the simulator must agree with in its limits (DESIGN.md "Limits").

scipy is imported where it is used, so that the funnel's expectations (numpy only) come
without its import time: the dashboard draws them in its first chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hourglass.config.ladder import ServiceLadder
from hourglass.config.plan import Plan, compile_plan
from hourglass.config.scenario import Committee, Scenario
from hourglass.config.segments import segment_committees, segment_margins
from hourglass.stages import FUNNEL, LOYALTY_CLASSES
from hourglass.theory_money import (
    MoneyDays,
    SegmentFunnel,
    money_days,
)
from hourglass.theory_money import (
    bgnbd_expected_repeats as bgnbd_expected_repeats,
)
from hourglass.theory_money import (
    loyalty_generator as loyalty_generator,
)
from hourglass.theory_queues import QUEUE_PASSES, kept_by_purchase_day
from hourglass.theory_starting import starting_days


@dataclass(frozen=True)
class FunnelFlows:
    """Expected flows through an absorbing Markov chain of stages, per prospect."""

    reach: np.ndarray
    """Expected visits to each transient stage (for a straight funnel: chance of reaching it)."""
    lost: np.ndarray
    """Chance of being absorbed as lost at each stage."""
    bought: float
    """Chance of being absorbed as a buyer."""


def absorbing_flows(transient: np.ndarray, absorbing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected visits N = (I - Q)^-1 (first row) and absorption chances B = N R (first row)."""
    n = transient.shape[0]
    fundamental = np.linalg.inv(np.eye(n) - transient)
    return fundamental[0], (fundamental @ absorbing)[0]


def funnel_flows(pass_probs: Sequence[float]) -> FunnelFlows:
    """Flows of a straight funnel: stage i passes to i+1 with p_i, else is lost there."""
    p = np.asarray(pass_probs, dtype=float)
    n = len(p)
    q = np.zeros((n, n))
    q[np.arange(n - 1), np.arange(1, n)] = p[:-1]
    r = np.zeros((n, n + 1))
    r[np.arange(n), np.arange(n)] = 1.0 - p
    r[n - 1, n] = p[-1]
    reach, absorbed = absorbing_flows(q, r)
    return FunnelFlows(reach=reach, lost=absorbed[:n], bought=float(absorbed[n]))


Scenarioish = Scenario | Plan
"""A scenario, or its plan when the caller has one (an optimiser weighing allocations)."""


def _plan(scenario: Scenarioish) -> Plan:
    return scenario if isinstance(scenario, Plan) else compile_plan(scenario)


def scenario_funnel(scenario: Scenarioish) -> FunnelFlows:
    """The funnel's expected flows for an outside prospect, seller skill and committee included.

    Exact when no lead waits too long for a seller and there are no antagonists.
    """
    return _cold_and_warm(_plan(scenario))[0]


def expected_entries(scenario: Scenarioish, outside: float, referred: float) -> dict[str, float]:
    """Expected entries into each funnel stage, and buyers, for the given prospects at Know.

    Referred prospects pass with the scenario's warmth boost. Exact when no lead waits too
    long for a seller and there are no antagonists.
    """
    cold, warm = _cold_and_warm(_plan(scenario))
    entries = outside * cold.reach + referred * warm.reach
    expected = dict(zip(FUNNEL, entries.tolist(), strict=True))
    expected["buyers"] = float(outside * cold.bought + referred * warm.bought)
    return expected


def _cold_and_warm(plan: Plan) -> tuple[FunnelFlows, FunnelFlows]:
    """The funnel's flows for an outside prospect, and for a referred one (boosted).

    A committee's agreement is part of its stage's pass. With segments, the flows are the
    segments' flows weighted by their shares of the outside contacts and of referrals.
    """
    parts = _segment_flows(plan)
    if len(parts) == 1:
        return parts[0][0], parts[0][1]
    return tuple(  # type: ignore[return-value]
        FunnelFlows(
            reach=sum(part[2 + i] * part[i].reach for part in parts),
            lost=sum(part[2 + i] * part[i].lost for part in parts),
            bought=float(sum(part[2 + i] * part[i].bought for part in parts)),
        )
        for i in (0, 1)
    )


def _segment_flows(plan: Plan) -> list[tuple[FunnelFlows, FunnelFlows, float, float]]:
    """Per segment: its cold and warm flows, its share of outside contacts and of referrals."""
    scenario = plan.scenario
    pairs = []
    committees = segment_committees(scenario.committee, scenario.segments)
    for segment, committee in zip(plan.segments, committees, strict=True):
        probs = list(segment.mean_pass_prob)
        boost = scenario.referral.boost if scenario.referral else {}
        warm = [min(1.0, p * boost.get(n, 1.0)) for n, p in zip(FUNNEL, probs, strict=True)]
        if committee is not None:  # the segment's own, or the scenario's
            k = FUNNEL.index(committee.stage)
            probs[k] *= _outside_committee_pass(plan, committee)
            warm[k] *= committee_pass(plan, "referral", committee)
        pairs.append((funnel_flows(probs), funnel_flows(warm)))
    if not scenario.segments:
        return [(*pairs[0], 1.0, 1.0)]
    rates = plan.mean_outside_per_day()
    shares = [list(seg.share.items()) for seg in scenario.segments.values()]
    cold = np.array([sum(rates.get(c, 0.0) * v for c, v in mine) for mine in shares])
    warm = np.array([dict(mine).get("referral", 0.0) for mine in shares])
    cold, warm = cold / (cold.sum() or 1.0), warm / (warm.sum() or 1.0)
    return [(*pair, float(c), float(w)) for pair, c, w in zip(pairs, cold, warm, strict=True)]


def segment_funnels(plan: Plan) -> list[SegmentFunnel]:
    """Each segment's chance that an outside contact, or a referred one, joins it and buys."""
    return [
        SegmentFunnel(
            plan=segment,
            cold=share_cold * cold.bought,
            warm=share_warm * warm.bought,
            lag=round(sum(d.mean for d in segment.durations)),
        )
        for segment, (cold, warm, share_cold, share_warm) in zip(
            plan.segments, _segment_flows(plan), strict=True
        )
    ]


def _role_steps(
    plan: Plan, channel: str, committee: Committee | None = None
) -> list[tuple[float, float, float]]:
    """Per role asked from `channel`, in order: its odds, extra people and answer delay.

    Each person's chance to let the deal go on, the extra people beyond the first (Poisson mean),
    and each answer's mean delay. The committee is the scenario's unless given (a segment's).
    """
    committee = committee or plan.scenario.committee
    worked = set(plan.seller_of.values())
    steps = []
    for role in committee.sequence(channel):
        spec = committee.roles[role]
        agree = committee.agreement_prob(role, worked)
        steps.append((1.0 - (1.0 - agree) * spec.weight, spec.people - 1.0, spec.delay.mean))
    return steps


def committee_pass(
    scenario: Scenarioish, channel: str, committee: Committee | None = None
) -> float:
    """The chance a deal from `channel` gets every agreement it needs from the committee.

    A role with 1 + Poisson(m) people, each letting it go on with chance s, passes with
    E[s^n] = s exp(-m (1 - s)). The committee is the scenario's unless given (a segment's).
    """
    steps = _role_steps(_plan(scenario), channel, committee)
    return math.prod(s * math.exp(-m * (1.0 - s)) for s, m, _ in steps)


def committee_days(scenario: Scenarioish, channel: str) -> float:
    """The mean time a won deal from `channel` spends with its committee.

    Given that all agreed, a role's extra people are Poisson(m s) (the Poisson mean tilted by
    each one's chance s to agree), so its answers take (1 + m s) times the mean delay.
    """
    return sum((1.0 + m * s) * d for s, m, d in _role_steps(_plan(scenario), channel))


def _outside_committee_pass(plan: Plan, committee: Committee | None = None) -> float:
    """The committee's pass for an outside deal: the channels' passes weighted by contacts."""
    weights = plan.mean_outside_per_day()
    total = sum(weights.values())
    if total <= 0.0:
        return committee_pass(plan, "default", committee)
    passes = (w * committee_pass(plan, name, committee) for name, w in weights.items())
    return sum(passes) / total


def expected_prospects(scenario: Scenarioish) -> float:
    """Outside prospects a run brings at most: paid and organic arrivals over the horizon."""
    plan = _plan(scenario)
    scenario = plan.scenario
    total = _outside_contacts(plan)
    size = scenario.market.size if scenario.market else None
    return min(total, size) if size else total


def expected_outside_prospects(scenario: Scenarioish) -> float:
    """Outside prospects a run brings on average.

    Contacts land on random people, and those already reached are not new, so a market of size M
    yields M (1 - exp(-contacts / M)).
    """
    plan = _plan(scenario)
    scenario = plan.scenario
    contacts = _outside_contacts(plan)
    size = scenario.market.size if scenario.market else None
    return float(size * -np.expm1(-contacts / size)) if size else contacts


def _outside_contacts(plan: Plan) -> float:
    """Paid and organic contacts with the market over the horizon, plans followed."""
    return sum(plan.mean_outside_per_day().values()) * plan.scenario.horizon_days


def erlang_c(lam: float, mu: float, c: int) -> float:
    """M/M/c: the chance an arriving customer has to wait (Erlang C)."""
    a = lam / mu
    if a >= c:
        return 1.0
    # log-space sums keep large c stable
    terms = [k * math.log(a) - math.lgamma(k + 1) for k in range(c)]
    top = c * math.log(a) - math.lgamma(c + 1) + math.log(c / (c - a))
    m = max(*terms, top)
    below = sum(math.exp(t - m) for t in terms)
    return math.exp(top - m) / (below + math.exp(top - m))


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """M/M/c: the mean wait in queue, C(c, a) / (c mu - lam)."""
    if lam >= c * mu:
        return math.inf
    return erlang_c(lam, mu, c) / (c * mu - lam)


def erlang_a_abandon(lam: float, mu: float, c: int, theta: float, tail: float = 1e-12) -> float:
    """M/M/c+M (Erlang A): the share of arrivals that abandon, patience ~ Exp(theta).

    Solves the birth-death chain, truncated where the stationary tail falls below `tail`.
    """
    weights = [1.0]
    n = 0
    while True:
        n += 1
        death = min(n, c) * mu + max(n - c, 0) * theta
        weights.append(weights[-1] * lam / death)
        if n > c and weights[-1] < tail * sum(weights):
            break
    pi = np.array(weights) / sum(weights)
    queue = np.maximum(np.arange(len(pi)) - c, 0)
    return float(theta * (pi * queue).sum() / lam)


def bass_adoption(t: np.ndarray | float, p: float, q: float) -> np.ndarray | float:
    """Bass diffusion: the share of the market adopted by time t.

    F(t) = (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t).
    """
    decay = np.exp(-(p + q) * np.asarray(t, dtype=float))
    return (1.0 - decay) / (1.0 + (q / p) * decay)


def little_l(arrival_rate: float, mean_days: float) -> float:
    """Little's law: the mean number inside is the arrival rate times the mean stay."""
    return arrival_rate * mean_days


def loyalty_shares(scenario: Scenario, days: np.ndarray | float) -> np.ndarray:
    """Chance of being in each loyalty class `days` after the first purchase (no repeats)."""
    from scipy import linalg

    g = loyalty_generator(scenario)
    start = np.zeros(len(LOYALTY_CLASSES))
    start[LOYALTY_CLASSES.index(scenario.after_sale.loyalty.start)] = 1.0
    days = np.atleast_1d(np.asarray(days, dtype=float))
    return start @ linalg.expm(g * days[:, None, None])


def ladder_occupancy(ladder: ServiceLadder, days: np.ndarray | float) -> np.ndarray:
    """The chance of each service level, then of having left it, `days` after the first purchase.

    The ladder is a continuous-time Markov chain: p(t) = p(0) expm(Q t), one row per time.
    """
    from scipy import linalg

    q = ladder.generator()
    start = np.zeros(len(q))
    start[ladder.start_index] = 1.0
    days = np.atleast_1d(np.asarray(days, dtype=float))
    return start @ linalg.expm(q * days[:, None, None])


def expected_outcome(scenario: Scenarioish, queues: bool = False) -> dict[str, float]:
    """A first-order expectation of a run's headline numbers, budgets' effects included.

    Counted over the measurement window as the KPIs are, from `theory_money.money_days`:
    each segment's buyers after its funnel time, buying again, served and talking at its own
    rates, and the service ladder's fees and costs. Customers from before day 0 buy again,
    are served and talk from day 0 (`theory_starting`; their service fees are left out). It
    ignores antagonists, and queues for sellers unless `queues` (`queued_money_days`). Good
    for ranking budget allocations cheaply; the simulation has the last word.
    """
    plan = _plan(scenario)
    s = plan.scenario
    days = math.ceil(s.horizon_days)
    opening = starting_days(plan, days)
    talk = None if opening is None else opening.talk
    money = (
        queued_money_days(plan, days, talk)
        if queues
        else money_days(plan, segment_funnels(plan), days, talk)
    )
    start = math.floor(s.warmup_days)
    segments = _segment_totals(money, start, s)
    revenue = sum(seg["revenue"] for seg in segments.values())
    gross = sum(seg["margin_after_serving"] + seg["cost_to_serve"] for seg in segments.values())
    serve = sum(seg["cost_to_serve"] for seg in segments.values())
    active_end = sum(float(seg.active[-1]) for seg in money.segments)
    if opening is not None:
        own = opening.revenue[start:].sum()
        revenue, serve = revenue + own, serve + opening.serve[start:].sum()
        gross += segment_margins(s.after_sale.margin, s.segments)[0] * own
        active_end += float(opening.active[-1])
    cost = money.fixed[start:].sum() + money.bonuses[start:].sum() + serve
    outcome = {
        "outside_prospects": money.outside[start:].sum(),
        "referred_prospects": money.referred[start:].sum(),
        "buyers": sum(seg["buyers"] for seg in segments.values()),
        "revenue": revenue,
        "cost": cost,
        "cost_to_serve": serve,
        "profit": (s.after_sale.margin * revenue if s.segments is None else gross) - cost,
        "customers_end": active_end,
    }
    return {k: float(v) for k, v in outcome.items()}


def expected_segments(scenario: Scenarioish) -> dict[str, dict[str, float]]:
    """Per segment, over the measurement window: buyers, revenue, cost to serve and margin.

    Revenue includes service fees, and the cost to serve the service levels' costs, as the
    segment table counts them (`analysis.segments`).
    """
    plan = _plan(scenario)
    s = plan.scenario
    money = money_days(plan, segment_funnels(plan), math.ceil(s.horizon_days))
    return _segment_totals(money, math.floor(s.warmup_days), s)


def _segment_totals(money: MoneyDays, start: int, s: Scenario) -> dict[str, dict[str, float]]:
    """Each segment's buyers and money from day `start` on, at its own margin."""
    margins = segment_margins(s.after_sale.margin, s.segments)
    return {
        seg.name: {
            "buyers": float(seg.buyers[start:].sum()),
            "revenue": float(seg.revenue[start:].sum()),
            "cost_to_serve": float(seg.cost_to_serve[start:].sum()),
            "margin_after_serving": float(
                margin * seg.revenue[start:].sum() - seg.cost_to_serve[start:].sum()
            ),
        }
        for seg, margin in zip(money.segments, margins, strict=True)
    }


def expected_daily(scenario: Scenarioish, days: int) -> dict[str, np.ndarray]:
    """Day by day, what the funnel's theory expects: buyers, active customers, revenue.

    From `queued_money_days`, every segment and generation of referrals together, service
    fees included, customers from before day 0 (`theory_starting`) and the buyers the
    sellers' queues leave, taken as steady month by month (`theory_queues`). Antagonists and
    noise are left out: the simulation's band is drawn around it.
    """
    plan = _plan(scenario)
    opening = starting_days(plan, days)
    money = queued_money_days(plan, days, None if opening is None else opening.talk)
    expected = {
        "buyers": sum(seg.buyers for seg in money.segments),
        "active_customers": sum(seg.active for seg in money.segments),
        "revenue": sum(seg.revenue for seg in money.segments),
    }
    if opening is not None:
        expected["active_customers"] = expected["active_customers"] + opening.active
        expected["revenue"] = expected["revenue"] + opening.revenue
    return expected


def erlang_c_decay(lam: float, mu: float, c: int, k: float) -> float:
    """M/M/c, first come first served: the mean of e^(-k W) over the waits W.

    From the Erlang C wait distribution, P(W = 0) = 1 - C and P(W > t) = C e^(-(c mu - lam) t):
    E[e^(-k W)] = 1 - C + C (c mu - lam) / (c mu - lam + k). It is the share of a stage's
    chance that a lead keeps when its chance decays as e^(-k w) with its wait w.
    """
    if lam >= c * mu:
        return 0.0
    waiting, drain = erlang_c(lam, mu, c), c * mu - lam
    return 1.0 - waiting + waiting * drain / (drain + k)


def erlang_b(lam: float, mu: float, c: int) -> float:
    """M/G/c/c: the share of arrivals that find all `c` servers busy and are lost (Erlang B).

    A follow-up that no account manager takes at once does not happen, so with no patience
    the follow-ups are a loss system; the share blocked depends on the duration's mean only.
    Computed by the stable recursion B(k) = a B(k-1) / (k + a B(k-1)), a = lam / mu.
    """
    offered, blocked = lam / mu, 1.0
    for k in range(1, c + 1):
        blocked = offered * blocked / (k + offered * blocked)
    return blocked


def queued_money_days(plan: Plan, days: int, opening_talk: np.ndarray | None = None) -> MoneyDays:
    """`money_days` with the buyers the sales team's queues leave (`theory_queues`).

    The referred leads load the sellers too, and they depend on the buyers: each pass
    loads the desks with the last pass's referred prospects.
    """
    funnels = segment_funnels(plan)
    money = money_days(plan, funnels, days, opening_talk)
    if plan.scenario.sales is None:
        return money
    cold, warm = _cold_and_warm(plan)
    for _pass in range(QUEUE_PASSES):
        kept = kept_by_purchase_day(plan, money.outside, money.referred, (cold.reach, warm.reach))
        money = money_days(plan, funnels, days, opening_talk, kept)
    return money
