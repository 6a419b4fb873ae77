"""Each stage's pass probability per channel, and a test of whether the channels differ."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import stats

from hourglass.analysis.intervals import Z95, wilson_score
from hourglass.calibration.crm import Deals
from hourglass.calibration.estimators import PassDraws, pass_probability_draws, standard_error
from hourglass.calibration.funnel import SourceFit, StageFit, channel_of
from hourglass.calibration.mapping import CrmMapping


def fit_sources(
    deals: Deals, mapping: CrmMapping, stages: list[StageFit], rng: np.random.Generator
) -> list[StageFit]:
    """The stages with their pass probability per channel, where the export names sources.

    The test of difference (`difference_p`) is on the channels' censoring-aware estimates,
    so open visits count as censored there too.
    """
    if "source" not in deals.columns:
        return stages
    v = deals.visits
    first = v.groupby("deal")["source"].first()
    channel = v["deal"].map({d: channel_of(s, mapping)[0] for d, s in first.items()})
    out = []
    for k, fit in enumerate(stages):
        mine = v[v["stage"] == k]
        fitted = {
            name: visits_fit(group, deals.until, rng)
            for name, group in mine.groupby(channel[mine.index], sort=True)
        }
        by_source = {name: fit for name, (fit, _drawn) in fitted.items()}
        out.append(
            replace(fit, by_source=by_source, source_difference=difference_p(fitted.values()))
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


def difference_p(groups: Iterable[tuple[SourceFit, PassDraws]]) -> float | None:
    """P-value that the groups pass alike, from their censoring-aware estimates (None: under two).

    A Wald test of homogeneity (Cochran's Q): Q = sum of w (p - p_pooled)^2 with w = 1 / se^2,
    each se the bootstrap's (`standard_error`), chi-square with one degree of freedom fewer
    than the groups. A group whose estimate has no spread (every decided visit passed) takes
    the Wilson interval's over its decided visits instead, so it neither drops out nor weighs
    infinitely.
    """
    estimates, errors = [], []
    for fit, drawn in groups:
        decided, value = fit.passed + fit.lost, drawn.estimate.value
        if decided == 0 or not math.isfinite(value):
            continue
        se = standard_error(drawn)
        if se == 0.0:
            counted = wilson_score(value, decided)
            se = (counted.high - counted.low) / (2.0 * Z95)
        estimates.append(value)
        errors.append(se)
    if len(estimates) < 2:
        return None
    weights = 1.0 / np.square(errors)
    pooled = float(np.average(estimates, weights=weights))
    q = float(np.sum(weights * np.square(np.asarray(estimates) - pooled)))
    p = stats.chi2.sf(q, len(estimates) - 1)
    return float(p) if math.isfinite(p) else None
