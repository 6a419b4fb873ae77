"""Figures of network mode: people by state, adoption, referral chains.

People are coloured by their state on a day; adoption is shown against the well-mixed market.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hourglass.analysis.network import NODE_STATES, node_states
from hourglass.i18n import _
from hourglass.kpis import written
from hourglass.log import Run
from hourglass.plots.series import overlay_figure
from hourglass.plots.style import LOST, LOWER, UPPER
from hourglass.stages import LABELS

NODE_COLORS: dict[str, str] = {
    "not_reached": "#d9d9d9",
    "know": "#c6dbef",
    "like": "#9ecae1",
    "trust": "#6baed6",
    "try": "#3182bd",
    "buy": "#08519c",
    "customer": LOWER,
    "lost": LOST,
}
"""Colours of people's states in `network_figure`, keyed as in NODE_STATES."""


MAX_NODES = 400
"""The most people the network's picture draws: beyond that it is a blob, and slow to lay out."""
PICTURE_ASPECT = 2.0
"""The network picture's plot, about twice as wide as it is tall: the trees' rows fill it."""


def network_figure(
    run: Run, day: float, *, max_nodes: int = 200, seed: int = 0, labels: str = "en"
) -> go.Figure:
    """Who brought whom by the end of `day`: the run's referral trees, coloured by state.

    Each tree starts at a person who came from outside (ringed by a diamond) and holds the
    people their referrals brought, generation by generation. The largest trees are
    drawn first, at most `max_nodes` people (at most MAX_NODES); each tree is laid out on
    its own by networkx's spring layout, seeded, and the trees are packed in rows, largest
    first, so that no tree covers another. The same run, day and seed draw the same picture.
    """
    if not 1 <= max_nodes <= MAX_NODES:
        raise ValueError(f"max_nodes: between 1 and {MAX_NODES:,}, got {max_nodes:,}")
    states = node_states(run, day)
    people, parents = referral_trees(run, day, max_nodes)
    xy = tree_layout(parents, seed)
    linked = np.flatnonzero(parents >= 0)
    ends = np.full(len(linked), np.nan)
    fig = go.Figure(
        go.Scatter(
            x=np.column_stack([xy[parents[linked], 0], xy[linked, 0], ends]).ravel(),
            y=np.column_stack([xy[parents[linked], 1], xy[linked, 1], ends]).ravel(),
            mode="lines",
            line={"color": "rgba(60,60,60,0.6)", "width": 1.5},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    names = {
        **LABELS[labels],
        "not_reached": _("not reached yet"),
        "customer": _("customer"),
        "lost": _("lost"),
    }
    shown_states = states[run.log.prospects["node"][people]]
    for code, state in enumerate(NODE_STATES):
        here = shown_states == code
        if here.any():
            fig.add_trace(
                go.Scatter(
                    x=xy[here, 0],
                    y=xy[here, 1],
                    mode="markers",
                    marker={"color": NODE_COLORS[state], "size": 10},
                    name=names[state],
                    text=[_("person {number}").format(number=v) for v in people[here].tolist()],
                    hoverinfo="text+name",
                )
            )
    _mark_roots(fig, xy, parents)
    fig.update_layout(
        title=_network_title(day, len(people), run.log.graph.nodes),
        template="plotly_white",
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"},
        height=650,
        legend={"orientation": "h", "y": -0.05, "itemsizing": "constant"},
    )
    return fig


def _mark_roots(fig: go.Figure, xy: np.ndarray, parents: np.ndarray) -> None:
    """A diamond around each tree's root: the person who came from outside."""
    roots = parents < 0
    fig.add_trace(
        go.Scatter(
            x=xy[roots, 0],
            y=xy[roots, 1],
            mode="markers",
            marker={"symbol": "diamond-open", "size": 18, "color": "#222222", "line": {"width": 2}},
            name=_("came from outside"),
            hoverinfo="skip",
        )
    )


def _network_title(day: float, shown: int, nodes: int) -> str:
    if not shown:
        return _("No one had referred anyone by day {day:g}").format(day=day)
    return _("Who brought whom by day {day:g}: {shown} people of {nodes}").format(
        day=day, shown=written(shown, "{:,.0f}"), nodes=written(nodes, "{:,.0f}")
    )


def referral_trees(run: Run, day: float, most: int) -> tuple[np.ndarray, np.ndarray]:
    """The prospects of the largest referral trees by the end of `day`, at most `most`.

    Returns the prospects (indices into the run's prospects), tree by tree, largest first,
    each tree in order of arrival, and each one's referrer as a position in that array (-1
    for a tree's root). A tree is a person who came from outside and referred someone by
    then, with everyone their referrals brought; the last tree taken may be cut short,
    keeping its earliest people, so that every person shown is linked to its tree.
    """
    prospects = run.log.prospects
    arrived = prospects["arrival"] < day + 1.0
    referrer = np.where(arrived, prospects["referrer"], -1)
    root = np.where(referrer >= 0, referrer, np.arange(len(referrer)))
    while not np.array_equal(root[root], root):  # each pass follows the chains twice as far
        root = root[root]
    brought = np.flatnonzero(arrived & (referrer >= 0))
    roots, sizes = np.unique(root[brought], return_counts=True)
    people: list[np.ndarray] = []
    room = most
    for tree in roots[np.lexsort((roots, -sizes))]:  # the largest first, then the earliest
        if room <= 0:
            break
        members = np.concatenate([[tree], brought[root[brought] == tree]])
        members = members[np.argsort(prospects["arrival"][members], kind="stable")][:room]
        people.append(members)
        room -= len(members)
    chosen = np.concatenate(people) if people else np.zeros(0, dtype=np.int64)
    position = np.full(len(referrer), -1)
    position[chosen] = np.arange(len(chosen))
    return chosen, np.where(referrer[chosen] >= 0, position[referrer[chosen]], -1)


def tree_layout(parents: np.ndarray, seed: int) -> np.ndarray:
    """Positions of the trees' people: each tree laid out on its own, the trees in rows.

    `parents` holds each person's referrer as a position, -1 where a tree starts; a tree's
    people follow its root. Each tree takes a disc whose area grows with its people.
    """
    import networkx as nx  # here, not above: a quarter second that only this figure needs

    xy = np.zeros((len(parents), 2))
    starts = np.append(np.flatnonzero(parents < 0), len(parents))
    cells = sum((2 * math.sqrt(n) + 1) ** 2 for n in np.diff(starts).tolist())
    width = math.sqrt(cells * PICTURE_ASPECT)  # rows as wide as the picture's shape wants
    x = y = row_height = 0.0
    for start, end in itertools.pairwise(starts.tolist()):
        tree = nx.Graph()
        tree.add_nodes_from(range(start, end))
        tree.add_edges_from((int(parents[i]), i) for i in range(start + 1, end))
        radius = math.sqrt(end - start)
        pos = nx.spring_layout(tree, seed=seed, scale=radius, center=(0.0, 0.0))
        if x > 0 and x + 2 * radius > width:
            x, y, row_height = 0.0, y - row_height, 0.0
        for i, (px, py) in pos.items():
            xy[i] = (x + radius + px, y - radius + py)
        x += 2 * radius + 1.0
        row_height = max(row_height, 2 * radius + 1.0)
    return xy


def adoption_figure(bands: Mapping[str, pd.DataFrame], *, title: str = "") -> go.Figure:
    """Customers won over time, one line and p5-p95 band per model (from `adoption_bands`)."""
    fig = overlay_figure(
        bands,
        "customers",
        title=title or _("Adoption: customers won so far"),
        y_title=_("customers"),
    )
    fig.update_xaxes(title_text=_("day"))
    return fig


def referral_chain_figure(generations: pd.DataFrame, cascades: pd.DataFrame) -> go.Figure:
    """Referral chains: buyers per generation, and seed customers by the size of their cascades.

    Buyers per generation come from `generation_table`; how many seed customers started cascades
    of each size, from `cascades`.
    """
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(_("Buyers by referral generation"), _("Seed customers by cascade size")),
    )
    fig.add_trace(
        go.Bar(x=generations["generation"], y=generations["buyers"], marker_color=UPPER),
        row=1,
        col=1,
    )
    sizes = cascades["size"].value_counts().sort_index()
    fig.add_trace(go.Bar(x=sizes.index, y=sizes.to_numpy(), marker_color=LOWER), row=1, col=2)
    fig.update_xaxes(title_text=_("generation (0: from outside)"), dtick=1, row=1, col=1)
    fig.update_xaxes(title_text=_("buyers a seed's chains brought"), row=1, col=2)
    fig.update_yaxes(title_text=_("buyers"), row=1, col=1)
    most = int(sizes.max()) if len(sizes) else 1
    fig.update_yaxes(
        title_text=_("seed customers"),
        type="log",
        tickvals=log_ticks(most),
        tickformat=",d",
        row=1,
        col=2,
    )
    fig.update_layout(template="plotly_white", showlegend=False)
    return fig


def log_ticks(most: float) -> list[int]:
    """Ticks for a log axis up to `most`: 1, 2, 5, 10, 20, 50 ..., each labelled once."""
    ticks, decade = [], 1
    while not ticks or ticks[-1] < most:
        ticks += [decade, 2 * decade, 5 * decade]
        decade *= 10
    return [t for t in ticks if t <= max(most, 1) * 2]
