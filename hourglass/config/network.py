"""Network mode's scenario section: the social graph prospects live in, and social selling."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from hourglass.config.base import Model, NonNegativeFloat, Probability, exactly_one
from hourglass.config.graph import (
    MAX_EDGES,
    MAX_NODES,
    beside,
    build_graph,
    file_keys,
    load_edge_list,
)
from hourglass.i18n import _, grouped

SOCIAL_CHANNEL = "social_selling"
"""The channel of contacts that sellers' social selling brings."""

Nodes = Annotated[int, Field(ge=2, le=MAX_NODES)]


class SmallWorld(Model):
    """Watts-Strogatz: a ring where each person knows `neighbours` nearby, a share rewired."""

    kind: ClassVar[str] = "small_world"

    nodes: Nodes
    neighbours: Annotated[int, Field(ge=2, le=1000, multiple_of=2)]
    rewire: Probability

    @model_validator(mode="after")
    def _fewer_neighbours_than_people(self) -> SmallWorld:
        if self.neighbours >= self.nodes:
            raise ValueError(
                _("neighbours ({count}) must be fewer than nodes").format(count=self.neighbours)
            )
        return self

    @property
    def edges(self) -> int:
        """Links the graph has (rewiring keeps the count, bar a rare duplicate)."""
        return self.nodes * self.neighbours // 2


class ScaleFree(Model):
    """Barabási-Albert: each newcomer links to `links_per_node` people, the popular likelier."""

    kind: ClassVar[str] = "scale_free"

    nodes: Nodes
    links_per_node: Annotated[int, Field(ge=1, le=1000)]

    @model_validator(mode="after")
    def _fewer_links_than_people(self) -> ScaleFree:
        if self.links_per_node >= self.nodes:
            raise ValueError(
                _("links_per_node ({count}) must be fewer than nodes").format(
                    count=self.links_per_node
                )
            )
        return self

    @property
    def edges(self) -> int:
        """Links the graph has, at most (a newcomer's repeated pick is one link)."""
        return (self.nodes - self.links_per_node) * self.links_per_node


class Complete(Model):
    """Everyone knows everyone: the well-mixed market as a graph."""

    kind: ClassVar[str] = "complete"

    nodes: Nodes

    @property
    def edges(self) -> int:
        """Links the graph has."""
        return self.nodes * (self.nodes - 1) // 2


class EdgeList(Model):
    """A graph from CSV files beside the scenario: links (two ids a row), people (optional).

    Each file may open with a header row: a first row of whole-number ids, or one whose ids
    the other links name, is read as data. `edges` rows give two people's ids in their first
    two columns; `nodes` rows give one id in the first column. Without `nodes`, the people are
    those the links name. Self-links and repeated links are dropped.
    """

    kind: ClassVar[str] = "edge_list"

    edges: str
    nodes: str | None = None

    @field_validator("edges", "nodes")
    @classmethod
    def _beside_the_scenario(cls, path: str | None, info: ValidationInfo) -> str | None:
        context = info.context or {}
        if path is not None and not context.get("files", True):
            raise ValueError(
                _(
                    "{path}: a scenario given here may not name files; run one with an edge "
                    "list from its file: hourglass run SCENARIO"
                ).format(path=path)
            )
        folder = context.get("folder")
        if path is None or (folder is None and Path(path).is_absolute()):
            return path
        if folder is None:
            raise ValueError(
                _(
                    "{path}: an edge list must sit beside a scenario file; load the scenario "
                    "from its file (an uploaded scenario has no folder to find it in)"
                ).format(path=path)
            )
        return beside(Path(folder), path)

    @model_validator(mode="after")
    def _readable(self) -> EdgeList:
        load_edge_list(*file_keys(self.edges, self.nodes))
        return self


class SocialSelling(Model):
    """Sellers' social selling: an outside channel landing on customers' contacts.

    It brings `opportunities_lift` x the paid and organic contacts; the lift is your own or a
    preset.
    """

    opportunities_lift: Annotated[float, Field(ge=0.0, le=10.0)] | None = None
    preset: Literal["linkedin_ssi_claim"] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SocialSelling:
        exactly_one(self, ("opportunities_lift", "preset"))
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


GRAPHS = ("small_world", "scale_free", "complete", "edge_list")
"""The ways to give a network's graph; a network gives exactly one."""


class Network(Model):
    """Prospects live in a social graph, and referrals go to neighbours.

    Give exactly one of small_world, scale_free, complete, edge_list. Each customer among a
    prospect's contacts multiplies its Like and Trust pass probabilities by (1 + trust_boost), at
    most 1.
    """

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
        exactly_one(self, GRAPHS)
        spec = self.spec
        if not isinstance(spec, EdgeList) and spec.edges > MAX_EDGES:
            raise ValueError(
                _(
                    "a graph of {nodes} nodes has {links} links; at most {limit} fit in memory "
                    "(fewer nodes, or fewer links per node)"
                ).format(
                    nodes=grouped(spec.nodes), links=grouped(spec.edges), limit=grouped(MAX_EDGES)
                )
            )
        return self

    @property
    def spec(self) -> SmallWorld | ScaleFree | Complete | EdgeList:
        """The graph source given."""
        return getattr(self, exactly_one(self, GRAPHS))

    @property
    def nodes(self) -> int:
        """People in the graph: the market."""
        return build_graph(self.spec, self.seed).nodes if self.edge_list else self.spec.nodes
