"""Network mode's speed and memory against the same scenario in a well-mixed market.

A community of 100k people (small-world or scale-free) with organic arrivals, word of mouth,
a trust boost and social selling, over a year. Each measurement runs in a fresh process, so
the graph is built from nothing and peak memory is its own.

    python benchmarks/bench_network.py                       # small_world and scale_free
    python benchmarks/bench_network.py --nodes 100000 --repeat 3 --json
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

GRAPHS = {
    "small_world": lambda n: {"small_world": {"nodes": n, "neighbours": 10, "rewire": 0.1}},
    "scale_free": lambda n: {"scale_free": {"nodes": n, "links_per_node": 5}},
}


def scenario_data(graph: str, nodes: int) -> dict:
    """The benchmark community as scenario data."""
    stage = {"duration": {"exponential": {"mean_days": 3.0}}}
    return {
        "name": "bench_network",
        "horizon_days": 365.0,
        "network": {
            **GRAPHS[graph](nodes),
            "trust_boost": 0.15,
            "social_selling": {"preset": "linkedin_ssi_claim"},
        },
        "channels": {"organic": {"prospects_per_day": nodes / 2000}},
        "stages": {
            "know": {"pass_prob": 0.6, **stage},
            "like": {"pass_prob": 0.5, **stage},
            "trust": {"pass_prob": 0.5, **stage},
            "try": {"pass_prob": 0.7, **stage},
            "buy": {"pass_prob": 0.8, **stage},
        },
        "sales": {"sellers": 50, "stages": ["define", "deliver"]},
        "after_sale": {
            "order_value": {"fixed": {"value": 100.0}},
            "loyalty": {"transitions_per_month": {"one_time": {"fan": 1.0}}},
        },
        "referral": {
            "contacts_per_month": {"fan": 2.0},
            "win_prob": 0.4,
            "delay": {"exponential": {"mean_days": 5.0}},
        },
    }


def measure(graph: str, nodes: int, mixed: bool, seed: int) -> dict:
    """Build (network only) and simulate once; peak memory of this process."""
    from hourglass import parse_scenario, simulate
    from hourglass.config import well_mixed
    from hourglass.config.graph import build_graph

    started = time.perf_counter()
    scenario = parse_scenario(scenario_data(graph, nodes))
    if mixed:
        scenario = well_mixed(scenario)
    else:
        build_graph(scenario.network.spec, scenario.network.seed)
    built = time.perf_counter()
    run = simulate(scenario, seed)
    done = time.perf_counter()
    return {
        "build_s": built - started,
        "simulate_s": done - built,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "prospects": len(run.log.prospects["arrival"]),
        "buyers": int((run.log.purchases["kind"] == 0).sum()),
    }


def _in_fresh_process(graph: str, nodes: int, mixed: bool, seed: int) -> dict:
    args = [sys.executable, __file__, "--worker", graph, "--nodes", str(nodes), "--seed", str(seed)]
    out = subprocess.run([*args, *(["--mixed"] if mixed else [])], check=True, capture_output=True)
    return json.loads(out.stdout)


def main() -> None:
    """Measure each graph against the well-mixed market; with --worker, one run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--graphs", nargs="+", choices=list(GRAPHS), default=list(GRAPHS))
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; medians shown")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON object per graph")
    parser.add_argument("--worker", choices=list(GRAPHS), help=argparse.SUPPRESS)
    parser.add_argument("--mixed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.nodes, args.mixed, args.seed)))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if not args.json:
        print(
            f"{'graph':<12}{'nodes':>9}{'build s':>9}{'sim s':>8}{'total s':>9}"
            f"{'mixed s':>9}{'ratio':>7}{'peak MB':>9}{'mixed MB':>9}{'buyers':>8}{'mixed':>7}"
        )
    for graph in args.graphs:
        net, mixed = [], []
        for i in range(args.repeat):  # interleaved, so both meet the same machine load
            net.append(_in_fresh_process(graph, args.nodes, False, args.seed + i))
            mixed.append(_in_fresh_process(graph, args.nodes, True, args.seed + i))

        def med(rows: list[dict], key: str) -> float:
            return statistics.median(r[key] for r in rows)

        total = med(net, "build_s") + med(net, "simulate_s")
        base = med(mixed, "simulate_s")
        row = {
            "graph": graph,
            "nodes": args.nodes,
            "build_s": round(med(net, "build_s"), 2),
            "simulate_s": round(med(net, "simulate_s"), 2),
            "total_s": round(total, 2),
            "mixed_s": round(base, 2),
            "ratio": round(total / base, 2),
            "peak_mb": round(med(net, "peak_mb")),
            "mixed_peak_mb": round(med(mixed, "peak_mb")),
            "buyers": round(med(net, "buyers")),
            "mixed_buyers": round(med(mixed, "buyers")),
        }
        if args.json:
            print(json.dumps(row))
        else:
            print(
                f"{graph:<12}{args.nodes:>9,}{row['build_s']:>9.2f}{row['simulate_s']:>8.2f}"
                f"{row['total_s']:>9.2f}{row['mixed_s']:>9.2f}{row['ratio']:>6.2f}x"
                f"{row['peak_mb']:>9}{row['mixed_peak_mb']:>9}{row['buyers']:>8,}"
                f"{row['mixed_buyers']:>7,}"
            )


if __name__ == "__main__":
    main()
