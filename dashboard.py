"""The hourglass dashboard: a Streamlit shell over the hourglass library's public API.

    streamlit run dashboard.py

Pages: Trainer (the hourglass of one run, its flows and the theory beside it), Marketer
(budgets, pass probabilities, sellers and bonus against the scenario as loaded), Planner
(customers, referral share and K-factor over a forecast horizon, with p5-p95 bands),
Compare (two to four scenarios on common random numbers) and Scenario (edit, upload,
download). Nothing here models anything: every number comes from `hourglass`.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import plotly.graph_objects as go
import streamlit as st

import hourglass as hg

if TYPE_CHECKING:
    import pandas as pd  # imported where used: the theory sketch goes out before it loads

SCENARIO_DIR = Path(__file__).parent / "scenarios"
MAX_UPLOAD_BYTES = 256_000  # larger scenario uploads are refused unread
MAX_CSV_BYTES = 50_000_000  # and larger CSV exports
MAX_PROSPECT_RUNS = 3_000_000  # prospects x replications per request: a page answers in a minute
CACHE_SIZE = 24  # results kept per server, by scenario, seed and replications
PAGES = (
    "Trainer",
    "Marketer",
    "Budget",
    "Planner",
    "Compare",
    "B2B deals",
    "Network",
    "Scenario",
    "Import data",
)
OBJECTIVES = {
    "Profit": "profit",
    "Buyers": "buyers",
    "Revenue": "revenue",
    "Customers": "customers",
}
HEADLINE = ("buyers", "revenue", "cac", "ltv", "roi", "referral_share", "k_factor")
KPI_NAMES = {
    "buyers": "Buyers",
    "revenue": "Revenue",
    "cac": "CAC",
    "ltv": "LTV",
    "roi": "ROI",
    "referral_share": "Referral share",
    "k_factor": "K-factor",
    "customers_end": "Customers at the end",
    "prospects": "Prospects",
    "cost": "Cost",
}
KPI_FORMATS = {
    "revenue": "{:,.0f}",
    "cost": "{:,.0f}",
    "cac": "{:,.2f}",
    "ltv": "{:,.2f}",
    "roi": "{:+.0%}",
    "referral_share": "{:.1%}",
    "k_factor": "{:.3f}",
}
LOWER_IS_BETTER = frozenset({"cac", "cost"})
LANGUAGES = {"English": "en", "Русский": "ru"}


# -- scenarios ---------------------------------------------------------------------------------


@st.cache_data
def shipped_scenarios() -> dict[str, str]:
    """The shipped scenario files' text, by scenario name (each file is named as its scenario,
    so only the chosen one needs validating before the first chart)."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SCENARIO_DIR.glob("*.yaml"))}


@st.cache_resource(max_entries=64)
def parse(text: str, source: str) -> hg.Scenario:
    """A scenario text, validated (scenarios are frozen, so one is shared by all sessions);
    nothing it names is opened on the server."""
    return hg.config.parse_scenario_text(text, source, files=False)


def library() -> dict[str, str]:
    """This browser session's scenarios (shipped, uploaded, edited): name -> YAML text."""
    if "library" not in st.session_state:
        st.session_state.library = dict(shipped_scenarios())
    return st.session_state.library


def scenario_of(name: str) -> hg.Scenario:
    """The named scenario of this session, validated."""
    return parse(library()[name], f"{name}.yaml")


def add_scenario(text: str, source: str) -> str:
    """Validate a scenario text and keep it in this session; its name is returned."""
    name = parse(text, source).name
    library()[name] = text
    return name


# -- running ---------------------------------------------------------------------------------


@st.cache_resource
def result_store() -> tuple[OrderedDict, threading.Lock]:
    """Results shared by all sessions, (scenario YAML, seed, reps) -> Replications, and the
    lock their threads take to use them."""
    return OrderedDict(), threading.Lock()


def result_key(scenario: hg.Scenario, reps: int, seed: int) -> tuple[str, int, int]:
    """What a result is cached by; name and description do not change the numbers."""
    content = scenario.model_copy(update={"name": "scenario", "description": ""})
    return content.to_yaml(), seed, reps


def run(scenario: hg.Scenario, reps: int, seed: int) -> hg.experiments.Replications | None:
    """Replications of a scenario, from the cache or simulated under a progress bar."""
    key = result_key(scenario, reps, seed)
    store, lock = result_store()
    with lock:
        if key in store:
            store.move_to_end(key)
            return store[key]
    outside = hg.theory.expected_prospects(scenario)
    if outside > MAX_PROSPECT_RUNS:
        st.error(
            f"'{scenario.name}' would bring about {outside:,.0f} prospects in one run; the "
            f"dashboard stops at {MAX_PROSPECT_RUNS:,}. Shorten the horizon or lower the "
            "arrivals, or run it headless: hourglass run SCENARIO."
        )
        return None
    if reps > 1 and not measured_size(scenario, seed, reps):
        return None
    bar = st.progress(0.0, text=f"Simulating {scenario.name}: 0 of {reps} replications")

    def tick(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Simulating {scenario.name}: {done} of {total}")

    try:
        result = hg.replicate(scenario, reps, seed, "processes", progress=tick)
    except hg.experiments.ReplicationError as err:
        st.error(f"The simulation failed: {err}")
        return None
    finally:
        bar.empty()
    with lock:
        store[key] = result
        while len(store) > CACHE_SIZE:
            store.popitem(last=False)
    return result


def version_tag(scenario: hg.Scenario) -> str:
    """A short tag of a scenario's content: controls keyed by it start from its own values."""
    return hashlib.sha1(scenario.to_yaml().encode("utf-8")).hexdigest()[:10]


def with_overrides(scenario: hg.Scenario, overrides: dict) -> hg.Scenario | None:
    """The scenario with some values changed, or None after showing why they are refused."""
    try:
        return scenario.with_overrides(overrides)
    except hg.ScenarioError as err:
        st.error(str(err))
        return None


# -- showing ---------------------------------------------------------------------------------


def chart(fig: go.Figure, name: str) -> None:
    """A figure with a PNG download (drawn by kaleido only when asked for)."""
    st.plotly_chart(fig, width="stretch", key=f"chart-{name}")
    st.download_button(
        "PNG",
        data=png_of(fig),
        file_name=f"{name}.png",
        mime="image/png",
        key=f"png-{name}",
        on_click="ignore",
        icon=":material/download:",
    )


def png_of(fig: go.Figure) -> Callable[[], bytes]:
    """A deferred PNG rendering of the figure."""
    return lambda: fig.to_image(format="png", width=1400, height=800, scale=1)


def csv_button(frame: pd.DataFrame, label: str, name: str) -> None:
    """A CSV download of a table."""
    st.download_button(
        label,
        data=frame.to_csv(index=False).encode("utf-8"),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"csv-{name}",
        on_click="ignore",
        icon=":material/download:",
    )


def fmt(kpi: str, value: float) -> str:
    """A KPI value as people read it; millions shortened, so that it fits a column."""
    if value is None or math.isnan(value):
        return "n/a"
    if abs(value) >= 1e6 and kpi not in ("roi", "referral_share"):
        return f"{value / 1e6:,.2f} M"
    return KPI_FORMATS.get(kpi, "{:,.0f}").format(value)


# -- pages -----------------------------------------------------------------------------------


def trainer_page(scenario: hg.Scenario, seed: int, labels: str) -> None:
    """The hourglass of one run, how it fills, its flows, and the theory beside it."""
    st.header(f"The hourglass · {scenario.name}")
    st.caption(
        f"{scenario.description} One simulated run of {scenario.horizon_days:g} days "
        f"(seed {seed}); the Planner page shows the spread across runs."
    )
    left, right = st.columns([3, 2])
    with right:
        st.subheader("As theory expects")
        # plain SVG inline: on screen at once, while the run goes on and plotly's script loads
        st.markdown(sketch(scenario, labels), unsafe_allow_html=True)
        st.caption("The funnel for the outside prospects the channels should bring.")
    result = run(scenario, 1, seed)
    if result is None:
        return
    stages = result.stage_summary()
    kpis = result.kpis.iloc[0]
    expected = hg.theory.expected_entries(
        scenario, kpis["outside_prospects"], kpis["referred_prospects"]
    )
    lower = {"repeat": kpis["repeat_purchases"], "refer": kpis["referred_prospects"]}
    with left:
        figure = hg.plots.hourglass_figure(stages, labels=labels, expected=expected, lower=lower)
        chart(figure, "hourglass")
        st.caption(
            "Above Buy a bar is the people who entered the stage, with the share who passed. "
            "Below it, Repeat counts repeat purchases and Refer the prospects that referrals "
            "brought: the hourglass widens again as customers come back and bring others."
        )
    with right:
        st.subheader("Simulated and expected")
        st.dataframe(
            theory_table(stages, expected, labels),
            hide_index=True,
            width="stretch",
            column_config=THEORY_COLUMNS,
        )
        st.caption(
            "Expected: an absorbing Markov chain over the funnel, fed the simulated prospects. "
            "The simulation falls short of it where leads go cold waiting for a seller "
            "and where antagonists talk prospects out of it."
        )
    daily_mean = result.daily.groupby("day").mean()
    chart(
        hg.plots.hourglass_animation(hg.analysis.filling(daily_mean), labels=labels),
        "hourglass-filling",
    )
    chart(hg.plots.sankey_figure(stages, result.losses, labels=labels), "flows")
    csv_button(stages, "Stage table (CSV)", "stages")


def sketch(scenario: hg.Scenario, labels: str) -> str:
    """The funnel of outside prospects as theory expects it, as SVG: the browser draws it at
    once, while the simulation runs and plotly's script loads."""
    expected = hg.theory.expected_entries(
        scenario, hg.theory.expected_outside_prospects(scenario), 0.0
    )
    return hg.plots.theory_svg(expected, labels=labels)


def theory_table(stages: pd.DataFrame, expected: dict[str, float], labels: str) -> pd.DataFrame:
    """Per funnel stage: simulated entries, the expectation, and their gap."""
    import pandas as pd

    simulated = stages.set_index("stage")["entered"].reindex(hg.stages.FUNNEL)
    theory = pd.Series(expected).reindex(hg.stages.FUNNEL)
    return pd.DataFrame(
        {
            "stage": [hg.stages.LABELS[labels][s] for s in hg.stages.FUNNEL],
            "simulated": simulated.to_numpy(),
            "expected": theory.round().to_numpy(),
            "gap": (simulated / theory.where(theory > 0) - 1).to_numpy(),
        }
    )


THEORY_COLUMNS = {
    "simulated": st.column_config.NumberColumn(format="localized"),
    "expected": st.column_config.NumberColumn(format="localized"),
    "gap": st.column_config.NumberColumn(format="percent"),
}


def marketer_page(scenario: hg.Scenario, seed: int, reps: int, labels: str) -> None:
    """Tune budgets, pass probabilities, sellers and bonus; see the KPIs move."""
    st.header(f"Tune the levers · {scenario.name}")
    names = hg.stages.LABELS[labels]
    tag = version_tag(scenario)
    overrides: dict[str, float] = {}
    amounts: dict[str, float] = {}
    with st.form("levers"):
        money, funnel, team = st.columns(3)
        with money:
            st.markdown("**Budgets per month**")
            for line, amount in hg.config.budget_lines(scenario).items():
                label = line if line in scenario.channels.paid else f"{line} (stage budget)"
                amounts[line] = st.number_input(
                    label,
                    min_value=0.0,
                    value=float(amount),
                    step=500.0,
                    key=f"budget-{tag}-{line}",
                )
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
                    max_value=10_000,
                    value=scenario.sales.sellers,
                    key=f"sellers-{tag}",
                )
            else:
                st.caption("This scenario has no sales team.")
        st.form_submit_button("Run", type="primary")
    tuned = with_overrides(scenario, {"name": f"{scenario.name}_tuned", **overrides})
    if tuned is None:
        return
    try:
        tuned = hg.config.with_budgets(tuned, amounts)
    except hg.ScenarioError as err:
        st.error(str(err))
        return
    loaded, changed = run(scenario, reps, seed), run(tuned, reps, seed)
    if loaded is None or changed is None:
        return
    comparison = hg.experiments.compare_runs({scenario.name: loaded, tuned.name: changed})
    st.caption(
        f"Mean of {reps} replications on common random numbers (seed {seed}); the change is "
        "against the scenario as loaded, with its 95% confidence interval below."
    )
    delta = comparison.table.set_index("kpi")
    for column, kpi in zip(st.columns(len(HEADLINE)), HEADLINE, strict=True):
        row = delta.loc[kpi]
        noise = not row["ci_low"] > 0 and not row["ci_high"] < 0  # the CI holds no change
        column.metric(
            KPI_NAMES[kpi],
            fmt(kpi, row["mean"]),
            delta=f"{row['delta_pct']:+.1f}%" if row["delta"] else None,
            delta_color="off" if noise else "inverse" if kpi in LOWER_IS_BETTER else "normal",
            help="Within the noise: the 95% interval includes no change." if noise else None,
        )
    with st.expander("Every KPI, with 95% confidence intervals"):
        st.dataframe(comparison_table(comparison), hide_index=True, width="stretch")
    stage_tables = {n: r.stage_summary() for n, r in comparison.runs.items()}
    chart(hg.plots.conversion_bars(stage_tables, labels=labels), "marketer-conversion")
    csv_button(changed.kpis.reset_index(), "KPIs per replication (CSV)", "tuned-kpis")


def budget_page(scenario: hg.Scenario, seed: int, reps: int) -> None:
    """Response curves with marginal returns; an optimal allocation, confirmed by simulation."""
    st.header(f"Budget · {scenario.name}")
    lines = hg.config.budget_lines(scenario)
    if not lines:
        st.info("This scenario has no budget lines: give a paid channel or a stage a budget.")
        return
    marginal = hg.experiments.marginal_roi(scenario)
    tag = version_tag(scenario)
    st.caption(
        "Each panel: what money per month on one lever does. Marginal ROI is the expected "
        "profit of one more unit of money on that line (analytic expectation, costs netted)."
    )
    with st.form("optimise"):
        left, middle, right = st.columns(3)
        total = left.number_input(
            "Total budget per month",
            min_value=0.0,
            value=float(sum(lines.values())),
            step=1000.0,
            key=f"total-budget-{tag}",
        )
        objective = middle.selectbox("Maximise", list(OBJECTIVES), key="objective")
        locked = right.multiselect("Keep as they are", list(lines), key=f"locked-{tag}")
        asked = st.form_submit_button("Optimise", type="primary")
    key = (scenario.to_yaml(), seed, reps, total, objective, tuple(locked))
    if asked and measured_size(scenario, seed, 2 * reps):
        bar = st.progress(0.0, text="Checking the allocation by simulation")
        try:
            st.session_state.optimised = (
                key,
                hg.optimize(
                    scenario,
                    total,
                    OBJECTIVES[objective],
                    hg.experiments.Constraints(locked=frozenset(locked)),
                    reps=reps,
                    seed=seed,
                    progress=lambda d, t: bar.progress(d / t, text=f"Simulating: {d} of {t}"),
                    guard=lambda best: within_cap(best, reps),
                ),
            )
        except (hg.experiments.OptimizeError, hg.ScenarioError, TooBig) as err:
            st.error(str(err))
        finally:
            bar.empty()
    found = st.session_state.get("optimised")
    result = found[1] if found and found[0] == key else None
    optimal = result.optimal if result else None
    curves = hg.experiments.line_curves(scenario, reach=optimal)
    chart(hg.plots.response_figure(curves, marginal, optimal), "response-curves")
    if result is None:
        return
    (st.success if result.confirmed else st.warning)(result.verdict())
    for note in result.notes:
        st.info(note)
    chart(hg.plots.allocation_figure(result.current, result.optimal), "allocation")
    st.download_button(
        "Optimised scenario (YAML)",
        data=result.scenario.to_yaml().encode("utf-8"),
        file_name=f"{scenario.name}_optimised.yaml",
        mime="application/yaml",
        on_click="ignore",
        icon=":material/download:",
    )


class TooBig(Exception):
    """A run the dashboard will not simulate; the message says why."""


def within_cap(scenario: hg.Scenario, runs: int) -> None:
    """Raise TooBig if `runs` runs of the scenario would bring more prospects than the cap."""
    outside = hg.theory.expected_outside_prospects(scenario)
    if outside * runs > MAX_PROSPECT_RUNS:
        raise TooBig(
            f"the optimal allocation would bring about {outside:,.0f} outside prospects per "
            f"run, {outside * runs:,.0f} in {runs} runs; the dashboard stops at "
            f"{MAX_PROSPECT_RUNS:,}. Use a smaller total or fewer replications, or the "
            "command line: hourglass optimize SCENARIO --budget AMOUNT."
        )


def measured_size(scenario: hg.Scenario, seed: int, runs: int) -> bool:
    """Whether `runs` runs of the scenario fit under the cap; says why not if they do not."""
    first = run(scenario, 1, seed)
    if first is None:
        return False
    per_run = max(float(first.kpis["prospects"].iloc[0]), 1.0)
    if per_run * runs > MAX_PROSPECT_RUNS:
        st.error(
            f"'{scenario.name}' brings about {per_run:,.0f} prospects per run, so {runs} runs "
            f"would simulate {per_run * runs:,.0f}; the dashboard stops at "
            f"{MAX_PROSPECT_RUNS:,}, about {int(MAX_PROSPECT_RUNS // per_run)} runs of it. Use "
            "fewer replications or a shorter horizon, or the command line (hourglass run, "
            "compare, optimize), which has no cap."
        )
        return False
    return True


def comparison_table(comparison: hg.experiments.Comparison) -> pd.DataFrame:
    """The comparison's KPI rows, rounded for reading."""
    table = comparison.table
    return table[["scenario", "kpi", "mean", "delta", "ci_low", "ci_high", "delta_pct"]].round(4)


def planner_page(scenario: hg.Scenario, seed: int, reps: int) -> None:
    """Customers, referral share and K-factor over a forecast horizon, with p5-p95 bands."""
    st.header(f"Forecast · {scenario.name}")
    horizon = st.slider(
        "Forecast horizon (days)",
        min_value=90,
        max_value=1095,
        value=int(min(max(scenario.horizon_days, 90), 1095)),
        step=30,
        key=f"horizon-{scenario.name}",  # each scenario starts at its own horizon
    )
    forecast = with_overrides(scenario, {"horizon_days": float(horizon)})
    if forecast is None:
        return
    result = run(forecast, reps, seed)
    if result is None:
        return
    st.caption(
        f"{reps} simulated futures (seed {seed}): the line is the median, the band holds "
        "the middle 90% of them (p5 to p95)."
    )
    summary = result.kpi_summary()
    shown = ("customers_end", "buyers", "revenue", "k_factor")
    for column, kpi in zip(st.columns(len(shown)), shown, strict=True):
        s = summary[kpi]
        column.metric(
            KPI_NAMES[kpi],
            fmt(kpi, s["p50"]),
            help=f"p5 {fmt(kpi, s['p5'])} to p95 {fmt(kpi, s['p95'])}",
        )
    daily = result.daily_bands()
    chart(
        hg.plots.band_figure(
            daily,
            ["active_customers"],
            title="Active customers",
            y_title="customers",
            names={"active_customers": "active customers"},
        ),
        "customers",
    )
    monthly = hg.analysis.monthly_growth(result.daily)
    growth = hg.analysis.bands(monthly, "month", ["referral_share", "k_factor"])
    left, right = st.columns(2)
    with left:
        chart(
            hg.plots.band_figure(
                growth,
                ["referral_share"],
                title="Referral share of new buyers, by month",
                x="month",
                percent=True,
                names={"referral_share": "referral share"},
            ),
            "referral-share",
        )
    with right:
        chart(
            hg.plots.band_figure(
                growth,
                ["k_factor"],
                title="K-factor of each month's new buyers",
                x="month",
                names={"k_factor": "K-factor"},
            ),
            "k-factor",
        )
    st.caption(
        "A month's K-factor counts the buyers that month's new customers went on to refer "
        "by the horizon; the last months have had less time, so theirs are lower bounds."
    )
    csv_button(daily, "Daily series with bands (CSV)", "daily-bands")
    csv_button(monthly, "Monthly growth per replication (CSV)", "monthly-growth")


CHANNEL_COLUMNS = {  # the B2B page's channel table: means per run, shares, days
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


def deals_page(scenario: hg.Scenario, seed: int, reps: int) -> None:
    """B2B mode: where deals die by role, and win rates and cycles by channel."""
    st.header(f"B2B deals · {scenario.name}")
    committee = scenario.committee
    if committee is None:
        st.info(
            f"'{scenario.name}' has no buying committee. Choose b2b_committee, or add a "
            "committee: section to the scenario (roles, and the order each channel asks them)."
        )
        return
    result = run(scenario, reps, seed)
    if result is None:
        return
    roles, channels, deals = result.role_summary(), result.channel_summary(), result.deals
    decided = deals[deals["outcome"] != "open"]
    won = deals[deals["outcome"] == "won"]
    shown = (
        ("Deals at the committee, per run", f"{len(deals) / result.reps:,.1f}"),
        ("Win rate", f"{(decided['outcome'] == 'won').mean():.1%}" if len(decided) else "n/a"),
        (
            "Median cycle of won deals",
            f"{won['cycle_days'].median():,.0f} days" if len(won) else "n/a",
        ),
        ("People asked per deal", f"{deals['people_asked'].mean():.1f}" if len(deals) else "n/a"),
    )
    for column, (label, value) in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(label, value)
    st.caption(
        f"{result.reps} runs (seed {seed}). Deals reach the committee when they pass "
        f"{committee.stage}; its roles are asked one after another, in the order the "
        "deal's channel sets. A refusal ends the deal with the role's weight as its chance."
    )
    chart(hg.plots.role_figure(roles), "deal-roles")
    chart(hg.plots.cycle_figure(deals, channels), "deal-channels")
    st.dataframe(channels, hide_index=True, column_config=CHANNEL_COLUMNS)
    csv_button(roles, "Roles (CSV)", "deal-roles")
    csv_button(channels, "Channels (CSV)", "deal-channels")
    csv_button(deals, "Every deal (CSV)", "deals")


@st.cache_resource(max_entries=4)
def one_run(scenario_yaml: str, seed: int) -> hg.Run:
    """One run with its event log (the network's figures need each person), per server."""
    return hg.simulate(hg.config.parse_scenario_text(scenario_yaml, "scenario", files=False), seed)


@st.cache_resource(max_entries=16)
def network_picture(scenario_yaml: str, seed: int, day: int, labels: str) -> go.Figure:
    """The network coloured by state on a day; its layout takes a second or two."""
    return hg.plots.network_figure(one_run(scenario_yaml, seed), day, max_nodes=600, labels=labels)


@st.cache_resource(max_entries=4)
def clustering_of(scenario_yaml: str, seed: int) -> dict[str, float]:
    """Customers' clustering in one run (it samples the graph, so a day's redraw skips it)."""
    return hg.analysis.customer_clustering(one_run(scenario_yaml, seed))


def network_page(scenario: hg.Scenario, seed: int, reps: int, labels: str) -> None:
    """Network mode: the graph by stage on a chosen day, adoption against the well-mixed
    market, customers' clustering and referral chains."""
    st.header(f"Network · {scenario.name}")
    network = scenario.network
    if network is None:
        st.info(
            f"'{scenario.name}' has no social graph. Choose social_network, or add a "
            "network: section to the scenario (small_world, scale_free, complete or edge_list)."
        )
        return
    if network.social_selling is not None:
        st.caption(f"Social selling: {network.social_selling.label}.")
    text = scenario.to_yaml()
    with st.spinner("Simulating one run of the network…"):
        single = one_run(text, seed)
    last = max(0, math.ceil(scenario.horizon_days) - 1)
    day = last
    if last > 0:
        day = st.slider(
            "Day",
            min_value=0,
            max_value=last,
            value=last,
            step=7,
            key=f"network-day-{version_tag(scenario)}",
        )
    with st.spinner("Laying out the network…"):
        chart(network_picture(text, seed, day, labels), "network")
    st.caption(
        "A sample of the people (customers and those they know first), placed so that "
        "people who know each other sit close; the colour is where each one was that day."
    )
    clustering = clustering_of(text, seed)
    shown = (
        ("Customers", f"{clustering['customer_share']:.1%}", "Share of all people who bought."),
        (
            "Their contacts who bought",
            f"{clustering['neighbour_customer_share']:.1%}",
            "Share of customers' contacts who are customers too.",
        ),
        (
            "Homophily",
            f"{clustering['homophily']:.1f} times",
            "Their contacts' share over the customer share: 1 means no clustering.",
        ),
        (
            "Clustering coefficient",
            f"{clustering['clustering_customers']:.2f}",
            "Among customers, against "
            f"{clustering['clustering_graph']:.2f} for the whole graph (a sample of people).",
        ),
    )
    for column, (label, value, help_text) in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(label, value, help=help_text)
    mixed = hg.config.well_mixed(scenario)
    result, baseline = run(scenario, reps, seed), run(mixed, reps, seed)
    if result is None or baseline is None:
        return
    bands = {
        "social graph": hg.analysis.adoption_bands(result.daily),
        "well mixed": hg.analysis.adoption_bands(baseline.daily),
    }
    chart(hg.plots.adoption_figure(bands), "adoption")
    st.caption(
        f"{reps} runs of each (seed {seed}): the same market, once in its graph and once "
        "well mixed, where anyone may meet anyone"
        + (" (without social selling, which needs the graph)." if network.social_selling else ".")
    )
    generations = hg.analysis.generation_table(single)
    chart(
        hg.plots.referral_chain_figure(generations, hg.analysis.cascades(single)), "referral-chains"
    )
    csv_button(generations, "Referral generations (CSV)", "referral-generations")


def compare_page(seed: int, reps: int, labels: str) -> None:
    """Two to four scenarios side by side, on common random numbers."""
    st.header("Compare scenarios")
    names = list(library())
    default = [n for n in ("baseline", "no_referrals") if n in names] or names[:2]
    with st.form("compare"):
        chosen = st.multiselect(
            "Scenarios (the first is the baseline)", names, default=default, max_selections=4
        )
        st.form_submit_button("Compare", type="primary")
    if len(chosen) < 2:
        st.info("Choose at least two scenarios.")
        return
    runs = {}
    for name in chosen:
        result = run(scenario_of(name), reps, seed)
        if result is None:
            return
        runs[name] = result
    comparison = hg.experiments.compare_runs(runs)
    st.caption(
        f"{reps} replications each, on the same seed children (seed {seed}): differences "
        "are paired, so they show the scenarios' effect rather than luck."
    )
    rows = comparison.table.to_dict("records")
    said = [
        s for row, s in zip(rows, comparison.sentences(), strict=True) if row["kpi"] in HEADLINE
    ]
    st.markdown("\n".join(f"- {sentence}" for sentence in said))
    chart(hg.plots.delta_figure(comparison.table, HEADLINE, names=KPI_NAMES), "compare-deltas")
    bands = {n: r.daily_bands() for n, r in runs.items()}
    chart(
        hg.plots.overlay_figure(
            bands, "active_customers", title="Active customers", y_title="customers"
        ),
        "compare-customers",
    )
    stage_tables = {n: r.stage_summary() for n, r in runs.items()}
    chart(hg.plots.conversion_bars(stage_tables, labels=labels), "compare-conversion")
    st.dataframe(comparison_table(comparison), hide_index=True, width="stretch")
    csv_button(comparison.table, "Comparison table (CSV)", "comparison")


def scenario_page(name: str) -> None:
    """Edit the chosen scenario, upload one, download one."""
    st.header("Scenario files")
    st.file_uploader(
        "Upload a scenario (YAML, up to 250 kB)",
        type=["yaml", "yml"],
        key="upload",
        on_change=take_upload,
    )
    kind, message = st.session_state.pop("told", (None, None))
    if kind == "error":
        st.error(message)
    elif kind == "success":
        st.success(message)
    st.subheader(f"Edit · {name}")
    key = f"edit-{name}-{version_tag(scenario_of(name))}"
    text = st.text_area("Scenario (YAML)", library()[name], height=480, key=key)
    check, download = st.columns(2)
    check.button("Check and use", type="primary", key="check", on_click=take_edit, args=(key,))
    download.download_button(
        "Download YAML",
        data=text.encode("utf-8"),
        file_name=f"{name}.yaml",
        mime="application/yaml",
        on_click="ignore",
        icon=":material/download:",
    )
    st.caption(
        "Edits and uploads stay in this browser session; download a scenario to keep it. "
        "Files are read as plain YAML: nothing in them is run, and no path in them is opened."
    )


def take_edit(key: str) -> None:
    """Validate the edited text; use it on every page, or say what is wrong."""
    keep(st.session_state[key], f"{st.session_state.chosen}.yaml")


def take_upload() -> None:
    """Validate an uploaded scenario; use it on every page, or say what is wrong."""
    upload = st.session_state.upload
    if upload is None:
        return
    data = upload.getvalue()
    if len(data) > MAX_UPLOAD_BYTES:
        tell("error", f"{upload.name}: {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}.")
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        tell("error", f"{upload.name}: not UTF-8 text (byte {err.start}).")
        return
    keep(text, upload.name)


def keep(text: str, source: str) -> None:
    """Add a scenario text to this session and choose it, or tell why it is refused."""
    try:
        name = add_scenario(text, source)
    except hg.ScenarioError as err:
        tell("error", str(err))
        return
    st.session_state.chosen = name
    tell("success", f"'{name}' is valid and chosen on every page.")


def tell(kind: str, message: str) -> None:
    """Leave a message for the scenario page's next run."""
    st.session_state.told = (kind, message)


def import_page(seed: int) -> None:
    """Fit a scenario from a CRM export and a transaction log; show the fits; open it."""
    st.header("Import data")
    st.caption(
        "A CRM export of deal-stage history (one row per deal and stage; Bitrix24, HubSpot and "
        "Salesforce exports are recognised by their columns) and, optionally, a transaction "
        "log (customer, date, amount). Every row that cannot be used is counted, with why."
    )
    with st.form("calibrate"):
        deals = st.file_uploader("Deal-stage history (CSV)", type=["csv"], key="deals")
        transactions = st.file_uploader("Transactions (CSV)", type=["csv"], key="transactions")
        until = st.date_input("End of the calibration period (optional)", value=None)
        st.form_submit_button("Calibrate", type="primary")
    if deals is None:
        return
    files = [f for f in (deals, transactions) if f is not None]
    key = (*(f.file_id for f in files), until, seed)
    found = st.session_state.get("calibrated")
    if not found or found[0] != key:
        big = [f for f in files if f.size > MAX_CSV_BYTES]
        if big:
            st.error(f"{big[0].name}: {big[0].size:,} bytes; the limit is {MAX_CSV_BYTES:,}.")
            return
        with st.spinner("Fitting stages, durations, channels and repeat buying"):
            try:
                cal = hg.calibrate(
                    deals.getvalue(),
                    transactions.getvalue() if transactions else None,
                    until=until,
                    seed=seed,
                )
            except (hg.calibration.DataError, hg.ScenarioError) as err:
                st.error(str(err))
                return
        st.session_state.calibrated = (key, cal)
    cal = st.session_state.calibrated[1]
    show_calibration(cal)


def show_calibration(cal: hg.calibration.Calibration) -> None:
    """What was fitted, the fit plots, the report, and a way to use the scenario."""
    import pandas as pd

    fitted = cal.to_dict()
    st.subheader(f"Fitted from {fitted['period']['from']} to {fitted['period']['until']}")
    stages = pd.DataFrame(
        [
            {
                "stage": name,
                "pass prob": f["pass_prob"],
                "95% CI": f"{f['pass_prob_ci'][0]:.3f} to {f['pass_prob_ci'][1]:.3f}",
                "passed": f["visits"]["passed"],
                "lost": f["visits"]["lost"],
                "open": f["visits"]["open"],
                "time in stage": (
                    f"{f['duration']['family']}, mean {f['duration']['mean_days']:.1f} days"
                    if f["duration"]
                    else "not fitted"
                ),
            }
            for name, f in fitted["stages"].items()
        ]
    )
    st.dataframe(stages, hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left:
        chart(hg.plots.pass_prob_figure(cal), "calibrated-pass-probabilities")
    with right:
        fitted_stages = [s.stage for s in cal.stages if s.duration is not None]
        if fitted_stages:
            stage = st.selectbox("Time in stage", fitted_stages, key="duration-stage")
            chart(hg.plots.duration_figure(cal, stage), "calibrated-durations")
    if fitted["repeat"]:
        st.markdown("**Repeat buying (BG/NBD) and order value (Gamma-Gamma)**")
        intervals = fitted["repeat_ci"]
        st.dataframe(
            pd.DataFrame(
                [
                    {"parameter": k, "value": v, "95% CI": f"{lo:.4g} to {hi:.4g}"}
                    for (k, v), (lo, hi) in zip(
                        fitted["repeat"].items(), intervals.values(), strict=True
                    )
                ]
            ),
            hide_index=True,
        )
    for note in fitted["notes"]:
        st.caption(f"Note: {note}")
    report = hg.calibration.report_markdown(cal)
    with st.expander("The calibration report"):
        st.markdown(report)
    st.download_button(
        "Report (Markdown)",
        data=report.encode("utf-8"),
        file_name=f"{cal.name}_report.md",
        mime="text/markdown",
        on_click="ignore",
        icon=":material/download:",
    )
    text = cal.scenario.to_yaml()
    st.button(
        "Open the calibrated scenario",
        key="open-calibrated",
        on_click=keep,
        args=(text, f"{cal.name}.yaml"),
    )
    kind, message = st.session_state.pop("told", (None, None))
    if kind == "success":
        st.success(message)


# -- the app ---------------------------------------------------------------------------------


def sidebar() -> tuple[str, str, hg.Scenario, int, int]:
    """The page, the labels and the chosen scenario, seed and replications."""
    with st.sidebar:
        st.title("hourglass")
        page = st.radio("Page", PAGES, key="page")
        names = list(library())
        if st.session_state.get("chosen") not in names:
            st.session_state.chosen = "baseline" if "baseline" in names else names[0]
        name = st.selectbox("Scenario", names, key="chosen")
        scenario = scenario_of(name)
        language = st.radio("Stage labels", list(LANGUAGES), horizontal=True, key="language")
        seven = st.toggle("Seven-stage vocabulary (reach, capture, warm-up…)", key="seven")
        labels = ("seven_" if seven else "") + LANGUAGES[language]
        seed = st.number_input(
            "Seed", min_value=0, value=scenario.seed, step=1, key=f"seed-{version_tag(scenario)}"
        )
        reps = st.slider("Replications", 2, 50, 8, key="reps")
        st.caption(f"hourglass {hg.__version__}")
    return page, labels, scenario, int(seed), int(reps)


def main() -> None:
    """Lay out the sidebar and the chosen page."""
    st.set_page_config(page_title="hourglass", page_icon="⏳", layout="wide")
    page, labels, scenario, seed, reps = sidebar()
    if page == "Trainer":
        trainer_page(scenario, seed, labels)
    elif page == "Marketer":
        marketer_page(scenario, seed, reps, labels)
    elif page == "Budget":
        budget_page(scenario, seed, reps)
    elif page == "Planner":
        planner_page(scenario, seed, reps)
    elif page == "Compare":
        compare_page(seed, reps, labels)
    elif page == "B2B deals":
        deals_page(scenario, seed, reps)
    elif page == "Network":
        network_page(scenario, seed, reps, labels)
    elif page == "Scenario":
        scenario_page(scenario.name)
    else:
        import_page(seed)


main()
