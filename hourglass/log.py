"""The event log: columnar numpy tables, the one contract between engine and metrics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PASSED = 0
"""Visit outcome: the prospect went on to the next stage."""
INSIDE = 1
"""Visit outcome: still in the stage at the horizon."""
FIRST_REASON = 2
"""Visit outcomes from here on are loss reasons: code - FIRST_REASON indexes `reasons`."""

PURCHASE_KINDS: tuple[str, ...] = ("first", "repeat", "upsell", "cross_sell", "down_sell")
"""Purchase kinds; the code in the log is the index."""

_ROWS_PER_CHUNK = 16_384


class Table:
    """An append-only columnar table; rows arrive one by one or in blocks."""

    def __init__(self, **dtypes: str) -> None:
        self._dtypes = {name: np.dtype(d) for name, d in dtypes.items()}
        self._chunks: dict[str, list[np.ndarray]] = {name: [] for name in dtypes}
        self._rows: list[tuple] = []
        self.count = 0

    def add_block(self, **columns: np.ndarray) -> None:
        """Append equal-length arrays, one per column."""
        self._flush_rows()
        for name, dtype in self._dtypes.items():
            self._chunks[name].append(np.asarray(columns[name], dtype=dtype))
        self.count += len(next(iter(columns.values())))

    def add_row(self, *values: float) -> None:
        """Append one row, values in column order."""
        self._rows.append(values)
        self.count += 1
        if len(self._rows) >= _ROWS_PER_CHUNK:
            self._flush_rows()

    def _flush_rows(self) -> None:
        if not self._rows:
            return
        for name, column in zip(self._dtypes, zip(*self._rows, strict=True), strict=True):
            self._chunks[name].append(np.array(column, dtype=self._dtypes[name]))
        self._rows = []

    def freeze(self) -> dict[str, np.ndarray]:
        """The columns as whole arrays; the table lets go of its chunks one column at a time."""
        self._flush_rows()
        out = {}
        for name, dtype in self._dtypes.items():
            chunks = self._chunks.pop(name)
            out[name] = np.concatenate(chunks) if chunks else np.empty(0, dtype)
            del chunks
        return out


def prospects_table() -> Table:
    """One row per prospect: arrival day, channel code, referrer (-1 if none)."""
    return Table(arrival="f8", channel="i1", referrer="i4")


def visits_table() -> Table:
    """One row per stage visit: who, stage, enter, exit (NaN: inside), wait, outcome.

    `wait` is the time waited for a seller before work began (NaN if no seller worked it).
    """
    return Table(prospect="i4", stage="i1", enter="f8", exit="f8", wait="f4", outcome="i1")


def purchases_table() -> Table:
    """One row per purchase: customer, day, value, kind (an index into PURCHASE_KINDS)."""
    return Table(customer="i4", time="f8", value="f8", kind="i1")


def contacts_table() -> Table:
    """One row per referral contact: referrer, day, whether it brought a prospect (0/1)."""
    return Table(referrer="i4", time="f8", won="i1")


def moves_table() -> Table:
    """One row per loyalty-class entry: customer, day, class code (first entry included)."""
    return Table(customer="i4", time="f8", klass="i1")


@dataclass(frozen=True)
class EventLog:
    """What happened in one run, as columns; codes are explained by the vocabularies."""

    horizon_days: float
    warmup_days: float
    seats: int
    """Leads the sales team can work at once (sellers x leads per seller)."""
    channels: tuple[str, ...]
    reasons: tuple[str, ...]
    classes: tuple[str, ...]
    prospects: dict[str, np.ndarray]
    visits: dict[str, np.ndarray]
    purchases: dict[str, np.ndarray]
    moves: dict[str, np.ndarray]
    contacts: dict[str, np.ndarray]

    @property
    def nbytes(self) -> int:
        """Memory held by the columns."""
        tables = (self.prospects, self.visits, self.purchases, self.moves, self.contacts)
        return sum(col.nbytes for table in tables for col in table.values())
