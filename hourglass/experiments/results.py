"""Saved results: Parquet tables and a JSON manifest, each file written atomically."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from hourglass.experiments.replication import Replications


def jsonable(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_atomic(target: Path, write: Callable[[str], None]) -> None:
    """Write through a temporary file in the same folder, then rename: all or nothing."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(frame: pd.DataFrame, target: Path) -> None:
    """One table as Parquet, atomically."""
    write_atomic(target, lambda f: frame.to_parquet(f, index=False))


def write_text(text: str, target: Path) -> None:
    """A text file, atomically."""
    write_atomic(target, lambda f: Path(f).write_text(text, "utf-8"))


def write_json(doc: dict[str, Any], target: Path) -> None:
    """One JSON document, atomically."""
    text = json.dumps(jsonable(doc), indent=2, allow_nan=False)
    write_atomic(target, lambda f: Path(f).write_text(text, "utf-8"))


def manifest(result: Replications, version: str, **extra: Any) -> dict[str, Any]:
    """What produced a result: the resolved scenario, seed, version, backend, timings."""
    return {
        "scenario": result.scenario.to_dict(),
        "seed": result.seed,
        "reps": result.reps,
        "version": version,
        "backend": result.backend,
        "seconds": round(result.seconds, 3),
        **extra,
    }


def save_replications(result: Replications, directory: Path, version: str) -> None:
    """Write the replications' tables to `directory` as Parquet files, and a JSON manifest.

    Stages, losses, daily series and KPIs (one row per replication), the daily series' percentile
    bands, B2B deals and roles (with a committee), and the manifest.
    """
    directory.mkdir(parents=True, exist_ok=True)
    tables = {
        "stages": result.stages,
        "losses": result.losses,
        "daily": result.daily,
        "daily_bands": result.daily_bands(),
        "kpis": result.kpis.reset_index(),
    }
    if result.scenario.committee is not None:
        tables |= {"deals": result.deals, "roles": result.roles}
    for name, frame in tables.items():
        write_parquet(frame, directory / f"{name}.parquet")
    write_json(manifest(result, version), directory / "manifest.json")
