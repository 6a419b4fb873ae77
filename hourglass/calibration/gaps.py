"""What a calibration could not estimate, in words a calibrated scenario carries with it.

Each entry names the part, why the data left it out, and what the scenario assumes instead;
the scenario's `not_estimated` list holds them, and every run of the scenario warns of them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from hourglass.calibration.team import team_gaps
from hourglass.i18n import _

if TYPE_CHECKING:
    from hourglass.calibration.fit import Calibration


def not_estimated(cal: Calibration) -> list[str]:
    """The parts of the calibrated scenario the data did not give, each with its stand-in."""
    out = []
    if cal.deals is None:
        out.append(
            _("the funnel and arrivals: no deal history was given; the scenario has no arrivals")
        )
    for s in cal.stages:
        if not math.isfinite(s.pass_prob.value):
            out.append(
                _(
                    "{stage}: the pass probability (no visit to the stage was decided); "
                    "the scenario lets everyone pass"
                ).format(stage=s.stage)
            )
        if s.duration is None:
            out.append(
                _(
                    "{stage}: the time in stage (too few visits left it at a known time, or "
                    "its fit had no finite mean); the scenario uses 0 days"
                ).format(stage=s.stage)
            )
    if cal.repeat is None:
        out.append(
            _(
                "repeat buying (no transaction log, or too few repeat purchases in it); the "
                "scenario has no repeat purchases"
            )
        )
    out += _word_of_mouth(cal)
    if cal.spend is None and cal.amount_mean_cv is None:
        out.append(_("order value (no transaction log); the scenario's orders are worth 0"))
    if any(c.kind == "paid" for c in cal.channels):
        out.append(
            _(
                "the paid channels' costs (not in the export): cost_per_prospect is 1 and "
                "budget_per_month counts prospects a month"
            )
        )
    out += team_gaps(cal)
    return out


def _word_of_mouth(cal: Calibration) -> list[str]:
    """Word of mouth not estimated, or the market size written in its place."""
    fit = cal.referral
    if fit is None:
        return []
    if fit.rate is None or fit.rate.value <= 0.0:
        return [
            _(
                "word of mouth ({why}): referred deals are counted as organic arrivals and "
                "the scenario has no referral section"
            ).format(why=fit.why_not or _("no referred deal"))
        ]
    return [
        _(
            "the market's size (not in the data): word of mouth needs one, so the scenario "
            "has a market far larger than the deals; set it to your market's size"
        )
    ]
