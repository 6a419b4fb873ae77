"""Figures of B2B deals: where deals die by role, and cycles and win rates by channel."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hourglass.i18n import _
from hourglass.plots.style import LOST, PALETTE, UPPER
from hourglass.stages import channel_label, role_label


def role_figure(roles: pd.DataFrame, *, title: str = "") -> go.Figure:
    """Each role a row, in asking order: deals that reached it, split into let through and ended.

    `roles` is a role table (`deals.role_table`).
    """
    order = list(roles["role"])[::-1]  # the first role asked on top
    rows = roles.set_index("role").loc[order]
    through = rows["deals_reached"] - rows["ended"]
    names = [role_label(role) for role in order]
    fig = go.Figure()
    fig.add_bar(
        y=names,
        x=through,
        orientation="h",
        name=_("let through"),
        marker_color=UPPER,
        hovertemplate=_("%{y}: %{x:,.1f} deals went on") + "<extra></extra>",
    )
    fig.add_bar(
        y=names,
        x=rows["ended"],
        orientation="h",
        name=_("ended the deal"),
        marker_color=LOST,
        text=[
            _("{share:.0%} of ended").format(share=s) if e > 0 else ""
            for s, e in zip(rows["share_of_ended"], rows["ended"], strict=True)
        ],
        textposition="outside",
        cliponaxis=False,
        hovertemplate=_("%{y}: ended %{x:,.1f} deals") + "<extra></extra>",
    )
    fig.update_layout(
        barmode="stack",
        title=title or _("Where deals die, by role"),
        xaxis_title=_("deals that reached the role"),
        xaxis_range=[0, 1.3 * float(rows["deals_reached"].max() or 1.0)],  # room for the shares
        yaxis_automargin=True,
        legend={"orientation": "h", "y": -0.2},
        template="plotly_white",
    )
    return fig


def cycle_figure(deals: pd.DataFrame, channels: pd.DataFrame, *, title: str = "") -> go.Figure:
    """Deals by channel: win rates on the left, cycles of won deals on the right.

    Left: the win rate of decided deals with its 95% interval (from a channel table); right: the
    cycle of won deals, first contact to signature, as box plots (from a deal table).
    """
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.4, 0.6],
        subplot_titles=(_("Win rate (95% CI)"), _("Cycle of won deals, days")),
    )
    for i, row in enumerate(channels.itertuples()):
        color = PALETTE[i % len(PALETTE)]
        name = channel_label(row.channel)
        fig.add_bar(
            x=[name],
            y=[row.win_rate],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [row.win_rate_high - row.win_rate],
                "arrayminus": [row.win_rate - row.win_rate_low],
            },
            marker_color=color,
            name=name,
            legendgroup=row.channel,
            hovertemplate=_("{channel}: %{{y:.1%}} of {decided:,.1f} decided deals per run").format(
                channel=name, decided=row.won + row.lost
            )
            + "<extra></extra>",
            row=1,
            col=1,
        )
        won = deals[(deals["channel"] == row.channel) & (deals["outcome"] == "won")]
        fig.add_box(
            y=won["cycle_days"],
            name=name,
            marker_color=color,
            legendgroup=row.channel,
            showlegend=False,
            boxmean=True,
            row=1,
            col=2,
        )
    fig.update_yaxes(tickformat=".0%", range=[0, 1], row=1, col=1)
    fig.update_yaxes(automargin=True)
    fig.update_xaxes(automargin=True)
    fig.update_layout(
        title=title or _("Deals by channel"),
        showlegend=False,
        margin={"t": 80},
        template="plotly_white",
    )
    return fig
