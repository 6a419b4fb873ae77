"""CRM data: deal histories and transaction logs read row by row into what calibration fits.

Every row that cannot be used is counted under its reason, with its line number, so the
calibration report accounts for the whole file. Data that leaves nothing to fit raises
DataError, whose message names the file, the rows, the column and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hourglass.calibration.columns import locate_columns, table_frame
from hourglass.calibration.dates import STAMP, Where, as_utc, parse_dates
from hourglass.calibration.mapping import CRM_PRESETS, CrmMapping, DataError, DealColumns
from hourglass.calibration.owners import visit_sellers
from hourglass.calibration.skipped import NOT_IN_MAPPING, Skipped, set_apart
from hourglass.calibration.transactions import Transactions as Transactions
from hourglass.calibration.transactions import read_transactions as read_transactions
from hourglass.calibration.unmapped import earliest, moved_on
from hourglass.i18n import _
from hourglass.stages import FUNNEL


@dataclass(frozen=True)
class Deals:
    """A checked deal history: one row per stage visit, times in days from `origin`."""

    visits: pd.DataFrame
    """deal, stage (index into FUNNEL), entered, left (NaN: still open), status
    (passed, lost, open), outcome (won, lost, open), source, loss_reason, seller, and
    named (the visit's own rows name its seller; owners.py)."""
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
    warnings: list[str] = field(default_factory=list)
    """What the user should look at: rows left out for their dates."""


def detect_preset(data: str | bytes | pd.DataFrame, name: str = "deals") -> str:
    """The shipped mapping whose deal, stage and entered columns the export has."""
    frame = table_frame(data, name)[0] if not isinstance(data, pd.DataFrame) else data
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
            _("{file}: no columns named '{prefix} <stage>'; the file has {have}").format(
                file=name, prefix=cols.entered, have=", ".join(f"'{c}'" for c in frame.columns)
            )
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


def _fold(values: pd.Series) -> pd.Series:
    return values.str.strip().str.casefold()


def _checked_rows(
    frame: pd.DataFrame, cols: dict[str, str], mapping: CrmMapping, skipped: Skipped
) -> pd.DataFrame:
    """The deal rows that pass every check; the others are counted in `skipped`."""
    name = skipped.file
    line = frame["_line"] if "_line" in frame else pd.Series(np.arange(len(frame)) + 2)
    line.index = frame.index
    ok = pd.Series(True, index=frame.index)
    dup = frame.drop(columns="_line", errors="ignore").duplicated()
    skipped.add("", _("duplicate of an earlier row"), line[dup])
    ok &= ~dup
    for fld in ("deal", "stage", "entered"):
        empty = ok & (frame[cols[fld]].str.strip() == "")
        skipped.add(cols[fld], _("empty"), line[empty])
        ok &= ~empty
    targets = {k.strip().casefold(): v for k, v in mapping.stages.items()}
    stage = _fold(frame[cols["stage"]]).map(targets)
    unknown = ok & stage.isna()
    if unknown.any():
        names = sorted(set(frame.loc[unknown, cols["stage"]].str.strip()))[:5]
        why = f"{NOT_IN_MAPPING()} ({', '.join(names)})"
        skipped.add(cols["stage"], why, line[unknown])
    ok &= ~unknown
    unmapped = unknown.copy()
    dates = {
        f: parse_dates(
            frame[cols[f]], mapping.date_format, mapping.dayfirst, Where(name, cols[f], line)
        )
        for f in ("entered", "left")
        if f in cols
    }
    entered = dates["entered"]
    bad = ok & entered.isna()
    skipped.add(cols["entered"], _("unparseable date"), line[bad])
    ok &= ~bad
    unmapped &= entered.notna()
    left = pd.Series(pd.NaT, index=frame.index, dtype=STAMP)
    if "left" in cols:
        raw = frame[cols["left"]].str.strip()
        left = dates["left"]
        bad = ok & left.isna() & (raw != "")
        skipped.add(cols["left"], _("unparseable date"), line[bad])
        ok &= ~bad
        early = ok & (left < entered)
        skipped.add(cols["left"], _("leaves the stage before entering it"), line[early])
        ok &= ~early
    outcome = pd.Series(None, index=frame.index, dtype=object)
    if "outcome" in cols:
        words = {k.strip().casefold(): v for k, v in mapping.outcomes.items()}
        raw = _fold(frame[cols["outcome"]])
        outcome = raw.map(words)
        bad = ok & outcome.isna() & (raw != "")
        allowed = ", ".join(mapping.outcomes)
        why = _("outcome is not one of {allowed}").format(allowed=allowed)
        skipped.add(cols["outcome"], why, line[bad])
        ok &= ~bad

    # rows of unmapped stages are skipped from the fit, but say where a deal went next
    return pd.DataFrame(
        {
            "line": line,
            "deal": frame[cols["deal"]].str.strip(),
            "target": stage.where(~unmapped, UNMAPPED),
            "stage_name": frame[cols["stage"]].str.strip(),
            "entered": entered,
            "left": left,
            "outcome": outcome,
            **{
                f: frame[cols[f]].str.strip()
                for f in ("source", "loss_reason", "seller")
                if f in cols
            },
        }
    )[ok | unmapped]


UNMAPPED = "?"
"""The target of a row whose stage the mapping leaves out."""


def read_deals(
    data: str | bytes | pd.DataFrame,
    mapping: CrmMapping | None = None,
    until: pd.Timestamp | None = None,
    name: str = "deals",
    today: pd.Timestamp | None = None,
) -> Deals:
    """Check a deal-stage history and turn it into stage visits with passed/lost/open status.

    Rows dated far from the rest of the file, or after `today` (default: now), are left out
    with a warning; `until` ends the calibration period.
    """
    frame, encoding = table_frame(data, name)
    mapping = mapping or CRM_PRESETS[detect_preset(frame)]
    if mapping.deals.stage_columns:
        frame = _unpivot(frame, mapping.deals, name)
    wanted = mapping.deals.model_dump(exclude={"stage_columns"})
    cols = locate_columns(frame, wanted, {"deal", "stage", "entered"}, name)
    skipped = Skipped(name, len(frame), encoding=encoding)
    rows = _checked_rows(frame, cols, mapping, skipped)
    unmapped = rows[rows["target"] == UNMAPPED]
    rows = rows[rows["target"] != UNMAPPED].drop(columns="stage_name")
    if rows.empty:
        raise DataError(
            "\n".join([_("{file}: no usable rows").format(file=name), *skipped.lines()])
        )
    until = None if until is None else as_utc(pd.Timestamp(until))
    latest = rows[["entered", "left"]].max(axis=1)
    rows, warnings = set_apart(
        rows, rows["entered"], latest, until, today, cols["entered"], skipped
    )
    end = _period_end(rows[["entered", "left"]].max().max(), until, name)
    rows, set_aside = _cut(rows, until, name)
    if rows["target"].isin(["won", "lost"]).all():
        raise DataError(
            _(
                "{file}: every usable row closes a deal (won or lost); the fit needs the stages "
                "deals went through ({stages}): map the CRM's stages onto them in the "
                "mapping's 'stages'"
            ).format(file=name, stages=", ".join(FUNNEL))
        )
    unmapped = unmapped[unmapped["entered"] <= end]
    visits, bad_lines, assumed, onward = _visits(rows, unmapped, end)
    skipped.add(cols["stage"], _("stages out of order within the deal"), bad_lines)
    notes = [
        _("{n} deals left their last stage with no outcome given: counted as lost").format(
            n=assumed
        )
    ]
    notes = (notes if assumed else []) + onward
    if visits.empty:
        raise DataError(
            "\n".join([_("{file}: no usable deals").format(file=name), *skipped.lines()])
        )
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
        notes=notes,
        mapping=mapping,
        warnings=warnings,
    )


MAX_QUIET_DAYS = 366
"""The calibration period may end at most this long after the last date in the file."""


def _period_end(last: pd.Timestamp, until: pd.Timestamp | None, name: str) -> pd.Timestamp:
    """The end of the calibration period: `until`, else the file's last date."""
    if until is None:
        return last
    if until > last + pd.Timedelta(days=MAX_QUIET_DAYS):
        raise DataError(
            _(
                "{file}: the end of the calibration period (--until) {until} is more than "
                "{days} days after the file's last date, {last}; the empty time would lower "
                "every arrival rate: give a date within the data"
            ).format(
                file=name, until=f"{until:%Y-%m-%d}", days=MAX_QUIET_DAYS, last=f"{last:%Y-%m-%d}"
            )
        )
    return until


def _cut(rows: pd.DataFrame, until: pd.Timestamp | None, name: str) -> tuple[pd.DataFrame, int]:
    """Rows up to `until`, stages left after it reopened; and how many rows came after it."""
    if until is None:
        return rows, 0
    later = rows["entered"] > until
    rows = rows[~later].copy()
    if rows.empty:
        raise DataError(
            _("{file}: no rows on or before --until {until}").format(
                file=name, until=f"{until:%Y-%m-%d}"
            )
        )
    after = rows["left"] > until
    rows.loc[after, "left"] = pd.NaT
    rows.loc[after, "outcome"] = "open"
    return rows, int(later.sum())


def _visits(
    rows: pd.DataFrame, unmapped: pd.DataFrame, end: pd.Timestamp
) -> tuple[pd.DataFrame, list[int], int, list[str]]:
    """Funnel visits per deal, in order (a stage's repeats merged), each passed/lost/open.

    Also the lines of deals whose stages run out of order, how many deals left their
    last stage with no outcome given (counted as lost), and a note on deals whose last
    mapped stage led to an unmapped one (unmapped.py).
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
    moved = moved_on(visits, rows, unmapped)
    following = visits.groupby("deal")["entered"].shift(-1)
    visits["left"] = visits["left"].fillna(earliest(following, moved.at))
    last = visits["deal"].ne(visits["deal"].shift(-1))
    onward = last & moved.at.notna()
    closed = last & visits["result"].notna()
    visits.loc[closed, "outcome"] = visits.loc[closed, "result"]
    visits.loc[closed, "left"] = visits.loc[closed, "left"].fillna(visits.loc[closed, "close"])
    unsaid = last & visits["outcome"].isna()
    assumed = int((unsaid & ~onward & visits["left"].notna()).sum())
    visits.loc[unsaid, "outcome"] = np.where(
        visits.loc[unsaid, "left"].isna() | onward[unsaid], "open", "lost"
    )
    visits["outcome"] = visits.groupby("deal")["outcome"].transform("last")
    visits["status"] = np.where(last, visits["outcome"].map(_STATUS), "passed")
    visits.loc[last & (visits["outcome"] == "open"), "left"] = pd.NaT
    ahead = moved.ahead | (visits["outcome"] == "won")
    visits.loc[onward, "status"] = np.where(ahead[onward], "passed", "open")
    visits.loc[onward, "left"] = moved.at[onward]
    for f, pick in (("source", "first"), ("loss_reason", "last"), ("seller", "last")):
        if f in rows:
            given = rows[~bad & (rows[f] != "")]
            values = given.groupby("deal")[f].agg(pick)
            visits[f] = visits["deal"].map(values).astype("str").fillna("")
    if "seller" in rows:
        visits = visit_sellers(visits, steps)
    visits = visits.drop(columns=["close", "result"])
    visits = visits[visits["entered"] <= end].reset_index(drop=True)
    return visits, rows.loc[bad, "line"].tolist(), assumed, moved.note(onward, ahead)


_STATUS = {"won": "passed", "lost": "lost", "open": "open"}
