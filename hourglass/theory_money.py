"""Day by day, what theory expects each segment to buy, cost to serve and bring in fees.

Each segment's buyers come from its share of the outside contacts and of the referrals, after
its own funnel time; each buyer then moves through the loyalty classes (an active one leaves
for temporarily lost when it drops out after a repeat), buys again at its segment's rate and
order value while active, costs its segment's cost to serve while active, talks at its
segment's rates, and holds the service ladder's levels. Ages are whole days, so a buyer's
money is the convolution of the buyers per day with a per-age kernel: the engine's own
bookkeeping (`analysis.series`), in expectation. A referral contact wins no one the outside
channels reached before; queues for sellers, antagonists, noise, a network's neighbours and
the market filling up with referrals are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from hourglass.config.budgets import spend_per_day
from hourglass.config.ladder import ServiceLadder
from hourglass.config.plan import Plan, SegmentPlan
from hourglass.config.scenario import Scenario
from hourglass.stages import ACTIVE_CLASSES, DAYS_PER_MONTH, LOYALTY_CLASSES

MAX_GENERATIONS = 20
"""Generations of referrals followed at most; each is usually far smaller than the last."""
RATE_NODES, DROP_NODES = 16, 8
"""Quadrature nodes for BG/NBD's purchase rate and drop-out chance: the chance to be alive
is within 1e-5 of its closed form for a year, 3e-4 for two."""


@dataclass(frozen=True)
class SegmentFunnel:
    """A segment's chances: its share of outside contacts and of referrals, times buying."""

    plan: SegmentPlan
    cold: float
    """An outside contact's chance to land in this segment and buy."""
    warm: float
    """A referred prospect's chance to land in this segment and buy."""
    lag: int
    """Days from arrival to the first purchase (the funnel's mean time)."""


@dataclass(frozen=True)
class SegmentDays:
    """One segment's expected numbers per day."""

    name: str
    buyers: np.ndarray
    referred_buyers: np.ndarray
    active: np.ndarray
    revenue: np.ndarray
    """Orders, first and repeat, and service fees."""
    cost_to_serve: np.ndarray
    """While active, and for the service levels held."""


@dataclass(frozen=True)
class MoneyDays:
    """Every segment's days, with the ladder's, referrals' and budgets' money per day."""

    segments: list[SegmentDays]
    outside: np.ndarray
    referred: np.ndarray
    """Referred prospects arriving each day."""
    fixed: np.ndarray
    """Budget lines and sellers."""
    bonuses: np.ndarray


def money_days(
    plan: Plan,
    funnels: Sequence[SegmentFunnel],
    days: int,
    opening_talk: np.ndarray | None = None,
    kept: np.ndarray | None = None,
) -> MoneyDays:
    """Each segment's buyers and money per day, referrals followed generation by generation.

    `opening_talk` adds the referral contacts won each day by customers from before day 0
    (`theory_starting`): the people they bring are followed like the others'. `kept`, if
    given, is the share of each day's buyers that queues for sellers leave
    (`theory_queues.kept_by_purchase_day`).
    """
    s = plan.scenario
    outside = outside_per_day(plan, days)
    kernels = [_customer_kernels(plan, f.plan, days) for f in funnels]
    buyers = [_kept(_delayed(outside * f.cold, f.lag), kept) for f in funnels]
    referred_buyers = [np.zeros(days) for _ in funnels]
    referred = np.zeros(days)
    delay = round(s.referral.delay.mean) if s.referral else 0
    size = s.market.size if s.market else None
    # a contact with someone the outside channels reached before wins no one
    free = (1.0 - np.cumsum(outside) / size).clip(0.0) if size else np.ones(days)
    generation, first_talk = buyers, opening_talk
    for _generation in range(MAX_GENERATIONS):
        talk = sum(_convolved(b, k["talk"]) for b, k in zip(generation, kernels, strict=True))
        if first_talk is not None:
            talk, first_talk = talk + first_talk, None
        arrivals = _delayed(np.asarray(talk, dtype=float) * free, delay)
        referred = referred + arrivals
        generation = [_kept(_delayed(arrivals * f.warm, f.lag), kept) for f in funnels]
        referred_buyers = [r + g for r, g in zip(referred_buyers, generation, strict=True)]
        if sum(g.sum() for g in generation) < 1e-6 * max(sum(b.sum() for b in buyers), 1.0):
            break
    segments = []
    for f, k, cold, warm in zip(funnels, kernels, buyers, referred_buyers, strict=True):
        fees, level_costs = _ladder_per_age(s, f.plan.name, days)
        total = cold + warm
        orders = total + _convolved(total, k["repeats"]) * _offer_factor(s)
        segments.append(
            SegmentDays(
                name=f.plan.name,
                buyers=total,
                referred_buyers=warm,
                active=_convolved(total, k["active"]),
                revenue=f.plan.order_value.mean * orders + _convolved(total, fees),
                cost_to_serve=_convolved(total, k["serve"] + level_costs),
            )
        )
    share = np.minimum(1.0, s.horizon_days - np.arange(days))
    bonus = s.referral.bonus if s.referral else 0.0
    return MoneyDays(
        segments=segments,
        outside=outside,
        referred=referred,
        fixed=spend_per_day(s, days) * share,
        bonuses=bonus * sum(seg.referred_buyers for seg in segments),
    )


def _customer_kernels(plan: Plan, segment: SegmentPlan, days: int) -> dict[str, np.ndarray]:
    """Per day of a buyer's age: chance of being active, repeats, referrals won, cost to serve."""
    s = plan.scenario
    skill = plan.repeat_skill
    shares = daily_loyalty_shares(s, days, *lapse_mixture(segment, skill))
    active = shares @ np.isin(LOYALTY_CLASSES, list(ACTIVE_CLASSES))
    talk = np.zeros(days)
    if s.referral:
        rates = [segment.contacts_per_month.get(c, 0.0) for c in LOYALTY_CLASSES]
        talk = shares @ np.array(rates) * plan.engage_skill / DAYS_PER_MONTH * s.referral.win_prob
    repeat = segment.repeat
    if repeat is not None and repeat.simple is not None:  # buys only while active
        repeats = active * repeat.simple.purchases_per_month * skill / DAYS_PER_MONTH
    else:
        repeats = np.diff(expected_repeats_by_age(segment, skill, np.arange(days + 1.0)))
    return {
        "active": active,
        "talk": _from_mid_day(talk),
        "repeats": _from_mid_day(repeats),
        "serve": active * segment.cost_to_serve_per_month / DAYS_PER_MONTH,
    }


def _from_mid_day(per_age: np.ndarray) -> np.ndarray:
    """A rate per day of age, for buyers who bought, on average, half way through day 0."""
    held = per_age.copy()
    held[0] *= 0.5
    return held


def _offer_factor(scenario: Scenario) -> float:
    """A repeat order's mean value over the order value: offers change some of them."""
    offers = scenario.after_sale.offers
    chosen = (offers.upsell, offers.cross_sell, offers.down_sell) if offers else ()
    return 1.0 + sum(o.prob * (o.value_factor - 1.0) for o in chosen if o)


def _ladder_per_age(scenario: Scenario, segment: str, days: int) -> tuple[np.ndarray, np.ndarray]:
    """A buyer's service fees and level costs on each day of its age (zeros without a ladder).

    The ladder is the `segment`'s own if it has one (climbing with the scenario's
    account-management lift), else the scenario's.
    """
    common = scenario.after_sale.service_ladder
    if common is None:
        return np.zeros(days), np.zeros(days)
    own = scenario.segments[segment].service_ladder if segment else None
    ladder: ServiceLadder = own or common
    held = _chain_by_day(ladder.generator(common.upgrade_factor()), ladder.start_index, days)
    held = held[:, :-1]
    per_day = (
        np.array([(lv.value_per_month, lv.cost_to_serve_per_month) for lv in ladder.levels])
        / DAYS_PER_MONTH
    )
    money = _from_mid_day(held @ per_day)
    return money[:, 0], money[:, 1]


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


def daily_loyalty_shares(
    scenario: Scenario,
    days: int,
    lapse: float | np.ndarray = 0.0,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """The loyalty classes' shares on days 0, 1, ... after the first purchase.

    `lapse` moves active customers to temporarily lost each day (a drop-out after a repeat):
    one rate, or several with their `weights` (customers who differ, `lapse_mixture`),
    whose chains are followed each on its own and then weighed together.
    """
    generator = loyalty_generator(scenario)
    lapsed = LOYALTY_CLASSES.index("temporarily_lost")
    lapsing = np.zeros_like(generator)
    for klass in ACTIVE_CLASSES:
        row = LOYALTY_CLASSES.index(klass)
        lapsing[row, lapsed] += 1.0
        lapsing[row, row] -= 1.0
    start = LOYALTY_CLASSES.index(scenario.after_sale.loyalty.start)
    if weights is None:
        return _chain_by_day(generator + float(lapse) * lapsing, start, days)
    generators = generator + np.asarray(lapse, dtype=float)[:, None, None] * lapsing
    key = (generators.tobytes(), len(generator), np.asarray(weights, dtype=float).tobytes())
    return _mixed_chains(*key, start, days)


@lru_cache(maxsize=64)
def _mixed_chains(
    generators: bytes, size: int, weights: bytes, start: int, days: int
) -> np.ndarray:
    """Weighed together, the state chances of several chains on days 0, 1, ..., from `start`.

    Kept (read-only) for the optimisers, which ask again for the same customers' chains
    while only the money changes.
    """
    stack = np.frombuffer(generators).reshape(-1, size, size)
    weight = np.frombuffer(weights)
    steps = _exp_of_day(stack)
    state = np.zeros((len(stack), size))
    state[:, start] = 1.0
    shares = np.zeros((days, size))
    for day in range(days):
        shares[day] = weight @ state
        state = np.einsum("ij,ijk->ik", state, steps)
    shares.setflags(write=False)
    return shares


def _exp_of_day(generators: np.ndarray) -> np.ndarray:
    """exp(G) of one day for each generator in a stack: a Taylor series scaled and squared.

    numpy only: scipy's import would hold up the dashboard's first chart.
    """
    halvings = 10
    scaled = generators / 2**halvings
    step = term = np.broadcast_to(np.eye(generators.shape[-1]), generators.shape)
    for k in range(1, 12):
        term = term @ scaled / k
        step = step + term
    for _halving in range(halvings):
        step = step @ step
    return step


def _chain_by_day(generator: np.ndarray, start: int, days: int) -> np.ndarray:
    """A Markov chain's state chances on days 0, 1, ..., from `start` (one exponential)."""
    step = _exp_of_day(generator)
    shares = np.zeros((days, len(generator)))
    shares[0, start] = 1.0
    for day in range(1, days):
        shares[day] = shares[day - 1] @ step
    return shares


def lapse_mixture(
    segment: SegmentPlan, skill: float
) -> tuple[float | np.ndarray, np.ndarray | None]:
    """Active customers' daily drop-out rates after a repeat, with their weights.

    The simple model's is one rate (weights None). BG/NBD's customers differ: each drops out
    at theta = lambda p a day (its purchase clock thinned by its drop-out chance, lambda ~
    Gamma(r, alpha), p ~ Beta(a, b)), so one buying often drops out early and the
    survivors are the slower buyers. Theta's distribution is given by Gauss quadrature nodes
    (generalised Laguerre for lambda, Jacobi for p), whose mean of exp(-theta t) is the
    closed form S(t) = 2F1(r, a; a + b; -t / alpha) of `bgnbd_alive`.
    """
    repeat = segment.repeat
    if repeat is None or not repeat.bgnbd:
        return lapse_per_day(segment, skill), None
    from scipy import special

    g = repeat.bgnbd
    x, wx = special.roots_genlaguerre(RATE_NODES, g.r - 1.0)
    y, wy = special.roots_jacobi(DROP_NODES, g.b - 1.0, g.a - 1.0)
    rate = x * skill / (g.alpha * g.period_days)  # lambda per day
    chance = (1.0 + y) / 2.0
    weights = np.outer(wx / wx.sum(), wy / wy.sum()).ravel()
    return np.outer(rate, chance).ravel(), weights


def bgnbd_alive(t: np.ndarray | float, r: float, alpha: float, a: float, b: float) -> np.ndarray:
    """BG/NBD: the chance a customer has not dropped out by t (in periods) after the first buy.

    Drop-out after each repeat is a thinning of the purchase clock: E[exp(-lambda p t)] over
    lambda ~ Gamma(r, alpha) and p ~ Beta(a, b), which is 2F1(r, a; a + b; -t / alpha).
    """
    from scipy import special

    return special.hyp2f1(r, a, a + b, -np.asarray(t, dtype=float) / alpha)


def lapse_per_day(segment: SegmentPlan, skill: float) -> float:
    """The daily chance an active customer stops buying: the mean repeat rate times drop-out."""
    repeat = segment.repeat
    if repeat is None:
        return 0.0
    if repeat.bgnbd:
        g = repeat.bgnbd
        return g.r / (g.alpha / skill) / g.period_days * g.a / (g.a + g.b)
    return repeat.simple.purchases_per_month * skill / DAYS_PER_MONTH * repeat.simple.dropout_prob


def expected_repeats_by_age(segment: SegmentPlan, skill: float, days: np.ndarray) -> np.ndarray:
    """Repeat purchases a buyer makes by each age in days, ignoring loyalty moves.

    BG/NBD's closed form (Fader, Hardie, Lee 2005), or, for the simple model, purchases on a
    Poisson clock until the first drop-out: (1 - e^(-rate p)) / p.
    """
    repeat = segment.repeat
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


def bgnbd_expected_repeats(
    t: np.ndarray | float, r: float, alpha: float, a: float, b: float
) -> np.ndarray | float:
    """BG/NBD: expected repeat purchases in (0, t] after the first (Fader, Hardie, Lee 2005)."""
    from scipy import special

    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    hyp = special.hyp2f1(r, b, a + b - 1.0, z)
    return (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * hyp)


def outside_per_day(plan: Plan, days: int) -> np.ndarray:
    """New outside prospects expected each day: planned contacts, fewer as the market fills."""
    month = (np.arange(days) / DAYS_PER_MONTH).astype(int)
    per_day = np.zeros(days)
    for rates in plan.outside_per_day:  # a steady line has one month, a plan one per month
        per_day += np.asarray(rates)[np.minimum(month, len(rates) - 1)]
    contacts = np.concatenate([[0.0], np.cumsum(per_day)])
    size = plan.scenario.market.size if plan.scenario.market else None
    reached = size * -np.expm1(-contacts / size) if size else contacts
    return np.diff(reached)


def _kept(buyers: np.ndarray, kept: np.ndarray | None) -> np.ndarray:
    """The buyers that queues for sellers leave, each day (all without `kept`)."""
    return buyers if kept is None else buyers * kept


def _delayed(series: np.ndarray, lag: int) -> np.ndarray:
    """The series `lag` days later, cut to its length."""
    return np.concatenate([np.zeros(min(lag, len(series))), series[: max(len(series) - lag, 0)]])


def _convolved(events: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Per day, the sum over earlier days' events of the kernel at their age."""
    return np.convolve(events, kernel)[: len(events)]
