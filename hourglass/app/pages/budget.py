"""Budget: response curves with marginal returns; an optimal allocation, confirmed by simulation."""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING

import streamlit as st

import hourglass as hg
from hourglass.analysis.money import allocation_table, money
from hourglass.analysis.month_plan import month_grid, plan_changes, steady_note, with_plan
from hourglass.app import cache, runs, state, widgets
from hourglass.config.budgets import planned_lines
from hourglass.experiments.next_money import DAYS_PER_YEAR
from hourglass.i18n import _
from hourglass.kpis import KPIS, Kind, written
from hourglass.plots.budgets import line_names

if TYPE_CHECKING:
    import pandas as pd


def show(choice: state.Choice) -> None:
    """Each budget line's response curve; on Optimise, the best allocation and its check."""
    scenario = choice.scenario
    st.header(_("Budget · {scenario}").format(scenario=widgets.escape(scenario.name)))
    lines = hg.config.budget_lines(scenario)
    if not lines:
        st.info(_("This scenario has no budget lines: give a paid channel or a stage a budget."))
        return
    names = line_names(scenario, choice.labels)
    key = optimisation(choice, lines, names)
    found = st.session_state.get("optimised")
    result = found[1] if found and found[0] == key else None
    optimal = result.optimal if result else None
    # the panels tell the marginal ROI where the money would be: at the optimum once found
    marginal = hg.experiments.marginal_roi(result.scenario if result else scenario)
    st.caption(
        _(
            "Each panel: what money per month on one line does. Marginal ROI is the expected "
            "profit of one more unit of money on that line (analytic expectation, costs "
            "netted), {where}; -1.00 means the line is past its cap: one more unit brings "
            "nothing back."
        ).format(where=_("at the optimum") if result else _("at the current allocation"))
    )
    curves = hg.experiments.line_curves(scenario, reach=optimal)
    widgets.chart(hg.plots.response_figure(curves, marginal, optimal, names), "response-curves")
    if result is not None:
        outcome(choice, result, names)
    plan_editor(choice, names)


def outcome(
    choice: state.Choice, result: hg.experiments.Optimization, names: dict[str, str]
) -> None:
    """The optimiser's table, its check by simulation, its chart and the optimised scenario."""
    scenario = choice.scenario
    (st.success if result.confirmed else st.warning)(widgets.escape(verdict(scenario, result)))
    for line in planned_lines(scenario):
        if result.optimal[line] == result.current[line]:
            st.info(
                _(
                    "{line} follows a month-by-month plan, which the optimiser keeps as it is."
                ).format(line=widgets.escape(names[line]))
            )
    marginal = {
        "current": result.marginal_roi,
        "optimal": hg.experiments.marginal_roi(result.scenario),
    }
    table = allocation_table(result.current, result.optimal, marginal, names)
    st.dataframe(table, hide_index=True, width="stretch")
    widgets.chart(hg.plots.allocation_figure(result.current, result.optimal, names), "allocation")
    widgets.download(
        _("Optimised scenario (YAML)"),
        result.scenario.to_yaml(),
        f"{scenario.name}_optimised.yaml",
        "application/yaml",
    )


def verdict(scenario: hg.Scenario, result: hg.experiments.Optimization) -> str:
    """One sentence on the simulated gain: money per year, counts over the measured days."""
    kpi = KPIS[hg.experiments.OBJECTIVE_KPIS[result.objective]]
    gain = result.gain
    days = scenario.horizon_days - scenario.warmup_days
    if kpi.kind is Kind.MONEY:
        per_year = DAYS_PER_YEAR / days
        change, low, high = (
            money(v * per_year, "year" if i == 0 else None, signed=True)
            for i, v in enumerate((gain.mean, gain.ci_low, gain.ci_high))
        )
    else:
        change, low, high = (written(v, "{:+,.0f}") for v in (gain.mean, gain.ci_low, gain.ci_high))
        change = _("{change} over {days} days").format(change=change, days=written(days, "{:,.0f}"))
    values = {
        "objective": kpi.label(state.choice().language),
        "change": change,
        "pct": written(gain.pct / 100, "{:+.1%}"),
        "low": low,
        "high": high,
        "reps": result.reps,
    }
    if result.confirmed:
        return _(
            "Confirmed by simulation: {objective} {change} ({pct}; 95% interval {low} to "
            "{high}) over {reps} paired replications."
        ).format(**values)
    return _(
        "Not confirmed: the simulated change of {objective}, {change} ({pct}; 95% interval "
        "{low} to {high}) over {reps} paired replications, includes zero or lies below it; "
        "keep the current allocation."
    ).format(**values)


def optimisation(choice: state.Choice, lines: dict[str, float], names: dict[str, str]) -> tuple:
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
            _("Total budget per month"),
            min_value=0.0,
            value=float(sum(lines.values())),
            step=1000.0,
            format="%.0f",
            key=f"total-budget-{tag}",
        )
        objective = middle.selectbox(
            _("Maximise"),
            objectives,
            index=objectives.index("profit"),
            format_func=lambda o: hg.experiments.objective_label(o, choice.language),
            key="objective",
        )
        locked = right.multiselect(
            _("Keep as they are"),
            list(lines),
            format_func=names.__getitem__,
            placeholder=_("Choose lines"),
            key=f"locked-{tag}",
        )
        asked = st.form_submit_button(_("Optimise"), type="primary")
    key = (scenario.to_yaml(), seed, reps, total, objective, tuple(locked))
    if asked and runs.fits(scenario, 2 * reps):
        optimise(choice, key, total, objective, locked)
    return key


def optimise(
    choice: state.Choice, key: tuple, total: float, objective: str, locked: list[str]
) -> None:
    """Run the optimiser and its check under a progress bar; keep the result in the session."""
    scenario, seed, reps = choice.scenario, choice.seed, choice.reps
    bar = st.progress(0.0, text=_("Checking the allocation by simulation"))
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
                progress=lambda d, t: bar.progress(
                    d / t, text=_("Simulating: {done} of {total}").format(done=d, total=t)
                ),
                guard=admit,
                executor=cache.worker_pool(),
            )
        st.session_state.optimised = (key, optimised)
    except (hg.experiments.OptimizeError, hg.ScenarioError, runs.TooBig) as err:
        st.error(widgets.escape(err))
    finally:
        bar.empty()


def plan_editor(choice: state.Choice, names: dict[str, str]) -> None:
    """The planned lines' money month by month, editable; on Show, what the edit changes."""
    scenario = choice.scenario
    planned = planned_lines(scenario)
    if not planned:
        return
    st.subheader(_("Month plan"))
    st.caption(". ".join(widgets.escape(steady_note(scenario, k, names[k])) for k in planned))
    columns = {
        "_index": st.column_config.NumberColumn(_("Month"), format="%d"),
        **{
            line: st.column_config.NumberColumn(names[line], min_value=0.0, format="%,.0f")
            for line in planned
        },
    }
    with st.form("month-plan"):
        edited = st.data_editor(
            month_grid(scenario),
            column_config=columns,
            key=f"plan-{state.version_tag(scenario)}",
            width="stretch",
        )
        st.form_submit_button(_("Show what the change does"))
    plan_effect(scenario, edited, names)


def plan_effect(scenario: hg.Scenario, edited: pd.DataFrame, names: dict[str, str]) -> None:
    """What an edit of the month plan changes: the expected totals and the months it moves."""
    changes = plan_changes(scenario, edited)
    if changes.empty:
        st.caption(_("Change a month's money and press the button to see which months it moves."))
        return
    try:
        changed = with_plan(scenario, edited)
    except hg.ScenarioError as err:
        st.error(widgets.escape(err))
        return
    now, then = hg.theory.expected_outcome(scenario), hg.theory.expected_outcome(changed)
    per_year = DAYS_PER_YEAR / scenario.horizon_days
    st.markdown(
        _(
            "Expected over the run: {buyers} buyers, {profit} in profit (analytic "
            "expectation; the Planner page simulates it)."
        ).format(
            buyers=written(then["buyers"] - now["buyers"], "{:+,.0f}"),
            profit=money((then["profit"] - now["profit"]) * per_year, "year", signed=True),
        )
    )
    words = changes.assign(
        line=changes["line"].map(names),
        planned=changes["planned"].map(money),
        edited=changes["edited"].map(money),
        acting=changes["acting"].map(lambda v: money(v, signed=True)),
    ).rename(
        columns={
            "line": _("Line"),
            "month": _("Month"),
            "planned": _("Planned"),
            "edited": _("Edited"),
            "acting": _("Acting money, change (carry-over included)"),
        }
    )
    st.dataframe(words, hide_index=True, width="stretch")
    widgets.download(
        _("Scenario with this plan (YAML)"),
        changed.to_yaml(),
        f"{scenario.name}_plan.yaml",
        "application/yaml",
    )


if __name__ == "__main__":
    show(state.choice())
