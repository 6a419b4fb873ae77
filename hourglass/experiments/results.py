"""Saved results: Parquet tables and a JSON manifest, each file written atomically."""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from hourglass.config.reasons import os_reason
from hourglass.experiments.replication import Replications
from hourglass.i18n import _

RUN_TABLES = (
    "stages", "losses", "daily", "daily_bands", "kpis", "deals", "roles",
    "sellers", "segments", "accounts", "level_moves",
)  # fmt: skip
RUN_FILES = frozenset({"manifest.json", *(f"{name}.parquet" for name in RUN_TABLES)})
"""What a saved run holds: a folder of only these may be replaced."""


class OutputError(OSError):
    """An output that cannot be written; the message names it and says why.

    `unsaved` holds what was computed but could not be saved, for the caller to show.
    """

    def __init__(self, message: str, unsaved: Any = None) -> None:
        super().__init__(message)
        self.unsaved = unsaved


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


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary_file(target: Path) -> str:
    """An empty temporary file beside `target`, with the mode a new file would get."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())
    finally:
        os.close(fd)
    return tmp


def _temporary_folder(target: Path) -> Path:
    """An empty temporary folder beside `target`, with the mode a new folder would get."""
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    tmp.chmod(0o777 & ~_umask())
    return tmp


def _looked_up(path: Path, what: str) -> str | None:
    """Whether `path` is a "folder", a "file" or nothing yet; OutputError if it cannot be."""
    try:
        return "folder" if stat.S_ISDIR(path.stat().st_mode) else "file"
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:  # a name too long, a loop of links, no permission
        raise OutputError(_cannot_write(what, path, e)) from None


def _cannot_write(what: str, path: Path, error: OSError) -> str:
    return _("{what} {path}: cannot write: {reason}").format(
        what=what, path=path, reason=os_reason(error)
    )


def check_writable_file(target: Path, what: str) -> None:
    """Refuse, before any work, a file that `write_atomic` could not write.

    The probe is the very temporary file the write will use, created and removed, so a
    read-only folder, a missing one or a name too long are all found now.
    """
    if _looked_up(target, what) == "folder":
        raise OutputError(
            _("{what} {path}: is a folder; give a file name").format(what=what, path=target)
        )
    if _looked_up(target.parent, what) != "folder":
        raise OutputError(
            _("{what} {path}: cannot write: no folder {folder}").format(
                what=what, path=target, folder=target.parent
            )
        )
    try:
        Path(_temporary_file(target)).unlink()
    except OSError as e:
        raise OutputError(_cannot_write(what, target, e)) from None


def check_output_folder(directory: Path, what: str, replace: bool = False) -> None:
    """Refuse, before any work, a results folder `save_replications` could not fill.

    A folder that holds other files is refused; one that holds a saved run only with
    `replace`. The parent folder is created, and the temporary sibling folder the save
    writes into is created and removed there.
    """
    found = _looked_up(directory, what)
    if found == "file":
        raise OutputError(
            _("{what} {path}: is a file, not a folder").format(what=what, path=directory)
        )
    if found == "folder":
        held = {p.name for p in directory.iterdir()}
        if held and not held <= RUN_FILES:
            raise OutputError(
                _(
                    "{what} {path}: the folder holds other files; choose a new or empty folder"
                ).format(what=what, path=directory)
            )
        if held and not replace:
            raise OutputError(
                _(
                    "{what} {path}: the folder holds an earlier run; add --replace to replace "
                    "it or choose another folder"
                ).format(what=what, path=directory)
            )
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(
            _("{what} {path}: cannot create the folder: {reason}").format(
                what=what, path=directory, reason=os_reason(e)
            )
        ) from None
    try:
        _temporary_folder(directory).rmdir()
    except OSError as e:
        raise OutputError(
            _("{what} {path}: cannot write there: {reason}").format(
                what=what, path=directory, reason=os_reason(e)
            )
        ) from None


def write_atomic(target: Path, write: Callable[[str], None]) -> None:
    """Write through a temporary file in the same folder, then rename: all or nothing."""
    tmp = _temporary_file(target)
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
    bands, B2B deals and roles (with a committee), each seller, each segment (with segments),
    the key accounts' summary, the service ladder's level moves, and the manifest. They are
    written into a temporary sibling folder renamed into place at the end, so the folder never
    mixes two runs; an earlier run there is replaced (check_output_folder decides whether it
    may be).
    """
    staging = _temporary_folder(directory)
    try:
        _write_run(result, staging, version)
        _swap_into_place(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_into_place(staging: Path, directory: Path) -> None:
    """Rename `staging` to `directory`; an earlier folder there is moved aside, then removed."""
    if directory.is_dir() and any(directory.iterdir()):
        earlier = _temporary_folder(directory)
        os.replace(directory, earlier)
        os.replace(staging, directory)
        shutil.rmtree(earlier, ignore_errors=True)
    else:
        os.replace(staging, directory)  # an empty folder is replaced in one step


def _write_run(result: Replications, directory: Path, version: str) -> None:
    tables = {
        "stages": result.stages,
        "losses": result.losses,
        "daily": result.daily,
        "daily_bands": result.daily_bands(),
        "kpis": result.kpis.reset_index(),
    }
    if result.scenario.committee is not None:
        tables |= {"deals": result.deals, "roles": result.roles}
    if result.sellers is not None and len(result.sellers.sellers):
        tables["sellers"] = result.sellers.sellers
    if not result.segments.empty:
        tables["segments"] = result.segments
    if not result.accounts.empty:
        tables["accounts"] = result.accounts.reset_index()
    if not result.level_moves.empty:
        tables["level_moves"] = result.level_moves
    for name, frame in tables.items():
        write_parquet(frame, directory / f"{name}.parquet")
    write_json(manifest(result, version), directory / "manifest.json")
