"""Social graphs as CSR arrays: generated (small world, scale free, complete) or read from CSV.

A graph is built once per (graph spec, seed) and kept for the process: the graph is the
population, fixed across replications.
"""

from __future__ import annotations

import csv
import functools
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

from hourglass.config.reasons import os_reason
from hourglass.i18n import _, grouped

if TYPE_CHECKING:
    from hourglass.config.network import Complete, EdgeList, ScaleFree, SmallWorld

MAX_EDGES = 5_000_000
"""Largest graph, in undirected links. A run holds 8 bytes a link (int32 both ways), but
building one (int64 pair lists, their sort and the de-duplication) peaks near 100 bytes a
link: 5 million links take about half a gigabyte while the graph is built."""

MAX_NODES = 20_000_000
"""Largest graph, in people: a run keeps a few bytes per person beside the links."""

MAX_EDGE_FILE_BYTES = 200_000_000
"""Largest edge list or people file: MAX_EDGES links of two ids up to about 18 characters."""


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
    if spec.kind == "edge_list":
        return load_edge_list(*file_keys(spec.edges, spec.nodes))
    return _generate(spec, seed)


@functools.lru_cache(maxsize=4)
def _generate(spec: SmallWorld | ScaleFree | Complete, seed: int) -> Graph:
    rng = np.random.default_rng(seed)
    if spec.kind == "complete":
        n = spec.nodes
        others = np.tile(np.arange(n - 1, dtype=np.int32), n).reshape(n, n - 1)
        others += np.tri(n, n - 1, -1, dtype=np.int32) == 0  # skip the node itself
        indptr = np.arange(0, n * (n - 1) + 1, n - 1, dtype=np.int64)
        return Graph(indptr, others.ravel())
    if spec.kind == "small_world":
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
        rows = _rows(nodes[0])
        first = next(rows, None)
        listed = ([first] if first and _numeric(first[1][:1]) else []) + list(rows)
        for line, row in listed:
            if row[0] in index:
                raise ValueError(
                    _("{path}: line {line}: '{id}' is listed twice").format(
                        path=nodes[0], line=line, id=row[0]
                    )
                )
            index[row[0]] = len(index)
    a: list[int] = []
    b: list[int] = []
    rows = _rows(edges[0])
    first = next(rows, None)
    if first is not None and _numeric(first[1][:2]):  # no header: numeric ids are a link
        _link(first, edges[0], nodes, index, a, b)
        first = None
    for row in rows:
        _link(row, edges[0], nodes, index, a, b)
    # a first row whose ids other links name is a link too, not a header
    if first is not None and len(first[1]) >= 2 and all(who in index for who in first[1][:2]):
        _link(first, edges[0], nodes, index, a, b)
    if len(index) < 2:
        raise ValueError(_("{path}: a graph needs at least two people").format(path=edges[0]))
    if len(index) > MAX_NODES:
        raise ValueError(
            _("{path}: {count} people; at most {limit}").format(
                path=edges[0], count=grouped(len(index)), limit=grouped(MAX_NODES)
            )
        )
    graph = _csr(len(index), np.array(a, dtype=np.int64), np.array(b, dtype=np.int64))
    return Graph(graph.indptr, graph.indices, tuple(index))


def _numeric(ids: list[str]) -> bool:
    """Whether every one of the ids is a whole number: data, not a header's names."""
    return bool(ids) and all(who.isdigit() for who in ids)


def _link(
    numbered: tuple[int, list[str]],
    path: str,
    nodes: tuple[str, int, int] | None,
    index: dict[str, int],
    a: list[int],
    b: list[int],
) -> None:
    """Add one row's link, indexing people the links name (unless a people file lists them)."""
    line, row = numbered
    if len(row) < 2:
        raise ValueError(
            _("{path}: line {line}: a link needs two ids").format(path=path, line=line)
        )
    for who in row[:2]:
        if who not in index:
            if nodes is not None:
                raise ValueError(
                    _("{path}: line {line}: unknown node '{id}' (not in {nodes})").format(
                        path=path, line=line, id=who, nodes=Path(nodes[0]).name
                    )
                )
            index[who] = len(index)
    a.append(index[row[0]])
    b.append(index[row[1]])
    if len(a) > MAX_EDGES:
        raise ValueError(
            _("{path}: more than {limit} links; at most that many fit in memory").format(
                path=path, limit=grouped(MAX_EDGES)
            )
        )


def _rows(path: str) -> Iterator[tuple[int, list[str]]]:
    """A CSV file's non-empty rows, the first (perhaps a header) too, with their line numbers."""
    reader = None
    try:
        with _open_regular(path) as f:
            reader = csv.reader(f)
            for row in reader:
                cells = [c.strip() for c in row]
                if any(cells):
                    yield reader.line_num, cells
    except OSError as err:
        raise ValueError(
            _("{source}: cannot read: {reason}").format(source=path, reason=os_reason(err))
        ) from None
    except UnicodeDecodeError as err:
        raise ValueError(
            _("{path}: not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8").format(
                path=path, byte=err.object[err.start]
            )
        ) from None
    except csv.Error as err:
        line = _(": line {line}").format(line=reader.line_num) if reader is not None else ""
        problem = str(err)
        if "field larger than field limit" in problem:
            problem = _(
                "a field longer than {limit} characters; an id is a short name "
                "(is a quote left open?)"
            ).format(limit=grouped(csv.field_size_limit()))
        raise ValueError(
            _("{path}{line}: not a CSV file: {problem}").format(
                path=path, line=line, problem=problem
            )
        ) from None


def _open_regular(path: str) -> TextIO:
    """A regular file opened for reading as text; a FIFO or device is refused, not waited on."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        _check_regular(path, os.fstat(fd))
        return os.fdopen(fd, newline="", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def _check_regular(path: str, info: os.stat_result) -> None:
    """Refuse what is not a regular file, or one over MAX_EDGE_FILE_BYTES."""
    if not stat.S_ISREG(info.st_mode):
        if stat.S_ISDIR(info.st_mode):
            raise ValueError(_("{path}: a folder; an edge list is a CSV file").format(path=path))
        raise ValueError(
            _("{path}: not a regular file (a device or pipe); an edge list is a CSV file").format(
                path=path
            )
        )
    if info.st_size > MAX_EDGE_FILE_BYTES:
        raise ValueError(
            _("{path}: {size} bytes; an edge list may hold at most {limit}").format(
                path=path, size=grouped(info.st_size), limit=grouped(MAX_EDGE_FILE_BYTES)
            )
        )


def beside(folder: Path, path: str) -> str:
    """The absolute path of a file the scenario in `folder` names; refused outside the folder.

    The path is resolved (`..` and symbolic links followed) before it is checked.
    """
    home = folder.resolve()
    if "\0" in path:
        raise ValueError(
            _("{source}: not a file name (it holds a NUL character)").format(source=repr(path))
        )
    target = (home / path).resolve()
    if not target.is_relative_to(home):
        raise ValueError(
            _(
                "{path}: outside the scenario's folder ({folder}); put the file beside the "
                "scenario file, or in a folder below it"
            ).format(path=path, folder=home)
        )
    return str(target)


def file_keys(edges: str, nodes: str | None) -> tuple[tuple[str, int, int], ...]:
    """Each file's path, modification time and size: a cache key that sees edits.

    A path that is no regular file, or one too large, is refused here, before it is read.
    """
    keys = []
    for path in (edges, nodes):
        if path is None:
            continue
        try:
            info = os.stat(path)
        except OSError as err:
            raise ValueError(
                _("{source}: cannot read: {reason}").format(source=path, reason=os_reason(err))
            ) from None
        _check_regular(path, info)
        keys.append((path, info.st_mtime_ns, info.st_size))
    return tuple(keys)
