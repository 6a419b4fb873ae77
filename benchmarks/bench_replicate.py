"""Replications per second on each backend, for a 10k-prospect scenario.

Serial, a process pool over all cores, and a Dask LocalCluster (started once, its start-up
timed apart), measured in the same run, interleaved, median of several rounds.

    python benchmarks/bench_replicate.py [--reps 16] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_engine import scenario_data

from hourglass import parse_scenario, replicate
from hourglass.experiments.replication import Executor


def main() -> None:
    """Measure replications per second on each backend, interleaved over `--rounds` rounds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prospects", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    scenario = parse_scenario(scenario_data(args.prospects))
    started = time.perf_counter()
    with Executor("dask") as dask, Executor("processes") as pool:
        dask_startup = time.perf_counter() - started
        timings: dict[str, list[float]] = {"serial": [], "processes": [], "dask": []}
        for i in range(args.rounds):
            for name, executor in (("serial", None), ("processes", pool), ("dask", dask)):
                t = time.perf_counter()
                if executor is None:
                    replicate(scenario, args.reps, seed=i, backend="serial")
                else:
                    replicate(scenario, args.reps, seed=i, executor=executor)
                timings[name].append(time.perf_counter() - t)
    per_s = {k: args.reps / statistics.median(v) for k, v in timings.items()}
    row = {
        "prospects": args.prospects,
        "reps": args.reps,
        "cores": os.cpu_count(),
        "serial_per_s": round(per_s["serial"], 2),
        "processes_per_s": round(per_s["processes"], 2),
        "dask_per_s": round(per_s["dask"], 2),
        "processes_vs_serial": round(per_s["processes"] / per_s["serial"], 2),
        "dask_vs_serial": round(per_s["dask"] / per_s["serial"], 2),
        "dask_startup_s": round(dask_startup, 2),
    }
    if args.json:
        print(json.dumps(row))
        return
    print(
        f"{args.prospects:,} prospects, {args.reps} replications, {os.cpu_count()} cores, "
        f"median of {args.rounds} rounds"
    )
    for name in ("serial", "processes", "dask"):
        print(
            f"  {name:<10} {per_s[name]:6.2f} replications/s  "
            f"({per_s[name] / per_s['serial']:.2f}x serial)"
        )
    print(f"  Dask LocalCluster start-up: {dask_startup:.1f} s (not in the rates)")


if __name__ == "__main__":
    main()
