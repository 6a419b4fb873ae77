"""Time series with bands, overlays, conversion side by side, and changes against a baseline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from hourglass.i18n import _
from hourglass.plots.style import PALETTE, transparent
from hourglass.stages import HOURGLASS, LABELS

if TYPE_CHECKING:
    import pandas as pd


def band_figure(
    bands: pd.DataFrame,
    series: Sequence[str],
    *,
    title: str = "",
    y_title: str = "",
    names: Mapping[str, str] | None = None,
    x: str = "day",
    percent: bool = False,
) -> go.Figure:
    """Series over time with their p5-p95 band and median line, one colour per series."""
    fig = go.Figure()
    for i, name in enumerate(series):
        rows = bands[bands["series"] == name].sort_values(x)
        _add_band(fig, rows, (names or {}).get(name, name), PALETTE[i % len(PALETTE)], x)
    _time_layout(fig, title, x, y_title, percent)
    return fig


def overlay_figure(
    bands: Mapping[str, pd.DataFrame],
    series: str,
    *,
    title: str = "",
    y_title: str = "",
    x: str = "day",
    percent: bool = False,
) -> go.Figure:
    """One series of several scenarios over time, each with its p5-p95 band."""
    fig = go.Figure()
    for i, (scenario, table) in enumerate(bands.items()):
        rows = table[table["series"] == series].sort_values(x)
        _add_band(fig, rows, scenario, PALETTE[i % len(PALETTE)], x)
    _time_layout(fig, title, x, y_title, percent)
    return fig


def _add_band(fig: go.Figure, rows: pd.DataFrame, label: str, color: str, x: str) -> None:
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([rows[x].to_numpy(), rows[x].to_numpy()[::-1]]),
            y=np.concatenate([rows["p95"].to_numpy(), rows["p5"].to_numpy()[::-1]]),
            fill="toself",
            fillcolor=transparent(color),
            line={"width": 0},
            hoverinfo="skip",
            name=_("{name} p5-p95").format(name=label),
            showlegend=False,
        )
    )
    fig.add_trace(go.Scatter(x=rows[x], y=rows["p50"], line={"color": color}, name=label))


def _time_layout(fig: go.Figure, title: str, x: str, y_title: str, percent: bool) -> None:
    axis_names = {"day": _("day"), "month": _("month")}
    fig.update_layout(
        title=title,
        xaxis_title=axis_names.get(x, x),
        yaxis_title=y_title,
        yaxis_tickformat=".0%" if percent else None,
        template="plotly_white",
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.2},
    )


def conversion_bars(stage_tables: Mapping[str, pd.DataFrame], *, labels: str = "en") -> go.Figure:
    """Stage conversion of several scenarios side by side."""
    names = LABELS[labels]
    fig = go.Figure()
    for i, (scenario, table) in enumerate(stage_tables.items()):
        t = table.set_index("stage").reindex(HOURGLASS)
        fig.add_trace(
            go.Bar(
                x=[names[s] for s in HOURGLASS],
                y=t["conversion"],
                name=scenario,
                marker_color=PALETTE[i % len(PALETTE)],
                hovertemplate="%{x}: %{y:.1%}<extra>" + scenario + "</extra>",
            )
        )
    fig.update_layout(
        title=_("Conversion by stage"),
        barmode="group",
        yaxis={"tickformat": ".0%", "range": [0, 1]},
        template="plotly_white",
    )
    return fig


def delta_figure(
    table: pd.DataFrame, kpis: Sequence[str], *, names: Mapping[str, str] | None = None
) -> go.Figure:
    """Each scenario's change against the baseline, in percent, with its 95% interval."""
    fig = go.Figure()
    rows = table[table["kpi"].isin(kpis)]
    for i, (scenario, mine) in enumerate(rows.groupby("scenario", sort=False)):
        mine = mine.set_index("kpi").reindex(kpis)
        fig.add_trace(
            go.Bar(
                x=[(names or {}).get(k, k) for k in kpis],
                y=mine["delta_pct"],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": mine["ci_high_pct"] - mine["delta_pct"],
                    "arrayminus": mine["delta_pct"] - mine["ci_low_pct"],
                },
                name=scenario,
                marker_color=PALETTE[(i + 1) % len(PALETTE)],
            )
        )
    fig.update_layout(
        title=_("Change against the baseline (95% CI)"),
        yaxis_title="%",
        barmode="group",
        template="plotly_white",
    )
    return fig
