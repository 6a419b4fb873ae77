"""B2B deals: where deals die by role, and win rates and cycles by channel."""

from __future__ import annotations

import math

import streamlit as st

import hourglass as hg
from hourglass.app import runs, state, widgets
from hourglass.kpis import MISSING

CHANNEL_COLUMNS = {  # the channel table: means per run, shares, days
    **{
        name: st.column_config.NumberColumn(name.replace("_", " "), format="%.1f")
        for name in ("deals", "won", "lost", "open")
    },
    **{
        name: st.column_config.NumberColumn(name.replace("_", " "), format="percent")
        for name in ("win_rate", "win_rate_low", "win_rate_high")
    },
    **{
        name: st.column_config.NumberColumn(name.replace("_", " "), format="%.0f")
        for name in ("cycle_mean_days", "cycle_p50_days", "cycle_p90_days")
    },
}


def show(choice: state.Choice) -> None:
    """For a scenario with a buying committee: its deals in numbers, by role and by channel."""
    scenario, seed = choice.scenario, choice.seed
    st.header(f"B2B deals · {widgets.escape(scenario.name)}")
    committee = scenario.committee
    if committee is None:
        st.info(
            f"'{widgets.escape(scenario.name)}' has no buying committee. Choose "
            "b2b_committee, or add a committee: section to the scenario (roles, and the order "
            "each channel asks them)."
        )
        return
    result = runs.run(scenario, choice.reps, seed)
    if result is None:
        return
    roles, channels, deals = result.role_summary(), result.channel_summary(), result.deals
    summary = hg.analysis.deal_summary(deals, result.reps)
    shown = (
        ("Deals at the committee, per run", written(summary["deals_per_run"], "{:,.1f}")),
        ("Win rate", written(summary["win_rate"], "{:.1%}")),
        ("Median cycle of won deals", written(summary["won_cycle_p50_days"], "{:,.0f} days")),
        ("People asked per deal", written(summary["people_asked"], "{:.1f}")),
    )
    for column, (label, value) in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(label, value)
    st.caption(
        f"{result.reps} runs (seed {seed}). Deals reach the committee when they pass "
        f"{widgets.escape(committee.stage)}; its roles are asked one after another, in the "
        "order the deal's channel sets. A refusal ends the deal with the role's weight as its "
        "chance."
    )
    widgets.chart(hg.plots.role_figure(roles), "deal-roles")
    widgets.chart(hg.plots.cycle_figure(deals, channels), "deal-channels")
    st.dataframe(channels, hide_index=True, column_config=CHANNEL_COLUMNS)
    widgets.csv_button(roles, "Roles (CSV)", "deal-roles")
    widgets.csv_button(channels, "Channels (CSV)", "deal-channels")
    widgets.csv_button(deals, "Every deal (CSV)", "deals")


def written(value: float, fmt: str) -> str:
    """A number in its format, or the registry's mark for a missing one."""
    return fmt.format(value) if math.isfinite(value) else MISSING


if __name__ == "__main__":
    show(state.choice())
