"""The SimPy engine: arrivals, journeys, the sales team, life after the sale, referrals.

Whatever does not depend on shared state is drawn in numpy blocks when a prospect arrives
(its pass/fail path through stages no seller works). SimPy sees only what interacts: leads
reaching the sales team (first come, first served, so a lead's wait and its seller's work
are settled when it arrives), referral contacts with the market, and changes in the
antagonist count. The engine writes the event log and counts nothing itself.
"""

from __future__ import annotations

import gc
import math
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial

import numpy as np
import simpy

from hourglass.config.distributions import draws
from hourglass.config.graph import build_graph
from hourglass.config.network import SOCIAL_CHANNEL
from hourglass.config.plan import Plan, compile_plan
from hourglass.config.scenario import Scenario
from hourglass.log import (
    FIRST_REASON,
    INSIDE,
    PASSED,
    PURCHASE_KINDS,
    EventLog,
    Run,
    answers_table,
    contacts_table,
    moves_table,
    prospects_table,
    purchases_table,
    visits_table,
)
from hourglass.sim.committee import BuyingCentre
from hourglass.sim.market import Market
from hourglass.sim.neighbourhood import Neighbourhood
from hourglass.sim.streams import (
    FIELDS,
    MARKET,
    PASS,
    PATIENCE,
    PATIENCE_BLOCK,
    QUICK,
    QUICK_BLOCK,
    QUICK_TIME,
    REASON,
    RUN_STREAMS,
    STAY,
    STAY_BLOCK,
    TIMES,
    UNIFORMS,
    Streams,
    child,
)
from hourglass.sim.team import Lead, Team
from hourglass.stages import (
    ACTIVE_CLASSES,
    DAYS_PER_MONTH,
    DEFAULT_LOSS_REASON,
    DISQUALIFIED,
    FUNNEL,
    LOYALTY_CLASSES,
    REFUSED_BY,
    WENT_COLD,
)


def simulate(
    scenario: Scenario,
    seed: int | np.random.SeedSequence | None = None,
    *,
    cohort: Sequence[float] = (),
) -> Run:
    """Simulate the scenario to its horizon; `seed` defaults to the scenario's own.

    Budgets act through their response curves, as the scenario's plan resolves them.
    `cohort` gives the days of first purchases of known customers (e.g. from a transaction
    log): they join as buyers on those days, outside the funnel, from channel "cohort".
    """
    seq = (
        seed
        if isinstance(seed, np.random.SeedSequence)
        else np.random.SeedSequence(scenario.seed if seed is None else seed)
    )
    days = sorted(float(d) for d in cohort)
    if days and scenario.network is not None:
        raise ValueError("cohort: known customers have no place in the network; run without it")
    if days and not (days[0] >= 0.0 and days[-1] < scenario.horizon_days):
        raise ValueError(
            f"cohort: first purchases must lie in [0, {scenario.horizon_days:g}) days, "
            f"got {days[0]:g} to {days[-1]:g}"
        )
    engine = _Engine(compile_plan(scenario), seq, days)
    entropy = seq.entropy if isinstance(seq.entropy, int) else 0
    with _cycle_collector_paused():
        log = engine.run()
    return Run(scenario=scenario, seed=entropy, log=log)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector, and restore it after.

    A run makes no reference cycles (reference counting frees all it drops), while the
    collector's passes over its many short-lived events and leads would take about a fifth
    of the run.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Engine:
    """Holds the SimPy environment and the state that processes share."""

    def __init__(self, plan: Plan, seq: np.random.SeedSequence, cohort: list[float]) -> None:
        self.plan = plan
        self.s = scenario = plan.scenario
        self.cohort = cohort
        rngs = [np.random.default_rng(child(seq, i)) for i in range(len(RUN_STREAMS))]
        self.rng = dict(zip(RUN_STREAMS, rngs, strict=True))
        network = scenario.network
        self.net = (
            Neighbourhood(
                build_graph(network.spec, network.seed),
                network.trust_boost,
                # the child after the other streams': runs without a network draw as before
                np.random.default_rng(child(seq, len(RUN_STREAMS))),
            )
            if network
            else None
        )
        self.env = simpy.Environment()
        self.horizon = scenario.horizon_days
        self.streams = Streams(seq)
        self.market = Market(scenario.market.size, self.rng["referrals"])
        self._setup_vocabulary()
        self._setup_funnel()
        self._setup_sales()
        self._setup_after_sale()
        self._setup_committee()
        self.lone_draws = Streams(seq).batch(self.referral_channel, 0, lone=True)
        self.prospects = prospects_table()
        self.visits = visits_table()
        self.purchases = purchases_table()
        self.moves = moves_table()
        self.contacts = contacts_table()
        self.answers = answers_table()
        self.pending: list[tuple[float, int, int]] = []
        self.batch_end = 0.0
        self.antagonists = 0

    # -- set-up: turn the scenario into arrays the processes index ---------------------------

    def _setup_vocabulary(self) -> None:
        s = self.s
        cohort = ("cohort",) if self.cohort else ()
        social = (SOCIAL_CHANNEL,) if s.network and s.network.social_selling else ()
        self.channels = (*s.channels.paid, "organic", "referral", *social, *cohort)
        self.referral_channel = self.channels.index("referral")
        reasons: list[str] = []
        for name, stage in s.funnel:
            reasons += list(stage.loss_reasons or {DEFAULT_LOSS_REASON[name]: 1.0})
        reasons += [WENT_COLD, DISQUALIFIED]
        self.roles = tuple(s.committee.roles) if s.committee else ()
        reasons += [REFUSED_BY + role for role in self.roles]
        self.reasons = tuple(dict.fromkeys(reasons))
        self.classes = LOYALTY_CLASSES

    def _setup_funnel(self) -> None:
        s, plan = self.s, self.plan
        self.worked = [*plan.worked, False]  # the purchase after Buy
        trusting = s.network is not None and s.network.trust_boost > 0
        self.boosted = [trusting and name in ("like", "trust") for name in FUNNEL] + [False]
        # stages decided one lead at a time, when it enters them: the worked and boosted ones
        self.per_lead = [w or b for w, b in zip(self.worked, self.boosted, strict=True)]
        self.pass_prob, self.pass_prob_referred = plan.pass_prob, plan.pass_prob_referred
        self.last_month = len(self.pass_prob) - 1
        self.duration = [st.duration.sampler() for _, st in s.funnel]
        self.loss_codes: list[np.ndarray] = []
        self.loss_cum: list[np.ndarray] = []
        for name, stage in s.funnel:
            weights = stage.loss_reasons or {DEFAULT_LOSS_REASON[name]: 1.0}
            codes = [FIRST_REASON + self.reasons.index(r) for r in weights]
            self.loss_codes.append(np.array(codes, dtype=np.int8))
            w = np.array(list(weights.values()))
            self.loss_cum.append(np.cumsum(w / w.sum())[:-1])  # reason = bisect of a uniform
        self.drag = s.referral.antagonist_drag if s.referral else 0.0
        # plain Python copies for the per-lead code, where numpy scalars cost time
        self.cold_probs = self.pass_prob.tolist()
        self.warm_probs = self.pass_prob_referred.tolist()
        self.loss_code_lists = [codes.tolist() for codes in self.loss_codes]

    def _setup_sales(self) -> None:
        sales = self.s.sales
        capacity = sales.sellers * sales.leads_per_seller if sales else 0
        self.team = Team(capacity) if sales else None
        patience = sales.patience if sales else None
        self.patience = patience.sampler() if patience else None
        qual = sales.qualification if sales else None
        self.qual_share = qual.share if qual else 0.0
        self.qual_duration = qual.duration.sampler() if qual else None
        self.went_cold = FIRST_REASON + self.reasons.index(WENT_COLD)
        self.disqualified = FIRST_REASON + self.reasons.index(DISQUALIFIED)

    def _setup_after_sale(self) -> None:
        s = self.s
        after = s.after_sale
        rng = self.rng["after_sale"]
        self.u_after = draws(rng.random)
        self.e_after = draws(rng.standard_exponential)
        self.order_value = draws(partial(after.order_value.sampler().draw, rng))
        self.repeat_boost = self.plan.repeat_skill
        self.repeat_params = self._repeat_draws(self.plan.repeat, rng)
        offers = [getattr(after.offers, k) for k in PURCHASE_KINDS[2:]]
        self.offer_cum = np.cumsum([o.prob if o else 0.0 for o in offers]).tolist()
        self.offer_factor = [o.value_factor if o else 1.0 for o in offers]
        self.start_class = self.classes.index(after.loyalty.start)
        self.class_moves: list[tuple[list[int], list[float], float]] = []
        for name in self.classes:
            targets = after.loyalty.transitions_per_month.get(name, {})
            codes = [self.classes.index(t) for t in targets]
            rates = np.array(list(targets.values()), dtype=float) / DAYS_PER_MONTH
            self.class_moves.append((codes, rates.cumsum().tolist(), float(rates.sum())))
        self.active = [c in ACTIVE_CLASSES for c in self.classes]
        self.lapsed = self.classes.index("temporarily_lost")
        self.antagonist = self.classes.index("antagonist")
        referral = s.referral
        engage, rates = self.plan.engage_skill, self.plan.contacts_per_month
        self.refer_rate = [rates.get(c, 0.0) * engage / DAYS_PER_MONTH for c in self.classes]
        self.win_prob = referral.win_prob if referral else 0.0
        ref_rng = self.rng["referrals"]
        self.u_referral = draws(ref_rng.random)
        self.referral_delay = (
            draws(partial(referral.delay.sampler().draw, ref_rng)) if referral else None
        )

    def _setup_committee(self) -> None:
        committee, sales = self.s.committee, self.s.sales
        self.committee_stage = -1
        self.centre = None
        if committee is None:
            return
        self.committee_stage = FUNNEL.index(committee.stage)
        self.per_lead[self.committee_stage] = True
        worked = set(sales.stages) if sales else set()
        self.centre = BuyingCentre(committee, self.channels, worked)
        self.refused = [FIRST_REASON + self.reasons.index(REFUSED_BY + role) for role in self.roles]

    def _repeat_draws(self, repeat, rng: np.random.Generator):
        """A function giving each new customer's (repeat rate per day, drop-out chance)."""
        if repeat is None:
            return lambda: (0.0, 0.0)
        if repeat.simple is not None:
            rate = repeat.simple.purchases_per_month / DAYS_PER_MONTH * self.repeat_boost
            return lambda: (rate, repeat.simple.dropout_prob)
        g = repeat.bgnbd
        scale = self.repeat_boost / g.alpha / g.period_days
        lam = draws(lambda n: rng.gamma(g.r, scale, n))
        dropout = draws(lambda n: rng.beta(g.a, g.b, n))
        return lambda: (lam(), dropout())

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> EventLog:
        self.env.process(self.outside_arrivals())
        self.join_cohort()
        self.env.run(until=self.horizon)
        return EventLog(
            graph=self.net.graph if self.net else None,
            horizon_days=self.horizon,
            warmup_days=self.s.warmup_days,
            seats=self.team.capacity if self.team else 0,
            channels=self.channels,
            reasons=self.reasons,
            classes=self.classes,
            prospects=self.prospects.freeze(),
            visits=self.visits.freeze(),
            purchases=self.purchases.freeze(),
            moves=self.moves.freeze(),
            contacts=self.contacts.freeze(),
            roles=self.roles,
            answers=self.answers.freeze() if self.centre else None,
        )

    def join_cohort(self) -> None:
        """Known customers become buyers on their first-purchase days."""
        code = len(self.channels) - 1
        for day in self.cohort:
            pid = self.prospects.count
            self.prospects.add_row(day, code, -1, -1)
            self.on_purchase(pid, day)

    def outside_arrivals(self):
        """Paid and organic contacts land on the market day by day; new people enter Know."""
        env = self.env
        rates = self.plan.outside_per_day  # per day, month by month
        social = self.s.network.social_selling if self.s.network else None
        day = 0
        while day < self.horizon:
            end = min(day + 1.0, self.horizon)
            self.batch_end = end
            due = [item for item in self.pending if item[0] < end]
            if due:
                self.pending = [item for item in self.pending if item[0] >= end]
                times, referrers, who = (np.array(c) for c in zip(*due, strict=True))
                gens = self.streams.batch(self.referral_channel, day)
                self.admit(times, self.referral_channel, referrers.astype(np.int32), gens, who)
            month = int(day / DAYS_PER_MONTH)
            today = [by_month[min(month, len(by_month) - 1)] for by_month in rates]
            for code, rate in enumerate(today):
                if rate <= 0:
                    continue
                gens = self.streams.batch(code, day)
                n = int(gens[TIMES].poisson(rate * (end - day)))
                times = day + gens[TIMES].random(n) * (end - day)
                who = gens[MARKET].integers(self.market.size or 1, size=n)
                new = self.market.claim_block(who)
                self.admit(times, code, np.full(n, -1, np.int32), gens, who, new)
            if social is not None and social.lift * sum(today) > 0:
                self.social_selling(day, end, social.lift * sum(today))
            yield env.timeout(end - day)
            day += 1

    def social_selling(self, day: int, end: float, rate: float) -> None:
        """Sellers' social selling reaches `rate` people a day among customers' contacts."""
        code = self.channels.index(SOCIAL_CHANNEL)
        gens = self.streams.batch(code, day)
        n = int(gens[TIMES].poisson(rate * (end - day)))
        times = day + gens[TIMES].random(n) * (end - day)
        who = self.net.near_customers(n, gens[MARKET])
        known = np.flatnonzero(who >= 0)
        new = np.zeros(n, dtype=bool)
        new[known] = self.market.claim_block(who[known])
        self.admit(times, code, np.full(n, -1, np.int32), gens, who, new)

    def admit(
        self,
        times: np.ndarray,
        channel: int,
        referrer: np.ndarray,
        gens: list[np.random.Generator],
        who: np.ndarray,
        new: np.ndarray | None = None,
    ) -> None:
        """Contacts with people `who` enter Know (those in `new`, else all); walk the stages
        no seller works, nor the network boosts.

        Each contact's luck is drawn whether or not it is admitted, row by row from its
        batch's streams, so a scenario with more contacts leaves the others' luck alone.
        """
        if not len(times):
            return
        luck = self._draw_paths(gens, len(times))
        if new is not None:
            keep = np.flatnonzero(new)
            times, referrer, luck, who = times[keep], referrer[keep], luck[keep], who[keep]
        n = len(times)
        if n == 0:
            return
        first = self.prospects.count
        node = who if self.market.size else np.full(n, -1)
        self.prospects.add_block(
            arrival=times, channel=np.full(n, channel, np.int8), referrer=referrer, node=node
        )
        if self.net:
            self.net.place(first, who)
        ids = np.arange(first, first + n, dtype=np.int32)
        rows = np.arange(n)
        referred = referrer >= 0
        t = times
        for k in range(len(FUNNEL)):
            if self.per_lead[k]:
                self._hand_over(ids, rows, t, referred, k, luck, channel)
                return
            if not len(ids):
                return
            month = np.minimum((t / DAYS_PER_MONTH).astype(np.int64), self.last_month)
            prob = np.where(referred, self.pass_prob_referred[month, k], self.pass_prob[month, k])
            if k == 0 and self.antagonists:
                prob = prob * (1.0 - self.drag) ** self.antagonists
            passes = luck[rows, k, PASS] < prob
            exit_ = t + luck[rows, k, STAY]
            inside = exit_ >= self.horizon
            lost = self.loss_codes[k][np.searchsorted(self.loss_cum[k], luck[rows, k, REASON])]
            outcome = np.where(passes, PASSED, lost).astype(np.int8)
            outcome[inside] = INSIDE
            self.visits.add_block(
                prospect=ids,
                stage=np.full(len(ids), k, np.int8),
                enter=t,
                exit=np.where(inside, np.nan, exit_),
                wait=np.full(len(ids), np.nan),
                outcome=outcome,
            )
            keep = passes & ~inside
            ids, rows, t, referred = ids[keep], rows[keep], exit_[keep], referred[keep]
        for pid, at in zip(ids.tolist(), t.tolist(), strict=True):
            self.on_purchase(pid, at)

    def _draw_paths(self, gens: list[np.random.Generator], n: int) -> np.ndarray:
        """Each contact's luck: one row per contact, one line of FIELDS per stage."""
        stages = len(FUNNEL)
        luck = np.zeros((n, stages, FIELDS))
        uniforms = gens[UNIFORMS].random((n, 3, stages))
        luck[:, :, [PASS, REASON, QUICK]] = uniforms.transpose(0, 2, 1)
        for k in range(stages):
            luck[:, k, STAY] = self.duration[k].draw(gens[STAY_BLOCK + k], n)
        if self.patience is not None:
            flat = self.patience.draw(gens[PATIENCE_BLOCK], n * stages)
            luck[:, :, PATIENCE] = flat.reshape(n, stages)
        if self.qual_duration is not None:
            flat = self.qual_duration.draw(gens[QUICK_BLOCK], n * stages)
            luck[:, :, QUICK_TIME] = flat.reshape(n, stages)
        return luck

    def _hand_over(self, ids, rows, t, referred, k: int, luck: np.ndarray, channel: int) -> None:
        """Leads reaching the first stage decided lead by lead go on in SimPy, carrying their
        own luck."""
        now = self.env.now
        warm, cold = self.warm_probs, self.cold_probs
        mine = luck[rows, k:].reshape(len(rows), (len(FUNNEL) - k) * FIELDS).tolist()
        for pid, at, ref, row in zip(
            ids.tolist(), t.tolist(), referred.tolist(), mine, strict=True
        ):
            lead = Lead(pid, channel, k, at, warm if ref else cold, row)
            self.env.timeout(at - now, value=lead).callbacks.append(self._arrives)

    def _arrives(self, event: simpy.Event) -> None:
        """A lead gets to its stage: one the team works, or one it walks alone."""
        lead = event.value
        if self.worked[lead.stage]:
            self._meet_team(lead)
        else:
            self._walk_on(lead, lead.stage, lead.at, entering=True)

    def _meet_team(self, lead: Lead) -> None:
        """A lead reaches a worked stage: it gets the first free seat or goes cold waiting.

        Whoever came earlier has been served already, so the seat, the wait and everything
        the seller's work decides are known now; the visits are logged at once, up to the
        next worked stage, the purchase or the end of the lead's journey.
        """
        pid, k, t, luck = lead.pid, lead.stage, lead.at, lead.luck
        base = (k - lead.first) * FIELDS  # where stage k's luck begins
        visit, horizon, team = self.visits.add_row, self.horizon, self.team
        start = team.first_free(t)
        cold = t + luck[base + PATIENCE] if self.patience is not None else math.inf
        if cold < start:
            if cold < horizon:
                visit(pid, k, t, cold, math.nan, self.went_cold)
            else:
                visit(pid, k, t, math.nan, math.nan, INSIDE)
            return
        if start >= horizon:
            visit(pid, k, t, math.nan, math.nan, INSIDE)
            return
        wait, done = start - t, start
        while True:  # the seller stays through consecutive worked stages
            passes, outcome = self._decide(lead, k, base, t)
            if not passes and luck[base + QUICK] < self.qual_share:
                outcome = self.disqualified
                done += luck[base + QUICK_TIME]
            else:
                done += luck[base + STAY]
            if passes and k == self.committee_stage:
                passes, outcome, done = self._hear_committee(lead, base, done)
            if done >= horizon:
                visit(pid, k, t, math.nan, wait, INSIDE)
                team.take(start, done)
                return
            visit(pid, k, t, done, wait, outcome)
            if not (passes and self.worked[k + 1]):
                break
            k, t, wait, base = k + 1, done, 0.0, base + FIELDS
        team.take(start, done)
        if passes:
            self._walk_on(lead, k + 1, done)

    def _walk_on(self, lead: Lead, k: int, t: float, entering: bool = False) -> None:
        """The lead enters stage `k` (or buys, past the last) at `t`; walk the stages no seller
        works, logging each visit, until it comes back to the team, buys or leaves.

        A boosted stage is decided when the lead enters it (`entering`: now), since the
        customers it knows count; one entered later waits for its own event.
        """
        luck, visit = lead.luck, self.visits.add_row
        base = (k - lead.first) * FIELDS  # where stage k's luck begins
        while not self.worked[k]:
            if k == len(FUNNEL):
                self.on_purchase(lead.pid, t)
                return
            if self.boosted[k] and not entering:
                break
            entering = False
            passes, outcome = self._decide(lead, k, base, t)
            done = t + luck[base + STAY]
            if passes and k == self.committee_stage:
                passes, outcome, done = self._hear_committee(lead, base, done)
            if done >= self.horizon:
                visit(lead.pid, k, t, math.nan, math.nan, INSIDE)
                return
            visit(lead.pid, k, t, done, math.nan, outcome)
            if not passes:
                return
            k, t, base = k + 1, done, base + FIELDS
        lead.stage, lead.at = k, t
        self.env.timeout(t - self.env.now, value=lead).callbacks.append(self._arrives)

    def _decide(self, lead: Lead, k: int, base: int, t: float) -> tuple[bool, int]:
        """Whether the lead passes stage `k`, entered at `t` (its luck from `base`), and the
        visit's outcome."""
        month = min(int(t / DAYS_PER_MONTH), self.last_month) if self.last_month else 0
        prob = lead.probs[month][k]
        if k == 0 and self.antagonists:
            prob *= (1.0 - self.drag) ** self.antagonists
        if self.boosted[k]:
            prob = min(1.0, prob * self.net.trust_factor(lead.pid))
        if lead.luck[base + PASS] < prob:
            return True, PASSED
        reason = bisect_right(self.loss_cum[k], lead.luck[base + REASON])
        return False, self.loss_code_lists[k][reason]

    def _hear_committee(self, lead: Lead, base: int, start: float) -> tuple[bool, int, float]:
        """The deal goes to its committee at `start`: whether it passes, the visit's outcome,
        and when the last answer came.

        The committee's answers come from the deal's loss-reason uniform at this stage, which
        a deal that passed the stage's own odds has not used.
        """
        end, role = self.centre.convene(
            lead.pid, lead.channel, start, self.horizon, self.answers, lead.luck[base + REASON]
        )
        if role < 0:
            return True, PASSED, end
        return False, self.refused[role], end

    def on_purchase(self, pid: int, day: float) -> None:
        """A first purchase at `day`: draw the customer's life to the horizon, schedule referrals.

        A customer's loyalty moves, repeat purchases and referral contacts depend on no one
        else, so they are drawn now as competing exponential clocks; only the referral
        contacts and antagonist changes, which touch shared state, become SimPy events.
        """
        u = self.u_after
        self.purchases.add_row(pid, day, self.order_value(), 0)
        if self.net:
            self.net.bought(pid)
        klass = self.start_class
        self.moves.add_row(pid, day, klass)
        rate, dropout = self.repeat_params()
        t = day
        while True:
            codes, cum_rates, move_rate = self.class_moves[klass]
            buy_rate = rate if self.active[klass] else 0.0
            refer_rate = self.refer_rate[klass]
            total = move_rate + buy_rate + refer_rate
            if total <= 0.0:
                return
            t += self.e_after() / total
            if t >= self.horizon:
                return
            pick = u() * total
            if pick < buy_rate:
                self._repeat_purchase(pid, t)
                if u() < dropout:
                    klass = self._move(pid, t, klass, self.lapsed)
            elif pick < buy_rate + refer_rate:
                contact = self.env.timeout(t - self.env.now, value=pid)
                contact.callbacks.append(self.referral_contact)
            else:
                i = bisect_right(cum_rates, pick - buy_rate - refer_rate)
                klass = self._move(pid, t, klass, codes[min(i, len(codes) - 1)])

    def _repeat_purchase(self, pid: int, t: float) -> None:
        value = self.order_value()
        offer = bisect_right(self.offer_cum, self.u_after())
        if offer < len(self.offer_factor):
            value *= self.offer_factor[offer]
            self.purchases.add_row(pid, t, value, 2 + offer)
        else:
            self.purchases.add_row(pid, t, value, 1)

    def _move(self, pid: int, t: float, old: int, new: int) -> int:
        self.moves.add_row(pid, t, new)
        if self.antagonist in (old, new):
            change = self.env.timeout(t - self.env.now, value=1 if new == self.antagonist else -1)
            change.callbacks.append(self._count_antagonist)
        return new

    def _count_antagonist(self, event: simpy.Event) -> None:
        self.antagonists += event.value

    def referral_contact(self, event: simpy.Event) -> None:
        """An advocate talks to someone; a new person won over arrives after a delay."""
        referrer, now = event.value, self.env.now
        net = self.net
        who = self.market.free(net.neighbour(referrer)) if net else self.market.pick_new()
        won = who >= 0 and self.u_referral() < self.win_prob
        self.contacts.add_row(referrer, now, int(won))
        if not won:
            return
        self.market.claim(who)
        arrival = now + self.referral_delay()
        if arrival >= self.horizon:
            return
        if arrival < self.batch_end:  # too soon for the next batch: it walks on its own
            pid = self.prospects.count
            node = who if self.market.size else -1
            self.prospects.add_row(arrival, self.referral_channel, referrer, node)
            if self.net:
                self.net.place(pid, np.array([who]))
            luck = self._draw_paths(self.lone_draws, 1)
            self._hand_over(
                np.array([pid]),
                np.array([0]),
                np.array([arrival]),
                np.array([True]),
                0,
                luck,
                self.referral_channel,
            )
        else:
            self.pending.append((arrival, referrer, who))
