"""Rows left out of a fit, by reason and line, and rows set apart for their dates."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hourglass.calibration.dates import outlying_rows
from hourglass.i18n import _


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
            where = f"column '{column}': " if column else ""
            out.append(
                f"{self.file}: {self.count:,} of {self.rows:,} rows skipped, most for "
                f"{where}{why}; the fit rests on the other {self.rows - self.count:,}"
            )
        if any(why.startswith("stage not in the mapping") for _, why in self.reasons):
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
            where = f"column '{column}': " if column else ""
            out.append(f"{self.file}: {_rows(rows)} skipped: {where}{why} (rows {_first(rows)})")
        return out


def _rows(lines: list[int] | pd.Series) -> str:
    return f"{len(lines)} row{'s' * (len(lines) != 1)}"


def _first(lines: list[int] | pd.Series, shown: int = 10) -> str:
    """The first line numbers, and how many more."""
    ordered = sorted(int(n) for n in lines)
    more = f" and {len(ordered) - shown} more" if len(ordered) > shown else ""
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
            f"dated before {far.low:%Y-%m-%d}, long before the rest of the file",
            "correct their dates to use them",
        ),
        (
            far.late,
            f"dated after {far.high:%Y-%m-%d}, long after the rest of the file or after today",
            "--until DATE sets the end of the calibration period",
        ),
    ):
        lines = rows.loc[wrong, "line"]
        if len(lines):
            skipped.add(column, why, lines)
            warnings.append(
                f"{skipped.file}: {_rows(lines)} {why} (rows {_first(lines, 5)}): left out so "
                f"that they do not stretch the calibration period; {hint}"
            )
    return rows[~(far.early | far.late)], warnings
