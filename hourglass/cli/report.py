"""The tables the commands print: a run's stages, KPIs and buying centre, a sweep, a budget."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from rich.table import Table

import hourglass
from hourglass.cli.common import out
from hourglass.kpis import KPIS, MISSING
from hourglass.stages import LABELS


def number(value: float | None, fmt: str) -> str:
    """A number that is not a KPI (a conversion, days in stage); missing as the KPIs write it."""
    return MISSING if value is None or not math.isfinite(value) else fmt.format(value)


def met(result: hourglass.experiments.Replications, precision: float) -> bool:
    """Whether every precision target is within `precision`."""
    return all(w <= precision for w in hourglass.experiments.half_widths(result).values())


def stage_records(result: hourglass.experiments.Replications) -> list[dict[str, Any]]:
    """The stage table as records, each with its losses by reason (mean per replication)."""
    table = result.stage_summary()
    losses = result.losses.groupby(["stage", "reason"], sort=False)["lost"].sum() / result.reps
    records = []
    for row in table.to_dict("records"):
        name = row.pop("stage")
        mine = losses[name] if name in losses.index.get_level_values(0) else None
        by_reason = dict(mine.items()) if mine is not None else {}
        records.append({"name": name, **row, "lost_by_reason": by_reason})
    return records


def kpi_block(result: hourglass.experiments.Replications) -> dict[str, Any]:
    """One run's KPIs, or each KPI's mean, p5 and p95 over the replications."""
    if result.reps == 1:
        return result.kpis.iloc[[0]].to_dict("records")[0]
    return {
        name: {k: stats[k] for k in ("mean", "p5", "p95")}
        for name, stats in result.kpi_summary().items()
    }


def print_run(
    spec: hourglass.Scenario,
    result: hourglass.experiments.Replications,
    stages: list[dict[str, Any]],
    kpis: dict[str, Any],
) -> None:
    """A run's title, its stage table, its KPIs and, with a committee, its buying centre."""
    reps = result.reps
    title = f"{spec.name}: {spec.horizon_days:g} days, seed {result.seed}, {reps} replication"
    out.print(f"{title}{'s' if reps > 1 else ''}", style="bold", highlight=False)
    if spec.description:
        out.print(spec.description, highlight=False)
    if spec.network is not None and spec.network.social_selling is not None:
        out.print(f"Social selling: {spec.network.social_selling.label}", highlight=False)
    table = Table(title="Stages" + (" (mean over replications)" if reps > 1 else ""))
    headers = (*(c.replace("_", " ") for c in hourglass.analysis.STAGE_COLUMNS), "main loss")
    for col in headers:
        table.add_column(col, justify="left" if col in ("stage", "main loss") else "right")
    for row in stages:
        reasons = row["lost_by_reason"]
        top = max(reasons, key=reasons.get) if reasons else ""
        table.add_row(
            LABELS[spec.labels][row["name"]],
            *(f"{row[c]:,.0f}" for c in ("entered", "passed", "lost", "inside")),
            number(row["conversion"], "{:.1%}"),
            number(row["mean_days"], "{:.1f}"),
            number(row["p90_days"], "{:.1f}"),
            top,
        )
    out.print(table)
    out.print(_kpi_table(kpis, banded=reps > 1))
    if spec.committee is not None:
        _print_committee(result)


def _kpi_table(kpis: dict[str, Any], *, banded: bool) -> Table:
    """Each KPI by its label, written as the registry writes it (mean [p5, p95] if banded)."""
    table = Table(title="KPIs (mean [p5, p95])" if banded else "KPIs")
    table.add_column("kpi")
    table.add_column("value", justify="right")
    for name, value in kpis.items():
        kpi = KPIS[name]
        if isinstance(value, dict):
            text = f"{kpi.format(value['mean'])}  [{kpi.format(value['p5'])}, "
            text += f"{kpi.format(value['p95'])}]"
        else:
            text = kpi.format(value)
        table.add_row(kpi.label(), text)
    return table


def _named_rows(title: str, columns: tuple[str, ...]) -> Table:
    """A table whose rows begin with a name (left) followed by numbers (right)."""
    table = Table(title=title)
    table.add_column(columns[0])
    for col in columns[1:]:
        table.add_column(col, justify="right")
    return table


def _print_committee(result: hourglass.experiments.Replications) -> None:
    """Where deals die by role, and win rates and cycles by channel."""
    per_run = " (mean per run)" if result.reps > 1 else ""
    roles = _named_rows(
        f"Buying centre at {result.scenario.committee.stage}{per_run}",
        ("role", "deals reached", "people asked", "deals ended", "share of ended", "let through"),
    )
    for row in result.role_summary().itertuples():
        roles.add_row(
            row.role,
            f"{row.deals_reached:,.1f}",
            f"{row.asked:,.1f}",
            f"{row.ended:,.1f}",
            number(row.share_of_ended, "{:.1%}"),
            number(row.let_through, "{:.1%}"),
        )
    out.print(roles)
    deals = _named_rows(
        f"Deals by channel{per_run}",
        (
            "channel",
            "deals",
            "won",
            "lost",
            "open",
            "win rate [95% CI]",
            "cycle p50 days",
            "cycle p90 days",
        ),
    )
    for row in result.channel_summary().itertuples():
        deals.add_row(
            row.channel,
            *(f"{v:,.1f}" for v in (row.deals, row.won, row.lost, row.open)),
            f"{number(row.win_rate, '{:.1%}')} [{number(row.win_rate_low, '{:.0%}')}, "
            f"{number(row.win_rate_high, '{:.0%}')}]",
            number(row.cycle_p50_days, "{:,.0f}"),
            number(row.cycle_p90_days, "{:,.0f}"),
        )
    out.print(deals)


SWEPT_KPIS = ("buyers", "revenue", "roi", "lost_waiting")
"""The KPIs a sweep's table shows, one column each (the JSON and Parquet hold them all)."""


def print_sweep(name: str, reps: int, paths: list[str], table: pd.DataFrame) -> None:
    """A sweep's grid: one row per point, the mean of each shown KPI."""
    shown = table[table["kpi"].isin(SWEPT_KPIS)]
    wide = shown.pivot_table(index=paths, columns="kpi", values="mean", sort=False)
    grid = Table(title=f"{name}: mean over {reps} replications per point")
    for col in [*paths, *(KPIS[c].label() for c in wide.columns)]:
        grid.add_column(col, justify="right")
    for key, row in wide.iterrows():
        keys = key if isinstance(key, tuple) else (key,)
        grid.add_row(*(str(k) for k in keys), *(KPIS[c].format(row[c]) for c in wide.columns))
    out.print(grid)


def print_allocation(name: str, result: hourglass.experiments.Optimization) -> None:
    """The money per line now and at the optimum, the notes and the verdict."""
    table = Table(title=f"{name}: money per month by line, to maximise {result.objective}")
    for col in ("line", "current", "optimal", "change"):
        table.add_column(col, justify="left" if col == "line" else "right")
    for line, now in result.current.items():
        best = result.optimal[line]
        table.add_row(line, f"{now:,.0f}", f"{best:,.0f}", f"{best - now:+,.0f}")
    out.print(table)
    for note in result.notes:
        out.print(f"Note: {note}", highlight=False)
    out.print(result.verdict(), highlight=False)
