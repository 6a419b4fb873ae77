"""How fast the command line answers: `--help`, one run of the baseline, the README's optimize.

Each command runs end to end in a fresh process, `--repeat` times, for this checkout and for
an earlier one (`--before`, a git revision unpacked in a temporary folder and put first on the
import path), interleaved so that both see the same machine load. Medians, ranges and the
before/after ratio are printed; so is where one run's time goes (interpreter, imports, loading
the scenario, simulating).

    python benchmarks/bench_cli.py                         # against main, 3 runs each
    python benchmarks/bench_cli.py --before HEAD~3 --repeat 5 --json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
COMMANDS = {
    "help": ["--help"],
    "run": ["run", str(SCENARIOS / "baseline.yaml")],
    "optimize": [
        *("optimize", str(SCENARIOS / "marketing_budgets.yaml"), "--budget", "22000"),
        *("--objective", "profit", "--lock", "display_ads", "--max", "try=1500", "--reps", "20"),
    ],
}
"""What is timed: the README's commands, with absolute paths so that both checkouts read the
same scenario files (optimize without -o: it is timed, not kept)."""

SPLIT = """
import json, sys, time
clock = time.process_time if sys.argv[2] == "cpu" else time.perf_counter
t0 = clock()
import hourglass.cli
t1 = clock()
import hourglass, hourglass.experiments, hourglass.sim, hourglass.analysis, pandas
from hourglass.experiments import replication
t2 = clock()
spec = hourglass.load_scenario(sys.argv[1])
t3 = clock()
hourglass.replicate(spec, 1, None, "serial")
t4 = clock()
print(json.dumps({"import the command line": t1 - t0, "import what run needs": t2 - t1,
                  "load the scenario": t3 - t2, "simulate and analyse": t4 - t3}))
"""
"""One run's time by part, in one process (the interpreter's start is measured apart): wall
seconds, or with "cpu" the process's CPU seconds, which a busy machine disturbs less."""


def timed(command: list[str], env: dict[str, str]) -> float:
    """Seconds from start to exit of `command`; a failure stops the benchmark."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return elapsed


def environment(source: Path | None) -> dict[str, str]:
    """The environment of a run: the checkout at `source` first on the import path, if given."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["LANG"] = env["LC_ALL"] = "C.UTF-8"
    if source is not None:
        env["PYTHONPATH"] = str(source)
    return env


def summary(times: list[float]) -> dict[str, float]:
    """Median and range of `times`, in seconds."""
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def measure(before: Path, repeat: int, names: list[str]) -> dict[str, dict]:
    """Each command's times now and before, the two interleaved run by run."""
    script = Path(sys.executable).with_name("hourglass")
    results = {}
    for name in names:
        now: list[float] = []
        then: list[float] = []
        for _ in range(repeat):
            now.append(timed([str(script), *COMMANDS[name]], environment(None)))
            then.append(timed([str(script), *COMMANDS[name]], environment(before)))
        results[name] = {"now": summary(now), "before": summary(then)}
        results[name]["ratio"] = results[name]["before"]["median"] / results[name]["now"]["median"]
    return results


def split(repeat: int, clock: str = "wall") -> dict[str, float]:
    """Median seconds of each part of one run of the baseline, this checkout.

    `clock` is wall or cpu.
    """
    env = environment(None)
    start = [timed([sys.executable, "-c", "pass"], env) for _ in range(repeat)]
    parts: list[dict[str, float]] = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", SPLIT, str(SCENARIOS / "baseline.yaml"), clock],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        parts.append(json.loads(done.stdout))
    medians = {"start the interpreter": statistics.median(start)} if clock == "wall" else {}
    medians |= {part: statistics.median(p[part] for p in parts) for part in parts[0]}
    return medians


def checkout(revision: str, into: Path) -> Path:
    """The files of `revision`, unpacked into `into` (the repository is left as it is)."""
    into.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main() -> None:
    """Time the commands now and before; print a table, or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="git revision to compare with")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (>= 3)")
    parser.add_argument("--only", nargs="*", choices=list(COMMANDS), default=list(COMMANDS))
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        before = checkout(args.before, Path(scratch) / "before")
        results = measure(before, max(args.repeat, 3), args.only)
    parts = split(max(args.repeat, 3))
    cpu = split(max(args.repeat, 3), "cpu")
    if args.json:
        print(
            json.dumps(
                {"before": args.before, "commands": results, "run parts": parts, "cpu": cpu}
            )
        )
        return
    print(f"{'command':<20} {'now: median [min, max] s':>28} {'before (' + args.before + ')':>28}")
    for name, result in results.items():
        now, then = result["now"], result["before"]
        print(
            f"{name:<20} {now['median']:>10.2f} [{now['min']:.2f}, {now['max']:.2f}]"
            f"{'':>6}{then['median']:>10.2f} [{then['min']:.2f}, {then['max']:.2f}]"
            f"   x{result['ratio']:.2f}"
        )
    print("one run of the baseline, by part (median s, wall and CPU):")
    for part, seconds in parts.items():
        print(f"  {part:<26} {seconds:.3f}  {cpu.get(part, math.nan):.3f}")


if __name__ == "__main__":
    main()
