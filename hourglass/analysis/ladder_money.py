"""The service ladder's money: stays at each level, their fees and costs, and margins.

A customer holds a service level from the move onto it to the next move (or the horizon);
fees and costs to serve accrue per day held, at the holder's segment's rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hourglass.config.segments import segment_ladders, segment_margins
from hourglass.log import LEFT_SERVICE, Run
from hourglass.stages import DAYS_PER_MONTH


def level_spells(run: Run) -> pd.DataFrame:
    """Each stay at a service level: customer, level (code), start, end (the horizon if held)."""
    moves = run.log.level_moves
    if moves is None or not len(moves["customer"]):
        return pd.DataFrame({"customer": [], "level": [], "start": [], "end": []})
    order = np.lexsort((moves["time"], moves["customer"]))
    who, when, level = (moves[k][order] for k in ("customer", "time", "level"))
    same_next = np.append(who[1:] == who[:-1], False)
    end = np.where(same_next, np.append(when[1:], np.inf), run.log.horizon_days)
    held = level != LEFT_SERVICE
    return pd.DataFrame(
        {"customer": who[held], "level": level[held], "start": when[held], "end": end[held]}
    )


def level_move_table(run: Run) -> pd.DataFrame:
    """Each service-level move: customer, time and the level moved to (`left` on leaving).

    Empty without a service ladder.
    """
    moves = run.log.level_moves
    if moves is None:
        return pd.DataFrame()
    names = np.asarray([*run.log.levels, "left"], dtype=object)  # LEFT_SERVICE is -1
    return pd.DataFrame(
        {"customer": moves["customer"], "time": moves["time"], "level": names[moves["level"]]}
    )


def level_rates(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """Each level's value and cost to serve per day, by segment (rows; one without segments)."""
    s = run.scenario
    ladders = segment_ladders(s.after_sale.service_ladder, s.segments)
    value = np.array([[lv.value_per_month for lv in ladder.levels] for ladder in ladders])
    cost = np.array([[lv.cost_to_serve_per_month for lv in ladder.levels] for ladder in ladders])
    return value / DAYS_PER_MONTH, cost / DAYS_PER_MONTH


def segments_of(run: Run, customers: np.ndarray) -> np.ndarray:
    """The segment codes of `customers` (all 0 without segments)."""
    return run.log.prospects["segment"][customers].astype(np.int64)


def margins(run: Run) -> np.ndarray:
    """Each segment's margin (one, the scenario's, without segments)."""
    s = run.scenario
    return np.array(segment_margins(s.after_sale.margin, s.segments))


def blended_margin(run: Run, since: float, customers: np.ndarray | None = None) -> float:
    """The margin on revenue from `since` (of `customers` only, if given), purchases and fees.

    The scenario's where no segment has a margin of its own; else the segments' margins
    weighted by their revenue, so that it times the revenue is the sum of the segments' margins.
    """
    s, log = run.scenario, run.log
    margin = s.after_sale.margin
    own = margins(run)
    if (own == margin).all():
        return margin
    p = log.purchases
    keep = p["time"] >= since
    if customers is not None:
        keep &= np.isin(p["customer"], customers)
    segment = segments_of(run, p["customer"][keep])
    revenue = np.bincount(segment, weights=p["value"][keep], minlength=len(own))
    if log.level_moves is not None:
        revenue = revenue + ladder_by_segment(run, since, customers=customers)
    total = revenue.sum()
    return float((own * revenue).sum() / total) if total else margin


def _exposure_until(
    start: np.ndarray, end: np.ndarray, weight: np.ndarray, x: np.ndarray
) -> np.ndarray:
    """Sum of weight x the part of each [start, end) stay before each time in `x`."""

    def before(points: np.ndarray) -> np.ndarray:
        order = np.argsort(points)
        p, w = points[order], weight[order]
        n = np.searchsorted(p, x)
        cum_w = np.concatenate(([0.0], np.cumsum(w)))
        cum_wp = np.concatenate(([0.0], np.cumsum(w * p)))
        return x * cum_w[n] - cum_wp[n]

    return before(start) - before(end)


def ladder_per_day(run: Run, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Per day: the service levels' revenue and cost to serve, for the time each is held."""
    spells = level_spells(run)
    value, cost = level_rates(run)
    edges = np.minimum(np.arange(days + 1, dtype=float), run.log.horizon_days)
    start, end = spells["start"].to_numpy(float), spells["end"].to_numpy(float)
    level = spells["level"].to_numpy(np.int64)
    segment = segments_of(run, spells["customer"].to_numpy(np.int64))
    return tuple(
        np.diff(_exposure_until(start, end, rate[segment, level], edges)) for rate in (value, cost)
    )


def ladder_money(run: Run, start: float, customers: np.ndarray | None = None) -> float:
    """Service-level revenue from `start` to the horizon (of `customers` only, if given)."""
    return float(_held_money(run, start, "value", customers)[1].sum())


def ladder_by_segment(
    run: Run, since: float, kind: str = "value", customers: np.ndarray | None = None
) -> np.ndarray:
    """Per segment: the levels' fees (`kind` value) or costs (cost) from `since` to the horizon.

    Only `customers`' levels count, if given; a run without segments has one.
    """
    segment, money = _held_money(run, since, kind, customers)
    return np.bincount(segment, weights=money, minlength=max(len(run.log.segments), 1))


def _held_money(
    run: Run, since: float, kind: str, customers: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each level stay's holder's segment, and its fees or costs from `since` to the horizon."""
    spells = level_spells(run)
    if customers is not None:
        spells = spells[np.isin(spells["customer"], customers)]
    value, cost = level_rates(run)
    segment = segments_of(run, spells["customer"].to_numpy(np.int64))
    rate = (value if kind == "value" else cost)[segment, spells["level"].to_numpy(np.int64)]
    begin = np.maximum(spells["start"].to_numpy(float), since)
    length = np.clip(spells["end"].to_numpy(float) - begin, 0.0, None)
    return segment, length * rate
