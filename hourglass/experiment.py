"""Replications: one SeedSequence child per run, metrics kept, event logs let go."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hourglass import metrics
from hourglass.engine import simulate
from hourglass.scenario import Scenario

Progress = Callable[[int, int], None]
"""Called as progress(done, total) after each replication."""


@dataclass(frozen=True)
class Replications:
    """Per-replication results of one scenario: tidy tables with a `rep` column."""

    scenario: Scenario
    seed: int
    reps: int
    kpis: pd.DataFrame
    """One row per replication (index `rep`), one column per KPI."""
    stages: pd.DataFrame
    """The stage table of every replication, stacked."""
    losses: pd.DataFrame
    """Losses by stage and reason of every replication, stacked."""
    daily: pd.DataFrame
    """The daily series of every replication, stacked."""

    def kpi_summary(self) -> dict[str, dict[str, float]]:
        """KPI -> mean, p5, p95 and standard error across replications."""
        return {name: summarize(self.kpis[name].to_numpy(dtype=float)) for name in self.kpis}

    def stage_summary(self) -> pd.DataFrame:
        """The stage table averaged over replications, in stage order."""
        numeric = self.stages.drop(columns="rep")
        order = list(dict.fromkeys(numeric["stage"]))
        mean = numeric.groupby("stage", sort=False).mean()
        return mean.loc[order].reset_index()


def summarize(values: np.ndarray) -> dict[str, float]:
    """Mean, 5th and 95th percentiles and the standard error of the mean, NaNs left out."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return {"mean": math.nan, "p5": math.nan, "p95": math.nan, "sem": math.nan}
    sem = float(finite.std(ddof=1) / math.sqrt(len(finite))) if len(finite) > 1 else math.nan
    return {
        "mean": float(finite.mean()),
        "p5": float(np.percentile(finite, 5)),
        "p95": float(np.percentile(finite, 95)),
        "sem": sem,
    }


def replicate(
    scenario: Scenario,
    reps: int,
    seed: int | None = None,
    progress: Progress | None = None,
) -> Replications:
    """Run `reps` independent replications; replication i always gets the i-th seed child."""
    if reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}")
    seed = scenario.seed if seed is None else seed
    children = np.random.SeedSequence(seed).spawn(reps)
    kpis, stages, losses, daily = [], [], [], []
    for i, child in enumerate(children):
        run = simulate(scenario, child)
        kpis.append(metrics.kpis(run))
        stages.append(metrics.stage_table(run).assign(rep=i))
        losses.append(metrics.loss_table(run).assign(rep=i))
        daily.append(metrics.daily_table(run).reset_index().assign(rep=i))
        if progress:
            progress(i + 1, reps)
    return Replications(
        scenario=scenario,
        seed=seed,
        reps=reps,
        kpis=pd.DataFrame(kpis).rename_axis("rep"),
        stages=pd.concat(stages, ignore_index=True),
        losses=pd.concat(losses, ignore_index=True),
        daily=pd.concat(daily, ignore_index=True).fillna(0.0),
    )
