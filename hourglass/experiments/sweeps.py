"""Sweeps: a grid of overrides, replicated at every point, saved point by point."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from hourglass.analysis.accounts import accounts_record
from hourglass.config.arguments import as_scenario, whole_number
from hourglass.config.reasons import os_reason
from hourglass.config.scenario import Scenario, ScenarioError
from hourglass.experiments.grid import MAX_POINTS as MAX_POINTS
from hourglass.experiments.grid import Vary, as_varies, grid
from hourglass.experiments.replication import Backend, Executor, Progress, replicate, summarize
from hourglass.experiments.results import OutputError, jsonable, write_json, write_parquet
from hourglass.i18n import _

LOCK_FILE = ".lock"
"""The file a running sweep holds locked in its folder."""


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by Ctrl-C: how many of its points are saved, and where."""

    def __init__(self, saved: int, total: int, out: Path) -> None:
        super().__init__(f"{saved} of {total} points saved in {out}")
        self.saved, self.total, self.out = saved, total, out


def sweep(
    base: Scenario | str | os.PathLike,
    varies: Sequence[Vary] | Mapping[str, Any] | str,
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

    The table's `attrs["accounts"]` holds each point's key accounts (its overrides and
    `accounts`, as `run --json` gives them: means over the point's replications).

    `varies` is a list of Vary, of "path=values" texts (as --vary takes), or a dict of
    paths to their values; `base` may be a scenario file's path or a shipped one's name.

    With `out`, each finished point is saved at once (atomically) under out/points/, so
    an interrupted sweep resumes with `resume=True` and computes only the missing points.
    The folder is locked while the sweep runs; each point file records the sweep it
    belongs to, and a resumed sweep refuses point files of another. Ctrl-C raises
    SweepInterrupted; a table that cannot be saved comes back in OutputError.unsaved.
    """
    started = time.perf_counter()
    base, varies = as_scenario(base, "base"), as_varies(varies)
    reps = whole_number(reps, "reps", least=1)
    seed = base.seed if seed is None else whole_number(seed, "seed")
    points = grid(base, varies)
    if out is None:
        return _run_points(points, reps, seed, backend, scheduler, progress, None, "")
    with _locked(out):
        sweep_id = _prepare(out, resume, base, varies, reps, seed, version)
        table = _run_points(points, reps, seed, backend, scheduler, progress, out, sweep_id)
        try:
            write_parquet(table, out / "sweep.parquet")
            manifest = json.loads((out / "manifest.json").read_text("utf-8"))
            seconds = round(time.perf_counter() - started, 3)
            write_json(
                {**manifest, "backend": backend, "points": len(points), "seconds": seconds},
                out / "manifest.json",
            )
        except OSError as e:
            raise OutputError(
                _("--out {out}: cannot save the sweep's table: {reason}").format(
                    out=out, reason=os_reason(e)
                ),
                unsaved=table,
            ) from None
    return table


def _run_points(
    points: list[tuple[dict[str, Any], Scenario]],
    reps: int,
    seed: int,
    backend: Backend,
    scheduler: str | None,
    progress: Progress | None,
    out: Path | None,
    sweep_id: str,
) -> pd.DataFrame:
    """Every point's summary; with `out`, saved points are read and new ones saved."""
    total = reps * len(points)
    per_point: list[pd.DataFrame] = []
    accounts: list[dict[str, Any]] = []
    try:
        with Executor(backend, scheduler) as executor:
            for i, (overrides, scenario) in enumerate(points):
                saved = _point_file(out, i) if out else None
                kpis = _saved_point(saved, sweep_id, i) if saved else None
                if kpis is None:
                    first = i * reps
                    tick = (lambda d, _t, f=first: progress(f + d, total)) if progress else None
                    result = replicate(scenario, reps, seed, executor=executor, progress=tick)
                    kpis = result.kpis.reset_index()
                    kpis.attrs["accounts"] = accounts_record(result.accounts)
                    if saved is not None:
                        _save_point(kpis, saved, sweep_id, i, len(points))
                if progress:
                    progress((i + 1) * reps, total)
                per_point.append(_summarise_point(overrides, kpis))
                accounts.append({**overrides, "accounts": kpis.attrs.get("accounts")})
    except KeyboardInterrupt:
        if out is None:
            raise
        # Counted on disk: Ctrl-C may land after a point's file is saved but before it is tallied.
        on_disk = sum(_point_file(out, i).exists() for i in range(len(points)))
        raise SweepInterrupted(on_disk, len(points), out) from None
    table = pd.concat(per_point, ignore_index=True)
    table.attrs["accounts"] = accounts
    return table


def _point_file(out: Path, index: int) -> Path:
    """Where point `index` of a sweep saved in `out` is kept."""
    return out / "points" / f"point-{index:05d}.parquet"


def _save_point(kpis: pd.DataFrame, saved: Path, sweep_id: str, index: int, total: int) -> None:
    """Save one point's KPIs, marked with the sweep and the point they belong to.

    The point's key accounts (`attrs["accounts"]`) are saved with them.
    """
    kpis.attrs["sweep"], kpis.attrs["point"] = sweep_id, index
    try:
        write_parquet(kpis, saved)
    except OSError as e:
        raise OutputError(
            _(
                "{saved}: cannot save the point: {reason}; {index} of {total} points are "
                "saved: make room and run the same command with --resume to continue"
            ).format(saved=saved, reason=os_reason(e), index=index, total=total)
        ) from None


def _saved_point(saved: Path, sweep_id: str, index: int) -> pd.DataFrame | None:
    """A point's KPIs saved earlier by this sweep, None if not saved; a tampered file is refused."""
    if saved.is_dir():
        raise ScenarioError(
            _("{saved}: a folder where a point file should be; remove it").format(saved=saved)
        )
    if not saved.exists():
        return None
    try:
        kpis = pd.read_parquet(saved)
    except (OSError, ValueError):
        raise ScenarioError(
            _(
                "{saved}: damaged, it cannot be read; delete it and run the same command "
                "with --resume to compute that point again"
            ).format(saved=saved)
        ) from None
    if kpis.attrs.get("sweep") != sweep_id:
        raise ScenarioError(
            _(
                "{saved}: saved by another sweep (or changed since); delete it and run the "
                "same command with --resume to compute that point again"
            ).format(saved=saved)
        )
    if kpis.attrs.get("point") != index:
        raise ScenarioError(
            _(
                "{saved}: holds another point of this sweep; delete it and run the same "
                "command with --resume to compute that point again"
            ).format(saved=saved)
        )
    return kpis


def _summarise_point(overrides: dict[str, Any], kpis: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for kpi in kpis.columns.drop("rep"):
        rows.append({**overrides, "kpi": kpi, **summarize(kpis[kpi].to_numpy(dtype=float))})
    return pd.DataFrame(rows)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold the folder's lock file while a sweep writes there; fail at once if another does."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "a+b") as handle:
        try:
            _lock(handle.fileno())
        except OSError:
            raise ScenarioError(
                _(
                    "--out {out}: another sweep is writing to this folder; wait until it ends "
                    "or choose another folder"
                ).format(out=folder)
            ) from None
        yield


def _lock(fd: int) -> None:
    """An exclusive lock on the open file, released when it closes; OSError if taken."""
    if os.name == "nt":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _prepare(
    out: Path,
    resume: bool,
    base: Scenario,
    varies: Sequence[Vary],
    reps: int,
    seed: int,
    version: str,
) -> str:
    """Create out/points, or check that an earlier sweep there is this one when resuming.

    The sweep's id, a hash of what defines it, is what its point files are marked with.
    """
    spec = jsonable(
        {
            "scenario": base.to_dict(),
            "vary": {v.path: list(v.values) for v in varies},
            "reps": reps,
            "seed": seed,
        }
    )
    sweep_id = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    manifest = out / "manifest.json"
    if manifest.exists() or manifest.is_symlink():
        if not resume:
            raise ScenarioError(
                _(
                    "--out {out}: holds an earlier sweep; add --resume to continue it or "
                    "choose another folder"
                ).format(out=out)
            )
        earlier = _earlier_manifest(manifest)
        if {k: earlier.get(k) for k in spec} != spec:
            raise ScenarioError(
                _(
                    "--out {out}: the sweep saved there differs from this one (scenario, "
                    "--vary, --reps or --seed); cannot resume it"
                ).format(out=out)
            )
    points = out / "points"
    if points.exists() and not points.is_dir():
        raise ScenarioError(
            _("{points}: a file where the folder of points should be; remove it").format(
                points=points
            )
        )
    points.mkdir(parents=True, exist_ok=True)
    write_json({**spec, "sweep_id": sweep_id, "version": version}, manifest)
    return sweep_id


def _earlier_manifest(manifest: Path) -> dict[str, Any]:
    """The manifest an earlier sweep left, or a ScenarioError if it is not one."""
    try:
        earlier = json.loads(manifest.read_text("utf-8"))
    except (OSError, ValueError) as e:
        why = os_reason(e) if isinstance(e, OSError) else _("not valid JSON")
        raise ScenarioError(
            _("{manifest}: cannot read a sweep's manifest: {reason}").format(
                manifest=manifest, reason=why
            )
        ) from None
    if not isinstance(earlier, dict):
        raise ScenarioError(
            _(
                "{manifest}: not a sweep's manifest (a JSON object is expected); choose "
                "another folder"
            ).format(manifest=manifest)
        )
    return earlier
