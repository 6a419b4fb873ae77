"""Trainer: the scenario's lesson, the hourglass of one run, how it fills, and its flows.

The funnel as theory expects it goes out first, as inline SVG: it is on screen before pandas
and plotly's script have loaded, while the run goes on; the run's table of simulated and
expected entries then takes its place, so one expectation per stage is on screen at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

import hourglass as hg
from hourglass.app import runs, state, widgets
from hourglass.config.lesson import described
from hourglass.i18n import _
from hourglass.kpis import KPIS, written
from hourglass.stages import LABELS, reason_label

if TYPE_CHECKING:
    import pandas as pd

# a page script's bare strings are drawn by Streamlit, so these are described in comments:
# the KPIs the lesson's before and after show, and what a sales team's lesson shows of its
# sellers (hourglass.analysis.metrics computes them)
SIDE_BY_SIDE = ("buyers", "revenue", "profit", "cac", "referred_prospects")
SELLER_KPIS = ("seller_utilization", "mean_wait_days", "lost_waiting")


def show(choice: state.Choice) -> None:
    """The lesson, the theory's sketch at once, then one run's hourglass, filling and flows."""
    scenario, seed, labels = choice.scenario, choice.seed, choice.labels
    st.header(_("The hourglass · {name}").format(name=widgets.escape(scenario.name)))
    st.caption(
        widgets.escape(described(scenario, choice.language))
        + " "
        + _(
            "One simulated run of {days:g} days (seed {seed}); the Planner page shows the "
            "spread across runs."
        ).format(days=scenario.horizon_days, seed=seed)
    )
    lesson(choice)
    left, right = st.columns([3, 2])
    with right:
        beside = st.empty()
        with beside.container():
            st.subheader(_("As theory expects"))
            st.markdown(sketch(scenario, labels), unsafe_allow_html=True)
            st.caption(
                _("Before the run: the funnel for the outside prospects the channels should bring.")
            )
    result = runs.run(scenario, 1, seed)
    if result is None:
        return
    stages = result.stage_summary()
    kpis = result.kpis.iloc[0]
    expected = hg.theory.expected_entries(
        scenario, kpis["outside_prospects"], kpis["referred_prospects"]
    )
    with left:
        figure = hg.plots.hourglass_figure(
            stages, labels=labels, expected=expected, referred=kpis["referred_prospects"]
        )
        widgets.chart(figure, "hourglass")
    with beside.container():
        st.subheader(_("Simulated and expected"))
        st.dataframe(
            gap_table(stages, expected, labels),
            hide_index=True,
            width="stretch",
            column_config=gap_columns(),
        )
        st.caption(
            _(
                "Expected: an absorbing Markov chain over the funnel, fed the simulated "
                "prospects. The simulation falls short of it where leads go cold waiting for "
                "a seller and where antagonists talk prospects out of it."
            )
        )
    if scenario.sales is not None:
        sellers(kpis, choice.language)
    daily_mean = result.daily.groupby("day").mean()
    widgets.chart(
        hg.plots.hourglass_animation(hg.analysis.filling(daily_mean), labels=labels),
        "hourglass-filling",
    )
    widgets.chart(hg.plots.sankey_figure(stages, result.losses, labels=labels), "flows")
    widgets.csv_button(stage_csv(stages, labels), _("Stage table (CSV)"), "stages")


def lesson(choice: state.Choice) -> None:
    """The lesson as a card, and one button that runs it beside the scenario it names."""
    scenario, lang = choice.scenario, choice.language
    if scenario.lesson is None:
        return
    words = scenario.lesson
    with st.container(border=True):
        st.subheader(words.title.in_language(lang))
        st.markdown(lesson_text(words.shows.in_language(lang)))
        st.markdown("**" + _("Try:") + "** " + lesson_text(words.try_.in_language(lang)))
        other = words.compare_with
        if other is None:
            return
        if other not in state.library():
            st.info(_("The scenario to compare with, {name}, is not loaded.").format(name=other))
            return
        key = f"lesson-{scenario.name}-{other}"
        label = _("Run beside {other} on the same random numbers").format(other=other)
        if st.button(label, key=f"{key}-button", type="primary"):
            st.session_state[key] = True
        if st.session_state.get(key):
            before_and_after(choice, state.scenario_of(other))


def lesson_text(text: str) -> str:
    """A lesson's text as Markdown: literal, but what it writes in `backticks` shown as code."""
    parts = text.split("`")
    shown = []
    for i, part in enumerate(parts):
        if i % 2:
            shown.append(f"`{part}`")
        elif part.strip():
            ends = (" " if part[0].isspace() else "", " " if part[-1].isspace() else "")
            shown.append(ends[0] + widgets.escape(part) + ends[1])
        else:
            shown.append(part)
    return "".join(shown)


def before_and_after(choice: state.Choice, before: hg.Scenario) -> None:
    """The scenario and the one its lesson names, side by side, and their difference."""
    after = choice.scenario
    results = {}
    for scenario in (before, after):
        result = runs.run(scenario, choice.reps, choice.seed)
        if result is None:
            return
        results[scenario.name] = result
    comparison = hg.experiments.compare_runs(results)
    st.markdown("**" + widgets.escape(difference_sentence(comparison, choice.labels)) + "**")
    shown = SIDE_BY_SIDE + (SELLER_KPIS if before.sales or after.sales else ())
    rows = comparison.table.set_index("kpi")
    for column, scenario in zip(st.columns(2), (before, after), strict=True):
        column.markdown(f"**{widgets.escape(scenario.name)}**")
        cells = column.columns(2)
        for i, name in enumerate(shown):
            row = rows.loc[name]
            value = row["base"] if scenario is before else row["mean"]
            change = (row["delta"], row["base"]) if scenario is after else None
            widgets.kpi_metric(
                cells[i % 2], name, value, choice.language, change=change, noise=not row["clear"]
            )
    st.caption(
        _(
            "Means of {reps} runs of each on the same seed children (seed {seed}): the "
            "difference is the scenarios', not luck's. A grey change is within the noise."
        ).format(reps=comparison.reps, seed=comparison.seed)
    )


def difference_sentence(comparison: hg.experiments.Comparison, labels: str) -> str:
    """The change in buyers and the biggest change behind it, in one sentence."""
    after = next(name for name in comparison.runs if name != comparison.baseline)
    row = comparison.table.set_index("kpi").loc["buyers"]
    change = KPIS["buyers"].format_delta(row["delta"], row["base"])
    return _("{change} buyers against {other}: {cause}").format(
        change=change,
        other=comparison.baseline,
        cause=main_cause(comparison.runs[comparison.baseline], comparison.runs[after]),
    )


def main_cause(before: hg.experiments.Replications, after: hg.experiments.Replications) -> str:
    """The largest change, per run, in people lost for one reason or in referred prospects."""
    lost = {
        name: result.losses.groupby("reason")["lost"].sum() / result.reps
        for name, result in (("before", before), ("after", after))
    }
    losses = lost["after"].sub(lost["before"], fill_value=0.0)
    referred = after.kpis["referred_prospects"].mean() - before.kpis["referred_prospects"].mean()
    reason = losses.abs().idxmax() if len(losses) else None
    if reason is None or abs(referred) > abs(losses[reason]):
        template = (
            _("{count} more referred prospects")
            if referred > 0
            else _("{count} fewer referred prospects")
        )
        return template.format(count=written(abs(referred), "{:,.0f}"))
    template = (
        _("{count} more lost ({reason})")
        if losses[reason] > 0
        else _("{count} fewer lost ({reason})")
    )
    count = written(abs(losses[reason]), "{:,.0f}")
    return template.format(count=count, reason=reason_label(reason))


def sellers(kpis: pd.Series, language: str) -> None:
    """The sales team in three numbers: how busy, how long leads wait, how many gave up."""
    for column, name in zip(st.columns(len(SELLER_KPIS)), SELLER_KPIS, strict=True):
        widgets.kpi_metric(column, name, kpis[name], language)


def sketch(scenario: hg.Scenario, labels: str) -> str:
    """The funnel of outside prospects as theory expects it, as SVG the browser draws at once."""
    expected = hg.theory.expected_entries(
        scenario, hg.theory.expected_outside_prospects(scenario), 0.0
    )
    return hg.plots.theory_svg(expected, labels=labels)


def gap_columns() -> dict:
    """The theory gap table's columns, named in the reader's language."""
    return {
        "stage": st.column_config.TextColumn(_("stage")),
        "simulated": st.column_config.TextColumn(_("simulated")),
        "expected": st.column_config.TextColumn(_("expected")),
        "gap": st.column_config.TextColumn(_("gap")),
    }


def gap_table(stages: pd.DataFrame, expected: dict[str, float], labels: str) -> pd.DataFrame:
    """The theory gap table to read: stages by their labels, numbers as the reader writes them.

    The numbers are written here, not by the browser, so they follow the reader's language.
    """
    table = hg.analysis.theory_gap(stages, expected)
    return table.assign(
        stage=table["stage"].map(LABELS[labels]),
        simulated=[written(v, "{:,.0f}") for v in table["simulated"]],
        expected=[written(round(v), "{:,.0f}") for v in table["expected"]],
        gap=[written(v, "{:+.1%}") for v in table["gap"]],
    )


def stage_csv(stages: pd.DataFrame, labels: str) -> pd.DataFrame:
    """The stage table for export: stages by their labels, headers in the reader's language."""
    headers = {
        "stage": _("stage"),
        "entered": _("entered"),
        "passed": _("passed"),
        "lost": _("lost"),
        "inside": _("inside"),
        "conversion": _("conversion"),
        "mean_days": _("mean days"),
        "p90_days": _("p90 days"),
    }
    return stages.assign(stage=stages["stage"].map(LABELS[labels])).rename(columns=headers)


if __name__ == "__main__":
    show(state.choice())
