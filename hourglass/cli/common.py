"""What every command shares: the consoles, common options and clean failures."""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

import hourglass
from hourglass.config.reasons import os_reason
from hourglass.i18n import _

# No rich markup: what the consoles print holds user text (scenario, channel and file
# names, descriptions) that may contain brackets such as "[/]"; styles are given as styles.
out = Console(markup=False)
err = Console(stderr=True, markup=False)
PIPE_COLUMNS = 120
"""The width of what is written to a pipe or a file, unless COLUMNS says otherwise."""


def fit_width() -> None:
    """Set the output's width for this command: COLUMNS, else the terminal's, else a pipe's."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        out.width = int(columns)
    elif out.is_terminal:
        out.width = os.get_terminal_size(out.file.fileno()).columns
    else:
        out.width = PIPE_COLUMNS


ScenarioArg = Annotated[
    Path | None,
    typer.Argument(
        help=_(
            "Scenario file (YAML), or a shipped scenario's name such as seller_bottleneck; "
            "leave out for the baseline."
        )
    ),
]
RepsOpt = Annotated[int, typer.Option(min=1, max=100_000, help=_("Replications."))]
SeedOpt = Annotated[int | None, typer.Option(min=0, help=_("Seed (default: the file's)."))]
JsonOpt = Annotated[bool, typer.Option("--json", help=_("Print one JSON object."))]
BackendOpt = Annotated[
    str,
    typer.Option(help=_("Where replications run: serial, processes (all cores) or dask.")),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(help=_("Dask scheduler address (default: a local cluster on 127.0.0.1).")),
]


def say_error(message: str) -> None:
    """Print `error: message` on stderr, the message as written (no markup, any text)."""
    printable = message.encode("utf-8", "backslashreplace").decode("utf-8")
    err.print(Text.assemble((_("error:"), "bold red"), " ", printable), soft_wrap=True)


def fail(message: str) -> typer.Exit:
    """Say what is wrong on stderr; the exit (code 2) for the caller to raise."""
    say_error(message)
    return typer.Exit(code=2)


def keep_inputs(outputs: dict[str, Path | None], inputs: dict[str, Path | None]) -> None:
    """Refuse an output that is one of the inputs, or another output: it would be lost."""
    seen: dict[Path, str] = {}
    for option, path in [*inputs.items(), *outputs.items()]:
        if path is None:
            continue
        where = path.resolve()
        if where in seen:
            raise fail(
                _(
                    "{given}: the same file as {other}; writing there would lose it: "
                    "choose another name"
                ).format(given=f"{option} {path}", other=seen[where])
            )
        seen[where] = f"{option} {path}".strip()


def make_dir(directory: Path) -> None:
    """Create an output folder and write a probe file in it before any work.

    A bad --out (a file, a read-only folder, a name too long) then costs nothing.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise fail(
            _("--out {folder}: cannot create the folder: {reason}").format(
                folder=directory, reason=os_reason(e)
            )
        ) from None
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe."):
            pass
    except OSError as e:
        raise fail(
            _("--out {folder}: cannot write there: {reason}").format(
                folder=directory, reason=os_reason(e)
            )
        ) from None


def load(path: Path | None) -> hourglass.Scenario:
    """The scenario file (or the default scenario), or a clean failure saying why not."""
    try:
        return hourglass.load_scenario(path)
    except hourglass.ScenarioError as e:
        raise fail(str(e)) from None


def check_backend(backend: str, scheduler: str | None) -> None:
    """Refuse an unknown backend, or a scheduler without Dask, before any work."""
    if backend not in hourglass.experiments.BACKENDS:
        raise fail(
            _("--backend {backend}: use one of {choices}").format(
                backend=backend, choices=", ".join(hourglass.experiments.BACKENDS)
            )
        )
    if scheduler and backend != "dask":
        raise fail(_("--scheduler needs --backend dask"))
    if scheduler:
        from hourglass.experiments.replication import check_scheduler

        try:
            check_scheduler(scheduler)
        except hourglass.experiments.BackendError as e:
            raise fail(str(e)) from None


@contextmanager
def computing(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on a terminal; clean failures for what the computation raises."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(label, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            yield tick
        except (
            hourglass.ScenarioError,
            hourglass.experiments.BackendError,
            hourglass.config.WorkCeilingError,
            ValueError,
        ) as e:
            raise fail(str(e)) from None
        except OSError as e:
            where = f"{e.filename}: " if e.filename else ""
            raise fail(
                _("cannot write results: {reason}").format(reason=where + os_reason(e))
            ) from None
        except hourglass.experiments.ReplicationError as e:
            say_error(str(e))
            raise typer.Exit(code=1) from None


def dump(doc: dict[str, Any]) -> None:
    """Print one JSON document (NaN as null)."""
    print(json.dumps(hourglass.experiments.jsonable(doc), indent=2, allow_nan=False))


DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")
"""A number written with a comma before its fraction, as in 1,5."""


def not_a_number(text: str) -> str:
    """Why `text` is not a number; a decimal comma gets the number written with a point."""
    return _("'{text}' is not a number").format(text=text) + comma_hint(text)


def comma_hint(text: str) -> str:
    """For a number written with a decimal comma, the same number with a point; else ""."""
    if not DECIMAL_COMMA.fullmatch(text.strip()):
        return ""
    fixed = text.strip().replace(",", ".")
    return _("; the decimal separator is a point: {fixed}").format(fixed=fixed)


def number_from(flag: str, low: float, high: float, unit: str = "") -> Callable[[str], float]:
    """A parser of a number option: from `low` to `high`, or a clean failure naming `flag`.

    The range is checked here rather than by the option's own bounds, which told NaN that
    it was above the maximum (or below the minimum); `unit` follows the bounds it names.
    """
    shown = {
        "low": f"{low:,.0f}" if low >= 1000 else f"{low:g}",
        "high": f"{high:,.0f}" if high >= 1000 else f"{high:g}",
        "unit": unit,
    }

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise fail(f"{flag} {text}: {not_a_number(text)}") from None
        if value > high:
            message = _("{given}: at most {high}{unit}")
        elif value < low:
            message = _("{given}: at least {low}{unit}")
        elif math.isnan(value):
            message = _("{given}: not a number; give one from {low} to {high}{unit}")
        else:
            return value
        raise fail(message.format(given=f"{flag} {value:g}", **shown))

    return parse
