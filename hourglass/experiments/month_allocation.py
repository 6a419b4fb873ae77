"""Month-by-month budget plans: when to spend, not only where.

`plan_months` spends the same money as the steady optimum (`allocation.allocate`) over the
run, but lets it vary in time. The months are grouped into a few blocks of near-equal length;
each free paid channel and funnel stage gets one amount a month per block, and the lines that
can only spend steadily (repeat, refer, expand) keep one amount. SLSQP maximises the
objective's analytic expectation (`theory.expected_outcome` follows a plan day by day,
carry-over included) from the steady optimum, within the lines' bounds, with the run's total
fixed and at most `month_cap` spent in any month. Locked lines and lines already following a
plan stay as they are. The plan is then simulated against the steady optimum on common random
numbers, and the difference is reported with its 95% confidence interval.

Before the run every line is taken to have spent its steady optimum (its carry-over), so the
plan and the steady split differ only in when the money is spent during the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import optimize as scipy_optimize

from hourglass.config.arguments import as_scenario, whole_number
from hourglass.config.budgets import (
    months_of,
    with_budgets,
)
from hourglass.config.scenario import Scenario
from hourglass.experiments.allocation import (
    OBJECTIVE_KPIS,
    Constraints,
    Gain,
    Objective,
    OptimizeError,
    allocate,
)
from hourglass.experiments.comparison import compare_runs
from hourglass.experiments.month_layout import (
    Layout,
    amounts_of,
    check_cap,
    layout_for,
    room_under_cap,
)
from hourglass.experiments.month_risk import Simulator, least_risky_plan, risk_candidates
from hourglass.experiments.replication import Backend, Executor, Progress
from hourglass.experiments.risk import RISK_AWARE, percentile_change
from hourglass.i18n import _, grouped
from hourglass.kpis import KPIS, Better
from hourglass.theory import expected_outcome

COMPARED = ("profit", "customers_end")
"""KPIs every plan is compared on, besides its objective's."""


@dataclass(frozen=True)
class Compared:
    """One KPI's simulated mean under the steady split and the plan, and the paired change."""

    steady: float
    plan: float
    change: Gain


@dataclass(frozen=True)
class MonthPlan:
    """Money a month per line and block, what the expectation promised and what was simulated."""

    objective: str
    budget: float
    blocks: list[tuple[int, int]]
    """Each block's first and last month (from 1)."""
    steady: dict[str, float]
    """The steady optimum: each line's money per month, every month."""
    amounts: dict[str, list[float]]
    """Each line's money per month in each block."""
    marginal: dict[str, list[float]]
    """Per line varied by block: the objective's expected gain per unit of money more in each
    block. At the optimum the blocks with money share one value, up to the bounds and cap."""
    expected: dict[str, float]
    """The objective's analytic expectation: steady and plan."""
    compared: dict[str, Compared]
    confirmed: bool
    risk: Gain | None
    """For a risk-aware objective: its percentile's change, plan against steady split."""
    scenario: Scenario
    """The scenario following the plan."""
    reps: int
    seed: int
    notes: list[str]

    @property
    def gain(self) -> Gain:
        """The objective's simulated change, plan against steady split (a percentile's, if so)."""
        return self.risk or self.compared[OBJECTIVE_KPIS[self.objective]].change

    def verdict(self) -> str:
        """One plain sentence on the gain over the steady split."""
        g = self.gain
        what = _("{pct}% ({mean}), 95% CI [{low}, {high}] over {reps} paired replications").format(
            pct=grouped(g.pct, 1, sign=True, grouping=False),
            mean=grouped(g.mean, 1, sign=True),
            low=grouped(g.ci_low, 1, sign=True),
            high=grouped(g.ci_high, 1, sign=True),
            reps=self.reps,
        )
        if self.confirmed:
            return _("The plan beats the steady split: {what}.").format(what=what)
        return _(
            "Not confirmed: the plan's gain over the steady split has an interval that includes "
            "zero or lies below it ({what}); spending steadily does as well."
        ).format(what=what)

    def to_dict(self) -> dict:
        """Plain data: the blocks with their amounts, the steady split, the comparison."""
        return {
            "objective": self.objective,
            "budget": self.budget,
            "blocks": [
                {
                    "first_month": first,
                    "last_month": last,
                    "amounts": {line: v[i] for line, v in self.amounts.items()},
                    "marginal": {line: v[i] for line, v in self.marginal.items()},
                }
                for i, (first, last) in enumerate(self.blocks)
            ],
            "steady": self.steady,
            "expected": self.expected,
            "compared": {kpi: asdict(c) for kpi, c in self.compared.items()},
            "risk": asdict(self.risk) if self.risk else None,
            "confirmed": self.confirmed,
            "reps": self.reps,
            "seed": self.seed,
            "notes": self.notes,
        }


def plan_months(
    scenario: Scenario,
    total_budget: float,
    objective: Objective = "profit",
    constraints: Constraints | None = None,
    *,
    blocks: int = 3,
    month_cap: float | None = None,
    reps: int = 20,
    seed: int | None = None,
    backend: Backend = "processes",
    progress: Progress | None = None,
    guard: Callable[[Scenario], None] | None = None,
    executor: Executor | None = None,
) -> MonthPlan:
    """Plan `total_budget` a month (on average) month by month; compare it with the steady split.

    `month_cap`, if given, is the most spent on all lines together in any one month.
    """
    scenario = as_scenario(scenario)
    _check_arguments(scenario, objective, blocks, reps)
    seed = scenario.seed if seed is None else whole_number(seed, "seed")
    constraints = constraints or Constraints()
    steady, notes = allocate(scenario, total_budget, objective, constraints)
    layout = layout_for(scenario, steady, constraints, blocks, notes)
    if month_cap is not None:
        check_cap(layout, month_cap, total_budget)
    kpi = OBJECTIVE_KPIS[objective]
    x = _search(layout, constraints, month_cap, kpi) if layout.timed else None
    if layout.timed and x is None:
        notes.append(_("the search found no better plan within the limits: the steady split stays"))
        x = layout.start()
    start = with_budgets(scenario, steady)
    candidates = {}
    if objective in RISK_AWARE and x is not None:
        candidates = _within_limits(layout, constraints, month_cap, risk_candidates(layout, x))
    simulate = Simulator(reps, backend, (len(candidates) + 2) * reps, progress, guard, executor)
    if len(candidates) > 1:
        x, chosen = least_risky_plan(
            candidates,
            objective,
            lambda points, on: simulate({k: layout.scenario_for(v) for k, v in points.items()}, on),
            seed,
        )
        notes.extend(chosen)
    best = layout.scenario_for(x) if x is not None else start
    runs = simulate({"steady": start, "plan": best}, seed)
    table = compare_runs(runs).table.set_index("kpi")
    compared = {k: _compared(table.loc[k]) for k in dict.fromkeys((kpi, *COMPARED))}
    risk = None
    if objective in RISK_AWARE:
        before, after = (runs[k].kpis[kpi].to_numpy(dtype=float) for k in ("steady", "plan"))
        risk = Gain(*percentile_change(before, after, RISK_AWARE[objective], seed))
    return MonthPlan(
        objective=objective,
        budget=total_budget,
        blocks=layout.blocks,
        steady=steady,
        amounts=amounts_of(layout, x),
        marginal=_marginals(layout, x, kpi) if x is not None else {},
        expected={
            "steady": expected_outcome(start, queues=True)[kpi],
            "plan": expected_outcome(best, queues=True)[kpi],
        },
        compared=compared,
        confirmed=bool((risk or compared[kpi].change).ci_low > 0.0),
        risk=risk,
        scenario=best,
        reps=reps,
        seed=seed,
        notes=notes,
    )


def _within_limits(
    layout: Layout,
    constraints: Constraints,
    month_cap: float | None,
    candidates: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """The candidate points within the lines' bounds and the month cap."""
    lines = [k for k in layout.timed for _block in layout.blocks] + layout.flat
    low = np.array([constraints.minimum.get(k, 0.0) for k in lines])
    high = np.array([constraints.maximum.get(k, np.inf) for k in lines])
    kept = {}
    for name, x in candidates.items():
        inside = np.all(x >= low - 1e-6) and np.all(x <= high + 1e-6)
        if month_cap is not None:
            inside = inside and np.all(room_under_cap(layout, x, month_cap) >= -1e-6)
        if inside:
            kept[name] = x
    return kept


def _check_arguments(scenario: Scenario, objective: str, blocks: int, reps: int) -> None:
    """Refuse an objective without an expectation, a number of blocks or reps out of range."""
    if objective not in OBJECTIVE_KPIS:
        raise OptimizeError(
            _("unknown objective '{objective}'; use one of {choices}").format(
                objective=objective, choices=", ".join(OBJECTIVE_KPIS)
            )
        )
    months = months_of(scenario)
    if not 1 <= whole_number(blocks, "blocks") <= months:
        raise OptimizeError(
            _("blocks: {blocks} given; the run has {months} months, so use 1 to {months}").format(
                blocks=blocks, months=months
            )
        )
    if whole_number(reps, "reps") < 2:
        raise OptimizeError(
            _(
                "reps: {reps} given; comparing the plan with the steady split takes a confidence "
                "interval, which needs at least 2 paired replications"
            ).format(reps=reps)
        )


def _search(
    layout: Layout, constraints: Constraints, month_cap: float | None, kpi: str
) -> np.ndarray | None:
    """The point maximising the KPI's expectation: bounds, the run's total, the month cap.

    None when the search ends off the limits or no better than the steady optimum.
    """
    sign = -1.0 if KPIS[kpi].better is Better.UP else 1.0  # scipy minimises
    start = layout.start()
    scale = max(float(start.max(initial=0.0)), 1.0)
    weights = layout.weights()
    total = float(weights @ start)
    lines = [k for k in layout.timed for _block in layout.blocks] + layout.flat
    # no line can spend more a month than the whole run's money in its shortest block
    most = total / float(weights.min()) if total else 0.0
    cap = most if month_cap is None else min(month_cap, most)
    low = np.array([constraints.minimum.get(k, 0.0) for k in lines]) / scale
    high = np.array([min(constraints.maximum.get(k, cap), cap) for k in lines]) / scale
    first = expected_outcome(layout.scenario_for(start), queues=True)[kpi]
    norm = abs(first) or 1.0

    def value(y: np.ndarray) -> float:
        point = np.maximum(y, 0.0) * scale
        return sign * expected_outcome(layout.scenario_for(point), queues=True)[kpi] / norm

    rules = [{"type": "eq", "fun": lambda y: (weights @ y) * scale / total - 1.0}] if total else []
    if month_cap is not None:
        rules.append(
            {"type": "ineq", "fun": lambda y: room_under_cap(layout, y * scale, month_cap) / scale}
        )
    found = scipy_optimize.minimize(
        value,
        np.clip(start / scale, low, high),
        method="SLSQP",
        bounds=list(zip(low, high, strict=True)),
        constraints=rules,
        options={"ftol": 1e-10, "maxiter": 300},
    )
    feasible = all(
        np.all(rule["fun"](found.x) >= -1e-6)
        if rule["type"] == "ineq"
        else np.all(np.abs(rule["fun"](found.x)) <= 1e-6)
        for rule in rules
    )
    if not feasible or value(found.x) > value(start / scale):
        return None
    return np.maximum(found.x, 0.0) * scale


def _marginals(layout: Layout, x: np.ndarray, kpi: str) -> dict[str, list[float]]:
    """Per timed line and block: the KPI's expected change per unit of money more there."""
    base = expected_outcome(layout.scenario_for(x), queues=True)[kpi]
    out: dict[str, list[float]] = {line: [] for line in layout.timed}
    for i, line in enumerate(layout.timed):
        for b, months in enumerate(layout.months_in_block):
            index = i * len(layout.blocks) + b
            step = max(1.0, 0.01 * x[index])
            more = x.copy()
            more[index] += step
            gained = expected_outcome(layout.scenario_for(more), queues=True)[kpi] - base
            out[line].append(gained / (step * months))
    return out


def _compared(row: pd.Series) -> Compared:
    """A comparison table's row as the steady mean, the plan's and the paired change."""
    return Compared(
        steady=float(row["base"]),
        plan=float(row["mean"]),
        change=Gain(
            mean=float(row["delta"]),
            ci_low=float(row["ci_low"]),
            ci_high=float(row["ci_high"]),
            pct=float(row["delta_pct"]),
        ),
    )
