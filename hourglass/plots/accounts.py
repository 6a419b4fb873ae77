"""Figures of key accounts: customers on the two axes in four quadrants, and the whale curve."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from hourglass.analysis.accounts import KIND_THRESHOLD, KINDS, kind_label
from hourglass.i18n import _
from hourglass.plots.style import LOST, PALETTE, UPPER, transparent

KIND_COLOURS = dict(zip(KINDS, (PALETTE[0], PALETTE[4], PALETTE[2], PALETTE[5]), strict=True))
"""Each kind of client's colour."""

QUADRANT_CORNERS = {
    "key": (1.0, 1.0, "right", "top"),
    "developing_key": (1.0, 0.0, "right", "bottom"),
    "maintained": (0.0, 1.0, "left", "top"),
    "occasional": (0.0, 0.0, "left", "bottom"),
}
"""Where each kind's quadrant is named: x, y and the text's anchors."""

SPREAD = 0.07
"""How far customers on one level of the vertical axis are spread, so none hides another."""


def account_map_figure(customers: pd.DataFrame, *, title: str = "") -> go.Figure:
    """Each customer placed by its attractiveness to us (x) and ours to it (y), by kind.

    `customers` is a customer table (`accounts.customer_table`); a customer who loses money
    after its cost to serve is drawn as a cross.
    """
    fig = go.Figure()
    for kind in KINDS:
        mine = customers[customers["kind"] == kind]
        losing = (mine["profit"] < 0).to_numpy()
        # a fixed, even spread (golden-ratio steps by customer id), the same on every redraw
        offset = ((mine["customer"].to_numpy() * 0.6180339887) % 1.0 - 0.5) * SPREAD
        fig.add_scatter(
            x=mine["attractiveness_to_us"],
            y=mine["attractiveness_to_them"] + offset,
            mode="markers",
            name=kind_label(kind),
            marker={
                "color": KIND_COLOURS[kind],
                "size": 8,
                "opacity": 0.6,
                "symbol": ["x" if lose else "circle" for lose in losing],
            },
            customdata=mine[["revenue", "profit"]].to_numpy(),
            hovertemplate=_("revenue %{customdata[0]:,.0f}, profit %{customdata[1]:,.0f}")
            + "<extra>%{fullData.name}</extra>",
        )
    for line in ("x", "y"):
        fig.add_shape(
            type="line",
            xref="x" if line == "x" else "paper",
            yref="paper" if line == "x" else "y",
            x0=KIND_THRESHOLD if line == "x" else 0,
            x1=KIND_THRESHOLD if line == "x" else 1,
            y0=0 if line == "x" else KIND_THRESHOLD,
            y1=1 if line == "x" else KIND_THRESHOLD,
            line={"color": "#777777", "dash": "dash"},
        )
    for kind, (x, y, xanchor, yanchor) in QUADRANT_CORNERS.items():
        fig.add_annotation(
            x=x,
            y=y,
            xref="paper",
            yref="paper",
            text=f"<b>{kind_label(kind)}</b>",
            showarrow=False,
            xanchor=xanchor,
            yanchor=yanchor,
            font={"color": KIND_COLOURS[kind], "size": 14},
            bgcolor="rgba(255,255,255,0.85)",
        )
    fig.update_layout(
        title=title or _("Customers on the two axes (a cross: loses money after cost to serve)"),
        xaxis={"title": _("attractiveness to us"), "range": [-0.03, 1.03]},
        yaxis={
            "title": _("our attractiveness to them"),
            "range": [-0.2, 1.2],  # room above and below for the quadrants' names
            "tickvals": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
        },
        xaxis_automargin=True,
        yaxis_automargin=True,
        showlegend=False,  # the quadrants are named on the chart, in the kinds' colours
        height=470,
        template="plotly_white",
    )
    return fig


def whale_figure(
    curve: pd.DataFrame, *, title: str = "", band: pd.DataFrame | None = None
) -> go.Figure:
    """Cumulative profit by customer rank, the most profitable first, with its peak marked.

    `curve` is a whale curve (`accounts.whale_curve`). Shares of the total profit are drawn
    against a 100% line; where the total is not positive, money is drawn against the total.
    `band` (`accounts.whale_band`) shades the p5-p95 of the shares across runs behind it.
    """
    shares = curve["share_of_profit"]
    as_share = bool(len(curve)) and shares.notna().all()
    y = shares * 100.0 if as_share else curve["cumulative_profit"]
    x = curve["share_of_customers"] * 100.0
    end = 100.0 if as_share else float(curve["cumulative_profit"].iloc[-1]) if len(curve) else 0.0
    fig = go.Figure()
    drawn_band = as_share and band is not None and len(band)
    if drawn_band:
        across = band["share_of_customers"].to_numpy() * 100.0
        fig.add_scatter(
            x=[*across, *across[::-1]],
            y=[*(band["p95"] * 100.0), *(band["p5"] * 100.0)[::-1]],
            fill="toself",
            fillcolor=transparent(UPPER),
            line={"width": 0},
            hoverinfo="skip",
            name=_("p5-p95 of {runs} runs").format(runs=int(band["runs"].iloc[0])),
        )
    fig.add_scatter(
        x=x,
        y=y,
        mode="lines",
        line={"color": UPPER, "width": 3},
        name=_("cumulative profit"),
        hovertemplate=(
            _("top %{x:.0f}% of customers: %{y:.0f}% of the profit")
            if as_share
            else _("top %{x:.0f}% of customers: %{y:,.0f}")
        )
        + "<extra></extra>",
    )
    fig.add_hline(
        y=end,
        line={"color": "#555555", "dash": "dash"},
        annotation_text=_("total profit (100%)") if as_share else _("total profit"),
        annotation_position="bottom right",
    )
    if len(curve):
        peak = int(curve["cumulative_profit"].to_numpy().argmax())
        px, py = float(x.iloc[peak]), float(y.iloc[peak])
        peak_text = (
            _("peak: {share:.0%} of the profit").format(share=py / 100.0)
            if as_share
            else _("peak: {money}").format(money=f"{py:,.0f}")
        )
        fig.add_scatter(
            x=[px],
            y=[py],
            mode="markers+text",
            marker={"color": LOST, "size": 14},
            text=[peak_text],
            textposition="top center" if px < 80 else "top left",
            name=_("peak"),
            hoverinfo="skip",
            showlegend=False,
        )
    top = max(float(y.max()) if len(curve) else 0.0, end)
    if drawn_band:
        top = max(top, float(band["p95"].max()) * 100.0)
    fig.update_layout(
        title=title or _("Whale curve: cumulative profit by customer, the most profitable first"),
        xaxis_title=_("customers, most profitable first (%)"),
        yaxis_title=_("share of total profit (%)") if as_share else _("cumulative profit"),
        yaxis_range=[min(0.0, float(y.min()) if len(curve) else 0.0), 1.15 * top or 1.0]
        if math.isfinite(top)
        else None,
        xaxis_automargin=True,
        yaxis_automargin=True,
        showlegend=False,
        template="plotly_white",
    )
    return fig
