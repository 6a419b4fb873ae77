"""Honest calibration: censoring-aware source tests, duration intervals, neutral notes."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd

from hourglass.experiments.comparison import compare_runs
from hourglass.i18n import language


def _compared(**kpis: tuple[list[float], list[float]]) -> list[str]:
    """Sentences comparing two runs whose KPIs per replication are given (base, other)."""
    runs = {
        name: SimpleNamespace(
            seed=1, reps=4, kpis=pd.DataFrame({k: pair[i] for k, pair in kpis.items()})
        )
        for i, name in enumerate(("a", "b"))
    }
    return compare_runs(runs).sentences()


def test_a_kpi_neither_run_defines_says_neither_has_one():
    """A free channel's LTV:CAC is NaN in both runs; a CAC only one run has is NaN in one."""
    nan = [math.nan] * 4
    said = _compared(ltv_cac=(nan, nan), cac_referral=([15.0] * 4, nan))
    assert said == [
        "b: LTV:CAC cannot be compared with a (neither has one)",
        "b: CAC (referral) cannot be compared with a (one of them has none)",
    ]
    with language("ru"):
        said = _compared(ltv_cac=(nan, nan))
    assert said == ["b: отношение LTV:CAC — не сравнить с a (ни у одного из них нет значения)"]
