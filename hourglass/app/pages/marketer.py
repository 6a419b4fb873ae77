"""Marketer: budgets, pass probabilities, sellers and bonus against the scenario as loaded."""

from __future__ import annotations

import streamlit as st

import hourglass as hg
from hourglass.app import runs, state, widgets
from hourglass.config.sections import MAX_SELLERS
from hourglass.kpis import HEADLINE


def show(choice: state.Choice) -> None:
    """The levers in a form; on Run, the KPIs' change on common random numbers."""
    scenario, seed, reps = choice.scenario, choice.seed, choice.reps
    st.header(f"Tune the levers · {widgets.escape(scenario.name)}")
    overrides, amounts = levers(scenario, choice.labels)
    tuned = widgets.overridden(scenario, {"name": f"{scenario.name}_tuned", **overrides})
    if tuned is None:
        return
    try:
        tuned = hg.config.with_budgets(tuned, amounts)
    except hg.ScenarioError as err:
        st.error(widgets.escape(err))
        return
    loaded, changed = runs.run(scenario, reps, seed), runs.run(tuned, reps, seed)
    if loaded is None or changed is None:
        return
    comparison = hg.experiments.compare_runs({scenario.name: loaded, tuned.name: changed})
    st.caption(
        f"Mean of {reps} replications on common random numbers (seed {seed}); the change is "
        "against the scenario as loaded, with its 95% confidence interval below."
    )
    headline(comparison, choice.language)
    with st.expander("Every KPI, with 95% confidence intervals"):
        st.dataframe(widgets.comparison_table(comparison), hide_index=True, width="stretch")
    stage_tables = {n: r.stage_summary() for n, r in comparison.runs.items()}
    widgets.chart(
        hg.plots.conversion_bars(stage_tables, labels=choice.labels), "marketer-conversion"
    )
    widgets.csv_button(changed.kpis.reset_index(), "KPIs per replication (CSV)", "tuned-kpis")


def levers(scenario: hg.Scenario, labels: str) -> tuple[dict[str, float], dict[str, float]]:
    """The form of levers: field overrides, and the money per month on each budget line."""
    tag = state.version_tag(scenario)
    overrides: dict[str, float] = {}
    with st.form("levers"):
        money, funnel, team = st.columns(3)
        with money:
            st.markdown("**Budgets per month**")
            amounts = budgets(scenario, tag)
            if scenario.referral:
                overrides["referral.bonus"] = st.number_input(
                    "referral bonus per referred buyer",
                    min_value=0.0,
                    value=float(scenario.referral.bonus),
                    step=5.0,
                    key=f"bonus-{tag}",
                )
        with funnel:
            st.markdown("**Pass probability**")
            names = hg.stages.LABELS[labels]
            for stage, spec in scenario.funnel:
                overrides[f"stages.{stage}.pass_prob"] = st.slider(
                    names[stage], 0.0, 1.0, float(spec.pass_prob), 0.01, key=f"pass-{tag}-{stage}"
                )
        with team:
            st.markdown("**Sales team**")
            if scenario.sales:
                overrides["sales.sellers"] = st.number_input(
                    "sellers",
                    min_value=1,
                    max_value=MAX_SELLERS,
                    value=scenario.sales.sellers,
                    key=f"sellers-{tag}",
                )
            else:
                st.caption("This scenario has no sales team.")
        st.form_submit_button("Run", type="primary")
    return overrides, amounts


def budgets(scenario: hg.Scenario, tag: str) -> dict[str, float]:
    """A money input per budget line: paid channels, then stage budgets."""
    amounts = {}
    for line, amount in hg.config.budget_lines(scenario).items():
        label = widgets.escape(line)
        amounts[line] = st.number_input(
            label if line in scenario.channels.paid else f"{label} (stage budget)",
            min_value=0.0,
            value=float(amount),
            step=500.0,
            key=f"budget-{tag}-{line}",
        )
    return amounts


def headline(comparison: hg.experiments.Comparison, language: str) -> None:
    """The headline KPIs of the tuned scenario, each with its change against the loaded one.

    A change whose 95% interval includes zero is grey: it is within the noise.
    """
    table = comparison.table.set_index("kpi")
    for column, kpi in zip(widgets.grid(len(HEADLINE)), HEADLINE, strict=True):
        row = table.loc[kpi]
        widgets.kpi_metric(
            column,
            kpi,
            row["mean"],
            language,
            change=(row["delta"], row["base"]),
            noise=not row["clear"],
            help=None if row["clear"] else "Within the noise: the 95% interval includes no change.",
        )


if __name__ == "__main__":
    show(state.choice())
