"""Sweeps: a grid of overrides, replicated at every point, saved point by point."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from hourglass.config.scenario import Scenario, ScenarioError
from hourglass.experiments.replication import Backend, Executor, Progress, replicate, summarize
from hourglass.experiments.results import write_json, write_parquet

MAX_POINTS = 10_000


@dataclass(frozen=True)
class Vary:
    """One swept field: its dotted path in the scenario file and the values it takes."""

    path: str
    values: tuple[Any, ...]


def parse_vary(spec: str) -> Vary:
    """Parse "path=start:stop:step" (stop included), "path=a,b,c" or "path=value"."""
    path, sep, values = spec.partition("=")
    path, values = path.strip(), values.strip()
    if not sep or not path or not values:
        raise ScenarioError(f"--vary {spec}: write it as path=start:stop:step or path=a,b,c")
    if values.count(":") == 2:
        try:
            start, stop, step = (float(v) for v in values.split(":"))
        except ValueError:
            raise ScenarioError(f"--vary {spec}: start:stop:step must be numbers") from None
        if step <= 0 or stop < start:
            raise ScenarioError(f"--vary {spec}: an empty range (need step > 0, stop >= start)")
        count = int(np.floor((stop - start) / step + 1e-9)) + 1
        grid = [start + i * step for i in range(count)]
        as_int = all(float(x).is_integer() for x in (start, stop, step))
        return Vary(path, tuple(round(v) if as_int else round(v, 12) for v in grid))
    items = [v.strip() for v in values.split(",")]
    if not all(items):
        raise ScenarioError(f"--vary {spec}: an empty value in the list")
    return Vary(path, tuple(yaml.safe_load(v) for v in items))


def grid(base: Scenario, varies: Sequence[Vary]) -> list[tuple[dict[str, Any], Scenario]]:
    """Every combination of the varied values, each validated into a scenario."""
    paths = [v.path for v in varies]
    if len(set(paths)) != len(paths):
        raise ScenarioError("--vary: a field is varied twice")
    combos = list(itertools.product(*(v.values for v in varies)))
    if len(combos) > MAX_POINTS:
        raise ScenarioError(f"--vary: {len(combos):,} grid points; at most {MAX_POINTS:,}")
    points = []
    for combo in combos:
        overrides = dict(zip(paths, combo, strict=True))
        try:
            points.append((overrides, base.with_overrides(overrides)))
        except ScenarioError as err:
            raise ScenarioError(f"--vary {overrides}: {err}") from None
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
