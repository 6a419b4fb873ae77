"""Budget figures: each line's response curve with its current point, and allocations."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hourglass.config.budgets import budget_lines
from hourglass.i18n import _
from hourglass.kpis import written
from hourglass.plots.style import LOST, PALETTE, UPPER
from hourglass.stages import LABELS

if TYPE_CHECKING:
    import pandas as pd

    from hourglass.config.scenario import Scenario


def line_names(scenario: Scenario, labels: str = "en") -> dict[str, str]:
    """Each budget line's name as people read it, by its key: a channel's, a stage's label.

    The service ladder's `expand` line is account management. Pages keep the keys and
    show only these names.
    """
    names = {**LABELS[labels], "expand": _("Account management")}
    return {line: names.get(line) or channel_name(line) for line in budget_lines(scenario)}


def channel_name(channel: str) -> str:
    """A paid channel's name as a budget line: common ones in the reader's language.

    A name of the user's own is shown as written.
    """
    names = {
        "ads": _("Ads"),
        "display_ads": _("Display ads"),
        "search_ads": _("Search ads"),
        "social_ads": _("Social media ads"),
        "search": _("Search"),
        "social": _("Social media"),
        "email": _("Email"),
        "events": _("Events"),
        "partners": _("Partners"),
        "webinars": _("Webinars"),
        "trade_shows": _("Trade shows"),
    }
    return names.get(channel, channel)


def response_figure(
    curves: pd.DataFrame,
    marginal: Mapping[str, float] | None = None,
    optimal: Mapping[str, float] | None = None,
    names: Mapping[str, str] | None = None,
) -> go.Figure:
    """One panel per budget line: its response curve, the current point, and the optimal one.

    `curves` is `line_curves`'s table; `marginal` (line -> marginal ROI) goes in the panel
    titles; `optimal` (line -> money) marks where an optimiser would put the line; `names`
    (line -> name) says how each line is called.
    """
    lines = list(dict.fromkeys(curves["line"]))
    names = {line: (names or {}).get(line, line) for line in lines}
    cols = min(3, len(lines)) or 1
    rows = math.ceil(len(lines) / cols) or 1
    units = {
        line: effect_unit(curves.loc[curves["line"] == line, "unit"].iloc[0]) for line in lines
    }
    # the marginal ROI and the unit go on lines of their own under the line's name: beside
    # the name they are wider than a panel, and a y-axis title that long is cut
    titles = [
        names[line]
        + (
            "<br>" + _("marginal ROI {roi}").format(roi=written(marginal[line], "{:+.2f}"))
            if marginal and line in marginal
            else ""
        )
        + f"<br>{units[line]}"
        for line in lines
    ]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        horizontal_spacing=0.08,
        vertical_spacing=0.5 / rows if rows > 1 else 0.0,
    )
    a_month = _("{money} a month")
    for i, line in enumerate(lines):
        mine = curves[curves["line"] == line]
        row, col = i // cols + 1, i % cols + 1
        unit = units[line]
        fig.add_trace(
            go.Scatter(
                x=mine["money"],
                y=mine["effect"],
                line={"color": UPPER},
                name=names[line],
                showlegend=False,
                hovertemplate=a_month.format(money="%{x:,.0f}")
                + ": %{y:.3g} "
                + unit
                + "<extra></extra>",
            ),
            row=row,
            col=col,
        )
        now = mine[mine["current"]].iloc[0]
        points = [(_("current"), now["money"], now["effect"], "#222222")]
        if optimal and line in optimal:
            effect = np.interp(optimal[line], mine["money"], mine["effect"])
            points.append((_("optimal"), optimal[line], effect, LOST))
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
                    hovertemplate=f"{label}: "
                    + a_month.format(money="%{x:,.0f}")
                    + "<extra></extra>",
                ),
                row=row,
                col=col,
            )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    fig.update_layout(
        title={
            "text": _("Response curves: effect of money per month"),
            "automargin": True,
            "yref": "container",
            "y": 0.99,
            "yanchor": "top",
        },
        template="plotly_white",
        height=max(460, 380 * rows),
        margin_t=150,  # the first row's three-line titles under the figure's title
        # under the panels: above them it would cover a panel's title
        legend={"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.25 / rows},
    )
    return fig


def effect_unit(unit: str) -> str:
    """A response curve's unit (as `line_curves` gives it) in the active language."""
    units = {
        "prospects per day": _("prospects per day"),
        "lift in pass probability": _("lift in pass probability"),
        "relative lift": _("relative lift"),
    }
    return units.get(unit, unit)


def allocation_figure(
    current: Mapping[str, float],
    optimal: Mapping[str, float],
    names: Mapping[str, str] | None = None,
) -> go.Figure:
    """Money per month by line: the current allocation beside the optimal one."""
    lines = list(current)
    shown = [(names or {}).get(line, line) for line in lines]
    fig = go.Figure()
    for name, amounts, color in (
        (_("current"), current, PALETTE[0]),
        (_("optimal"), optimal, LOST),
    ):
        fig.add_trace(
            go.Bar(
                x=shown,
                y=[amounts[k] for k in lines],
                name=name,
                marker_color=color,
                text=[written(amounts[k], "{:,.0f}") for k in lines],
                textposition="outside",
                cliponaxis=False,
                hovertemplate="%{x}: "
                + _("{money} a month").format(money="%{y:,.0f}")
                + "<extra>"
                + name
                + "</extra>",
            )
        )
    fig.update_layout(
        title={
            "text": _("Money per month by line"),
            "automargin": True,
            "yref": "container",
            "y": 0.99,
            "yanchor": "top",
        },
        barmode="group",
        yaxis={"title": _("money per month"), "automargin": True},
        xaxis={"automargin": True},
        template="plotly_white",
    )
    return fig
