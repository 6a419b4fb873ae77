"""Engine speed on the shipped baseline, as shipped and scaled up, against another checkout.

The baseline uses every feature the engine has for a shop: loyalty classes, BG/NBD repeats,
offers, referrals through a finite market, and a sales team. Scaled by a factor, its
channels, market and sellers grow together, so each seller meets the same load. Each
measurement runs in a fresh process, so peak memory is its own; with --before, runs of the
other checkout interleave with this one's, so both meet the same machine load. On a shared
machine the CPU-time rates are the steadier measure.

    python benchmarks/bench_baseline.py                       # shipped and x11, 3 runs each
    python benchmarks/bench_baseline.py --scales 1 11 --repeat 5 --before ../other --json
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def scaled_baseline(root: Path, scale: float):
    """The shipped baseline with its channels, market and sellers multiplied by `scale`."""
    import yaml

    from hourglass import parse_scenario

    data = yaml.safe_load((root / "scenarios" / "baseline.yaml").read_text())
    channels = data["channels"]
    for paid in channels.get("paid", {}).values():
        paid["budget_per_month"] *= scale
    channels["organic"]["prospects_per_day"] *= scale
    data["market"]["size"] = round(data["market"]["size"] * scale)
    data["sales"]["sellers"] = max(1, round(data["sales"]["sellers"] * scale))
    return parse_scenario(data)


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


def run_once(root: Path, scale: float, seed: int) -> dict:
    """Time one run of the scaled baseline; keep its event log alive while memory is read."""
    sys.path.insert(0, str(root))
    from hourglass import simulate

    scenario = scaled_baseline(root, scale)
    simulate(scaled_baseline(root, 0.05), seed)  # imports and first-call costs out of the timing
    base = _rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    run = simulate(scenario, seed)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    prospects = len(run.log.prospects["arrival"])
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "prospects": prospects,
        "added_bytes_per_prospect": (peak - base) * 2**20 / max(prospects, 1),
    }


def _measure(root: Path, scale: float, seed: int) -> dict:
    worker = ["--worker", str(root), "--scales", str(scale), "--seed", str(seed)]
    out = subprocess.run(
        [sys.executable, __file__, *worker],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
    )
    return json.loads(out.stdout)


def _summary(runs: list[dict]) -> dict:
    rates = [r["prospects"] / r["seconds"] for r in runs]
    cpu_rates = [r["prospects"] / r["cpu_seconds"] for r in runs]
    memory = [r["added_bytes_per_prospect"] for r in runs]
    return {
        "prospects": runs[0]["prospects"],
        "per_s": round(statistics.median(rates)),
        "per_s_range": [round(min(rates)), round(max(rates))],
        "cpu_per_s": round(statistics.median(cpu_rates)),
        "cpu_per_s_range": [round(min(cpu_rates)), round(max(cpu_rates))],
        "seconds": round(statistics.median(r["seconds"] for r in runs), 3),
        "bytes_per_prospect": round(statistics.median(memory)),
    }


def main() -> None:
    """Measure the baseline at each scale; with --worker, one run in the given checkout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 11.0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per scale; medians shown")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--before", type=Path, help="another checkout to compare with")
    parser.add_argument("--json", action="store_true", help="one JSON object per scale")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_once(args.worker, args.scales[0], args.seed)))
        return
    roots = {"after": HERE} | ({"before": args.before.resolve()} if args.before else {})
    for scale in args.scales:
        runs: dict[str, list[dict]] = {name: [] for name in roots}
        for i in range(args.repeat):  # interleaved, so both checkouts meet the same load
            for name, root in roots.items():
                runs[name].append(_measure(root, scale, args.seed + i))
        row = {"scale": scale} | {name: _summary(r) for name, r in runs.items()}
        if "before" in row:
            row["speedup"] = round(row["after"]["per_s"] / row["before"]["per_s"], 2)
            row["cpu_speedup"] = round(row["after"]["cpu_per_s"] / row["before"]["cpu_per_s"], 2)
        if args.json:
            print(json.dumps(row), flush=True)
            continue
        for name in roots:
            s = row[name]
            print(
                f"x{scale:g} {name:>6}: {s['prospects']:>9,} prospects  {s['per_s']:>9,}/s "
                f"({s['per_s_range'][0]:,}-{s['per_s_range'][1]:,}), CPU {s['cpu_per_s']:,}/s "
                f"({s['cpu_per_s_range'][0]:,}-{s['cpu_per_s_range'][1]:,})  "
                f"{s['bytes_per_prospect']} B/prospect (median of {args.repeat})",
                flush=True,
            )
        if "speedup" in row:
            print(
                f"x{scale:g} speedup {row['speedup']:.2f}x, in CPU time {row['cpu_speedup']:.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
