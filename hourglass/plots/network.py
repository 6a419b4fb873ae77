"""Figures of network mode: people by state, adoption, referral chains.

People are coloured by their state on a day; adoption is shown against the well-mixed market.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hourglass.analysis.network import NODE_STATES, node_states
from hourglass.config.graph import Graph
from hourglass.i18n import _
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


def network_figure(
    run: Run, day: float, *, max_nodes: int = 800, seed: int = 0, labels: str = "en"
) -> go.Figure:
    """The network of a run coloured by each person's state at the end of `day`.

    A graph larger than `max_nodes` (at most 1,500) is shown by a sample: customers and
    the people they know first, then people at random. The layout is networkx's spring
    layout, seeded; its time grows with the square of the nodes (about 2 s for 800).
    """
    if not 1 <= max_nodes <= 1500:
        raise ValueError(f"max_nodes: between 1 and 1,500, got {max_nodes:,}")
    states = node_states(run, day)
    graph = run.log.graph
    shown = _sample_nodes(graph, states, max_nodes, np.random.default_rng(seed))
    xy, near, far = _spring_layout(graph, shown, seed)
    ex = np.column_stack([xy[near, 0], xy[far, 0], np.full(len(near), np.nan)])
    ey = np.column_stack([xy[near, 1], xy[far, 1], np.full(len(near), np.nan)])
    fig = go.Figure()
    fig.add_trace(
        go.Scattergl(
            x=ex.ravel(),
            y=ey.ravel(),
            mode="lines",
            line={"color": "rgba(70,70,70,0.35)", "width": 0.8},
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
    shown_states = states[shown]
    for code, state in enumerate(NODE_STATES):
        here = shown_states == code
        if not here.any():
            continue
        fig.add_trace(
            go.Scattergl(
                x=xy[here, 0],
                y=xy[here, 1],
                mode="markers",
                marker={"color": NODE_COLORS[state], "size": 8, "line": {"width": 0}},
                name=names[state],
                text=[_("person {number}").format(number=v) for v in shown[here].tolist()],
                hoverinfo="text+name",
            )
        )
    title = _("The network on day {day:g}").format(day=day)
    if len(shown) < graph.nodes:
        title = _("The network on day {day:g}: {shown:,} people of {nodes:,}").format(
            day=day, shown=len(shown), nodes=graph.nodes
        )
    fig.update_layout(
        title=title,
        template="plotly_white",
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"},
        height=650,
        legend={"orientation": "h", "y": -0.05, "itemsizing": "constant"},
    )
    return fig


def _spring_layout(
    graph: Graph, shown: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of the people `shown` and the two ends of each link between them.

    Positions come from networkx's spring layout, seeded; the ends are indices into `shown`.
    """
    import networkx as nx  # here, not above: a quarter second that only this figure needs

    keep = np.full(graph.nodes, -1, dtype=np.int64)
    keep[shown] = np.arange(len(shown))
    degree = np.diff(graph.indptr)[shown]
    near = np.repeat(np.arange(len(shown)), degree)
    far = keep[
        np.concatenate([graph.indices[graph.indptr[v] : graph.indptr[v + 1]] for v in shown])
    ]
    inside = (far >= 0) & (near < far)
    layout = nx.Graph()
    layout.add_nodes_from(range(len(shown)))
    layout.add_edges_from(zip(near[inside].tolist(), far[inside].tolist(), strict=True))
    pos = nx.spring_layout(layout, seed=seed, iterations=40)
    return np.array([pos[i] for i in range(len(shown))]), near[inside], far[inside]


def _sample_nodes(
    graph: Graph, states: np.ndarray, most: int, rng: np.random.Generator
) -> np.ndarray:
    """At most `most` nodes: customers and the people they know first, then random people."""
    if graph.nodes <= most:
        return np.arange(graph.nodes)
    customers = np.flatnonzero(states == NODE_STATES.index("customer"))
    customers = rng.permutation(customers)[: most // 4]
    near = [graph.indices[graph.indptr[v] : graph.indptr[v + 1]] for v in customers.tolist()]
    first = np.unique(np.concatenate([customers, *near])) if len(customers) else customers
    first = rng.permutation(first)[:most]
    rest = np.setdiff1d(np.arange(graph.nodes), first)
    extra = rng.choice(rest, most - len(first), replace=False)
    return np.sort(np.concatenate([first, extra]))


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
