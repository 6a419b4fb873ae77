"""Planner: customers, referral share and K-factor over a forecast horizon, with p5-p95 bands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

import hourglass as hg
from hourglass.app import runs, state, widgets
from hourglass.kpis import KPIS

if TYPE_CHECKING:
    import pandas as pd

SHOWN = ("customers_end", "buyers", "revenue", "k_factor")


def show(choice: state.Choice) -> None:
    """A horizon slider; the forecast's KPIs, active customers and monthly growth."""
    scenario, seed, reps = choice.scenario, choice.seed, choice.reps
    st.header(f"Forecast · {widgets.escape(scenario.name)}")
    horizon = st.slider(
        "Forecast horizon (days)",
        min_value=90,
        max_value=1095,
        value=int(min(max(scenario.horizon_days, 90), 1095)),
        step=30,
        key=f"horizon-{scenario.name}",  # each scenario starts at its own horizon
    )
    forecast = widgets.overridden(scenario, {"horizon_days": float(horizon)})
    if forecast is None:
        return
    result = runs.run(forecast, reps, seed)
    if result is None:
        return
    st.caption(
        f"{reps} simulated futures (seed {seed}): the line is the median, the band holds "
        "the middle 90% of them (p5 to p95)."
    )
    summary = result.kpi_summary()
    for column, kpi in zip(st.columns(len(SHOWN)), SHOWN, strict=True):
        s = summary[kpi]
        low, high = (KPIS[kpi].format(s[p], compact=True) for p in ("p5", "p95"))
        widgets.kpi_metric(column, kpi, s["p50"], choice.language, help=f"p5 {low} to p95 {high}")
    daily = result.daily_bands()
    widgets.chart(
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
    growth_charts(hg.analysis.bands(monthly, "month", ["referral_share", "k_factor"]))
    widgets.csv_button(daily, "Daily series with bands (CSV)", "daily-bands")
    widgets.csv_button(monthly, "Monthly growth per replication (CSV)", "monthly-growth")


def growth_charts(growth: pd.DataFrame) -> None:
    """Referral share and K-factor by month, side by side."""
    left, right = st.columns(2)
    with left:
        widgets.chart(
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
        widgets.chart(
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


if __name__ == "__main__":
    show(state.choice())
