"""`hourglass forecast`: a customer base month by month, from its own transaction log."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import hourglass
from hourglass.cli.calibration import _date, _read_csv, _read_text, _write_text
from hourglass.cli.common import JsonOpt, ScenarioArg, dump, fail, keep_inputs, load, out
from hourglass.cli.simulation import AllowLargeOpt, warn_not_estimated
from hourglass.i18n import _

if TYPE_CHECKING:  # loaded when the command runs, so that --help starts fast
    import pandas as pd
    from rich.table import Table

    from hourglass.forecasting import Forecast


def forecast_command(
    scenario: ScenarioArg = None,
    transactions: Annotated[
        Path | None,
        typer.Option(help=_("Transaction log (CSV): customer, date, amount."), show_default=False),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help=_("The last day of known data: customers who bought by then are known.")),
    ] = None,
    months: Annotated[int, typer.Option(help=_("Calendar months to forecast after --until."))] = 12,
    reps: Annotated[int, typer.Option(min=1, max=100_000, help=_("Replications."))] = 20,
    seed: Annotated[int, typer.Option(min=0, help=_("Seed."))] = 0,
    fixed_parameters: Annotated[
        bool,
        typer.Option(
            "--fixed-parameters",
            help=_("Hold the fitted parameters fixed: the band holds simulation noise only."),
        ),
    ] = False,
    mapping: Annotated[Path | None, typer.Option(help=_("Column mapping file (YAML)."))] = None,
    as_json: JsonOpt = False,
    csv: Annotated[
        Path | None, typer.Option("--out", help=_("Write the monthly table here (CSV)."))
    ] = None,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Forecast a customer base month by month from its transaction log (and a scenario)."""
    from hourglass.config.work import TooMuchWork
    from hourglass.experiments.results import OutputError, check_writable_file
    from hourglass.forecasting import ForecastError, forecast

    if transactions is None:
        raise fail(_("--transactions: give the transaction log to forecast from"))
    if until is None:
        raise fail(_("--until: give the last day of known data, e.g. 2026-03-31"))
    keep_inputs({"--out": csv}, {"--transactions": transactions, "": scenario})
    if csv is not None:
        try:
            check_writable_file(csv, "--out")
        except OutputError as e:
            raise fail(str(e)) from None
    spec = load(scenario) if scenario is not None else None
    if spec is not None:
        warn_not_estimated(spec)
    end = _date(until, "--until")
    data = _read_csv(transactions, "--transactions")
    rules = None
    if mapping is not None:
        try:
            rules = hourglass.calibration.load_mapping(
                _read_text(mapping, "--mapping"), str(mapping)
            )
        except hourglass.calibration.DataError as e:
            raise fail(f"--mapping {e}") from None
    try:
        log = hourglass.calibration.read_transactions(data, rules, str(transactions))
        result = forecast(log, end, months, spec, reps, seed, fixed_parameters, allow_large)
    except (ForecastError, TooMuchWork) as e:
        raise fail(str(e)) from None
    except (hourglass.calibration.DataError, hourglass.ScenarioError) as e:
        raise fail(f"--transactions {e}") from None
    if csv is not None:
        _write_text(csv, _monthly_frame(result).to_csv(index=False), "--out")
    if as_json:
        dump(result.to_dict())
        return
    out.print(_table(result))
    known, inside = result.inside_band()
    if known:
        out.print(
            _(
                "Backtest: the actual repeat purchases fell inside the 90% band in {inside} of "
                "{known} months."
            ).format(inside=inside, known=known),
            highlight=False,
        )
    out.print(
        _("The band holds: {sources}.").format(
            sources=", ".join(_sources()[source] for source in result.uncertainty)
        ),
        highlight=False,
    )


def _sources() -> dict[str, str]:
    """The sources of uncertainty a band may hold, in words."""
    return {
        "simulation": _("simulation noise"),
        "parameters": _("the fitted parameters' uncertainty"),
    }


def _monthly_frame(result: Forecast) -> pd.DataFrame:
    """One row per month: each metric's mean, p5, p50, p95, and the actual where known."""
    import pandas as pd

    from hourglass.forecasting import METRICS

    doc = result.to_dict()
    rows = []
    for month in doc["monthly"]:
        row = {"month": month["month"]}
        for metric in METRICS:
            row |= {f"{metric}_{k}": v for k, v in month[metric].items()}
        row |= {k: v for k, v in month.items() if k.startswith("actual_")}
        rows.append(row)
    return pd.DataFrame(rows)


def _table(result: Forecast) -> Table:
    """Month by month: each metric's mean [p5, p95], the actual repeat purchases beside them."""
    from rich.table import Table

    from hourglass.forecasting import METRICS

    doc = result.to_dict()
    table = Table(title=_("Forecast (mean [p5, p95])"))
    table.add_column(_("month"))
    headers = {
        "active_customers": _("active customers"),
        "repeat_purchases": _("repeat purchases"),
        "revenue": _("revenue"),
        "new_customers": _("new customers"),
        "referrals": _("referrals"),
    }
    # without a scenario nobody new arrives: those columns would be zeros
    shown = [m for m in METRICS if doc["total"][m]["p95"] > 0 or m not in NEW]
    for metric in shown:
        table.add_column(headers[metric], justify="right")
    table.add_column(_("actual repeat purchases"), justify="right")
    for row in [*doc["monthly"], {"month": _("total"), **doc["total"]}]:
        cells = [_band(row[m]) for m in shown]
        actual = row.get("actual_repeat_purchases", row["repeat_purchases"].get("actual"))
        table.add_row(row["month"], *cells, "" if actual is None else f"{actual:,.0f}")
    return table


NEW = ("new_customers", "referrals")
"""Metrics that only a scenario's channels bring."""


def _band(band: dict[str, float]) -> str:
    return f"{band['mean']:,.0f} [{band['p5']:,.0f}, {band['p95']:,.0f}]"
