"""Sweeps: a grid of overrides, replicated at every point, saved point by point."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hourglass.config.arguments import as_scenario, kind_of, whole_number
from hourglass.config.scenario import Scenario, ScenarioError
from hourglass.experiments.replication import Backend, Executor, Progress, replicate, summarize
from hourglass.experiments.results import OutputError, jsonable, write_json, write_parquet
from hourglass.i18n import _, grouped

MAX_POINTS = 10_000
LOCK_FILE = ".lock"
"""The file a running sweep holds locked in its folder."""


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
        raise ScenarioError(
            _("--vary {spec}: write it as path=start:stop:step or path=a,b,c").format(spec=spec)
        )
    if not _PATH.fullmatch(path):
        raise ScenarioError(
            _(
                "--vary {spec}: '{path}' is not a field path; write the scenario file's keys "
                "joined by dots, e.g. sales.sellers"
            ).format(spec=spec, path=path)
        )
    if path == "seed":  # every point runs on the sweep's own seed children
        raise ScenarioError(
            _(
                "--vary {spec}: a sweep runs every point on the same seeds; give --seed "
                "instead, or more --reps"
            ).format(spec=spec)
        )
    if ":" in values:
        return Vary(path, _range(spec, values))
    items = [v.strip() for v in values.split(",")]
    if not all(items):
        raise ScenarioError(_("--vary {spec}: an empty value in the list").format(spec=spec))
    if len(items) > MAX_POINTS:
        raise ScenarioError(
            _("--vary {spec}: {count} values; at most {limit}").format(
                spec=spec, count=grouped(len(items)), limit=grouped(MAX_POINTS)
            )
        )
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
        _(
            "--vary {spec}: '{text}' is not a number, true/false or a plain word "
            "(letters, digits, spaces and _ - . /, beginning with a letter)"
        ).format(spec=spec, text=text)
    )


def _number(spec: str, text: str) -> int | float:
    """A finite number as written: an int without a point or exponent, else a float."""
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text) and math.isfinite(number := float(text)):
        return number
    if text.lower() in _NOT_FINITE or _FLOAT.fullmatch(text):
        raise ScenarioError(
            _("--vary {spec}: '{text}' is not a finite number").format(spec=spec, text=text)
        )
    raise ScenarioError(
        _("--vary {spec}: start:stop:step must be numbers, not '{text}'").format(
            spec=spec, text=text
        )
    )


def _range(spec: str, values: str) -> tuple[int | float, ...]:
    """The values of start:stop[:step], stop included, refused above MAX_POINTS unbuilt."""
    parts = [p.strip() for p in values.split(":")]
    if len(parts) not in (2, 3):
        raise ScenarioError(
            _("--vary {spec}: a range is start:stop or start:stop:step").format(spec=spec)
        )
    numbers = [_number(spec, p) for p in parts]
    start, stop, step = (*numbers, 1)[:3]
    if step <= 0 or stop < start:
        raise ScenarioError(
            _("--vary {spec}: an empty range (need step > 0, stop >= start)").format(spec=spec)
        )
    if all(isinstance(n, int) for n in numbers):
        count = (stop - start) // step + 1
    else:
        ratio = (stop - start) / step
        count = math.floor(ratio + 1e-9) + 1 if math.isfinite(ratio) else math.inf
    if count > MAX_POINTS:
        many = grouped(count) if math.isfinite(count) else _("countless")
        raise ScenarioError(
            _(
                "--vary {spec}: {count} values; a sweep has at most {limit} points: take a "
                "larger step or a shorter range"
            ).format(spec=spec, count=many, limit=grouped(MAX_POINTS))
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
        raise ScenarioError(_("--vary: a field is varied twice"))
    total = math.prod(len(v.values) for v in varies)
    if total > MAX_POINTS:
        sizes = " x ".join(grouped(len(v.values)) for v in varies)
        raise ScenarioError(
            _(
                "--vary: {total} grid points ({sizes}); at most {limit}: vary fewer fields or "
                "fewer values"
            ).format(total=grouped(total), sizes=sizes, limit=grouped(MAX_POINTS))
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


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by Ctrl-C: how many of its points are saved, and where."""

    def __init__(self, saved: int, total: int, out: Path) -> None:
        super().__init__(f"{saved} of {total} points saved in {out}")
        self.saved, self.total, self.out = saved, total, out


def as_varies(varies: Any) -> list[Vary]:
    """The swept fields as Vary: given as Vary, as "path=values" text, or as {path: values}."""
    if isinstance(varies, Vary | str):
        varies = [varies]
    if isinstance(varies, Mapping):
        return [_listed(path, values) for path, values in varies.items()]
    if not isinstance(varies, Iterable):
        raise _not_varies(varies)
    found = []
    for vary in varies:
        if isinstance(vary, str):
            vary = parse_vary(vary)
        if not isinstance(vary, Vary):
            raise _not_varies(vary)
        found.append(vary)
    return found


def _not_varies(given: Any) -> TypeError:
    """What to give as the fields to vary, saying what was given instead."""
    return TypeError(
        _(
            "varies: give the fields to vary as a dict of paths to values (e.g. "
            "sales.sellers to [4, 8]), as path=start:stop:step text, or as Vary(path, values); "
            "not {kind}"
        ).format(kind=kind_of(given))
    )


def _listed(path: Any, values: Any) -> Vary:
    """One {path: values} entry as a Vary; a text of values is read as --vary reads it."""
    if not isinstance(path, str):
        raise _not_varies(path)
    if isinstance(values, str) or path == "seed":
        return parse_vary(f"{path}={values}")
    if not isinstance(values, Iterable):
        values = [values]
    values = tuple(values)
    if not values:
        raise ValueError(_("varies: {path}: no values to sweep").format(path=path))
    return Vary(path, values)


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
                    out=out, reason=e.strerror or e
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
                    if saved is not None:
                        _save_point(kpis, saved, sweep_id, i, len(points))
                if progress:
                    progress((i + 1) * reps, total)
                per_point.append(_summarise_point(overrides, kpis))
    except KeyboardInterrupt:
        if out is None:
            raise
        # Counted on disk: Ctrl-C may land after a point's file is saved but before it is tallied.
        on_disk = sum(_point_file(out, i).exists() for i in range(len(points)))
        raise SweepInterrupted(on_disk, len(points), out) from None
    return pd.concat(per_point, ignore_index=True)


def _point_file(out: Path, index: int) -> Path:
    """Where point `index` of a sweep saved in `out` is kept."""
    return out / "points" / f"point-{index:05d}.parquet"


def _save_point(kpis: pd.DataFrame, saved: Path, sweep_id: str, index: int, total: int) -> None:
    """Save one point's KPIs, marked with the sweep and the point they belong to."""
    kpis.attrs["sweep"], kpis.attrs["point"] = sweep_id, index
    try:
        write_parquet(kpis, saved)
    except OSError as e:
        raise OutputError(
            _(
                "{saved}: cannot save the point: {reason}; {index} of {total} points are "
                "saved: make room and run the same command with --resume to continue"
            ).format(saved=saved, reason=e.strerror or e, index=index, total=total)
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
        why = e.strerror if isinstance(e, OSError) and e.strerror else _("not valid JSON")
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
