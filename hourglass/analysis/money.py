"""Money as people read it, and the tables of money per budget line: now, at the optimum, by month.

The scenario names no currency, so money is written plainly, in whole units, with its period.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from hourglass.i18n import _
from hourglass.kpis import MISSING, written


def money(value: float, period: str | None = None, *, signed: bool = False) -> str:
    """An amount of money in whole units, with its period ("month" or "year") when given.

    The scenario names no currency, so money is written plainly: "+88,183 per year" (in
    Russian "+88 183 в год").
    """
    if not math.isfinite(value):
        return MISSING
    amount = written(value, "{:+,.0f}" if signed else "{:,.0f}")
    if period is None:
        return amount
    per = {"month": _("{amount} per month"), "year": _("{amount} per year")}[period]
    return per.format(amount=amount)


def allocation_table(
    current: Mapping[str, float],
    optimal: Mapping[str, float],
    marginal: Mapping[str, Mapping[str, float]],
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Money per month by line, now, at the optimum and the change, in the active language.

    `marginal` holds the marginal ROI by line at "current" and at "optimal"; headers and
    money are words (money a month in whole units, changes signed).
    """
    names = names or {}
    rows = [
        {
            _("Line"): names.get(line, line),
            _("Now, per month"): money(now),
            _("Optimal, per month"): money(optimal[line]),
            _("Change, per month"): money(optimal[line] - now, signed=True),
            _("Marginal ROI now"): written(marginal["current"][line], "{:+.2f}"),
            _("Marginal ROI at the optimum"): written(marginal["optimal"][line], "{:+.2f}"),
        }
        for line, now in current.items()
    ]
    return pd.DataFrame(rows)
