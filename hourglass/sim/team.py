"""The sales team's seats, and the leads that meet it one by one."""

from __future__ import annotations

from heapq import heappush, heapreplace


class Lead:
    """A prospect on its way to a stage decided one by one.

    It holds which stage, when it gets there, its channel, and its luck from stage `first` on.
    """

    __slots__ = ("at", "channel", "first", "luck", "pid", "probs", "stage")

    def __init__(
        self,
        pid: int,
        channel: int,
        stage: int,
        at: float,
        probs: list[list[float]],
        luck: list[float],
    ) -> None:
        self.pid, self.channel, self.stage, self.at = pid, channel, stage, at
        self.probs, self.luck = probs, luck
        self.first = stage


class Team:
    """One role's seats: how many were never taken, and when each taken one comes free.

    Leads reach the team in time order and are served first come, first served, so each
    takes the seat that comes free first, or goes cold before it does; a seat needs no
    event of its own. Seats never taken go to the sellers in order, `per_seller` each;
    `first` is the role's first seller's index in the run's list of sellers.
    """

    __slots__ = ("capacity", "first", "free_at", "idle", "per_seller")

    def __init__(self, capacity: int, per_seller: int = 1, first: int = 0) -> None:
        self.capacity = self.idle = capacity
        self.per_seller, self.first = per_seller, first
        self.free_at: list[tuple[float, int]] = []  # a heap of (free at, seller)

    def first_free(self, now: float) -> float:
        """When a lead that comes now gets a seat: now, or when the first taken seat frees."""
        if self.idle or self.free_at[0][0] <= now:
            return now
        return self.free_at[0][0]

    def seller_at(self, start: float) -> int:
        """The seller whose seat a lead starting at `start` (from `first_free`) takes."""
        if self.free_at and self.free_at[0][0] <= start:
            return self.free_at[0][1]
        return self.first + (self.capacity - self.idle) // self.per_seller

    def take(self, start: float, until: float, seller: int) -> None:
        """Hold `seller`'s seat free at `start` (from `seller_at`) until `until`."""
        if self.free_at and self.free_at[0][0] <= start:
            heapreplace(self.free_at, (until, seller))
        else:
            self.idle -= 1
            heappush(self.free_at, (until, seller))
