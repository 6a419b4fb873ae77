"""Each budget line's response curve: money per month against its steady effect."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from hourglass.config.budgets import budget_lines, lever_budgets
from hourglass.config.scenario import Scenario
from hourglass.stages import FUNNEL


def line_curves(
    scenario: Scenario, points: int = 60, reach: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Each line's response: money per month against its steady effect (tidy, with units).

    Columns: line, money, effect, unit, current (True on the line's current amount). The
    curves run past `reach` (line -> money), e.g. an optimal allocation to be marked on them.
    """
    rows = []
    for line, amount in budget_lines(scenario).items():
        effect, unit = _effect_of(scenario, line)
        top = max(2.5 * amount, _half_saturation(scenario, line) * 3.0, 1.0)
        top = max(top, 1.1 * (reach or {}).get(line, 0.0))
        for money in sorted([*np.linspace(0.0, top, points), amount]):
            rows.append((line, money, effect(money), unit, money == amount))
    return pd.DataFrame(rows, columns=["line", "money", "effect", "unit", "current"])


def _effect_of(scenario: Scenario, line: str) -> tuple[Callable[[float], float], str]:
    """A line's steady effect as a function of its money per month, and the effect's unit."""
    if line in scenario.channels.paid:
        return scenario.channels.paid[line].reach, "prospects per day"
    budget = lever_budgets(scenario)[line]
    unit = "lift in pass probability" if line in FUNNEL else "relative lift"
    return budget.steady_effect, unit


def _half_saturation(scenario: Scenario, line: str) -> float:
    """Where a line's curve bends (the Hill half-saturation, or the linear cap's money)."""
    if line in scenario.channels.paid:
        spec = scenario.channels.paid[line]
        response, decay = spec.response, spec.adstock
    else:
        budget = lever_budgets(scenario)[line]
        response, decay = budget.response, budget.adstock
    if response is None:
        return 0.0
    if response.hill:
        bend = response.hill.half_saturation
    else:
        linear = response.linear
        bend = linear.cap / linear.per_unit if linear.per_unit else 0.0
    return bend * (1.0 - decay)
