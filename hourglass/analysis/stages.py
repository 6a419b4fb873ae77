"""The stage table: entered, passed, lost and still inside, per stage; losses; occupancy.

Everything is counted over the measurement window [warmup_days, horizon_days): visits that
began and customers first bought in it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hourglass.log import FIRST_REASON, INSIDE, PASSED, Run
from hourglass.stages import (
    ACTIVE_CLASSES,
    CHURNED,
    FUNNEL,
    LOST_IN_FUNNEL,
)

STAGE_COLUMNS = (
    "stage",
    "entered",
    "passed",
    "lost",
    "inside",
    "conversion",
    "mean_days",
    "p90_days",
)


def first_purchases(run: Run) -> pd.DataFrame:
    """Customers first bought in the window: customer, day."""
    p = run.log.purchases
    first = p["kind"] == 0
    df = pd.DataFrame({"customer": p["customer"][first], "day": p["time"][first]})
    return df[df["day"] >= run.log.warmup_days]


def starting_customers(run: Run) -> np.ndarray:
    """The customers a run started with: joined outside the funnel, first purchase not logged."""
    p = run.log.prospects
    joined = np.flatnonzero(np.isin(p["channel"], _cohort_codes(run)))
    first = run.log.purchases["customer"][run.log.purchases["kind"] == 0]
    return joined[~np.isin(joined, first)]


def _cohort_codes(run: Run) -> list[int]:
    """The channel codes of customers who joined outside the funnel (known or starting)."""
    return [code for code, name in enumerate(run.log.channels) if name == "cohort"]


def stage_table(run: Run) -> pd.DataFrame:
    """Entered, passed, lost, still inside, conversion and time in stage, for all seven stages.

    Conversion is passed / (passed + lost): the share of decided visits that went on.
    Time in stage (mean and 90th percentile, days) is over visits that ended.
    """
    rows = [_funnel_row(run, k) for k in range(len(FUNNEL))]
    rows += [_repeat_row(run), _refer_row(run)]
    return pd.DataFrame(rows, columns=list(STAGE_COLUMNS))


def _row(stage: str, entered: int, passed: int, lost: int, inside: int, days: np.ndarray) -> tuple:
    decided = passed + lost
    return (
        stage,
        entered,
        passed,
        lost,
        inside,
        passed / decided if decided else math.nan,
        float(days.mean()) if len(days) else math.nan,
        float(np.percentile(days, 90)) if len(days) else math.nan,
    )


def _stage_visits(run: Run, k: int) -> dict[str, np.ndarray]:
    v = run.log.visits
    mask = (v["stage"] == k) & (v["enter"] >= run.log.warmup_days)
    return {name: col[mask] for name, col in v.items()}


def _funnel_row(run: Run, k: int) -> tuple:
    v = _stage_visits(run, k)
    out = v["outcome"]
    done = out != INSIDE
    days = (v["exit"] - v["enter"])[done]
    return _row(
        FUNNEL[k],
        len(out),
        int((out == PASSED).sum()),
        int((out >= FIRST_REASON).sum()),
        int((out == INSIDE).sum()),
        days,
    )


def _first_after(
    customers: np.ndarray, times: np.ndarray, of: np.ndarray, after: np.ndarray
) -> np.ndarray:
    """For each customer in `of`, the earliest of their `times` not before `after` (or inf)."""
    events = pd.DataFrame({"who": customers, "t": times})
    since = pd.Series(after, index=of)
    events = events[events["t"] >= events["who"].map(since)]
    first = events.groupby("who")["t"].min()
    return first.reindex(of).fillna(np.inf).to_numpy()


def _repeat_row(run: Run) -> tuple:
    """Customers who bought again enter; having brought a prospect passes them; lapsing loses.

    Repeat counts people, each once (see hourglass.stages.REPEAT_AND_REFER), from the day of
    their first purchase after the first; customers from before day 0 count from their first
    purchase in the window. A prospect brought since the first purchase (for those, since the
    window's start) counts, even before the repeat; one who lapses after buying again and
    before bringing anyone is lost. Time in stage runs from the repeat to passing or lapsing
    (nought if already passed).
    """
    ids, bought, start = _first_repeats(run)
    c, m = run.log.contacts, run.log.moves
    won = c["won"] == 1
    brought = _first_after(c["referrer"][won], c["time"][won], ids, bought)
    inactive = ~np.isin(np.asarray(run.log.classes)[m["klass"]], list(ACTIVE_CLASSES))
    lapse = _first_after(m["customer"][inactive], m["time"][inactive], ids, start)
    passed = np.isfinite(brought) & (brought <= lapse)
    lost = np.isfinite(lapse) & ~passed
    days = np.maximum(0.0, np.concatenate([(brought - start)[passed], (lapse - start)[lost]]))
    still = ~passed & ~lost  # neither happened by the horizon
    return _row("repeat", len(ids), int(passed.sum()), int(lost.sum()), int(still.sum()), days)


def _first_repeats(run: Run) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers who bought again in the window: who, since when, first bought again.

    Those who first bought in the window count from that purchase; starting customers, who
    bought before day 0, from the window's start.
    """
    buyers = first_purchases(run)
    starting = starting_customers(run)
    ids = np.concatenate([buyers["customer"].to_numpy(), starting])
    bought = np.concatenate([buyers["day"].to_numpy(), np.full(len(starting), run.log.warmup_days)])
    p = run.log.purchases
    again = p["kind"] > 0
    start = _first_after(p["customer"][again], p["time"][again], ids, bought)
    entered = np.isfinite(start)
    return ids[entered], bought[entered], start[entered]


def repeat_customers_per_day(run: Run, days: int) -> np.ndarray:
    """Per day: customers who bought again for the first time (the Repeat row's entries)."""
    start = _first_repeats(run)[2]
    return np.bincount(start.astype(np.int64), minlength=days)[:days]


def _refer_row(run: Run) -> tuple:
    """The prospects customers brought enter; buying passes them, a loss in the funnel loses them.

    Refer counts the referred prospects who arrived in the window (see
    hourglass.stages.REPEAT_AND_REFER); time in stage is from arrival to buying or leaving.
    """
    log = run.log
    arrival = log.prospects["arrival"]
    ids = np.flatnonzero((log.prospects["referrer"] >= 0) & (arrival >= log.warmup_days))
    p = log.purchases
    first = p["kind"] == 0
    bought = pd.Series(p["time"][first], index=p["customer"][first]).reindex(ids).to_numpy()
    v = log.visits
    out = v["outcome"] >= FIRST_REASON
    left = pd.Series(v["exit"][out], index=v["prospect"][out]).groupby(level=0).min()
    left = left.reindex(ids).to_numpy()
    passed = np.isfinite(bought)
    lost = ~passed & np.isfinite(left)
    days = np.concatenate([(bought - arrival[ids])[passed], (left - arrival[ids])[lost]])
    return _row(
        "refer", len(ids), int(passed.sum()), int(lost.sum()), int((~passed & ~lost).sum()), days
    )


def loss_table(run: Run, stage_rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Lost by reason: one row per stage and reason with at least one loss.

    `stage_rows` is the run's `stage_table` when the caller has it already.
    """
    rows = []
    for k, stage in enumerate(FUNNEL):
        out = _stage_visits(run, k)["outcome"]
        codes, counts = np.unique(out[out >= FIRST_REASON], return_counts=True)
        rows += [
            (stage, run.log.reasons[c - FIRST_REASON], int(n))
            for c, n in zip(codes, counts, strict=True)
        ]
    table = (stage_table(run) if stage_rows is None else stage_rows).set_index("stage")
    rows += [
        (stage, reason, int(table.loc[stage, "lost"]))
        for stage, reason in (("repeat", CHURNED), ("refer", LOST_IN_FUNNEL))
        if table.loc[stage, "lost"]
    ]
    return pd.DataFrame(rows, columns=["stage", "reason", "lost"])


def stage_occupancy(run: Run) -> pd.DataFrame:
    """People inside each funnel stage at the end of every day (rows: days, columns: stages)."""
    log = run.log
    days = math.ceil(log.horizon_days)
    v = log.visits
    leave = np.where(np.isnan(v["exit"]), np.inf, v["exit"])
    counts = {}
    for k, stage in enumerate(FUNNEL):
        mask = v["stage"] == k
        counts[stage] = alive_per_day(v["enter"][mask], leave[mask], days)
    return pd.DataFrame(counts, index=pd.RangeIndex(days, name="day"))


def alive_per_day(start: np.ndarray, end: np.ndarray, days: int) -> np.ndarray:
    """How many [start, end) stays are under way just before the end of each day.

    "Just before" keeps stocks in step with flows: whoever arrives during day d counts in
    day d's flow and in the stock at the end of day d.
    """
    edges = np.arange(1, days + 1, dtype=float)
    return np.searchsorted(np.sort(start), edges) - np.searchsorted(np.sort(end), edges)
