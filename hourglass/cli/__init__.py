"""The `hourglass` command line: a thin shell over the public API."""

import functools
from collections.abc import Callable
from typing import Annotated, Any

import typer

from hourglass.cli import lang
from hourglass.i18n import _, language

lang.use_early()  # the commands' help below is written in the language asked for

from hourglass.cli import budgets, calibration, forecast, simulation  # noqa: E402
from hourglass.cli.common import err, fail, fit_width  # noqa: E402

app = typer.Typer(
    cls=lang.SpeakingGroup,
    add_completion=False,
    no_args_is_help=True,
    help=_("Simulate the marketing-sales hourglass: know, like, trust, try, buy, repeat, refer."),
)


@app.callback()
def choose_language(
    context: typer.Context,
    asked: Annotated[
        str | None,
        typer.Option(
            "--lang",
            metavar="en|ru",
            show_default=False,
            help=_("Language of the messages (default: {variable}, else the locale).").format(
                variable=lang.ENV_VAR
            ),
        ),
    ] = None,
) -> None:
    """Set the language of every message; machine output (JSON, tables saved) keeps one.

    The language holds until the command ends, so commands run in one process keep their own.
    """
    chosen, where = lang.chosen(asked)
    if not lang.usable(chosen):
        given = f"--lang {chosen}" if where == "--lang" else f"{where}={chosen}"
        raise fail(
            _("{given}: the language must be one of {choices}").format(
                given=given, choices=", ".join(lang.LANGUAGES)
            )
        )
    context.with_resource(language(chosen))
    fit_width()


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

            message = _("interrupted")
            if isinstance(stop, SweepInterrupted):
                message += _(
                    "; {saved} of {total} points saved in {out}; "
                    "run the same command with --resume to continue"
                ).format(saved=stop.saved, total=stop.total, out=stop.out)
            err.print(message, highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(code=130) from None

    return run


HELP = {
    "run": _("Simulate a scenario and print its stage table and KPIs."),
    "check": _(
        "Validate a scenario file: a summary and its work per run, or what is wrong and where."
    ),
    "compare": _(
        "Compare scenarios with the baseline on common random numbers: deltas with 95% CIs."
    ),
    "sweep": _("Replicate a grid of overrides; one row per grid point and KPI, with its band."),
    "optimize": _("Allocate a budget over the scenario's lines; confirm the gain by simulation."),
    "target": _(
        "Find the monthly budget that reaches a target by a month; check it by simulation."
    ),
    "calibrate": _(
        "Fit a scenario from a CRM deal-stage history and, optionally, a transaction log."
    ),
    "export_crm": _("Simulate a scenario and write its event log as a CRM deal-stage history."),
    "forecast_command": _(
        "Forecast a customer base month by month from its transaction log (and a scenario)."
    ),
}
"""Each command's help in the language asked for (a command missing here shows its docstring)."""

for command in (
    simulation.run,
    simulation.check,
    simulation.compare,
    simulation.sweep,
    budgets.optimize,
    budgets.target,
    calibration.calibrate,
):
    app.command(cls=lang.SpeakingCommand, help=HELP.get(command.__name__))(interruptible(command))
app.command(cls=lang.SpeakingCommand, name="export-crm", help=HELP["export_crm"])(
    interruptible(calibration.export_crm)
)
app.command(cls=lang.SpeakingCommand, name="forecast", help=HELP["forecast_command"])(
    interruptible(forecast.forecast_command)
)

__all__ = ["app"]
