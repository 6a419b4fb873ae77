"""Pictures a room can read: large type, flows that do not cross, a legible network."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from hourglass import load_scenario, replicate, simulate
from hourglass.i18n import language
from hourglass.plots import for_projector, hourglass_animation, network_figure, sankey_figure
from hourglass.plots.funnel import PLAY_WIDTH
from hourglass.plots.network import referral_trees, tree_layout
from hourglass.stages import FUNNEL, HOURGLASS

LARGE = 18
"""The smallest type a room reads from a projector, in pixels."""
SCENARIOS = Path(__file__).parent.parent / "scenarios"


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
    assert {axis.tickfont.color for axis in axes} == {"#111111"}  # dark, not the template's grey


def test_subplot_titles_and_the_legend_grow():
    big = for_projector(three_rows())
    assert [a.text for a in big.layout.annotations] == ["Customers", "Revenue", "Spend"]
    assert all(a.font.size >= LARGE for a in big.layout.annotations)
    assert big.layout.legend.font.size >= LARGE


def test_the_legend_s_title_is_dark_as_well():
    """The hourglass's scale heads its legend: a room reads it in the same dark type."""
    big = for_projector(go.Figure(layout={"legend_title_text": "Widths: people"}))
    assert big.layout.legend.title.font.color == "#111111"
    assert big.layout.legend.title.font.size >= LARGE


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


@pytest.fixture(scope="module")
def funnel() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The baseline's stage and loss tables of one run (seed 1)."""
    result = replicate(load_scenario(SCENARIOS / "baseline.yaml"), 1, seed=1, backend="serial")
    return result.stage_summary(), result.losses


def test_sankey_writes_russian_numbers_under_each_stage(funnel):
    stages, losses = funnel
    with language("ru"):
        node = sankey_figure(stages, losses, labels="seven_ru").data[0].node
    know = stages.set_index("stage").loc["know", "entered"]
    assert node.label[0] == "Охват<br>" + f"{know:,.0f}".replace(",", "\u00a0")
    assert node.label[len(FUNNEL)].startswith("Клиенты<br>")


def test_the_play_button_sits_left_of_the_slider():
    """The slider starts right of the button's column, so its "day" is never covered."""
    daily = pd.DataFrame({stage: [1.0, 2.0, 3.0] for stage in HOURGLASS})
    fig = hourglass_animation(daily, step_days=1)
    slider, menu = fig.layout.sliders[0], fig.layout.updatemenus[0]
    assert (menu.x, menu.xanchor) == (0, "left")
    assert slider.x == PLAY_WIDTH >= 0.1
    assert slider.x + slider.len == pytest.approx(1)


@pytest.fixture(scope="module")
def network_run():
    """A year of the shipped social network (30,000 people), seed 1."""
    return simulate(load_scenario(SCENARIOS / "social_network.yaml"), seed=1)


def test_the_network_draws_at_most_a_few_hundred_people_in_referral_trees(network_run):
    fig = network_figure(network_run, 364)
    people, parents = referral_trees(network_run, 364, 200)
    drawn = sum(len(t.x) for t in fig.data[1:-1])
    assert drawn == len(people) == 200
    assert (parents < len(people)).all()  # every referrer drawn is one of the people shown
    referrers = network_run.log.prospects["referrer"][people]
    assert ((parents < 0) == (referrers < 0)).all()  # only the trees' roots came from outside
    assert fig.data[-1].name == "came from outside"
    assert len(fig.data[-1].x) == (parents < 0).sum()
    assert fig.layout.title.text == "Who brought whom by day 364: 200 people of 30,000"
    with pytest.raises(ValueError, match="max_nodes: between 1 and 400"):
        network_figure(network_run, 364, max_nodes=401)


def test_the_network_layout_is_the_same_for_the_same_seed(network_run):
    first = network_figure(network_run, 200, seed=3)
    again = network_figure(network_run, 200, seed=3)
    other = network_figure(network_run, 200, seed=4)
    assert first.to_json() == again.to_json()
    assert list(first.data[1].x) != list(other.data[1].x)


def test_no_tree_covers_another(network_run):
    _people, parents = referral_trees(network_run, 364, 200)
    xy = tree_layout(parents, seed=0)
    starts = [*np.flatnonzero(parents < 0).tolist(), len(parents)]
    boxes = [(*xy[a:b].min(axis=0), *xy[a:b].max(axis=0)) for a, b in pairwise(starts)]
    for i, (left, bottom, right, top) in enumerate(boxes):
        for other in boxes[i + 1 :]:
            apart = right < other[0] or other[2] < left or top < other[1] or other[3] < bottom
            assert apart, (i, boxes.index(other))
