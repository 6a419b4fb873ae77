"""Rows left out of a fit, by reason and line, and rows set apart for their dates."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hourglass.calibration.dates import outlying_rows
from hourglass.i18n import _, grouped, ngettext


@dataclass
class Skipped:
    """Rows left out of the fit, by reason: line numbers in the file (the header is line 1)."""

    file: str
    rows: int
    """Data rows in the file."""
    reasons: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    encoding: str = "table"
    """The encoding the file's bytes were read in ("text" or "table" when given decoded)."""

    def add(self, column: str, why: str, lines: np.ndarray | list[int]) -> None:
        """Count rows left out for `why` in `column`."""
        if len(lines):
            self.reasons.setdefault((column, why), []).extend(int(n) for n in lines)

    @property
    def count(self) -> int:
        """How many rows were left out."""
        return sum(len(v) for v in self.reasons.values())

    def warnings(self) -> list[str]:
        """What a reader must know before trusting a fit from this file's remaining rows."""
        out = []
        if self.count > self.rows / 10:
            column, why = max(self.reasons, key=lambda reason: len(self.reasons[reason]))
            out.append(
                _(
                    "{file}: {count} of {rows} rows skipped, most for {where}{why}; the fit "
                    "rests on the other {rest}"
                ).format(
                    file=self.file,
                    count=grouped(self.count),
                    rows=grouped(self.rows),
                    where=_in_column(column),
                    why=why,
                    rest=grouped(self.rows - self.count),
                )
            )
        if any(why.startswith(NOT_IN_MAPPING()) for _column, why in self.reasons):
            out.append(
                _(
                    "{file}: rows of stages not in the mapping were skipped; a deal that moved "
                    "on to one counts as passed at the stage before where that stage leads on "
                    "to mapped ones, else as undecided (censored), never as lost; map every "
                    "stage (stages: in a mapping file) to fit them too"
                ).format(file=self.file)
            )
        return out

    def lines(self) -> list[str]:
        """One sentence per reason, naming the column and the first rows."""
        out = []
        for (column, why), rows in self.reasons.items():
            out.append(
                _("{file}: {rows} skipped: {where}{why} (rows {lines})").format(
                    file=self.file,
                    rows=_rows(rows),
                    where=_in_column(column),
                    why=why,
                    lines=_first(rows),
                )
            )
        return out


def NOT_IN_MAPPING() -> str:
    """The reason of rows whose stage the mapping leaves out, in the active language."""
    return _("stage not in the mapping")


def _in_column(column: str) -> str:
    """Where a reason applies: "column 'x': ", or nothing for a whole row."""
    return _("column '{column}': ").format(column=column) if column else ""


def _rows(lines: list[int] | pd.Series) -> str:
    return ngettext("{n} row", "{n} rows", len(lines)).format(n=len(lines))


def _first(lines: list[int] | pd.Series, shown: int = 10) -> str:
    """The first line numbers, and how many more."""
    ordered = sorted(int(n) for n in lines)
    more = ""
    if len(ordered) > shown:
        more = _(" and {n} more").format(n=len(ordered) - shown)
    return ", ".join(str(r) for r in ordered[:shown]) + more


def set_apart(
    rows: pd.DataFrame,
    first: pd.Series,
    last: pd.Series,
    until: pd.Timestamp | None,
    today: pd.Timestamp | None,
    column: str,
    skipped: Skipped,
) -> tuple[pd.DataFrame, list[str]]:
    """The rows without those dated far from the rest of the file; a warning per kind left out."""
    now = pd.Timestamp.now("UTC").tz_convert(None) if today is None else today
    far = outlying_rows(first, last, until, now + pd.Timedelta(days=1))
    warnings = []
    for wrong, why, hint in (
        (
            far.early,
            _("dated before {date}, long before the rest of the file").format(
                date=f"{far.low:%Y-%m-%d}"
            ),
            _("correct their dates to use them"),
        ),
        (
            far.late,
            _("dated after {date}, long after the rest of the file or after today").format(
                date=f"{far.high:%Y-%m-%d}"
            ),
            _("--until DATE sets the end of the calibration period"),
        ),
    ):
        lines = rows.loc[wrong, "line"]
        if len(lines):
            skipped.add(column, why, lines)
            warnings.append(
                _(
                    "{file}: {rows} {why} (rows {lines}): left out so that they do not "
                    "stretch the calibration period; {hint}"
                ).format(
                    file=skipped.file, rows=_rows(lines), why=why, lines=_first(lines, 5), hint=hint
                )
            )
    return rows[~(far.early | far.late)], warnings
