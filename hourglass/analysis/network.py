"""Pure functions from a network run's event log; nothing here runs SimPy.

Adoption, customers' clustering, referral chains and each person's stage on a day.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hourglass.analysis.series import bands
from hourglass.config.graph import Graph
from hourglass.log import FIRST_REASON, Run
from hourglass.stages import FUNNEL

NODE_STATES: tuple[str, ...] = ("not_reached", *FUNNEL, "customer", "lost")
"""A person's state on a day: not reached yet, inside a funnel stage, customer, or lost;
`node_states` gives the index."""


def _graph(run: Run) -> Graph:
    if run.log.graph is None:
        raise ValueError(f"{run.scenario.name}: not a network run (the scenario has no network)")
    return run.log.graph


def adoption_bands(daily: pd.DataFrame) -> pd.DataFrame:
    """Customers won by the end of each day: mean, p5, p50, p95 across replications.

    A customer is won at its first purchase. The bands are as `bands` gives them (series
    "customers").

    `daily` holds daily tables stacked with a `rep` column (one replication without it).
    """
    frame = daily if "day" in daily else daily.reset_index()
    frame = frame.assign(rep=frame.get("rep", 0)).sort_values(["rep", "day"])
    frame["customers"] = frame.groupby("rep")["buyers"].cumsum()
    return bands(frame, "day", ["customers"])


def node_states(run: Run, day: float) -> np.ndarray:
    """Each person's state at the end of `day` (an index into NODE_STATES)."""
    graph, log = _graph(run), run.log
    until = day + 1.0
    states = np.zeros(graph.nodes, dtype=np.int8)
    v = log.visits
    began = np.flatnonzero(v["enter"] < until)
    last = began[np.lexsort((v["enter"][began], v["prospect"][began]))]
    pid = v["prospect"][last]
    ends = np.r_[pid[1:] != pid[:-1], True] if len(pid) else np.zeros(0, dtype=bool)
    last, pid = last[ends], pid[ends]
    decided = v["exit"][last] < until  # NaN (still inside at the horizon) is not decided
    lost = decided & (v["outcome"][last] >= FIRST_REASON)
    state = np.where(lost, len(NODE_STATES) - 1, 1 + v["stage"][last])
    node = log.prospects["node"][pid]
    states[node] = state
    p = log.purchases
    bought = (p["kind"] == 0) & (p["time"] < until)
    states[log.prospects["node"][p["customer"][bought]]] = NODE_STATES.index("customer")
    return states


def referral_generations(run: Run) -> np.ndarray:
    """Each prospect's referral generation: 0 if it came from outside, else its referrer's + 1."""
    referrer = run.log.prospects["referrer"]
    referred = referrer >= 0
    generation = np.zeros(len(referrer), dtype=np.int64)
    while True:  # referrers come before those they refer; each pass settles one generation
        new = np.where(referred, generation[np.maximum(referrer, 0)] + 1, 0)
        if np.array_equal(new, generation):
            return generation
        generation = new


def _roots(referrer: np.ndarray) -> np.ndarray:
    """Each prospect's outside ancestor: itself if it came from outside."""
    root = np.where(referrer >= 0, referrer, np.arange(len(referrer)))
    while True:
        new = root[root]
        if np.array_equal(new, root):
            return root
        root = new


def generation_table(run: Run) -> pd.DataFrame:
    """Per referral generation (0: outside prospects): prospects and buyers in it."""
    generation = referral_generations(run)
    p = run.log.purchases
    buyers = np.zeros(len(generation), dtype=bool)
    buyers[p["customer"][p["kind"] == 0]] = True
    size = int(generation.max(initial=-1)) + 1
    return pd.DataFrame(
        {
            "generation": np.arange(size),
            "prospects": np.bincount(generation, minlength=size),
            "buyers": np.bincount(generation[buyers], minlength=size),
        }
    )


def cascades(run: Run) -> pd.DataFrame:
    """Per seed customer (one who came from outside): the size and depth of its referral chains.

    `size` counts the buyers its chains brought, the seed left out; `depth` is their longest chain,
    in generations.
    """
    referrer = run.log.prospects["referrer"]
    generation = referral_generations(run)
    root = _roots(referrer)
    p = run.log.purchases
    buyers = p["customer"][p["kind"] == 0]
    seeds = buyers[referrer[buyers] < 0]
    descendants = buyers[referrer[buyers] >= 0]
    size = np.bincount(root[descendants], minlength=len(referrer))
    depth = np.zeros(len(referrer), dtype=np.int64)
    np.maximum.at(depth, root[descendants], generation[descendants])
    channels = np.array(run.log.channels)
    return pd.DataFrame(
        {
            "seed": seeds,
            "channel": channels[run.log.prospects["channel"][seeds]],
            "size": size[seeds],
            "depth": depth[seeds],
        }
    )


def customer_clustering(run: Run, *, sample: int = 2000, seed: int = 0) -> dict[str, float]:
    """Do customers cluster in the graph? Shares and clustering coefficients at the horizon.

    - customer_share: customers (first bought by the horizon) over people;
    - neighbour_customer_share: over customers' contacts, the share who are customers;
    - homophily: their ratio (1: customers' contacts buy as often as anyone; above 1,
      customers cluster);
    - clustering_customers: the mean clustering coefficient in the graph among customers
      only (how often two customer contacts of a customer know each other);
    - clustering_graph: the same over the whole graph.
    Clustering coefficients are averaged over at most `sample` random nodes.
    """
    graph, log = _graph(run), run.log
    p = log.purchases
    customer = np.zeros(graph.nodes, dtype=bool)
    customer[log.prospects["node"][p["customer"][p["kind"] == 0]]] = True
    share = customer.mean()
    degree = graph.degrees()
    ends = np.repeat(customer, degree)  # the customer flag of each link's near end
    near = customer[graph.indices[ends]]
    neighbour_share = near.mean() if len(near) else math.nan
    rng = np.random.default_rng(seed)
    return {
        "customers": int(customer.sum()),
        "customer_share": float(share),
        "neighbour_customer_share": float(neighbour_share),
        "homophily": float(neighbour_share / share) if share else math.nan,
        "clustering_customers": _clustering(graph, customer, sample, rng),
        "clustering_graph": _clustering(graph, np.ones(graph.nodes, dtype=bool), sample, rng),
    }


def _clustering(graph: Graph, member: np.ndarray, sample: int, rng: np.random.Generator) -> float:
    """Mean local clustering coefficient in the subgraph of `member` nodes, over a random sample.

    As in networkx, a node with fewer than two neighbours counts 0.
    """
    nodes = np.flatnonzero(member)
    if not len(nodes):
        return math.nan
    if len(nodes) > sample:
        nodes = rng.choice(nodes, sample, replace=False)
    indptr, indices = graph.indptr, graph.indices
    total = 0.0
    for v in nodes.tolist():
        near = indices[indptr[v] : indptr[v + 1]]
        near = near[member[near]]
        k = len(near)
        if k < 2:
            continue
        links = sum(
            np.intersect1d(indices[indptr[u] : indptr[u + 1]], near, assume_unique=True).size
            for u in near.tolist()
        )
        total += links / (k * (k - 1))  # each link among the neighbours is counted twice
    return total / len(nodes)
