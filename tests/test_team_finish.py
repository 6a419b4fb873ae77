"""The sales team's loose ends: routing by heaps, follow-ups missed, pay over time, skills."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hourglass.sim.team import Person, RoutedTeam, StaffedTeam


def _always_there(n: int) -> list[Person]:
    return [Person(f"s{i}", None, present=[(0.0, math.inf)]) for i in range(n)]


@pytest.mark.parametrize("routing", ["round_robin", "least_loaded", "by_skill", "first_free"])
@pytest.mark.parametrize(("sellers", "per_seller"), [(1, 1), (3, 2), (7, 1), (12, 3)])
def test_routed_team_by_heaps_routes_every_lead_as_a_scan_of_the_seats(
    routing: str, sellers: int, per_seller: int
) -> None:
    """The heaps give each lead the same start and seller as scanning every seat."""
    rng = np.random.default_rng(sellers * 10 + per_seller)
    skill = rng.choice([0.8, 1.0, 1.2], size=(sellers + 2, 6)).tolist()
    fast = RoutedTeam(sellers, per_seller, 2, routing, skill)
    scanned = StaffedTeam(_always_there(sellers), per_seller, 2, routing, skill, [])
    now = 0.0
    for _ in range(3000):
        now += rng.exponential(0.3)
        stage = int(rng.integers(3, 5))
        got = fast.seat(now, stage)
        assert got == scanned.seat(now, stage)
        if rng.random() < 0.8:  # the rest go cold before their seat
            until = got[0] + (0.0 if rng.random() < 0.05 else rng.exponential(1.0))
            fast.take(got[0], until, got[1])
            scanned.take(got[0], until, got[1])


def test_a_staffed_role_routed_first_free_ignores_skill() -> None:
    """First-free routing in a team whose people change gives the lead to the first free."""
    team = StaffedTeam(_always_there(2), 1, 0, "first_free", [[0.5] * 6, [2.0] * 6], [])
    assert team.seat(1.0, 3) == (1.0, 0)
