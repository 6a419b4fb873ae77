"""The work a run will do, estimated from the compiled plan before any simulation.

The engine spends its time and memory on rows of the event log (prospects, stage visits,
purchases, loyalty moves, referral contacts, committee answers), on the SimPy events behind
leads and referral contacts, and on the social graph. `estimate_work` follows the expected
flows through the funnel and the customers' life step by step over the horizon (prospects
found in a finite market, leads a busy team lets go cold, referred prospects arriving
warmer, customers moving between loyalty classes, the service ladder's moves), so each row
count is an expectation, not a bound. A scenario with segments is followed segment by
segment, each with its share of every channel's arrivals and of the market, and its own
pass probabilities, times, repeat buying, talk, committee and ladder (a segment's referred
prospects are counted in its own flows: the referral channel's shares are not followed).
Commands refuse an estimate over MAX_EVENTS or MAX_MEMORY_BYTES unless told to allow it,
and the engine stops a run that goes far past its own estimate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from hourglass.config.loading import ScenarioError
from hourglass.config.plan import Plan, compile_plan
from hourglass.config.scenario import Scenario
from hourglass.config.work_flows import Flows
from hourglass.config.work_segments import level_moves, segment_parts
from hourglass.i18n import _, grouped

MAX_EVENTS = 500_000_000
"""The most events (log rows and graph links) a command may simulate over all its runs."""

MAX_MEMORY_BYTES = 4 * 2**30
"""The most memory one run may be expected to hold."""

CEILING_FACTOR = 3.0
CEILING_SLACK = 200_000
"""A run stops past CEILING_FACTOR x its estimated events + CEILING_SLACK: a wrong estimate
cannot hold a machine for long."""

SAMPLE = 64
"""Grid points estimated at most; the largest stands for the others."""

ROW_BYTES = {
    "prospects": 17,
    "visits": 30,
    "purchases": 21,
    "moves": 13,
    "contacts": 13,
    "level_moves": 13,
}
ANSWER_BYTES = 14
LUCK_BYTES = 600
"""Each contact's luck while its day's batch is walked: stages x fields of floats, and draws."""
LEAD_BYTES = 1_500
"""A lead decided one by one while it waits for its stage: its luck as Python floats, its event."""
EVENT_BYTES = 200
"""A scheduled referral contact: its SimPy timeout and heap entry."""
GROWTH = 1.5
"""Log columns grow by half again when full."""
DAY_BATCH_EVENTS = 35.0
"""What one day's batch of one arrival stream costs, in events: a run steps through its
horizon a day at a time, and a channel's day took 160 us where an event took 4.8 us."""


class TooMuchWork(ScenarioError):
    """Work over the limits, refused before it starts; the message says what drives it."""


class WorkCeilingError(RuntimeError):
    """A run went far past its estimate and was stopped."""


@dataclass(frozen=True)
class WorkEstimate:
    """Expected work of `runs` runs of one scenario: log rows per run, events and memory."""

    horizon_days: float
    prospects: float
    """Prospects per run: outside arrivals that reach someone new, and referred ones."""
    referred: float
    visits: float
    worked_visits: float
    """Stage visits a seller works (leads decided one by one)."""
    customers: float
    purchases: float
    """First and repeat purchases."""
    moves: float
    contacts: float
    answers: float
    graph_nodes: int = 0
    graph_edges: int = 0
    memory_bytes: float = 0.0
    """Memory one run is expected to hold at its peak."""
    runs: int = 1
    day_batches: float = 0.0
    """Days stepped times arrival streams: a long horizon costs time though few arrive."""
    level_moves: float = 0.0
    """Service-level moves: each customer's start and every move up, down or out."""

    @property
    def parts(self) -> dict[str, float]:
        """Events per run, by what drives them."""
        return {
            "prospects": self.prospects,
            "stage visits": self.visits,
            "purchases": self.purchases,
            "loyalty moves": self.moves,
            "referral contacts": self.contacts,
            "committee answers": self.answers,
            "level moves": self.level_moves,
            "graph links": float(self.graph_edges),
        }

    @property
    def events_per_run(self) -> float:
        """Log rows and graph links of one run."""
        return sum(self.parts.values())

    @property
    def events(self) -> float:
        """Events over all runs."""
        return self.events_per_run * self.runs

    @property
    def effort_per_run(self) -> float:
        """The time one run takes, in events: its events and its days' batches."""
        return self.events_per_run + DAY_BATCH_EVENTS * self.day_batches

    @property
    def effort(self) -> float:
        """The time all runs take, in events."""
        return self.effort_per_run * self.runs

    @property
    def driver(self) -> str:
        """The largest part of the work, in words."""
        return max(self.parts.items(), key=lambda item: item[1])[0]

    @property
    def ceiling(self) -> float:
        """Events past which the engine stops one run."""
        return CEILING_FACTOR * self.events_per_run + CEILING_SLACK

    def times(self, runs: int) -> WorkEstimate:
        """The same work repeated `runs` times (replications, grid points)."""
        return replace(self, runs=runs)

    def summary(self) -> str:
        """One line: prospects, purchases, events and memory (per run, and in all)."""
        line = _(
            "about {prospects} prospects, {purchases} purchases, {events} events and "
            "{memory} per run (mostly {driver})"
        ).format(
            prospects=_n(self.prospects),
            purchases=_n(self.purchases),
            events=_n(self.events_per_run),
            memory=_bytes(self.memory_bytes),
            driver=driver_words(self.driver),
        )
        if self.runs > 1:
            line += _("; {events} events in {runs} runs").format(
                events=_n(self.events), runs=grouped(self.runs)
            )
        return line

    def over_limit(self) -> str | None:
        """Why this work is over the limits (events, memory or both); None if it fits."""
        events_over = self.events / MAX_EVENTS
        memory_over = self.memory_bytes / MAX_MEMORY_BYTES
        reasons = []
        if events_over > 1.0:
            per_run = ""
            if self.runs > 1:
                per_run = _("{events} per run, ").format(events=_n(self.events_per_run))
            reasons.append(
                _(
                    "about {events} events ({per_run}mostly {driver}), {times} the limit of {limit}"
                ).format(
                    events=_n(self.events),
                    per_run=per_run,
                    driver=driver_words(self.driver),
                    times=_times(events_over),
                    limit=_n(MAX_EVENTS),
                )
            )
        if memory_over > 1.0:
            reasons.append(
                _("about {memory} of memory per run, {times} the limit of {limit}").format(
                    memory=_bytes(self.memory_bytes),
                    times=_times(memory_over),
                    limit=_bytes(MAX_MEMORY_BYTES),
                )
            )
        if not reasons:
            return None
        head = _("about {prospects} prospects over {days} days").format(
            prospects=_n(self.prospects), days=f"{self.horizon_days:g}"
        )
        if self.runs > 1:
            head += _(" in each of {runs} runs").format(runs=grouped(self.runs))
        joined = _(" and ").join(reasons)
        return f"{head}: {joined}"


def estimate_work(
    scenario: Scenario | Plan, reps: int = 1, known_customers: Sequence[float] = ()
) -> WorkEstimate:
    """Expected work of `reps` runs of the scenario (or its compiled plan).

    `known_customers` gives the first-purchase days of customers who join outside the funnel;
    the scenario's starting customers join on day 0.
    """
    plan = _plan(scenario)
    rows: dict[str, float] = {}
    batch = in_flight = 0.0
    starting = plan.scenario.starting_customers
    known = [0.0] * (starting.count if starting else 0) + sorted(known_customers)
    for part, ladder in segment_parts(plan):
        flows = Flows(part)
        own = flows.follow(known)
        own["level_moves"] = level_moves(ladder, plan, flows)
        rows = {name: rows.get(name, 0.0) + value for name, value in own.items()}
        batch, in_flight = batch + flows.largest_batch, in_flight + flows.leads_in_flight
        known = []  # known customers join the first segment
    nodes, edges = _graph_size(plan.scenario)
    rows["memory_bytes"] = _memory(plan, rows, (batch, in_flight), nodes, edges)
    return WorkEstimate(
        horizon_days=plan.scenario.horizon_days,
        graph_nodes=nodes,
        graph_edges=edges,
        runs=reps,
        day_batches=math.ceil(plan.scenario.horizon_days) * max(1, len(plan.outside_per_day)),
        **rows,
    )


def check_work(
    scenarios: Scenario | Plan | Sequence[Scenario | Plan],
    reps: int = 1,
    *,
    allow_large: bool = False,
) -> WorkEstimate:
    """The work of `reps` runs of each scenario; TooMuchWork if over the limits.

    Unless `allow_large`. Of many scenarios (a grid) at most SAMPLE are estimated, evenly
    spread; the largest stands for every one, so the total is not understated.
    """
    many = scenarios if isinstance(scenarios, Sequence) else [scenarios]
    if not many:
        raise ValueError(_("no scenario to estimate"))
    pick = np.unique(np.linspace(0, len(many) - 1, min(len(many), SAMPLE)).round().astype(int))
    plans = [_plan(many[i]) for i in pick]
    estimates = [estimate_work(plan) for plan in plans]
    largest = max(range(len(plans)), key=lambda i: estimates[i].events_per_run)
    heaviest = max(estimates, key=lambda e: e.memory_bytes).memory_bytes
    estimate = replace(estimates[largest], memory_bytes=heaviest).times(len(many) * reps)
    refuse_large(estimate, plans[largest], allow_large=allow_large)
    return estimate


def refuse_large(
    estimate: WorkEstimate, scenario: Scenario | Plan, *, allow_large: bool = False
) -> None:
    """Raise TooMuchWork, saying what drives it and what would fit, if it is over the limits."""
    why = estimate.over_limit()
    if why is None or allow_large:
        return
    raise TooMuchWork(f"{why}; {what_would_fit(estimate, _plan(scenario))}")


def what_would_fit(estimate: WorkEstimate, plan: Plan) -> str:
    """What to change so that the work fits: fewer runs, a shorter horizon, the driver's field."""
    hints = []
    if estimate.runs > 1 and estimate.times(1).over_limit() is None:
        fit = int(min(MAX_EVENTS / max(estimate.events_per_run, 1.0), estimate.runs - 1))
        hints.append(
            _("at most {runs} runs (replications x grid points)").format(runs=grouped(fit))
        )
    days = _horizon_that_fits(plan, estimate.runs)
    if days is not None:
        hints.append(_("horizon_days of {days}").format(days=f"{days:g}"))
    hints.append(_("a lower {field}").format(field=_driver_field(plan, estimate.driver)))
    return _("what would fit: {hints}; --allow-large runs it anyway").format(
        hints=_(", or ").join(hints)
    )


def _plan(scenario: Scenario | Plan) -> Plan:
    return scenario if isinstance(scenario, Plan) else compile_plan(scenario)


def _horizon_that_fits(plan: Plan, runs: int) -> float | None:
    """The longest whole number of days (under the horizon) whose work fits, or None."""
    scenario = plan.scenario

    def fits(days: float) -> bool:
        shorter = scenario.model_copy(update={"horizon_days": days, "warmup_days": 0.0})
        return estimate_work(compile_plan(shorter), runs).over_limit() is None

    low, high = 0, math.ceil(scenario.horizon_days) - 1
    if high < 1 or not fits(1.0):
        return None
    low = 1
    while low < high:  # the largest day count that fits
        middle = (low + high + 1) // 2
        if fits(float(middle)):
            low = middle
        else:
            high = middle - 1
    return float(low)


def _driver_field(plan: Plan, driver: str) -> str:
    """The scenario field that drives `driver`, as written in a scenario file."""
    scenario = plan.scenario
    if driver in ("prospects", "stage visits") and scenario.referral is not None:
        return _arrivals_field(plan) + _(" (or referral.contacts_per_month)")
    fields = {
        "prospects": _arrivals_field(plan),
        "stage visits": _arrivals_field(plan),
        "purchases": _("after_sale.repeat (repeat purchases per customer)"),
        "loyalty moves": "after_sale.loyalty.transitions_per_month",
        "referral contacts": "referral.contacts_per_month",
        "committee answers": "committee.roles.*.people",
        "level moves": "after_sale.service_ladder.upgrade_per_month",
        "graph links": _("the network's size (nodes or links per node)"),
    }
    return fields[driver]


def driver_words(driver: str) -> str:
    """A part of the work (a key of WorkEstimate.parts) in the active language."""
    return {
        "prospects": _("prospects"),
        "stage visits": _("stage visits"),
        "purchases": _("purchases"),
        "loyalty moves": _("loyalty moves"),
        "referral contacts": _("referral contacts"),
        "committee answers": _("committee answers"),
        "level moves": _("service level moves"),
        "graph links": _("graph links"),
    }[driver]


def _arrivals_field(plan: Plan) -> str:
    """The field of the channel that brings the most contacts."""
    rates = plan.mean_outside_per_day()
    name = max(rates, key=lambda k: rates[k]) if rates else "organic"
    if name == "organic":
        return "channels.organic.prospects_per_day"
    return f"channels.paid.{name}.budget_per_month"


def _graph_size(scenario: Scenario) -> tuple[int, int]:
    """The network's people and links (0, 0 without one)."""
    network = scenario.network
    if network is None:
        return 0, 0
    spec = network.spec
    if network.edge_list is not None:
        from hourglass.config.graph import build_graph  # reads the files, cached

        graph = build_graph(spec, network.seed)
        return graph.nodes, graph.edges
    return spec.nodes, spec.edges


def _memory(
    plan: Plan, rows: dict[str, float], peaks: tuple[float, float], nodes: int, edges: int
) -> float:
    """Bytes a run is expected to hold at its peak: log, batches, events, market, graph.

    `peaks` are the largest day's batch and the leads in flight at most.
    """
    largest_batch, leads_in_flight = peaks
    log = (
        sum(rows[name] * size for name, size in ROW_BYTES.items()) + rows["answers"] * ANSWER_BYTES
    )
    market = plan.scenario.market.size or 0
    graph = nodes * 9 + edges * 2 * 8 + rows["prospects"] * 4
    return (
        GROWTH * log
        + LUCK_BYTES * largest_batch
        + LEAD_BYTES * leads_in_flight
        + EVENT_BYTES * rows["contacts"]
        + market / 8
        + graph
    )


def _n(value: float) -> str:
    """A count as people read it: 12,345 or 3.6e10."""
    if value < 1e7:
        return grouped(value)
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _times(ratio: float) -> str:
    return _("about {ratio}x").format(ratio=grouped(ratio, 0 if ratio >= 10 else 1))


def _bytes(value: float) -> str:
    """Memory as people read it: 350 MB, 4.2 GB."""
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20)):
        if value >= size:
            return f"{grouped(value / size, 1)} {unit}"
    return f"{grouped(value / 2**10)} kB"
