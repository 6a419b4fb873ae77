"""Budget allocation: search cheaply on the analytic expectation, confirm by simulation.

`optimize` spreads a total budget per month over a scenario's budget lines (paid channels,
stage budgets, repeat, refer) to maximise buyers, revenue, profit or customers at the
horizon, within per-line bounds and with some lines locked. The search runs on
`theory.expected_outcome`; the chosen allocation is then simulated against the current one
on common random numbers, and the gain is reported with its 95% confidence interval. A gain
whose interval includes zero is not confirmed, and says so.

The risk-aware objective (`profit_p10`) has no closed form: a few allocations (the mean's
optimum, an even split, each line at its most) are simulated on one block of replications,
the one with the highest 10th percentile of profit is kept, and its gain is confirmed on
another block, so that the choice does not flatter the gain.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from hourglass.config.arguments import as_scenario, whole_number
from hourglass.config.budgets import (
    budget_lines,
    line_path,
    planned_lines,
    with_budgets,
)
from hourglass.config.plan import compile_plan
from hourglass.config.scenario import Scenario, ScenarioError
from hourglass.experiments.allocation_search import feasible, search_amounts
from hourglass.experiments.comparison import compare_runs
from hourglass.experiments.replication import (
    Backend,
    Executor,
    Progress,
    Replications,
    replicate,
)
from hourglass.experiments.risk import (
    RISK_AWARE,
    best_candidate,
    percentile_change,
    risk_label,
)
from hourglass.i18n import _, get_language, grouped
from hourglass.kpis import KPIS
from hourglass.stages import DAYS_PER_MONTH
from hourglass.theory import expected_outcome

Objective = Literal["buyers", "revenue", "profit", "customers", "profit_p10"]
OBJECTIVE_KPIS: dict[str, str] = {
    "buyers": "buyers",
    "revenue": "revenue",
    "profit": "profit",
    "customers": "customers_end",
    "profit_p10": "profit",
}
"""Each objective and the KPI that measures it."""


def objective_label(objective: str, language: str = "en") -> str:
    """An objective as `language` names it: its KPI, or a percentile of it."""
    if objective in RISK_AWARE:
        return risk_label(objective)
    return KPIS[OBJECTIVE_KPIS[objective]].label(language)


@dataclass(frozen=True)
class Constraints:
    """Lines kept as they are, and bounds on the others' money per month."""

    locked: frozenset[str] = frozenset()
    minimum: Mapping[str, float] = field(default_factory=dict)
    maximum: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Gain:
    """The simulated change of the objective, optimal against current, with its 95% CI.

    For a risk-aware objective, `mean` is the change of the percentile, not of the mean.
    """

    mean: float
    ci_low: float
    ci_high: float
    pct: float


@dataclass(frozen=True)
class Optimization:
    """An allocation, what the expectation promised and what the simulation confirmed."""

    objective: str
    budget: float
    current: dict[str, float]
    optimal: dict[str, float]
    expected: dict[str, float]
    """The objective's analytic expectation: current and optimal."""
    gain: Gain
    confirmed: bool
    scenario: Scenario
    """The scenario with the optimal allocation."""
    marginal_roi: dict[str, float]
    """Per line, the expected profit of one more unit of money, at the current allocation."""
    reps: int
    seed: int
    notes: list[str]

    def objective_label(self) -> str:
        """The objective as the reader's language names it: its KPI, or a percentile of it."""
        return objective_label(self.objective, get_language())

    def verdict(self) -> str:
        """One plain sentence on the gain."""
        g = self.gain
        what = _(
            "{objective} {pct}% ({mean}), 95% CI [{low}, {high}] over {reps} paired replications"
        )
        what = what.format(
            objective=self.objective,
            pct=grouped(g.pct, 1, sign=True, grouping=False),
            mean=grouped(g.mean, 1, sign=True),
            low=grouped(g.ci_low, 1, sign=True),
            high=grouped(g.ci_high, 1, sign=True),
            reps=self.reps,
        )
        if self.confirmed:
            return _("Confirmed by simulation: {what}.").format(what=what)
        return _(
            "Not confirmed: the simulated gain's interval includes zero or lies below it "
            "({what}); keep the current allocation."
        ).format(what=what)

    def to_dict(self) -> dict:
        """Plain data: objective, budget, current, optimal, gain, confirmed, and the rest."""
        return {
            "objective": self.objective,
            "budget": self.budget,
            "current": self.current,
            "optimal": self.optimal,
            "gain": {
                "mean": self.gain.mean,
                "ci_low": self.gain.ci_low,
                "ci_high": self.gain.ci_high,
                "pct": self.gain.pct,
            },
            "confirmed": self.confirmed,
            "expected": self.expected,
            "marginal_roi": self.marginal_roi,
            "reps": self.reps,
            "seed": self.seed,
            "notes": self.notes,
        }


class OptimizeError(ValueError):
    """An optimisation that cannot be set up; the message says why."""


def optimize(
    scenario: Scenario,
    total_budget: float,
    objective: Objective = "profit",
    constraints: Constraints | None = None,
    *,
    reps: int = 20,
    seed: int | None = None,
    backend: Backend = "processes",
    progress: Progress | None = None,
    guard: Callable[[Scenario], None] | None = None,
    executor: Executor | None = None,
) -> Optimization:
    """Allocate `total_budget` per month over the budget lines; confirm the gain by simulation.

    `guard`, if given, sees the optimal scenario before it is simulated and may raise to stop.
    `executor`, if given, runs the confirming replications on its workers (not `backend`).
    """
    if objective not in OBJECTIVE_KPIS:
        raise OptimizeError(
            _("unknown objective '{objective}'; use one of {choices}").format(
                objective=objective, choices=", ".join(OBJECTIVE_KPIS)
            )
        )
    scenario = as_scenario(scenario)
    if whole_number(reps, "reps") < 2:
        raise OptimizeError(
            _(
                "reps: {reps} given; confirming a gain takes a confidence interval, which needs "
                "at least 2 paired replications (20 by default)"
            ).format(reps=reps)
        )
    seed = scenario.seed if seed is None else whole_number(seed, "seed")
    constraints = constraints or Constraints()
    current = budget_lines(scenario)

    def simulate(specs: dict[str, Scenario], block_seed: int) -> dict[str, Replications]:
        """Replications of each spec on `block_seed`, ticking one progress bar over them all."""
        for spec in specs.values():
            if guard is not None and spec is not scenario:
                guard(spec)
        runs, total = {}, len(specs) * reps
        for i, (name, spec) in enumerate(specs.items()):
            tick = (lambda d, _t, i=i: progress(i * reps + d, total)) if progress else None
            runs[name] = replicate(
                spec, reps, block_seed, backend, progress=tick, executor=executor
            )
        return runs

    kpi = OBJECTIVE_KPIS[objective]
    if objective in RISK_AWARE:
        optimal, notes = _least_risky(
            scenario, total_budget, objective, constraints, simulate, seed
        )
    else:
        optimal, notes = allocate(scenario, total_budget, objective, constraints)
    best = with_budgets(scenario, optimal)
    runs = simulate({"current": scenario, "optimal": best}, seed)
    gain = _gain(runs["current"], runs["optimal"], kpi, objective, seed)
    return Optimization(
        objective=objective,
        budget=total_budget,
        current=current,
        optimal=optimal,
        expected={
            "current": expected_outcome(scenario)[kpi],
            "optimal": expected_outcome(best)[kpi],
        },
        gain=gain,
        confirmed=bool(gain.ci_low > 0.0),
        scenario=best,
        marginal_roi=marginal_roi(scenario),
        reps=reps,
        seed=seed,
        notes=notes,
    )


def _least_risky(
    scenario: Scenario,
    total_budget: float,
    objective: str,
    constraints: Constraints,
    simulate: Callable[[dict[str, Scenario], int], dict[str, Replications]],
    seed: int,
) -> tuple[dict[str, float], list[str]]:
    """The candidate allocation a risk-aware objective scores highest on simulation."""
    candidates, notes = _risk_candidates(scenario, total_budget, constraints)
    # chosen on replications apart from those that confirm, so the choice does not
    # flatter the gain
    tried = simulate({k: with_budgets(scenario, v) for k, v in candidates.items()}, seed + 1)
    kpi = OBJECTIVE_KPIS[objective]
    outcomes = {k: run.kpis[kpi].to_numpy(dtype=float) for k, run in tried.items()}
    notes.append(
        _(
            "chosen by simulation among {count} allocations (the optimum of mean profit, "
            "an even split, each free line at its most) on {reps} other replications"
        ).format(count=len(candidates), reps=next(iter(tried.values())).reps)
    )
    return candidates[best_candidate(outcomes, objective)], notes


def _gain(
    current: Replications, optimal: Replications, kpi: str, objective: str, seed: int
) -> Gain:
    """The objective's change, optimal against current on paired replications, with its CI."""
    if objective in RISK_AWARE:
        before, after = (r.kpis[kpi].to_numpy(dtype=float) for r in (current, optimal))
        return Gain(*percentile_change(before, after, RISK_AWARE[objective], seed))
    row = compare_runs({"current": current, "optimal": optimal}).table.set_index("kpi").loc[kpi]
    return Gain(
        mean=float(row["delta"]),
        ci_low=float(row["ci_low"]),
        ci_high=float(row["ci_high"]),
        pct=float(row["delta_pct"]),
    )


def _risk_candidates(
    scenario: Scenario, total_budget: float, constraints: Constraints
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Allocations a risk-aware objective chooses among, and notes on the search.

    The optimum of mean profit, an even split of the free lines' money and each free line at
    its most, all within the bounds; the same allocation is tried once.
    """
    optimal, notes = allocate(scenario, total_budget, "profit", constraints)
    planned = planned_lines(scenario)
    free = [k for k in optimal if k not in constraints.locked and k not in planned]
    candidates = {"mean": optimal}
    if not free:
        return candidates, notes
    spend = sum(optimal[k] for k in free)
    low = np.array([constraints.minimum.get(k, 0.0) for k in free])
    high = np.array([min(constraints.maximum.get(k, spend), spend) for k in free])
    shapes = {"even": np.full(len(free), spend / len(free))}
    shapes.update({k: spend * np.eye(len(free))[i] for i, k in enumerate(free)})
    for name, shape in shapes.items():
        amounts = dict(zip(free, feasible(shape, low, high, spend).tolist(), strict=True))
        if not any(
            np.allclose([c[k] for k in free], list(amounts.values())) for c in candidates.values()
        ):
            candidates[name] = {**optimal, **amounts}
    return candidates, notes


def allocate(
    scenario: Scenario, total_budget: float, objective: Objective, constraints: Constraints
) -> tuple[dict[str, float], list[str]]:
    """The allocation that maximises the objective's expectation, and notes on the search."""
    current = budget_lines(scenario)
    _check_lines(scenario, constraints)
    if not math.isfinite(total_budget) or total_budget < 0:
        raise OptimizeError(
            _("the budget must be a non-negative amount, got {budget}").format(budget=total_budget)
        )
    planned = [k for k in planned_lines(scenario) if k not in constraints.locked]
    locked = {k: current[k] for k in current if k in constraints.locked or k in planned}
    free = [k for k in current if k not in locked]
    left = total_budget - sum(locked.values())
    if left < 0:
        raise OptimizeError(
            _("the locked lines take {locked} a month, more than the budget of {budget}").format(
                locked=grouped(sum(locked.values()), 2), budget=grouped(total_budget, 2)
            )
        )
    low = np.array([constraints.minimum.get(k, 0.0) for k in free])
    high = np.array([constraints.maximum.get(k, left) for k in free])
    bad = [k for k, lo, hi in zip(free, low, high, strict=True) if lo > hi]
    if bad:
        line, least = bad[0], constraints.minimum[bad[0]]
        most = (
            _("its maximum of {amount}").format(amount=grouped(constraints.maximum[line], 2))
            if line in constraints.maximum
            else _("the {amount} a month the budget leaves after the locked lines").format(
                amount=grouped(left, 2)
            )
        )
        raise OptimizeError(
            _(
                "'{line}': its minimum of {least} is above {most}; lower the minimum or raise "
                "the budget"
            ).format(line=line, least=grouped(least, 2), most=most)
        )
    if low.sum() > left:
        raise OptimizeError(
            _(
                "the free lines' minima add up to {total}, more than the {left} a month left "
                "to allocate"
            ).format(total=grouped(low.sum(), 2), left=grouped(left, 2))
        )
    notes = [
        _("'{line}' follows a month-by-month plan, which the optimiser keeps as it is").format(
            line=k
        )
        for k in planned
    ]
    if not free:
        notes.append(_("every line is locked: nothing to allocate"))
        return dict(current), notes
    spend = left
    if high.sum() < left:
        spend = float(high.sum())
        notes.append(
            _(
                "the free lines' maxima add up to {total}: {unspent} of the budget is left unspent"
            ).format(total=grouped(spend, 2), unspent=grouped(left - spend, 2))
        )
    amounts = search_amounts(
        scenario, free, locked, low, np.minimum(high, spend), spend, OBJECTIVE_KPIS[objective]
    )
    optimal = {k: locked.get(k, 0.0) for k in current}
    optimal.update(dict(zip(free, amounts.tolist(), strict=True)))
    return optimal, notes


def marginal_roi(scenario: Scenario) -> dict[str, float]:
    """Per line: the expected profit of one more unit of money (0.5: 1.5 back per 1 spent).

    The derivative of profit with respect to the line's total spend over the horizon, on
    the analytic expectation: the unit itself and the costs it brings (bonuses, cost to
    serve) are netted out. At an optimum the lines that are free to move share one value.
    """
    months = scenario.horizon_days / DAYS_PER_MONTH
    profit = expected_outcome(scenario)["profit"]
    out = {}
    for line, amount in budget_lines(scenario).items():
        step = max(1.0, 0.01 * amount)
        more = expected_outcome(compile_plan(scenario, {line: amount + step}))["profit"]
        out[line] = (more - profit) / (step * months)
    return out


def _check_lines(scenario: Scenario, constraints: Constraints) -> None:
    """Refuse constraints on lines the scenario does not have."""
    named = set(constraints.locked) | set(constraints.minimum) | set(constraints.maximum)
    for line in sorted(named):
        try:
            line_path(scenario, line)
        except ScenarioError as err:
            raise OptimizeError(str(err)) from None
    for bound in (constraints.minimum, constraints.maximum):
        for line, value in bound.items():
            if not math.isfinite(value) or value < 0:
                raise OptimizeError(
                    _("'{line}': a bound must be a non-negative amount").format(line=line)
                )
