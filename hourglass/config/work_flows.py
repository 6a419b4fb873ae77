"""The expected flows of one run, followed step by step over its horizon.

What `hourglass.config.work` counts the work from: prospects found in a finite market, the
funnel's visits with a busy team letting leads go cold, buyers joining after the funnel's
mean time, customers moving between loyalty classes (a linear system, stepped exactly),
their repeat purchases and referral contacts, and referred prospects arriving warmer.
"""

from __future__ import annotations

import math

import numpy as np

from hourglass.config.plan import Plan
from hourglass.config.sections import MAX_PROSPECTS_PER_DAY
from hourglass.stages import ACTIVE_CLASSES, DAYS_PER_MONTH, FUNNEL, LOYALTY_CLASSES

STEPS = 128
"""Time steps the horizon is followed in (at least a day each)."""


class Flows:
    """Expected flows of one run, followed in steps over the horizon."""

    def __init__(self, plan: Plan) -> None:
        self.s = scenario = plan.scenario
        self.horizon = scenario.horizon_days
        self.dt = max(1.0, self.horizon / STEPS)
        self.steps = math.ceil(self.horizon / self.dt)
        self.outside = [list(by_month) for by_month in plan.outside_per_day]
        social = scenario.network.social_selling if scenario.network else None
        self.social_lift = social.lift if social else 0.0
        self.market = scenario.market.size
        self.stay = [stage.duration.mean for _, stage in scenario.funnel]
        self.worked = [name in plan.seller_of for name in FUNNEL]
        self.first_worked = self.worked.index(True) if any(self.worked) else -1
        self.cold = plan.pass_prob.tolist()
        self.warm = plan.pass_prob_referred.tolist()
        stop = max(self.first_worked, 0)
        self.to_team = [
            (math.prod(c[:stop]), math.prod(w[:stop]))
            for c, w in zip(self.cold, self.warm, strict=True)
        ]
        self._committee(plan)
        self._team(plan)
        self._customers(plan)
        self.largest_batch = min(
            max((max(r) for r in self.outside), default=0.0) * (1 + self.social_lift),
            MAX_PROSPECTS_PER_DAY * (1 + self.social_lift),
        )
        self.leads_in_flight = 0.0

    def _committee(self, plan: Plan) -> None:
        """Each deal's chance to pass its committee, its days there and the answers it gives."""
        committee = self.s.committee
        self.committee_stage = FUNNEL.index(committee.stage) if committee else -1
        self.committee = {}
        if committee is None:
            return
        worked = set(plan.seller_of.values())
        for kind, channel in (("cold", "default"), ("warm", "referral")):
            passed, days, answers = 1.0, 0.0, 0.0
            for role in committee.sequence(channel):
                spec = committee.roles[role]
                agree = committee.agreement_prob(role, worked)
                s, m = 1.0 - (1.0 - agree) * spec.weight, spec.people - 1.0
                answers += passed * (1.0 + m)
                days += (1.0 + m * s) * spec.delay.mean
                passed *= s * math.exp(-m * (1.0 - s))
            self.committee[kind] = (passed, days, answers)

    def _team(self, plan: Plan) -> None:
        """Leads the team can start per day: seats over the days a lead holds one.

        Also the share of the first worked stage's chance that speed to lead leaves, at the
        mean wait a role's batches make (half a batch).
        """
        sales = self.s.sales
        self.first_decay = 1.0
        if sales is None or self.first_worked < 0:
            self.capacity = math.inf
            return
        if sales.speed_to_lead is not None:
            first = plan.seller_of[FUNNEL[self.first_worked]]
            role = next(r for r in sales.team.values() if first in r.stages)
            self.first_decay = sales.speed_to_lead.factor((role.batch_days or 0.0) / 2)
        held, reach = 0.0, 1.0
        for k in range(self.first_worked, len(FUNNEL)):
            if not self.worked[k]:
                break
            held += reach * self.stay[k]
            reach *= float(plan.mean_pass_prob[k])
        self.capacity = sales.seats / max(held, 1e-9)

    def _customers(self, plan: Plan) -> None:
        """Loyalty moves as a generator; repeat, referral and move rates per class and day."""
        after = self.s.after_sale
        n = len(LOYALTY_CLASSES)
        rate, dropout = _repeat_rate(plan)
        generator = np.zeros((n, n))
        for source, targets in after.loyalty.transitions_per_month.items():
            for target, per_month in targets.items():
                i, j = LOYALTY_CLASSES.index(source), LOYALTY_CLASSES.index(target)
                generator[i, j] += per_month / DAYS_PER_MONTH
        active = np.array([c in ACTIVE_CLASSES for c in LOYALTY_CLASSES], dtype=float)
        lapsed = LOYALTY_CLASSES.index("temporarily_lost")
        generator[:, lapsed] += active * rate * dropout
        moves = generator.sum(axis=1) - np.diag(generator)
        np.fill_diagonal(generator, 0.0)
        np.fill_diagonal(generator, -generator.sum(axis=1))
        contacts = np.array(
            [plan.contacts_per_month.get(c, 0.0) * plan.engage_skill for c in LOYALTY_CLASSES]
        )
        rates = np.stack([active * rate, contacts / DAYS_PER_MONTH, moves], axis=1)
        self.step_matrix, occupancy = exp_and_integral(generator, self.dt)
        self.step_flows = occupancy @ rates  # a class's repeat buys, contacts, moves in a step
        self.start = LOYALTY_CLASSES.index(after.loyalty.start)
        self.antagonist = LOYALTY_CLASSES.index("antagonist")
        referral = self.s.referral
        self.win_prob = referral.win_prob if referral else 0.0
        self.referral_delay = referral.delay.mean if referral else 0.0
        self.drag = referral.antagonist_drag if referral else 0.0

    def follow(self, known: list[float]) -> dict[str, float]:
        """Step through the horizon; expected log rows of the run."""
        steps, dt = self.steps, self.dt
        buyers_in, referred_in = np.zeros(steps + 1), np.zeros(steps + 1)
        for day in known:
            buyers_in[min(int(day / dt), steps)] += 1.0
        total = dict.fromkeys(("prospects", "referred", "visits", "worked_visits"), 0.0)
        total |= dict.fromkeys(("customers", "purchases", "moves", "contacts", "answers"), 0.0)
        customers = np.zeros(len(LOYALTY_CLASSES))
        flows, step = self.step_flows, self.step_matrix
        reached = 0.0
        for i in range(steps):
            t = (i + 0.5) * dt
            month = int(t / DAYS_PER_MONTH)
            contacts = dt * sum(r[min(month, len(r) - 1)] for r in self.outside)
            contacts *= 1.0 + self.social_lift
            new = contacts
            if self.market:
                new = (self.market - reached) * -math.expm1(-contacts / self.market)
                reached += new
            warm = referred_in[i]
            total["prospects"] += new + warm
            total["referred"] += warm
            drag = (1.0 - self.drag) ** float(customers[self.antagonist]) if self.drag else 1.0
            self._funnel(t, new, warm, drag, buyers_in, total)
            customers[self.start] += buyers_in[i]
            total["customers"] += buyers_in[i]
            total["moves"] += buyers_in[i]
            bought, talked, moved = (customers @ flows).tolist()
            customers = customers @ step
            total["purchases"] += buyers_in[i] + bought
            total["contacts"] += talked
            total["moves"] += moved
            won = talked * self.win_prob
            if self.market:
                won = min(won * max(0.0, 1.0 - reached / self.market), self.market - reached)
                reached += won
            arrives = t + self.referral_delay
            if arrives < self.horizon:  # in a later step: this one's arrivals are counted
                referred_in[max(int(arrives / dt), i + 1)] += won
        self.joined = buyers_in  # first purchases by step, for the service ladder's moves
        return {name: float(value) for name, value in total.items()}

    def _funnel(self, t: float, cold: float, warm: float, drag: float, buyers_in, total) -> None:
        """Prospects entering Know at `t` walk the funnel; their buyers join later."""
        month = min(int(t / DAYS_PER_MONTH), len(self.cold) - 1)
        served = 1.0
        if self.first_worked >= 0:
            cold_share, warm_share = self.to_team[month]
            leads = (cold * cold_share + warm * warm_share) * drag / self.dt
            served = min(1.0, self.capacity / leads) if leads > 0 else 1.0
            self.leads_in_flight = max(self.leads_in_flight, leads * sum(self.stay))
        for kind, n, probs in (("cold", cold, self.cold[month]), ("warm", warm, self.warm[month])):
            if n <= 0.0:
                continue
            at, entering = t, n
            for k in range(len(FUNNEL)):
                if at >= self.horizon:
                    break
                total["visits"] += entering
                if self.worked[k]:
                    total["worked_visits"] += entering
                passing = probs[k] * (drag if k == 0 else 1.0)
                passing *= served * self.first_decay if k == self.first_worked else 1.0
                at += self.stay[k]
                if k == self.committee_stage:
                    passed, days, answers = self.committee[kind]
                    total["answers"] += entering * probs[k] * answers
                    passing *= passed
                    at += days
                entering *= passing
            else:
                if at < self.horizon:
                    buyers_in[int(at / self.dt)] += entering


def _repeat_rate(plan: Plan) -> tuple[float, float]:
    """A customer's mean repeat purchases per day and chance to lapse after each."""
    repeat = plan.repeat
    if repeat is None:
        return 0.0, 0.0
    if repeat.simple is not None:
        simple = repeat.simple
        return simple.purchases_per_month / DAYS_PER_MONTH * plan.repeat_skill, simple.dropout_prob
    g = repeat.bgnbd
    return g.r / g.alpha / g.period_days * plan.repeat_skill, g.a / (g.a + g.b)


def exp_and_integral(generator: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """exp(G dt) and the integral of exp(G s) for s in [0, dt] (Van Loan's block matrix)."""
    n = len(generator)
    block = np.zeros((2 * n, 2 * n))
    block[:n, :n] = generator
    block[:n, n:] = np.eye(n)
    full = _expm(block * dt)
    return full[:n, :n], full[:n, n:]


def _expm(matrix: np.ndarray) -> np.ndarray:
    """The matrix exponential by scaling and squaring a Taylor series.

    scipy's expm starts its BLAS threads on every call (milliseconds on a busy machine); a
    run asks for one small exponential, which numpy's products give in microseconds.
    """
    norm = float(np.abs(matrix).sum(axis=1).max())
    squarings = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    scaled = matrix / 2.0**squarings
    term = result = np.eye(len(matrix))
    for k in range(1, 14):  # |x| <= 0.5: the 14th term is below 1e-15
        term = term @ scaled / k
        result = result + term
    for _ in range(squarings):
        result = result @ result
    return result
