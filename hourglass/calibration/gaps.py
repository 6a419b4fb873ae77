"""What a calibration could not estimate, as keys a calibrated scenario carries with it.

Each entry names the part and the data its sentence needs (config.gaps renders it, in the
reader's language, with why the data left it out and what the scenario assumes instead);
the scenario's `not_estimated` list holds them, and every run of the scenario warns of them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from hourglass.calibration.team import team_gaps
from hourglass.config.gaps import Gap

if TYPE_CHECKING:
    from hourglass.calibration.fit import Calibration


def not_estimated(cal: Calibration) -> list[Gap]:
    """The parts of the calibrated scenario the data did not give, each with its stand-in."""
    out = []
    if cal.deals is None:
        out.append(Gap(part="funnel"))
    for s in cal.stages:
        if not math.isfinite(s.pass_prob.value):
            out.append(Gap(part="pass_prob", stage=s.stage))
        if s.duration is None:
            out.append(Gap(part="duration", stage=s.stage))
    if cal.repeat is None:
        out.append(Gap(part="repeat"))
    out += _word_of_mouth(cal)
    if cal.spend is None and cal.amount_mean_cv is None:
        out.append(Gap(part="order_value"))
    if any(c.kind == "paid" for c in cal.channels):
        out.append(Gap(part="paid_costs"))
    out += team_gaps(cal)
    return out


def _word_of_mouth(cal: Calibration) -> list[Gap]:
    """Word of mouth not estimated, or the market size written in its place."""
    fit = cal.referral
    if fit is None:
        return []
    if fit.rate is None or fit.rate.value <= 0.0:
        why = fit.why or "no_referrals"
        return [Gap(part="word_of_mouth", why=why, count=fit.referred, least=fit.least)]
    return [Gap(part="market")]
