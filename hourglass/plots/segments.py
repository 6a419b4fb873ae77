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
            text=[money(value) for value in mean],
            textposition="inside",
            insidetextanchor="middle",
            error_y={
                "type": "data",
                "symmetric": False,
                "array": high - mean,
                "arrayminus": mean - low,
            },
            hovertemplate="%{x}: %{y:,.0f}<extra></extra>",
        )
    )
    fig.update_layout(
        title=_("Profit by segment (mean, whiskers from p5 to p95)"),
        yaxis_title=_("Profit"),
        template="plotly_white",
        showlegend=False,
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True, tickformat=",.0f")
    return fig
