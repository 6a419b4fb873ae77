"""Closed forms the simulator must agree with in its limits (DESIGN.md "Limits").

scipy is imported where it is used, so that the funnel's expectations (numpy only) come
without its import time: the dashboard draws them in its first chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hourglass.config.budgets import spend_per_day
from hourglass.config.ladder import ServiceLadder
from hourglass.config.plan import Plan, compile_plan
from hourglass.config.scenario import Scenario
from hourglass.stages import ACTIVE_CLASSES, DAYS_PER_MONTH, FUNNEL, LOYALTY_CLASSES


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
    scenario = plan.scenario
    pairs = []
    for segment in plan.segments:
        probs = list(segment.mean_pass_prob)
        boost = scenario.referral.boost if scenario.referral else {}
        warm = [min(1.0, p * boost.get(n, 1.0)) for n, p in zip(FUNNEL, probs, strict=True)]
        if scenario.committee is not None:
            k = FUNNEL.index(scenario.committee.stage)
            probs[k] *= _outside_committee_pass(plan)
            warm[k] *= committee_pass(plan, "referral")
        pairs.append((funnel_flows(probs), funnel_flows(warm)))
    if not scenario.segments:
        return pairs[0]
    rates = plan.mean_outside_per_day()
    shares = [list(seg.share.items()) for seg in scenario.segments.values()]
    cold = np.array([sum(rates.get(c, 0.0) * v for c, v in mine) for mine in shares])
    warm = np.array([dict(mine).get("referral", 0.0) for mine in shares])
    return tuple(  # type: ignore[return-value]
        FunnelFlows(
            reach=sum(w * f[i].reach for w, f in zip(weights, pairs, strict=True)),
            lost=sum(w * f[i].lost for w, f in zip(weights, pairs, strict=True)),
            bought=float(sum(w * f[i].bought for w, f in zip(weights, pairs, strict=True))),
        )
        for i, weights in enumerate((cold / (cold.sum() or 1.0), warm / (warm.sum() or 1.0)))
    )


def _role_steps(plan: Plan, channel: str) -> list[tuple[float, float, float]]:
    """Per role asked from `channel`, in order: its odds, extra people and answer delay.

    Each person's chance to let the deal go on, the extra people beyond the first (Poisson mean),
    and each answer's mean delay.
    """
    committee = plan.scenario.committee
    worked = set(plan.seller_of.values())
    steps = []
    for role in committee.sequence(channel):
        spec = committee.roles[role]
        agree = committee.agreement_prob(role, worked)
        steps.append((1.0 - (1.0 - agree) * spec.weight, spec.people - 1.0, spec.delay.mean))
    return steps


def committee_pass(scenario: Scenarioish, channel: str) -> float:
    """The chance a deal from `channel` gets every agreement it needs from the committee.

    A role with 1 + Poisson(m) people, each letting it go on with chance s, passes with
    E[s^n] = s exp(-m (1 - s)).
    """
    steps = _role_steps(_plan(scenario), channel)
    return math.prod(s * math.exp(-m * (1.0 - s)) for s, m, _ in steps)


def committee_days(scenario: Scenarioish, channel: str) -> float:
    """The mean time a won deal from `channel` spends with its committee.

    Given that all agreed, a role's extra people are Poisson(m s) (the Poisson mean tilted by
    each one's chance s to agree), so its answers take (1 + m s) times the mean delay.
    """
    return sum((1.0 + m * s) * d for s, m, d in _role_steps(_plan(scenario), channel))


def _outside_committee_pass(plan: Plan) -> float:
    """The committee's pass for an outside deal: the channels' passes weighted by contacts."""
    weights = plan.mean_outside_per_day()
    total = sum(weights.values())
    if total <= 0.0:
        return committee_pass(plan, "default")
    return sum(w * committee_pass(plan, name) for name, w in weights.items()) / total


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


def bgnbd_expected_repeats(
    t: np.ndarray | float, r: float, alpha: float, a: float, b: float
) -> np.ndarray | float:
    """BG/NBD: expected repeat purchases in (0, t] after the first (Fader, Hardie, Lee 2005)."""
    from scipy import special

    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    hyp = special.hyp2f1(r, b, a + b - 1.0, z)
    return (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * hyp)


def loyalty_generator(scenario: Scenario) -> np.ndarray:
    """The loyalty classes' generator matrix (per day), in LOYALTY_CLASSES order."""
    n = len(LOYALTY_CLASSES)
    g = np.zeros((n, n))
    moves = scenario.after_sale.loyalty.transitions_per_month
    for source, targets in moves.items():
        for target, rate in targets.items():
            g[LOYALTY_CLASSES.index(source), LOYALTY_CLASSES.index(target)] = rate / DAYS_PER_MONTH
    np.fill_diagonal(g, -g.sum(axis=1))
    return g


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


def expected_outcome(scenario: Scenarioish) -> dict[str, float]:
    """A first-order expectation of a run's headline numbers, budgets' effects included.

    Outside prospects arrive at their steady rates (the market caps their number) and pass
    the funnel as the absorbing chain says; each buyer has, on average, half the horizon to
    buy again and to refer; referred prospects arrive warmer, and only the first generation
    of referrals is counted. It ignores queues for sellers and antagonists. Good for ranking
    budget allocations cheaply; the simulation has the last word.
    """
    plan = _plan(scenario)
    s = plan.scenario
    horizon = s.horizon_days
    outside = expected_outside_prospects(plan)
    cold_flows, warm_flows = _cold_and_warm(plan)
    cold, warm = cold_flows.bought, warm_flows.bought
    tenure = horizon / 2.0  # days a buyer has, on average, before the horizon
    grid = np.linspace(0.0, tenure, 25)
    shares = loyalty_shares(s, grid)
    contacts = 0.0
    if s.referral:
        rates = np.array([plan.contacts_per_month.get(c, 0.0) for c in LOYALTY_CLASSES])
        contacts = float(np.trapezoid(shares @ rates, grid)) / DAYS_PER_MONTH
    per_buyer = contacts * (s.referral.win_prob if s.referral else 0.0) * warm
    first = outside * cold
    referred = first * per_buyer
    buyers = first + referred
    repeats = _expected_repeats(plan, tenure)
    fees, level_costs = _expected_ladder(s.after_sale.service_ladder, tenure)
    revenue = buyers * (s.after_sale.order_value.mean * (1.0 + repeats) + fees)
    active = sum(shares[-1][LOYALTY_CLASSES.index(c)] for c in ACTIVE_CLASSES)
    serve = s.after_sale.cost_to_serve_per_month / DAYS_PER_MONTH * buyers * tenure
    bonus = (s.referral.bonus if s.referral else 0.0) * referred
    fixed = float(spend_per_day(s, math.ceil(horizon)).sum())  # every line, plans too
    cost = fixed + bonus + serve + buyers * level_costs
    outcome = {
        "outside_prospects": outside,
        "referred_prospects": first * contacts * (s.referral.win_prob if s.referral else 0.0),
        "buyers": buyers,
        "revenue": revenue,
        "cost": cost,
        "profit": s.after_sale.margin * revenue - cost,
        "customers_end": buyers * active,
    }
    return {k: float(v) for k, v in outcome.items()}


def _expected_ladder(ladder: ServiceLadder | None, days: float) -> tuple[float, float]:
    """A buyer's expected service fees and level costs in its first `days` (0 without a ladder)."""
    if ladder is None:
        return 0.0, 0.0
    grid = np.linspace(0.0, days, 25)
    held = ladder_occupancy(ladder, grid)[:, :-1]  # the last column: left the service
    per_day = (
        np.array([(lv.value_per_month, lv.cost_to_serve_per_month) for lv in ladder.levels])
        / DAYS_PER_MONTH
    )
    fees, costs = np.trapezoid(held @ per_day, grid, axis=0)
    return float(fees), float(costs)


def _expected_repeats(plan: Plan, days: float) -> float:
    """Repeat purchases a buyer makes in `days` after the first, seller skill included."""
    repeat, skill = plan.repeat, plan.repeat_skill
    if repeat is None:
        return 0.0
    if repeat.bgnbd:
        g = repeat.bgnbd
        periods = days / g.period_days
        return float(bgnbd_expected_repeats(periods, g.r, g.alpha / skill, g.a, g.b))
    rate = repeat.simple.purchases_per_month * skill / DAYS_PER_MONTH * days
    p = repeat.simple.dropout_prob
    # purchases until the first drop-out, on a Poisson clock: (1 - e^(-rate p)) / p
    return rate if p == 0 else float(-np.expm1(-rate * p) / p)


def expected_daily(scenario: Scenarioish, days: int) -> dict[str, np.ndarray]:
    """Day by day, what the funnel's theory expects: buyers, active customers, revenue.

    Outside prospects arrive at their planned rates month by month (the market caps their
    number) and buy after the funnel's mean time, with the absorbing chain's chance; buyers
    stay active as the loyalty chain says, buy again as the repeat model says, and bring
    referred prospects, who buy with the warm chance (every generation). Queues for sellers,
    antagonists and noise are left out: the simulation's band is drawn around it.
    """
    plan = _plan(scenario)
    s = plan.scenario
    cold, warm = (flows.bought for flows in _cold_and_warm(plan))
    lag = round(sum(s.stages[stage].duration.mean for stage in FUNNEL))
    outside = _outside_per_day(plan, days)
    shares = _daily_loyalty_shares(s, days, _lapse_per_day(plan))
    contacts = np.zeros(days)
    if s.referral:
        rates = np.array([plan.contacts_per_month.get(c, 0.0) for c in LOYALTY_CLASSES])
        contacts = shares @ rates / DAYS_PER_MONTH * s.referral.win_prob
    buyers = _delayed(outside * cold, lag)
    generation = buyers
    for _generation in range(20):  # each generation of referrals, until they vanish
        generation = _delayed(_convolved(generation, contacts) * warm, lag)
        buyers = buyers + generation
        if generation.sum() < 1e-6 * max(buyers.sum(), 1.0):
            break
    active = sum(shares[:, LOYALTY_CLASSES.index(c)] for c in ACTIVE_CLASSES)
    cumulative = _expected_repeats_by_age(plan, np.arange(days + 1, dtype=float))
    repeats = _convolved(buyers, np.diff(cumulative))
    return {
        "buyers": buyers,
        "active_customers": _convolved(buyers, active),
        "revenue": (buyers + repeats) * s.after_sale.order_value.mean,
    }


def _lapse_per_day(plan: Plan) -> float:
    """The daily chance an active customer stops buying: the mean repeat rate times drop-out."""
    repeat, skill = plan.repeat, plan.repeat_skill
    if repeat is None:
        return 0.0
    if repeat.bgnbd:
        g = repeat.bgnbd
        return g.r / (g.alpha / skill) / g.period_days * g.a / (g.a + g.b)
    return repeat.simple.purchases_per_month * skill / DAYS_PER_MONTH * repeat.simple.dropout_prob


def _daily_loyalty_shares(scenario: Scenario, days: int, lapse: float = 0.0) -> np.ndarray:
    """`loyalty_shares` on days 0, 1, ..., stepped a day at a time (one matrix exponential).

    `lapse` moves active customers to temporarily lost each day: a drop-out after a repeat.

    The day's exponential is a Taylor series of the generator scaled down and squared back
    (numpy only: scipy's import would hold up the dashboard's first chart).
    """
    generator = loyalty_generator(scenario)
    lapsed = LOYALTY_CLASSES.index("temporarily_lost")
    for klass in ACTIVE_CLASSES:
        row = LOYALTY_CLASSES.index(klass)
        generator[row, lapsed] += lapse
        generator[row, row] -= lapse
    halvings = 10
    scaled = generator / 2**halvings
    step, term = np.eye(len(LOYALTY_CLASSES)), np.eye(len(LOYALTY_CLASSES))
    for k in range(1, 12):
        term = term @ scaled / k
        step = step + term
    for _halving in range(halvings):
        step = step @ step
    shares = np.zeros((days, len(LOYALTY_CLASSES)))
    shares[0, LOYALTY_CLASSES.index(scenario.after_sale.loyalty.start)] = 1.0
    for day in range(1, days):
        shares[day] = shares[day - 1] @ step
    return shares


def _outside_per_day(plan: Plan, days: int) -> np.ndarray:
    """New outside prospects expected each day: planned contacts, fewer as the market fills."""
    month = (np.arange(days) / DAYS_PER_MONTH).astype(int)
    per_day = np.zeros(days)
    for rates in plan.outside_per_day:  # a steady line has one month, a plan one per month
        per_day += np.asarray(rates)[np.minimum(month, len(rates) - 1)]
    contacts = np.concatenate([[0.0], np.cumsum(per_day)])
    size = plan.scenario.market.size if plan.scenario.market else None
    reached = size * -np.expm1(-contacts / size) if size else contacts
    return np.diff(reached)


def _delayed(series: np.ndarray, lag: int) -> np.ndarray:
    """The series `lag` days later, cut to its length."""
    return np.concatenate([np.zeros(min(lag, len(series))), series[: max(len(series) - lag, 0)]])


def _convolved(events: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Per day, the sum over earlier days' events of the kernel at their age."""
    return np.convolve(events, kernel)[: len(events)]


def _expected_repeats_by_age(plan: Plan, days: np.ndarray) -> np.ndarray:
    """Repeat purchases a buyer makes by each age in days, seller skill included."""
    repeat, skill = plan.repeat, plan.repeat_skill
    if repeat is None:
        return np.zeros(len(days))
    if repeat.bgnbd:
        g = repeat.bgnbd
        return np.asarray(
            bgnbd_expected_repeats(days / g.period_days, g.r, g.alpha / skill, g.a, g.b)
        )
    rate = repeat.simple.purchases_per_month * skill / DAYS_PER_MONTH * days
    p = repeat.simple.dropout_prob
    return rate if p == 0 else -np.expm1(-rate * p) / p


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
