"""Each stage's pass probability per channel, and a test of whether the channels differ."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import stats

from hourglass.calibration.crm import Deals
from hourglass.calibration.estimators import PassDraws, pass_probability_draws
from hourglass.calibration.funnel import SourceFit, StageFit, channel_of
from hourglass.calibration.mapping import CrmMapping


def fit_sources(
    deals: Deals, mapping: CrmMapping, stages: list[StageFit], rng: np.random.Generator
) -> list[StageFit]:
    """The stages with their pass probability per channel, where the export names sources.

    The test of difference is Pearson's chi-square on passed and lost visits per channel
    (open visits left out), over channels with a decided visit.
    """
    if "source" not in deals.columns:
        return stages
    v = deals.visits
    first = v.groupby("deal")["source"].first()
    channel = v["deal"].map({d: channel_of(s, mapping)[0] for d, s in first.items()})
    out = []
    for k, fit in enumerate(stages):
        mine = v[v["stage"] == k]
        by_source = {
            name: visits_fit(group, deals.until, rng)[0]
            for name, group in mine.groupby(channel[mine.index], sort=True)
        }
        out.append(
            replace(fit, by_source=by_source, source_difference=difference_p(by_source.values()))
        )
    return out


def visits_fit(
    visits: pd.DataFrame, until: float, rng: np.random.Generator
) -> tuple[SourceFit, PassDraws]:
    """Some visits to a stage: counts, the censored pass probability and its bootstrap draws."""
    status = visits["status"].to_numpy(str)
    left, entered = visits["left"].to_numpy(float), visits["entered"].to_numpy(float)
    is_open = status == "open"
    days = np.where(is_open & np.isnan(left), until - entered, left - entered)
    drawn = pass_probability_draws(np.nan_to_num(days), status, rng)
    fit = SourceFit(
        passed=int((status == "passed").sum()),
        lost=int((status == "lost").sum()),
        open=int(is_open.sum()),
        pass_prob=drawn.estimate,
    )
    return fit, drawn


def difference_p(fits: Iterable[SourceFit]) -> float | None:
    """P-value of Pearson's chi-square that the groups pass alike (None: fewer than two)."""
    table = np.array([[f.passed, f.lost] for f in fits if f.passed + f.lost > 0])
    if len(table) < 2 or (table.sum(axis=0) == 0).any():
        return None
    p = stats.chi2_contingency(table, correction=False).pvalue
    return float(p) if math.isfinite(p) else None
