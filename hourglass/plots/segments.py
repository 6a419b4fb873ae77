"""Segment figures: where the profit is, segment by segment."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from hourglass.analysis.money import money
from hourglass.i18n import _
from hourglass.plots.style import LOST, LOWER

if TYPE_CHECKING:
    import pandas as pd


def segment_profit_figure(segments: pd.DataFrame) -> go.Figure:
    """Profit by segment: the mean over replications, its p5 to p95 range as a whisker.

    `segments` holds every replication's segment table, stacked (`Replications.segments`).
    A segment that loses money is drawn in the colour of losses.
    """
    profit = segments.groupby("name", sort=False)["profit"]
    mean, low, high = profit.mean(), profit.quantile(0.05), profit.quantile(0.95)
    fig = go.Figure(
        go.Bar(
            x=list(mean.index),
            y=mean,
            marker_color=[LOWER if value >= 0 else LOST for value in mean],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": high - mean,
                "arrayminus": mean - low,
            },
            hovertemplate="%{x}: %{y:,.0f}<extra></extra>",
        )
    )
    # each value beyond its whisker's end, where neither a short bar nor the whisker hides it
    for name, value in mean.items():
        gain = value >= 0
        fig.add_annotation(
            x=name,
            y=high[name] if gain else low[name],
            text=money(value),
            showarrow=False,
            yanchor="bottom" if gain else "top",
            yshift=4 if gain else -4,
        )
    top, bottom = max(0.0, high.max()), min(0.0, low.min())
    room = 0.15 * (top - bottom or 1.0)
    fig.update_layout(
        title=_("Profit by segment (mean, whiskers from p5 to p95)"),
        yaxis_title=_("Profit"),
        template="plotly_white",
        showlegend=False,
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(
        automargin=True,
        tickformat=",.0f",
        range=[bottom - (room if bottom < 0 else 0.0), top + room],
    )
    return fig
