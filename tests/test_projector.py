"""Figures on a projector: every piece of text a room reads grows to projector size."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hourglass.plots import for_projector

LARGE = 18
"""The smallest type a room reads from a projector, in pixels."""


def three_rows() -> go.Figure:
    fig = make_subplots(rows=3, cols=1, subplot_titles=("Customers", "Revenue", "Spend"))
    for row in (1, 2, 3):
        fig.add_trace(go.Scatter(x=[1, 2], y=[row, row + 1], name=f"row {row}"), row=row, col=1)
        fig.update_yaxes(title_text=f"axis {row}", title_font_size=11, row=row, col=1)
    fig.update_xaxes(tickfont_size=11)
    return fig


def test_every_subplot_axis_grows():
    big = for_projector(three_rows())
    axes = [*big.select_xaxes(), *big.select_yaxes()]
    assert len(axes) == 6
    assert all(axis.tickfont.size >= LARGE for axis in axes)
    assert all(axis.title.font.size >= LARGE for axis in axes)
    assert all(axis.automargin for axis in axes)  # larger labels are never clipped


def test_subplot_titles_and_the_legend_grow():
    big = for_projector(three_rows())
    assert [a.text for a in big.layout.annotations] == ["Customers", "Revenue", "Spend"]
    assert all(a.font.size >= LARGE for a in big.layout.annotations)
    assert big.layout.legend.font.size >= LARGE


def test_colour_bars_grow():
    fig = go.Figure(
        [
            go.Heatmap(z=[[1, 2], [3, 4]]),
            go.Scatter(x=[1, 2], y=[1, 2], marker={"color": [1, 2], "showscale": True}),
        ]
    )
    big = for_projector(fig)
    assert big.data[0].colorbar.tickfont.size >= LARGE
    assert big.data[1].marker.colorbar.tickfont.size >= LARGE


def test_the_original_figure_is_left_as_it_was():
    fig = three_rows()
    for_projector(fig)
    assert fig.layout.xaxis3.tickfont.size == 11
    assert fig.layout.annotations[0].font.size == 16  # make_subplots' own size
