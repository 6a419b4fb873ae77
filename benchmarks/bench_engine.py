"""Engine speed and memory against a plain one-process-per-customer SimPy model.

Both models simulate the same business (the baseline shop's funnel, sellers at Try and Buy
with impatient leads, repeat purchases) scaled to a given number of prospects. Each
measurement runs in a fresh process so that peak memory is its own.

    python benchmarks/bench_engine.py                 # 10k, 100k, 1M prospects
    python benchmarks/bench_engine.py --sizes 10000 100000 --repeat 3 --json
    python benchmarks/bench_engine.py --sizes 1000000 --before ../other   # and another checkout
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HORIZON = 365.0
STAGES = [  # pass probability, mean days (exponential), worked by a seller
    (0.60, 2.0, False),
    (0.50, 4.0, False),
    (0.50, 6.0, False),
    (0.60, 0.15, True),
    (0.70, 0.10, True),
]
PATIENCE_DAYS = 3.0
REPEATS_PER_MONTH = 0.5
DROPOUT = 0.2


def _sellers(prospects: int) -> int:
    """A team sized for about 70% utilisation at this many prospects."""
    rate = prospects / HORIZON
    load, reach = 0.0, rate
    for p, mean, worked in STAGES:
        if worked:
            load += reach * mean
        reach *= p
    return max(1, math.ceil(load / 0.7))


def scenario_data(prospects: int) -> dict:
    """The benchmark business as scenario data."""
    names = ["know", "like", "trust", "try", "buy"]
    return {
        "name": "bench",
        "horizon_days": HORIZON,
        "channels": {"organic": {"prospects_per_day": prospects / HORIZON}},
        "stages": {
            n: {"pass_prob": p, "duration": {"exponential": {"mean_days": m}}}
            for n, (p, m, _) in zip(names, STAGES, strict=True)
        },
        "sales": {
            "sellers": _sellers(prospects),
            "stages": ["define", "deliver"],
            "patience": {"exponential": {"mean_days": PATIENCE_DAYS}},
        },
        "after_sale": {
            "order_value": {"exponential": {"mean": 100.0}},
            "repeat": {
                "simple": {"purchases_per_month": REPEATS_PER_MONTH, "dropout_prob": DROPOUT}
            },
        },
    }


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


def run_engine(prospects: int, seed: int) -> dict:
    """Time one engine run; keep its event log alive while peak memory is read."""
    from hourglass import parse_scenario, simulate

    scenario = parse_scenario(scenario_data(prospects))
    base = _rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    run = simulate(scenario, seed)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mb": peak,
        "added_mb": peak - base,
        "prospects": len(run.log.prospects["arrival"]),
        "log_mb": run.log.nbytes / 2**20,
    }


def run_plain(prospects: int, seed: int) -> dict:
    """The obvious SimPy model: one generator per customer, one Timeout per stage."""
    import random

    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    team = simpy.Resource(env, capacity=_sellers(prospects))
    rate = prospects / HORIZON
    log: list[tuple] = []
    repeat_rate = REPEATS_PER_MONTH / (365.25 / 12)

    def customer(env, pid):
        seat = None  # a seller stays with the lead through consecutive worked stages
        for k, (p, mean, worked) in enumerate(STAGES):
            enter = env.now
            if worked and seat is None:
                seat = team.request()
                got = yield seat | env.timeout(rng.expovariate(1 / PATIENCE_DAYS))
                if seat not in got:
                    seat.cancel()
                    log.append((pid, k, enter, env.now, "went_cold"))
                    return
            yield env.timeout(rng.expovariate(1 / mean))
            passed = rng.random() < p
            log.append((pid, k, enter, env.now, passed))
            next_worked = k + 1 < len(STAGES) and STAGES[k + 1][2]
            if seat is not None and not (passed and next_worked):
                team.release(seat)
                seat = None
            if not passed:
                return
        log.append((pid, "purchase", env.now, rng.expovariate(1 / 100.0)))
        while True:
            yield env.timeout(rng.expovariate(repeat_rate))
            log.append((pid, "purchase", env.now, rng.expovariate(1 / 100.0)))
            if rng.random() < DROPOUT:
                return

    def arrivals(env):
        pid = 0
        while True:
            yield env.timeout(rng.expovariate(rate))
            env.process(customer(env, pid))
            pid += 1

    started, cpu = time.perf_counter(), time.process_time()
    env.process(arrivals(env))
    env.run(until=HORIZON)
    return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu}


def _measure(kind: str, prospects: int, seed: int, root: Path | None = None) -> dict:
    """One run in a fresh process; `root` is the checkout whose engine runs (default: this)."""
    env = dict(os.environ, PYTHONPATH=str(root)) if root else None
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            kind,
            "--sizes",
            str(prospects),
            "--seed",
            str(seed),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout)


def main() -> None:
    """Measure the engine against the plain model at each size; with --worker, one run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; medians shown")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON object per size")
    parser.add_argument("--before", type=Path, help="another checkout's engine, run interleaved")
    parser.add_argument("--worker", choices=["engine", "plain"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        fn = run_engine if args.worker == "engine" else run_plain
        print(json.dumps(fn(args.sizes[0], args.seed)))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    for size in args.sizes:
        reps = args.repeat
        engine, plain, before = [], [], []
        for i in range(reps):  # interleaved, so all meet the same machine load
            engine.append(_measure("engine", size, args.seed + i))
            plain.append(_measure("plain", size, args.seed + i))
            if args.before:
                before.append(_measure("engine", size, args.seed + i, args.before.resolve()))
        engine_s = [r["seconds"] for r in engine]
        plain_s = [r["seconds"] for r in plain]
        e_s, p_s = statistics.median(engine_s), statistics.median(plain_s)
        row = {
            "prospects": size,
            "engine_per_s": round(size / e_s),
            "plain_per_s": round(size / p_s),
            "ratio": round(p_s / e_s, 2),
            "peak_mb": round(statistics.median(r["peak_mb"] for r in engine), 1),
            "added_mb": round(statistics.median(r["added_mb"] for r in engine), 1),
            "added_bytes_per_prospect": round(
                statistics.median(r["added_mb"] * 2**20 / r["prospects"] for r in engine)
            ),
            "ratio_range": [
                round(min(plain_s) / max(engine_s), 2),
                round(max(plain_s) / min(engine_s), 2),
            ],
        }
        p_cpu = statistics.median(r["cpu_seconds"] for r in plain)
        row["cpu_ratio"] = round(p_cpu / statistics.median(r["cpu_seconds"] for r in engine), 2)
        if before:
            b_s = statistics.median(r["seconds"] for r in before)
            row["before_ratio"] = round(p_s / b_s, 2)
            b_cpu = statistics.median(r["cpu_seconds"] for r in before)
            row["before_cpu_ratio"] = round(p_cpu / b_cpu, 2)
            row["before_added_bytes_per_prospect"] = round(
                statistics.median(r["added_mb"] * 2**20 / r["prospects"] for r in before)
            )
        if args.json or before:
            print(json.dumps(row), flush=True)
        else:
            print(
                f"{size:>9,} prospects: engine {row['engine_per_s']:>9,}/s  plain "
                f"{row['plain_per_s']:>8,}/s  ratio {row['ratio']:>5.1f}x  peak "
                f"{row['peak_mb']:.0f} MB  added {row['added_mb']:.0f} MB "
                f"(median of {reps})",
                flush=True,
            )


if __name__ == "__main__":
    main()
