"""The calibrated scenario written from a calibration's fits, as plain data."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from hourglass.analysis.intervals import Estimate
from hourglass.calibration.gaps import not_estimated
from hourglass.calibration.team import sales_section
from hourglass.config.sections import MAX_MARKET
from hourglass.stages import DAYS_PER_MONTH, FUNNEL

if TYPE_CHECKING:
    from hourglass.calibration.fit import Calibration

MARKET_PER_DEAL = 1000
"""The market written with word of mouth, per deal in the period: large enough that contacts
rarely meet someone already reached (the data do not give the market's size)."""
LEAST_MARKET = 1_000_000
BOOST_RANGE = (0.01, 10.0)
"""A referral boost is written within these bounds (the scenario's)."""


def scenario_data(cal: Calibration) -> dict[str, Any]:
    """The calibrated scenario as plain data, before it is checked."""
    word_of_mouth = _word_of_mouth(cal)
    counted = ("organic",) if word_of_mouth else ("organic", "referral")
    organic = sum(c.per_day.value for c in cal.channels if c.kind in counted)
    paid = {
        c.channel: {
            "budget_per_month": c.per_day.value * DAYS_PER_MONTH,
            "cost_per_prospect": 1,
        }
        for c in cal.channels
        if c.kind == "paid"
    }
    channels: dict[str, Any] = {"paid": paid} if paid else {}
    if organic > 0 or not paid:
        channels["organic"] = {"prospects_per_day": organic}
    data = {
        "name": cal.name,
        "description": f"Calibrated from data up to {cal.until_date:%Y-%m-%d}.",
        "horizon_days": max(1.0, math.ceil(cal.until_days)),
        "channels": channels,
        "stages": _stages(cal, word_of_mouth),
        "after_sale": _after_sale(cal),
        **word_of_mouth,
        **sales_section(cal),
    }
    gaps = not_estimated(cal)
    if not gaps:
        return data
    return data | {"not_estimated": [g.model_dump(exclude_none=True) for g in gaps]}


def _stages(cal: Calibration, word_of_mouth: dict[str, Any]) -> dict[str, Any]:
    """Each stage's entry; a boosted stage's pass probability is that of unreferred deals."""
    boosted = word_of_mouth.get("referral", {}).get("boost", {})
    # with no deal history, the funnel lets everyone through at once (nobody arrives)
    stages: dict[str, Any] = {
        stage: {"pass_prob": 1.0, "duration": {"fixed": {"days": 0}}} for stage in FUNNEL
    }
    for fit in cal.stages:
        prob = fit.pass_prob
        if fit.stage in boosted:
            prob = cal.referral.boosts[fit.stage].others
        entry: dict[str, Any] = {"pass_prob": _with_interval(prob)}
        entry["duration"] = fit.duration.spec() if fit.duration else {"fixed": {"days": 0}}
        if fit.loss_reasons:
            entry["loss_reasons"] = {k: max(v.value, 1e-9) for k, v in fit.loss_reasons.items()}
        stages[fit.stage] = entry
    return stages


def _with_interval(prob: Estimate) -> float | dict[str, Any]:
    """A pass probability as its mean and 95% interval, or a number where it has no spread."""
    if not math.isfinite(prob.value):
        return 1.0
    if 0.0 <= prob.low < prob.value < prob.high <= 1.0:
        return {"mean": prob.value, "ci": [prob.low, prob.high]}
    return prob.value


def _word_of_mouth(cal: Calibration) -> dict[str, Any]:
    """The market and referral sections, where the referral rate was estimated."""
    fit = cal.referral
    if fit is None or fit.rate is None or fit.rate.value <= 0.0:
        return {}
    deals = sum(c.deals for c in cal.channels)
    size = int(min(MAX_MARKET, max(LEAST_MARKET, MARKET_PER_DEAL * deals)))
    rate = fit.rate.value
    referral: dict[str, Any] = {
        # every customer refers alike, still buying (one_time) or lapsed (temporarily_lost)
        "contacts_per_month": {"one_time": rate, "temporarily_lost": rate},
        "win_prob": 1.0,
    }
    boost = {s: float(np.clip(r, *BOOST_RANGE)) for s, r in fit.boost.items()}
    if boost:
        referral["boost"] = boost
    return {"market": {"size": size}, "referral": referral}


def _after_sale(cal: Calibration) -> dict[str, Any]:
    """Order value, and repeat buying where it was fitted."""
    after: dict[str, Any] = {"order_value": _order_value(cal)}
    if cal.repeat is not None:
        rep = cal.repeat
        after["repeat"] = {
            "bgnbd": {
                "r": rep.r.value,
                "alpha": rep.alpha.value,
                "a": rep.a.value,
                "b": rep.b.value,
                "period_days": rep.period_days,
            }
        }
    return after


def _order_value(cal: Calibration) -> dict[str, Any]:
    if cal.spend is not None and math.isfinite(cal.spend.spend_cv):
        mean, cv = cal.spend.mean_spend, cal.spend.spend_cv
    elif cal.amount_mean_cv is not None:
        mean, cv = cal.amount_mean_cv
    else:
        return {"fixed": {"value": 0}}
    if mean <= 0:
        return {"fixed": {"value": 0}}
    if not math.isfinite(cv):  # one amount: no spread to fit
        return {"fixed": {"value": mean}}
    return {"gamma": {"mean": mean, "cv": float(np.clip(cv, 0.01, 20.0))}}
