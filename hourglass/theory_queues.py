"""The sales team's capacity in the expectation: leads lost waiting and chances lost to waits.

Each role's run of consecutive worked funnel stages is a desk: a lead waits there for a seat
(a seller's place for one lead), and the seller keeps it through the run. Month by month, the
desk's offered load is the expected arrivals of that month over its mean service time; the
month is then taken to be stationary (a fluid, stationary-per-month approximation): with
exponential patience, M/M/c+M (Erlang A) gives the share served and, with speed to lead,
the mean of e^(-k W) over the served leads' waits (an exponential curve; a table of hours is
left out); without patience, M/M/c (Erlang C), and a month whose load exceeds the seats
serves only what the seats can (c mu / lambda). The shares multiply the buyers whose leads
reached the desk in that month. Exact in the stationary limit of one desk with exponential
service and patience; other patience is taken by its mean, and the spread of times between
a desk and the sale, hires' ramp, vacations, batches, routing by skill and committees' time
with a seller are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hourglass.config.plan import Plan
from hourglass.config.sales import Sales
from hourglass.stages import DAYS_PER_MONTH, FUNNEL, HOURGLASS, SELLER_BESIDE

QUEUE_PASSES = 2
"""Expectations computed in turn: each one's referred leads load the sellers of the next."""
SATURATED = 1.0 - 1e-3
"""A load taken as full, for the waits of a month whose load exceeds its seats."""


@dataclass(frozen=True)
class Desk:
    """A role's consecutive worked funnel stages, where a lead waits once for a seat."""

    first: int
    """The funnel stage where the lead queues."""
    service_days: float
    """A lead's mean time with its seller, from the first stage to leaving the desk."""
    seats: np.ndarray
    """Seats expected on each day: people times leads per seller."""
    before_days: float
    """Mean days from Know to the desk."""
    after_days: float
    """Mean days from the desk to the purchase."""


def erlang_a_kept(lam: float, mu: float, c: float, theta: float, k: float = 0.0) -> float:
    """M/M/c+M, first come first served: the mean over arrivals of e^(-k W) if served, else 0.

    An arrival finding i waiting ahead is served once i + 1 places free up at rates
    c mu + j theta (j ahead), racing its own patience theta: E = prod (c mu + j theta) /
    (c mu + j theta + theta + k), j = 0..i. With k = 0 it is the share served (1 less Erlang
    A's share abandoning). With theta = 0, Erlang C's `erlang_c_decay`, and past full load
    the share the seats can serve.
    """
    c = round(c)
    if c <= 0:
        return 0.0
    if lam <= 0.0:
        return 1.0
    if theta <= 0.0:
        if lam < c * mu:
            return _erlang_c_kept(lam, mu, c, k)
        return c * mu / lam * _erlang_c_kept(SATURATED * c * mu, mu, c, k)
    beyond = max(0.0, (lam - c * mu) / theta) + 12.0 * math.sqrt(lam / theta) + 50.0
    ahead = np.arange(math.ceil(beyond))
    log_busy = _log_busy(lam / mu, c)
    drain = c * mu + ahead * theta  # rate at which a place ahead frees up, j waiting
    log_wait = log_busy[-1] + np.cumsum(np.log(lam / (drain + theta)))
    logs = np.concatenate([log_busy, log_wait])
    pi = np.exp(logs - logs.max())
    pi /= pi.sum()
    reach = np.cumprod(drain / (drain + theta + k))  # served after j = 0..i places free up
    return float(pi[:c].sum() + pi[c:-1] @ reach[: len(pi) - c - 1])


def _log_busy(a: float, c: int) -> np.ndarray:
    """Log of the birth-death chain's unnormalised weights a^n / n! for n = 0..c."""
    n = np.arange(c + 1)
    return n * math.log(a) - np.array([math.lgamma(k + 1.0) for k in n])


def _erlang_c_kept(lam: float, mu: float, c: int, k: float) -> float:
    """M/M/c: E[e^(-k W)] = 1 - C + C (c mu - lam) / (c mu - lam + k), C the chance to wait."""
    logs = _log_busy(lam / mu, c)
    logs[-1] -= math.log1p(-lam / (c * mu))  # the whole geometric tail from n = c
    weights = np.exp(logs - logs.max())
    waiting, drain = weights[-1] / weights.sum(), c * mu - lam
    return 1.0 - waiting + waiting * drain / (drain + k)


def desks(plan: Plan, days: int) -> list[Desk]:
    """The sales team's desks in funnel order (none without a team)."""
    sales = plan.scenario.sales
    if sales is None:
        return []
    role_of = {
        FUNNEL.index(SELLER_BESIDE[stage]): name
        for name, role in sales.team.items()
        for stage in role.stages
        if HOURGLASS.index(SELLER_BESIDE[stage]) < len(FUNNEL)
    }
    means = [d.mean for d in plan.segments[0].durations]
    probs = plan.mean_pass_prob
    found, k = [], 0
    while k < len(FUNNEL):
        if k not in role_of:
            k += 1
            continue
        first, name = k, role_of[k]
        role = sales.team[name]
        quick = _quick_days(sales, name)
        share = _quick_share(sales, name)
        service, reach = 0.0, 1.0
        while k < len(FUNNEL) and role_of.get(k) == name:
            p = probs[k]
            stay = p * means[k] + (1.0 - p) * (share * quick + (1.0 - share) * means[k])
            service, reach, k = service + reach * stay, reach * p, k + 1
        found.append(
            Desk(
                first=first,
                service_days=max(service, 1e-9),
                seats=role.expected_headcount(days) * role.leads_per_seller,
                before_days=sum(means[:first]),
                after_days=sum(means[first:]),
            )
        )
    return found


def _quick_share(sales: Sales, role: str) -> float:
    """The share of a role's failing leads turned down quickly (qualification)."""
    qual = sales.qualification if sales.roles is None else sales.team[role].qualification
    return qual.share if qual else 0.0


def _quick_days(sales: Sales, role: str) -> float:
    """A quick "no"'s mean time (0 without qualification)."""
    qual = sales.qualification if sales.roles is None else sales.team[role].qualification
    return qual.duration.mean if qual else 0.0


def desk_arrivals(desk: Desk, outside: np.ndarray, referred: np.ndarray) -> np.ndarray:
    """Leads expected at a desk each day: outside and referred prospects that reach it.

    `outside` and `referred` are the prospects at Know each day, each already weighted by its
    chance to reach the desk.
    """
    at_know = outside + referred
    lag = round(desk.before_days)
    return np.concatenate([np.zeros(min(lag, len(at_know))), at_know[: len(at_know) - lag]])


def kept_by_purchase_day(
    plan: Plan,
    outside: np.ndarray,
    referred: np.ndarray,
    reach: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Per purchase day, the share of the buyers the desks leave (1 without a team).

    `outside` and `referred` are the prospects at Know each day; `reach` holds an outside and
    a referred prospect's chances to reach each funnel stage. Each desk's months are taken
    one by one at their mean arrivals and seats; a later desk sees the leads the earlier ones
    kept. A buyer of day d reached a desk `after_days` before.
    """
    days = len(outside)
    kept = np.ones(days)
    scenario = plan.scenario
    sales = scenario.sales
    theta = 1.0 / sales.patience.mean if sales and sales.patience else 0.0
    decay = sales.speed_to_lead if sales else None
    month = (np.arange(days) / DAYS_PER_MONTH).astype(int)
    upstream = np.ones(days)
    for i, desk in enumerate(desks(plan, days)):
        cold, warm = (float(r[desk.first]) for r in reach)
        arrivals = desk_arrivals(desk, outside * cold, referred * warm) * upstream
        k = decay.decay_per_day if decay and decay.exponential and i == 0 else 0.0
        by_month = np.ones(month[-1] + 1 if days else 0)
        for m in range(len(by_month)):
            inside = month == m
            by_month[m] = erlang_a_kept(
                float(arrivals[inside].mean()),
                1.0 / desk.service_days,
                float(desk.seats[inside].mean()),
                theta,
                k,
            )
        at_desk = by_month[month]
        upstream = upstream * at_desk
        lag = round(desk.after_days)
        kept *= np.concatenate([np.ones(min(lag, days)), at_desk[: days - lag]])
    return kept
