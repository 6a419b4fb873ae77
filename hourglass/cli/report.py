"""The tables the commands print: a run's stages, KPIs and buying centre, a sweep, a budget.

Every table fits an 80-column terminal: short headings, no vertical rules, and columns that
fold what does not fit onto a second line rather than cut it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table

import hourglass
from hourglass.cli.common import out
from hourglass.config.lesson import described
from hourglass.i18n import _, get_language, grouped, ngettext
from hourglass.kpis import KPIS, MISSING, written
from hourglass.stages import LABELS, reason_label

if TYPE_CHECKING:
    import pandas as pd


def number(value: float | None, fmt: str) -> str:
    """A number that is not a KPI (a conversion, days in stage), as the reader's language writes it.

    Missing as the KPIs write it.
    """
    return MISSING if value is None or not math.isfinite(value) else written(value, fmt)


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


def seller_block(result: hourglass.experiments.Replications) -> dict[str, list[dict]]:
    """Each seller (`sellers`: banded over replications) and each role (`seller_roles`)."""
    from hourglass.analysis.sellers import role_records, seller_records

    return {
        "sellers": seller_records(result.sellers, result.reps),
        "seller_roles": role_records(result.sellers, result.reps),
    }


def table(title: str, left: tuple[str, ...], right: tuple[str, ...]) -> Table:
    """A table that fits 80 columns: `left` columns (names) first, then `right` ones (numbers).

    The first column, the name of each row, is never wrapped; the others wrap their headings
    at spaces, and fold a word that still does not fit.
    """
    grid = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 0))
    for i, heading in enumerate(left):
        grid.add_column(heading, overflow="fold", no_wrap=i == 0)
    for heading in right:
        grid.add_column(heading, justify="right", overflow="fold")
    return grid


def stage_label(labels: str, stage: str) -> str:
    """A stage's label in the scenario's family of labels, in the active language."""
    if get_language() == "ru":
        labels = "seven_ru" if labels.startswith("seven") else "ru"
    return LABELS[labels][stage]


def print_run(
    spec: hourglass.Scenario,
    result: hourglass.experiments.Replications,
    stages: list[dict[str, Any]],
    kpis: dict[str, Any],
) -> None:
    """A run's title, its stage table, its KPIs and, with a committee, its buying centre."""
    reps = result.reps
    title = ngettext(
        "{name}: {days} days, seed {seed}, {reps} replication",
        "{name}: {days} days, seed {seed}, {reps} replications",
        reps,
    ).format(name=spec.name, days=f"{spec.horizon_days:g}", seed=result.seed, reps=reps)
    out.print(title, style="bold", highlight=False)
    description = described(spec, get_language())
    if description:
        out.print(description, highlight=False)
    if spec.network is not None and spec.network.social_selling is not None:
        out.print(
            _("Social selling: {label}").format(label=spec.network.social_selling.label),
            highlight=False,
        )
    stage_table = table(
        _("Stages (mean over replications)") if reps > 1 else _("Stages"),
        (_("stage"),),
        (_("entered"), _("passed"), _("lost"), _("inside"), _("passed %"), _("mean days")),
    )
    stage_table.add_column(_("p90 days"), justify="right", overflow="fold")
    stage_table.add_column(_("main loss"), overflow="fold")
    for row in stages:
        reasons = row["lost_by_reason"]
        top = reason_label(max(reasons, key=reasons.get)) if reasons else ""
        stage_table.add_row(
            stage_label(spec.labels, row["name"]),
            *(number(row[c], "{:,.0f}") for c in ("entered", "passed", "lost", "inside")),
            number(row["conversion"], "{:.1%}"),
            number(row["mean_days"], "{:.1f}"),
            number(row["p90_days"], "{:.1f}"),
            top,
        )
    out.print(stage_table)
    if spec.starting_customers is not None:
        out.print(
            _(
                "{repeat} counts the {count} customers from before day 0 too, from their first "
                "purchase in the run."
            ).format(
                repeat=stage_label(spec.labels, "repeat"),
                count=grouped(spec.starting_customers.count),
            ),
            highlight=False,
        )
    out.print(_kpi_table(kpis, banded=reps > 1))
    if result.sellers is not None and len(result.sellers.sellers):
        print_sellers(result.sellers, reps)
    if spec.segments is not None:
        out.print(_segment_table(result))
    _print_accounts(result)
    if spec.committee is not None:
        _print_committee(result)


HOURS_PER_DAY = 24
LONGEST_TEAM = 12
"""The most sellers the team's table lists one by one; a larger team shows its ends."""


def print_sellers(report: hourglass.analysis.sellers.SellerReport, reps: int) -> None:
    """One line per seller; a long team shows its roles, its best and worst closers."""
    import pandas as pd

    from hourglass.analysis.sellers import role_name, sales_roles, seller_name, seller_table

    sellers = seller_table(report, reps)
    headings = (_("leads"), _("won"), _("lost"), _("revenue"), _("busy"), _("wait hours"))
    per_run = reps > 1
    if len(sellers) > LONGEST_TEAM or sellers["role"].nunique() > 1:
        roles = table(
            _("Sales roles (mean per run)") if per_run else _("Sales roles"),
            (_("role"),),
            (_("sellers"), *headings[:-1], _("lost waiting")),
        )
        for row in sales_roles(report, reps).itertuples():
            roles.add_row(
                role_name(row.role),
                str(row.sellers),
                *_team_numbers(row)[:-1],
                f"{row.lost_waiting:,.0f}",
            )
        out.print(roles)
    shown = sellers
    if len(sellers) > LONGEST_TEAM:
        ranked = sellers.sort_values("won", ascending=False, kind="stable")
        half = LONGEST_TEAM // 2
        shown = pd.concat([ranked.head(half), ranked.tail(half)])
    grid = table(
        _("Sales team (mean per run)") if per_run else _("Sales team"),
        (_("seller"), _("role")),
        headings,
    )
    for row in shown.itertuples():
        grid.add_row(seller_name(row.name), role_name(row.role), *_team_numbers(row))
    out.print(grid)
    if len(shown) < len(sellers):
        hidden = len(sellers) - len(shown)
        out.print(
            ngettext(
                "{count} seller between the best and the worst closers is not shown",
                "{count} sellers between the best and the worst closers are not shown",
                hidden,
            ).format(count=hidden),
            highlight=False,
        )


def _team_numbers(row: Any) -> tuple[str, ...]:
    """A seller's or role's leads, wins, losses, revenue, utilisation and mean wait, written."""
    return (
        f"{row.leads:,.0f}",
        f"{row.won:,.0f}",
        f"{row.lost:,.0f}",
        f"{row.revenue:,.0f}",
        number(row.utilization, "{:.0%}"),
        number(row.mean_wait_days * HOURS_PER_DAY, "{:.1f}"),
    )


def _print_accounts(result: hourglass.experiments.Replications) -> None:
    """The four kinds of client with their money, and the whale curve in one sentence."""
    record = hourglass.analysis.accounts_record(result.accounts)
    if record is None:
        return
    grid = table(
        _("Key accounts (mean per run)") if result.reps > 1 else _("Key accounts"),
        (_("kind of client"),),
        (_("customers"), _("revenue"), _("cost to serve"), _("profit")),
    )
    money = KPIS["revenue"].format
    for row in record["kinds"]:
        grid.add_row(
            hourglass.analysis.kind_label(row["kind"]),
            f"{row['customers']:,.0f}",
            *(money(row[f]) for f in ("revenue", "cost_to_serve", "profit")),
        )
    out.print(grid)
    whale = record["whale"]
    if math.isfinite(whale["top20_share"]):
        out.print(
            _(
                "Whale curve: the top 20% of customers earn {top} of the profit; the curve "
                "peaks at {peak} with {at} of the customers."
            ).format(
                top=written(whale["top20_share"], "{:.0%}"),
                peak=written(whale["peak_share"], "{:.0%}"),
                at=written(whale["peak_at"], "{:.0%}"),
            ),
            highlight=False,
        )


def print_precision(result: hourglass.experiments.Replications, precision: float) -> None:
    """Whether --precision was reached, and each target's relative half-width."""
    shown = ", ".join(
        f"{KPIS[k].label(get_language())} ±{written(v, '{:.2%}')}"
        for k, v in hourglass.experiments.half_widths(result).items()
    )
    if met(result, precision):
        said = _("Precision {target} reached with {reps} replications: {widths}")
    else:
        said = _(
            "Precision {target} NOT reached (replication cap) with {reps} replications: {widths}"
        )
    out.print(
        said.format(target=written(precision, "{:.2%}"), reps=result.reps, widths=shown),
        highlight=False,
    )


def _kpi_table(kpis: dict[str, Any], *, banded: bool) -> Table:
    """Each KPI by its label, written as the registry writes it (mean [p5, p95] if banded)."""
    grid = Table(title=_("KPIs (mean [p5, p95])") if banded else _("KPIs"))  # two columns fit
    grid.add_column(_("KPI"), overflow="fold")
    grid.add_column(_("value"), justify="right", overflow="fold")
    for name, value in kpis.items():
        kpi = KPIS[name]
        if isinstance(value, dict):
            text = f"{kpi.format(value['mean'])}  [{kpi.format(value['p5'])}, "
            text += f"{kpi.format(value['p95'])}]"
        else:
            text = kpi.format(value)
        grid.add_row(kpi.label(get_language()), text)
    return grid


def _segment_table(result: hourglass.experiments.Replications) -> Table:
    """Each segment's buyers, money, CAC and LTV (means over replications); whole units fit."""
    from hourglass.analysis.segments import segment_records

    grid = table(
        _("Segments (mean over replications)") if result.reps > 1 else _("Segments"),
        (_("segment"),),
        (_("buyers"), _("revenue"), _("cost to serve"), _("profit")),
    )
    for heading in ("CAC", "LTV", "LTV:CAC"):
        grid.add_column(heading, justify="right", overflow="fold")
    columns = ("buyers", "revenue", "cost_to_serve", "profit", "cac", "ltv")
    for record in segment_records(result.segments):
        mean = {k: v["mean"] if isinstance(v, dict) else v for k, v in record.items()}
        cells = [number(mean[c], "{:,.0f}") for c in columns]
        grid.add_row(mean["name"], *cells, number(mean["ltv_cac"], "{:.1f}"))
    return grid


def _print_committee(result: hourglass.experiments.Replications) -> None:
    """Where deals die by role, and win rates and cycles by channel."""
    per_run = result.reps > 1
    stage = result.scenario.committee.stage
    if get_language() != "en":  # English names the stage as the scenario file does
        stage = stage_label(result.scenario.labels, stage)
    roles = table(
        (
            _("Buying centre at {stage} (mean per run)")
            if per_run
            else _("Buying centre at {stage}")
        ).format(stage=stage),
        (_("role"),),
        (
            _("deals reached"),
            _("people asked"),
            _("deals ended"),
            _("share of ended"),
            _("let through"),
        ),
    )
    for row in result.role_summary().itertuples():
        roles.add_row(
            row.role,
            *(number(v, "{:,.1f}") for v in (row.deals_reached, row.asked, row.ended)),
            number(row.share_of_ended, "{:.1%}"),
            number(row.let_through, "{:.1%}"),
        )
    out.print(roles)
    deals = table(
        _("Deals by channel (mean per run)") if per_run else _("Deals by channel"),
        (_("channel"),),
        (
            _("deals"),
            _("won"),
            _("lost"),
            _("open"),
            _("win rate [95% CI]"),
            _("cycle p50 days"),
            _("cycle p90 days"),
        ),
    )
    for row in result.channel_summary().itertuples():
        deals.add_row(
            row.channel,
            *(number(v, "{:,.1f}") for v in (row.deals, row.won, row.lost, row.open)),
            f"{number(row.win_rate, '{:.1%}')} [{number(row.win_rate_low, '{:.0%}')}, "
            f"{number(row.win_rate_high, '{:.0%}')}]",
            number(row.cycle_p50_days, "{:,.0f}"),
            number(row.cycle_p90_days, "{:,.0f}"),
        )
    out.print(deals)


SWEPT_KPIS = ("buyers", "revenue", "roi", "lost_waiting")
"""The KPIs a sweep's table shows, one column each (the JSON and Parquet hold them all)."""


def print_sweep(name: str, reps: int, paths: list[str], frame: pd.DataFrame) -> None:
    """A sweep's grid: one row per point, the mean of each shown KPI."""
    shown = frame[frame["kpi"].isin(SWEPT_KPIS)]
    wide = shown.pivot_table(index=paths, columns="kpi", values="mean", sort=False)
    grid = table(
        _("{name}: mean over {reps} replications per point").format(name=name, reps=reps),
        (),
        (*paths, *(KPIS[c].label(get_language()) for c in wide.columns)),
    )
    for key, row in wide.iterrows():
        keys = key if isinstance(key, tuple) else (key,)
        grid.add_row(*(str(k) for k in keys), *(KPIS[c].format(row[c]) for c in wide.columns))
    out.print(grid)


def print_allocation(name: str, result: hourglass.experiments.Optimization) -> None:
    """The money per line now and at the optimum, the notes and the verdict."""
    grid = table(
        _("{name}: money per month by line, to maximise {objective}").format(
            name=name, objective=result.objective_label()
        ),
        (_("line"),),
        (_("current"), _("optimal"), _("change")),
    )
    for line, now in result.current.items():
        best = result.optimal[line]
        grid.add_row(
            line, number(now, "{:,.0f}"), number(best, "{:,.0f}"), number(best - now, "{:+,.0f}")
        )
    out.print(grid)
    for note in result.notes:
        out.print(_("Note: {note}").format(note=note), highlight=False)
    out.print(result.verdict(), highlight=False)
