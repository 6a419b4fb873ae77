"""Journeys through the funnel: blocks of contacts, then leads one by one.

Blocks of contacts walk the stages no one decides for them; leads meet the sales team, the
network and the buying centre one by one.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from heapq import heappop, heappush
from typing import NamedTuple

import numpy as np
import simpy

from hourglass.log import INSIDE, PASSED
from hourglass.sim.streams import (
    FIELDS,
    PASS,
    PATIENCE,
    PATIENCE_BLOCK,
    QUICK,
    QUICK_BLOCK,
    QUICK_TIME,
    REASON,
    STAY,
    STAY_BLOCK,
    UNIFORMS,
)
from hourglass.sim.team import Lead
from hourglass.stages import DAYS_PER_MONTH, FUNNEL


class Contacts(NamedTuple):
    """A batch of contacts that reached someone new: arrival, channel, referrer, person, luck."""

    times: np.ndarray
    channel: np.ndarray
    referrer: np.ndarray
    who: np.ndarray
    luck: np.ndarray
    segment: np.ndarray


class Journeys:
    """The engine's funnel: how contacts become prospects and prospects become buyers.

    A part of the engine (`sim.engine`): it works on the engine's state (plan arrays, the
    team, the log tables) and hands each first purchase to `on_purchase`.
    """

    def batch_of(
        self,
        gens: list[np.random.Generator],
        times: np.ndarray,
        channel: int,
        referrer: np.ndarray,
        who: np.ndarray,
        new: np.ndarray | None = None,
    ) -> Contacts:
        """One batch's contacts with people `who`, and their luck; those in `new` (else all).

        Each contact's luck is drawn whether or not it is kept, row by row from its batch's
        streams, so a scenario with more contacts leaves the others' luck alone.
        """
        segment = self.segments_of(channel, len(times))
        luck = self._draw_paths(gens, len(times), segment)
        if new is not None and not new.all():  # all new: nothing to drop, nothing to copy
            keep = np.flatnonzero(new)
            times, referrer, luck, who = times[keep], referrer[keep], luck[keep], who[keep]
            segment = segment[keep]
        channels = np.full(len(times), channel, np.int8)
        return Contacts(times, channels, referrer, who, luck, segment)

    def segments_of(self, channel: int, n: int, lone: bool = False) -> np.ndarray:
        """The segments of `n` contacts from `channel` in the day's batch (or lone ones).

        Drawn from streams of their own, keyed like the batch's, so the segments leave every
        other draw alone.
        """
        if not self.segmented:
            return np.zeros(n, np.int8)
        if lone:
            uniforms = self.lone_segments.random(n)
        else:
            day = math.ceil(self.batch_end) - 1  # batches are drawn for the day ending then
            uniforms = self.segment_streams.batch(channel, day)[UNIFORMS].random(n)
        return np.searchsorted(self.segment_cuts[channel], uniforms, side="right").astype(np.int8)

    def admit(self, batches: list[Contacts]) -> None:
        """The day's contacts enter Know and walk the stages no seller works nor the network boosts.

        Those reaching a stage decided lead by lead are handed over. The batches walk together,
        so a day's stages cost one set of array operations whatever the channels.
        """
        self.visits.settle()
        batches = [b for b in batches if len(b.times)]
        if not batches:
            return
        times, channel, referrer, who, luck, segment = (
            np.concatenate(column) if len(batches) > 1 else column[0]
            for column in zip(*batches, strict=True)
        )
        n = len(times)
        first = self.prospects.count
        node = who if self.market.size else np.full(n, -1)
        self.prospects.add_block(
            arrival=times, channel=channel, referrer=referrer, node=node, segment=segment
        )
        if self.net:
            self.net.place(first, who)
        ids = np.arange(first, first + n, dtype=np.int32)
        rows = np.arange(n)
        referred = referrer >= 0
        t = times
        for k in range(len(FUNNEL)):
            if self.per_lead[k]:
                self._hand_over(ids, rows, t, referred, k, luck, channel[rows], segment[rows])
                return
            if not len(ids):
                return
            month = np.minimum((t / DAYS_PER_MONTH).astype(np.int64), self.last_month)
            seg = segment[rows] if self.segmented else 0
            prob = np.where(
                referred, self.pass_prob_referred[seg, month, k], self.pass_prob[seg, month, k]
            )
            if k == 0 and self.antagonists:
                prob = prob * (1.0 - self.drag) ** self.antagonists
            # one field of one stage is a strided vector: picking rows from it is a plain take
            passes = luck[:, k, PASS][rows] < prob
            exit_ = t + luck[:, k, STAY][rows]
            inside = exit_ >= self.horizon
            lost = self.loss_codes[k][np.searchsorted(self.loss_cum[k], luck[:, k, REASON][rows])]
            outcome = np.where(passes, PASSED, lost).astype(np.int8)
            outcome[inside] = INSIDE
            self.visits.add_block(
                prospect=ids,
                stage=np.full(len(ids), k, np.int8),
                enter=t,
                exit=np.where(inside, np.nan, exit_),
                wait=np.full(len(ids), np.nan),
                outcome=outcome,
                seller=np.full(len(ids), -1, np.int16),
            )
            keep = passes & ~inside
            ids, rows, t, referred = ids[keep], rows[keep], exit_[keep], referred[keep]
        for pid, at, seg in zip(ids.tolist(), t.tolist(), segment[rows].tolist(), strict=True):
            self.on_purchase(pid, at, seg)

    def _draw_paths(
        self, gens: list[np.random.Generator], n: int, segment: np.ndarray
    ) -> np.ndarray:
        """Each contact's luck: one row per contact, one line of FIELDS per stage.

        A segment with its own time in a stage draws it after the scenario's draws.
        """
        stages = len(FUNNEL)
        luck = np.zeros((n, stages, FIELDS))
        uniforms = gens[UNIFORMS].random((n, 3, stages))
        luck[:, :, PASS : QUICK + 1] = uniforms.transpose(0, 2, 1)  # PASS, REASON, QUICK
        for k in range(stages):
            luck[:, k, STAY] = self.duration[k].draw(gens[STAY_BLOCK + k], n)
            for code, own in self.own_durations[k]:
                mine = segment == code
                luck[mine, k, STAY] = own.draw(gens[STAY_BLOCK + k], n)[mine]
        if self.patience is not None:
            flat = self.patience.draw(gens[PATIENCE_BLOCK], n * stages)
            luck[:, :, PATIENCE] = flat.reshape(n, stages)
        if self.qual_duration is not None:
            flat = self.qual_duration.draw(gens[QUICK_BLOCK], n * stages)
            luck[:, :, QUICK_TIME] = flat.reshape(n, stages)
        for k, sampler in enumerate(self.qual_durations or ()):
            if sampler is not None:  # each role's own fast "no"
                luck[:, k, QUICK_TIME] = sampler.draw(gens[QUICK_BLOCK], n)
        return luck

    def _hand_over(
        self, ids, rows, t, referred, k: int, luck: np.ndarray, channel, segment
    ) -> None:
        """Leads reaching the first stage decided lead by lead go on in SimPy.

        Each carries its own luck; `channel` and `segment` hold each lead's.
        """
        warm, cold = self.warm_probs, self.cold_probs
        queue, order = self.lead_queue, self.lead_order
        mine = luck[rows, k:].reshape(len(rows), (len(FUNNEL) - k) * FIELDS).tolist()
        for pid, at, ref, row, code, seg in zip(
            ids.tolist(),
            t.tolist(),
            referred.tolist(),
            mine,
            channel.tolist(),
            segment.tolist(),
            strict=True,
        ):
            probs = warm[seg] if ref else cold[seg]
            heappush(queue, (at, next(order), Lead(pid, code, k, at, probs, row, seg)))
        self._wake_desk()  # once for the lot: the desk wakes for the earliest

    def _queue_lead(self, lead: Lead) -> None:
        """The lead gets to its stage at `lead.at`: it waits in the desk's queue till then.

        One SimPy event wakes the desk for its earliest lead, however many are queued.
        """
        heappush(self.lead_queue, (lead.at, next(self.lead_order), lead))
        self._wake_desk()

    def _wake_desk(self) -> None:
        """Have the desk woken when its first lead is due, unless a wake-up comes by then."""
        queue, wakes = self.lead_queue, self.desk_wakes
        if queue and (not wakes or queue[0][0] < wakes[0]):
            heappush(wakes, queue[0][0])
            self.env.timeout(queue[0][0] - self.env.now).callbacks.append(self._open_desk)

    def _open_desk(self, event: simpy.Event) -> None:
        """Serve the queued leads in time order, up to the next other event; then sleep.

        Leads touch nothing another event reads before its time, so serving every lead due
        before the next event, without waking SimPy for each, keeps the order of the run.
        """
        peek, queue, worked = self.env.peek, self.lead_queue, self.worked
        heappop(self.desk_wakes)  # this wake-up, the earliest
        while queue and queue[0][0] < peek():
            lead = heappop(queue)[2]
            if worked[lead.stage]:
                self._meet_team(lead)
            else:  # a stage it walks alone
                self._walk_on(lead, lead.stage, lead.at, entering=True)
        self._wake_desk()

    def _meet_team(self, lead: Lead) -> None:
        """A lead reaches a worked stage: it gets the first free seat or goes cold waiting.

        Whoever came earlier has been served already, so the seat, the wait and everything
        the seller's work decides are known now; the visits are logged at once, up to the
        next stage another role works or no one does, the purchase or the end of the lead's
        journey.
        """
        pid, k, t, luck = lead.pid, lead.stage, lead.at, lead.luck
        base = (k - lead.first) * FIELDS  # where stage k's luck begins
        visit, horizon, team_of = self.visits.append_row, self.horizon, self.team_of
        team, batch = team_of[k], team_of[k].batch
        ready = math.ceil(t / batch) * batch if batch else t
        start, seller = team.seat(ready, k)
        cold = t + luck[base + PATIENCE] if self.patience is not None else math.inf
        if cold < start:
            if cold < horizon:
                visit((pid, k, t, cold, math.nan, self.went_cold, -1))
            else:
                visit((pid, k, t, math.nan, math.nan, INSIDE, -1))
            return
        if start >= horizon:
            visit((pid, k, t, math.nan, math.nan, INSIDE, -1))
            return
        skill = self.skill_of[seller] if self.skill_of else None
        pace = team.pace(seller, start) if team.ramped else 1.0  # a new hire is slower
        wait, done, decay_at = start - t, start, self.decay_at
        decide, qual_share, committee_stage = self._decide, self.qual_share, self.committee_stage
        while True:  # the seller stays through the consecutive stages his role works
            scale = skill[k] if skill else 1.0
            if k == decay_at:
                scale *= self.decay.factor(wait)
            passes, outcome = decide(lead, k, base, t, scale)
            if not passes and luck[base + QUICK] < qual_share[k]:
                outcome = self.disqualified
                done += luck[base + QUICK_TIME] / pace
            else:
                done += luck[base + STAY] / pace
            if passes and k == committee_stage:
                passes, outcome, done = self._hear_committee(lead, base, done)
            if done >= horizon:
                visit((pid, k, t, math.nan, wait, INSIDE, seller))
                team.take(start, done, seller)
                return
            visit((pid, k, t, done, wait, outcome, seller))
            if not (passes and team_of[k + 1] is team):
                break
            k, t, wait, base = k + 1, done, 0.0, base + FIELDS
        team.take(start, done, seller)
        if passes:
            self._walk_on(lead, k + 1, done)

    def _walk_on(self, lead: Lead, k: int, t: float, entering: bool = False) -> None:
        """The lead enters stage `k` at `t`; walk the stages no seller works, logging each visit.

        Past the last stage, entering means buying. The walk goes on until the lead comes back to
        the team, buys or leaves.

        A boosted stage is decided when the lead enters it (`entering`: now), since the
        customers it knows count; one entered later waits for its own event.
        """
        luck, visit = lead.luck, self.visits.append_row
        base = (k - lead.first) * FIELDS  # where stage k's luck begins
        while not self.worked[k]:
            if k == len(FUNNEL):
                self.on_purchase(lead.pid, t, lead.segment)
                return
            if self.boosted[k] and not entering:
                break
            entering = False
            passes, outcome = self._decide(lead, k, base, t)
            done = t + luck[base + STAY]
            if passes and k == self.committee_stage:
                passes, outcome, done = self._hear_committee(lead, base, done)
            if done >= self.horizon:
                visit((lead.pid, k, t, math.nan, math.nan, INSIDE, -1))
                return
            visit((lead.pid, k, t, done, math.nan, outcome, -1))
            if not passes:
                return
            k, t, base = k + 1, done, base + FIELDS
        lead.stage, lead.at = k, t
        self._queue_lead(lead)

    def _decide(
        self, lead: Lead, k: int, base: int, t: float, scale: float = 1.0
    ) -> tuple[bool, int]:
        """Whether the lead passes stage `k`, entered at `t`, and the visit's outcome.

        Its luck comes from `base`; `scale` multiplies its chance (the seller's own skill,
        the decay with its wait).
        """
        last_month = self.last_month
        month = min(int(t / DAYS_PER_MONTH), last_month) if last_month else 0
        prob = lead.probs[month][k] * scale
        if k == 0 and self.antagonists:
            prob *= (1.0 - self.drag) ** self.antagonists
        if self.boosted[k]:
            prob = min(1.0, prob * self.net.trust_factor(lead.pid))
        if lead.luck[base + PASS] < prob:
            return True, PASSED
        reason = bisect_right(self.loss_cum[k], lead.luck[base + REASON])
        return False, self.loss_code_lists[k][reason]

    def _hear_committee(self, lead: Lead, base: int, start: float) -> tuple[bool, int, float]:
        """The deal goes to its committee at `start`: whether it passes, the outcome, the end.

        The outcome is the visit's; the end is when the last answer came.

        The committee's answers come from the deal's loss-reason uniform at this stage, which
        a deal that passed the stage's own odds has not used.
        """
        centre = self.centres[lead.segment]
        if centre is None:  # a segment without a committee
            return True, PASSED, start
        end, role = centre.convene(
            lead.pid, lead.channel, start, self.horizon, self.answers, lead.luck[base + REASON]
        )
        if role < 0:
            return True, PASSED, end
        return False, self.refused[role], end
