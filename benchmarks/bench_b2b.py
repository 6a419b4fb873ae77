"""B2B committee mode: a run with a given number of deals, against the same run without it.

The baseline runs without the committee: the funnel, sellers and after-sale are identical, and
the stage is decided at once.

The shipped b2b_committee scenario is scaled so that about `--deals` deals reach its buying
centre (arrivals multiplied, market and sales team grown to match). Each measurement runs in
a fresh process, so that peak memory is its own; medians of `--repeat` runs.

    python benchmarks/bench_b2b.py                      # 10,000 deals
    python benchmarks/bench_b2b.py --deals 10000 100000 --repeat 3 --json
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

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "b2b_committee.yaml"
BUY = 4
"""The committee's stage in the shipped scenario (Buy)."""


def scaled(deals: int, committee: bool):
    """The shipped B2B scenario grown to bring about `deals` deals to its committee.

    It is scaled once by a probe run's deals, then once more by the scaled run's own.
    """
    from hourglass import load_scenario, simulate

    base = load_scenario(SCENARIO)
    scenario, factor = base, 1.0
    for _ in range(2):
        reached = int((simulate(scenario, seed=1).log.visits["stage"] == BUY).sum())
        factor *= deals / max(reached, 1)
        scenario = _grown(base, factor)
    if not committee:
        data = scenario.to_dict()
        del data["committee"]
        scenario = base.model_validate(data)
    return scenario


def _grown(base, factor: float):
    """The scenario with arrivals, market and sales team multiplied by `factor`."""
    data = base.to_dict()
    for channel in data["channels"]["paid"].values():
        channel["budget_per_month"] *= factor
    data["channels"]["organic"]["prospects_per_day"] *= factor
    data["market"]["size"] = int(data["market"]["size"] * factor)
    data["sales"]["sellers"] = max(1, round(data["sales"]["sellers"] * factor))
    return base.model_validate(data)


def measure(deals: int, committee: bool, seed: int) -> dict:
    """Simulate once in this process: seconds, deals, prospects and peak memory."""
    from hourglass import simulate

    scenario = scaled(deals, committee)
    started = time.perf_counter()
    run = simulate(scenario, seed=seed)
    seconds = time.perf_counter() - started
    log = run.log
    at_stage = log.visits["stage"] == BUY
    return {
        "seconds": seconds,
        "prospects": len(log.prospects["arrival"]),
        "deals": int(at_stage.sum()),
        "answers": len(log.answers["deal"]) if log.answers else 0,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _fresh(deals: int, committee: bool, seed: int) -> dict:
    code = (
        "import json, sys; sys.path.insert(0, 'benchmarks'); import bench_b2b as b; "
        f"print(json.dumps(b.measure({deals}, {committee}, {seed})))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    """Measure the baseline and the committee run for each number of deals; print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, nargs="+", default=[10_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for deals in args.deals:
        for committee in (False, True):
            runs = [_fresh(deals, committee, seed) for seed in range(1, args.repeat + 1)]
            rows.append(
                {
                    "deals_target": deals,
                    "mode": "committee" if committee else "baseline",
                    **{k: statistics.median(r[k] for r in runs) for k in runs[0]},
                    "seconds_all": [round(r["seconds"], 3) for r in runs],
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'deals':>8} {'mode':>10} {'prospects':>10} {'answers':>9} {'s':>7} {'peak MB':>8}")
    for r in rows:
        print(
            f"{r['deals']:>8,.0f} {r['mode']:>10} {r['prospects']:>10,.0f} "
            f"{r['answers']:>9,.0f} {r['seconds']:>7.2f} {r['peak_mb']:>8.0f}"
        )
    for deals in args.deals:
        base, b2b = (r for r in rows if r["deals_target"] == deals)
        print(f"{deals:,} deals: committee / baseline time {b2b['seconds'] / base['seconds']:.2f}x")


if __name__ == "__main__":
    main()
