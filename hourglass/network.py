"""Network mode: the social graph prospects live in, its scenario section and its run state.

A graph is held as CSR arrays (each node's neighbours in one slice of `indices`), built
once per (graph spec, seed) and kept for the process: the graph is the population, fixed
across replications.
"""

from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

from hourglass.base import Model, NonNegativeFloat, Probability

MAX_EDGES = 5_000_000
"""Largest graph, in undirected links. A run holds 8 bytes a link (int32 both ways), but
building one (int64 pair lists, their sort and the de-duplication) peaks near 100 bytes a
link: 5 million links take about half a gigabyte while the graph is built."""

MAX_NODES = 20_000_000
"""Largest graph, in people: a run keeps a few bytes per person beside the links."""

SOCIAL_CHANNEL = "social_selling"
"""The channel of contacts that sellers' social selling brings."""

Nodes = Annotated[int, Field(ge=2, le=MAX_NODES)]


class SmallWorld(Model):
    """Watts-Strogatz: a ring where each person knows `neighbours` nearby, a share rewired."""

    nodes: Nodes
    neighbours: Annotated[int, Field(ge=2, le=1000, multiple_of=2)]
    rewire: Probability

    @model_validator(mode="after")
    def _fewer_neighbours_than_people(self) -> SmallWorld:
        if self.neighbours >= self.nodes:
            raise ValueError(f"neighbours ({self.neighbours}) must be fewer than nodes")
        return self

    @property
    def edges(self) -> int:
        """Links the graph has (rewiring keeps the count, bar a rare duplicate)."""
        return self.nodes * self.neighbours // 2


class ScaleFree(Model):
    """Barabási-Albert: each newcomer links to `links_per_node` people, the popular likelier."""

    nodes: Nodes
    links_per_node: Annotated[int, Field(ge=1, le=1000)]

    @model_validator(mode="after")
    def _fewer_links_than_people(self) -> ScaleFree:
        if self.links_per_node >= self.nodes:
            raise ValueError(f"links_per_node ({self.links_per_node}) must be fewer than nodes")
        return self

    @property
    def edges(self) -> int:
        """Links the graph has, at most (a newcomer's repeated pick is one link)."""
        return (self.nodes - self.links_per_node) * self.links_per_node


class Complete(Model):
    """Everyone knows everyone: the well-mixed market as a graph."""

    nodes: Nodes

    @property
    def edges(self) -> int:
        """Links the graph has."""
        return self.nodes * (self.nodes - 1) // 2


class EdgeList(Model):
    """A graph from CSV files beside the scenario: links (two ids a row), people (optional).

    Each file opens with a header row. `edges` rows give two people's ids in their first two
    columns; `nodes` rows give one id in the first column. Without `nodes`, the people are
    those the links name. Self-links and repeated links are dropped.
    """

    edges: str
    nodes: str | None = None

    @field_validator("edges", "nodes")
    @classmethod
    def _beside_the_scenario(cls, path: str | None, info: ValidationInfo) -> str | None:
        context = info.context or {}
        if path is not None and not context.get("files", True):
            raise ValueError(
                f"{path}: a scenario given here may not name files; run one with an edge "
                "list from its file: hourglass run SCENARIO"
            )
        if path is None or Path(path).is_absolute():
            return path
        folder = context.get("folder")
        if folder is None:
            raise ValueError(
                f"{path}: an edge list must sit beside a scenario file; load the scenario "
                "from its file (an uploaded scenario has no folder to find it in)"
            )
        return str((Path(folder) / path).resolve())

    @model_validator(mode="after")
    def _readable(self) -> EdgeList:
        load_edge_list(*_file_keys(self.edges, self.nodes))
        return self


def _file_keys(edges: str, nodes: str | None) -> tuple[tuple[str, int, int], ...]:
    """Each file's path, modification time and size: a cache key that sees edits."""
    keys = []
    for path in (edges, nodes):
        if path is None:
            continue
        try:
            stat = os.stat(path)
        except OSError as err:
            raise ValueError(f"{path}: cannot read: {err.strerror or err}") from None
        keys.append((path, stat.st_mtime_ns, stat.st_size))
    return tuple(keys)


class SocialSelling(Model):
    """Sellers' social selling: an outside channel of `opportunities_lift` x the paid and
    organic contacts, landing on customers' contacts; a lift of your own or a preset."""

    opportunities_lift: Annotated[float, Field(ge=0.0, le=10.0)] | None = None
    preset: Literal["linkedin_ssi_claim"] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SocialSelling:
        if (self.opportunities_lift is None) == (self.preset is None):
            raise ValueError("give exactly one of: opportunities_lift, preset")
        return self

    @property
    def lift(self) -> float:
        """Extra contacts per paid or organic one."""
        if self.preset is not None:
            return PRESETS[self.preset][0]
        return float(self.opportunities_lift)

    @property
    def label(self) -> str:
        """Where the lift comes from, to show beside any result that uses it."""
        if self.preset is not None:
            return PRESETS[self.preset][1]
        return f"Your assumption: social selling brings {self.lift:.0%} more opportunities"


PRESETS: dict[str, tuple[float, str]] = {
    "linkedin_ssi_claim": (
        0.45,
        "LinkedIn's claim: sellers with a high Social Selling Index create 45% more "
        "opportunities; a vendor's marketing figure, not a measured effect",
    ),
}
"""Social-selling presets: lift and the label that says where it comes from."""


class Network(Model):
    """Prospects live in a social graph: give exactly one of small_world, scale_free, complete,
    edge_list. Referrals go to neighbours; each customer among a prospect's contacts
    multiplies its Like and Trust pass probabilities by (1 + trust_boost), at most 1."""

    small_world: SmallWorld | None = None
    scale_free: ScaleFree | None = None
    complete: Complete | None = None
    edge_list: EdgeList | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    """The graph's own seed: the graph is the population, the same in every replication."""
    trust_boost: Annotated[NonNegativeFloat, Field(le=10.0)] = 0.0
    social_selling: SocialSelling | None = None

    @model_validator(mode="after")
    def _one_graph_that_fits(self) -> Network:
        given = [s for s in (self.small_world, self.scale_free, self.complete, self.edge_list)]
        if sum(s is not None for s in given) != 1:
            raise ValueError("give exactly one of: small_world, scale_free, complete, edge_list")
        spec = self.spec
        if not isinstance(spec, EdgeList) and spec.edges > MAX_EDGES:
            raise ValueError(
                f"a graph of {spec.nodes:,} nodes has {spec.edges:,} links; at most "
                f"{MAX_EDGES:,} fit in memory (fewer nodes, or fewer links per node)"
            )
        return self

    @property
    def spec(self) -> SmallWorld | ScaleFree | Complete | EdgeList:
        """The graph source given."""
        return next(
            s for s in (self.small_world, self.scale_free, self.complete, self.edge_list) if s
        )

    @property
    def nodes(self) -> int:
        """People in the graph: the market."""
        return build_graph(self.spec, self.seed).nodes if self.edge_list else self.spec.nodes


@dataclass(frozen=True, eq=False)
class Graph:
    """An undirected graph as CSR arrays: node v's neighbours are indices[indptr[v]:indptr[v+1]].

    `names` holds an edge list's ids by node (None for a generated graph).
    """

    indptr: np.ndarray
    indices: np.ndarray
    names: tuple[str, ...] | None = None

    @property
    def nodes(self) -> int:
        """Number of people."""
        return len(self.indptr) - 1

    @property
    def edges(self) -> int:
        """Number of undirected links."""
        return len(self.indices) // 2

    def degrees(self) -> np.ndarray:
        """Each node's number of neighbours."""
        return np.diff(self.indptr)


def build_graph(spec: SmallWorld | ScaleFree | Complete | EdgeList, seed: int) -> Graph:
    """The graph a spec describes, built once per process for each (spec, seed)."""
    if isinstance(spec, EdgeList):
        return load_edge_list(*_file_keys(spec.edges, spec.nodes))
    return _generate(spec, seed)


@functools.lru_cache(maxsize=4)
def _generate(spec: SmallWorld | ScaleFree | Complete, seed: int) -> Graph:
    rng = np.random.default_rng(seed)
    if isinstance(spec, Complete):
        n = spec.nodes
        others = np.tile(np.arange(n - 1, dtype=np.int32), n).reshape(n, n - 1)
        others += np.tri(n, n - 1, -1, dtype=np.int32) == 0  # skip the node itself
        indptr = np.arange(0, n * (n - 1) + 1, n - 1, dtype=np.int64)
        return Graph(indptr, others.ravel())
    if isinstance(spec, SmallWorld):
        return _csr(spec.nodes, *_small_world(spec, rng))
    return _csr(spec.nodes, *_scale_free(spec, rng))


def _small_world(spec: SmallWorld, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Watts-Strogatz links: a ring lattice, each link's far end rewired with prob `rewire`.

    Rewiring is drawn for all links at once, so a rewired link that lands on a self-link or
    an existing one is dropped (networkx redraws it); at 100k nodes that is a handful.
    """
    n, half = spec.nodes, spec.neighbours // 2
    near = np.repeat(np.arange(n, dtype=np.int64), half)
    far = (near + np.tile(np.arange(1, half + 1), n)) % n
    rewired = rng.random(len(far)) < spec.rewire
    far[rewired] = rng.integers(n, size=int(rewired.sum()))
    return near, far


def _scale_free(spec: ScaleFree, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Barabási-Albert links from a star of m + 1 nodes, each newcomer adding m links.

    Each link's far end is a uniform pick from the list of all earlier links' ends (so a
    node is picked in proportion to its degree); a pick that lands on a link's far end is
    that link's own pick, followed back until it meets a near end. A newcomer that picks
    one node twice gets one link to it (networkx redraws).
    """
    n, m = spec.nodes, spec.links_per_node
    links = m + (n - m - 1) * m
    near = np.zeros(links, dtype=np.int64)
    near[m:] = np.repeat(np.arange(m + 1, n, dtype=np.int64), m)
    far = np.zeros(links, dtype=np.int64)
    far[:m] = np.arange(1, m + 1)
    first_link = m + (near[m:] - m - 1) * m  # the newcomer's first link
    slot = np.zeros(links, dtype=np.int64)  # ends list: link e's near end at 2e, far end 2e+1
    slot[m:] = (rng.random(links - m) * 2 * first_link).astype(np.int64)
    todo = np.arange(m, links)
    pick = slot[m:].copy()
    while len(todo):
        link, is_far = pick >> 1, (pick & 1).astype(bool)
        near_end = ~is_far
        far[todo[near_end]] = near[link[near_end]]
        seed_far = is_far & (link < m)
        far[todo[seed_far]] = far[link[seed_far]]
        chase = is_far & (link >= m)
        todo, pick = todo[chase], slot[link[chase]]
    return near, far


def _csr(n: int, a: np.ndarray, b: np.ndarray) -> Graph:
    """CSR arrays of the undirected graph with links a-b; self-links and repeats dropped."""
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    pairs = np.unique(lo * n + hi)
    lo, hi = pairs // n, pairs % n
    ends = np.concatenate([lo, hi])
    others = np.concatenate([hi, lo]).astype(np.int32)
    order = np.argsort(ends, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=indptr[1:])
    return Graph(indptr, others[order])


@functools.lru_cache(maxsize=4)
def load_edge_list(edges: tuple[str, int, int], nodes: tuple[str, int, int] | None = None) -> Graph:
    """Read an edge list (and its people) into a graph; a ValueError names file and line.

    Arguments are (path, mtime, size) keys, so an edited file is read again.
    """
    index: dict[str, int] = {}
    if nodes is not None:
        for line, row in _rows(nodes[0]):
            if row[0] in index:
                raise ValueError(f"{nodes[0]}: line {line}: '{row[0]}' is listed twice")
            index[row[0]] = len(index)
    a: list[int] = []
    b: list[int] = []
    for line, row in _rows(edges[0]):
        if len(row) < 2:
            raise ValueError(f"{edges[0]}: line {line}: a link needs two ids")
        for who in row[:2]:
            if who not in index:
                if nodes is not None:
                    raise ValueError(
                        f"{edges[0]}: line {line}: unknown node '{who}' "
                        f"(not in {Path(nodes[0]).name})"
                    )
                index[who] = len(index)
        a.append(index[row[0]])
        b.append(index[row[1]])
        if len(a) > MAX_EDGES:
            raise ValueError(
                f"{edges[0]}: more than {MAX_EDGES:,} links; at most that many fit in memory"
            )
    if len(index) < 2:
        raise ValueError(f"{edges[0]}: a graph needs at least two people")
    if len(index) > MAX_NODES:
        raise ValueError(f"{edges[0]}: {len(index):,} people; at most {MAX_NODES:,}")
    graph = _csr(len(index), np.array(a, dtype=np.int64), np.array(b, dtype=np.int64))
    return Graph(graph.indptr, graph.indices, tuple(index))


def _rows(path: str):
    """A CSV file's non-empty rows after the header, with their line numbers (from 1)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            next(reader, None)
            for row in reader:
                cells = [c.strip() for c in row]
                if any(cells):
                    yield reader.line_num, cells
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: cannot read: {err}") from None


class Neighbourhood:
    """A run's view of the graph: who each prospect is, who has bought, whom they know."""

    def __init__(self, graph: Graph, trust_boost: float, rng: np.random.Generator) -> None:
        self.graph, self._rng = graph, rng
        self._indptr, self._indices = graph.indptr, graph.indices
        self.customer = np.zeros(graph.nodes, dtype=bool)
        self._customer_nodes = np.empty(1024, dtype=np.int64)
        self._customers = 0
        self._node_of = np.empty(1024, dtype=np.int32)
        most = int(graph.degrees().max(initial=0))
        # (1 + boost)^m, kept finite so that a zero probability stays zero
        self._factor = np.exp(np.minimum(np.arange(most + 1) * np.log1p(trust_boost), 600.0))
        self._factor = self._factor.tolist()
        self._uniforms: list[float] = []

    def place(self, first: int, nodes: np.ndarray) -> None:
        """Prospects `first`, `first` + 1, ... are the people `nodes`."""
        end = first + len(nodes)
        if end > len(self._node_of):
            self._node_of.resize(max(end, 2 * len(self._node_of)), refcheck=False)
        self._node_of[first:end] = nodes

    def node(self, pid: int) -> int:
        """The person prospect `pid` is."""
        return int(self._node_of[pid])

    def bought(self, pid: int) -> None:
        """Prospect `pid` made a first purchase."""
        v = self._node_of[pid]
        self.customer[v] = True
        if self._customers == len(self._customer_nodes):
            self._customer_nodes.resize(2 * self._customers, refcheck=False)
        self._customer_nodes[self._customers] = v
        self._customers += 1

    def neighbour(self, pid: int) -> int:
        """A random contact of prospect `pid`, or -1 if they know no one."""
        v = self._node_of[pid]
        start, end = self._indptr[v], self._indptr[v + 1]
        if end == start:
            return -1
        if not self._uniforms:
            self._uniforms = self._rng.random(1024).tolist()
        return int(self._indices[start + int(self._uniforms.pop() * (end - start))])

    def trust_factor(self, pid: int) -> float:
        """(1 + boost)^m, m the customers among prospect `pid`'s contacts now."""
        v = self._node_of[pid]
        near = self._indices[self._indptr[v] : self._indptr[v + 1]]
        return self._factor[int(np.count_nonzero(self.customer[near]))]

    def near_customers(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """`n` people: each a random customer's random contact (random people while there are
        no customers); -1 where the customer knows no one."""
        if not self._customers:
            return rng.integers(self.graph.nodes, size=n)
        who = self._customer_nodes[rng.integers(self._customers, size=n)]
        start = self._indptr[who]
        degree = self._indptr[who + 1] - start
        offset = (rng.random(n) * degree).astype(np.int64)
        return np.where(degree > 0, self._indices[start + np.minimum(offset, degree - 1)], -1)
