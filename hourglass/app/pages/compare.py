"""Compare: two to four scenarios side by side, on common random numbers."""

from __future__ import annotations

import streamlit as st

import hourglass as hg
from hourglass.analysis.changes import change_sentence, number_table
from hourglass.app import runs, state, widgets
from hourglass.app.expected_first import expected_first
from hourglass.i18n import _
from hourglass.kpis import HEADLINE, KPIS


def show(choice: state.Choice) -> None:
    """The changes against the first scenario in sentences and charts, and the table."""
    seed, reps = choice.seed, choice.reps
    st.header(_("Compare scenarios"))
    names = list(state.library())
    default = [n for n in ("baseline", "no_referrals") if n in names] or names[:2]
    with st.form("compare"):
        chosen = st.multiselect(
            _("Scenarios (the first is the baseline)"),
            names,
            default=default,
            max_selections=4,
            placeholder=_("Choose scenarios"),
        )
        st.form_submit_button(_("Compare them"), type="primary")
    if len(chosen) < 2:
        st.info(_("Choose at least two scenarios."))
        return
    results = {}
    for name in chosen:
        scenario = state.scenario_of(name)
        with expected_first(scenario, HEADLINE, reps, seed, choice.language) as shown:
            result = runs.run(scenario, reps, seed, partial=shown)
        if result is None:
            return
        results[name] = result
    comparison = hg.experiments.compare_runs(results)
    st.caption(
        _(
            "{reps} replications each, on the same seed children (seed {seed}): differences "
            "are paired, so they show the scenarios' effect rather than luck."
        ).format(reps=reps, seed=seed)
    )
    rows = [r for r in comparison.table.to_dict("records") if r["kpi"] in HEADLINE]
    said = [change_sentence(row, comparison.baseline) for row in rows]
    st.markdown("\n".join(f"- {widgets.escape(sentence)}" for sentence in said))
    kpi_names = {k: KPIS[k].label(choice.language) for k in HEADLINE}
    widgets.chart(
        hg.plots.delta_figure(comparison.table, HEADLINE, names=kpi_names), "compare-deltas"
    )
    bands = {n: r.daily_bands() for n, r in results.items()}
    widgets.chart(
        hg.plots.overlay_figure(
            bands, "active_customers", title=_("Active customers"), y_title=_("customers")
        ),
        "compare-customers",
    )
    stage_tables = {n: r.stage_summary() for n, r in results.items()}
    widgets.chart(
        hg.plots.conversion_bars(stage_tables, labels=choice.labels), "compare-conversion"
    )
    st.dataframe(widgets.comparison_table(comparison), hide_index=True, width="stretch")
    widgets.csv_button(number_table(comparison.table), _("Comparison table (CSV)"), "comparison")


if __name__ == "__main__":
    show(state.choice())
