"""A run's view of the social graph: who each prospect is, who has bought, whom they know."""

from __future__ import annotations

import numpy as np

from hourglass.config.graph import Graph


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
        """`n` people: each a random customer's random contact; -1 where the customer knows no one.

        While there are no customers, random people.
        """
        if not self._customers:
            return rng.integers(self.graph.nodes, size=n)
        who = self._customer_nodes[rng.integers(self._customers, size=n)]
        start = self._indptr[who]
        degree = self._indptr[who + 1] - start
        offset = (rng.random(n) * degree).astype(np.int64)
        return np.where(degree > 0, self._indices[start + np.minimum(offset, degree - 1)], -1)
