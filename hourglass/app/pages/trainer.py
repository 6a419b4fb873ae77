"""Trainer: the hourglass of one run, how it fills, its flows, and the theory beside it.

The funnel as theory expects it goes out first, as inline SVG: it is on screen before pandas
and plotly's script have loaded, while the run goes on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

import hourglass as hg
from hourglass.app import runs, state, widgets

if TYPE_CHECKING:
    import pandas as pd

GAP_COLUMNS = {
    "simulated": st.column_config.NumberColumn(format="localized"),
    "expected": st.column_config.NumberColumn(format="localized"),
    "gap": st.column_config.NumberColumn(format="percent"),
}


def show(choice: state.Choice) -> None:
    """The theory's sketch at once, then one run's hourglass, filling and flows."""
    scenario, seed, labels = choice.scenario, choice.seed, choice.labels
    st.header(f"The hourglass · {widgets.escape(scenario.name)}")
    st.caption(
        f"{widgets.escape(scenario.description)} One simulated run of "
        f"{scenario.horizon_days:g} days (seed {seed}); the Planner page shows the spread "
        "across runs."
    )
    left, right = st.columns([3, 2])
    with right:
        st.subheader("As theory expects")
        st.markdown(sketch(scenario, labels), unsafe_allow_html=True)
        st.caption("The funnel for the outside prospects the channels should bring.")
    result = runs.run(scenario, 1, seed)
    if result is None:
        return
    stages = result.stage_summary()
    kpis = result.kpis.iloc[0]
    expected = hg.theory.expected_entries(
        scenario, kpis["outside_prospects"], kpis["referred_prospects"]
    )
    with left:
        lower = {"repeat": kpis["repeat_purchases"], "refer": kpis["referred_prospects"]}
        figure = hg.plots.hourglass_figure(stages, labels=labels, expected=expected, lower=lower)
        widgets.chart(figure, "hourglass")
        st.caption(
            "Above Buy a bar is the people who entered the stage, with the share who passed. "
            "Below it, Repeat counts repeat purchases and Refer the prospects that referrals "
            "brought: the hourglass widens again as customers come back and bring others."
        )
    with right:
        st.subheader("Simulated and expected")
        st.dataframe(
            gap_table(stages, expected, labels),
            hide_index=True,
            width="stretch",
            column_config=GAP_COLUMNS,
        )
        st.caption(
            "Expected: an absorbing Markov chain over the funnel, fed the simulated prospects. "
            "The simulation falls short of it where leads go cold waiting for a seller "
            "and where antagonists talk prospects out of it."
        )
    daily_mean = result.daily.groupby("day").mean()
    widgets.chart(
        hg.plots.hourglass_animation(hg.analysis.filling(daily_mean), labels=labels),
        "hourglass-filling",
    )
    widgets.chart(hg.plots.sankey_figure(stages, result.losses, labels=labels), "flows")
    widgets.csv_button(stages, "Stage table (CSV)", "stages")


def sketch(scenario: hg.Scenario, labels: str) -> str:
    """The funnel of outside prospects as theory expects it, as SVG the browser draws at once."""
    expected = hg.theory.expected_entries(
        scenario, hg.theory.expected_outside_prospects(scenario), 0.0
    )
    return hg.plots.theory_svg(expected, labels=labels)


def gap_table(stages: pd.DataFrame, expected: dict[str, float], labels: str) -> pd.DataFrame:
    """The theory gap table to read: stages by their labels, expectations in whole people."""
    table = hg.analysis.theory_gap(stages, expected)
    return table.assign(
        stage=table["stage"].map(hg.stages.LABELS[labels]), expected=table["expected"].round()
    )


if __name__ == "__main__":
    show(state.choice())
