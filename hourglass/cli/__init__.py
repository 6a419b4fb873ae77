"""The `hourglass` command line: a thin shell over the public API."""

import functools
from collections.abc import Callable
from typing import Any

import typer

from hourglass.cli import budgets, calibration, forecast, simulation
from hourglass.cli.common import err

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Simulate the marketing-sales hourglass: know, like, trust, try, buy, repeat, refer.",
)


def interruptible(command: Callable[..., None]) -> Callable[..., None]:
    """The command, with Ctrl-C answered by one line and exit code 130.

    The workers are stopped by then (the backends stop them as the interrupt passes); an
    interrupted sweep says how many points are saved and how to continue.
    """

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except KeyboardInterrupt as stop:
            from hourglass.experiments.sweeps import SweepInterrupted

            message = "interrupted"
            if isinstance(stop, SweepInterrupted):
                message += (
                    f"; {stop.saved} of {stop.total} points saved in {stop.out}; "
                    "run the same command with --resume to continue"
                )
            err.print(message, highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(code=130) from None

    return run


for command in (
    simulation.run,
    simulation.check,
    simulation.compare,
    simulation.sweep,
    budgets.optimize,
    calibration.calibrate,
):
    app.command()(interruptible(command))
app.command(name="export-crm")(interruptible(calibration.export_crm))
app.command(name="forecast")(interruptible(forecast.forecast_command))

__all__ = ["app"]
