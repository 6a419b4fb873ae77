"""The Sankey lays itself out: its own margins and height, every node and label inside them.

Plotly places a fixed node's centre at (x, y) of the plot area and draws it as tall as its
people times d3-sankey's scale; the scale is recomputed here from the figure alone.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from hourglass import load_scenario, replicate
from hourglass.i18n import language
from hourglass.plots import for_projector, sankey_figure
from hourglass.plots.funnel import SANKEY_LINE
from hourglass.plots.style import LOST
from hourglass.stages import FUNNEL, HOURGLASS

SCENARIOS = Path(__file__).parent.parent / "scenarios"
REASONS = ("price", "timing", "not_interested", "no_budget")


def made_up(order: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stage and loss tables: each stage passes 40% on; stage k loses for k % 4 + 1 reasons."""
    rows, lost_rows, entered = [], [], 10_000.0
    for k, stage in enumerate(order):
        passed = round(entered * 0.4)
        rows.append({"stage": stage, "entered": entered, "passed": passed})
        reasons = REASONS[: k % 4 + 1]
        for reason in reasons:
            lost = (entered - passed) / len(reasons)
            lost_rows.append({"stage": stage, "reason": reason, "lost": lost})
        entered = float(passed)
    return pd.DataFrame(rows), pd.DataFrame(lost_rows)


def plot_height(fig: go.Figure) -> float:
    margin = fig.layout.margin
    return fig.layout.height - margin.t - margin.b


def plotly_scale(fig: go.Figure) -> list[float]:
    """Each node's height as a share of the plot, as d3-sankey sizes it (align "left")."""
    sankey = fig.data[0]
    count = len(sankey.node.label)
    into, out, depth = [0.0] * count, [0.0] * count, [0] * count
    for source, target, people in zip(
        sankey.link.source, sankey.link.target, sankey.link.value, strict=True
    ):
        out[source] += people
        into[target] += people
        depth[target] = max(depth[target], depth[source] + 1)
    value = [max(a, b) for a, b in zip(into, out, strict=True)]
    height = plot_height(fig)
    scale = min(
        (height - (depth.count(d) - 1) * sankey.node.pad)
        / sum(v for v, at in zip(value, depth, strict=True) if at == d)
        for d in set(depth)
    )
    return [scale * v / height for v in value]


def check_layout(fig: go.Figure, stages: int) -> None:
    """Margins set, nodes and labels inside the plot, losses below the flow they leave."""
    margin = fig.layout.margin
    assert None not in (margin.l, margin.r, margin.t, margin.b)
    assert fig.layout.height is not None
    node = fig.data[0].node
    tall = plotly_scale(fig)
    line = SANKEY_LINE / plot_height(fig)
    lines = [label.count("<br>") + 1 for label in node.label]
    for at, y in enumerate(node.y):
        half = max(tall[at], lines[at] * line) / 2  # the node or its label, the taller
        assert y - half >= 0 and y + half <= 1, node.label[at]
    flow_bottom = node.y[0] + tall[0] / 2
    losses = [at for at, colour in enumerate(node.color) if colour == LOST]
    assert len(losses) == stages
    for k, at in enumerate(losses):
        top = node.y[at] - max(tall[at], lines[at] * line) / 2
        assert top > flow_bottom, node.label[at]  # neither the node nor its label meets a flow
        assert node.x[k] < node.x[at] < node.x[k + 1]  # beside the stage it leaves
        if k:  # a neighbour's losses lie in the other row: their labels never meet
            before = losses[k - 1]
            gap = abs(node.y[at] - node.y[before])
            assert gap >= (lines[at] + lines[before]) * line / 2


@pytest.mark.parametrize("order", [HOURGLASS[:3], HOURGLASS], ids=["3 stages", "7 stages"])
def test_the_sankey_places_every_node_and_label_inside_its_own_margins(order):
    stages, losses = made_up(order)
    fig = sankey_figure(stages, losses, order=order)
    check_layout(fig, len(order))
    check_layout(for_projector(fig), len(order))  # the projector keeps the figure's layout


def test_more_reasons_make_the_figure_taller_not_the_labels_spill():
    three, seven = (sankey_figure(*made_up(o), order=o) for o in (HOURGLASS[:3], HOURGLASS))
    assert seven.layout.margin.to_plotly_json() == three.layout.margin.to_plotly_json()
    assert seven.layout.height > three.layout.height


@pytest.mark.parametrize("labels", ["en", "seven_ru"])
def test_the_baseline_s_sankey_in_either_language(labels):
    result = replicate(load_scenario(SCENARIOS / "baseline.yaml"), 1, seed=1, backend="serial")
    with language("ru" if labels.endswith("ru") else "en"):
        fig = sankey_figure(result.stage_summary(), result.losses, labels=labels)
    check_layout(fig, len(FUNNEL))
    assert plotly_scale(fig)[0] * plot_height(fig) == pytest.approx(220)  # Know, 220 px tall
