"""The `hourglass` command line: a thin shell over the public API."""

import typer

from hourglass.cli import budgets, calibration, simulation

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Simulate the marketing-sales hourglass: know, like, trust, try, buy, repeat, refer.",
)
for command in (
    simulation.run,
    simulation.check,
    simulation.compare,
    simulation.sweep,
    budgets.optimize,
    calibration.calibrate,
):
    app.command()(command)
app.command(name="export-crm")(calibration.export_crm)

__all__ = ["app"]
