"""Transaction logs read row by row: customer, date and amount, each unusable row counted."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hourglass.calibration.columns import locate_columns, table_frame
from hourglass.calibration.dates import Where, as_utc, parse_dates
from hourglass.calibration.mapping import CrmMapping, DataError
from hourglass.calibration.skipped import Skipped, set_apart
from hourglass.i18n import _, grouped


@dataclass(frozen=True)
class Transactions:
    """A checked transaction log: customer, date (Timestamp), amount."""

    rows: pd.DataFrame
    skipped: Skipped
    warnings: list[str] = field(default_factory=list)
    """What the user should look at: rows left out for their dates."""


def read_transactions(
    data: str | bytes | pd.DataFrame,
    mapping: CrmMapping | None = None,
    name: str = "transactions",
    until: pd.Timestamp | None = None,
    today: pd.Timestamp | None = None,
) -> Transactions:
    """Check a transaction log: customer, date and a non-negative amount on every row.

    Rows dated far from the rest of the log, or after `today` (default: now), are left out with
    a warning; `until`, the end of the calibration period, is never cut off.
    """
    frame, encoding = table_frame(data, name)
    mapping = mapping or CrmMapping()
    cols = locate_columns(
        frame, mapping.transactions.model_dump(), {"customer", "date", "amount"}, name
    )
    skipped = Skipped(name, len(frame), encoding=encoding)
    line = pd.Series(np.arange(len(frame)) + 2, index=frame.index)
    ok = pd.Series(True, index=frame.index)
    if not mapping.keep_duplicate_transactions:
        dup = frame.duplicated()
        skipped.add("", _("duplicate of an earlier row"), line[dup])
        ok &= ~dup
    customer = frame[cols["customer"]].str.strip()
    empty = ok & (customer == "")
    skipped.add(cols["customer"], _("empty"), line[empty])
    ok &= ~empty
    where = Where(name, cols["date"], line)
    date = parse_dates(
        frame[cols["date"]], mapping.transaction_date_format, mapping.dayfirst, where
    )
    bad = ok & date.isna()
    skipped.add(cols["date"], _("unparseable date"), line[bad])
    ok &= ~bad
    amount = _amounts(frame[cols["amount"]], cols["amount"], line, ok, skipped)
    ok &= amount.notna()
    rows = pd.DataFrame({"line": line, "customer": customer, "date": date, "amount": amount})[ok]
    if rows.empty:
        raise DataError(
            "\n".join([_("{file}: no usable rows").format(file=name), *skipped.lines()])
        )
    until = None if until is None else as_utc(pd.Timestamp(until))
    rows, warnings = set_apart(
        rows, rows["date"], rows["date"], until, today, cols["date"], skipped
    )
    rows = rows.drop(columns="line").reset_index(drop=True)
    return Transactions(rows=rows, skipped=skipped, warnings=warnings)


MAX_AMOUNT = 1e15
"""Larger amounts are taken for errors: no single purchase is worth a quadrillion."""


def _amounts(
    values: pd.Series, column: str, line: pd.Series, ok: pd.Series, skipped: Skipped
) -> pd.Series:
    """Amounts as numbers; NaN on rows skipped for theirs (not a number, negative, too large)."""
    amount = pd.to_numeric(values.str.strip(), errors="coerce")
    keep = ok.copy()
    for wrong, why in (
        (~np.isfinite(amount), _("not a number")),
        (amount < 0, _("negative amount")),
        (amount > MAX_AMOUNT, _("amount above {limit}").format(limit=grouped(MAX_AMOUNT))),
    ):
        bad = keep & wrong
        skipped.add(column, why, line[bad])
        keep &= ~bad
    return amount.where(keep)
