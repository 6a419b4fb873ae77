"""KPI changes as people read them: a comparison's rows written by the KPI registry.

Each value, change and 95% interval is formatted by its KPI (points for shares, percent for
counts and money), an interval is cut at what the KPI can reach (never a count 103% lower),
and a missing number is written as the registry writes it, never as nan.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from hourglass.i18n import _, get_language
from hourglass.kpis import KPIS, MISSING


def change_table(table: pd.DataFrame, kpis: Iterable[str] | None = None) -> pd.DataFrame:
    """A comparison's table (`Comparison.table`) in words, with headers in the active language.

    One row per scenario and KPI (only `kpis`, in their order, when given): the KPI's name,
    the scenario's value, the baseline's, the change and its 95% interval.
    """
    rows = table if kpis is None else _in_order(table, list(kpis))
    language = get_language()
    out = []
    for row in rows.to_dict("records"):
        kpi = KPIS[row["kpi"]]
        out.append(
            {
                _("Scenario"): row["scenario"],
                _("KPI"): kpi.label(language),
                _("Value"): kpi.format(row["mean"]),
                _("Baseline"): kpi.format(row["base"]),
                _("Change"): kpi.format_delta(row["delta"], row["base"]),
                _("95% interval"): kpi.format_interval(row["ci_low"], row["ci_high"], row["base"]),
                _("Verdict"): verdict(row),
            }
        )
    return pd.DataFrame(out)


def number_table(table: pd.DataFrame) -> pd.DataFrame:
    """A comparison's numbers for export, with headers and KPI names in the active language."""
    language = get_language()
    headers = {
        "scenario": _("Scenario"),
        "kpi": _("KPI"),
        "mean": _("Value"),
        "base": _("Baseline"),
        "delta": _("Change"),
        "delta_pct": _("Change, %"),
        "ci_low": _("95% interval, low"),
        "ci_high": _("95% interval, high"),
    }
    numbers = table[list(headers)].assign(kpi=table["kpi"].map(lambda k: KPIS[k].label(language)))
    return numbers.rename(columns=headers)


def verdict(row: dict) -> str:
    """Whether a change is better, worse, within the noise, or cannot be said."""
    if not math.isfinite(row["delta"]):
        return MISSING
    if not row["clear"]:
        return _("within the noise")
    if row["improvement"] is None:
        return _("clear change")
    return _("better") if row["improvement"] else _("worse")


def change_sentence(row: dict, baseline: str) -> str:
    """One sentence on a scenario's change of a KPI against the baseline, in the active language."""
    kpi = KPIS[row["kpi"]]
    name = kpi.label(get_language())
    if not math.isfinite(row["delta"]):
        return _("{scenario}: {kpi} cannot be compared with {baseline}").format(
            scenario=row["scenario"], kpi=name, baseline=baseline
        )
    return _("{scenario}: {kpi} {change} ({interval}) against {baseline}, {verdict}").format(
        scenario=row["scenario"],
        kpi=name,
        change=kpi.format_delta(row["delta"], row["base"]),
        interval=kpi.format_interval(row["ci_low"], row["ci_high"], row["base"]),
        baseline=baseline,
        verdict=verdict(row),
    )


def _in_order(table: pd.DataFrame, kpis: list[str]) -> pd.DataFrame:
    chosen = table[table["kpi"].isin(kpis)].copy()
    scenarios = list(dict.fromkeys(chosen["scenario"]))
    chosen["order"] = chosen["scenario"].map(scenarios.index) * len(kpis)
    chosen["order"] += chosen["kpi"].map(kpis.index)
    return chosen.sort_values("order", kind="stable").drop(columns="order")
