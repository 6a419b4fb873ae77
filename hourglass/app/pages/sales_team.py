"""Sales team: for the trainer and the sales manager, each seller's leads, wins, time and waits.

The answer goes first: whether the team is short of time (leads lost waiting) or one seller
closes better than the rest; then the table, conversion by seller and how busy each is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

import hourglass as hg
from hourglass.analysis.sellers import Standout, role_name, seller_name
from hourglass.app import runs, state, widgets
from hourglass.i18n import _
from hourglass.kpis import written
from hourglass.stages import FUNNEL, LABELS

if TYPE_CHECKING:
    import pandas as pd

# a page script's bare strings are drawn by Streamlit, so these are described in comments:
# the team's KPIs (hourglass.analysis.metrics) and the utilisation above which the team, not
# its skill, is the answer
TEAM_KPIS = ("seller_utilization", "mean_wait_days", "lost_waiting")
SHORT_OF_TIME = 0.9
HOURS_PER_DAY = 24


def show(choice: state.Choice) -> None:
    """The answer, the team's KPIs, the per-seller table and the two figures."""
    scenario, seed = choice.scenario, choice.seed
    missing = _(
        "'{name}' has no sales team. Choose sales_team, or add a `sales:` section to "
        "the scenario (sellers, and the stages they work)."
    )
    title = _("Sales team · {name}")
    if widgets.heading(title, scenario, needs=scenario.sales, otherwise=missing) is None:
        return
    result = runs.run(scenario, choice.reps, seed)
    if result is None:
        return
    report, reps = result.sellers, result.reps
    kpis = result.kpis.mean()
    closing = max(scenario.worked, key=FUNNEL.index)  # the last stage a seller works
    st.subheader(answer(kpis, hg.analysis.standout(report, closing), choice.labels))
    for column, kpi in zip(st.columns(len(TEAM_KPIS)), TEAM_KPIS, strict=True):
        widgets.kpi_metric(column, kpi, kpis[kpi], choice.language)
    st.caption(
        _(
            "Means per run over {reps} runs (seed {seed}), counted after the warm-up. A sale "
            "is credited to the seller who worked the lead's last worked stage before it; "
            "busy is the share of the seller's seat-time spent working."
        ).format(reps=reps, seed=seed)
    )
    sellers = hg.analysis.seller_table(report, reps)
    conversion = hg.analysis.stage_conversion(report)
    team = hg.analysis.stage_conversion(report, by="team")
    widgets.chart(
        hg.plots.seller_conversion_figure(conversion, team, labels=choice.labels),
        "seller-conversion",
        band=_("95% intervals, pooled over runs"),
    )
    widgets.chart(
        hg.plots.utilization_figure(sellers, kpis["seller_utilization"]), "seller-utilization"
    )
    follows_up = scenario.sales.follow_up is not None
    st.dataframe(
        shown_table(sellers, follows_up),
        hide_index=True,
        width="stretch",
        column_config=table_columns(),
    )
    roles = hg.analysis.sales_roles(report, reps)
    if len(roles) > 1:
        st.dataframe(
            shown_table(roles, follows_up),
            hide_index=True,
            width="stretch",
            column_config=table_columns(),
        )
    widgets.csv_button(
        shown_table(sellers, follows_up).rename(columns=headers()),
        _("Sales team (CSV)"),
        "sales-team",
    )


def answer(kpis: dict, best: Standout | None, labels: str) -> str:
    """The page's headline: the team short of time, or the best closer against the rest."""
    busy = kpis["seller_utilization"]
    if busy >= SHORT_OF_TIME or best is None:
        return _("Sellers are busy {busy} of the time; leads lost waiting: {lost} per run").format(
            busy=written(busy, "{:.0%}"), lost=written(kpis["lost_waiting"], "{:,.0f}")
        )
    points = {
        "gap": written(100 * best.gap, "{:+.1f}"),
        "low": written(100 * best.low, "{:+.1f}"),
        "high": written(100 * best.high, "{:+.1f}"),
    }
    stage = LABELS[labels][best.stage]
    name = seller_name(best.name)
    if best.low > 0:
        return _(
            "Best closer: {name}, {gap} pp against the rest of the team at {stage} [{low}, {high}]"
        ).format(name=name, stage=stage, **points)
    return _(
        "No seller stands out at {stage}: the best, {name}, is {gap} pp against the rest "
        "[{low}, {high}], within the noise"
    ).format(name=name, stage=stage, **points)


def shown_table(table: pd.DataFrame, follows_up: bool = False) -> pd.DataFrame:
    """A seller or role table to read: names in the reader's language, busy in %, waits in hours.

    Follow-ups missed are shown when the team `follows_up` after a sale.
    """
    shown = table.assign(
        role=table["role"].map(role_name),
        revenue=table["revenue"].round(),
        utilization=100 * table["utilization"],
        wait_hours=table["mean_wait_days"] * HOURS_PER_DAY,
    )
    if "name" in shown:
        shown["name"] = shown["name"].map(seller_name)
    if not follows_up:
        shown = shown.drop(columns="follow_ups_missed", errors="ignore")
    return shown[[column for column in headers() if column in shown]]


def headers() -> dict[str, str]:
    """The seller and role tables' columns, named in the reader's language."""
    return {
        "name": _("seller"),
        "role": _("role"),
        "sellers": _("sellers"),
        "leads": _("leads"),
        "won": _("won"),
        "lost": _("lost"),
        "revenue": _("revenue"),
        "utilization": _("busy"),
        "wait_hours": _("wait hours"),
        "mean_cycle_days": _("mean cycle, days"),
        "lost_waiting": _("lost waiting"),
        "follow_ups_missed": _("follow-ups missed"),
    }


def table_columns() -> dict:
    """The seller and role tables' formats: counts, money, a share and durations."""
    names = headers()
    formats = {
        **dict.fromkeys(
            ("sellers", "leads", "won", "lost", "lost_waiting", "follow_ups_missed"), "%.0f"
        ),
        "revenue": "localized",
        "utilization": "%.0f%%",
        "wait_hours": "%.1f",
        "mean_cycle_days": "%.1f",
    }
    return {
        "name": st.column_config.TextColumn(names["name"]),
        "role": st.column_config.TextColumn(names["role"]),
        **{
            column: st.column_config.NumberColumn(names[column], format=fmt)
            for column, fmt in formats.items()
        },
    }


if __name__ == "__main__":
    show(state.choice())
