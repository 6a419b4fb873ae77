"""Paired comparison of scenarios under common random numbers."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from hourglass.config.scenario import Scenario
from hourglass.experiments.replication import (
    Backend,
    Executor,
    Progress,
    Replications,
    RepResult,
    collect,
    gathered,
)
from hourglass.i18n import _, get_language
from hourglass.kpis import KPIS, MISSING, Kind, Kpi

_ROW_KEYS = ("mean", "base", "delta", "delta_pct", "ci_low", "ci_high", "clear", "improvement")
"""What `Comparison.to_dict` gives for each scenario and KPI."""


@dataclass(frozen=True)
class Precision:
    """What sequential stopping asked for and reached, after how many paired replications."""

    target: dict[str, float]
    """KPI -> the 95% half-width asked for its difference from the baseline, in its units."""
    reached: dict[str, float]
    """KPI -> the widest half-width over the compared scenarios when the replications stopped."""
    reps: int

    @property
    def met(self) -> bool:
        """Whether every KPI reached its target (else the replications hit their maximum)."""
        return all(self.reached[kpi] <= width for kpi, width in self.target.items())

    def to_dict(self) -> dict:
        """The targets, the half-widths reached, whether all are met and after how many reps."""
        return {"target": self.target, "reached": self.reached, "met": self.met, "reps": self.reps}


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
    precision: Precision | None = field(default=None)
    """With a precision target: what was reached, and after how many replications."""

    def sentences(self) -> list[str]:
        """One plain sentence per scenario and KPI."""
        return [_sentence(self.baseline, row) for row in self.table.to_dict("records")]

    def to_dict(self) -> dict:
        """The comparison as plain data: scenario -> kpis -> KPI -> numbers."""
        scenarios: dict[str, dict] = {}
        for row in self.table.to_dict("records"):
            kpis = scenarios.setdefault(row["scenario"], {"kpis": {}})["kpis"]
            kpis[row["kpi"]] = {k: row[k] for k in _ROW_KEYS}
        doc = {
            "baseline": self.baseline,
            "reps": self.reps,
            "seed": self.seed,
            "scenarios": scenarios,
        }
        if self.precision is not None:
            doc["precision"] = self.precision.to_dict()
        return doc


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
    precision: Mapping[str, float] | None = None,
    max_reps: int = 1000,
) -> Comparison:
    """Run every scenario on the same seed children; the first is the baseline.

    With `precision` ({KPI: half-width}), paired replications are added in rounds, from `reps`
    up to at most `max_reps`, until the 95% interval of each named KPI's difference from the
    baseline is within its half-width, in the KPI's own units; `Comparison.precision` says
    what was reached and after how many replications.
    """
    if len(scenarios) < 2:
        raise ValueError(_("compare needs a baseline and at least one other scenario"))
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(
            _("scenario names must differ to be compared: {names}").format(names=", ".join(names))
        )
    targets = _checked_targets(precision, reps, max_reps)
    seed = scenarios[0].seed if seed is None else seed
    started = time.perf_counter()
    results: dict[str, dict[int, RepResult]] = {s.name: {} for s in scenarios}
    with Executor(backend, scheduler) as executor:

        def run_to(wanted: int) -> dict[str, list[np.ndarray]]:
            total = wanted * len(scenarios)
            for i, scenario in enumerate(scenarios):
                done = i * wanted
                tick = (lambda d, _t, done=done: progress(done + d, total)) if progress else None
                own = results[scenario.name]
                collect(executor, scenario, seed, range(wanted), own, tick, wanted)
            return _differences(results, targets)

        reached = None
        if targets:
            reached = stop_when_precise(run_to, reps, targets, max_reps)
        else:
            run_to(reps)
        seconds = time.perf_counter() - started
        runs = {
            s.name: gathered(s, seed, results[s.name], executor.backend, seconds) for s in scenarios
        }
    return replace(compare_runs(runs), precision=reached)


def _checked_targets(
    precision: Mapping[str, float] | None, reps: int, max_reps: int
) -> dict[str, float]:
    """The precision targets by KPI, each a known KPI with a positive half-width."""
    if precision is None:
        return {}
    if not precision:
        raise ValueError("precision: name at least one KPI and its half-width")
    for kpi, width in precision.items():
        if kpi not in KPIS:
            raise ValueError(
                f"precision: unknown KPI '{kpi}'; use one of {', '.join(KPIS.names())}"
            )
        if not (isinstance(width, int | float) and math.isfinite(width) and width > 0):
            raise ValueError(f"precision: the half-width of {kpi} must be a positive number")
    if max_reps < max(reps, 2):
        raise ValueError(f"max_reps ({max_reps}) must be at least reps ({reps}) and 2")
    return {kpi: float(width) for kpi, width in precision.items()}


def _differences(
    results: dict[str, dict[int, RepResult]], kpis: Iterable[str]
) -> dict[str, list[np.ndarray]]:
    """Per KPI, each scenario's paired differences from the baseline (the first), by rep."""
    baseline, *others = results.values()
    reps = sorted(baseline)
    out: dict[str, list[np.ndarray]] = {}
    for kpi in kpis:
        base = np.array([baseline[r].kpis.get(kpi, math.nan) for r in reps], dtype=float)
        out[kpi] = [
            np.array([other[r].kpis.get(kpi, math.nan) for r in reps], dtype=float) - base
            for other in others
        ]
    return out


def half_width(differences: np.ndarray) -> float:
    """The 95% t-interval half-width of the mean of paired differences (NaN under 2)."""
    finite = differences[np.isfinite(differences)]
    if len(finite) < 2:
        return math.nan
    return float(stats.t.ppf(0.975, len(finite) - 1) * finite.std(ddof=1) / math.sqrt(len(finite)))


def stop_when_precise(
    run_to: Callable[[int], Mapping[str, Sequence[np.ndarray]]],
    start: int,
    targets: Mapping[str, float],
    max_reps: int,
) -> Precision:
    """Add paired replications in rounds until every KPI's half-width is within its target.

    `run_to(n)` runs replications up to n and gives, per KPI, the paired differences of each
    compared scenario. After each round the replications still needed are estimated as
    (t * sd / target)^2 from the differences so far; a round at most doubles the count, so an
    early, noisy spread cannot overshoot far.
    """
    n = max(start, 2)
    while True:
        differences = run_to(n)
        widths = {kpi: max(half_width(d) for d in differences[kpi]) for kpi in targets}
        for kpi, width in widths.items():
            if math.isnan(width):
                raise ValueError(
                    f"precision: {kpi} has no value to compare in at least one scenario"
                )
        if all(widths[k] <= targets[k] for k in targets) or n >= max_reps:
            return Precision(dict(targets), widths, n)
        needed = max(_reps_needed(d, targets[kpi]) for kpi in targets for d in differences[kpi])
        n = min(max_reps, max(n + 2, min(needed, 2 * n)))


def _reps_needed(differences: np.ndarray, target: float) -> int:
    """Paired replications whose 95% half-width would be `target`, at the spread seen so far."""
    finite = differences[np.isfinite(differences)]
    t = stats.t.ppf(0.975, len(finite) - 1)
    return math.ceil((t * finite.std(ddof=1) / target) ** 2)


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
        if math.isfinite(row["base"]) or math.isfinite(row["mean"]):
            said = _("{name}: {what} cannot be compared with {baseline} (one of them has none)")
        else:
            said = _("{name}: {what} cannot be compared with {baseline} (neither has one)")
        return said.format(name=name, what=what, baseline=baseline)
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
