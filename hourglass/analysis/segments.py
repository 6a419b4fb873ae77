"""Results per customer segment: the stage table and the KPIs, adding up to the run's totals.

Counted over the measurement window as `metrics.kpis` counts the totals. Money is split so
that the segments add up to the run's cost and profit:

- a paid channel's spend goes to the segments by their share of the channel's prospects in
  the window; all other fixed spend (stage, repeat and referral budgets, sellers) by their
  share of all prospects in the window; spend with no prospects to share it goes equally;
- a referral bonus goes to the segment of the referred buyer it is paid for;
- the cost to serve is each segment's own: its rate per active customer and month times its
  active customers, day by day.

A segment's CAC is its acquisition cost (spend and bonuses, not the cost to serve) per buyer;
its LTV is the margin on its window's buyers' revenue to the horizon, per buyer; margin after
cost to serve is the margin on its revenue less its cost to serve. Each segment's margin is
its own where it gives one, else the scenario's.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from hourglass.analysis.ladder_money import ladder_by_segment, margins
from hourglass.analysis.series import day_shares, serving_by_segment
from hourglass.analysis.stages import first_purchases, stage_table
from hourglass.config.budgets import line_spend_per_day, spend_per_day
from hourglass.log import Run

SEGMENT_COLUMNS = (
    "name",
    "prospects",
    "buyers",
    "revenue",
    "acquisition_cost",
    "cost_to_serve",
    "profit",
    "cac",
    "ltv",
    "ltv_cac",
    "margin_after_serve",
)
"""The columns of `segment_table`, in order."""


def segment_table(run: Run) -> pd.DataFrame:
    """The KPIs of each segment (one row each, in the scenario's order); empty without any."""
    log = run.log
    if not log.segments:
        return pd.DataFrame(columns=list(SEGMENT_COLUMNS))
    count = len(log.segments)
    start = log.warmup_days
    segment_of = log.prospects["segment"]
    buyers = first_purchases(run)["customer"].to_numpy()
    purchases = log.purchases
    in_window = purchases["time"] >= start
    own = np.isin(purchases["customer"], buyers)
    by_buyer = segment_of[purchases["customer"]]
    revenue = np.bincount(
        by_buyer[in_window], weights=purchases["value"][in_window], minlength=count
    )
    lifetime = np.bincount(by_buyer[own], weights=purchases["value"][own], minlength=count)
    n_buyers = np.bincount(segment_of[buyers], minlength=count)
    first_day = math.floor(start)
    serve = serving_by_segment(run, math.ceil(log.horizon_days))[:, first_day:].sum(axis=1)
    if log.level_moves is not None:  # service levels' fees and costs, by their holders' segment
        revenue = revenue + ladder_by_segment(run, start)
        lifetime = lifetime + ladder_by_segment(run, start, customers=buyers)
        serve = serve + ladder_by_segment(run, first_day, "cost")
    acquisition = _spend_by_segment(run) + _bonus_by_segment(run)
    arrived = log.prospects["arrival"] >= start
    rows = []
    for code, (name, margin) in enumerate(zip(log.segments, margins(run), strict=True)):
        cac = _ratio(acquisition[code], n_buyers[code])
        ltv = _ratio(margin * lifetime[code], n_buyers[code])
        rows.append(
            (
                name,
                int((arrived & (segment_of == code)).sum()),
                int(n_buyers[code]),
                float(revenue[code]),
                float(acquisition[code]),
                float(serve[code]),
                float(margin * revenue[code] - acquisition[code] - serve[code]),
                cac,
                ltv,
                _ratio(ltv, cac),
                float(margin * revenue[code] - serve[code]),
            )
        )
    return pd.DataFrame(rows, columns=list(SEGMENT_COLUMNS))


def _spend_by_segment(run: Run) -> np.ndarray:
    """The window's fixed spend, each paid channel's by its prospects' segments, the rest by all."""
    log, s = run.log, run.scenario
    count = len(log.segments)
    days = math.ceil(log.horizon_days)
    window = day_shares(run, days)[math.floor(log.warmup_days) :]
    first_day = math.floor(log.warmup_days)
    total = float((spend_per_day(s, days)[first_day:] * window).sum())
    arrived = log.prospects["arrival"] >= log.warmup_days
    segment_of = log.prospects["segment"][arrived]
    channel_of = log.prospects["channel"][arrived]
    out = np.zeros(count)
    for channel in s.channels.paid:
        spend = float((line_spend_per_day(s, channel, days)[first_day:] * window).sum())
        mine = segment_of[channel_of == log.channels.index(channel)]
        out += spend * _shares(mine, count)
        total -= spend
    return out + total * _shares(segment_of, count)


def _shares(segments: np.ndarray, count: int) -> np.ndarray:
    """Each segment's share of `segments` (equal shares if it is empty)."""
    if not len(segments):
        return np.full(count, 1.0 / count)
    return np.bincount(segments, minlength=count) / len(segments)


def _bonus_by_segment(run: Run) -> np.ndarray:
    """Referral bonuses paid in the window, by the segment of the referred buyer."""
    log, s = run.log, run.scenario
    bonus = s.referral.bonus if s.referral else 0.0
    p = log.purchases
    first = (p["kind"] == 0) & (p["time"] >= math.floor(log.warmup_days))
    buyers = p["customer"][first]
    referred = buyers[log.prospects["referrer"][buyers] >= 0]
    return bonus * np.bincount(log.prospects["segment"][referred], minlength=len(log.segments))


def segment_stages(run: Run) -> pd.DataFrame:
    """The stage table of each segment, stacked, with a `segment` column first."""
    parts = [
        stage_table(_only(run, code)).assign(segment=name)
        for code, name in enumerate(run.log.segments)
    ]
    if not parts:
        return pd.DataFrame()
    table = pd.concat(parts, ignore_index=True)
    return table[["segment", *table.columns[:-1]]]


def _only(run: Run, code: int) -> Run:
    """The run as the stage table sees one segment.

    Other segments' visits, purchases, moves and talk are dropped, their arrivals moved
    before the window.
    """
    log = run.log
    mine = log.prospects["segment"] == code

    def keep(table: dict[str, np.ndarray], who: str) -> dict[str, np.ndarray]:
        rows = mine[table[who]]
        return {name: column[rows] for name, column in table.items()}

    arrival = np.where(mine, log.prospects["arrival"], -np.inf)
    only = dataclasses.replace(
        log,
        prospects={**log.prospects, "arrival": arrival},
        visits=keep(log.visits, "prospect"),
        purchases=keep(log.purchases, "customer"),
        moves=keep(log.moves, "customer"),
        contacts=keep(log.contacts, "referrer"),
    )
    return dataclasses.replace(run, log=only)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else math.nan


def segment_records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Stacked segment tables (a `rep` column) as records, one per segment.

    One run gives its values; several replications each number's mean, p5 and p95 (NaNs
    left out).
    """
    if frame.empty:
        return []
    reps = frame["rep"].nunique()
    records = []
    for name, rows in frame.groupby("name", sort=False):
        record: dict[str, object] = {"name": name}
        for column in SEGMENT_COLUMNS[1:]:
            if reps == 1:
                record[column] = rows[column].iloc[0].item()
                continue
            values = rows[column].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            stats = np.percentile(finite, [5, 95]) if len(finite) else [math.nan] * 2
            mean = float(finite.mean()) if len(finite) else math.nan
            record[column] = {"mean": mean, "p5": float(stats[0]), "p95": float(stats[1])}
        records.append(record)
    return records


def segment_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Stacked segment tables (a `rep` column) averaged over replications, segments in order."""
    return frame.drop(columns="rep").groupby("name", sort=False).mean().reset_index()
