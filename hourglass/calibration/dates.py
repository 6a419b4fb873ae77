"""Dates in a data file: one day/month order per column, and rows dated far from the rest.

A column of dates such as 01/02/2026 is read in the one order (day/month or month/day) that
fits every row; when both fit, or neither does, the file is refused with the mapping options
that settle it. Rows dated far before or after the bulk of the file, or after today, are found
so that a typo (2099 for 2024) cannot stretch the calibration period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hourglass.calibration.mapping import DataError
from hourglass.i18n import _

STAMP = "datetime64[us]"
"""Every date column's type: microseconds reach from year -290,000 to 294,000, where
nanoseconds would wrap around outside 1677 to 2262."""
MIN_GAP_DAYS = 180.0
"""A gap shorter than this never sets rows apart from the rest of the file."""

_NUMERIC = r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)(.*)$"
"""A date written with numbers only, day and month in some order, then the year: 01/02/2026."""


@dataclass(frozen=True)
class Where:
    """The file and column a date column comes from, and its rows' line numbers."""

    file: str
    column: str
    lines: pd.Series


def parse_dates(
    values: pd.Series, fmt: str | None, dayfirst: bool | None, where: Where
) -> pd.Series:
    """Timestamps in UTC without a zone; NaT where a value is empty or unreadable.

    Times with no zone are taken as UTC. With `fmt`, every value is read with it; otherwise ISO
    dates are read as such, and numeric dates in the one day/month order that fits them all
    (or the order `dayfirst` gives).
    """
    text = values.str.strip()
    if fmt:
        return _naive(pd.to_datetime(text, format=fmt, errors="coerce", utc=True))
    parsed = _naive(pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True))
    rest = parsed.isna() & (text != "")
    if rest.any():
        parsed[rest] = _naive(
            pd.to_datetime(
                _numeric_as_iso(text[rest], dayfirst, where),
                format="mixed",
                errors="coerce",
                dayfirst=False,
                utc=True,
            )
        )
    return parsed


def _numeric_as_iso(text: pd.Series, dayfirst: bool | None, where: Where) -> pd.Series:
    """Numeric dates rewritten year first in the column's one day/month order; others as given."""
    parts = text.str.extract(_NUMERIC)
    numeric = parts[0].notna()
    if not numeric.any():
        return text
    parts = parts[numeric]
    first, second = parts[0].astype(int), parts[2].astype(int)
    if dayfirst is None:
        dayfirst = _day_first(text[numeric], first, second, where)
    day, month = (first, second) if dayfirst else (second, first)
    year = parts[3].astype(int)
    year = year.where(parts[3].str.len() == 4, year + np.where(year < 69, 2000, 1900))
    iso = (
        year.map("{:04d}".format)
        + "-"
        + month.map("{:02d}".format)
        + "-"
        + day.map("{:02d}".format)
        + parts[4]
    )
    out = text.copy()
    out[numeric] = iso
    return out


def _day_first(text: pd.Series, first: pd.Series, second: pd.Series, where: Where) -> bool:
    """Whether the column's numeric dates are day/month: the one order that fits every row.

    Dates written with dots (01.02.2026) are day/month by convention when both orders fit.
    """
    month_first = bool(((first <= 12) & (second <= 31)).all())
    day_first = bool(((second <= 12) & (first <= 31)).all())
    lines = where.lines[text.index]
    at = _("{file}: column '{column}'").format(file=where.file, column=where.column)
    if month_first and day_first:
        differ = first != second
        if not differ.any() or text.str.contains(".", regex=False).all():
            return True
        row = differ.idxmax()
        raise DataError(
            _(
                "{at}: dates such as {date} (row {row}) read both as day/month and as "
                "month/day. Say which in a mapping file (--mapping): 'dayfirst: true' for "
                "day/month, 'dayfirst: false' for month/day, or a 'date_format' such as "
                "'%d/%m/%Y'"
            ).format(at=at, date=text[row], row=lines[row])
        )
    if month_first or day_first:
        return day_first
    big_first, big_second = (first > 12).idxmax(), (second > 12).idxmax()
    raise DataError(
        _(
            "{at}: no one day/month order fits every date: {first} (row {first_row}) is "
            "day/month, {second} (row {second_row}) is month/day. Correct the column, or give "
            "a 'date_format' such as '%d/%m/%Y' in a mapping file (--mapping); rows that do "
            "not fit it are then skipped"
        ).format(
            at=at,
            first=text[big_first],
            first_row=lines[big_first],
            second=text[big_second],
            second_row=lines[big_second],
        )
    )


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
"""How a date the user types must start: year, month, day."""


def read_date(value: str | pd.Timestamp, name: str) -> pd.Timestamp:
    """A date given by the user (a time zone converts to UTC); DataError naming `name` if not.

    Text must start year first (2026-03-31): "01/02/2026" could be either of two days.
    """
    if isinstance(value, str) and not ISO_DATE.match(value.strip()):
        raise DataError(
            _("{name} {value}: not a date written year first, e.g. 2026-03-31").format(
                name=name, value=value
            )
        )
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        stamp = pd.NaT
    if stamp is pd.NaT:
        raise DataError(
            _("{name} {value}: not a date (use e.g. 2026-03-31)").format(name=name, value=value)
        )
    return as_utc(stamp)


def as_utc(stamp: pd.Timestamp) -> pd.Timestamp:
    """A time without a zone, in UTC: as the files' times are read."""
    return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp


def _naive(stamps: pd.Series) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(stamps):
        return pd.Series(pd.NaT, index=stamps.index, dtype=STAMP)
    return stamps.dt.tz_convert(None).astype(STAMP)


@dataclass(frozen=True)
class Outlying:
    """Rows dated far from the rest of the file: before `low` or after `high`."""

    low: pd.Timestamp
    high: pd.Timestamp
    early: pd.Series
    late: pd.Series
    """True on rows dated after `high`: far after the rest, or after today."""


def outlying_rows(
    first: pd.Series, last: pd.Series, until: pd.Timestamp | None, today: pd.Timestamp
) -> Outlying:
    """Rows whose dates sit far before or after the bulk of the file, or after today.

    `first` and `last` are each row's earliest and latest date. A few rows (at most 1% of them,
    or 3, and at most a tenth) are set apart when a gap wider than the rest of the file's span,
    and than MIN_GAP_DAYS, separates them from it; rows after today are set apart when they are
    as few (or at most half of a small file). `until`, when given, is never cut off.
    """
    first_days, last_days = _days(first), _days(last)
    low = _fences(first_days)[0]
    high = _fences(last_days)[1]
    now = _days(pd.Series([today]))[0]
    later, dated = int((last_days > now).sum()), int(np.isfinite(last_days).sum())
    if 0 < later <= _few(dated) and 2 * later <= dated:
        high = min(high, now)
    if until is not None:
        high = max(high, _days(pd.Series([until]))[0])
    return Outlying(
        _stamp(low),
        _stamp(high),
        pd.Series(first_days < low, index=first.index),
        pd.Series(last_days > high, index=last.index),
    )


def _days(stamps: pd.Series) -> np.ndarray:
    """Days since 1970 as floats; NaN for NaT."""
    seconds = stamps.to_numpy("datetime64[s]").astype(float)
    return np.where(stamps.isna().to_numpy(), np.nan, seconds / 86400.0)


def _few(n: int) -> int:
    return max(3, n // 100)


def _fences(days: np.ndarray) -> tuple[float, float]:
    """The first and last day of the bulk of `days`; ±inf when nothing stands apart."""
    days = np.sort(days[np.isfinite(days)])
    n = len(days)
    edge = min(_few(n), n // 10)
    low, high = -np.inf, np.inf
    if edge < 1:
        return low, high
    core = max(days[n - 1 - edge] - days[edge], MIN_GAP_DAYS)
    top = np.flatnonzero(np.diff(days[n - 1 - edge :]) > core)
    if len(top):
        high = days[n - 1 - edge + top[0]]
    bottom = np.flatnonzero(np.diff(days[: edge + 1]) > core)
    if len(bottom):
        low = days[bottom[-1] + 1]
    return low, high


def _stamp(day: float) -> pd.Timestamp:
    """The time `day` days after 1970; the farthest times for ±inf (nothing set apart)."""
    if not np.isfinite(day):
        return pd.Timestamp.max if day > 0 else pd.Timestamp.min
    return pd.Timestamp(int(day * 86400.0), unit="s")
