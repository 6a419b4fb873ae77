"""Planner: customers and revenue month by month, with the simulation's p5-p95 in words.

The theory's expectation is drawn at once, the simulated bands when they arrive. The
horizon applies when its button is pressed, not at every step of the slider. A second mode
forecasts the reader's own customers from an uploaded transaction log.

The scenario is simulated once to the longest horizon offered (36 months) and every
horizon is cut from that one simulation, so changing the horizon simulates nothing.
Replications are cut to what the dashboard's work budget admits, with a note, rather than
the page being refused; when not even two runs of 36 months fit, the chosen horizon alone
is simulated.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from babel.dates import format_date

import hourglass as hg
from hourglass.analysis import forecast
from hourglass.app import cache, runs, state, widgets
from hourglass.app.runs import Load
from hourglass.config.business import days_in_months
from hourglass.experiments.replication import summarize
from hourglass.i18n import _, grouped
from hourglass.kpis import KPIS
from hourglass.plots.forecast import forecast_figure, k_factor_figure, month_label
from hourglass.stages import DAYS_PER_MONTH, LABELS, channel_label

# The longest horizon offered, in months.
LONGEST_MONTHS = 36
SHORTEST_MONTHS = 3
# Between a range's ends: a hyphen could read as a minus sign.
RANGE_DASH = "\N{EN DASH}"
# Marks a K-factor whose window is not yet complete.
AT_LEAST_LOWER_BOUND = "≥ "
THEORY_COLOUR = "#444444"


def show(choice: state.Choice) -> None:
    """The forecast from the scenario, or from the reader's own transaction log."""
    scenario = choice.scenario
    if st.session_state.get("planner-mode") == "log":
        st.header(_("Forecast · my customers"))
    else:
        st.header(_("Forecast · {name}").format(name=widgets.escape(scenario.name)))
    modes = mode_names()
    left, right = st.columns(2)
    mode = left.segmented_control(
        _("Forecast from"),
        list(modes),
        default="scenario",
        format_func=modes.get,
        key="planner-mode",
    )
    if mode == "log":
        from hourglass.app.pages import planner_forecast  # the forecast's fitting: when asked

        planner_forecast.show(choice)
        return
    with right:
        horizon_form(scenario)
    from_scenario(choice)


def from_scenario(choice: state.Choice) -> None:
    """A horizon in months; the forecast's headline, monthly chart, table and spend plan.

    The theory's expectation is drawn at once; the simulated bands replace it when they come.
    """
    scenario = choice.scenario
    start = scenario.start_date or forecast.next_month_start(datetime.date.today())
    horizon = st.session_state[f"horizon-{scenario.name}"]
    st.caption(starts_on(start, choice.language, dated=scenario.start_date is not None))
    days = days_in_months(start, horizon)
    expected = forecast.expected_months(hg.theory.expected_daily(scenario, days), start, days)
    labels = [month_label(m, choice.language) for m in expected["month"]]
    spend = forecast.monthly_spend(scenario, start, days)
    names = spend_names(choice) | series_names()
    headline_slot, chart_slot = st.empty(), st.empty()
    plan = simulation_plan(choice, start, horizon)
    if plan is None:
        return
    if cache.cached(cache.result_key(plan.scenario, plan.reps, choice.seed)) is None:
        # the theory alone while the runs go on; a horizon cut from stored runs skips it
        chart_slot.plotly_chart(
            widgets.as_shown(
                with_theory(forecast_figure(NO_BANDS, spend, labels, names), expected, labels)
            ),
            width="stretch",
        )
    result = runs.run(plan.scenario, plan.reps, choice.seed)
    if result is None:
        return
    simulated_days = plan.days
    months = forecast.calendar_months(result.daily, start, days)
    k = forecast.monthly_k_factor(months, start, simulated_days)
    band = _("p5-p95 of {n} runs: simulation noise only; parameter uncertainty is not included")
    band = band.format(n=result.reps)
    with headline_slot.container():
        headline(result.daily, months, k, days, choice.language)
        st.caption(band)
    monthly = month_bands(months, k)
    figure = forecast_figure(tidy(monthly, ["active_customers", "revenue"]), spend, labels, names)
    with chart_slot.container():
        widgets.chart(with_theory(figure, expected, labels), "forecast", band=band)
        st.caption(
            _(
                "Dashed: the theory's expectation from the rates, with the sellers' queues taken "
                "as steady month by month, and without antagonists or a market running short "
                "of new people; where the simulated band parts from it, those are at work."
            )
        )
    month_by_month(monthly, spend, labels, band)
    target_form(choice)


def target_form(choice: state.Choice) -> None:
    """Reach a target: the budget a month whose expectation meets it, and how often runs do."""
    from hourglass.experiments import targets  # scipy's root finder: when the page shows

    st.subheader(_("Reach a target"))
    with st.form("target", border=False):
        what, number, month, button = st.columns([2, 2, 2, 1], vertical_alignment="bottom")
        names = {name: targets.target_noun(name).capitalize() for name in targets.TARGETS}
        target_of = what.selectbox(_("Target"), list(names), format_func=names.get, key="target-of")
        value = number.number_input(
            _("Number to reach"),
            min_value=1.0,
            value=1000.0,
            step=100.0,
            format="%.0f",
            key="target-value",
        )
        by = month.number_input(
            _("By month"), min_value=1, max_value=LONGEST_MONTHS, value=12, key="target-month"
        )
        pressed = button.form_submit_button(_("Find the budget"), width="stretch")
    if not pressed:
        return
    try:
        spec, budget, expected, notes = targets.budget_for(choice.scenario, target_of, value, by)
    except targets.TargetError as err:
        st.error(widgets.escape(err))
        return
    result = runs.run(spec, choice.reps, choice.seed)
    if result is None:
        return
    found = targets.Found(target_of, value, int(by), budget, expected, notes)
    reach = targets.reach_from(result, found)
    left, right = st.columns(2)
    left.metric(_("Budget a month"), grouped(reach.budget, 0))
    chance = reach.chance
    right.metric(
        _("Chance of reaching it"),
        f"{grouped(100 * chance['share'], 0)}%",
        delta=f"{grouped(100 * chance['ci_low'], 0)}{RANGE_DASH}"
        f"{grouped(100 * chance['ci_high'], 0)}%",
        delta_color="gray",
        delta_arrow="off",
        help=_("The share of runs that reach the target, with its 95% interval"),
    )
    st.caption(widgets.escape(reach.sentence()))
    for note in reach.notes:
        st.caption(widgets.escape(note))


def month_by_month(
    monthly: pd.DataFrame, spend: pd.DataFrame, labels: list[str], band: str
) -> None:
    """The monthly table with its CSV, and each month's K-factor."""
    table = month_table(monthly, spend, labels)
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(
        _(
            "Each cell: the median, then p5-p95 in brackets. ≥: the month's buyers had less "
            "than 6 months to refer before the simulation ended, so their K-factor is a "
            "lower bound."
        )
    )
    widgets.csv_button(month_csv(monthly, spend), _("Monthly forecast (CSV)"), "monthly-forecast")
    widgets.chart(
        k_factor_figure(monthly["k_factor"], list(monthly["complete", ""]), labels),
        "k-factor",
        band=band,
    )


# The forecast figure before the simulation arrives: the theory alone.
NO_BANDS = pd.DataFrame(columns=["series", "month", "p5", "p50", "p95"])


def horizon_form(scenario: hg.Scenario) -> None:
    """The horizon in months, applied when its button is pressed (not at every step)."""
    with st.form("horizon", border=False):
        slider, button = st.columns([4, 1], vertical_alignment="bottom")
        slider.slider(
            _("Forecast horizon (months)"),
            min_value=SHORTEST_MONTHS,
            max_value=LONGEST_MONTHS,
            value=default_months(scenario),
            key=f"horizon-{scenario.name}",  # each scenario starts at its own horizon
        )
        button.form_submit_button(_("Show"), width="stretch")


def mode_names() -> dict[str, str]:
    """The Planner's two modes, named in the reader's language."""
    return {"scenario": _("From the scenario"), "log": _("My customers (transaction log)")}


def with_theory(fig: go.Figure, expected: pd.DataFrame, labels: list[str]) -> go.Figure:
    """The forecast figure with the theory's expectation as dashed lines over its two plots."""
    name = _("theory, no noise")
    for row, series in enumerate(("active_customers", "revenue"), start=1):
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=expected[series],
                name=name,
                line={"dash": "dash", "color": THEORY_COLOUR},
                showlegend=row == 1,
                legendgroup="theory",
                hovertemplate="%{y:,.0f}<extra>" + name + "</extra>",
            ),
            row=row,
            col=1,
        )
    return fig


def default_months(scenario: hg.Scenario) -> int:
    """The scenario's own horizon in whole months, within the slider's range."""
    months = round(scenario.horizon_days / DAYS_PER_MONTH)
    return min(max(months, SHORTEST_MONTHS), LONGEST_MONTHS)


def starts_on(start: datetime.date, language: str, *, dated: bool) -> str:
    """Where the forecast's calendar starts, and why there when the scenario names no date."""
    day = format_date(start, "long", locale=language)
    if dated:
        return _("Month 1 starts on {date}, the scenario's start date.").format(date=day)
    return _(
        "The scenario names no start date (`start_date`), so month 1 starts on the first of "
        "next month: {date}."
    ).format(date=day)


@dataclass(frozen=True)
class SimulationPlan:
    """What the forecast is cut from: the scenario to simulate, its replications and days."""

    scenario: hg.Scenario
    reps: int
    days: float


def simulation_plan(
    choice: state.Choice, start: datetime.date, horizon: int
) -> SimulationPlan | None:
    """The replications to cut the forecast from and the days they span; None if refused.

    To the longest horizon offered when two or more of its runs fit the work budget, else
    to the horizon itself.
    """
    for months in (LONGEST_MONTHS, horizon):
        days = float(days_in_months(start, months))
        longest = widgets.overridden(choice.scenario, {"horizon_days": days})
        if longest is None:
            return None
        reps = affordable_reps(longest, choice.reps)
        if reps >= min(2, choice.reps) or months == horizon:
            break
    if reps < choice.reps:
        st.info(
            _(
                "{wanted} replications of {months} months are more work than the dashboard "
                "runs at once; {reps} are simulated. For more, use the command line: "
                "`hourglass run`."
            ).format(wanted=choice.reps, months=months, reps=max(reps, 1))
        )
    return SimulationPlan(longest, max(reps, 1), days)


def affordable_reps(scenario: hg.Scenario, wanted: int) -> int:
    """The most replications, up to `wanted`, that the dashboard's work budget admits."""
    one = runs.estimate(scenario, 1)
    for reps in range(wanted, 0, -1):
        if runs.refusal(one.times(reps), Load(), Load(), cache.WORKERS) is None:
            return reps
    return 0


def headline(
    daily: pd.DataFrame, months: pd.DataFrame, k: pd.DataFrame, days: int, language: str
) -> None:
    """Customers at the horizon, buyers, revenue and the window K-factor, each with its range."""
    cut = daily[daily["day"] < days].groupby("rep")
    values = {
        "customers_end": cut["active_customers"].last(),
        "buyers": cut["buyers"].sum(),
        "revenue": cut["revenue"].sum(),
        "k_factor": forecast.pooled_k_factor(months, k),
    }
    for column, (name, per_rep) in zip(st.columns(len(values)), values.items(), strict=True):
        s = summarize(per_rep.to_numpy(dtype=float))
        fmt = KPIS[name].format
        # the range under the median: beside it, a projector's column cuts it off
        column.metric(
            KPIS[name].label(language) if name != "k_factor" else _("K-factor, 6 months"),
            fmt(s["p50"], compact=True),
            delta=f"{fmt(s['p5'], compact=True)}{RANGE_DASH}{fmt(s['p95'], compact=True)}",
            delta_color="gray",
            delta_arrow="off",
            help=_("Buyers referred within 6 months of a buyer's first purchase, per buyer")
            if name == "k_factor"
            else None,
        )


def ranged(kpi: str, stats: dict[str, float]) -> str:
    """The median with its p5-p95 range, as the KPI writes them: 6,186 (5,912 to 6,430)."""
    fmt = KPIS[kpi].format
    p5, p50, p95 = (fmt(stats[p], compact=True) for p in ("p5", "p50", "p95"))
    return f"{p50} ({p5}{RANGE_DASH}{p95})"


# The monthly table's measures, as KPIs format them.
MEASURES = ("buyers", "revenue", "active_customers", "k_factor")
MEASURE_KPI = {"active_customers": "customers_end"}


def month_bands(months: pd.DataFrame, k: pd.DataFrame) -> pd.DataFrame:
    """Per month (index) and measure: p5, p50, p95 across replications; and `complete`.

    Columns are (measure, statistic) pairs; `complete` says whether the month's K-factor
    window ended within the simulation.
    """
    grouped = months.assign(k_factor=k["k_factor"]).groupby("month")
    parts = {
        measure: pd.DataFrame(
            {m: summarize(v.to_numpy(dtype=float)) for m, v in grouped[measure]}
        ).T
        for measure in MEASURES
    }
    out = pd.concat(parts, axis=1)
    out["complete", ""] = k.groupby(months["month"])["complete"].all()
    return out


def tidy(monthly: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    """Month bands as the figures take them: one row per series and month."""
    return pd.concat(
        [monthly[m].assign(series=m).rename_axis("month").reset_index() for m in measures],
        ignore_index=True,
    )


def series_names() -> dict[str, str]:
    """The measures' names in the reader's language."""
    return {
        "buyers": _("New buyers"),
        "revenue": _("Revenue"),
        "active_customers": _("Active customers"),
        "k_factor": _("K-factor"),
    }


def spend_names(choice: state.Choice) -> dict[str, str]:
    """The spend lines' names: channels and stages in the reader's words."""
    names = {
        line: _("channel {name}").format(name=channel_label(line))
        for line in choice.scenario.channels.paid
    }
    names |= LABELS[choice.labels]
    names[forecast.SELLERS] = _("sellers' pay")
    return names


def month_table(monthly: pd.DataFrame, spend: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """The monthly forecast as read: each cell the median with its range."""
    names = series_names()
    table = pd.DataFrame({_("Month"): labels})
    for measure in MEASURES:
        kpi = MEASURE_KPI.get(measure, measure)
        cells = [ranged(kpi, row) for row in monthly[measure].to_dict("records")]
        if measure == "k_factor":
            cells = [
                c if done else AT_LEAST_LOWER_BOUND + c
                for c, done in zip(cells, monthly["complete", ""], strict=True)
            ]
        table[names[measure]] = cells
    total = spend.drop(columns="month").sum(axis=1).to_numpy()
    table[_("Planned spend")] = [KPIS["cost"].format(v) for v in total]
    return table


def month_csv(monthly: pd.DataFrame, spend: pd.DataFrame) -> pd.DataFrame:
    """The monthly forecast as numbers: each measure's p5, p50 and p95, and the spend."""
    names = series_names()
    table = pd.DataFrame({_("Month"): [str(m) for m in monthly.index]})
    for measure in MEASURES:
        for p in ("p50", "p5", "p95"):
            table[f"{names[measure]} {p}"] = monthly[measure][p].to_numpy()
    table[_("K-factor window complete")] = monthly["complete", ""].to_numpy()
    table[_("Planned spend")] = spend.drop(columns="month").sum(axis=1).to_numpy()
    return table


if __name__ == "__main__":
    show(state.choice())
