"""The sales team's people over the run: hires, leavers and vacations, and their seats."""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from heapq import heappop, heappush
from itertools import count

import numpy as np

from hourglass.config.sellers import DAYS_PER_YEAR, VACATION_BLOCK_DAYS, SalesRole
from hourglass.sim.streams import LEAVING_STREAM, VACATION_STREAM, child
from hourglass.sim.team import routing_rng, weighted_pick
from hourglass.stages import DAYS_PER_MONTH


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
