"""The sales team's seats, and the leads that meet it one by one."""

from __future__ import annotations

from heapq import heappush, heapreplace


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
    by `skill[seller][stage]`). Each seller's seats are scanned, which costs time with
    the team's size, so the engine uses `Team` where first-free routing suffices.
    """

    __slots__ = ("batch", "capacity", "first", "next_up", "routing", "seats", "skill")

    def __init__(
        self,
        sellers: int,
        per_seller: int,
        first: int,
        routing: str,
        skill: list[list[float]] | None,
    ) -> None:
        self.capacity, self.first, self.routing = sellers * per_seller, first, routing
        self.skill, self.batch, self.next_up = skill, 0.0, 0
        self.seats = [[0.0] * per_seller for _ in range(sellers)]  # when each seat frees

    def seat(self, now: float, stage: int) -> tuple[float, int]:
        """When a lead that comes now to `stage` gets a seat, and the seller it is routed to."""
        start = max(now, min(min(seats) for seats in self.seats))
        free = [i for i, seats in enumerate(self.seats) if min(seats) <= start]
        if self.routing == "round_robin":
            n = len(self.seats)
            chosen = min(free, key=lambda i: (i - self.next_up) % n)
            self.next_up = (chosen + 1) % n
        elif self.routing == "least_loaded":
            chosen = max(free, key=lambda i: (sum(t <= start for t in self.seats[i]), -i))
        elif self.skill is None:  # by skill, but all are alike
            chosen = free[0]
        else:  # by skill; among equals, the first
            chosen = max(free, key=lambda i: (self.skill[self.first + i][stage], -i))
        return start, self.first + chosen

    def take(self, start: float, until: float, seller: int) -> None:
        """Hold `seller`'s seat free at `start` (from `seat`) until `until`."""
        seats = self.seats[seller - self.first]
        seats[seats.index(min(seats))] = until
