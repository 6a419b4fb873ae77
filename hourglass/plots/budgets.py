"""Budget figures: each line's response curve with its current point, and allocations."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hourglass.plots.style import LOST, PALETTE, UPPER

if TYPE_CHECKING:
    import pandas as pd


def response_figure(
    curves: pd.DataFrame,
    marginal: Mapping[str, float] | None = None,
    optimal: Mapping[str, float] | None = None,
) -> go.Figure:
    """One panel per budget line: its response curve, the current point, and the optimal one.

    `curves` is `line_curves`'s table; `marginal` (line -> marginal ROI) goes in the panel
    titles; `optimal` (line -> money) marks where an optimiser would put the line.
    """
    lines = list(dict.fromkeys(curves["line"]))
    cols = min(3, len(lines)) or 1
    rows = math.ceil(len(lines) / cols) or 1
    titles = [
        line + (f" · marginal ROI {marginal[line]:+.2f}" if marginal and line in marginal else "")
        for line in lines
    ]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.08)
    for i, line in enumerate(lines):
        mine = curves[curves["line"] == line]
        row, col = i // cols + 1, i % cols + 1
        unit = mine["unit"].iloc[0]
        fig.add_trace(
            go.Scatter(
                x=mine["money"],
                y=mine["effect"],
                line={"color": UPPER},
                name=line,
                showlegend=False,
                hovertemplate="%{x:,.0f} a month: %{y:.3g} " + unit + "<extra></extra>",
            ),
            row=row,
            col=col,
        )
        now = mine[mine["current"]].iloc[0]
        points = [("current", now["money"], now["effect"], "#222222")]
        if optimal and line in optimal:
            effect = np.interp(optimal[line], mine["money"], mine["effect"])
            points.append(("optimal", optimal[line], effect, LOST))
        for label, x, y, color in points:
            fig.add_trace(
                go.Scatter(
                    x=[x],
                    y=[y],
                    mode="markers",
                    marker={"size": 11, "color": color},
                    name=label,
                    legendgroup=label,
                    showlegend=i == 0,
                    hovertemplate=f"{label}: %{{x:,.0f}} a month<extra></extra>",
                ),
                row=row,
                col=col,
            )
        fig.update_yaxes(title_text=unit, title_font={"size": 11}, row=row, col=col)
    fig.update_layout(
        title="Response curves: effect of money per month",
        template="plotly_white",
        height=max(420, 320 * rows),
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.12},
        margin={"t": 110},
    )
    return fig


def allocation_figure(current: Mapping[str, float], optimal: Mapping[str, float]) -> go.Figure:
    """Money per month by line: the current allocation beside the optimal one."""
    lines = list(current)
    fig = go.Figure()
    for name, amounts, color in (("current", current, PALETTE[0]), ("optimal", optimal, LOST)):
        fig.add_trace(
            go.Bar(
                x=lines,
                y=[amounts[k] for k in lines],
                name=name,
                marker_color=color,
                hovertemplate="%{x}: %{y:,.0f} a month<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        title="Money per month by line",
        barmode="group",
        yaxis_title="money per month",
        template="plotly_white",
    )
    return fig
