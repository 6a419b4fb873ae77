"""The SimPy engine: arrivals, journeys, the sales team, life after the sale, referrals.

Whatever does not depend on shared state is drawn in numpy blocks when a prospect arrives
(its pass/fail path through stages no seller works). SimPy sees only what interacts: the
queue for sellers, referral contacts with the market, and changes in the antagonist count.
The engine writes the event log and counts nothing itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from hourglass.distributions import Sampler
from hourglass.log import (
    FIRST_REASON,
    INSIDE,
    PASSED,
    PURCHASE_KINDS,
    EventLog,
    contacts_table,
    moves_table,
    prospects_table,
    purchases_table,
    visits_table,
)
from hourglass.scenario import DAYS_PER_MONTH, Scenario
from hourglass.stages import (
    ACTIVE_CLASSES,
    DEFAULT_LOSS_REASON,
    DISQUALIFIED,
    FUNNEL,
    LOYALTY_CLASSES,
    SELLER_BESIDE,
    WENT_COLD,
)

_STREAMS = ("arrivals", "paths", "sales", "after_sale", "referrals")


@dataclass(frozen=True)
class Run:
    """One simulated run: the scenario, its seed and the event log."""

    scenario: Scenario
    seed: int
    log: EventLog


def simulate(scenario: Scenario, seed: int | np.random.SeedSequence | None = None) -> Run:
    """Simulate the scenario to its horizon; `seed` defaults to the scenario's own."""
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(
        scenario.seed if seed is None else seed
    )
    engine = _Engine(scenario, seq)
    entropy = seq.entropy if isinstance(seq.entropy, int) else 0
    return Run(scenario=scenario, seed=entropy, log=engine.run())


class _Market:
    """Who in a finite market has already been reached; one bit per person."""

    def __init__(self, size: int | None, rng: np.random.Generator) -> None:
        self.size, self._rng = size, rng
        self._bits = None if size is None else np.zeros((size + 7) // 8, dtype=np.uint8)
        self._picks: list[int] = []

    def claim_block(self, n: int) -> np.ndarray:
        """Land `n` time-ordered contacts on random people; True where one reached someone new."""
        if self._bits is None:
            return np.ones(n, dtype=bool)
        who = self._rng.integers(self.size, size=n)
        byte, bit = who >> 3, (who & 7).astype(np.uint8)
        free = np.flatnonzero(((self._bits[byte] >> bit) & 1) == 0)
        _, first = np.unique(who[free], return_index=True)
        new = np.zeros(n, dtype=bool)
        new[free[first]] = True
        np.bitwise_or.at(self._bits, byte[new], np.left_shift(1, bit[new]).astype(np.uint8))
        return new

    def pick_new(self) -> int:
        """A random person, or -1 if that person was reached before."""
        if self._bits is None:
            return 0
        if not self._picks:
            self._picks = self._rng.integers(self.size, size=1024).tolist()[::-1]
        who = self._picks.pop()
        return -1 if (self._bits[who >> 3] >> (who & 7)) & 1 else who

    def claim(self, who: int) -> None:
        """Mark a person picked by `pick_new` as reached."""
        if self._bits is not None:
            self._bits[who >> 3] |= np.uint8(1 << (who & 7))


class _Engine:
    """Holds the SimPy environment and the state that processes share."""

    def __init__(self, scenario: Scenario, seq: np.random.SeedSequence) -> None:
        self.s = scenario
        rngs = [np.random.default_rng(child) for child in seq.spawn(len(_STREAMS))]
        self.rng = dict(zip(_STREAMS, rngs, strict=True))
        self.env = simpy.Environment()
        self.horizon = scenario.horizon_days
        self.market = _Market(scenario.market.size, self.rng["arrivals"])
        self._setup_vocabulary()
        self._setup_funnel()
        self._setup_sales()
        self._setup_after_sale()
        self.prospects = prospects_table()
        self.visits = visits_table()
        self.purchases = purchases_table()
        self.moves = moves_table()
        self.contacts = contacts_table()
        self.open_visits: dict[int, tuple[int, float, float]] = {}
        self.pending: list[tuple[float, int]] = []
        self.batch_end = 0.0
        self.antagonists = 0

    # -- set-up: turn the scenario into arrays the processes index ---------------------------

    def _setup_vocabulary(self) -> None:
        s = self.s
        self.channels = (*s.channels.paid, "organic", "referral")
        self.referral_channel = len(self.channels) - 1
        reasons: list[str] = []
        for name, stage in s.funnel:
            reasons += list(stage.loss_reasons or {DEFAULT_LOSS_REASON[name]: 1.0})
        reasons += [WENT_COLD, DISQUALIFIED]
        self.reasons = tuple(dict.fromkeys(reasons))
        self.classes = LOYALTY_CLASSES

    def _setup_funnel(self) -> None:
        s = self.s
        referral = s.referral
        boost = referral.boost if referral else {}
        skill = s.sales.skill if s.sales else {}
        worked = {SELLER_BESIDE[w] for w in s.sales.stages} if s.sales else set()
        seller_of = {SELLER_BESIDE[w]: w for w in (s.sales.stages if s.sales else [])}
        self.worked = [name in worked for name in FUNNEL]
        self.pass_prob = np.array(
            [st.pass_prob * skill.get(seller_of.get(n, ""), 1.0) for n, st in s.funnel]
        ).clip(0.0, 1.0)
        self.pass_prob_referred = (
            self.pass_prob * np.array([boost.get(n, 1.0) for n in FUNNEL])
        ).clip(0.0, 1.0)
        self.duration = [st.duration.sampler() for _, st in s.funnel]
        self.loss_codes: list[np.ndarray] = []
        self.loss_weights: list[np.ndarray] = []
        for name, stage in s.funnel:
            weights = stage.loss_reasons or {DEFAULT_LOSS_REASON[name]: 1.0}
            codes = [FIRST_REASON + self.reasons.index(r) for r in weights]
            self.loss_codes.append(np.array(codes, dtype=np.int16))
            w = np.array(list(weights.values()))
            self.loss_weights.append(w / w.sum())
        self.drag = referral.antagonist_drag if referral else 0.0

    def _setup_sales(self) -> None:
        sales = self.s.sales
        capacity = sales.sellers * sales.leads_per_seller if sales else 0
        self.team = simpy.Resource(self.env, capacity=capacity) if sales else None
        self.patience = sales.patience.sampler() if sales and sales.patience else None
        qual = sales.qualification if sales else None
        self.qual_share = qual.share if qual else 0.0
        self.qual_duration = qual.duration.sampler() if qual else None
        self.went_cold = FIRST_REASON + self.reasons.index(WENT_COLD)
        self.disqualified = FIRST_REASON + self.reasons.index(DISQUALIFIED)

    def _setup_after_sale(self) -> None:
        s = self.s
        after = s.after_sale
        skill = s.sales.skill if s.sales else {}
        self.order_value = after.order_value.sampler()
        self.repeat = after.repeat
        self.repeat_boost = skill.get("measure", 1.0)
        offers = [getattr(after.offers, k) for k in PURCHASE_KINDS[2:]]
        self.offer_cum = np.cumsum([o.prob if o else 0.0 for o in offers])
        self.offer_factor = [o.value_factor if o else 1.0 for o in offers]
        self.start_class = self.classes.index(after.loyalty.start)
        self.class_moves: list[tuple[list[int], np.ndarray, float]] = []
        for name in self.classes:
            targets = after.loyalty.transitions_per_month.get(name, {})
            codes = [self.classes.index(t) for t in targets]
            rates = np.array(list(targets.values()), dtype=float) / DAYS_PER_MONTH
            self.class_moves.append((codes, rates.cumsum(), float(rates.sum())))
        self.active = [c in ACTIVE_CLASSES for c in self.classes]
        self.lapsed = self.classes.index("temporarily_lost")
        self.antagonist = self.classes.index("antagonist")
        referral = s.referral
        engage = skill.get("engage", 1.0)
        rates = referral.contacts_per_month if referral else {}
        self.refer_rate = [rates.get(c, 0.0) * engage / DAYS_PER_MONTH for c in self.classes]
        self.win_prob = referral.win_prob if referral else 0.0
        self.referral_delay = referral.delay.sampler() if referral else None

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> EventLog:
        self.env.process(self.outside_arrivals())
        self.env.run(until=self.horizon)
        for pid, (stage, enter, start) in self.open_visits.items():
            self.visits.add_row(pid, stage, enter, start, np.nan, INSIDE)
        return EventLog(
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
        )

    def outside_arrivals(self):
        """Paid and organic contacts land on the market day by day; new people enter Know."""
        rng, env = self.rng["arrivals"], self.env
        paid = self.s.channels.paid.values()
        organic = self.s.channels.organic
        rates = np.array(
            [c.prospects_per_day for c in paid] + [organic.prospects_per_day if organic else 0.0]
        )
        codes = np.arange(len(rates), dtype=np.int16)
        day = 0.0
        while day < self.horizon:
            end = min(day + 1.0, self.horizon)
            self.batch_end = end
            due = [item for item in self.pending if item[0] < end]
            if due:
                self.pending = [item for item in self.pending if item[0] >= end]
                due.sort()
                times = np.array([t for t, _ in due])
                referrers = np.array([r for _, r in due], dtype=np.int32)
                self.admit(times, np.full(len(due), self.referral_channel, np.int16), referrers)
            counts = rng.poisson(rates * (end - day))
            n = int(counts.sum())
            if n:
                times = day + rng.random(n) * (end - day)
                order = np.argsort(times)
                channel = np.repeat(codes, counts)[order]
                new = self.market.claim_block(n)
                self.admit(times[order][new], channel[new], np.full(int(new.sum()), -1, np.int32))
            yield env.timeout(end - day)
            day = end

    def admit(self, times: np.ndarray, channel: np.ndarray, referrer: np.ndarray) -> None:
        """New prospects enter Know; walk them through the stages no seller works."""
        n = len(times)
        if n == 0:
            return
        rng = self.rng["paths"]
        first = self.prospects.count
        self.prospects.add_block(arrival=times, channel=channel, referrer=referrer)
        ids = np.arange(first, first + n, dtype=np.int32)
        referred = referrer >= 0
        t = times
        for k in range(len(FUNNEL)):
            if self.worked[k]:
                for pid, at, warm in zip(ids.tolist(), t.tolist(), referred.tolist(), strict=True):
                    self.env.process(self.sales_journey(pid, k, at, warm))
                return
            m = len(ids)
            if m == 0:
                return
            prob = np.where(referred, self.pass_prob_referred[k], self.pass_prob[k])
            if k == 0 and self.antagonists:
                prob = prob * (1.0 - self.drag) ** self.antagonists
            passes = rng.random(m) < prob
            exit_ = t + self.duration[k].draw(rng, m)
            inside = exit_ >= self.horizon
            outcome = np.where(passes, PASSED, self._loss_codes(k, m, rng)).astype(np.int16)
            outcome[inside] = INSIDE
            self.visits.add_block(
                prospect=ids,
                stage=np.full(m, k, np.int8),
                enter=t,
                start=np.full(m, np.nan),
                exit=np.where(inside, np.nan, exit_),
                outcome=outcome,
            )
            keep = passes & ~inside
            ids, t, referred = ids[keep], exit_[keep], referred[keep]
        for pid, at in zip(ids.tolist(), t.tolist(), strict=True):
            self.on_purchase(pid, at)

    def _loss_codes(self, k: int, m: int, rng: np.random.Generator) -> np.ndarray:
        codes = self.loss_codes[k]
        if len(codes) == 1:
            return np.full(m, codes[0], np.int16)
        return rng.choice(codes, size=m, p=self.loss_weights[k])

    def _loss_code(self, k: int, rng: np.random.Generator) -> int:
        codes = self.loss_codes[k]
        if len(codes) == 1:
            return int(codes[0])
        return int(rng.choice(codes, p=self.loss_weights[k]))

    def sales_journey(self, pid: int, k0: int, at: float, referred: bool):
        """A lead walks the funnel from stage k0; at worked stages it waits for a seller.

        Also carries a lone referred prospect who arrives between two arrival batches.
        """
        env, rng, team = self.env, self.rng["sales"], self.team
        if at > env.now:
            yield env.timeout(at - env.now)
        probs = self.pass_prob_referred if referred else self.pass_prob
        for k in range(k0, len(FUNNEL)):
            enter = env.now
            prob = probs[k] * (1.0 - self.drag) ** self.antagonists if k == 0 else probs[k]
            passes = rng.random() < prob
            outcome = PASSED if passes else self._loss_code(k, rng)
            if not self.worked[k]:
                self.open_visits[pid] = (k, enter, np.nan)
                yield env.timeout(self.duration[k].draw_one(rng))
                self.visits.add_row(pid, k, enter, np.nan, env.now, outcome)
            else:
                self.open_visits[pid] = (k, enter, np.nan)
                seat = team.request()
                if not seat.triggered and self.patience is not None:
                    yield seat | env.timeout(self.patience.draw_one(rng))
                    if not seat.triggered:
                        seat.cancel()
                        del self.open_visits[pid]
                        self.visits.add_row(pid, k, enter, np.nan, env.now, self.went_cold)
                        return
                else:
                    yield seat
                start = env.now
                self.open_visits[pid] = (k, enter, start)
                if not passes and self.qual_share and rng.random() < self.qual_share:
                    outcome = self.disqualified
                    busy = self.qual_duration.draw_one(rng)
                else:
                    busy = self.duration[k].draw_one(rng)
                yield env.timeout(busy)
                team.release(seat)
                self.visits.add_row(pid, k, enter, start, env.now, outcome)
            del self.open_visits[pid]
            if not passes:
                return
        self.on_purchase(pid, env.now)

    def on_purchase(self, pid: int, day: float) -> None:
        """A first purchase at `day`: draw the customer's life to the horizon, schedule referrals.

        A customer's loyalty moves, repeat purchases and referral contacts depend on no one
        else, so they are drawn now as competing exponential clocks; only the referral
        contacts and antagonist changes, which touch shared state, become SimPy events.
        """
        rng = self.rng["after_sale"]
        self.purchases.add_row(pid, day, self.order_value.draw_one(rng), 0)
        klass = self.start_class
        self.moves.add_row(pid, day, klass)
        rate, dropout = self._repeat_params(rng)
        t = day
        while True:
            codes, cum_rates, move_rate = self.class_moves[klass]
            buy_rate = rate if self.active[klass] else 0.0
            refer_rate = self.refer_rate[klass]
            total = move_rate + buy_rate + refer_rate
            if total <= 0.0:
                return
            t += rng.exponential(1.0 / total)
            if t >= self.horizon:
                return
            u = rng.random() * total
            if u < buy_rate:
                self._repeat_purchase(pid, t, rng)
                if rng.random() < dropout:
                    klass = self._move(pid, t, klass, self.lapsed)
            elif u < buy_rate + refer_rate:
                contact = self.env.timeout(t - self.env.now, value=pid)
                contact.callbacks.append(self.referral_contact)
            else:
                i = int(np.searchsorted(cum_rates, u - buy_rate - refer_rate, side="right"))
                klass = self._move(pid, t, klass, codes[min(i, len(codes) - 1)])

    def _repeat_params(self, rng: np.random.Generator) -> tuple[float, float]:
        """This customer's repeat purchase rate per day and drop-out chance per repeat."""
        repeat = self.repeat
        if repeat is None:
            return 0.0, 0.0
        if repeat.bgnbd is not None:
            g = repeat.bgnbd
            rate = rng.gamma(g.r, 1.0 / g.alpha) / g.period_days
            return rate * self.repeat_boost, rng.beta(g.a, g.b)
        simple = repeat.simple
        return simple.purchases_per_month / DAYS_PER_MONTH * self.repeat_boost, simple.dropout_prob

    def _repeat_purchase(self, pid: int, t: float, rng: np.random.Generator) -> None:
        value = self.order_value.draw_one(rng)
        offer = int(np.searchsorted(self.offer_cum, rng.random(), side="right"))
        if offer < len(self.offer_factor):
            value *= self.offer_factor[offer]
        self.purchases.add_row(pid, t, value, 2 + offer if offer < 3 else 1)

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
        referrer, rng, now = event.value, self.rng["referrals"], self.env.now
        who = self.market.pick_new()
        won = who >= 0 and rng.random() < self.win_prob
        self.contacts.add_row(referrer, now, int(won))
        if not won:
            return
        self.market.claim(who)
        arrival = now + self.referral_delay.draw_one(rng)
        if arrival >= self.horizon:
            return
        if arrival < self.batch_end:
            pid = self.prospects.count
            self.prospects.add_row(arrival, self.referral_channel, referrer)
            self.env.process(self.sales_journey(pid, 0, arrival, True))
        else:
            self.pending.append((arrival, referrer))
