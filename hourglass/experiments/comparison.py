"""Paired comparison of scenarios under common random numbers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from hourglass.config.scenario import Scenario
from hourglass.experiments.replication import Backend, Executor, Progress, Replications, replicate

COUNT_KPIS = frozenset(
    {
        "prospects",
        "outside_prospects",
        "referred_prospects",
        "buyers",
        "referred_buyers",
        "customers_end",
        "repeat_purchases",
        "referral_contacts",
        "lost_waiting",
        "leads_to_sellers",
    }
)
"""KPIs that count people or events: "more/fewer"; the rest are "higher/lower"."""


@dataclass(frozen=True)
class Comparison:
    """Each scenario against the baseline: paired differences per KPI with 95% CIs."""

    baseline: str
    reps: int
    seed: int
    runs: dict[str, Replications]
    table: pd.DataFrame
    """scenario, kpi, mean, delta, delta_pct, ci_low, ci_high, ci_low_pct, ci_high_pct."""

    def sentences(self) -> list[str]:
        """One plain sentence per scenario and KPI."""
        return [_sentence(self.baseline, row) for row in self.table.to_dict("records")]

    def to_dict(self) -> dict:
        """The comparison as plain data: scenario -> kpis -> KPI -> numbers."""
        scenarios: dict[str, dict] = {}
        for row in self.table.to_dict("records"):
            kpis = scenarios.setdefault(row["scenario"], {"kpis": {}})["kpis"]
            kpis[row["kpi"]] = {
                k: row[k] for k in ("mean", "delta", "delta_pct", "ci_low", "ci_high")
            }
        return {
            "baseline": self.baseline,
            "reps": self.reps,
            "seed": self.seed,
            "scenarios": scenarios,
        }


def paired_difference(base: np.ndarray, other: np.ndarray) -> tuple[float, float, float]:
    """Mean of other - base over paired replications, with its 95% t confidence interval."""
    ok = np.isfinite(base) & np.isfinite(other)
    diff = other[ok] - base[ok]
    if len(diff) < 2:
        mean = float(diff.mean()) if len(diff) else math.nan
        return mean, math.nan, math.nan
    mean = float(diff.mean())
    half = float(stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / math.sqrt(len(diff)))
    return mean, mean - half, mean + half


def compare(
    scenarios: Sequence[Scenario],
    reps: int = 20,
    seed: int | None = None,
    backend: Backend = "processes",
    *,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Run every scenario on the same seed children; the first is the baseline."""
    if len(scenarios) < 2:
        raise ValueError("compare needs a baseline and at least one other scenario")
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ to be compared: {', '.join(names)}")
    seed = scenarios[0].seed if seed is None else seed
    total = reps * len(scenarios)
    runs: dict[str, Replications] = {}
    with Executor(backend, scheduler) as executor:
        for i, scenario in enumerate(scenarios):
            done = i * reps
            tick = (lambda d, _t, done=done: progress(done + d, total)) if progress else None
            runs[scenario.name] = replicate(scenario, reps, seed, executor=executor, progress=tick)
    return compare_runs(runs)


def compare_runs(runs: dict[str, Replications]) -> Comparison:
    """Compare replications already run on the same seed; the first one is the baseline."""
    if len(runs) < 2:
        raise ValueError("compare needs a baseline and at least one other scenario")
    first = next(iter(runs.values()))
    for name, result in runs.items():
        if (result.seed, result.reps) != (first.seed, first.reps):
            raise ValueError(
                f"'{name}' ran {result.reps} replications on seed {result.seed}, the baseline "
                f"{first.reps} on seed {first.seed}: paired differences need the same both"
            )
    baseline = next(iter(runs))
    return Comparison(
        baseline=baseline,
        reps=first.reps,
        seed=first.seed,
        runs=runs,
        table=_table(baseline, runs),
    )


def _table(baseline: str, runs: dict[str, Replications]) -> pd.DataFrame:
    base = runs[baseline].kpis
    rows = []
    for name, result in runs.items():
        if name == baseline:
            continue
        for kpi in base.columns:
            b = base[kpi].to_numpy(dtype=float)
            o = result.kpis[kpi].to_numpy(dtype=float)
            delta, low, high = paired_difference(b, o)
            base_mean, mean = _mean(b), _mean(o)
            scale = 100.0 / abs(base_mean) if base_mean else math.nan
            rows.append(
                {
                    "scenario": name,
                    "kpi": kpi,
                    "mean": mean,
                    "delta": delta,
                    "delta_pct": delta * scale,
                    "ci_low": low,
                    "ci_high": high,
                    "ci_low_pct": low * scale,
                    "ci_high_pct": high * scale,
                }
            )
    return pd.DataFrame(rows)


KPI_WORDS = {
    "customers_end": "customers at the end",
    "cac": "CAC",
    "ltv": "LTV",
    "roi": "ROI",
    "k_factor": "K-factor",
    "mean_wait_days": "mean wait for a seller",
    "lost_waiting": "leads lost to waiting",
}
"""How a KPI reads in a sentence, where its name does not read well as it is."""


def _mean(values: np.ndarray) -> float:
    """The mean of the finite values; NaN when there are none (e.g. utilisation, no sellers)."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else math.nan


def _sentence(baseline: str, row: dict) -> str:
    kpi, name = KPI_WORDS.get(row["kpi"], row["kpi"].replace("_", " ")), row["scenario"]
    up, down = ("more", "fewer") if row["kpi"] in COUNT_KPIS else ("higher", "lower")
    pct = math.isfinite(row["delta_pct"])
    value, low, high = (
        (row["delta_pct"], row["ci_low_pct"], row["ci_high_pct"])
        if pct
        else (row["delta"], row["ci_low"], row["ci_high"])
    )
    unit = "%" if pct else ""
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0 <= high:
        return (
            f"{name}: no clear difference in {kpi} from {baseline} "
            f"({value:+.1f}{unit} [{low:+.1f}{unit}, {high:+.1f}{unit}])"
        )
    word = up if value > 0 else down
    a, b = sorted((abs(low), abs(high)))
    return (
        f"{name} has {abs(value):.1f}{unit} {word} {kpi} than {baseline} "
        f"[{a:.1f}{unit}, {b:.1f}{unit}]"
    )
