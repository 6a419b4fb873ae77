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
from hourglass.i18n import _, get_language
from hourglass.kpis import KPIS, MISSING, Kind, Kpi

_ROW_KEYS = ("mean", "base", "delta", "delta_pct", "ci_low", "ci_high", "clear", "improvement")
"""What `Comparison.to_dict` gives for each scenario and KPI."""


@dataclass(frozen=True)
class Comparison:
    """Each scenario against the baseline: paired differences per KPI with 95% CIs."""

    baseline: str
    reps: int
    seed: int
    runs: dict[str, Replications]
    table: pd.DataFrame
    """scenario, kpi, mean, base (the baseline's mean), delta, delta_pct, ci_low, ci_high,
    ci_low_pct, ci_high_pct, clear (the 95% CI excludes no change) and improvement (True or
    False for a clear change of a KPI with a better direction, else None)."""

    def sentences(self) -> list[str]:
        """One plain sentence per scenario and KPI."""
        return [_sentence(self.baseline, row) for row in self.table.to_dict("records")]

    def to_dict(self) -> dict:
        """The comparison as plain data: scenario -> kpis -> KPI -> numbers."""
        scenarios: dict[str, dict] = {}
        for row in self.table.to_dict("records"):
            kpis = scenarios.setdefault(row["scenario"], {"kpis": {}})["kpis"]
            kpis[row["kpi"]] = {k: row[k] for k in _ROW_KEYS}
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
        raise ValueError(_("compare needs a baseline and at least one other scenario"))
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(
            _("scenario names must differ to be compared: {names}").format(names=", ".join(names))
        )
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
        raise ValueError(_("compare needs a baseline and at least one other scenario"))
    first = next(iter(runs.values()))
    for name, result in runs.items():
        if (result.seed, result.reps) != (first.seed, first.reps):
            raise ValueError(
                _(
                    "'{name}' ran {reps} replications on seed {seed}, the baseline "
                    "{baseline_reps} on seed {baseline_seed}: paired differences need the "
                    "same both"
                ).format(
                    name=name,
                    reps=result.reps,
                    seed=result.seed,
                    baseline_reps=first.reps,
                    baseline_seed=first.seed,
                )
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
        # a KPI one of the two lacks (the CAC of a channel only one has) is not compared
        for kpi in [k for k in base.columns if k in result.kpis.columns]:
            b = base[kpi].to_numpy(dtype=float)
            o = result.kpis[kpi].to_numpy(dtype=float)
            delta, low, high = paired_difference(b, o)
            base_mean, mean = _mean(b), _mean(o)
            scale = 100.0 / abs(base_mean) if base_mean else math.nan
            clear = bool(low > 0 or high < 0)  # False for a NaN interval too
            rows.append(
                {
                    "scenario": name,
                    "kpi": kpi,
                    "mean": mean,
                    "base": base_mean,
                    "delta": delta,
                    "delta_pct": delta * scale,
                    "ci_low": low,
                    "ci_high": high,
                    "ci_low_pct": low * scale,
                    "ci_high_pct": high * scale,
                    "clear": clear,
                    "improvement": KPIS[kpi].is_improvement(delta) if clear else None,
                }
            )
    return pd.DataFrame(rows)


def _mean(values: np.ndarray) -> float:
    """The mean of the finite values; NaN when there are none (e.g. utilisation, no sellers)."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else math.nan


def _words(kind: Kind) -> tuple[str, str]:
    """How a KPI of this kind goes up and down in a sentence, in the active language."""
    if kind is Kind.COUNT:
        return _("more"), _("fewer")
    if kind is Kind.DURATION:
        return _("longer"), _("shorter")
    return _("higher"), _("lower")


def _noun(kpi: Kpi) -> str:
    """The KPI's label inside a sentence: 'buyers', 'mean wait for a seller'; CAC, K-factor."""
    label = kpi.label(get_language())
    first = label.split(" ", 1)[0]
    return label[0].lower() + label[1:] if first.isalpha() and first[1:].islower() else label


def _units(kpi: Kpi, row: dict) -> tuple[tuple[float, float, float], str, str, str]:
    """How a sentence gives a KPI's change: the numbers, their format and their units.

    The change and its interval as the sentence gives them, the number format, and the unit after
    the change and after each end of the interval: percent for counts, money and durations; points
    for shares; the KPI's own units for rates (and from a zero baseline).
    """
    if kpi.relative and math.isfinite(row["delta_pct"]):
        return (row["delta_pct"], row["ci_low_pct"], row["ci_high_pct"]), "{:,.1f}", "%", "%"
    values = (row["delta"], row["ci_low"], row["ci_high"])
    if kpi.kind is Kind.SHARE:
        return tuple(100 * v for v in values), "{:,.1f}", _(" points"), ""
    return values, kpi.fmt.replace("{:+", "{:"), "", ""


def _number(fmt: str, value: float, unit: str = "", *, signed: bool = False) -> str:
    """A number of a sentence with its unit; a missing one as the registry writes it."""
    if not math.isfinite(value):
        return MISSING
    return (fmt.replace("{:", "{:+", 1) if signed else fmt).format(value) + unit


def _sentence(baseline: str, row: dict) -> str:
    kpi, name = KPIS[row["kpi"]], row["scenario"]
    what = _noun(kpi)
    if not math.isfinite(row["delta"]):
        return _("{name}: {what} cannot be compared with {baseline} (one of them has none)").format(
            name=name, what=what, baseline=baseline
        )
    (value, low, high), fmt, unit, end = _units(kpi, row)
    if not row["clear"]:
        change = _number(fmt, value, unit, signed=True)
        low, high = (_number(fmt, v, end, signed=True) for v in (low, high))
        return _(
            "{name}: no clear difference in {what} from {baseline} ({change} [{low}, {high}])"
        ).format(name=name, what=what, baseline=baseline, change=change, low=low, high=high)
    up, down = _words(kpi.kind)
    word = up if value > 0 else down
    change = _number(fmt, abs(value), unit)
    low, high = (_number(fmt, v, end) for v in sorted((abs(low), abs(high))))
    if kpi.relative:
        said = _("{name} has {change} {word} {what} than {baseline} [{low}, {high}]")
    else:
        said = _("{name}: {what} is {change} {word} than {baseline} [{low}, {high}]")
    said = said.format(
        name=name, change=change, word=word, what=what, baseline=baseline, low=low, high=high
    )
    if row["improvement"] is None:
        return said
    return (_("{said}, better") if row["improvement"] else _("{said}, worse")).format(said=said)
