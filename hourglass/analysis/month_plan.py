"""A budget plan month by month: the grid of money per month, and what an edit changes when.

A planned line spends its plan's amounts from the first month, then its steady money per
month. With carry-over (adstock) money keeps acting after its month, so an edit in one month
changes the acting money of that month and of the months after it, fading.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hourglass.config.budgets import lever_budgets, line_path, months_of, planned_lines
from hourglass.config.response import effective_spend, spend_by_month
from hourglass.config.scenario import Scenario
from hourglass.i18n import _

SMALLEST_CHANGE = 0.5
"""Acting money that moves by less than this in a month (half a unit) is no change."""


def line_money(scenario: Scenario, line: str) -> tuple[float, list[float] | None, float]:
    """A line's steady money per month, its plan (or None) and its carry-over."""
    if line in scenario.channels.paid:
        channel = scenario.channels.paid[line]
        return channel.budget_per_month, channel.plan, channel.adstock
    budget = lever_budgets(scenario)[line]
    return budget.per_month, budget.plan, budget.adstock


def month_grid(scenario: Scenario) -> pd.DataFrame:
    """Money in each month of the run (rows, from 1) on each planned line (columns)."""
    months = months_of(scenario)
    grid = {
        line: spend_by_month(*line_money(scenario, line)[:2], months)
        for line in planned_lines(scenario)
    }
    return pd.DataFrame(grid, index=pd.RangeIndex(1, months + 1, name="month"))


def with_plan(scenario: Scenario, grid: pd.DataFrame) -> Scenario:
    """The scenario with each planned line following the grid's months (validated anew)."""
    overrides = {}
    for line in grid.columns:
        path = line_path(scenario, line)
        plan_path = path.replace("budget_per_month", "plan").replace("per_month", "plan")
        overrides[plan_path] = [float(v) for v in grid[line]]
    return scenario.with_overrides(overrides)


def plan_changes(scenario: Scenario, edited: pd.DataFrame) -> pd.DataFrame:
    """The months whose money or acting money an edit of the grid changes, line by line.

    Columns: line, month, planned, edited (money in the month) and acting (the change of the
    money acting that month, carry-over included). Headers stay plain names; a page words them.
    """
    before = month_grid(scenario)
    rows = []
    for line in before.columns:
        steady, _plan, decay = line_money(scenario, line)
        old, new = before[line].to_numpy(float), edited[line].to_numpy(float)
        months = len(old)
        acting = effective_spend(steady, list(new), decay, months) - effective_spend(
            steady, list(old), decay, months
        )
        for month in np.flatnonzero(np.abs(acting) >= SMALLEST_CHANGE):
            rows.append((line, month + 1, old[month], new[month], acting[month]))
    return pd.DataFrame(rows, columns=["line", "month", "planned", "edited", "acting"])


def steady_note(scenario: Scenario, line: str, name: str) -> str:
    """How long a line's plan runs and the steady money after it, in the active language."""
    steady, plan, _decay = line_money(scenario, line)
    return _("{line}: the plan covers months 1 to {months}, then {amount} a month").format(
        line=name, months=len(plan or []), amount=f"{steady:,.0f}"
    )
