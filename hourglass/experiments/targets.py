"""Solve for a target: the cheapest monthly budget that reaches so many customers by a month.

The run is cut at the end of the target's month. For each total tried, the free budget lines
(those not following a month-by-month plan) are split as the steady optimiser splits them
(`allocation_search.search_amounts`) to get the most of the target's KPI; `brentq` then finds
the cheapest total whose best split meets the target, within an allowed budget (by default ten
times the current one). The expectation (`theory.expected_outcome` with `queues`) counts the
sales team's queues month by month, so past what the sellers can work more money brings no
more buyers, or fewer: a target beyond the best any allowed budget gives is refused with that
best and the budget giving it. Replications at the budget found then say what the simulation
makes of it: the mean with its 95% confidence interval, and the chance that a run meets the
target, with its Wilson interval. Half the runs meeting it is what a budget aimed at the
expectation gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize as scipy_optimize
from scipy import stats

from hourglass.config.arguments import as_scenario, whole_number
from hourglass.config.budgets import budget_lines, planned_lines, with_budgets
from hourglass.config.scenario import Scenario, ScenarioError
from hourglass.experiments.allocation_search import search_amounts
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
    """The scenario at the cheapest budget whose expectation meets the target, it, the value.

    The budget is split over the lines as best for the target at every total tried (see the
    module). Refuses a target the allowed budget (`most` a month; ten times the current by
    default) cannot reach, saying the most it reaches, and whether the sellers cap it.
    """
    scenario = as_scenario(scenario)
    _check_target(target_of, target)
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
    lines = Lines(cut, current, {k: budget_lines(scenario)[k] for k in planned}, kpi)
    if lines.value(0.0) >= target:
        notes.append(_("the target is met without money on the lines"))
        budget = 0.0
    else:
        top = most if lines.value(most) >= target else _peak(lines, most)
        if (best := lines.value(top)) < target:
            raise TargetError(_out_of_reach(lines, target_of, target, month, (most, top), best))
        budget = scipy_optimize.brentq(
            lambda b: lines.value(b) - target, 0.0, top, xtol=1e-9 * most
        )
        notes.extend(_split_note(lines, target, most, budget))
    return with_budgets(cut, lines.split(budget)), float(budget), lines.value(budget), notes


def _split_note(lines: Lines, target: float, most: float, budget: float) -> list[str]:
    """With several free lines, what keeping their current split would take instead."""
    if len(lines.current) < 2:
        return []
    scaled = scaled_budget(lines, target, most)
    if scaled is None:
        return [
            _("keeping the current split, {most} a month would not reach it").format(
                most=grouped(most, 0)
            )
        ]
    return [
        _("keeping the current split would take {scaled} a month, {more} more").format(
            scaled=grouped(scaled, 0), more=grouped(max(scaled - budget, 0.0), 0)
        )
    ]


def _check_target(target_of: str, target: float) -> None:
    """Refuse a target of an unknown kind or not a positive number."""
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


def _peak(lines: Lines, most: float) -> float:
    """The budget up to `most` whose expectation is highest.

    Past what the sellers can work, more money brings fewer buyers: the leads wait and go
    cold, and the market is used up sooner.
    """
    found = scipy_optimize.minimize_scalar(
        lambda b: -lines.value(b),
        bounds=(0.0, most),
        method="bounded",
        options={"xatol": 1e-3 * most},
    )
    return float(found.x) if -found.fun > lines.value(most) else most


def _out_of_reach(
    lines: Lines,
    target_of: str,
    target: float,
    month: int,
    budgets: tuple[float, float],
    best: float,
) -> str:
    """Why a target is refused: the most any allowed budget reaches; sellers, if they cap it.

    `budgets` holds the most allowed and the budget reaching the most.
    """
    most, top = budgets
    if top < most:
        return _(
            "{what}: {target} by month {month} cannot be reached: the most expected is {best}, "
            "at {top} a month; more money brings fewer, as the sales team cannot work more "
            "leads and they go cold waiting; hire sellers or choose a later month"
        ).format(
            target=grouped(target, 0),
            what=target_noun(target_of),
            month=month,
            top=grouped(top, 0),
            best=grouped(best, 0),
        )
    message = _(
        "{what}: {target} by month {month} cannot be reached within {most} a month: "
        "the most expected is {best}; allow a larger budget or a later month"
    ).format(
        target=grouped(target, 0),
        what=target_noun(target_of),
        month=month,
        most=grouped(most, 0),
        best=grouped(best, 0),
    )
    unqueued = lines.value(most, queues=False)
    if unqueued >= target and lines.cut.sales is not None:
        message += _(
            "; the sales team caps it: with unlimited sellers the expectation would be "
            "{free}, so hire sellers too"
        ).format(free=grouped(unqueued, 0))
    return message


@dataclass
class Lines:
    """The free lines of a run cut at the target's month, and the best split of a total.

    At each total the split maximises the target's expectation (`allocation_search`, the
    steady optimiser's search), queues for sellers included; one free line takes it all.
    """

    cut: Scenario
    current: dict[str, float]
    """The free lines' money now: the search's starting shares."""
    planned: dict[str, float]
    """Lines following a month-by-month plan, kept as they are."""
    kpi: str
    splits: dict[float, dict[str, float]] = field(default_factory=dict)

    def split(self, total: float) -> dict[str, float]:
        """The free lines' money a month that spends `total` best for the target."""
        if total not in self.splits:
            free = list(self.current)
            if len(free) == 1 or total <= 0.0:
                shares = np.array(list(self.current.values())) / sum(self.current.values())
                amounts = shares * total
            else:
                amounts = search_amounts(
                    with_budgets(self.cut, self.current),
                    free,
                    self.planned,
                    np.zeros(len(free)),
                    np.full(len(free), total),
                    total,
                    self.kpi,
                    queues=True,
                )
            self.splits[total] = dict(zip(free, amounts.tolist(), strict=True))
        return self.splits[total]

    def value(self, total: float, queues: bool = True) -> float:
        """The target's expectation with `total` a month on the free lines, split best."""
        spec = with_budgets(self.cut, self.split(total))
        return expected_outcome(spec, queues=queues)[self.kpi]


def scaled_budget(found: Lines, target: float, most: float) -> float | None:
    """The budget that meets the target keeping the current split (None: not within `most`)."""

    def value(total: float) -> float:
        now = sum(found.current.values())
        scaled = {k: v * total / now for k, v in found.current.items()}
        return expected_outcome(with_budgets(found.cut, scaled), queues=True)[found.kpi]

    if value(most) < target:
        return None
    if value(0.0) >= target:
        return 0.0
    return float(scipy_optimize.brentq(lambda b: value(b) - target, 0.0, most, xtol=1e-6 * most))


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
                "solved on is an approximation (the sellers' queues taken month by month as if "
                "steady, no antagonists), or the replications are too few; the simulated chance "
                "is the better guide"
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
