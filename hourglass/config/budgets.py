"""Budget lines: the money a scenario spends per month, by lever, and what it buys.

A line is a paid channel (named as the channel), a funnel stage with a budget (know ...
buy), `repeat` (after_sale.budget), `refer` (referral.budget) or `expand`
(after_sale.service_ladder.budget). The scenario's plan
(`config.plan`) turns them into the rates the engine runs on.
"""

from __future__ import annotations

import math

import numpy as np

from hourglass.config.base import did_you_mean
from hourglass.config.response import Budget, spend_by_month
from hourglass.config.scenario import Scenario, ScenarioError
from hourglass.i18n import _
from hourglass.stages import DAYS_PER_MONTH

LOWER_LINES = {
    "repeat": "after_sale",
    "refer": "referral",
    "expand": "after_sale.service_ladder",
}
"""The lower half's lines and the scenario section holding their budget."""


def budget_lines(scenario: Scenario) -> dict[str, float]:
    """Money per month on each line, in a stable order: channels, stages, repeat, refer."""
    lines = {name: c.budget_per_month for name, c in scenario.channels.paid.items()}
    for name, budget in lever_budgets(scenario).items():
        lines[name] = budget.per_month
    return lines


def lever_budgets(scenario: Scenario) -> dict[str, Budget]:
    """The budgets on stages and on the lower half (not channels), by line name."""
    out = {name: st.budget for name, st in scenario.funnel if st.budget is not None}
    for line, section in LOWER_LINES.items():
        part = scenario
        for name in section.split("."):
            part = getattr(part, name) if part is not None else None
        if part is not None and part.budget is not None:
            out[line] = part.budget
    return out


def line_path(scenario: Scenario, line: str) -> str:
    """The dotted field path of a line's money per month; unknown lines are refused."""
    if line in scenario.channels.paid:
        return f"channels.paid.{line}.budget_per_month"
    levers = lever_budgets(scenario)
    if line in levers:
        section = LOWER_LINES.get(line, f"stages.{line}")
        return f"{section}.budget.per_month"
    known = list(budget_lines(scenario))
    raise ScenarioError(
        _("unknown budget line '{line}'{hint} (this scenario's lines: {lines})").format(
            line=line, hint=did_you_mean(line, known), lines=", ".join(known) or _("none")
        )
    )


def with_budgets(scenario: Scenario, amounts: dict[str, float]) -> Scenario:
    """The scenario with some lines' money per month changed, validated anew."""
    return scenario.with_overrides({line_path(scenario, k): v for k, v in amounts.items()})


def months_of(scenario: Scenario) -> int:
    """The months a run spans, the last one perhaps in part."""
    return max(1, math.ceil(scenario.horizon_days / DAYS_PER_MONTH))


def spend_per_day(scenario: Scenario, days: int) -> np.ndarray:
    """Fixed money on each of `days` days: budget lines (following their plans) and sellers.

    The sellers' pay follows each role's hiring plan and expected attrition (`pay_per_day`).
    """
    months = max(months_of(scenario), math.ceil(days / DAYS_PER_MONTH) + 1)
    monthly = np.zeros(months)
    for per_month, plan in _money_specs(scenario).values():
        monthly += spend_by_month(per_month, plan, months)
    month = (np.arange(days) / DAYS_PER_MONTH).astype(np.int64)
    if _pay_changes(scenario):
        return monthly[month] / DAYS_PER_MONTH + pay_per_day(scenario, days)
    sellers = scenario.sales.pay_per_month if scenario.sales else 0
    return (monthly[month] + sellers) / DAYS_PER_MONTH


def pay_per_day(scenario: Scenario, days: int) -> np.ndarray:
    """The sales team's expected pay on each of `days` days, role by role.

    Each role pays its people expected on the payroll (`SalesRole.expected_headcount`): the
    hiring plan's, less those gone to attrition and not yet replaced.
    """
    if scenario.sales is None:
        return np.zeros(days)
    if not _pay_changes(scenario):
        return np.full(days, scenario.sales.pay_per_month / DAYS_PER_MONTH)
    roles = scenario.sales.team.values()
    pay = sum(role.cost_per_month * role.expected_headcount(days) for role in roles)
    return pay / DAYS_PER_MONTH


def _pay_changes(scenario: Scenario) -> bool:
    """Whether the team's pay changes over the run (a hiring plan or attrition)."""
    roles = scenario.sales.team.values() if scenario.sales else ()
    return any(role.hiring or role.attrition_per_year for role in roles)


def line_spend_per_day(scenario: Scenario, line: str, days: int) -> np.ndarray:
    """Money on one line on each of `days` days, following its plan."""
    per_month, plan = _money_specs(scenario)[line]
    months = math.ceil(days / DAYS_PER_MONTH) + 1
    month = (np.arange(days) / DAYS_PER_MONTH).astype(np.int64)
    return spend_by_month(per_month, plan, months)[month] / DAYS_PER_MONTH


def _money_specs(scenario: Scenario) -> dict[str, tuple[float, list[float] | None]]:
    """Each line's steady money per month and its plan, if any."""
    specs = {n: (c.budget_per_month, c.plan) for n, c in scenario.channels.paid.items()}
    for line, budget in lever_budgets(scenario).items():
        specs[line] = (budget.per_month, budget.plan)
    return specs


def planned_lines(scenario: Scenario) -> list[str]:
    """The lines whose money follows a month-by-month plan."""
    return [line for line, (_, plan) in _money_specs(scenario).items() if plan is not None]
