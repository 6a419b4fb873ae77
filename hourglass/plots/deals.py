"""Figures of B2B deals: where deals die by role, and cycles and win rates by channel."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hourglass.plots.style import LOST, PALETTE, UPPER


def role_figure(roles: pd.DataFrame, *, title: str = "Where deals die, by role") -> go.Figure:
    """Each role a row, in asking order: deals that reached it, split into let through and ended.

    `roles` is a role table (`deals.role_table`).
    """
    order = list(roles["role"])[::-1]  # the first role asked on top
    rows = roles.set_index("role").loc[order]
    through = rows["deals_reached"] - rows["ended"]
    fig = go.Figure()
    fig.add_bar(
        y=order,
        x=through,
        orientation="h",
        name="let through",
        marker_color=UPPER,
        hovertemplate="%{y}: %{x:,.1f} deals went on<extra></extra>",
    )
    fig.add_bar(
        y=order,
        x=rows["ended"],
        orientation="h",
        name="ended the deal",
        marker_color=LOST,
        text=[
            f"{s:.0%} of ended" if e > 0 else ""
            for s, e in zip(rows["share_of_ended"], rows["ended"], strict=True)
        ],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{y}: ended %{x:,.1f} deals<extra></extra>",
    )
    fig.update_layout(
        barmode="stack",
        title=title,
        xaxis_title="deals that reached the role",
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 10, "r": 90, "t": 60, "b": 10},
        template="plotly_white",
    )
    return fig


def cycle_figure(
    deals: pd.DataFrame, channels: pd.DataFrame, *, title: str = "Deals by channel"
) -> go.Figure:
    """Deals by channel: win rates on the left, cycles of won deals on the right.

    Left: the win rate of decided deals with its 95% interval (from a channel table); right: the
    cycle of won deals, first contact to signature, as box plots (from a deal table).
    """
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.4, 0.6],
        subplot_titles=("Win rate (95% CI)", "Cycle of won deals, days"),
    )
    for i, row in enumerate(channels.itertuples()):
        color = PALETTE[i % len(PALETTE)]
        fig.add_bar(
            x=[row.channel],
            y=[row.win_rate],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [row.win_rate_high - row.win_rate],
                "arrayminus": [row.win_rate - row.win_rate_low],
            },
            marker_color=color,
            name=row.channel,
            legendgroup=row.channel,
            hovertemplate=f"{row.channel}: %{{y:.1%}} of {row.won + row.lost:,.1f} decided "
            "deals per run<extra></extra>",
            row=1,
            col=1,
        )
        won = deals[(deals["channel"] == row.channel) & (deals["outcome"] == "won")]
        fig.add_box(
            x=won["cycle_days"],
            name=row.channel,
            marker_color=color,
            legendgroup=row.channel,
            showlegend=False,
            boxmean=True,
            row=1,
            col=2,
        )
    fig.update_yaxes(tickformat=".0%", range=[0, 1], row=1, col=1)
    fig.update_layout(
        title=title,
        showlegend=False,
        margin={"l": 10, "r": 10, "t": 80, "b": 10},
        template="plotly_white",
    )
    return fig
