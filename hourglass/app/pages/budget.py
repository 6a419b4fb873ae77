"""Budget: response curves with marginal returns; an optimal allocation, confirmed by simulation."""

from __future__ import annotations

from contextlib import ExitStack

import streamlit as st

import hourglass as hg
from hourglass.app import cache, runs, state, widgets
from hourglass.kpis import KPIS


def show(choice: state.Choice) -> None:
    """Each budget line's response curve; on Optimise, the best allocation and its check."""
    scenario = choice.scenario
    st.header(f"Budget · {widgets.escape(scenario.name)}")
    lines = hg.config.budget_lines(scenario)
    if not lines:
        st.info("This scenario has no budget lines: give a paid channel or a stage a budget.")
        return
    marginal = hg.experiments.marginal_roi(scenario)
    st.caption(
        "Each panel: what money per month on one lever does. Marginal ROI is the expected "
        "profit of one more unit of money on that line (analytic expectation, costs netted)."
    )
    key = optimisation(choice, lines)
    found = st.session_state.get("optimised")
    result = found[1] if found and found[0] == key else None
    optimal = result.optimal if result else None
    curves = hg.experiments.line_curves(scenario, reach=optimal)
    widgets.chart(hg.plots.response_figure(curves, marginal, optimal), "response-curves")
    if result is None:
        return
    (st.success if result.confirmed else st.warning)(widgets.escape(result.verdict()))
    for note in result.notes:
        st.info(widgets.escape(note))
    widgets.chart(hg.plots.allocation_figure(result.current, result.optimal), "allocation")
    widgets.download(
        "Optimised scenario (YAML)",
        result.scenario.to_yaml(),
        f"{scenario.name}_optimised.yaml",
        "application/yaml",
    )


def optimisation(choice: state.Choice, lines: dict[str, float]) -> tuple:
    """The optimiser's form; on Optimise, its result is kept in this session.

    The result is kept under the key returned: the scenario, seed, replications and the
    form's values, so that a page showing other values shows no stale result.
    """
    scenario, seed, reps = choice.scenario, choice.seed, choice.reps
    tag = state.version_tag(scenario)
    objectives = tuple(hg.experiments.OBJECTIVE_KPIS)
    with st.form("optimise"):
        left, middle, right = st.columns(3)
        total = left.number_input(
            "Total budget per month",
            min_value=0.0,
            value=float(sum(lines.values())),
            step=1000.0,
            key=f"total-budget-{tag}",
        )
        objective = middle.selectbox(
            "Maximise",
            objectives,
            index=objectives.index("profit"),
            format_func=lambda o: KPIS[hg.experiments.OBJECTIVE_KPIS[o]].label(choice.language),
            key="objective",
        )
        locked = right.multiselect("Keep as they are", list(lines), key=f"locked-{tag}")
        asked = st.form_submit_button("Optimise", type="primary")
    key = (scenario.to_yaml(), seed, reps, total, objective, tuple(locked))
    if asked and runs.fits(scenario, 2 * reps):
        bar = st.progress(0.0, text="Checking the allocation by simulation")
        try:
            with ExitStack() as claim:

                def admit(best: hg.Scenario) -> None:
                    """Hold the server's budgets for the current and the optimal allocation."""
                    work = runs.estimate([scenario, best], reps)
                    claim.enter_context(runs.ledger().admitted(state.session_key(), work))

                optimised = hg.optimize(
                    scenario,
                    total,
                    objective,
                    hg.experiments.Constraints(locked=frozenset(locked)),
                    reps=reps,
                    seed=seed,
                    progress=lambda d, t: bar.progress(d / t, text=f"Simulating: {d} of {t}"),
                    guard=admit,
                    executor=cache.worker_pool(),
                )
            st.session_state.optimised = (key, optimised)
        except (hg.experiments.OptimizeError, hg.ScenarioError, runs.TooBig) as err:
            st.error(widgets.escape(err))
        finally:
            bar.empty()
    return key


if __name__ == "__main__":
    show(state.choice())
