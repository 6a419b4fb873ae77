"""Time series with bands, overlays, conversion side by side, and changes against a baseline."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hourglass.i18n import _
from hourglass.kpis import KIND_BOUNDS, KPIS, Kind
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
    """Each scenario's change against the baseline with its 95% interval, a panel per unit.

    Counts and money change in percent of the baseline, shares in percentage points and
    rates in their own units, as the comparison's sentences say them; an interval stops
    where the KPI's values end (a count falls by at most 100%).
    """
    groups = [
        (unit, [k for k in kpis if _delta_unit(k) == unit]) for unit in ("percent", "points", "own")
    ]
    groups = [(unit, keys) for unit, keys in groups if keys]
    titles = {
        "percent": _("% of the baseline"),
        "points": _("percentage points"),
        "own": _("own units"),
    }
    # each panel's unit is its title: y-axis titles beside a narrow panel run into the last
    fig = make_subplots(
        rows=1,
        cols=len(groups),
        column_widths=[len(keys) for _unit, keys in groups],
        horizontal_spacing=0.06,
        subplot_titles=[titles[unit] for unit, _keys in groups],
    )
    rows = table[table["kpi"].isin(kpis)]
    for i, (scenario, mine) in enumerate(rows.groupby("scenario", sort=False)):
        mine = mine.set_index("kpi").reindex(kpis)
        for col, (unit, keys) in enumerate(groups, start=1):
            change, low, high = (
                np.array([_in_unit(mine.loc[k], k, unit, part) for k in keys])
                for part in ("delta", "ci_low", "ci_high")
            )
            fig.add_trace(
                go.Bar(
                    x=[(names or {}).get(k, k) for k in keys],
                    y=change,
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": high - change,
                        "arrayminus": change - low,
                    },
                    name=scenario,
                    legendgroup=scenario,
                    showlegend=col == 1,
                    marker_color=PALETTE[(i + 1) % len(PALETTE)],
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(zeroline=True)
    fig.update_layout(
        title=_("Change against the baseline (95% CI)"),
        barmode="group",
        template="plotly_white",
    )
    return fig


def _delta_unit(kpi: str) -> str:
    """How a KPI's change is drawn: percent of the baseline, percentage points or own units."""
    if KPIS[kpi].relative:
        return "percent"
    return "points" if KPIS[kpi].kind is Kind.SHARE else "own"


def _in_unit(row: pd.Series, kpi: str, unit: str, part: str) -> float:
    """The change (`delta`) or an end of its interval in `unit`, within the KPI's values."""
    spec, base = KPIS[kpi], float(row["base"])
    least, most = (edge - base for edge in spec.bounds or KIND_BOUNDS[spec.kind])
    value = min(max(float(row[part]), least), most)
    if unit == "percent":
        return 100.0 * value / abs(base) if base else math.nan
    return 100.0 * value if unit == "points" else value
