"""Sweeps: a grid of overrides, replicated at every point, saved point by point."""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hourglass.config.scenario import Scenario, ScenarioError
from hourglass.experiments.replication import Backend, Executor, Progress, replicate, summarize
from hourglass.experiments.results import write_json, write_parquet

MAX_POINTS = 10_000


@dataclass(frozen=True)
class Vary:
    """One swept field: its dotted path in the scenario file and the values it takes."""

    path: str
    values: tuple[Any, ...]


_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_WORD = re.compile(r"[^\W\d][\w.\-/ ]*")  # begins with a letter or _, as names do
_PATH = re.compile(r"[A-Za-z_]\w*(\.\w+)*")
_NOT_FINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan"}


def parse_vary(spec: str) -> Vary:
    """Parse "path=start:stop:step" (stop included), "path=start:stop" (step 1), "path=a,b,c".

    Values have a grammar of their own, not YAML's: a number (an int where written as
    one), true or false, or a plain word. A range is counted before it is built.
    """
    path, sep, values = spec.partition("=")
    path, values = path.strip(), values.strip()
    if not sep or not path or not values:
        raise ScenarioError(f"--vary {spec}: write it as path=start:stop:step or path=a,b,c")
    if not _PATH.fullmatch(path):
        raise ScenarioError(
            f"--vary {spec}: '{path}' is not a field path; write the scenario file's keys "
            "joined by dots, e.g. sales.sellers"
        )
    if ":" in values:
        return Vary(path, _range(spec, values))
    items = [v.strip() for v in values.split(",")]
    if not all(items):
        raise ScenarioError(f"--vary {spec}: an empty value in the list")
    if len(items) > MAX_POINTS:
        raise ScenarioError(f"--vary {spec}: {len(items):,} values; at most {MAX_POINTS:,}")
    return Vary(path, tuple(_value(spec, item) for item in items))


def _value(spec: str, text: str) -> Any:
    """One listed value: a finite number, true/false or a plain word."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _INT.fullmatch(text) or _FLOAT.fullmatch(text) or text.lower() in _NOT_FINITE:
        return _number(spec, text)
    if _WORD.fullmatch(text):
        return text
    raise ScenarioError(
        f"--vary {spec}: '{text}' is not a number, true/false or a plain word "
        "(letters, digits, spaces and _ - . /, beginning with a letter)"
    )


def _number(spec: str, text: str) -> int | float:
    """A finite number as written: an int without a point or exponent, else a float."""
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text) and math.isfinite(number := float(text)):
        return number
    if text.lower() in _NOT_FINITE or _FLOAT.fullmatch(text):
        raise ScenarioError(f"--vary {spec}: '{text}' is not a finite number")
    raise ScenarioError(f"--vary {spec}: start:stop:step must be numbers, not '{text}'")


def _range(spec: str, values: str) -> tuple[int | float, ...]:
    """The values of start:stop[:step], stop included, refused above MAX_POINTS unbuilt."""
    parts = [p.strip() for p in values.split(":")]
    if len(parts) not in (2, 3):
        raise ScenarioError(f"--vary {spec}: a range is start:stop or start:stop:step")
    numbers = [_number(spec, p) for p in parts]
    start, stop, step = (*numbers, 1)[:3]
    if step <= 0 or stop < start:
        raise ScenarioError(f"--vary {spec}: an empty range (need step > 0, stop >= start)")
    if all(isinstance(n, int) for n in numbers):
        count = (stop - start) // step + 1
    else:
        ratio = (stop - start) / step
        count = math.floor(ratio + 1e-9) + 1 if math.isfinite(ratio) else math.inf
    if count > MAX_POINTS:
        many = f"{count:,}" if math.isfinite(count) else "countless"
        raise ScenarioError(
            f"--vary {spec}: {many} values; a sweep has at most {MAX_POINTS:,} points: "
            "take a larger step or a shorter range"
        )
    if isinstance(count, int) and all(isinstance(n, int) for n in numbers):
        return tuple(range(start, stop + 1, step))
    return tuple(round(start + i * step, 12) for i in range(count))


def grid(base: Scenario, varies: Sequence[Vary]) -> list[tuple[dict[str, Any], Scenario]]:
    """Every combination of the varied values, each validated into a scenario.

    The points are counted before any is built.
    """
    paths = [v.path for v in varies]
    if len(set(paths)) != len(paths):
        raise ScenarioError("--vary: a field is varied twice")
    total = math.prod(len(v.values) for v in varies)
    if total > MAX_POINTS:
        sizes = " x ".join(f"{len(v.values):,}" for v in varies)
        raise ScenarioError(
            f"--vary: {total:,} grid points ({sizes}); at most {MAX_POINTS:,}: "
            "vary fewer fields or fewer values"
        )
    points = []
    for combo in itertools.product(*(v.values for v in varies)):
        overrides = dict(zip(paths, combo, strict=True))
        try:
            points.append((overrides, base.with_overrides(overrides)))
        except ScenarioError as err:
            point = ", ".join(f"{k}={v}" for k, v in overrides.items())
            raise ScenarioError(
                "\n".join(
                    f"--vary {point}: {line.removeprefix('overrides: ')}"
                    for line in str(err).splitlines()
                )
            ) from None
    return points


def sweep(
    base: Scenario,
    varies: Sequence[Vary],
    reps: int = 10,
    seed: int | None = None,
    backend: Backend = "processes",
    *,
    scheduler: str | None = None,
    out: Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    version: str = "",
) -> pd.DataFrame:
    """Replicate every grid point; a tidy table, one row per point and KPI, with its band.

    With `out`, each finished point is saved at once (atomically) under out/points/, so
    an interrupted sweep resumes with `resume=True` and computes only the missing points.
    """
    started = time.perf_counter()
    points = grid(base, varies)
    seed = base.seed if seed is None else seed
    done_dir = _prepare(out, resume, base, varies, reps, seed, version) if out else None
    total = reps * len(points)
    per_point: list[pd.DataFrame] = []
    with Executor(backend, scheduler) as executor:
        for i, (overrides, scenario) in enumerate(points):
            saved = done_dir / f"point-{i:05d}.parquet" if done_dir else None
            if saved is not None and saved.exists():
                kpis = pd.read_parquet(saved)
            else:
                first = i * reps
                tick = (lambda d, _t, first=first: progress(first + d, total)) if progress else None
                result = replicate(scenario, reps, seed, executor=executor, progress=tick)
                kpis = result.kpis.reset_index()
                if saved is not None:
                    write_parquet(kpis, saved)
            if progress:
                progress((i + 1) * reps, total)
            per_point.append(_summarise_point(overrides, kpis))
    table = pd.concat(per_point, ignore_index=True)
    if out:
        write_parquet(table, out / "sweep.parquet")
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
        seconds = time.perf_counter() - started
        write_json(
            {**manifest, "backend": backend, "points": len(points), "seconds": round(seconds, 3)},
            out / "manifest.json",
        )
    return table


def _summarise_point(overrides: dict[str, Any], kpis: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for kpi in kpis.columns.drop("rep"):
        rows.append({**overrides, "kpi": kpi, **summarize(kpis[kpi].to_numpy(dtype=float))})
    return pd.DataFrame(rows)


def _prepare(
    out: Path,
    resume: bool,
    base: Scenario,
    varies: Sequence[Vary],
    reps: int,
    seed: int,
    version: str,
) -> Path:
    """Create out/points, or check that an earlier sweep there is this one when resuming."""
    spec = {
        "scenario": base.to_dict(),
        "vary": {v.path: list(v.values) for v in varies},
        "reps": reps,
        "seed": seed,
    }
    manifest = out / "manifest.json"
    if manifest.exists():
        if not resume:
            raise ScenarioError(
                f"--out {out}: holds an earlier sweep; add --resume to "
                "continue it or choose another folder"
            )
        earlier = json.loads(manifest.read_text("utf-8"))
        if {k: earlier.get(k) for k in spec} != json.loads(json.dumps(spec)):
            raise ScenarioError(
                f"--out {out}: the sweep saved there differs from this one "
                "(scenario, --vary, --reps or --seed); cannot resume it"
            )
    points = out / "points"
    points.mkdir(parents=True, exist_ok=True)
    write_json({**spec, "version": version}, manifest)
    return points
