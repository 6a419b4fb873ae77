"""The work a run will do, estimated from the compiled plan before any simulation.

The engine spends its time and memory on rows of the event log (prospects, stage visits,
purchases, loyalty moves, referral contacts, committee answers), on the SimPy events behind
leads and referral contacts, and on the social graph. `estimate_work` follows the expected
flows through the funnel and the customers' life step by step over the horizon (prospects
found in a finite market, leads a busy team lets go cold, referred prospects arriving
warmer, customers moving between loyalty classes), so each row count is an expectation, not
a bound. Commands refuse an estimate over MAX_EVENTS or MAX_MEMORY_BYTES unless told to
allow it, and the engine stops a run that goes far past its own estimate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hourglass.config.loading import ScenarioError
from hourglass.config.plan import Plan, compile_plan
from hourglass.config.scenario import Scenario
from hourglass.config.sections import MAX_PROSPECTS_PER_DAY
from hourglass.stages import ACTIVE_CLASSES, DAYS_PER_MONTH, FUNNEL, LOYALTY_CLASSES

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

STEPS = 128
"""Time steps the estimate follows a horizon in (at least a day each)."""

ROW_BYTES = {"prospects": 17, "visits": 30, "purchases": 21, "moves": 13, "contacts": 13}
ANSWER_BYTES = 14
LUCK_BYTES = 600
"""Each contact's luck while its day's batch is walked: stages x fields of floats, and draws."""
LEAD_BYTES = 1_500
"""A lead decided one by one while it waits for its stage: its luck as Python floats, its event."""
EVENT_BYTES = 200
"""A scheduled referral contact: its SimPy timeout and heap entry."""
GROWTH = 1.5
"""Log columns grow by half again when full."""


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
    def driver(self) -> str:
        """The largest part of the work, in words."""
        return max(self.parts.items(), key=lambda item: item[1])[0]

    @property
    def ceiling(self) -> float:
        """Events past which the engine stops one run."""
        return CEILING_FACTOR * self.events_per_run + CEILING_SLACK

    def times(self, runs: int) -> WorkEstimate:
        """The same work repeated `runs` times (replications, grid points)."""
        return _replace(self, runs=runs)

    def summary(self) -> str:
        """One line: prospects, purchases, events and memory (per run, and in all)."""
        line = (
            f"about {_n(self.prospects)} prospects, {_n(self.purchases)} purchases, "
            f"{_n(self.events_per_run)} events and {_bytes(self.memory_bytes)} per run "
            f"(mostly {self.driver})"
        )
        if self.runs > 1:
            line += f"; {_n(self.events)} events in {self.runs:,} runs"
        return line

    def over_limit(self) -> str | None:
        """Why this work is over the limits (events, memory or both); None if it fits."""
        events_over = self.events / MAX_EVENTS
        memory_over = self.memory_bytes / MAX_MEMORY_BYTES
        reasons = []
        if events_over > 1.0:
            per_run = f"{_n(self.events_per_run)} per run, " if self.runs > 1 else ""
            reasons.append(
                f"about {_n(self.events)} events ({per_run}mostly {self.driver}), "
                f"{_times(events_over)} the limit of {_n(MAX_EVENTS)}"
            )
        if memory_over > 1.0:
            reasons.append(
                f"about {_bytes(self.memory_bytes)} of memory per run, "
                f"{_times(memory_over)} the limit of {_bytes(MAX_MEMORY_BYTES)}"
            )
        if not reasons:
            return None
        head = f"about {_n(self.prospects)} prospects over {self.horizon_days:g} days"
        if self.runs > 1:
            head += f" in each of {self.runs:,} runs"
        return f"{head}: {' and '.join(reasons)}"


def estimate_work(
    scenario: Scenario | Plan, reps: int = 1, known_customers: Sequence[float] = ()
) -> WorkEstimate:
    """Expected work of `reps` runs of the scenario (or its compiled plan).

    `known_customers` gives the first-purchase days of customers who join outside the funnel.
    """
    plan = _plan(scenario)
    flows = _Flows(plan)
    rows = flows.follow(sorted(known_customers))
    nodes, edges = _graph_size(plan.scenario)
    rows["memory_bytes"] = _memory(plan, rows, flows, nodes, edges)
    return WorkEstimate(
        horizon_days=plan.scenario.horizon_days,
        graph_nodes=nodes,
        graph_edges=edges,
        runs=reps,
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
        raise ValueError("no scenario to estimate")
    pick = np.unique(np.linspace(0, len(many) - 1, min(len(many), SAMPLE)).round().astype(int))
    plans = [_plan(many[i]) for i in pick]
    estimates = [estimate_work(plan) for plan in plans]
    largest = max(range(len(plans)), key=lambda i: estimates[i].events_per_run)
    heaviest = max(estimates, key=lambda e: e.memory_bytes).memory_bytes
    estimate = _replace(estimates[largest], memory_bytes=heaviest).times(len(many) * reps)
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
        hints.append(f"at most {fit:,} runs (replications x grid points)")
    days = _horizon_that_fits(plan, estimate.runs)
    if days is not None:
        hints.append(f"horizon_days of {days:g}")
    hints.append(f"a lower {_driver_field(plan, estimate.driver)}")
    return f"what would fit: {', or '.join(hints)}; --allow-large runs it anyway"


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
        return _arrivals_field(plan) + " (or referral.contacts_per_month)"
    fields = {
        "prospects": _arrivals_field(plan),
        "stage visits": _arrivals_field(plan),
        "purchases": "after_sale.repeat (repeat purchases per customer)",
        "loyalty moves": "after_sale.loyalty.transitions_per_month",
        "referral contacts": "referral.contacts_per_month",
        "committee answers": "committee.roles.*.people",
        "graph links": "the network's size (nodes or links per node)",
    }
    return fields[driver]


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


def _memory(plan: Plan, rows: dict[str, float], flows: _Flows, nodes: int, edges: int) -> float:
    """Bytes a run is expected to hold at its peak: log, batches, events, market, graph."""
    log = (
        sum(rows[name] * size for name, size in ROW_BYTES.items()) + rows["answers"] * ANSWER_BYTES
    )
    market = plan.scenario.market.size or 0
    graph = nodes * 9 + edges * 2 * 8 + rows["prospects"] * 4
    return (
        GROWTH * log
        + LUCK_BYTES * flows.largest_batch
        + LEAD_BYTES * flows.leads_in_flight
        + EVENT_BYTES * rows["contacts"]
        + market / 8
        + graph
    )


class _Flows:
    """Expected flows of one run, followed in steps over the horizon."""

    def __init__(self, plan: Plan) -> None:
        self.s = scenario = plan.scenario
        self.horizon = scenario.horizon_days
        self.dt = max(1.0, self.horizon / STEPS)
        self.steps = math.ceil(self.horizon / self.dt)
        self.outside = [list(by_month) for by_month in plan.outside_per_day]
        social = scenario.network.social_selling if scenario.network else None
        self.social_lift = social.lift if social else 0.0
        self.market = scenario.market.size
        self.stay = [stage.duration.mean for _, stage in scenario.funnel]
        self.worked = [name in plan.seller_of for name in FUNNEL]
        self.first_worked = self.worked.index(True) if any(self.worked) else -1
        self.cold = plan.pass_prob.tolist()
        self.warm = plan.pass_prob_referred.tolist()
        stop = max(self.first_worked, 0)
        self.to_team = [
            (math.prod(c[:stop]), math.prod(w[:stop]))
            for c, w in zip(self.cold, self.warm, strict=True)
        ]
        self._committee(plan)
        self._team(plan)
        self._customers(plan)
        self.largest_batch = min(
            max((max(r) for r in self.outside), default=0.0) * (1 + self.social_lift),
            MAX_PROSPECTS_PER_DAY * (1 + self.social_lift),
        )
        self.leads_in_flight = 0.0

    def _committee(self, plan: Plan) -> None:
        """Each deal's chance to pass its committee, its days there and the answers it gives."""
        committee = self.s.committee
        self.committee_stage = FUNNEL.index(committee.stage) if committee else -1
        self.committee = {}
        if committee is None:
            return
        worked = set(plan.seller_of.values())
        for kind, channel in (("cold", "default"), ("warm", "referral")):
            passed, days, answers = 1.0, 0.0, 0.0
            for role in committee.sequence(channel):
                spec = committee.roles[role]
                agree = committee.agreement_prob(role, worked)
                s, m = 1.0 - (1.0 - agree) * spec.weight, spec.people - 1.0
                answers += passed * (1.0 + m)
                days += (1.0 + m * s) * spec.delay.mean
                passed *= s * math.exp(-m * (1.0 - s))
            self.committee[kind] = (passed, days, answers)

    def _team(self, plan: Plan) -> None:
        """Leads the team can start per day: seats over the days a lead holds one."""
        sales = self.s.sales
        if sales is None or self.first_worked < 0:
            self.capacity = math.inf
            return
        held, reach = 0.0, 1.0
        for k in range(self.first_worked, len(FUNNEL)):
            if not self.worked[k]:
                break
            held += reach * self.stay[k]
            reach *= float(plan.mean_pass_prob[k])
        self.capacity = sales.sellers * sales.leads_per_seller / max(held, 1e-9)

    def _customers(self, plan: Plan) -> None:
        """Loyalty moves as a generator; repeat, referral and move rates per class and day."""
        after = self.s.after_sale
        n = len(LOYALTY_CLASSES)
        rate, dropout = _repeat_rate(plan)
        generator = np.zeros((n, n))
        for source, targets in after.loyalty.transitions_per_month.items():
            for target, per_month in targets.items():
                i, j = LOYALTY_CLASSES.index(source), LOYALTY_CLASSES.index(target)
                generator[i, j] += per_month / DAYS_PER_MONTH
        active = np.array([c in ACTIVE_CLASSES for c in LOYALTY_CLASSES], dtype=float)
        lapsed = LOYALTY_CLASSES.index("temporarily_lost")
        generator[:, lapsed] += active * rate * dropout
        moves = generator.sum(axis=1) - np.diag(generator)
        np.fill_diagonal(generator, 0.0)
        np.fill_diagonal(generator, -generator.sum(axis=1))
        contacts = np.array(
            [plan.contacts_per_month.get(c, 0.0) * plan.engage_skill for c in LOYALTY_CLASSES]
        )
        rates = np.stack([active * rate, contacts / DAYS_PER_MONTH, moves], axis=1)
        self.step_matrix, occupancy = _exp_and_integral(generator, self.dt)
        self.step_flows = occupancy @ rates  # a class's repeat buys, contacts, moves in a step
        self.start = LOYALTY_CLASSES.index(after.loyalty.start)
        self.antagonist = LOYALTY_CLASSES.index("antagonist")
        referral = self.s.referral
        self.win_prob = referral.win_prob if referral else 0.0
        self.referral_delay = referral.delay.mean if referral else 0.0
        self.drag = referral.antagonist_drag if referral else 0.0

    def follow(self, known: list[float]) -> dict[str, float]:
        """Step through the horizon; expected log rows of the run."""
        steps, dt = self.steps, self.dt
        buyers_in, referred_in = np.zeros(steps + 1), np.zeros(steps + 1)
        for day in known:
            buyers_in[min(int(day / dt), steps)] += 1.0
        total = dict.fromkeys(("prospects", "referred", "visits", "worked_visits"), 0.0)
        total |= dict.fromkeys(("customers", "purchases", "moves", "contacts", "answers"), 0.0)
        customers = np.zeros(len(LOYALTY_CLASSES))
        flows, step = self.step_flows, self.step_matrix
        reached = 0.0
        for i in range(steps):
            t = (i + 0.5) * dt
            month = int(t / DAYS_PER_MONTH)
            contacts = dt * sum(r[min(month, len(r) - 1)] for r in self.outside)
            contacts *= 1.0 + self.social_lift
            new = contacts
            if self.market:
                new = (self.market - reached) * -math.expm1(-contacts / self.market)
                reached += new
            warm = referred_in[i]
            total["prospects"] += new + warm
            total["referred"] += warm
            drag = (1.0 - self.drag) ** float(customers[self.antagonist]) if self.drag else 1.0
            self._funnel(t, new, warm, drag, buyers_in, total)
            customers[self.start] += buyers_in[i]
            total["customers"] += buyers_in[i]
            total["moves"] += buyers_in[i]
            bought, talked, moved = (customers @ flows).tolist()
            customers = customers @ step
            total["purchases"] += buyers_in[i] + bought
            total["contacts"] += talked
            total["moves"] += moved
            won = talked * self.win_prob
            if self.market:
                won = min(won * max(0.0, 1.0 - reached / self.market), self.market - reached)
                reached += won
            arrives = t + self.referral_delay
            if arrives < self.horizon:
                referred_in[int(arrives / dt)] += won
        return {name: float(value) for name, value in total.items()}

    def _funnel(self, t: float, cold: float, warm: float, drag: float, buyers_in, total) -> None:
        """Prospects entering Know at `t` walk the funnel; their buyers join later."""
        month = min(int(t / DAYS_PER_MONTH), len(self.cold) - 1)
        served = 1.0
        if self.first_worked >= 0:
            cold_share, warm_share = self.to_team[month]
            leads = (cold * cold_share + warm * warm_share) * drag / self.dt
            served = min(1.0, self.capacity / leads) if leads > 0 else 1.0
            self.leads_in_flight = max(self.leads_in_flight, leads * sum(self.stay))
        for kind, n, probs in (("cold", cold, self.cold[month]), ("warm", warm, self.warm[month])):
            if n <= 0.0:
                continue
            at, entering = t, n
            for k in range(len(FUNNEL)):
                if at >= self.horizon:
                    break
                total["visits"] += entering
                if self.worked[k]:
                    total["worked_visits"] += entering
                passing = probs[k] * (drag if k == 0 else 1.0)
                passing *= served if k == self.first_worked else 1.0
                at += self.stay[k]
                if k == self.committee_stage:
                    passed, days, answers = self.committee[kind]
                    total["answers"] += entering * probs[k] * answers
                    passing *= passed
                    at += days
                entering *= passing
            else:
                if at < self.horizon:
                    buyers_in[int(at / self.dt)] += entering


def _repeat_rate(plan: Plan) -> tuple[float, float]:
    """A customer's mean repeat purchases per day and chance to lapse after each."""
    repeat = plan.repeat
    if repeat is None:
        return 0.0, 0.0
    if repeat.simple is not None:
        simple = repeat.simple
        return simple.purchases_per_month / DAYS_PER_MONTH * plan.repeat_skill, simple.dropout_prob
    g = repeat.bgnbd
    return g.r / g.alpha / g.period_days * plan.repeat_skill, g.a / (g.a + g.b)


def _exp_and_integral(generator: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """exp(G dt) and the integral of exp(G s) for s in [0, dt] (Van Loan's block matrix)."""
    n = len(generator)
    block = np.zeros((2 * n, 2 * n))
    block[:n, :n] = generator
    block[:n, n:] = np.eye(n)
    full = _expm(block * dt)
    return full[:n, :n], full[:n, n:]


def _expm(matrix: np.ndarray) -> np.ndarray:
    """The matrix exponential by scaling and squaring a Taylor series.

    scipy's expm starts its BLAS threads on every call (milliseconds on a busy machine); a
    run asks for one small exponential, which numpy's products give in microseconds.
    """
    norm = float(np.abs(matrix).sum(axis=1).max())
    squarings = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    scaled = matrix / 2.0**squarings
    term = result = np.eye(len(matrix))
    for k in range(1, 14):  # |x| <= 0.5: the 14th term is below 1e-15
        term = term @ scaled / k
        result = result + term
    for _ in range(squarings):
        result = result @ result
    return result


def _replace(estimate: WorkEstimate, **changes: object) -> WorkEstimate:
    from dataclasses import replace

    return replace(estimate, **changes)


def _n(value: float) -> str:
    """A count as people read it: 12,345 or 3.6e10."""
    if value < 1e7:
        return f"{value:,.0f}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _times(ratio: float) -> str:
    return f"about {ratio:,.0f}x" if ratio >= 10 else f"about {ratio:.1f}x"


def _bytes(value: float) -> str:
    """Memory as people read it: 350 MB, 4.2 GB."""
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20)):
        if value >= size:
            return f"{value / size:,.1f} {unit}"
    return f"{value / 2**10:,.0f} kB"
