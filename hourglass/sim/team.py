"""The sales team's seats, and the leads that meet it one by one."""

from __future__ import annotations

import math
from heapq import heapify, heappop, heappush, heapreplace

import numpy as np

from hourglass.sim.streams import child

ROUTING_STREAM = 8401
"""The child index of weighted routing's stream (plus the role's first seller's index): far
from the others, so teams routed otherwise draw nothing from it and keep every number."""


def routing_rng(seq: np.random.SeedSequence, first: int) -> np.random.Generator:
    """The stream a role's weighted routing draws from, its own for the run's seed."""
    return np.random.default_rng(child(seq, ROUTING_STREAM + first))


def weighted_pick(free: list[int], shares: list[float], rng: np.random.Generator) -> int:
    """One of the `free` sellers, drawn with chances in proportion to their shares.

    One uniform per lead. When every free seller's share is 0, the first of them: a lead is
    never held back for a seller who is busy.
    """
    weights = np.asarray([shares[i] for i in free])
    total = float(weights.sum())
    if total <= 0.0:
        return free[0]
    at = int(np.searchsorted(np.cumsum(weights), rng.random() * total, side="right"))
    return free[min(at, len(free) - 1)]


class Lead:
    """A prospect on its way to a stage decided one by one.

    It holds which stage, when it gets there, its channel, and its luck from stage `first` on.
    """

    __slots__ = ("at", "channel", "first", "luck", "pid", "probs", "segment", "stage")

    def __init__(
        self,
        pid: int,
        channel: int,
        stage: int,
        at: float,
        probs: list[list[float]],
        luck: list[float],
        segment: int = 0,
    ) -> None:
        self.pid, self.channel, self.stage, self.at = pid, channel, stage, at
        self.probs, self.luck, self.segment = probs, luck, segment
        self.first = stage


class Team:
    """One role's seats: how many were never taken, and when each taken one comes free.

    Leads reach the team in time order and are served first come, first served, so each
    takes the seat that comes free first, or goes cold before it does; a seat needs no
    event of its own. Seats never taken go to the sellers in order, `per_seller` each;
    `first` is the role's first seller's index in the run's list of sellers. With `batch`
    days, leads are handed to the role in batches, at the end of each such span.
    """

    __slots__ = ("batch", "capacity", "first", "free_at", "idle", "per_seller")
    ramped = False
    """Whether some seller works below full speed (see `StaffedTeam.pace`)."""

    def __init__(self, capacity: int, per_seller: int = 1, first: int = 0) -> None:
        self.capacity = self.idle = capacity
        self.per_seller, self.first = per_seller, first
        self.batch = 0.0
        self.free_at: list[tuple[float, int]] = []  # a heap of (free at, seller)

    def seat(self, now: float, stage: int) -> tuple[float, int]:
        """When a lead that comes now to `stage` gets a seat, and whose seat it is.

        Now, or when the first taken seat frees; a seat freed by then goes before one never
        taken.
        """
        free_at = self.free_at
        if free_at and (free_at[0][0] <= now or not self.idle):
            return max(now, free_at[0][0]), free_at[0][1]
        return now, self.first + (self.capacity - self.idle) // self.per_seller

    def take(self, start: float, until: float, seller: int) -> None:
        """Hold `seller`'s seat free at `start` (from `seat`) until `until`."""
        if self.free_at and self.free_at[0][0] <= start:
            heapreplace(self.free_at, (until, seller))
        else:
            self.idle -= 1
            heappush(self.free_at, (until, seller))


class RoutedTeam:
    """One role's sellers, when a lead that finds several free is routed to one of them.

    Leads are still served first come, first served: a lead starts when the first seat
    comes free; `routing` only picks among the sellers free then (round_robin: the next
    in turn; least_loaded: the one holding fewest leads; by_skill: the best at the stage,
    by `skill[seller][stage]`; among equals, the first; weighted: one drawn at random with
    chances in proportion to the sellers' `shares`, from the role's own stream, so a
    seller free whenever a lead comes gets their share of the leads in the long run and
    a busy seller's share goes to the free ones in proportion to theirs).

    Leads reach the team in time order, so the team keeps a clock (the last start) and
    heaps instead of scanning its seats: `busy`, every taken seat by when it frees; and
    the sellers free at the clock, keyed by the routing's order (per stage for by_skill).
    A heap's entry is stale once its seller's `version` moved on; stale entries are
    dropped when they come to the top, or all at once when they pile up.
    """

    __slots__ = (
        "batch",
        "busy",
        "capacity",
        "clock",
        "first",
        "free_seats",
        "free_sellers",
        "idle",
        "next_up",
        "rng",
        "routing",
        "sellers",
        "shares",
        "skill",
        "version",
    )
    ramped = False

    def __init__(
        self,
        sellers: int,
        per_seller: int,
        first: int,
        routing: str,
        skill: list[list[float]] | None,
        shares: list[float] | None = None,
        seq: np.random.SeedSequence | None = None,
    ) -> None:
        self.capacity, self.first, self.routing = sellers * per_seller, first, routing
        self.skill, self.batch, self.next_up = skill, 0.0, 0
        self.shares = shares if shares is not None else [1.0] * sellers
        weighted = routing == "weighted"
        self.rng = routing_rng(seq or np.random.SeedSequence(0), first) if weighted else None
        self.sellers, self.idle, self.clock = sellers, sellers, -math.inf
        self.busy: list[tuple[float, int]] = []  # (frees at, seller) of each taken seat
        self.free_seats = [per_seller] * sellers  # each seller's seats free at the clock
        self.version = [0] * sellers
        self.free_sellers: dict[int, list[tuple]] = {}  # by stage: (order..., version, seller)
        if routing == "weighted":  # drawn among the free sellers, no order kept
            return
        if routing != "by_skill" or skill is None:  # one order for every stage
            self.free_sellers[-1] = [(*self._order(i, -1), 0, i) for i in range(sellers)]
            heapify(self.free_sellers[-1])

    def seat(self, now: float, stage: int) -> tuple[float, int]:
        """When a lead that comes now to `stage` gets a seat, and the seller it is routed to."""
        self._advance(now)
        if not self.idle:
            self._advance(self.busy[0][0])
        start = max(now, self.clock)
        if self.routing == "weighted":
            free = [i for i, seats in enumerate(self.free_seats) if seats]
            return start, self.first + weighted_pick(free, self.shares, self.rng)
        chosen = self._best(stage)
        if self.routing == "round_robin":  # the next lead looks from the one after
            self.next_up = self.free_sellers[-1][0][0] + 1
            self._renew(chosen)
        return start, self.first + chosen

    def take(self, start: float, until: float, seller: int) -> None:
        """Hold `seller`'s seat free at `start` (from `seat`) until `until`."""
        if until <= self.clock:  # over before the clock: the seat is still free
            return
        i = seller - self.first
        self.free_seats[i] -= 1
        self.idle -= not self.free_seats[i]
        heappush(self.busy, (until, i))
        if self.free_seats[i] == 0 or self.routing == "least_loaded":
            self._renew(i)

    def _advance(self, until: float) -> None:
        """Move the clock on to `until`, freeing the seats taken until then."""
        if until <= self.clock:
            return
        self.clock, busy = until, self.busy
        while busy and busy[0][0] <= until:
            _, i = heappop(busy)
            self.free_seats[i] += 1
            self.idle += self.free_seats[i] == 1
            if self.free_seats[i] == 1 or self.routing == "least_loaded":
                self._renew(i)

    def _order(self, i: int, stage: int) -> tuple:
        """Seller `i`'s place in the routing's order among the free (the least first)."""
        if self.routing == "round_robin":  # their first turn from `next_up` on, counted on
            return (self.next_up + (i - self.next_up) % self.sellers,)
        if self.routing == "least_loaded":
            return (-self.free_seats[i], i)
        if self.routing == "by_skill" and self.skill is not None:
            return (-self.skill[self.first + i][stage], i)
        return (i,)

    def _renew(self, i: int) -> None:
        """Seller `i` changed: stale their entries, and list them again if free."""
        self.version[i] += 1
        if not self.free_seats[i]:
            return
        for stage, heap in self.free_sellers.items():
            heappush(heap, (*self._order(i, stage), self.version[i], i))
            if len(heap) > 4 * self.sellers + 64:
                self.free_sellers[stage] = self._rebuilt(stage)

    def _best(self, stage: int) -> int:
        """The first free seller in the routing's order at `stage`."""
        key = stage if -1 not in self.free_sellers else -1
        heap = self.free_sellers.get(key)
        if heap is None:
            heap = self.free_sellers[key] = self._rebuilt(key)
        while heap[0][-2] != self.version[heap[0][-1]]:
            heappop(heap)
        return heap[0][-1]

    def _rebuilt(self, stage: int) -> list[tuple]:
        """The free sellers' heap for `stage`, without stale entries."""
        heap = [
            (*self._order(i, stage), self.version[i], i)
            for i in range(self.sellers)
            if self.free_seats[i]
        ]
        heapify(heap)
        return heap
