"""Life after the first purchase: loyalty moves, repeat purchases and referral contacts."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from functools import partial

import numpy as np
import simpy

from hourglass.config.distributions import draws
from hourglass.config.segments import segment_ladders
from hourglass.log import INSIDE, LEFT_SERVICE, PASSED, PURCHASE_KINDS
from hourglass.sim.known import KNOWN_STREAM
from hourglass.sim.streams import LADDER_STREAM, child
from hourglass.stages import ACTIVE_CLASSES, DAYS_PER_MONTH, FUNNEL

REPEAT_STAGE = len(FUNNEL)
"""The stage code of a follow-up's visit: Repeat, the customer stage beside `measure`."""
REFER_STAGE = len(FUNNEL) + 1
"""The stage code of a referral talk's visit: Refer, the customer stage beside `engage`."""
FOLLOW_UP_STREAM = 8111
"""The child index of the follow-ups' stream, far from the others like the ladder's."""
ENGAGE_STREAM = 8113
"""The child index of the referral talks' stream (their durations and patience)."""


class Customers:
    """The engine's customers: each one's life is drawn at the first purchase.

    A part of the engine (`sim.engine`): it works on the engine's state (the plan, the
    random streams, the market, the log tables) and hands referred prospects back to the
    funnel.
    """

    def _setup_after_sale(self) -> None:
        s = self.s
        after = s.after_sale
        rng = self.rng["after_sale"]
        self.u_after = draws(rng.random)
        self.e_after = draws(rng.standard_exponential)
        segments = self.plan.segments
        # by segment: order values, (repeat rate, drop-out) and referral rates by class
        self.order_values = [draws(partial(s.order_value.sampler().draw, rng)) for s in segments]
        self.repeat_boost = self.plan.repeat_skill
        self.repeat_params = [self._repeat_draws(s.repeat, rng) for s in segments]
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
        engage = self.plan.engage_skill
        self.refer_rates = [
            [s.contacts_per_month.get(c, 0.0) * engage / DAYS_PER_MONTH for c in self.classes]
            for s in segments
        ]
        self.win_prob = referral.win_prob if referral else 0.0
        self.talks: defaultdict[int, list[tuple[float, int]]] = defaultdict(list)
        ref_rng = self.rng["referrals"]
        self.u_referral = draws(ref_rng.random)
        self.referral_delay = (
            draws(partial(referral.delay.sampler().draw, ref_rng)) if referral else None
        )

    def _setup_follow_up(self) -> None:
        """The follow-ups' draws, from their own stream: runs without them draw as before."""
        sales = self.s.sales
        follow_up = sales.follow_up if sales else None
        self.follow_after = follow_up.after_days if follow_up else math.inf
        self.follow_ups_missed = [0] * len(self.sellers)
        self.talks_missed = [0] * len(self.sellers)
        if follow_up is None:
            return
        rng = np.random.default_rng(child(self.seq, FOLLOW_UP_STREAM))
        self.follow_duration = draws(partial(follow_up.duration.sampler().draw, rng))
        patience = follow_up.patience
        self.follow_patience = draws(partial(patience.sampler().draw, rng)) if patience else None
        self.u_follow = draws(rng.random)
        self.follow_prob = follow_up.repeat_prob * self.follow_skill

    def _setup_engage(self) -> None:
        """The referral talks' draws when a role works them, from their own stream."""
        engage = self.s.sales.engage if self.s.sales else None
        if engage is None:
            return
        rng = np.random.default_rng(child(self.seq, ENGAGE_STREAM))
        self.engage_duration = draws(partial(engage.duration.sampler().draw, rng))
        patience = engage.patience
        self.engage_patience = draws(partial(patience.sampler().draw, rng)) if patience else None

    def _setup_ladder(self, seq: np.random.SeedSequence) -> None:
        """Each segment's service-ladder moves out of each level, drawn from the ladder's stream.

        Every segment's upgrades take the scenario's account-management lift.
        """
        self.ladder = self.s.after_sale.service_ladder
        if self.ladder is None:
            return
        rng = np.random.default_rng(child(seq, LADDER_STREAM))
        self.u_ladder = draws(rng.random)
        self.e_ladder = draws(rng.standard_exponential)
        lift = self.ladder.upgrade_factor()
        ladders = segment_ladders(self.ladder, self.s.segments)
        self.ladder_start = [ladder.start_index for ladder in ladders]
        self.level_exits = [self._level_exits(ladder.generator(lift)) for ladder in ladders]

    @staticmethod
    def _level_exits(q: np.ndarray) -> list[tuple[list[int], list[float], float]]:
        """Per level: the levels (or LEFT_SERVICE) it moves to, their cumulative rates, total."""
        n = len(q) - 1
        exits = []
        for level in range(n):
            targets = [j for j in range(n + 1) if j != level and q[level, j] > 0.0]
            codes = [j if j < n else LEFT_SERVICE for j in targets]
            rates = q[level, targets]
            exits.append((codes, rates.cumsum().tolist(), float(rates.sum())))
        return exits

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

    def on_purchase(
        self,
        pid: int,
        day: float,
        segment: int = 0,
        *,
        opening: bool = True,
        state: tuple[int, float, float] | None = None,
    ) -> None:
        """A first purchase at `day`: draw the customer's life to the horizon, schedule referrals.

        Order values, repeat buying and talk follow the customer's `segment`. Without
        `opening` the first purchase was made before the run and is not logged; `state`
        (loyalty class, repeat rate per day, drop-out chance) is a starting customer's.

        A customer's loyalty moves, repeat purchases and referral contacts depend on no one
        else, so they are drawn now as competing exponential clocks; only the referral
        contacts, antagonist changes and the follow-up (due `follow_after` days on, for a
        customer who still buys then), which touch shared state, become SimPy events.
        """
        u = self.u_after
        order_value, refer_rates = self.order_values[segment], self.refer_rates[segment]
        if opening:
            self.purchases.add_row(pid, day, order_value(), 0)
        if self.ladder:
            self._climb(pid, day, segment)
        if self.net:
            self.net.bought(pid)
        if state is None:
            klass, (rate, dropout) = self.start_class, self.repeat_params[segment]()
        else:
            klass, rate, dropout = state
        self.moves.add_row(pid, day, klass)
        t, follow_at, klass_then = day, day + self.follow_after, -1
        while True:
            codes, cum_rates, move_rate = self.class_moves[klass]
            buy_rate = rate if self.active[klass] else 0.0
            refer_rate = refer_rates[klass]
            total = move_rate + buy_rate + refer_rate
            if total <= 0.0:
                break
            t += self.e_after() / total
            if t > follow_at and klass_then < 0:
                klass_then = klass
            if t >= self.horizon:
                break
            pick = u() * total
            if pick < buy_rate:
                self._repeat_purchase(pid, t, order_value)
                if u() < dropout:
                    klass = self._move(pid, t, klass, self.lapsed)
            elif pick < buy_rate + refer_rate:
                self._will_talk(pid, t)
            else:
                i = bisect_right(cum_rates, pick - buy_rate - refer_rate)
                klass = self._move(pid, t, klass, codes[min(i, len(codes) - 1)])
        if follow_at < self.horizon and self.active[klass if klass_then < 0 else klass_then]:
            due = self.env.timeout(follow_at - self.env.now, value=(pid, order_value))
            due.callbacks.append(self._follow_up)

    def join_known(self) -> None:
        """Known customers join on day 0, each with their life drawn from their own history.

        One alive buys on at their drawn rate; one who has dropped out starts lapsed. Their
        draws (and order values, when theirs are given) come from the known customers' own
        stream, so the rest of the run draws as it would without them.
        """
        known = self.known
        if known is None or not len(known):
            return
        rng = np.random.default_rng(child(self.seq, KNOWN_STREAM))
        alive, rates, dropouts = known.lives(rng, self.repeat_boost)
        shop_values = self.order_values
        if known.order_value is not None:
            # their lives are drawn whole as they join: only these draws see their own values
            own = draws(partial(known.order_value.sampler().draw, rng))
            self.order_values = [own, *shop_values[1:]]
        code = len(self.channels) - 1
        lives = zip(alive.tolist(), rates.tolist(), dropouts.tolist(), strict=True)
        for is_alive, rate, dropout in lives:
            pid = self.prospects.count
            self.prospects.add_row(0.0, code, -1, -1, 0)
            klass = self.start_class if is_alive else self.lapsed
            Customers.on_purchase(self, pid, 0.0, 0, opening=False, state=(klass, rate, dropout))
        self.order_values = shop_values

    def _follow_up(self, event: simpy.Event) -> None:
        """A follow-up comes due now: a free seller of the role works it, or it does not happen.

        It is logged as a visit to Repeat with the seller; a worked one ends in a repeat
        purchase with the follow-up's probability. One not worked within its patience is
        counted as missed by the seller it was routed to (whose place came free too late),
        if it came due in the measurement window. A new hire works it at their ramp's pace.
        """
        pid, order_value = event.value
        now, team = self.env.now, self.follow_team
        start, seller = team.seat(now, REPEAT_STAGE)
        waits = self.follow_patience() if self.follow_patience else 0.0
        if start > now + waits or start >= self.horizon:
            if now + waits < self.horizon and now >= self.s.warmup_days:
                self.follow_ups_missed[seller] += 1
            return
        pace = team.pace(seller, start) if team.ramped else 1.0
        done = start + self.follow_duration() / pace
        team.take(start, done, seller)
        if done >= self.horizon:
            self.visits.add_row(pid, REPEAT_STAGE, now, math.nan, start - now, INSIDE, seller)
            return
        self.visits.add_row(pid, REPEAT_STAGE, now, done, start - now, PASSED, seller)
        own = self.skill_of[seller][REPEAT_STAGE] if self.skill_of else 1.0
        if self.u_follow() < self.follow_prob * own:
            self._repeat_purchase(pid, done, order_value)

    def _climb(self, pid: int, day: float, segment: int) -> None:
        """A new customer's service levels to the horizon: competing clocks up, down and out."""
        level, t, exits = self.ladder_start[segment], day, self.level_exits[segment]
        self.level_moves.add_row(pid, t, level)
        while level != LEFT_SERVICE:
            codes, cum_rates, total = exits[level]
            if total <= 0.0:
                return
            t += self.e_ladder() / total
            if t >= self.horizon:
                return
            i = bisect_right(cum_rates, self.u_ladder() * total)
            level = codes[min(i, len(codes) - 1)]
            self.level_moves.add_row(pid, t, level)

    def _repeat_purchase(self, pid: int, t: float, order_value) -> None:
        value = order_value()
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

    def _will_talk(self, referrer: int, t: float) -> None:
        """Customer `referrer` will talk to someone at `t`: on that day's list, or an event.

        A contact touches only the market and the people it brings, which nothing else
        touches between one day's batches, so the day's contacts are made, in time order,
        when its batches arrive; only one due before the next batch is an event of its own.
        """
        if t < self.batch_end or self.engage_team is not None:  # a talk a seller works: on time
            contact = self.env.timeout(t - self.env.now, value=referrer)
            contact.callbacks.append(self._talks_now)
        else:
            self.talks[int(t)].append((t, referrer))

    def _talks_now(self, event: simpy.Event) -> None:
        if self.engage_team is None:
            self.referral_contact(event.value, self.env.now)
        else:
            self._engage(event.value, self.env.now)

    def _engage(self, referrer: int, now: float) -> None:
        """A customer's referral talk comes up now: a seller of the role works it, or none.

        With a place free within the talk's patience, the seller holds it for the talk's
        duration (a new hire at the ramp's pace), logged as a visit to Refer, and the talk is
        made when it begins, its chance to win someone over times the seller's skill. A talk
        not worked in time is counted as missed, as a follow-up is.
        """
        team = self.engage_team
        start, seller = team.seat(now, REFER_STAGE)
        waits = self.engage_patience() if self.engage_patience else 0.0
        if start > now + waits or start >= self.horizon:
            if now + waits < self.horizon and now >= self.s.warmup_days:
                self.talks_missed[seller] += 1
            return
        pace = team.pace(seller, start) if team.ramped else 1.0
        done = start + self.engage_duration() / pace
        team.take(start, done, seller)
        ended, outcome = (math.nan, INSIDE) if done >= self.horizon else (done, PASSED)
        self.visits.add_row(referrer, REFER_STAGE, now, ended, start - now, outcome, seller)
        own = self.skill_of[seller][REFER_STAGE] if self.skill_of else 1.0
        self.referral_contact(referrer, start, self.engage_skill * own)

    def talk(self, day: int) -> None:
        """The referral contacts of day `day`, in time order."""
        for t, referrer in sorted(self.talks.pop(day, ())):
            self.referral_contact(referrer, t)

    def referral_contact(self, referrer: int, now: float, skill: float = 1.0) -> None:
        """An advocate talks to someone at `now`; a new person won over arrives after a delay.

        `skill` multiplies the chance to win them over (the seller's who worked the talk).
        """
        net = self.net
        who = self.market.free(net.neighbour(referrer)) if net else self.market.pick_new()
        won = who >= 0 and self.u_referral() < self.win_prob * skill
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
            segment = self.segments_of(self.referral_channel, 1, lone=True)
            self.prospects.add_row(arrival, self.referral_channel, referrer, node, segment[0])
            if self.net:
                self.net.place(pid, np.array([who]))
            luck = self._draw_paths(self.lone_draws, 1, segment)
            self._hand_over(
                np.array([pid]),
                np.array([0]),
                np.array([arrival]),
                np.array([True]),
                0,
                luck,
                np.array([self.referral_channel]),
                segment,
            )
        else:
            self.pending.append((arrival, referrer, who))
