"""Figures of the sales team: conversion by seller at each worked stage, and how busy each is."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from hourglass.analysis.sellers import seller_name
from hourglass.i18n import _
from hourglass.plots.style import LOST, UPPER
from hourglass.stages import LABELS

STAGE_COLOURS = ("#2f6db5", "#8e6bbf", "#d4a017", "#5b8c99", "#2e9e6a")
"""A colour per worked stage; none is red, the colour of what is lost."""


def seller_conversion_figure(
    sellers: pd.DataFrame, team: pd.DataFrame, *, labels: str = "en", title: str = ""
) -> go.Figure:
    """Conversion of each seller (and the whole team, first) at each stage, 95% whiskers.

    At Repeat, the share of the follow-ups owed that were done (missed ones count as lost).
    `sellers` and `team` are `analysis.sellers.stage_conversion` tables, by seller and by team.
    """
    team_name = "<b>" + _("Team") + "</b>"  # the team's bars stand apart from its people's
    everyone = pd.concat([team.assign(name=team_name), sellers], ignore_index=True)
    order = list(dict.fromkeys(everyone["name"]))
    fig = go.Figure()
    for i, (stage, rows) in enumerate(everyone.groupby("stage", sort=False)):
        rows = rows.set_index("name").reindex(order).dropna(subset=["conversion"])
        label = LABELS[labels][stage]
        fig.add_bar(
            x=[seller_name(name) for name in rows.index],
            y=rows["conversion"],
            name=label,
            marker_color=STAGE_COLOURS[i % len(STAGE_COLOURS)],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": rows["high"] - rows["conversion"],
                "arrayminus": rows["conversion"] - rows["low"],
                "color": "#333333",
            },
            customdata=rows[["low", "high", "passed"]]
            .assign(lost=rows["lost"] + rows["missed"])
            .to_numpy(),
            hovertemplate=_(
                "{seller} at {stage}: {share} [{low}, {high}], {passed} passed, {lost} lost"
            ).format(
                seller="%{x}",
                stage=label,
                share="%{y:.1%}",
                low="%{customdata[0]:.1%}",
                high="%{customdata[1]:.1%}",
                passed="%{customdata[2]:,.0f}",
                lost="%{customdata[3]:,.0f}",
            )
            + "<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        title=title or _("Conversion by seller at each worked stage (95% intervals)"),
        yaxis={"title": _("passed of decided"), "tickformat": ".0%", "rangemode": "tozero"},
        xaxis={"automargin": True, "title": None},
        yaxis_automargin=True,
        legend_title_text=_("stage"),  # at the right, clear of the sellers' rotated names
        template="plotly_white",
    )
    return fig


def utilization_figure(sellers: pd.DataFrame, team: float, *, title: str = "") -> go.Figure:
    """Each seller's share of seat-time spent working, with the team's as a line.

    `sellers` is `analysis.sellers.seller_table`; `team` is the team's utilisation.
    """
    busy = sellers["utilization"].fillna(0.0)
    fig = go.Figure()
    fig.add_bar(
        x=[seller_name(name) for name in sellers["name"]],
        y=busy,
        marker_color=[LOST if share >= 0.9 else UPPER for share in busy],
        text=[f"{share:.0%}" for share in busy],
        textposition="outside",
        cliponaxis=False,
        name=_("busy"),
        hovertemplate=_("{seller}: busy {share} of the time").format(
            seller="%{x}", share="%{y:.1%}"
        )
        + "<extra></extra>",
    )
    fig.add_hline(y=team, line_dash="dash", line_color="#333333")
    fig.update_layout(
        title=title
        or _("How busy each seller is (dashed: the team, {share:.0%})").format(share=team),
        yaxis={"title": _("share of seat-time working"), "tickformat": ".0%"},
        yaxis_range=[0, 1.15],  # room for the bars' values above 100%
        xaxis={"automargin": True, "title": None},
        yaxis_automargin=True,
        showlegend=False,
        template="plotly_white",
    )
    return fig
