"""Solve for a target: the monthly budget that reaches so many customers by a given month.

The scenario's budget lines keep their split and are scaled together; the run is cut at the
end of the target's month. `brentq` finds the scale at which the KPI's analytic expectation
(`theory.expected_outcome`) meets the target, within an allowed budget (by default ten times
the current one). Replications at that budget then say what the simulation makes of it: the
mean with its 95% confidence interval, and the chance that a run meets the target, with its
Wilson interval. Half the runs meeting it is what a budget aimed at the expectation gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize as scipy_optimize
from scipy import stats

from hourglass.config.arguments import as_scenario, whole_number
from hourglass.config.budgets import budget_lines, planned_lines, with_budgets
from hourglass.config.scenario import Scenario, ScenarioError
from hourglass.experiments.replication import (
    Backend,
    Executor,
    Progress,
    Replications,
    replicate,
    summarize,
)
from hourglass.i18n import _, grouped
from hourglass.stages import DAYS_PER_MONTH
from hourglass.theory import expected_outcome

TARGETS: dict[str, str] = {
    "customers": "customers_end",
    "buyers": "buyers",
    "revenue": "revenue",
}
"""What a target can count, and the KPI that counts it at the end of the target's month."""

ALLOWED_FACTOR = 10.0
"""Without a ceiling given, the budget may grow to this many times the current one."""


def target_noun(target_of: str) -> str:
    """What a target counts, as a plain noun in the active language."""
    nouns = {"customers": _("customers"), "buyers": _("buyers"), "revenue": _("revenue")}
    return nouns[target_of]


class TargetError(ValueError):
    """A target that cannot be solved for; the message says why."""


@dataclass(frozen=True)
class Reach:
    """The budget that reaches a target in expectation, and how often the simulation does."""

    target_of: str
    """customers, buyers or revenue."""
    target: float
    month: int
    budget: float
    """Money per month on the scaled lines."""
    amounts: dict[str, float]
    """Each line's money per month at that budget."""
    expected: float
    simulated: dict[str, float]
    """The KPI over the replications: mean, ci_low, ci_high (95% CI of the mean)."""
    chance: dict[str, float]
    """The share of replications meeting the target: share, ci_low, ci_high (Wilson, 95%)."""
    reps: int
    seed: int
    scenario: Scenario
    """The scenario at that budget, its run cut at the end of the month."""
    notes: list[str]

    def sentence(self) -> str:
        """The answer in one sentence, in the active language."""
        return _(
            "A budget of {budget} a month reaches the target ({what}: {target} by month {month}) "
            "in expectation; the simulation gives {mean} (95% CI {low} to {high}), and the target "
            "is met in {chance}% of runs (95% CI {chance_low}% to {chance_high}%, "
            "{reps} replications)."
        ).format(
            budget=grouped(self.budget, 0),
            target=grouped(self.target, 0),
            what=target_noun(self.target_of),
            month=self.month,
            mean=grouped(self.simulated["mean"], 0),
            low=grouped(self.simulated["ci_low"], 0),
            high=grouped(self.simulated["ci_high"], 0),
            chance=grouped(100 * self.chance["share"], 0),
            chance_low=grouped(100 * self.chance["ci_low"], 0),
            chance_high=grouped(100 * self.chance["ci_high"], 0),
            reps=self.reps,
        )

    def to_dict(self) -> dict:
        """Plain data: the target, the budget and its split, the expectation, the check."""
        return {
            "target_of": self.target_of,
            "kpi": TARGETS[self.target_of],
            "target": self.target,
            "month": self.month,
            "budget": self.budget,
            "amounts": self.amounts,
            "expected": self.expected,
            "simulated": self.simulated,
            "chance": self.chance,
            "reps": self.reps,
            "seed": self.seed,
            "notes": self.notes,
        }


def budget_for(
    scenario: Scenario,
    target_of: str,
    target: float,
    month: int,
    most: float | None = None,
) -> tuple[Scenario, float, float, list[str]]:
    """The scenario at the budget whose expectation meets the target, that budget, the value.

    Refuses a target the allowed budget (`most` a month; ten times the current by default)
    cannot reach, saying the most it reaches.
    """
    scenario = as_scenario(scenario)
    if target_of not in TARGETS:
        raise TargetError(
            _("unknown target '{given}'; use one of {choices}").format(
                given=target_of, choices=", ".join(TARGETS)
            )
        )
    if not (math.isfinite(target) and target > 0):
        raise TargetError(
            _("the target must be a positive number, got {target}").format(target=target)
        )
    cut = _cut_at(scenario, month)
    kpi = TARGETS[target_of]
    planned = planned_lines(scenario)
    current = {k: v for k, v in budget_lines(scenario).items() if k not in planned}
    now = sum(current.values())
    if now <= 0:
        raise TargetError(
            _(
                "the scenario spends nothing on budget lines that can be scaled; give a paid "
                "channel or a stage budget some money per month first"
            )
        )
    most = ALLOWED_FACTOR * now if most is None else most
    if not (math.isfinite(most) and most > 0):
        raise TargetError(
            _("the most budget must be a positive amount, got {most}").format(most=most)
        )
    notes = [
        _("'{line}' follows a month-by-month plan, which is kept as it is").format(line=k)
        for k in planned
    ]

    def value(budget: float) -> float:
        scaled = {k: v * budget / now for k, v in current.items()}
        return expected_outcome(with_budgets(cut, scaled))[kpi]

    if value(0.0) >= target:
        notes.append(_("the target is met without money on the lines"))
        budget = 0.0
    elif (best := value(most)) < target:
        raise TargetError(
            _(
                "{what}: {target} by month {month} cannot be reached within {most} a month: "
                "the most expected is {best}; allow a larger budget or a later month"
            ).format(
                target=grouped(target, 0),
                what=target_noun(target_of),
                month=month,
                most=grouped(most, 0),
                best=grouped(best, 0),
            )
        )
    else:
        budget = scipy_optimize.brentq(lambda b: value(b) - target, 0.0, most, xtol=1e-6)
    scaled = {k: v * budget / now for k, v in current.items()}
    return with_budgets(cut, scaled), float(budget), value(budget), notes


def reach_target(
    scenario: Scenario,
    target_of: str,
    target: float,
    month: int,
    *,
    most: float | None = None,
    reps: int = 20,
    seed: int | None = None,
    backend: Backend = "processes",
    progress: Progress | None = None,
    guard: Callable[[Scenario], None] | None = None,
    executor: Executor | None = None,
) -> Reach:
    """Solve for the budget on the expectation; check it on `reps` replications.

    `guard`, if given, sees the scenario at the budget found before it is simulated.
    """
    scenario = as_scenario(scenario)
    if whole_number(reps, "reps") < 2:
        raise TargetError(
            _("reps: {reps} given; the check's interval needs at least 2 replications").format(
                reps=reps
            )
        )
    seed = scenario.seed if seed is None else whole_number(seed, "seed")
    spec, budget, expected, notes = budget_for(scenario, target_of, target, month, most)
    if guard is not None:
        guard(spec)
    run = replicate(spec, reps, seed, backend, progress=progress, executor=executor)
    found = Found(target_of, target, month, budget, expected, notes)
    return reach_from(run, found)


@dataclass(frozen=True)
class Found:
    """What the expectation solved: the target, and the budget meeting it with its notes."""

    target_of: str
    target: float
    month: int
    budget: float
    expected: float
    notes: list[str]


def reach_from(run: Replications, found: Found) -> Reach:
    """The solved budget checked on replications of the scenario at that budget."""
    values = run.kpis[TARGETS[found.target_of]].to_numpy(dtype=float)
    summary = summarize(values)
    half = stats.t.ppf(0.975, len(values) - 1) * summary["sem"]
    met = int(np.sum(values >= found.target))
    low, high = stats.binomtest(met, len(values)).proportion_ci(0.95, method="wilson")
    simulated = {
        "mean": summary["mean"],
        "ci_low": summary["mean"] - half,
        "ci_high": summary["mean"] + half,
    }
    notes = list(found.notes)
    if not simulated["ci_low"] <= found.target <= simulated["ci_high"]:
        notes.append(
            _(
                "the simulated mean, {mean}, is off the target: the expectation the budget was "
                "solved on is first-order (no queues for sellers, no antagonists), or the "
                "replications are too few; the simulated chance is the better guide"
            ).format(mean=grouped(summary["mean"], 0))
        )
    return Reach(
        target_of=found.target_of,
        target=found.target,
        month=found.month,
        budget=found.budget,
        amounts=budget_lines(run.scenario),
        expected=found.expected,
        simulated=simulated,
        chance={"share": met / len(values), "ci_low": float(low), "ci_high": float(high)},
        reps=run.reps,
        seed=run.seed,
        scenario=run.scenario,
        notes=notes,
    )


def _cut_at(scenario: Scenario, month: int) -> Scenario:
    """The scenario run to the last whole day of `month` (from 1), after its warm-up."""
    if whole_number(month, "month") < 1:
        raise TargetError(_("the month must be 1 or later, got {month}").format(month=month))
    days = float(math.floor(month * DAYS_PER_MONTH))
    if scenario.warmup_days >= days:
        raise TargetError(
            _(
                "month {month} ends on day {days}, inside the warm-up of {warmup} days; "
                "choose a later month"
            ).format(month=month, days=grouped(days, 0), warmup=grouped(scenario.warmup_days, 0))
        )
    try:
        return scenario.with_overrides({"horizon_days": days})
    except ScenarioError as err:
        raise TargetError(_("month {month}: {why}").format(month=month, why=err)) from None
