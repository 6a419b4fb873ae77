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
    """The sales team's seats: how many were never taken, and when each taken one comes free.

    Leads reach the team in time order and are served first come, first served, so each
    takes the seat that comes free first, or goes cold before it does; a seat needs no
    event of its own.
    """

    __slots__ = ("capacity", "free_at", "idle")

    def __init__(self, capacity: int) -> None:
        self.capacity = self.idle = capacity
        self.free_at: list[float] = []  # a heap

    def first_free(self, now: float) -> float:
        """When a lead that comes now gets a seat: now, or when the first taken seat frees."""
        if self.idle or self.free_at[0] <= now:
            return now
        return self.free_at[0]

    def take(self, start: float, until: float) -> None:
        """Hold the seat free at `start` until `until`."""
        if self.free_at and self.free_at[0] <= start:
            heapreplace(self.free_at, until)
        else:
            self.idle -= 1
            heappush(self.free_at, until)
