"""The event log: columnar numpy tables, the one contract between engine and metrics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hourglass.config.graph import Graph
from hourglass.config.scenario import Scenario
from hourglass.i18n import _

PASSED = 0
"""Visit outcome: the prospect went on to the next stage."""
INSIDE = 1
"""Visit outcome: still in the stage at the horizon."""
FIRST_REASON = 2
"""Visit outcomes from here on are loss reasons: code - FIRST_REASON indexes `reasons`."""

PURCHASE_KINDS: tuple[str, ...] = ("first", "repeat", "upsell", "cross_sell", "down_sell")
"""Purchase kinds; the code in the log is the index."""

AGREED, OVERRULED, REFUSED = 0, 1, 2
"""Committee answers: a person agreed; refused but was overruled; refused and ended the deal."""

_ROWS_PER_FLUSH = 4096
_GROWTH = 4
"""How many times its capacity a full table grows to: spare rows cost address space, not
memory, so a large factor copies the columns seldom."""
MAX_ROWS = np.iinfo(np.int32).max
"""The most rows a table holds: ids in the log (prospect, customer, referrer) are 32-bit."""


class Table:
    """An append-only columnar table; rows arrive one by one or in blocks.

    Columns grow into fresh blocks whose unwritten rows take no memory, so the memory a
    table holds stays close to what its rows need; `freeze` trims them to the rows.
    """

    def __init__(self, **dtypes: str) -> None:
        self._columns = {name: np.empty(1024, dtype=d) for name, d in dtypes.items()}
        self._rows: list[tuple] = []
        self.append_row = self._rows.append
        """Append one row given as a tuple in column order: `add_row` without its call's cost,
        for the hottest loops; the rows wait for `settle` or the next block."""
        self._stored = 0

    @property
    def count(self) -> int:
        """Rows held, those waiting to be stored included."""
        return self._stored + len(self._rows)

    def add_block(self, **columns: np.ndarray) -> None:
        """Append equal-length arrays, one per column."""
        self._flush_rows()
        n = len(next(iter(columns.values())))
        self._reserve(n)
        for name, column in self._columns.items():
            column[self._stored : self._stored + n] = columns[name]
        self._stored += n

    def add_row(self, *values: float) -> None:
        """Append one row, values in column order."""
        self._rows.append(values)
        if len(self._rows) >= _ROWS_PER_FLUSH:
            self._flush_rows()

    def settle(self) -> None:
        """Store the rows appended one by one once there are many, to free their memory."""
        if len(self._rows) >= _ROWS_PER_FLUSH:
            self._flush_rows()

    def _reserve(self, n: int) -> None:
        need = self._stored + n
        capacity = len(next(iter(self._columns.values())))
        if need <= capacity:
            return
        if need > MAX_ROWS:
            raise OverflowError(
                _(
                    "the event log holds at most {most} rows a table, and this run needs {need}"
                ).format(most=f"{MAX_ROWS:,}", need=f"{need:,}")
            )
        grown = min(max(need, capacity * _GROWTH), MAX_ROWS)
        for name, column in self._columns.items():
            # zeros come from calloc: a large block's pages take memory only once written,
            # where resize would write zeros over the whole spare capacity at once
            wider = np.zeros(grown, column.dtype)
            wider[: self._stored] = column[: self._stored]
            self._columns[name] = wider

    def _flush_rows(self) -> None:
        if not self._rows:
            return
        n = len(self._rows)
        self._reserve(n)
        for column, values in zip(
            self._columns.values(), zip(*self._rows, strict=True), strict=True
        ):
            column[self._stored : self._stored + n] = values
        self._stored += n
        self._rows.clear()  # the same list: `append_row` is bound to it

    def freeze(self) -> dict[str, np.ndarray]:
        """The columns, trimmed to the rows held; the table must not be used afterwards."""
        self._flush_rows()
        for column in self._columns.values():
            column.resize(self._stored, refcheck=False)
        return self._columns


def prospects_table() -> Table:
    """One row per prospect: arrival day, channel, referrer, the person, the segment.

    The channel is a code; the referrer is -1 if none; the person is the network's node (-1 in an
    unlimited market); the segment indexes `EventLog.segments` (0 without segments).
    """
    return Table(arrival="f8", channel="i1", referrer="i4", node="i4", segment="i1")


def visits_table() -> Table:
    """One row per stage visit: who, stage, enter, exit (NaN: inside), wait, outcome, seller.

    `wait` is the time waited for a seller before work began (NaN if no seller worked it);
    `seller` indexes `EventLog.sellers` (-1 if no seller worked it).
    """
    return Table(
        prospect="i4", stage="i1", enter="f8", exit="f8", wait="f8", outcome="i1", seller="i2"
    )


def purchases_table() -> Table:
    """One row per purchase: customer, day, value, kind (an index into PURCHASE_KINDS)."""
    return Table(customer="i4", time="f8", value="f8", kind="i1")


def contacts_table() -> Table:
    """One row per referral contact: referrer, day, whether it brought a prospect (0/1)."""
    return Table(referrer="i4", time="f8", won="i1")


def moves_table() -> Table:
    """One row per loyalty-class entry: customer, day, class code (first entry included)."""
    return Table(customer="i4", time="f8", klass="i1")


def levels_table() -> Table:
    """One row per service-level entry: customer, day, level code (LEFT_SERVICE: left it)."""
    return Table(customer="i4", time="f8", level="i1")


LEFT_SERVICE = -1
"""Level code of a customer who has left the service ladder."""


def answers_table() -> Table:
    """One row per committee answer: deal (prospect), role code, day, answer (AGREED...)."""
    return Table(deal="i4", role="i1", time="f8", answer="i1")


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
    roles: tuple[str, ...] = ()
    """The committee's roles (B2B mode), in the scenario's order; empty without a committee."""
    sellers: tuple[tuple[str, str], ...] = ()
    """Each seller's name and role, in the order the visits' `seller` column indexes."""
    seller_capacity: tuple[int, ...] = ()
    """Leads each seller (as in `sellers`) can hold at once."""
    seller_days: tuple[float, ...] = ()
    """Days each seller was on the team and not away, within the measurement window; empty
    when no role's people change (each was there all the window)."""
    seller_spans: tuple[tuple[float, float], ...] = ()
    """When each seller joined and left the payroll (the horizon if they stayed); empty
    when no role's people change."""
    follow_ups_missed: tuple[int, ...] = ()
    """Per seller (as in `sellers`), the follow-ups due in the measurement window that no one
    worked within their patience, put down to the seller each was routed to."""
    talks_missed: tuple[int, ...] = ()
    """Per seller, the same for referral talks (`sales.engage`)."""
    answers: dict[str, np.ndarray] | None = None
    graph: Graph | None = None
    """The social graph the run's people live in (network mode), shared, not copied."""
    segments: tuple[str, ...] = ()
    """The customer segments, in the scenario's order; empty without segments."""
    levels: tuple[str, ...] = ()
    """The service ladder's levels, lowest first; empty without a ladder."""
    level_moves: dict[str, np.ndarray] | None = None
    """The service-level entries (`levels_table`); None without a ladder."""

    @property
    def nbytes(self) -> int:
        """Memory held by the columns."""
        tables = (self.prospects, self.visits, self.purchases, self.moves, self.contacts)
        tables += (self.answers,) if self.answers else ()
        tables += (self.level_moves,) if self.level_moves else ()
        return sum(col.nbytes for table in tables for col in table.values())


@dataclass(frozen=True)
class Run:
    """One simulated run: the scenario, its seed and the event log."""

    scenario: Scenario
    seed: int
    log: EventLog
