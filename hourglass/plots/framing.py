"""Figures framed for where they go: a projector, or an exported PNG that travels alone."""

from __future__ import annotations

import plotly.graph_objects as go

PROJECTOR_FONT = 20
"""The projector's type size in pixels: axis labels, legends and hover text."""


def for_projector(fig: go.Figure) -> go.Figure:
    """A copy of the figure in large, dark type, for a room to read from a projector."""
    big = go.Figure(fig)
    big.update_layout(
        font={"size": PROJECTOR_FONT, "color": "#111111"},
        title_font_size=PROJECTOR_FONT + 6,
        legend_font_size=PROJECTOR_FONT,
        legend_title_font_size=PROJECTOR_FONT - 2,
        uniformtext={"minsize": PROJECTOR_FONT - 4, "mode": "show"},  # bar text never shrinks away
        hoverlabel_font_size=PROJECTOR_FONT,
    )
    big.update_xaxes(tickfont_size=PROJECTOR_FONT, title_font_size=PROJECTOR_FONT + 2)
    big.update_yaxes(tickfont_size=PROJECTOR_FONT, title_font_size=PROJECTOR_FONT + 2)
    big.update_annotations(font_size=PROJECTOR_FONT)
    for kind in ("sankey", "bar", "scatter"):  # the figures' own text: bar values, node labels
        big.update_traces(textfont_size=PROJECTOR_FONT, selector={"type": kind})
    return big


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
