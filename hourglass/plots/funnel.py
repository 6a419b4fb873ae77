"""The hourglass itself: its stages as bars, filling day by day, the theory sketch, the Sankey.

Nothing here needs pandas at import: the theory sketch draws before it is loaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from hourglass.i18n import _
from hourglass.kpis import written
from hourglass.plots.framing import PROJECTOR_FONT
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


SANKEY_FLOW = 220
"""The flow's height at its widest, in pixels: the first stage's node."""
SANKEY_LINE = round(1.3 * PROJECTOR_FONT)
"""One line of a node's label, in pixels: room for the projector's type, the largest it gets."""
SANKEY_GAP = SANKEY_LINE // 2
"""The room between the flow and the rows of losses below it, in pixels."""
SANKEY_MARGIN = {"l": 10, "r": 10, "t": 70, "b": 10}
"""The figure's margins in pixels: the title's room on top; every label lies within the plot."""
SANKEY_SPAN = 0.75
"""The share of the plot's width from the first stage to the last; the rest holds the last
stage's losses and the customers."""
FLOW_COLOUR, LOSS_COLOUR = "rgba(47,109,181,0.35)", "rgba(200,85,61,0.30)"


@dataclass(frozen=True)
class SankeyPlaces:
    """Where a Sankey's nodes sit, and the plot and node gap that put them there."""

    x: list[float]
    y: list[float]
    plot_height: int
    """The plot's height in pixels, margins excluded."""
    pad: float
    """Plotly's gap between two nodes of a column, in pixels: with the plot's height, it sets
    plotly's scale (pixels per person) to the one the places were computed for."""


def sankey_figure(
    stages: pd.DataFrame,
    losses: pd.DataFrame,
    *,
    labels: str = "en",
    title: str = "",
    order: Sequence[str] = FUNNEL,
) -> go.Figure:
    """Flows through the stages in `order`, left to right, with each stage's losses below it.

    Every node says how many people it holds. Each stage's losses sit below the flow, to
    the right of the stage they leave, and their ribbon leaves the stage at its bottom, so
    it crosses no flow. Loss reasons read in the reader's language (`reason_label`). The
    figure's margins and height are its own, sized to its labels in the projector's type.
    """
    names = LABELS[labels]
    table = stages.set_index("stage")
    nodes = [f"{names.get(s, s)}<br>{written(table.loc[s, 'entered'], '{:,.0f}')}" for s in order]
    nodes.append(_("Customers") + "<br>" + written(table.loc[order[-1], "passed"], "{:,.0f}"))
    links: list[tuple[int, int, float, str]] = []  # source, target, people, colour
    lost_at: dict[int, int] = {}  # a stage's position in `order` -> its losses' node
    for k, stage in enumerate(order):
        links.append((k, k + 1, float(table.loc[stage, "passed"]), FLOW_COLOUR))
        mine = losses[losses["stage"] == stage].sort_values("lost", ascending=False)
        if not mine["lost"].sum():
            continue
        # one node per stage for its losses, each reason on a line of its own
        reasons = zip(mine["reason"], mine["lost"], strict=True)
        nodes.append("<br>".join(f"{reason_label(r)}: {written(n, '{:,.0f}')}" for r, n in reasons))
        lost_at[k] = len(nodes) - 1
        links.append((k, len(nodes) - 1, float(mine["lost"].sum()), LOSS_COLOUR))
    places = sankey_places(len(order), links, lost_at, [n.count("<br>") + 1 for n in nodes])
    source, target, value, link_colour = (list(column) for column in zip(*links, strict=True))
    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",
            node={
                "label": nodes,
                "x": places.x,
                "y": places.y,
                "color": [UPPER] * len(order) + [LOWER] + [LOST] * len(lost_at),
                "pad": places.pad,
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
                "color": link_colour,
                "hovertemplate": _("%{source.label} → %{target.label}") + "<extra></extra>",
            },
            textfont={"size": 15, "color": "#111111"},
        )
    )
    fig.update_layout(
        title=title or _("Flows and losses"),
        template="plotly_white",
        margin=SANKEY_MARGIN,
        height=places.plot_height + SANKEY_MARGIN["t"] + SANKEY_MARGIN["b"],
    )
    return fig


def sankey_places(
    stages: int,
    links: Sequence[tuple[int, int, float, str]],
    lost_at: dict[int, int],
    lines: Sequence[int],
) -> SankeyPlaces:
    """The nodes' places: stages and customers on one line, their losses in two rows below.

    Nodes 0 to `stages` - 1 are the stages, node `stages` the customers, and `lost_at` maps a
    stage to the node of its losses; neighbouring stages' losses lie in different rows.
    `lines` is each node's label's number of lines. Plotly's scale is d3-sankey's: per
    column (a node's distance from the first stage), the plot's height less the gaps between
    its nodes, per person; the smallest over the columns. A column holds one or two nodes.
    """
    value = [0.0] * len(lines)
    inflow = [0.0] * len(lines)
    for source, target, people, _colour in links:
        value[source] += people
        inflow[target] += people
    value = [max(out, into) for out, into in zip(value, inflow, strict=True)]
    column = {k: k for k in range(stages + 1)} | {node: k + 1 for k, node in lost_at.items()}
    sums = [0.0] * (stages + 1)
    for node, depth in column.items():
        sums[depth] += value[node]
    scale = SANKEY_FLOW / max(max(sums), 1.0)  # pixels per person
    flow = scale * value[0]
    y = [flow / 2] * (stages + 1) + [0.0] * len(lost_at)
    row_top = flow + SANKEY_GAP
    for parity in (0, 1):
        row = [node for k, node in lost_at.items() if k % 2 == parity]
        if not row:
            continue
        tall = max(max(lines[n] * SANKEY_LINE, scale * value[n]) for n in row)
        for node in row:
            y[node] = row_top + tall / 2
        row_top += tall + SANKEY_GAP
    plot_height = math.ceil(row_top - SANKEY_GAP if lost_at else flow)  # whole pixels
    # the gap that makes plotly's scale this one: the fullest column of two nodes binds
    paired = [sums[column[node]] for node in lost_at.values()]
    pad = plot_height - scale * max(paired) if paired else 0.0
    step = SANKEY_SPAN / stages
    x = [0.01 + k * step for k in range(stages)] + [0.99]
    x += [x[k] + step / 2 for k in lost_at]
    return SankeyPlaces(x, [at / plot_height for at in y], plot_height, pad)
