"""Replications, paired comparisons and sweeps, on a serial, process-pool or Dask backend.

Replication i of seed s always runs on SeedSequence(s, spawn_key=(i,)), whatever the
backend or the number of workers, so results are identical everywhere. Comparisons give
every scenario the same seed children (common random numbers): each mechanism draws from
its own stream, so where two scenarios do not differ their customers meet the same luck.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from contextlib import closing, nullcontext
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hourglass.analysis import accounts, ladder_money, metrics, series, stages
from hourglass.analysis.segments import segment_table
from hourglass.analysis.sellers import SellerReport, seller_report, stacked
from hourglass.config.arguments import as_scenario, whole_number
from hourglass.config.distributions import (
    parameter_rng,
    uncertain_parameters,
    with_drawn_parameters,
)
from hourglass.config.scenario import Scenario
from hourglass.config.work import WorkCeilingError
from hourglass.experiments.backends import BACKENDS as BACKENDS
from hourglass.experiments.backends import Backend, Executor, Failure
from hourglass.experiments.backends import BackendError as BackendError
from hourglass.experiments.backends import check_scheduler as check_scheduler
from hourglass.i18n import _
from hourglass.sim.engine import simulate

Progress = Callable[[int, int], None]
"""Called as progress(done, total) after each replication."""

MAIN_KPIS: tuple[str, ...] = ("buyers", "revenue", "customers_end")
"""The KPIs a precision target is checked on."""


class ReplicationError(RuntimeError):
    """Replications that failed twice; the message lists them and why."""


def seed_child(seed: int, rep: int) -> np.random.SeedSequence:
    """The seed of replication `rep`: the rep-th child of SeedSequence(seed)."""
    return np.random.SeedSequence(seed, spawn_key=(rep,))


@dataclass(frozen=True)
class RepResult:
    """What one replication leaves behind once its event log is dropped."""

    rep: int
    kpis: dict[str, float]
    stages: pd.DataFrame
    losses: pd.DataFrame
    daily: pd.DataFrame
    deals: pd.DataFrame
    roles: pd.DataFrame
    sellers: SellerReport
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)
    accounts: dict[str, float] = field(default_factory=dict)
    level_moves: pd.DataFrame = field(default_factory=pd.DataFrame)


def run_replication(scenario: Scenario, seed: int, rep: int) -> RepResult:
    """Simulate replication `rep` and keep its tables.

    Parameters given with bounds (e.g. a pass probability's interval) are drawn for the
    replication first, from a stream of their own.
    """
    if uncertain_parameters(scenario):
        scenario = with_drawn_parameters(scenario, parameter_rng(seed, rep))
    run = simulate(scenario, seed_child(seed, rep))
    b2b = scenario.committee is not None
    if b2b:
        from hourglass.analysis import deals
    stage_rows, daily = stages.stage_table(run), series.daily_table(run)
    return RepResult(
        rep=rep,
        kpis=metrics.kpis(run, daily),
        stages=stage_rows,
        losses=stages.loss_table(run, stage_rows),
        daily=daily.reset_index(),
        deals=deals.deal_table(run) if b2b else pd.DataFrame(),
        roles=deals.role_table(run) if b2b else pd.DataFrame(),
        sellers=seller_report(run),
        segments=segment_table(run) if scenario.segments else pd.DataFrame(),
        accounts=accounts.accounts_summary(run),
        level_moves=ladder_money.level_move_table(run),
    )


def _attempt(scenario: Scenario, seed: int, rep: int) -> RepResult | Failure:
    """One replication; an exception comes back as a Failure instead of breaking the batch."""
    try:
        return run_replication(scenario, seed, rep)
    except WorkCeilingError as err:  # the same seed would stop at the same place again
        return Failure(rep, str(err), final=True)
    except Exception as err:
        return Failure(rep, f"{type(err).__name__}: {err}")


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
    deals: pd.DataFrame
    """B2B mode: every replication's deal table (`deals.deal_table`), stacked; else empty."""
    roles: pd.DataFrame
    """B2B mode: every replication's role table (`deals.role_table`), stacked; else empty."""
    backend: str = "serial"
    seconds: float = 0.0
    sellers: SellerReport | None = None
    """Every replication's seller report (`analysis.sellers`), stacked."""
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)
    """With segments: every replication's segment table (`segments.segment_table`), stacked."""
    accounts: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Key accounts: one row per replication (`accounts.accounts_summary`)."""
    level_moves: pd.DataFrame = field(default_factory=pd.DataFrame)
    """With a service ladder: every replication's level moves (`ladder_money.level_move_table`)."""

    def kpi_summary(self) -> dict[str, dict[str, float]]:
        """KPI -> mean, p5, p50, p95 and standard error across replications."""
        return {name: summarize(self.kpis[name].to_numpy(dtype=float)) for name in self.kpis}

    def stage_summary(self) -> pd.DataFrame:
        """The stage table averaged over replications, in stage order."""
        numeric = self.stages.drop(columns="rep")
        order = list(dict.fromkeys(numeric["stage"]))
        mean = numeric.groupby("stage", sort=False).mean()
        return mean.loc[order].reset_index()

    def role_summary(self) -> pd.DataFrame:
        """B2B mode: the role table over every replication, in the committee's order.

        Means per run, with pooled shares.
        """
        from hourglass.analysis.deals import ROLE_COUNTS, pooled_roles  # its module needs scipy

        self._need_committee()
        return pooled_roles(self.roles[["role", *ROLE_COUNTS]], self.reps)

    def channel_summary(self) -> pd.DataFrame:
        """B2B mode: win rates and cycles by channel, over every replication's deals."""
        from hourglass.analysis.deals import channel_table  # its intervals need scipy

        self._need_committee()
        return channel_table(self.deals, self.reps)

    def _need_committee(self) -> None:
        if self.scenario.committee is None:
            raise ValueError(
                _("scenario '{name}' has no committee (B2B mode)").format(name=self.scenario.name)
            )

    def daily_bands(self) -> pd.DataFrame:
        """Per day and series: mean, p5, p50, p95 across replications (tidy)."""
        columns = [c for c in self.daily.columns if c not in ("day", "rep")]
        return series.bands(self.daily, "day", columns)


def summarize(values: np.ndarray) -> dict[str, float]:
    """Mean, 5th, 50th and 95th percentiles and the standard error, NaNs left out."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return dict.fromkeys(("mean", "p5", "p50", "p95", "sem"), math.nan)
    sem = float(finite.std(ddof=1) / math.sqrt(len(finite))) if len(finite) > 1 else math.nan
    p5, p50, p95 = np.percentile(finite, [5, 50, 95])
    return {
        "mean": float(finite.mean()),
        "p5": float(p5),
        "p50": float(p50),
        "p95": float(p95),
        "sem": sem,
    }


# -- replicate ----------------------------------------------------------------------------------


def replicate(
    scenario: Scenario | str | os.PathLike,
    reps: int = 10,
    seed: int | None = None,
    backend: Backend = "processes",
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    precision: float | None = None,
    max_reps: int = 1000,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> Replications:
    """Run `reps` replications; with `precision`, add more until the main KPIs are that precise.

    The precision target is met when, for each of MAIN_KPIS, the 95% confidence half-width
    of the mean is within `precision` times the mean; replications are added in rounds
    until then or until `max_reps`. Failed replications are retried once; if any fails
    again a ReplicationError says which. A scenario may be given as a file's path or a
    shipped scenario's name.
    """
    scenario, reps = as_scenario(scenario), whole_number(reps, "reps", least=1)
    seed = scenario.seed if seed is None else whole_number(seed, "seed")
    started = time.perf_counter()
    own = executor is None
    if own and reps == 1 and precision is None and backend == "processes":
        backend = "serial"  # one replication: a pool of workers would only cost start-up
    executor = executor or Executor(backend, scheduler, workers)
    results: dict[int, RepResult] = {}
    target = reps
    with executor if own else nullcontext(executor):
        while True:
            collect(executor, scenario, seed, range(target), results, progress, target)
            if precision is None or target >= max_reps:
                break
            needed = _reps_for_precision(results, precision)
            if needed <= target:
                break
            target = min(max_reps, max(needed, target + 2))
    return gathered(scenario, seed, results, executor.backend, time.perf_counter() - started)


def gathered(
    scenario: Scenario, seed: int, results: dict[int, RepResult], backend: str, seconds: float
) -> Replications:
    """The replications run so far of one scenario, as tidy tables in replication order."""
    ordered = [results[r] for r in sorted(results)]
    return Replications(
        scenario=scenario,
        seed=seed,
        reps=len(ordered),
        kpis=pd.DataFrame([r.kpis for r in ordered]).rename_axis("rep"),
        stages=pd.concat([r.stages.assign(rep=r.rep) for r in ordered], ignore_index=True),
        losses=pd.concat([r.losses.assign(rep=r.rep) for r in ordered], ignore_index=True),
        daily=pd.concat([r.daily.assign(rep=r.rep) for r in ordered], ignore_index=True).fillna(
            0.0
        ),
        deals=pd.concat([r.deals.assign(rep=r.rep) for r in ordered], ignore_index=True),
        roles=pd.concat([r.roles.assign(rep=r.rep) for r in ordered], ignore_index=True),
        backend=backend,
        seconds=seconds,
        sellers=stacked([(r.rep, r.sellers) for r in ordered]),
        segments=pd.concat([r.segments.assign(rep=r.rep) for r in ordered], ignore_index=True),
        accounts=pd.DataFrame([r.accounts for r in ordered]).rename_axis("rep"),
        level_moves=pd.concat(
            [r.level_moves.assign(rep=r.rep) for r in ordered], ignore_index=True
        ),
    )


def collect(
    executor: Executor,
    scenario: Scenario,
    seed: int,
    wanted: Sequence[int],
    results: dict[int, RepResult],
    progress: Progress | None,
    total: int,
) -> None:
    """Run the wanted replications not yet in `results`; retry failures once, then raise.

    Results arrive in `results` as they finish, so a caller may add replications in rounds.
    """
    failures: dict[int, str] = {}
    for _round in range(2):
        todo = [r for r in wanted if r not in results]
        if not todo:
            return
        failures = {}
        with closing(executor.map(_attempt, scenario, seed, todo)) as outcomes:
            for outcome in outcomes:
                if isinstance(outcome, Failure):
                    if outcome.final:
                        raise WorkCeilingError(outcome.reason)
                    failures[outcome.rep] = outcome.reason
                    continue
                results[outcome.rep] = outcome
                if progress:
                    progress(len(results), total)
        if not failures:
            return
    reasons = "; ".join(
        _("replication {rep}: {reason}").format(rep=r, reason=why)
        for r, why in sorted(failures.items())
    )
    raise ReplicationError(_("failed twice: {reasons}").format(reasons=reasons))


def _reps_for_precision(results: dict[int, RepResult], precision: float) -> int:
    """Replications the main KPIs need for a 95% half-width within `precision` x mean."""
    n = len(results)
    if n < 3:
        return 3
    need = n
    for name in MAIN_KPIS:
        values = np.array([r.kpis[name] for r in results.values()], dtype=float)
        mean, sd = abs(values.mean()), values.std(ddof=1)
        if mean == 0 or sd == 0:
            continue
        need = max(need, math.ceil((1.96 * sd / (precision * mean)) ** 2))
    return need


def half_widths(result: Replications, kpis: Sequence[str] = MAIN_KPIS) -> dict[str, float]:
    """The 95% confidence half-width of each KPI's mean, relative to the mean."""
    out = {}
    for name in kpis:
        s = summarize(result.kpis[name].to_numpy(dtype=float))
        out[name] = 1.96 * s["sem"] / abs(s["mean"]) if s["mean"] else math.nan
    return out
