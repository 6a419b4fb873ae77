"""The scenario: its sections validated together, loaded from YAML, changed by overrides."""

from __future__ import annotations

import datetime
import os
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hourglass.config.base import Model, did_you_mean
from hourglass.config.cohort import StartingCustomers
from hourglass.config.gaps import Gap, gap_entry
from hourglass.config.lesson import Lesson
from hourglass.config.loading import (
    DEFAULT_SCENARIO,
    ScenarioError,
    located,
    read_scenario_file,
    read_yaml,
    shipped_file,
)
from hourglass.config.network import SOCIAL_CHANNEL, Network
from hourglass.config.sections import (
    AfterSale,
    Channels,
    Committee,
    Market,
    Name,
    Referral,
    Sales,
    Stage,
    Stages,
)
from hourglass.config.segments import Segments, check_segment_parts, check_segments
from hourglass.config.sellers import check_hiring_in_run
from hourglass.i18n import _, grouped
from hourglass.stages import FUNNEL, SELLER_BESIDE, LabelSet

NoteText = Annotated[str, Field(min_length=1, max_length=1000)]
"""One line of a scenario's notes."""

MAX_SEED = 2**53 - 1
"""The largest seed a scenario may name: the largest whole number a browser holds exactly."""


class Scenario(Model):
    """A business, described well enough to simulate its hourglass."""

    name: Name
    description: str = ""
    description_ru: str = ""
    lesson: Lesson | None = None
    labels: LabelSet = "en"
    horizon_days: Annotated[float, Field(gt=0.0, le=36_500.0)]
    warmup_days: Annotated[float, Field(ge=0.0, le=36_500.0)] = 0.0
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 0
    start_date: datetime.date | None = None
    """The calendar date of day 0, which monthly forecasts are dated from."""
    network: Network | None = None
    market: Annotated[Market, Field(validate_default=True)] = Market()  # sized by a network
    channels: Channels
    stages: Stages
    sales: Sales | None = None
    after_sale: AfterSale
    referral: Referral | None = None
    committee: Committee | None = None
    not_estimated: (
        Annotated[
            list[Annotated[NoteText | Gap, BeforeValidator(gap_entry)]], Field(max_length=100)
        ]
        | None
    ) = None
    """Parts the data could not estimate, each with what the scenario assumes instead (a
    calibration writes them); every run of the scenario warns of them."""
    segments: Segments | None = None
    """Customer segments (config.segments); without them every prospect is alike."""
    starting_customers: StartingCustomers | None = None
    """Customers the business already has on day 0 (config.cohort)."""

    @model_validator(mode="after")
    def _segments_share_channels(self) -> Scenario:
        if self.segments is None:
            return self
        paid = list(self.channels.paid)
        organic = ["organic"] if self.channels.organic else []
        referral = ["referral"] if self.referral else []
        check_segments(
            self.segments,
            [*paid, "organic", "referral"],
            [*paid, *organic, *referral],
            self.referral is not None,
        )
        check_segment_parts(
            self.segments,
            self.after_sale.service_ladder,
            self.committee,
            [*paid, "organic", "referral"],
            set(self.worked.values()),
        )
        return self

    @model_validator(mode="after")
    def _starting_customers_could_have_stayed(self) -> Scenario:
        if self.starting_customers is not None:
            self.starting_customers.check_tenure(self.after_sale.repeat)
        return self

    @model_validator(mode="after")
    def _starting_customers_outside_a_network(self) -> Scenario:
        if self.starting_customers is not None and self.network is not None:
            raise ValueError(
                _(
                    "starting_customers: a network holds only the people in its graph, so "
                    "customers from before day 0 have no place in it; leave one of them out"
                )
            )
        return self

    @model_validator(mode="after")
    def _committee_fits(self) -> Scenario:
        if self.committee is None:
            return self
        channels = [*self.channels.paid, "organic", "referral"]
        for name in self.committee.order:
            if name != "default" and name not in channels:
                hint = did_you_mean(name, channels)
                raise ValueError(
                    _(
                        "committee.order.{name}: not a channel{hint} "
                        "(channels: {channels}, or default)"
                    ).format(name=name, hint=hint, channels=", ".join(channels))
                )
        worked = set(self.worked.values())
        for role, spec in self.committee.roles.items():
            idle = [s for s in spec.reached_by if s not in worked]
            if idle:
                raise ValueError(
                    _(
                        "committee.roles.{role}.reached_by.{stage}: the team does not work "
                        "this stage; add it to sales.stages"
                    ).format(role=role, stage=idle[0])
                )
        return self

    @field_validator("market")
    @classmethod
    def _market_is_the_graph(cls, market: Market, info: ValidationInfo) -> Market:
        network = info.data.get("network")
        if network is None:
            return market
        nodes = network.nodes
        if market.size is not None and market.size != nodes:
            raise ValueError(
                _(
                    "size {size} differs from the network's {nodes} people; "
                    "leave it out (the network is the market)"
                ).format(size=grouped(market.size), nodes=grouped(nodes))
            )
        return Market(size=nodes)

    @model_validator(mode="after")
    def _hiring_in_run(self) -> Scenario:
        if self.sales is not None and self.sales.roles:
            check_hiring_in_run(self.sales.roles, self.horizon_days)
        return self

    @model_validator(mode="after")
    def _sellers_do_social_selling(self) -> Scenario:
        if self.network is None or self.network.social_selling is None:
            return self
        if self.sales is None:
            raise ValueError(_("network.social_selling: sellers do it; add a sales section"))
        if SOCIAL_CHANNEL in self.channels.paid:
            raise ValueError(
                _(
                    "channels.paid.{channel}: the name of social selling's own channel; "
                    "call the paid one else"
                ).format(channel=SOCIAL_CHANNEL)
            )
        return self

    @field_validator("referral")
    @classmethod
    def _referrals_need_a_market(cls, referral: Referral | None, info: ValidationInfo):
        if "network" not in info.data:  # given but invalid: its own error says what is wrong
            return referral
        talks = referral is not None and any(referral.contacts_per_month.values())
        market = info.data.get("market")
        if talks and market is not None and market.size is None:
            raise ValueError(
                _(
                    "word of mouth needs a finite market: set market.size (in an unlimited "
                    "market referrals grow without end)"
                )
            )
        return referral

    @field_validator("warmup_days")
    @classmethod
    def _warmup_before_horizon(cls, warmup: float, info: ValidationInfo) -> float:
        horizon = info.data.get("horizon_days")
        if horizon is not None and warmup >= horizon:
            raise ValueError(
                _("must be shorter than horizon_days ({horizon}), got {warmup}").format(
                    horizon=f"{horizon:g}", warmup=f"{warmup:g}"
                )
            )
        return warmup

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """A new scenario with dotted field paths set (e.g. "sales.sellers"), validated anew."""
        data = self.to_dict()
        for path, value in overrides.items():
            _set_path(data, path, value)
        return parse_scenario(data, source="overrides")

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as a scenario file would hold it."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_yaml(self) -> str:
        """The scenario as YAML text that loads back to an equal scenario."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    @property
    def funnel(self) -> list[tuple[str, Stage]]:
        """The funnel stages in order, with their settings."""
        return [(name, self.stages[name]) for name in FUNNEL]

    @property
    def worked(self) -> dict[str, str]:
        """Each funnel stage a seller works, with the seller stage working it."""
        return {SELLER_BESIDE[w]: w for w in self.sales.worked_stages} if self.sales else {}


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set one dotted field; a section the scenario does not have is refused, not built.

    A section made here from its defaults would hold one field and do nothing a user
    meant (an empty referral section sends no one), so the user is asked to add it.
    """
    parts = path.split(".")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(node, dict):
            where = ".".join(parts[:depth])
            raise ScenarioError(
                _("overrides: {path}: '{where}' holds no fields").format(path=path, where=where)
            )
        if part not in node:
            section = ".".join(parts[: depth + 1])
            raise ScenarioError(
                _(
                    "overrides: {path}: the scenario has no '{section}' section; add it to the "
                    "scenario first, then change its fields"
                ).format(path=path, section=section)
            )
        node = node[part]
    if not isinstance(node, dict):
        raise ScenarioError(
            _("overrides: {path}: '{where}' holds no fields").format(
                path=path, where=".".join(parts[:-1])
            )
        )
    node[parts[-1]] = value


def parse_scenario(
    data: Any,
    source: str = "<scenario>",
    text: str | None = None,
    folder: Path | None = None,
    *,
    files: bool = True,
) -> Scenario:
    """Validate plain data into a Scenario; errors name the source, the field and the line.

    `folder` is where files the scenario names (a network's edge list) are looked for;
    with `files` false, a scenario that names any file is refused (e.g. an upload to a
    server, which must not open paths it is given).
    """
    if data is None:
        raise ScenarioError(
            _("{source}: holds nothing but comments; a scenario is a mapping").format(source=source)
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            _("{source}: a scenario is a mapping of keys to values, not {kind}").format(
                source=source, kind=type(data).__name__
            )
        )
    try:
        return Scenario.model_validate(data, context={"folder": folder, "files": files})
    except ValidationError as err:
        raise located(err, source, text) from None


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Load a scenario file (YAML), or a shipped scenario by name where no such file is.

    A name is e.g. `seller_bottleneck`; with no path, the shipped baseline is loaded.
    """
    if path is None:
        source, file = DEFAULT_SCENARIO, shipped_file(DEFAULT_SCENARIO)
    else:
        source, file = str(path), Path(path)
        if not os.path.lexists(file) and file.name == source:  # a bare name: a shipped one
            file = shipped_file(source)
    with resources.as_file(file) as real:
        text = read_scenario_file(real, source)
        return parse_scenario_text(text, source, real.resolve().parent)


def parse_scenario_text(
    text: str, source: str = "<scenario>", folder: Path | None = None, *, files: bool = True
) -> Scenario:
    """Parse YAML text into a Scenario; `folder` and `files` as in `parse_scenario`.

    Plain YAML only: no object tags.
    """
    return parse_scenario(read_yaml(text, source), source, text, folder, files=files)


def well_mixed(scenario: Scenario) -> Scenario:
    """The scenario without its network: a well-mixed market of as many people.

    Social selling, which needs the graph, goes with it.
    """
    if scenario.network is None:
        return scenario
    data = scenario.to_dict()
    del data["network"]
    return parse_scenario(data, source=f"{scenario.name} well mixed")
