"""How a month plan's search maps its variables to money: lines, blocks of months, the cap."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hourglass.analysis.month_plan import line_money, with_plan
from hourglass.config.budgets import budget_lines, months_of, planned_lines, with_budgets
from hourglass.config.response import spend_by_month
from hourglass.config.scenario import Scenario
from hourglass.experiments.allocation import Constraints, OptimizeError
from hourglass.i18n import _, grouped
from hourglass.stages import DAYS_PER_MONTH


@dataclass(frozen=True)
class Layout:
    """How the search's variables map to money: the lines, the blocks and their weights."""

    scenario: Scenario
    steady: dict[str, float]
    """The steady optimum, the start and the money before the run."""
    timed: list[str]
    """Free lines with one amount per block."""
    flat: list[str]
    """Free lines with one amount for the whole run."""
    blocks: list[tuple[int, int]]
    months_in_block: np.ndarray
    """Each block's length in months of the run (the last month perhaps in part)."""

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Amounts per timed line and block (rows, columns), and each flat line's amount."""
        timed = len(self.timed) * len(self.blocks)
        return x[:timed].reshape(len(self.timed), len(self.blocks)), x[timed:]

    def start(self) -> np.ndarray:
        """The steady optimum as a point of the search."""
        timed = [self.steady[k] for k in self.timed for _block in self.blocks]
        return np.array(timed + [self.steady[k] for k in self.flat], dtype=float)

    def weights(self) -> np.ndarray:
        """Months of the run each variable's amount is spent for (the total's coefficients)."""
        timed = np.tile(self.months_in_block, len(self.timed))
        return np.concatenate([timed, np.full(len(self.flat), self.months_in_block.sum())])

    def scenario_for(self, x: np.ndarray) -> Scenario:
        """The scenario spending the point's amounts: timed lines follow a plan."""
        by_block, flat = self.split(x)
        sizes = [last - first + 1 for first, last in self.blocks]
        grid = pd.DataFrame(
            {line: np.repeat(row, sizes) for line, row in zip(self.timed, by_block, strict=True)}
        )
        amounts = {**self.steady, **dict(zip(self.flat, flat.tolist(), strict=True))}
        spec = with_budgets(self.scenario, amounts)
        return with_plan(spec, grid) if self.timed else spec


def month_blocks(months: int, blocks: int) -> list[tuple[int, int]]:
    """`months` split into `blocks` runs of consecutive months, the longer ones first."""
    parts = np.array_split(np.arange(1, months + 1), blocks)
    return [(int(part[0]), int(part[-1])) for part in parts]


def layout_for(
    scenario: Scenario,
    steady: dict[str, float],
    constraints: Constraints,
    blocks: int,
    notes: list[str],
) -> Layout:
    """The search's variables: free lines that can follow a plan vary by block."""
    planned = set(planned_lines(scenario))
    free = [k for k in steady if k not in constraints.locked and k not in planned]
    stages = {name for name, _stage in scenario.funnel}
    timed = [k for k in free if k in scenario.channels.paid or k in stages]
    flat = [k for k in free if k not in timed]
    notes.extend(
        _("'{line}' can only spend steadily: one amount for every month").format(line=k)
        for k in flat
    )
    if not timed:
        notes.append(_("no free line can follow a plan: the steady split is the plan"))
    spans = month_blocks(months_of(scenario), blocks)
    share = month_shares(scenario)
    lengths = np.array([share[first - 1 : last].sum() for first, last in spans])
    return Layout(scenario, steady, timed, flat, spans, lengths)


def month_shares(scenario: Scenario) -> np.ndarray:
    """Each month's share of a full month inside the run (the last one perhaps in part)."""
    months = months_of(scenario)
    starts = np.arange(months) * DAYS_PER_MONTH
    return np.clip((scenario.horizon_days - starts) / DAYS_PER_MONTH, 0.0, 1.0)


def room_under_cap(layout: Layout, x: np.ndarray, month_cap: float) -> np.ndarray:
    """What each block leaves under the cap: the cap less all lines' money in its months."""
    by_block, flat = layout.split(x)
    others = fixed_by_month(layout)
    spent = by_block.sum(axis=0) + flat.sum()
    busiest = np.array([others[first - 1 : last].max() for first, last in layout.blocks])
    return month_cap - spent - busiest


def check_cap(layout: Layout, month_cap: float, total_budget: float) -> None:
    """Refuse a cap under which the run's money cannot all be spent."""
    if not math.isfinite(month_cap) or month_cap < 0:
        raise OptimizeError(
            _("the month cap must be a non-negative amount, got {cap}").format(cap=month_cap)
        )
    others = fixed_by_month(layout)
    busiest = np.array([others[first - 1 : last].max() for first, last in layout.blocks])
    room = float(layout.months_in_block @ np.maximum(month_cap - busiest, 0.0))
    to_spend = float(layout.weights() @ layout.start())
    if month_cap < busiest.max() or room < to_spend * (1.0 - 1e-9):
        raise OptimizeError(
            _(
                "a month cap of {cap} cannot spend the budget of {budget} a month over the run "
                "(the locked and planned lines spend up to {fixed} in a month); raise the cap"
            ).format(
                cap=grouped(month_cap, 2),
                budget=grouped(total_budget, 2),
                fixed=grouped(busiest.max(), 2),
            )
        )


def fixed_by_month(layout: Layout) -> np.ndarray:
    """Money in each month on the lines the search does not move (locked or planned)."""
    spec = layout.scenario
    months = months_of(spec)
    moved = set(layout.timed) | set(layout.flat)
    fixed = [line for line in budget_lines(spec) if line not in moved]
    money = [spend_by_month(*line_money(spec, line)[:2], months) for line in fixed]
    return np.sum(money, axis=0) if money else np.zeros(months)


def amounts_of(layout: Layout, x: np.ndarray | None) -> dict[str, list[float]]:
    """Each line's money per month in each block: planned, or the same in every block."""
    amounts = {k: [v] * len(layout.blocks) for k, v in budget_lines(layout.scenario).items()}
    amounts.update({k: [v] * len(layout.blocks) for k, v in layout.steady.items()})
    if x is not None:
        by_block, flat = layout.split(x)
        amounts.update({k: row.tolist() for k, row in zip(layout.timed, by_block, strict=True)})
        amounts.update(
            {k: [float(v)] * len(layout.blocks) for k, v in zip(layout.flat, flat, strict=True)}
        )
    return amounts
