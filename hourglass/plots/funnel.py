"""The hourglass itself: its stages as bars, filling day by day, the theory sketch, the Sankey.

Nothing here needs pandas at import: the theory sketch draws before it is loaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from hourglass.i18n import _
from hourglass.kpis import written
from hourglass.plots.style import LOST, LOWER, UPPER
from hourglass.stages import FUNNEL, HOURGLASS, LABELS, reason_label

if TYPE_CHECKING:
    import pandas as pd


def hourglass_figure(
    stages: pd.DataFrame,
    *,
    labels: str = "en",
    expected: Mapping[str, float] | None = None,
    referred: float = 0.0,
    title: str = "",
) -> go.Figure:
    """The hourglass: each stage a bar as wide as the people who entered it, centred.

    All seven stages share one scale, in people (hourglass.stages.REPEAT_AND_REFER): the
    funnel narrows to Buy; Repeat (customers who bought again) and Refer (prospects customers
    brought) widen again below it. `referred`, the referred prospects among Know's, is drawn
    in the lower half's colour at the top, so a business fed by its referrals shows the
    hourglass turned over. `expected` (funnel stage -> people) is drawn as an outline.
    """
    names = LABELS[labels]
    table = stages.set_index("stage").reindex(HOURGLASS)
    widths = table["entered"].fillna(0.0)
    fig = go.Figure(_hourglass_bars(widths.tolist(), names, table["conversion"].tolist()))
    know = float(widths[FUNNEL[0]])
    if referred > 0:
        fig.add_trace(
            go.Bar(
                x=[referred],
                y=[names[FUNNEL[0]]],
                base=[know / 2 - referred],
                orientation="h",
                marker_color=LOWER,
                name=_("of them brought by referrals"),
                hovertemplate=_("brought by referrals: %{x:,.0f} people") + "<extra></extra>",
            )
        )
    if expected:
        fig.add_trace(_expected_marks(expected, names))
    scale = (
        _("Widths: people, one scale for all seven stages."),
        _("{repeat}: customers who bought again.").format(repeat=names["repeat"]),
        _("{refer}: prospects customers brought.").format(refer=names["refer"]),
    )
    _hourglass_layout(fig, title or _("The hourglass"))
    # the scale heads the legend, which the figure always makes room for, on screen and in PNGs
    fig.update_layout(
        showlegend=True,
        legend={"orientation": "h", "title": {"text": "<br>".join(scale), "side": "top"}},
        height=560,
    )
    return fig


def _expected_marks(expected: Mapping[str, float], names: Mapping[str, str]) -> go.Scatter:
    """The expectation's edges, one pair of ticks per funnel stage."""
    xs: list[float | None] = []
    ys: list[str | None] = []
    for stage in FUNNEL:
        value = expected.get(stage)
        if value is None:
            continue
        xs += [-value / 2, value / 2, None]
        ys += [names[stage], names[stage], None]
    return go.Scatter(
        x=xs,
        y=ys,
        mode="markers",
        marker={"symbol": "line-ns-open", "size": 26, "line": {"width": 3}},
        marker_color="#222222",
        name=_("expected: the chain fed the simulated prospects"),
        hoverinfo="skip",
    )


def theory_svg(
    entered: Mapping[str, float],
    *,
    labels: str = "en",
    title: str = "",
    label: str = "",
) -> str:
    """The funnel alone as plain SVG text: a sketch of the hourglass before any run.

    Each stage is a centred bar as wide as `entered` says (stage -> people), e.g. the
    absorbing-chain expectation. The browser draws it at once, with no chart library to load
    first. `label` is what a screen reader says of it.
    """
    names = LABELS[labels]
    most = max((entered[s] for s in FUNNEL), default=0.0) or 1.0
    row, left, span = 50, 90, 400
    top = 44 if title else 6
    rows = []
    for i, stage in enumerate(FUNNEL):
        width = max(2.0, span * entered[stage] / most)
        x, y = left + (span - width) / 2, top + i * row
        inside = width > 110
        rows.append(
            f'<text x="{left - 10}" y="{y + 30}" text-anchor="end" fill="#444">'
            f"{_escape(names[stage])}</text>"
            f'<rect x="{x:.1f}" y="{y + 6}" width="{width:.1f}" height="{row - 10}" rx="3" '
            f'fill="{UPPER}"/>'
            f'<text x="{left + span / 2 if inside else x + width + 8:.1f}" y="{y + 30}" '
            f'text-anchor="{"middle" if inside else "start"}" '
            f'fill="{"#fff" if inside else "#444"}">{entered[stage]:,.0f}</text>'
        )
    heading = (
        f'<text x="10" y="28" font-size="20" font-weight="bold" fill="#222">{_escape(title)}</text>'
        if title
        else ""
    )
    height = top + len(FUNNEL) * row + 6
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + span + 20} {height}" '
        f'font-family="sans-serif" font-size="17" role="img" '
        f'aria-label="{_escape(label or _("The funnel as theory expects it"))}">'
        f"{heading}{''.join(rows)}</svg>"
    )


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


PLAY_WIDTH = 0.14
"""The share of the animation's width left of its slider, for the play button."""


def hourglass_animation(
    filled: pd.DataFrame, *, labels: str = "en", step_days: int = 7, title: str = ""
) -> go.Figure:
    """The hourglass filling up: one frame per `step_days`, a play button and a day slider.

    `filled` holds, per day (rows), the people who had entered each stage by then.
    """
    names = LABELS[labels]
    days = list(range(step_days - 1, len(filled), step_days))
    if not days or days[-1] != len(filled) - 1:
        days.append(len(filled) - 1)
    frames = [
        go.Frame(
            data=[_hourglass_bars(filled.loc[d, list(HOURGLASS)].tolist(), names)],
            name=str(d + 1),
        )
        for d in days
    ]
    fig = go.Figure(data=frames[-1].data, frames=frames)
    _hourglass_layout(fig, title or _("How the hourglass fills"))
    widest = float(filled[list(HOURGLASS)].to_numpy().max()) or 1.0
    slider_steps = [
        {
            "label": frame.name,
            "method": "animate",
            "args": [[frame.name], {"mode": "immediate", "frame": {"duration": 0}}],
        }
        for frame in frames
    ]
    fig.update_layout(
        showlegend=False,
        xaxis={"visible": False, "range": [-0.55 * widest, 0.55 * widest]},
        # the button on the left, the slider beside it: neither covers the other's text
        sliders=[
            {
                "active": len(frames) - 1,
                "currentvalue": {"prefix": _("day") + " "},
                "steps": slider_steps,
                "x": PLAY_WIDTH,
                "len": 1 - PLAY_WIDTH,
                "y": 0,
                "yanchor": "top",
                "pad": {"t": 30},
            }
        ],
        updatemenus=[
            {
                "type": "buttons",
                "showactive": False,
                "x": 0,
                "xanchor": "left",
                "y": 0,
                "yanchor": "top",
                "pad": {"t": 70},
                "buttons": [
                    {
                        "label": _("Play"),
                        "method": "animate",
                        "args": [
                            None,
                            {"frame": {"duration": 120, "redraw": True}, "fromcurrent": False},
                        ],
                    }
                ],
            }
        ],
    )
    return fig


def _hourglass_bars(
    widths: Sequence[float], names: Mapping[str, str], conversion: Sequence[float] | None = None
) -> go.Bar:
    """Centred horizontal bars, one per hourglass stage, coloured by half."""
    widths = [float(w) for w in widths]
    rates = conversion if conversion is not None else [math.nan] * len(widths)
    text = [
        written(w, "{:,.0f}")
        + (f" · {written(c, '{:.0%}')}" if c is not None and not math.isnan(c) else "")
        for w, c in zip(widths, rates, strict=True)
    ]
    widest = max(widths, default=0.0)
    return go.Bar(
        x=widths,
        y=[names[s] for s in HOURGLASS],
        base=[-w / 2 for w in widths],
        orientation="h",
        marker_color=[UPPER if s in FUNNEL else LOWER for s in HOURGLASS],
        text=text,
        textposition=["inside" if w > 0.25 * widest else "outside" for w in widths],
        insidetextanchor="middle",
        textangle=0,
        textfont={"size": 14},
        name=_("simulated"),
        hovertemplate=_("%{y}: %{x:,.0f} people") + "<extra></extra>",
    )


def _hourglass_layout(fig: go.Figure, title: str) -> None:
    fig.update_layout(
        title=title,
        barmode="overlay",
        yaxis={"autorange": "reversed", "title": None, "automargin": True},
        xaxis={"visible": False},
        template="plotly_white",
    )


SANKEY_HEIGHT = 640
"""The Sankey's height in pixels."""
SANKEY_PLOT_HEIGHT = SANKEY_HEIGHT - 100 - 80
"""The height of the Sankey's plot, within plotly's default top and bottom margins."""
SANKEY_GAP = 200
"""Plotly's gap between nodes of a column, in pixels: it sets the scale, so that the flow
takes the upper half of the plot and leaves the lower half to the losses."""
FLOW_Y, CUSTOMERS_Y, LOSS_ROWS = 0.29, 0.1, (0.7, 0.9)
"""Where nodes' centres sit, as fractions of the plot's height from the top: the funnel's
stages, the customers, and the two rows that neighbouring stages' losses alternate between."""


def sankey_figure(
    stages: pd.DataFrame, losses: pd.DataFrame, *, labels: str = "en", title: str = ""
) -> go.Figure:
    """Flows through the funnel, left to right, with each stage's losses below it.

    Every node says how many people it holds. Each stage's losses sit below the flow, to
    the right of the stage they leave, and their ribbon leaves the stage at its bottom, so
    it crosses no flow. Loss reasons read in the reader's language (`reason_label`).
    """
    names = LABELS[labels]
    table = stages.set_index("stage")
    know = table.loc[FUNNEL[0], ["passed", "lost"]].sum() or 1.0
    # the height of one person as a fraction of the plot: plotly's, whose widest column is
    # the second (Like and Know's losses share it), less one gap
    height = (SANKEY_PLOT_HEIGHT - SANKEY_GAP) / SANKEY_PLOT_HEIGHT / know
    flow_bottom = FLOW_Y + height * know / 2
    step = 0.15  # the stages' spacing: the last stage's losses keep room for their labels
    nodes = [f"{names[s]}<br>{written(table.loc[s, 'entered'], '{:,.0f}')}" for s in FUNNEL]
    nodes.append(_("Customers") + "<br>" + written(table.loc[FUNNEL[-1], "passed"], "{:,.0f}"))
    xs = [0.01 + k * step for k in range(len(FUNNEL))] + [0.99]
    ys = [FLOW_Y] * len(FUNNEL) + [CUSTOMERS_Y]
    colors = [UPPER] * len(FUNNEL) + [LOWER]
    source, target, value, link_color = [], [], [], []
    for k, stage in enumerate(FUNNEL):
        source.append(k)
        target.append(k + 1)
        value.append(float(table.loc[stage, "passed"]))
        link_color.append("rgba(47,109,181,0.35)")
        mine = losses[losses["stage"] == stage].sort_values("lost", ascending=False)
        if not mine["lost"].sum():
            continue
        # one node per stage for its losses, each reason on a line of its own
        reasons = zip(mine["reason"], mine["lost"], strict=True)
        nodes.append("<br>".join(f"{reason_label(r)}: {written(n, '{:,.0f}')}" for r, n in reasons))
        xs.append(xs[k] + step / 2)
        half = height * mine["lost"].sum() / 2
        ys.append(min(max(LOSS_ROWS[k % 2], flow_bottom + half + 0.01), 1 - half))
        colors.append(LOST)
        source.append(k)
        target.append(len(nodes) - 1)
        value.append(float(mine["lost"].sum()))
        link_color.append("rgba(200,85,61,0.30)")
    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",
            node={
                "label": nodes,
                "x": xs,
                "y": ys,
                "color": colors,
                "pad": SANKEY_GAP,
                # a stage's losses share the next stage's column, below it: plotly then
                # orders the ribbons leaving a stage with the flow on top, the loss below
                "align": "left",
                "thickness": 16,
                "hovertemplate": "%{label}<extra></extra>",
            },
            link={
                "source": source,
                "target": target,
                "value": value,
                "color": link_color,
                "hovertemplate": _("%{source.label} → %{target.label}") + "<extra></extra>",
            },
            textfont={"size": 14, "color": "#111111"},
        )
    )
    fig.update_layout(
        title=title or _("Flows and losses"), template="plotly_white", height=SANKEY_HEIGHT
    )
    return fig
