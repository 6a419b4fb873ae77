"""Marketer: where the next money does most, then the levers against the scenario as loaded."""

from __future__ import annotations

import streamlit as st

import hourglass as hg
from hourglass.analysis.money import money
from hourglass.app import runs, state, widgets
from hourglass.app.expected_first import expected_first
from hourglass.config.sections import MAX_SELLERS
from hourglass.experiments import next_money
from hourglass.i18n import _, ngettext
from hourglass.kpis import KPIS, PROFIT_FIRST, written
from hourglass.plots.budgets import line_names


def show(choice: state.Choice) -> None:
    """The next money's answer; the levers in a form; on Run, the KPIs' change on common seeds."""
    scenario, seed, reps = choice.scenario, choice.seed, choice.reps
    st.header(_("Tune the levers · {scenario}").format(scenario=widgets.escape(scenario.name)))
    next_money_answer(choice)
    with expected_first(scenario, PROFIT_FIRST, reps, seed, choice.language) as shown:
        loaded = runs.run(scenario, reps, seed, partial=shown)
    if loaded is None:
        return
    if scenario.segments:
        segments_section(loaded, choice.language)
    overrides, amounts = levers(scenario, choice.labels)
    tuned = widgets.overridden(scenario, {"name": f"{scenario.name}_tuned", **overrides})
    if tuned is None:
        return
    try:
        tuned = hg.config.with_budgets(tuned, amounts)
    except hg.ScenarioError as err:
        st.error(widgets.escape(err))
        return
    with expected_first(tuned, PROFIT_FIRST, reps, seed, choice.language) as shown:
        changed = runs.run(tuned, reps, seed, partial=shown)
    if changed is None:
        return
    # the runs are named for the reader: the charts' legends and the table show these names
    comparison = hg.experiments.compare_runs({_("as loaded"): loaded, _("tuned"): changed})
    st.caption(
        _(
            "Mean of {reps} replications on common random numbers (seed {seed}); the change "
            "is against the scenario as loaded, with its 95% confidence interval below."
        ).format(reps=reps, seed=seed)
    )
    headline(comparison, choice.language)
    with st.expander(_("Every KPI, with 95% confidence intervals")):
        st.dataframe(widgets.comparison_table(comparison), hide_index=True, width="stretch")
    stage_tables = {n: r.stage_summary() for n, r in comparison.runs.items()}
    widgets.chart(
        hg.plots.conversion_bars(stage_tables, labels=choice.labels), "marketer-conversion"
    )
    per_replication = changed.kpis.reset_index()
    per_replication.columns = [
        KPIS[c].label(choice.language) if c in KPIS else _("Replication")
        for c in per_replication.columns
    ]
    widgets.csv_button(per_replication, _("KPIs per replication (CSV)"), "tuned-kpis")


def next_money_answer(choice: state.Choice) -> None:
    """One sentence: the line where the next money does most, its gain confirmed by simulation.

    The expectation shows at once; the simulated gain (scenario with the money against the
    scenario as loaded, on common random numbers) replaces it when it arrives.
    """
    scenario = choice.scenario
    st.subheader(
        _("Where does my next {step} a month do most?").format(
            step=written(next_money.STEP, "{:,.0f}")
        )
    )
    if not hg.config.budget_lines(scenario):
        st.info(_("This scenario has no budget lines: give a paid channel or a stage a budget."))
        return
    ranking = next_money.ranked_lines(scenario)
    names = line_names(scenario, choice.labels)
    top = next(iter(ranking))
    answer = st.empty()
    try:
        more_money = next_money.with_more(scenario, top)
    except hg.ScenarioError as err:  # e.g. more reach than a channel may bring
        answer.warning(widgets.escape(err))
        return
    # Markdown, not an alert box: presentation mode sets paragraphs, not alerts, in large type
    answer.markdown(
        ":material/hourglass_top: "
        + widgets.escape(sentence(next_money.expected_next_money(scenario, top), names))
    )
    st.caption(
        _("Marginal ROI, the expected profit of one more unit of money, by line: {lines}.").format(
            lines=", ".join(
                f"{names[line]} {written(roi, '{:+.2f}')}" for line, roi in ranking.items()
            )
        )
    )
    loaded = runs.run(scenario, choice.reps, choice.seed)
    more = runs.run(more_money, choice.reps, choice.seed)
    if loaded is not None and more is not None:
        paired = hg.experiments.compare_runs({scenario.name: loaded, "more": more})
        found = next_money.simulated_next_money(scenario, top, paired)
        answer.markdown(
            ":material/check_circle: **" + widgets.escape(sentence(found, names)) + "**"
        )


def sentence(found: next_money.NextMoney, names: dict[str, str]) -> str:
    """The answer in words: the line, buyers and profit per year, with intervals if simulated."""
    buyers = found.buyers
    count = ngettext("{n} buyer", "{n} buyers", round(abs(buyers.mean))).format(
        n=written(buyers.mean, "{:+,.0f}")
    )
    values = {
        "step": written(found.step, "{:,.0f}"),
        "line": names[found.line],
        "buyers": count,
        "profit": money(found.profit_per_year.mean, "year", signed=True),
    }
    if not found.simulated:
        return _(
            "The next {step} a month does most in {line}: about {buyers} and profit {profit} "
            "(expected; the simulation is on its way)."
        ).format(**values)
    return _(
        "The next {step} a month does most in {line}: {buyers} ({low} to {high}) and "
        "profit {profit} ({profit_low} to {profit_high}), on common random numbers."
    ).format(
        **values,
        low=written(buyers.low, "{:+,.0f}"),
        high=written(buyers.high, "{:+,.0f}"),
        profit_low=money(found.profit_per_year.low, signed=True),
        profit_high=money(found.profit_per_year.high, signed=True),
    )


def segments_section(result: hg.experiments.Replications, language: str) -> None:
    """Where the profit is: each segment's KPIs (means) and a bar chart of its profit."""
    st.subheader(_("Where the profit is, by segment"))
    table = hg.analysis.segment_summary(result.segments)
    names = {
        "name": _("Segment"),
        **{kpi: KPIS[kpi].label(language) for kpi in ("buyers", "revenue")},
        "cost_to_serve": _("Cost to serve"),
        "margin_after_serve": _("Margin after cost to serve"),
        "profit": KPIS["profit"].label(language),
        "cac": "CAC",
        "ltv": "LTV",
        "ltv_cac": "LTV:CAC",
    }
    shown = table[list(names)].rename(columns=names)
    formats = {
        names[c]: (lambda v: written(v, "{:,.0f}")) for c in names if c not in ("name", "ltv_cac")
    }
    # a static table wraps its headings, so none is cut off however many columns there are
    ratio = {"LTV:CAC": lambda v: written(v, "{:.1f}")}
    st.table(shown.style.format({**formats, **ratio}).hide(axis="index"))
    st.caption(
        _(
            "Means over the replications. CAC counts each segment's share of the spend on "
            "the channels that brought it; LTV is the margin on its buyers' purchases, before "
            "the cost to serve them."
        )
    )
    widgets.chart(hg.plots.segment_profit_figure(result.segments), "marketer-segments")


def levers(scenario: hg.Scenario, labels: str) -> tuple[dict[str, float], dict[str, float]]:
    """The form of levers: field overrides, and the money per month on each budget line."""
    tag = state.version_tag(scenario)
    overrides: dict[str, float] = {}
    with st.form("levers"):
        money, funnel, team = st.columns(3)
        with money:
            st.markdown("**" + _("Budgets per month") + "**")
            amounts = budgets(scenario, tag, labels)
            if scenario.referral:
                overrides["referral.bonus"] = st.number_input(
                    _("Referral bonus per referred buyer"),
                    min_value=0.0,
                    value=float(scenario.referral.bonus),
                    step=5.0,
                    format="%.0f",
                    key=f"bonus-{tag}",
                )
        with funnel:
            st.markdown("**" + _("Pass probability") + "**")
            names = hg.stages.LABELS[labels]
            for stage, spec in scenario.funnel:
                overrides[f"stages.{stage}.pass_prob"] = percent_slider(
                    names[stage], spec.pass_prob, f"pass-{tag}-{stage}"
                )
        with team:
            st.markdown("**" + _("Sales team") + "**")
            if scenario.sales and scenario.sales.sellers:
                overrides["sales.sellers"] = st.number_input(
                    _("Sellers"),
                    min_value=1,
                    max_value=MAX_SELLERS,
                    value=scenario.sales.sellers,
                    key=f"sellers-{tag}",
                )
            else:
                st.caption(_("This scenario has no sales team."))
        st.form_submit_button(_("Run"), type="primary")
    return overrides, amounts


def percent_slider(label: str, probability: float, key: str) -> float:
    """A probability on a slider of whole percents (55 %), the same in every language.

    Streamlit writes a slider's decimals with a point whatever the reader's language, so
    whole percents are shown. Left where it starts, the scenario's own value is kept.
    """
    start = round(probability * 100)
    chosen = st.slider(label, 0, 100, start, 1, format="%d %%", key=key)
    return probability if chosen == start else chosen / 100


def budgets(scenario: hg.Scenario, tag: str, labels: str) -> dict[str, float]:
    """A money input per budget line: paid channels, then stage budgets."""
    amounts = {}
    for line, name in line_names(scenario, labels).items():
        amounts[line] = st.number_input(
            widgets.escape(name),
            min_value=0.0,
            value=float(hg.config.budget_lines(scenario)[line]),
            step=500.0,
            format="%.0f",
            key=f"budget-{tag}-{line}",
        )
    return amounts


def headline(comparison: hg.experiments.Comparison, language: str) -> None:
    """The tuned scenario's KPIs, profit and payback first, each with its change.

    A change whose 95% interval includes zero is grey: it is within the noise.
    """
    table = comparison.table.set_index("kpi")
    for column, kpi in zip(widgets.grid(len(PROFIT_FIRST)), PROFIT_FIRST, strict=True):
        row = table.loc[kpi]
        widgets.kpi_metric(
            column,
            kpi,
            row["mean"],
            language,
            change=(row["delta"], row["base"]),
            noise=not row["clear"],
            help=None
            if row["clear"]
            else _("Within the noise: the 95% interval includes no change."),
        )


if __name__ == "__main__":
    show(state.choice())
