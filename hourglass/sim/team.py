"""The sales team's seats, and the leads that meet it one by one."""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from heapq import heapify, heappop, heappush, heapreplace
from itertools import count

import numpy as np

from hourglass.config.sellers import DAYS_PER_YEAR, VACATION_BLOCK_DAYS, SalesRole
from hourglass.sim.streams import LEAVING_STREAM, VACATION_STREAM, child
from hourglass.stages import DAYS_PER_MONTH

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


@dataclass
class Person:
    """A seller over the run: when they joined (None: before it began) and left."""

    name: str
    hired: float | None
    left: float = math.inf
    present: list[tuple[float, float]] = field(default_factory=list)
    """The spans they are on the team and not away, in time order."""

    def days_within(self, start: float, end: float) -> float:
        """Days they were on the team and not away within [start, end)."""
        return sum(max(0.0, min(to, end) - max(since, start)) for since, to in self.present)


class StaffedTeam:
    """One role's sellers when its people change over the run: hires, leavers, vacations.

    A lead starts only while its seller is present, and a lead once begun is finished,
    whatever comes after. A new hire works at the ramp's share of full speed in each
    month of tenure (`pace`); those there from the start work at full speed. Routing is
    `RoutedTeam`'s; who is present changes with time, so each seller's seats are scanned.
    Under weighted routing a hire after the start weighs as the role's average seller.
    """

    __slots__ = (
        "batch",
        "capacity",
        "ends",
        "first",
        "hired",
        "next_up",
        "present",
        "ramp",
        "ramped",
        "rng",
        "routing",
        "seats",
        "shares",
        "skill",
    )

    def __init__(
        self,
        people: list[Person],
        per_seller: int,
        first: int,
        routing: str,
        skill: list[list[float]] | None,
        ramp: list[float],
        shares: list[float] | None = None,
        seq: np.random.SeedSequence | None = None,
    ) -> None:
        self.capacity, self.first, self.routing = len(people) * per_seller, first, routing
        self.skill, self.batch, self.next_up = skill, 0.0, 0
        shares = shares or [1.0]
        self.shares = shares + [sum(shares) / len(shares)] * (len(people) - len(shares))
        weighted = routing == "weighted"
        self.rng = routing_rng(seq or np.random.SeedSequence(0), first) if weighted else None
        self.seats = [[0.0] * per_seller for _ in people]  # when each seat frees
        self.present = [p.present for p in people]
        self.ends = [[to for _, to in p.present] for p in people]
        self.hired = [p.hired for p in people]
        self.ramp = ramp
        self.ramped = bool(ramp)

    def _pick(self, free: list[int], start: float, stage: int) -> int:
        """The one of the `free` sellers (by place in the role) the lead is routed to."""
        if self.routing == "round_robin":
            n = len(self.seats)
            chosen = min(free, key=lambda i: (i - self.next_up) % n)
            self.next_up = (chosen + 1) % n
        elif self.routing == "least_loaded":
            chosen = max(free, key=lambda i: (sum(t <= start for t in self.seats[i]), -i))
        elif self.routing == "weighted":
            chosen = weighted_pick(free, self.shares, self.rng)
        elif self.routing == "first_free" or self.skill is None:  # or by skill, all alike
            chosen = free[0]
        else:  # by skill; among equals, the first
            chosen = max(free, key=lambda i: (self.skill[self.first + i][stage], -i))
        return chosen

    def take(self, start: float, until: float, seller: int) -> None:
        """Hold `seller`'s seat free at `start` (from `seat`) until `until`."""
        seats = self.seats[seller - self.first]
        seats[seats.index(min(seats))] = until

    def _ready(self, i: int, t: float) -> float:
        """The first time from `t` on that seller `i` is present (inf: never again)."""
        j = bisect_right(self.ends[i], t)
        return max(t, self.present[i][j][0]) if j < len(self.ends[i]) else math.inf

    def seat(self, now: float, stage: int) -> tuple[float, int]:
        """When a lead that comes now to `stage` gets a present seller, and which one."""
        ready = [self._ready(i, max(now, min(seats))) for i, seats in enumerate(self.seats)]
        start = min(ready)
        if start == math.inf:
            return start, self.first
        free = [i for i, at in enumerate(ready) if at <= start]
        return start, self.first + self._pick(free, start, stage)

    def pace(self, seller: int, at: float) -> float:
        """The seller's share of full speed at day `at`, by their month of tenure."""
        hired = self.hired[seller - self.first]
        if hired is None:
            return 1.0
        month = int((at - hired) / DAYS_PER_MONTH)
        return self.ramp[month] if month < len(self.ramp) else 1.0


def staff_roles(
    roles: dict[str, SalesRole], prefixes: list[str], seq: np.random.SeedSequence, horizon: float
) -> list[list[Person] | None]:
    """Per role, everyone who works in it if its people change (else None).

    Each role draws from its own attrition and vacation streams, so a team that never
    changes draws nothing and keeps every other number of the run.
    """
    people: list[list[Person] | None] = []
    for index, (prefix, role) in enumerate(zip(prefixes, roles.values(), strict=True)):
        if not role.staffed:
            people.append(None)
            continue
        leaving = np.random.default_rng(child(seq, LEAVING_STREAM + index))
        vacations = np.random.default_rng(child(seq, VACATION_STREAM + index))
        people.append(staff_role(prefix, role, horizon, leaving, vacations))
    return people


def presence(
    roles: dict[str, SalesRole], people: list[list[Person] | None], start: float, end: float
) -> tuple[tuple[float, ...], tuple[tuple[float, float], ...]]:
    """Each seller's days present within [start, end), and when they joined and left."""
    days: tuple[float, ...] = ()
    spans: tuple[tuple[float, float], ...] = ()
    for role, staff in zip(roles.values(), people, strict=True):
        staff = staff or [Person(n, None, present=[(0.0, math.inf)]) for n in role.names("")]
        days += tuple(p.days_within(start, end) for p in staff)
        spans += tuple((p.hired or 0.0, min(p.left, end)) for p in staff)
    return days, spans


def staff_role(
    prefix: str,
    role: SalesRole,
    horizon: float,
    leaving: np.random.Generator,
    vacations: np.random.Generator,
) -> list[Person]:
    """Everyone who works in the role during the run, in the order they joined.

    The hiring plan's leavers are the latest hired still there; a seller lost to attrition
    is replaced by a new hire `replacement_days` later. Draws come from `leaving` (each
    joiner's time to leave, as they join) and `vacations` (each person's blocks).
    """
    people = [Person(name, None) for name in role.names(prefix)]
    rate = role.attrition_per_year / DAYS_PER_YEAR
    order = count()
    events: list[tuple[float, int, int, Person | None]] = []  # (day, order, change, who)

    def track(person: Person, since: float) -> None:
        if rate:
            heappush(events, (since + leaving.exponential(1.0 / rate), next(order), -1, person))

    for person in people:
        track(person, 0.0)
    for hire in sorted(role.hiring, key=lambda h: h.month):
        heappush(events, (hire.month * DAYS_PER_MONTH, next(order), hire.add, None))
    while events and events[0][0] < horizon:
        day, _, change, who = heappop(events)
        if who is not None:  # attrition: replaced after the seat stood empty
            if who.left == math.inf:
                who.left = day
                heappush(events, (day + role.replacement_days, next(order), 1, None))
        elif change < 0:
            staying = [p for p in people if p.left == math.inf]
            for person in staying[max(0, len(staying) + change) :]:
                person.left = day
        else:
            for _ in range(change):
                people.append(Person(f"{prefix} {len(people) + 1}", day))
                track(people[-1], day)
    for person in people:
        away = _vacation_blocks(role.vacation_days_per_year, horizon, vacations)
        person.present = _present(person.hired or 0.0, person.left, away)
    return people


def _vacation_blocks(
    days_per_year: float, horizon: float, rng: np.random.Generator
) -> list[tuple[float, float]]:
    """A seller's time away: each year split into equal parts, one block in each at random."""
    if not days_per_year:
        return []
    blocks = math.ceil(days_per_year / VACATION_BLOCK_DAYS)
    block, part = days_per_year / blocks, DAYS_PER_YEAR / blocks
    years = math.ceil(horizon / DAYS_PER_YEAR)
    starts = rng.uniform(0.0, part - block, size=(years, blocks))
    starts += np.arange(years)[:, None] * DAYS_PER_YEAR + np.arange(blocks) * part
    return [(float(s), float(s) + block) for s in starts.ravel()]


def _present(
    since: float, left: float, away: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The spans from `since` to `left` outside the blocks `away` (in time order)."""
    spans: list[tuple[float, float]] = []
    for start, end in away:
        if start >= left:
            break
        if start > since:
            spans.append((since, start))
        since = max(since, end)
    if since < left:
        spans.append((since, left))
    return spans
