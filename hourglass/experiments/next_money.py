"""Where the next unit of money does most: budget lines ranked by marginal return, and its gain.

The lines are ranked on the analytic expectation (`marginal_roi`), which is cheap; the top
line's gain is then measured by simulating the scenario with the extra money against the
scenario as it is, on common random numbers, with 95% confidence intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hourglass.config.budgets import budget_lines, with_budgets
from hourglass.config.scenario import Scenario
from hourglass.experiments.allocation import marginal_roi
from hourglass.experiments.comparison import Comparison
from hourglass.theory import expected_outcome

DAYS_PER_YEAR = 365.0
STEP = 1000.0
"""The extra money per month the answer is about."""


@dataclass(frozen=True)
class Effect:
    """A change with its 95% confidence interval (NaN ends where only expected)."""

    mean: float
    low: float = math.nan
    high: float = math.nan


@dataclass(frozen=True)
class NextMoney:
    """The extra money on one line and what it brings: buyers, and profit per year."""

    line: str
    step: float
    buyers: Effect
    profit_per_year: Effect
    simulated: bool
    """Whether the effects are measured by simulation (else the analytic expectation)."""


def ranked_lines(scenario: Scenario) -> dict[str, float]:
    """The budget lines by marginal ROI, best first (see `marginal_roi`)."""
    marginal = marginal_roi(scenario)
    return dict(sorted(marginal.items(), key=lambda item: item[1], reverse=True))


def with_more(scenario: Scenario, line: str, step: float = STEP) -> Scenario:
    """The scenario with `step` more money per month on one line."""
    return with_budgets(scenario, {line: budget_lines(scenario)[line] + step})


def expected_next_money(scenario: Scenario, line: str, step: float = STEP) -> NextMoney:
    """The extra money's effect on the analytic expectation, over the horizon and per year."""
    now, more = expected_outcome(scenario), expected_outcome(with_more(scenario, line, step))
    per_year = DAYS_PER_YEAR / scenario.horizon_days
    return NextMoney(
        line=line,
        step=step,
        buyers=Effect(more["buyers"] - now["buyers"]),
        profit_per_year=Effect((more["profit"] - now["profit"]) * per_year),
        simulated=False,
    )


def simulated_next_money(
    scenario: Scenario, line: str, comparison: Comparison, step: float = STEP
) -> NextMoney:
    """The extra money's effect measured by a paired comparison (the scenario is its baseline).

    Buyers are counted over the measurement window; profit is scaled from the window to a year.
    """
    table = comparison.table.set_index("kpi")
    per_year = DAYS_PER_YEAR / (scenario.horizon_days - scenario.warmup_days)

    def effect(kpi: str, scale: float = 1.0) -> Effect:
        row = table.loc[kpi]
        return Effect(*(float(row[k]) * scale for k in ("delta", "ci_low", "ci_high")))

    return NextMoney(
        line=line,
        step=step,
        buyers=effect("buyers"),
        profit_per_year=effect("profit", per_year),
        simulated=True,
    )
