"""Day by day, what theory expects of the customers a business has on day 0.

The scenario's `starting_customers` (`hourglass.config.cohort`) start on day 0 in their
loyalty classes. Each customer's purchase rate lambda and drop-out chance p are one of a few
quadrature nodes: one for the simple model, BG/NBD's Gamma and Beta otherwise (as
`theory_money.lapse_mixture` weighs them). A customer still buying on day 0 after a tenure
of T days is one who did not drop out, which weighs each node by e^(-lambda p T); one not
buying keeps the new customers' weights. Each node's loyalty chain, with drop-outs at
lambda p a day while active, is followed day by day; purchases come at lambda while active.
Without loyalty moves, N customers of the simple model make N (1 - e^(-r p t)) / p repeat
purchases by t, and under BG/NBD N (E[X(T + t)] - E[X(T)]) / S(T).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from hourglass.config.plan import Plan
from hourglass.config.sections import Repeat
from hourglass.stages import ACTIVE_CLASSES, DAYS_PER_MONTH, LOYALTY_CLASSES
from hourglass.theory_money import (
    RATE_NODES,
    _exp_of_day,
    _offer_factor,
    loyalty_generator,
)

DROP_NODES = 32
"""Jacobi nodes for the drop-out chance: survivors' weights (beta / (beta + p T))^r vary
fast in p, and four times new customers' nodes keep their repeats within 1e-4 of the
closed form after two years."""

ACTIVE_MASK = np.isin(LOYALTY_CLASSES, list(ACTIVE_CLASSES)).astype(float)
"""1 for the classes whose members still buy."""


@dataclass(frozen=True)
class StartingDays:
    """The starting customers' expected numbers on each day from day 0."""

    active: np.ndarray
    """Customers still buying at the end of each day."""
    repeats: np.ndarray
    """Repeat purchases made in each day."""
    talk: np.ndarray
    """Referral contacts that win someone over, made in each day."""
    serve: np.ndarray
    """The cost to serve those still buying, each day."""
    revenue: np.ndarray
    """Their repeat orders' value (offers included), each day."""


def repeat_nodes(
    repeat: Repeat | None, skill: float, tenure: float = 0.0
) -> tuple[np.ndarray, ...]:
    """Purchase rates per day, drop-out chances and weights of the customers' kinds.

    The weights are of customers who went `tenure` days without dropping out, and add up to
    their chance of doing so. One kind for the simple model (or none buying); BG/NBD's by
    Gauss quadrature, Jacobi for p ~ Beta(a, b) and generalised Laguerre for lambda, whose
    Gamma(r, beta) weighed by e^(-lambda p T) is (beta / (beta + p T))^r Gamma(r, beta + p T):
    the survivors' nodes are as exact as the new customers'.
    """
    if repeat is None:
        return np.zeros(1), np.zeros(1), np.ones(1)
    if repeat.simple is not None:
        rate = repeat.simple.purchases_per_month * skill / DAYS_PER_MONTH
        chance = repeat.simple.dropout_prob
        return np.array([rate]), np.array([chance]), np.exp([-rate * chance * tenure])
    from scipy import special

    g = repeat.bgnbd
    x, wx = special.roots_genlaguerre(RATE_NODES, g.r - 1.0)
    y, wy = special.roots_jacobi(DROP_NODES, g.b - 1.0, g.a - 1.0)
    chances = (1.0 + y) / 2.0
    beta = g.alpha * g.period_days / skill  # lambda's Gamma rate, per day
    tilted = beta + chances * tenure
    rates = (x[:, None] / tilted[None, :]).ravel()
    weights = np.outer(wx / wx.sum(), wy / wy.sum() * (beta / tilted) ** g.r).ravel()
    return rates, np.tile(chances, RATE_NODES), weights


def still_buying(plan: Plan) -> float:
    """How many starting customers are expected to be in a class that buys on day 0."""
    starting = plan.scenario.starting_customers
    if starting is None:
        return 0.0
    state = _day_zero(plan, plan.segments[0].repeat)[2]
    return float((state @ ACTIVE_MASK).sum() * starting.count)


def starting_days(plan: Plan, days: int) -> StartingDays | None:
    """The starting customers' active numbers, repeats, talk and cost to serve per day."""
    s = plan.scenario
    starting = s.starting_customers
    if starting is None:
        return None
    segment = plan.segments[0]  # the engine's starting customers are of the first segment
    rates, chances, state = _day_zero(plan, segment.repeat)
    classes, buying = _followed(
        loyalty_generator(s).tobytes(),
        rates.tobytes(),
        (rates * chances).tobytes(),
        (state * starting.count).tobytes(),
        days,
    )
    talk_rates = np.zeros(len(LOYALTY_CLASSES))
    if s.referral:
        won = plan.engage_skill / DAYS_PER_MONTH * s.referral.win_prob
        talk_rates = np.array([segment.contacts_per_month.get(c, 0.0) for c in LOYALTY_CLASSES])
        talk_rates = talk_rates * won
    # a day's purchases and talk: the mean of its start and end (the trapezoid rule)
    active = classes[1:] @ ACTIVE_MASK
    repeats = (buying[:-1] + buying[1:]) / 2.0
    return StartingDays(
        active=active,
        repeats=repeats,
        talk=(classes[:-1] + classes[1:]) / 2.0 @ talk_rates,
        serve=active * segment.cost_to_serve_per_month / DAYS_PER_MONTH,
        revenue=repeats * segment.order_value.mean * _offer_factor(s),
    )


@lru_cache(maxsize=16)
def _followed(
    generator: bytes, rates: bytes, lapses: bytes, state: bytes, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """All kinds' loyalty chains from day 0: people in each class, purchases a day, by day.

    On days 0 ... `days`, the purchases a day are each kind's rate times those still buying.
    Active customers also lapse to temporarily lost at their kind's rate. Without loyalty
    moves that is the whole chain, e^(L theta t) = I + (1 - e^(-theta t)) L, written down at
    once; with them it is followed a day at a time. Kept for the optimisers, which ask again
    while only the money changes.
    """
    moves = np.frombuffer(generator).reshape(len(LOYALTY_CLASSES), -1)
    rate, lapse = np.frombuffer(rates), np.frombuffer(lapses)
    start = np.frombuffer(state).reshape(len(rate), -1)
    lapsing = np.zeros_like(moves)
    for row in np.flatnonzero(ACTIVE_MASK):
        lapsing[row, LOYALTY_CLASSES.index("temporarily_lost")] += 1.0
        lapsing[row, row] -= 1.0
    if not moves.any():
        gone = -np.expm1(-np.outer(np.arange(days + 1.0), lapse))
        change = start @ lapsing
        classes = start.sum(axis=0) + gone @ change
        return classes, (start @ ACTIVE_MASK) @ rate + gone @ (rate * (change @ ACTIVE_MASK))
    steps = _exp_of_day(moves + lapse[:, None, None] * lapsing)
    by_day = np.empty((days + 1, *start.shape))
    by_day[0] = start
    for day in range(days):
        by_day[day + 1] = np.einsum("ij,ijk->ik", by_day[day], steps)
    return by_day.sum(axis=1), (by_day @ ACTIVE_MASK) @ rate


def _day_zero(plan: Plan, repeat: Repeat | None) -> tuple[np.ndarray, ...]:
    """The kinds' rates and drop-out chances, and each kind's share in each class on day 0.

    Those still buying are of the kinds that went the tenure without dropping out, the
    others of a new customer's kinds; without classes given, the tenure decides who still
    buys, and those who dropped out start temporarily lost.
    """
    s = plan.scenario
    starting = s.starting_customers
    tenure = starting.months_as_customers * DAYS_PER_MONTH
    kept_rates, kept_chances, kept = repeat_nodes(repeat, plan.repeat_skill, tenure)
    rates, chances, weights = repeat_nodes(repeat, plan.repeat_skill)
    buying = np.zeros(len(LOYALTY_CLASSES))
    others = np.zeros(len(LOYALTY_CLASSES))
    if starting.by_class is None:
        buying[LOYALTY_CLASSES.index(s.after_sale.loyalty.start)] = 1.0
        others[LOYALTY_CLASSES.index("temporarily_lost")] = 1.0
        lapsed = weights * -np.expm1(-rates * chances * tenure)
    else:
        for klass, share in starting.by_class.items():
            (buying if klass in ACTIVE_CLASSES else others)[LOYALTY_CLASSES.index(klass)] = share
        kept, lapsed = kept / kept.sum(), weights
    state = np.concatenate([np.outer(kept, buying), np.outer(lapsed, others)])
    return np.concatenate([kept_rates, rates]), np.concatenate([kept_chances, chances]), state
