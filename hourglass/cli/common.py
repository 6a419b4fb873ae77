"""What every command shares: the consoles, common options and clean failures."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.text import Text

import hourglass

# No rich markup: what the consoles print holds user text (scenario, channel and file
# names, descriptions) that may contain brackets such as "[/]"; styles are given as styles.
out = Console(markup=False)
if not out.is_terminal:
    out.width = 120
err = Console(stderr=True, markup=False)

ScenarioArg = Annotated[
    Path | None,
    typer.Argument(
        help="Scenario file (YAML), or a shipped scenario's name such as seller_bottleneck; "
        "leave out for the baseline."
    ),
]
RepsOpt = Annotated[int, typer.Option(min=1, max=100_000, help="Replications.")]
SeedOpt = Annotated[int | None, typer.Option(min=0, help="Seed (default: the file's).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
BackendOpt = Annotated[
    str,
    typer.Option(help="Where replications run: serial, processes (all cores) or dask."),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address (default: a local cluster on 127.0.0.1)."),
]


def say_error(message: str) -> None:
    """Print `error: message` on stderr, the message as written (no markup, any text)."""
    printable = message.encode("utf-8", "backslashreplace").decode("utf-8")
    err.print(Text.assemble(("error:", "bold red"), " ", printable), soft_wrap=True)


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
                f"{option} {path}: the same file as {seen[where]}; writing there would lose "
                "it: choose another name"
            )
        seen[where] = f"{option} {path}".strip()


def make_dir(directory: Path) -> None:
    """Create an output folder and write a probe file in it before any work.

    A bad --out (a file, a read-only folder, a name too long) then costs nothing.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise fail(f"--out {directory}: cannot create the folder: {e.strerror or e}") from None
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe."):
            pass
    except OSError as e:
        raise fail(f"--out {directory}: cannot write there: {e.strerror or e}") from None


def load(path: Path | None) -> hourglass.Scenario:
    """The scenario file (or the default scenario), or a clean failure saying why not."""
    try:
        return hourglass.load_scenario(path)
    except hourglass.ScenarioError as e:
        raise fail(str(e)) from None


def check_backend(backend: str, scheduler: str | None) -> None:
    """Refuse an unknown backend, or a scheduler without Dask, before any work."""
    if backend not in hourglass.experiments.BACKENDS:
        raise fail(f"--backend {backend}: use one of {', '.join(hourglass.experiments.BACKENDS)}")
    if scheduler and backend != "dask":
        raise fail("--scheduler needs --backend dask")
    if scheduler:
        from hourglass.experiments.replication import check_scheduler

        try:
            check_scheduler(scheduler)
        except hourglass.experiments.BackendError as e:
            raise fail(str(e)) from None


@contextmanager
def computing(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on a terminal; clean failures for what the computation raises."""
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
            raise fail(f"cannot write results: {e}") from None
        except hourglass.experiments.ReplicationError as e:
            say_error(str(e))
            raise typer.Exit(code=1) from None


def dump(doc: dict[str, Any]) -> None:
    """Print one JSON document (NaN as null)."""
    print(json.dumps(hourglass.experiments.jsonable(doc), indent=2, allow_nan=False))
