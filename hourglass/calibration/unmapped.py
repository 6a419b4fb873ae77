"""Deals that moved on to stages the mapping leaves out: what their last mapped stage means.

Rows of unmapped stages are not fitted, but they say that a deal left its last mapped stage
for somewhere. Counting such a deal as lost there (it has no later mapped stage) would pull
that stage's pass probability down. An unmapped stage that other deals leave for a mapped
funnel stage (or a win) lies ahead in the funnel, so entering it is passing; one that never
leads on could be a loss as well as a step ahead, so the visit is censored when the deal
left it, not counted as lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hourglass.i18n import ngettext
from hourglass.stages import FUNNEL


@dataclass(frozen=True)
class MovedOn:
    """Per stage visit: when the deal next entered an unmapped stage, and whether it leads on."""

    at: pd.Series
    """The entry into the first unmapped stage after the visit began (NaT: none)."""
    ahead: pd.Series
    """True where that stage lies ahead in the funnel, or the deal's own rows say won."""
    names: tuple[str, ...]
    """The unmapped stages deals moved on to, as the file writes them."""

    def note(self, moved: pd.Series, ahead: pd.Series) -> list[str]:
        """What was assumed about the visits `moved` (a mask over the visits), if any.

        `ahead` marks the visits counted as passed.
        """
        passed = int((moved & ahead).sum())
        censored = int((moved & ~ahead).sum())
        if not passed and not censored:
            return []
        return [
            ngettext(
                "{n} deal moved on from its last mapped stage to a stage the mapping leaves "
                "out ({names}): {passed} counted as passed (the stage leads on to mapped "
                "stages in other deals, or the deal was won), {censored} as undecided when "
                "it left (censored, not lost)",
                "{n} deals moved on from their last mapped stage to stages the mapping leaves "
                "out ({names}): {passed} counted as passed (the stage leads on to mapped "
                "stages in other deals, or the deal was won), {censored} as undecided when "
                "they left (censored, not lost)",
                passed + censored,
            ).format(
                n=passed + censored,
                names=", ".join(self.names[:5]),
                passed=passed,
                censored=censored,
            )
        ]


def moved_on(visits: pd.DataFrame, rows: pd.DataFrame, unmapped: pd.DataFrame) -> MovedOn:
    """For each funnel visit, the first unmapped stage the deal entered after it began."""
    none = MovedOn(
        at=pd.Series(pd.NaT, index=visits.index, dtype=visits["entered"].dtype),
        ahead=pd.Series(False, index=visits.index),
        names=(),
    )
    if unmapped.empty or visits.empty:
        return none
    leading = _leading_on(rows, unmapped)
    won = set(unmapped.loc[unmapped["outcome"] == "won", "deal"])
    later = unmapped.assign(at=unmapped["entered"], leads=unmapped["stage_name"].isin(leading))
    found = pd.merge_asof(
        visits[["deal", "entered"]].reset_index().sort_values("entered"),
        later[["deal", "entered", "at", "leads", "stage_name"]].sort_values("entered"),
        on="entered",
        by="deal",
        direction="forward",
    ).set_index("index")
    found = found.reindex(visits.index)
    at = found["at"].astype(visits["entered"].dtype)
    ahead = found["leads"].fillna(False).astype(bool) | visits["deal"].isin(won)
    names = tuple(sorted(set(found["stage_name"].dropna())))
    return MovedOn(at=at, ahead=ahead & at.notna(), names=names)


def _leading_on(rows: pd.DataFrame, unmapped: pd.DataFrame) -> set[str]:
    """The unmapped stages some deal leaves for a mapped funnel stage or a win."""
    onward = rows[rows["target"].isin([*FUNNEL, "won"])][["deal", "entered"]]
    if onward.empty:
        return set()
    found = pd.merge_asof(
        unmapped[["deal", "entered", "stage_name"]].sort_values("entered"),
        onward.assign(next_at=onward["entered"]).sort_values("entered"),
        on="entered",
        by="deal",
        direction="forward",
        allow_exact_matches=False,
    )
    return set(found.loc[found["next_at"].notna(), "stage_name"])


def earliest(*times: pd.Series) -> pd.Series:
    """The earliest of several time series, row by row, ignoring missing values."""
    return pd.concat(times, axis=1).min(axis=1).astype(times[0].dtype)
