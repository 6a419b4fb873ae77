"""The planner's figures: a monthly forecast over its spend plan, and K-factor by month."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from babel.dates import format_date
from plotly.subplots import make_subplots

from hourglass.analysis.forecast import FORECAST_MEASURES
from hourglass.i18n import _
from hourglass.plots.style import LOWER, PALETTE, UPPER, transparent

if TYPE_CHECKING:
    import pandas as pd


def month_label(month: pd.Period, language: str) -> str:
    """A calendar month as the reader writes it: 2027-03, or «март 2027» in Russian."""
    if language == "ru":
        return format_date(month.start_time.date(), "LLLL y", locale="ru")
    return f"{month.year:04d}-{month.month:02d}"


MEASURE_COLOURS = {"repeat_purchases": PALETTE[3], "active_customers": UPPER, "revenue": LOWER}
"""Each forecast measure's colour, the same on every figure."""
ACTUAL_COLOUR = "#111111"


def forecast_figure(
    bands: pd.DataFrame, spend: pd.DataFrame, months: list[str], names: Mapping[str, str]
) -> go.Figure:
    """Active customers and revenue by month with their p5-p95 bands, over the spend plan.

    `bands` is tidy (series, month, p5, p50, p95) in month order; `spend` has one column per
    spend line, a row per month; `months` labels the months; `names` names lines and series.
    """
    fig = _monthly_rows(
        (
            _("Active customers at the month's end"),
            _("Revenue in the month"),
            _("Planned spend in the month, by line"),
        ),
        spacing=0.07,
        heights=[0.38, 0.34, 0.28],
    )
    for row, series in enumerate(("active_customers", "revenue"), start=1):
        rows = bands[bands["series"] == series]
        band = (rows["p5"], rows["p50"], rows["p95"])
        _band(fig, months, band, names[series], MEASURE_COLOURS[series], row)
    for i, line in enumerate(c for c in spend.columns if c != "month"):
        fig.add_trace(
            go.Bar(
                x=months,
                y=spend[line],
                name=names.get(line, line),
                marker_color=PALETTE[(i + 3) % len(PALETTE)],
                hovertemplate="%{x}: %{y:,.0f}<extra>" + names.get(line, line) + "</extra>",
            ),
            row=3,
            col=1,
        )
    fig.update_layout(barmode="stack")
    return fig


def customer_forecast_figure(
    table: pd.DataFrame, months: list[str], names: Mapping[str, str]
) -> go.Figure:
    """A customer forecast's measures by month: band and mean, the actual months as points.

    `table` has, per month, each measure's mean, p5, p95 and actual (`forecast_table`);
    `months` labels the months; `names` names the measures, in FORECAST_MEASURES' order.
    """
    fig = _monthly_rows([names[m] for m in FORECAST_MEASURES], spacing=0.08)
    for row, measure in enumerate(FORECAST_MEASURES, start=1):
        band = (table[f"{measure}_p5"], table[f"{measure}_mean"], table[f"{measure}_p95"])
        _band(fig, months, band, names[measure], MEASURE_COLOURS[measure], row)
        fig.add_trace(
            go.Scatter(
                x=months,
                y=table[f"{measure}_actual"],
                name=_("actual"),
                mode="markers",
                marker={"color": ACTUAL_COLOUR, "size": 9},
                showlegend=row == 1,
                legendgroup="actual",
            ),
            row=row,
            col=1,
        )
    return fig


def _monthly_rows(
    titles: Sequence[str], *, spacing: float, heights: list[float] | None = None
) -> go.Figure:
    """Subplots one above the other sharing their months, the legend above them."""
    fig = make_subplots(
        rows=len(titles),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=spacing,
        row_heights=heights,
        subplot_titles=titles,
    )
    fig.update_layout(
        template="plotly_white",
        hovermode="x unified",
        height=720,
        # above the plots: below, it would cover the months' labels, which tilt on a projector
        legend={"orientation": "h", "y": 1.04, "yanchor": "bottom", "x": 0},
    )
    fig.update_xaxes(type="category", automargin=True)
    fig.update_yaxes(automargin=True, rangemode="tozero")
    return fig


def _band(
    fig: go.Figure,
    months: list[str],
    band: tuple[pd.Series, pd.Series, pd.Series],
    label: str,
    colour: str,
    row: int,
) -> None:
    """A p5-p95 band (`band`: low, middle, high) with its middle line, in one row."""
    low, middle, high = (np.asarray(values, dtype=float) for values in band)
    fig.add_trace(
        go.Scatter(
            x=[*months, *months[::-1]],
            y=np.concatenate([high, low[::-1]]),
            fill="toself",
            fillcolor=transparent(colour),
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            name=_("{name} p5-p95").format(name=label),
        ),
        row=row,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=months,
            y=middle,
            line={"color": colour},
            name=label,
            customdata=np.stack([low, high], axis=-1),
            hovertemplate="%{y:,.0f} (%{customdata[0]:,.0f}\N{EN DASH}%{customdata[1]:,.0f})",
        ),
        row=row,
        col=1,
    )


def k_factor_figure(bands: pd.DataFrame, complete: list[bool], months: list[str]) -> go.Figure:
    """Each month's buyers' window K-factor with its band; months not yet complete hollow.

    `bands` holds p5, p50, p95 per month in order; `complete` says, per month, whether its
    buyers' referral window ended within the simulation.
    """
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[*months, *months[::-1]],
            y=np.concatenate([bands["p95"].to_numpy(), bands["p5"].to_numpy()[::-1]]),
            fill="toself",
            fillcolor=transparent(UPPER),
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    done = np.asarray(complete, dtype=bool)
    for shown, name, symbol in (
        (done, _("window complete"), "circle"),
        (~done, _("window not complete: a lower bound"), "circle-open"),
    ):
        fig.add_trace(
            go.Scatter(
                x=[m for m, s in zip(months, shown, strict=True) if s],
                y=bands["p50"].to_numpy()[shown],
                mode="lines+markers",
                line={"color": UPPER, "dash": "solid" if symbol == "circle" else "dot"},
                marker={"symbol": symbol, "size": 10},
                name=name,
                hovertemplate="%{x}: %{y:.2f}<extra></extra>",
            )
        )
    fig.update_layout(
        title=_("K-factor of each month's new buyers (referrals within 6 months)"),
        yaxis_title=_("per buyer"),
        template="plotly_white",
        # the top right, where the last months' K-factor, still to come, is low
        legend={"y": 1, "yanchor": "top", "x": 1, "xanchor": "right", "bgcolor": "white"},
    )
    fig.update_xaxes(type="category", automargin=True)
    fig.update_yaxes(automargin=True, rangemode="tozero")
    return fig
