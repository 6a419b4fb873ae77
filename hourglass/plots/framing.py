"""Figures framed for where they go: a projector, or an exported PNG that travels alone."""

from __future__ import annotations

import plotly.graph_objects as go

PROJECTOR_FONT = 20
"""The projector's type size in pixels: axis labels, legends and hover text."""
PROJECTOR_INK = "#111111"
"""The projector's text colour: near black, as dark as a room needs (the template's is grey)."""
TEXT_TRACES = ("sankey", "bar", "scatter", "scattergl", "pie", "funnel", "heatmap")
"""Traces whose own text (bar values, node and point labels) a room must read too."""


def for_projector(fig: go.Figure) -> go.Figure:
    """A copy of the figure in large, dark type, for a room to read from a projector.

    Every axis of every subplot, the subplot titles and other annotations, the legend, the
    colour bars and the traces' own text grow to at least PROJECTOR_FONT.
    """
    big = go.Figure(fig)
    big.update_layout(
        font={"size": PROJECTOR_FONT, "color": PROJECTOR_INK},
        title_font_size=PROJECTOR_FONT + 6,
        legend_font_size=PROJECTOR_FONT,
        legend_title_font={"size": PROJECTOR_FONT - 2, "color": PROJECTOR_INK},
        uniformtext={"minsize": PROJECTOR_FONT - 4, "mode": "show"},  # bar text never shrinks away
        hoverlabel_font_size=PROJECTOR_FONT,
    )
    big.for_each_xaxis(_enlarge_axis)
    big.for_each_yaxis(_enlarge_axis)
    big.update_annotations(font_size=PROJECTOR_FONT)
    big.update_coloraxes(colorbar_tickfont_size=PROJECTOR_FONT)
    for trace in big.data:
        _enlarge_trace(trace)
    return big


def _enlarge_axis(axis: go.layout.XAxis | go.layout.YAxis) -> None:
    axis.update(
        tickfont={"size": PROJECTOR_FONT, "color": PROJECTOR_INK},
        title_font={"size": PROJECTOR_FONT + 2, "color": PROJECTOR_INK},
        automargin=True,
    )


def _enlarge_trace(trace: go.basedatatypes.BaseTraceType) -> None:
    """The trace's labels and its colour bar (its own or its markers') in projector type."""
    if trace.type in TEXT_TRACES:
        trace.update(textfont_size=PROJECTOR_FONT)
    marker = getattr(trace, "marker", None)
    shown_bars = [trace] if "colorbar" in trace else []
    if marker is not None and "showscale" in marker and marker.showscale:
        shown_bars.append(marker)
    for holder in shown_bars:
        holder.colorbar.update(tickfont_size=PROJECTOR_FONT, title_font_size=PROJECTOR_FONT)


def footed(fig: go.Figure, footer: str) -> go.Figure:
    """A copy of the figure with a line under it saying what it shows (for exported PNGs)."""
    noted = go.Figure(fig)
    bottom = (noted.layout.margin.b or 80) + 40
    noted.update_layout(margin_b=bottom)
    noted.add_annotation(
        text=footer,
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        yshift=-bottom + 12,
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        font={"size": 13, "color": "#444444"},
    )
    return noted
