"""Columns of a user's table: the table read as strings, and each field's column found."""

from __future__ import annotations

import pandas as pd

from hourglass.calibration.mapping import DataError
from hourglass.calibration.reading import read_table
from hourglass.i18n import _


def table_frame(data: str | bytes | pd.DataFrame, name: str) -> tuple[pd.DataFrame, str]:
    """The table as strings, from CSV text or bytes, or a DataFrame; and the encoding read."""
    if isinstance(data, pd.DataFrame):
        return data.astype(str).where(data.notna(), "").reset_index(drop=True), "table"
    table = read_table(data, name)
    return table.frame, table.encoding


def locate_columns(
    frame: pd.DataFrame, wanted: dict[str, str | None], required: set[str], name: str
) -> dict[str, str]:
    """Field -> the file's column, matched case-insensitively; missing required ones raise."""
    by_key = {c.strip().casefold(): c for c in frame.columns}
    found, missing = {}, []
    for fld, header in wanted.items():
        if header is None:
            continue
        col = by_key.get(header.strip().casefold())
        if col is not None:
            found[fld] = col
        elif fld in required:
            missing.append(f"'{header}' ({fld})")
    if missing:
        have = ", ".join(f"'{c}'" for c in frame.columns) or _("none")
        raise DataError(
            _(
                "{file}: missing column(s) {missing}; the file has {have}. Name the columns in "
                "a mapping file (--mapping) or with --column FIELD=HEADER."
            ).format(file=name, missing=", ".join(missing), have=have)
        )
    return found
