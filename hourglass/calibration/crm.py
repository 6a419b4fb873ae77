"""CRM data: deal histories and transaction logs read row by row into what calibration fits.

Every row that cannot be used is counted under its reason, with its line number, so the
calibration report accounts for the whole file. Data that leaves nothing to fit raises
DataError, whose message names the file, the rows, the column and why.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hourglass.calibration.mapping import CRM_PRESETS, CrmMapping, DataError, DealColumns
from hourglass.stages import FUNNEL


@dataclass
class Skipped:
    """Rows left out of the fit, by reason: line numbers in the file (the header is line 1)."""

    file: str
    rows: int
    """Data rows in the file."""
    reasons: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def add(self, column: str, why: str, lines: np.ndarray | list[int]) -> None:
        """Count rows left out for `why` in `column`."""
        if len(lines):
            self.reasons.setdefault((column, why), []).extend(int(n) for n in lines)

    @property
    def count(self) -> int:
        """How many rows were left out."""
        return sum(len(v) for v in self.reasons.values())

    def lines(self) -> list[str]:
        """One sentence per reason, naming the column and the first rows."""
        out = []
        for (column, why), rows in self.reasons.items():
            shown = ", ".join(str(r) for r in sorted(rows)[:10])
            more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
            where = f"column '{column}': " if column else ""
            n = f"{len(rows)} row{'s' * (len(rows) != 1)}"
            out.append(f"{self.file}: {n} skipped: {where}{why} (rows {shown}{more})")
        return out


@dataclass(frozen=True)
class Deals:
    """A checked deal history: one row per stage visit, times in days from `origin`."""

    visits: pd.DataFrame
    """deal, stage (index into FUNNEL), entered, left (NaN: still open), status
    (passed, lost, open), outcome (won, lost, open), source, loss_reason, seller."""
    origin: pd.Timestamp
    until: float
    """End of the calibration period, in days from `origin`."""
    skipped: Skipped
    set_aside: int
    """Rows after the calibration period, kept out of the fit for checking."""
    columns: tuple[str, ...]
    """The optional fields the file has: source, loss_reason, seller."""
    notes: list[str]
    """What was assumed about rows that were kept."""
    mapping: CrmMapping
    """The mapping the file was read with."""


@dataclass(frozen=True)
class Transactions:
    """A checked transaction log: customer, date (Timestamp), amount."""

    rows: pd.DataFrame
    skipped: Skipped


def _frame(data: str | bytes | pd.DataFrame, name: str) -> pd.DataFrame:
    """The table as strings, from CSV text or bytes, or a DataFrame."""
    if isinstance(data, pd.DataFrame):
        return data.astype(str).where(data.notna(), "").reset_index(drop=True)
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    sep = max((",", ";", "\t"), key=header.count)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{name}: not a readable CSV table: {err}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _locate(
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
        have = ", ".join(f"'{c}'" for c in frame.columns) or "none"
        raise DataError(
            f"{name}: missing column(s) {', '.join(missing)}; the file has {have}. "
            "Name the columns in a mapping file (--mapping) or with --column FIELD=HEADER."
        )
    return found


def detect_preset(data: str | bytes | pd.DataFrame) -> str:
    """The shipped mapping whose deal, stage and entered columns the export has."""
    frame = _frame(data, "deals") if not isinstance(data, pd.DataFrame) else data
    have = {str(c).strip().casefold() for c in frame.columns}
    for name, preset in CRM_PRESETS.items():
        cols = preset.deals
        if cols.stage_columns:
            found = cols.deal.casefold() in have and _stage_headers(frame.columns, cols.entered)
        else:
            found = {cols.deal.casefold(), cols.stage.casefold(), cols.entered.casefold()} <= have
        if found:
            return name
    return "hourglass"


def _stage_headers(columns: pd.Index, prefix: str) -> dict[str, str]:
    """Stage -> column, for columns named '<prefix> <stage>'.

    Quotes and a trailing '(pipeline)' are dropped from the names.
    """
    start = prefix.strip().casefold() + " "
    out = {}
    for col in columns:
        text = str(col).strip()
        if text.casefold().startswith(start):
            label = text[len(start) :].strip().strip("\"'“”")
            label = re.sub(r"\s*\([^()]*\)$", "", label).strip("\"'“” ")
            out[label] = col
    return out


def _unpivot(frame: pd.DataFrame, cols: DealColumns, name: str) -> pd.DataFrame:
    """One row per deal per stage entered, from an export with a column per stage.

    `_line` keeps each row's line in the file.
    """
    entered = _stage_headers(frame.columns, cols.entered)
    if not entered:
        raise DataError(
            f"{name}: no columns named '{cols.entered} <stage>'; the file has "
            + ", ".join(f"'{c}'" for c in frame.columns)
        )
    left = _stage_headers(frame.columns, cols.left) if cols.left else {}
    wide = {*entered.values(), *left.values()}
    keep = [c for c in frame.columns if c not in wide and c.casefold() != cols.stage.casefold()]
    parts = []
    for label, col in entered.items():
        part = frame[keep].assign(_line=np.arange(len(frame)) + 2)
        part[cols.stage] = label
        part[cols.entered] = frame[col]
        if cols.left:
            part[cols.left] = frame[left[label]] if label in left else ""
        parts.append(part[frame[col].str.strip() != ""])
    return pd.concat(parts, ignore_index=True)


def _dates(values: pd.Series, fmt: str | None, dayfirst: bool) -> pd.Series:
    """Parsed timestamps in UTC, without a zone; NaT where a value is empty or unreadable.

    Times with no zone are taken as UTC. ISO dates are read fast; whatever is left is read one by
    one in any common form.
    """
    text = values.str.strip()
    if fmt:
        return _naive(pd.to_datetime(text, format=fmt, errors="coerce", utc=True))
    parsed = _naive(pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True))
    rest = parsed.isna() & (text != "")
    if rest.any():
        parsed[rest] = _naive(
            pd.to_datetime(text[rest], format="mixed", errors="coerce", dayfirst=dayfirst, utc=True)
        )
    return parsed


def _naive(stamps: pd.Series) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(stamps):
        return pd.Series(pd.NaT, index=stamps.index, dtype="datetime64[ns]")
    return stamps.dt.tz_convert(None)


def _fold(values: pd.Series) -> pd.Series:
    return values.str.strip().str.casefold()


def _checked_rows(
    frame: pd.DataFrame, cols: dict[str, str], mapping: CrmMapping, skipped: Skipped
) -> pd.DataFrame:
    """The deal rows that pass every check; the others are counted in `skipped`."""
    line = frame["_line"] if "_line" in frame else pd.Series(np.arange(len(frame)) + 2)
    line.index = frame.index
    ok = pd.Series(True, index=frame.index)
    dup = frame.drop(columns="_line", errors="ignore").duplicated()
    skipped.add("", "duplicate of an earlier row", line[dup])
    ok &= ~dup
    for fld in ("deal", "stage", "entered"):
        empty = ok & (frame[cols[fld]].str.strip() == "")
        skipped.add(cols[fld], "empty", line[empty])
        ok &= ~empty
    targets = {k.strip().casefold(): v for k, v in mapping.stages.items()}
    stage = _fold(frame[cols["stage"]]).map(targets)
    unknown = ok & stage.isna()
    if unknown.any():
        names = sorted(set(frame.loc[unknown, cols["stage"]].str.strip()))[:5]
        skipped.add(cols["stage"], f"stage not in the mapping ({', '.join(names)})", line[unknown])
    ok &= ~unknown
    entered = _dates(frame[cols["entered"]], mapping.date_format, mapping.dayfirst)
    bad = ok & entered.isna()
    skipped.add(cols["entered"], "unparseable date", line[bad])
    ok &= ~bad
    left = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    if "left" in cols:
        raw = frame[cols["left"]].str.strip()
        left = _dates(frame[cols["left"]], mapping.date_format, mapping.dayfirst)
        bad = ok & left.isna() & (raw != "")
        skipped.add(cols["left"], "unparseable date", line[bad])
        ok &= ~bad
        early = ok & (left < entered)
        skipped.add(cols["left"], "leaves the stage before entering it", line[early])
        ok &= ~early
    outcome = pd.Series(None, index=frame.index, dtype=object)
    if "outcome" in cols:
        words = {k.strip().casefold(): v for k, v in mapping.outcomes.items()}
        raw = _fold(frame[cols["outcome"]])
        outcome = raw.map(words)
        bad = ok & outcome.isna() & (raw != "")
        allowed = ", ".join(mapping.outcomes)
        skipped.add(cols["outcome"], f"outcome is not one of {allowed}", line[bad])
        ok &= ~bad

    return pd.DataFrame(
        {
            "line": line,
            "deal": frame[cols["deal"]].str.strip(),
            "target": stage,
            "entered": entered,
            "left": left,
            "outcome": outcome,
            **{
                f: frame[cols[f]].str.strip()
                for f in ("source", "loss_reason", "seller")
                if f in cols
            },
        }
    )[ok]


def read_deals(
    data: str | bytes | pd.DataFrame,
    mapping: CrmMapping | None = None,
    until: pd.Timestamp | None = None,
    name: str = "deals",
) -> Deals:
    """Check a deal-stage history and turn it into stage visits with passed/lost/open status."""
    frame = _frame(data, name)
    mapping = mapping or CRM_PRESETS[detect_preset(frame)]
    if mapping.deals.stage_columns:
        frame = _unpivot(frame, mapping.deals, name)
    wanted = mapping.deals.model_dump(exclude={"stage_columns"})
    cols = _locate(frame, wanted, {"deal", "stage", "entered"}, name)
    skipped = Skipped(name, len(frame))
    rows = _checked_rows(frame, cols, mapping, skipped)
    if rows.empty:
        raise DataError(f"{name}: no usable rows\n" + "\n".join(skipped.lines()))
    set_aside = 0
    end = until if until is not None else rows[["entered", "left"]].max().max()
    if until is not None:
        later = rows["entered"] > until
        set_aside = int(later.sum())
        rows = rows[~later].copy()
        if rows.empty:
            raise DataError(f"{name}: no rows on or before --until {until.date()}")
        after = rows["left"] > until
        rows.loc[after, "left"] = pd.NaT
        rows.loc[after, "outcome"] = "open"
    visits, bad_lines, assumed = _visits(rows, end)
    skipped.add(cols["stage"], "stages out of order within the deal", bad_lines)
    notes = [f"{assumed} deals left their last stage with no outcome given: counted as lost"]
    if visits.empty:
        raise DataError(f"{name}: no usable deals\n" + "\n".join(skipped.lines()))
    origin = rows["entered"].min().normalize()
    for col in ("entered", "left"):
        visits[col] = (visits[col] - origin) / pd.Timedelta(days=1)
    present = tuple(f for f in ("source", "loss_reason", "seller") if f in cols)
    return Deals(
        visits=visits,
        origin=origin,
        until=(end - origin) / pd.Timedelta(days=1),
        skipped=skipped,
        set_aside=set_aside,
        columns=present,
        notes=notes if assumed else [],
        mapping=mapping,
    )


def _visits(rows: pd.DataFrame, end: pd.Timestamp) -> tuple[pd.DataFrame, list[int], int]:
    """Funnel visits per deal, in order (a stage's repeats merged), each passed/lost/open.

    Also the lines of deals whose stages run out of order, and how many deals left their
    last stage with no outcome given (counted as lost).
    """
    rows = rows.sort_values(["deal", "entered", "line"], kind="stable")
    closes = rows["target"].isin(["won", "lost"])
    closing = (
        rows[closes]
        .groupby("deal")
        .agg(close=("entered", "first"), result=("target", "first"), closings=("target", "size"))
    )
    steps = rows[~closes].join(closing, on="deal")
    steps["stage"] = steps["target"].map({name: k for k, name in enumerate(FUNNEL)})
    same = steps["deal"].eq(steps["deal"].shift())
    backwards = same & (steps["stage"].diff() < 0)
    wrong = backwards | (steps["closings"] > 1) | (steps["entered"] > steps["close"])
    bad_deals = set(steps.loc[wrong, "deal"]) | (set(closing.index) - set(steps["deal"]))
    bad = rows["deal"].isin(bad_deals)
    steps = steps[~steps["deal"].isin(bad_deals)]
    visits = (
        steps.groupby(["deal", "stage"], sort=True)
        .agg(
            entered=("entered", "min"),
            left=("left", "max"),
            outcome=("outcome", "last"),
            close=("close", "first"),
            result=("result", "first"),
        )
        .reset_index()
    )
    visits["left"] = visits["left"].fillna(visits.groupby("deal")["entered"].shift(-1))
    last = visits["deal"].ne(visits["deal"].shift(-1))
    closed = last & visits["result"].notna()
    visits.loc[closed, "outcome"] = visits.loc[closed, "result"]
    visits.loc[closed, "left"] = visits.loc[closed, "left"].fillna(visits.loc[closed, "close"])
    unsaid = last & visits["outcome"].isna()
    assumed = int((unsaid & visits["left"].notna()).sum())
    visits.loc[unsaid, "outcome"] = np.where(visits.loc[unsaid, "left"].isna(), "open", "lost")
    visits["outcome"] = visits.groupby("deal")["outcome"].transform("last")
    visits["status"] = np.where(last, visits["outcome"].map(_STATUS), "passed")
    visits.loc[last & (visits["outcome"] == "open"), "left"] = pd.NaT
    for f, pick in (("source", "first"), ("loss_reason", "last"), ("seller", "last")):
        if f in rows:
            given = rows[~bad & (rows[f] != "")]
            values = given.groupby("deal")[f].agg(pick)
            lookup = values.to_dict()
            visits[f] = [lookup.get(d, "") for d in visits["deal"]]
    visits = visits.drop(columns=["close", "result"])
    visits = visits[visits["entered"] <= end].reset_index(drop=True)
    return visits, rows.loc[bad, "line"].tolist(), assumed


_STATUS = {"won": "passed", "lost": "lost", "open": "open"}


def read_transactions(
    data: str | bytes | pd.DataFrame,
    mapping: CrmMapping | None = None,
    name: str = "transactions",
) -> Transactions:
    """Check a transaction log: customer, date and a non-negative amount on every row."""
    frame = _frame(data, name)
    mapping = mapping or CrmMapping()
    cols = _locate(frame, mapping.transactions.model_dump(), {"customer", "date", "amount"}, name)
    skipped = Skipped(name, len(frame))
    line = pd.Series(np.arange(len(frame)) + 2, index=frame.index)
    ok = pd.Series(True, index=frame.index)
    if not mapping.keep_duplicate_transactions:
        dup = frame.duplicated()
        skipped.add("", "duplicate of an earlier row", line[dup])
        ok &= ~dup
    customer = frame[cols["customer"]].str.strip()
    empty = ok & (customer == "")
    skipped.add(cols["customer"], "empty", line[empty])
    ok &= ~empty
    date = _dates(frame[cols["date"]], mapping.transaction_date_format, mapping.dayfirst)
    bad = ok & date.isna()
    skipped.add(cols["date"], "unparseable date", line[bad])
    ok &= ~bad
    amount = pd.to_numeric(frame[cols["amount"]].str.strip(), errors="coerce")
    bad = ok & ~np.isfinite(amount)
    skipped.add(cols["amount"], "not a number", line[bad])
    ok &= ~bad
    negative = ok & (amount < 0)
    skipped.add(cols["amount"], "negative amount", line[negative])
    ok &= ~negative
    rows = pd.DataFrame({"customer": customer, "date": date, "amount": amount})[ok]
    if rows.empty:
        raise DataError(f"{name}: no usable rows\n" + "\n".join(skipped.lines()))
    return Transactions(rows=rows.reset_index(drop=True), skipped=skipped)
