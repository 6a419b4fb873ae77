"""Routing a lead to a seller: time per lead with 5 and with 500 sellers in a role.

Each routing is timed on the same stream of leads at about 80% load, with the role's
heaps (`RoutedTeam`) and with a scan of every seat (`StaffedTeam`, whose people may be
away, so it looks at each).

    python benchmarks/bench_routing.py --leads 200000
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from hourglass.sim.staffing import Person, StaffedTeam
from hourglass.sim.team import RoutedTeam

ROUTINGS = ("round_robin", "least_loaded", "by_skill")


def per_lead_seconds(team: RoutedTeam | StaffedTeam, leads: int, sellers: int) -> float:
    """Seconds per lead to seat and hold it, leads arriving at 80% of the team's pace."""
    rng = np.random.default_rng(1)
    arrivals = np.cumsum(rng.exponential(1.0 / (0.8 * sellers), leads)).tolist()
    durations = rng.exponential(1.0, leads).tolist()
    began = time.perf_counter()
    for now, duration in zip(arrivals, durations, strict=True):
        start, seller = team.seat(now, 3)
        team.take(start, start + duration, seller)
    return (time.perf_counter() - began) / leads


def main() -> None:
    """Print each routing's time per lead at both sizes, and the ratio 500 to 5."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    args = parser.parse_args()
    for routing in ROUTINGS:
        for kind in ("heaps", "scan"):
            times = {}
            for sellers in (5, 500):
                skill = np.random.default_rng(2).uniform(0.5, 1.5, (sellers, 6)).tolist()
                if kind == "heaps":
                    team = RoutedTeam(sellers, 1, 0, routing, skill)
                else:
                    always = [(0.0, math.inf)]
                    people = [Person(str(i), None, present=always) for i in range(sellers)]
                    team = StaffedTeam(people, 1, 0, routing, skill, [])
                times[sellers] = per_lead_seconds(team, args.leads, sellers)
            print(
                f"{routing:13s} {kind:5s}  5: {times[5] * 1e6:7.2f} us  "
                f"500: {times[500] * 1e6:8.2f} us  ratio {times[500] / times[5]:6.2f}"
            )


if __name__ == "__main__":
    main()
