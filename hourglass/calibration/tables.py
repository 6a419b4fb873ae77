"""A calibration's fits as tables to read: per stage, and the repeat-buying parameters."""

from __future__ import annotations

import math

import pandas as pd

from hourglass.calibration.fit import Calibration
from hourglass.calibration.team import skill, written_skill
from hourglass.i18n import _, get_language
from hourglass.kpis import written
from hourglass.stages import LABELS

BGNBD = ("r", "alpha", "a", "b")
"""Repeat buying's parameters."""

GAMMA_GAMMA = ("p", "q", "v")
"""Order value's parameters."""


def stage_fits(cal: Calibration) -> pd.DataFrame:
    """Per funnel stage: pass probability (95% CI), visits by status, time in stage.

    Headers and words are in the active language; the stage is its label in that language.
    """
    names = LABELS[get_language()]
    headers = [_("stage"), _("pass probability"), _("95% CI"), _("passed"), _("lost")]
    headers += [_("open"), _("time in stage")]
    rows = [
        [
            names.get(s.stage, s.stage),
            s.pass_prob.value,
            _("{low} to {high}").format(
                low=written(s.pass_prob.low, "{:.3f}"), high=written(s.pass_prob.high, "{:.3f}")
            ),
            s.passed,
            s.lost,
            s.open,
            (
                _("{family}, mean {days} days").format(
                    family=s.duration.family, days=written(s.duration.mean_days.value, "{:.1f}")
                )
                if s.duration is not None
                else _("not fitted")
            ),
        ]
        for s in cal.stages
    ]
    return pd.DataFrame(rows, columns=headers)


def seller_fits(cal: Calibration) -> pd.DataFrame:
    """Per seller and stage: pass probability (95% CI), visits, the difference from the rest.

    Then the skill (the seller's rate over the team's) and the multiplier the calibrated
    scenario gives the seller (team.py). Headers and words are in the active language; no
    rows when the export names no sellers.
    """
    names = LABELS[get_language()]
    headers = [_("seller"), _("stage"), _("pass probability"), _("95% CI"), _("skill")]
    headers += [_("skill in the scenario"), _("minus the rest"), _("p (Holm)"), _("passed")]
    headers += [_("lost"), _("open")]
    rows = [
        [
            seller.seller,
            names.get(stage, stage),
            s.fit.pass_prob.value,
            _interval(s.fit.pass_prob.low, s.fit.pass_prob.high),
            _skill_value(cal, seller.seller, stage),
            written_skill(cal, seller.seller, stage),
            math.nan if s.versus_rest is None else s.versus_rest.value,
            math.nan if s.p_value is None else s.p_value,
            s.fit.passed,
            s.fit.lost,
            s.fit.open,
        ]
        for seller in cal.sellers
        for stage, s in seller.stages.items()
    ]
    return pd.DataFrame(rows, columns=headers)


def _skill_value(cal: Calibration, seller: str, stage: str) -> float:
    estimate = skill(cal, seller, stage)
    return math.nan if estimate is None else estimate.value


def _interval(low: float, high: float) -> str:
    return _("{low} to {high}").format(low=f"{low:.3f}", high=f"{high:.3f}")


def repeat_fits(cal: Calibration) -> pd.DataFrame:
    """Repeat buying's and order value's parameters, each with its 95% interval.

    BG/NBD's r, alpha, a, b, then Gamma-Gamma's p, q, v when order values were fitted; no
    rows when repeat buying was not fitted (no transaction log).
    """
    named = {}
    if cal.repeat is not None:
        named = {k: getattr(cal.repeat, k) for k in BGNBD}
        if cal.spend is not None:
            named |= {k: getattr(cal.spend, k) for k in GAMMA_GAMMA}
    rows = [
        [
            k,
            e.value,
            _("{low} to {high}").format(
                low=written(e.low, "{:.4g}"), high=written(e.high, "{:.4g}")
            ),
        ]
        for k, e in named.items()
    ]
    return pd.DataFrame(rows, columns=[_("parameter"), _("value"), _("95% CI")])
