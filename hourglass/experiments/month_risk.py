"""A risk-aware month-by-month plan: the candidate plan with the highest simulated p10.

A percentile has no closed form, so the expectation proposes and the simulation chooses.
The candidates are the plan maximising expected profit, the steady split, and that plan
with each timed line's money halved in every block (the half going to the other timed lines
of the block, in proportion) and with each block's money halved (the half going to the
other blocks, in proportion), those within the bounds and the month cap. Each is simulated
on one block of replications with common random numbers, the one with the highest 10th
percentile of profit is kept, and its change against the steady split is confirmed on other
replications, so that the choice does not flatter the gain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hourglass.config.scenario import Scenario
from hourglass.experiments.replication import (
    Backend,
    Executor,
    Progress,
    Replications,
    replicate,
)
from hourglass.experiments.risk import best_candidate
from hourglass.i18n import _

if TYPE_CHECKING:
    from hourglass.experiments.month_layout import Layout

Simulate = Callable[[dict[str, np.ndarray], int], dict[str, Replications]]
"""Replications of each candidate point on a seed."""


@dataclass
class Simulator:
    """Replications of scenarios on a seed, ticking one progress bar over every block."""

    reps: int
    backend: Backend
    total: int
    progress: Progress | None
    guard: Callable[[Scenario], None] | None
    executor: Executor | None
    done: int = 0

    def __call__(self, specs: dict[str, Scenario], seed: int) -> dict[str, Replications]:
        """Each scenario's replications on `seed`, after the guard has seen them all."""
        for spec in specs.values():
            if self.guard is not None:
                self.guard(spec)
        runs = {}
        for name, spec in specs.items():
            tick = None
            if self.progress is not None:
                tick = lambda d, _t, at=self.done: self.progress(at + d, self.total)  # noqa: E731
            runs[name] = replicate(
                spec, self.reps, seed, self.backend, progress=tick, executor=self.executor
            )
            self.done += self.reps
        return runs


def risk_candidates(layout: Layout, best: np.ndarray) -> dict[str, np.ndarray]:
    """The mean plan, the steady split, and the mean plan with a line or a block halved.

    Each point spends the same money over the run as the mean plan; a point met twice is
    kept once.
    """
    candidates = {"mean": best, "steady": layout.start()}
    by_block, flat = layout.split(best)
    lines, blocks = by_block.shape
    for i in range(lines):
        others = np.delete(by_block, i, axis=0)
        if lines < 2:
            break
        moved = by_block.copy()
        half = moved[i] / 2.0
        moved[i] -= half
        rest = others.sum(axis=0)
        share = np.divide(others, rest, out=np.full_like(others, 1.0 / (lines - 1)), where=rest > 0)
        moved[np.arange(lines) != i] += share * half
        candidates[f"line {layout.timed[i]}"] = np.concatenate([moved.ravel(), flat])
    weights = layout.months_in_block
    for b in range(blocks):
        others = np.delete(np.arange(blocks), b)
        money = by_block[:, others] * weights[others]
        moved = by_block.copy()
        half = moved[:, b] / 2.0
        moved[:, b] -= half
        spare = half * weights[b]  # money over the run, per line
        total = money.sum(axis=1, keepdims=True)
        even = np.full_like(money, 1.0 / len(others))
        share = np.divide(money, total, out=even, where=total > 0)
        moved[:, others] += share * spare[:, None] / weights[others]
        candidates[f"block {b + 1}"] = np.concatenate([moved.ravel(), flat])
    unique: dict[str, np.ndarray] = {}
    for name, point in candidates.items():
        if not any(np.allclose(point, seen, rtol=1e-9, atol=1e-6) for seen in unique.values()):
            unique[name] = point
    return unique


def least_risky_plan(
    candidates: dict[str, np.ndarray], objective: str, simulate: Simulate, seed: int
) -> tuple[np.ndarray, list[str]]:
    """The candidate with the highest simulated percentile of profit, and a note on the choice.

    Simulated on `seed + 1`, apart from the replications that confirm the gain.
    """
    tried = simulate(candidates, seed + 1)
    outcomes = {k: run.kpis["profit"].to_numpy(dtype=float) for k, run in tried.items()}
    chosen = best_candidate(outcomes, objective)
    note = _(
        "chosen by simulation among {count} plans (the plan of most expected profit, the steady "
        "split, and that plan with a line's or a block's money halved) on {reps} other "
        "replications"
    ).format(count=len(candidates), reps=next(iter(tried.values())).reps)
    return candidates[chosen], [note]
