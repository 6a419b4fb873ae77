"""Day-by-day series: arrivals by channel, buyers, customers by class, money; and their bands."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hourglass.analysis.forecast import REFERRAL_WINDOW_DAYS, referrals_in_window
from hourglass.analysis.ladder_money import ladder_per_day
from hourglass.analysis.stages import alive_per_day, repeat_customers_per_day
from hourglass.config.budgets import pay_per_day, spend_per_day
from hourglass.log import Run
from hourglass.stages import (
    ACTIVE_CLASSES,
    DAYS_PER_MONTH,
    FUNNEL,
)


def daily_table(run: Run) -> pd.DataFrame:
    """Per day: arrivals by channel, buyers, repeats, money, customers by class, stage entries."""
    log = run.log
    days = math.ceil(log.horizon_days)
    index = pd.RangeIndex(days, name="day")
    out = pd.DataFrame(index=index)
    p = log.prospects
    day_of = p["arrival"].astype(np.int64)
    for code, channel in enumerate(log.channels):
        out[f"arrivals_{channel}"] = np.bincount(day_of[p["channel"] == code], minlength=days)
    first = log.purchases["kind"] == 0
    buy_day = log.purchases["time"][first].astype(np.int64)
    out["buyers"] = np.bincount(buy_day, minlength=days)
    out["revenue"] = np.bincount(
        log.purchases["time"].astype(np.int64), weights=log.purchases["value"], minlength=days
    )
    referred = p["referrer"][log.purchases["customer"][first]] >= 0
    out["repeat_purchases"] = np.bincount(
        log.purchases["time"][~first].astype(np.int64), minlength=days
    )
    out["referred_buyers"] = np.bincount(buy_day[referred], minlength=days)
    out["brought_buyers"], out["brought_in_window"] = _brought_by_cohort(run, days)
    for klass, counts in _class_counts(run, days).items():
        out[f"customers_{klass}"] = counts
    out["active_customers"] = sum(out[f"customers_{c}"] for c in log.classes if c in ACTIVE_CLASSES)
    out["cost"] = _cost_per_day(run, out["referred_buyers"], out["active_customers"], days)
    if log.level_moves is not None:  # service fees and their cost to serve, as levels are held
        fees, serve = ladder_per_day(run, days)
        out["revenue"] += fees
        out["cost"] += serve
    for stage, entries in _entries_per_day(run, days).items():
        out[f"entered_{stage}"] = entries
    out["repeat_customers"] = repeat_customers_per_day(run, days)
    return out


def _cost_per_day(
    run: Run, referred_buyers: np.ndarray, active: np.ndarray, days: int
) -> np.ndarray:
    """Per day: budgets and sellers, referral bonuses, and the cost to serve customers.

    Customers are served at the day's closing count of active ones, at their segment's cost.
    """
    s = run.scenario
    share_of_day = day_shares(run, days)
    bonus = s.referral.bonus if s.referral else 0.0
    if s.segments:
        serving = serving_by_segment(run, days).sum(axis=0)
    else:
        serve = s.after_sale.cost_to_serve_per_month / DAYS_PER_MONTH
        serving = serve * np.asarray(active) * share_of_day
    fixed = spend_per_day(s, days) * share_of_day + _pay_change_per_day(run, share_of_day)
    return fixed + bonus * np.asarray(referred_buyers) + serving


def _pay_change_per_day(run: Run, share_of_day: np.ndarray) -> np.ndarray | float:
    """Per day: the team's pay for the people on the payroll, less the steady pay counted.

    `spend_per_day` pays the team expected by its hiring plan and attrition; the run pays
    each seller's days between joining and leaving instead.
    """
    spans, sales = run.log.seller_spans, run.scenario.sales
    if not spans:
        return 0.0
    day = np.arange(len(share_of_day))
    pay = np.zeros(len(share_of_day))
    for (joined, left), (_, role) in zip(spans, run.log.sellers, strict=True):
        on_payroll = np.clip(np.minimum(left, day + 1) - np.maximum(joined, day), 0.0, 1.0)
        pay += sales.team[role].cost_per_month / DAYS_PER_MONTH * on_payroll
    return pay - pay_per_day(run.scenario, len(share_of_day)) * share_of_day


def day_shares(run: Run, days: int) -> np.ndarray:
    """The part of each day inside the run (the last may be a part)."""
    return np.minimum(1.0, run.log.horizon_days - np.arange(days))


def serving_by_segment(run: Run, days: int) -> np.ndarray:
    """Per segment (rows) and day: the cost to serve its active customers at its own rate."""
    s = run.scenario
    default = s.after_sale.cost_to_serve_per_month
    rates = [
        default if seg.cost_to_serve_per_month is None else seg.cost_to_serve_per_month
        for seg in (s.segments or {}).values()
    ]
    who, when, klass, leave = _spans(run)
    active = np.isin(klass, [run.log.classes.index(c) for c in ACTIVE_CLASSES])
    segment = run.log.prospects["segment"][who]
    counts = [
        alive_per_day(when[active & (segment == code)], leave[active & (segment == code)], days)
        for code in range(len(rates))
    ]
    per_day = np.array(rates)[:, None] / DAYS_PER_MONTH * day_shares(run, days)
    return np.array(counts, dtype=float).reshape(len(rates), days) * per_day


def _brought_by_cohort(run: Run, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Per day: buyers referred by the customers who first bought that day.

    Two counts: all by the horizon, and those within REFERRAL_WINDOW_DAYS of the referrer's
    first purchase.
    """
    purchases, p = run.log.purchases, run.log.prospects
    first = purchases["kind"] == 0
    first_time = np.full(len(p["arrival"]), -1.0)
    first_time[purchases["customer"][first]] = purchases["time"][first]
    referrer = p["referrer"][purchases["customer"][first]]
    referred = referrer >= 0
    referrer_bought = first_time[referrer[referred]]
    bought = referrer_bought >= 0
    cohort = referrer_bought[bought].astype(np.int64)
    windowed = referrals_in_window(
        referrer_bought[bought],
        purchases["time"][first][referred][bought],
        days,
        REFERRAL_WINDOW_DAYS,
    )
    return np.bincount(cohort, minlength=days)[:days], windowed


def _entries_per_day(run: Run, days: int) -> dict[str, np.ndarray]:
    """Per day and funnel stage: people who entered it."""
    v = run.log.visits
    enter_day = v["enter"].astype(np.int64)
    return {
        stage: np.bincount(enter_day[v["stage"] == k], minlength=days)
        for k, stage in enumerate(FUNNEL)
    }


def filling(daily: pd.DataFrame) -> pd.DataFrame:
    """The hourglass by the end of each day (rows: days; columns: the seven stages).

    Every stage counts the people who had entered it, as the stage table does: Repeat the
    customers who had bought again, Refer the prospects referrals had brought
    (hourglass.stages.REPEAT_AND_REFER). `daily` is a daily table, or the mean of several.
    """
    counts = daily[[f"entered_{s}" for s in FUNNEL]].set_axis(list(FUNNEL), axis=1)
    counts["repeat"] = daily["repeat_customers"]
    counts["refer"] = daily["arrivals_referral"]
    return counts.cumsum()


def monthly_growth(daily: pd.DataFrame) -> pd.DataFrame:
    """Per replication and whole 30-day month: buyers, referral share, K-factor, customers.

    The K-factor of a month is the buyers later referred by that month's new customers over
    their number; recent months have had less time to refer, so theirs is a lower bound.
    `daily` holds daily tables stacked with a `rep` column (one replication without it).
    """
    frame = daily if "day" in daily else daily.reset_index()
    frame = frame.assign(month=frame["day"] // 30, rep=frame.get("rep", 0))
    whole = frame.groupby("month")["day"].transform("nunique") == 30  # a part month misleads
    grouped = frame[whole].groupby(["rep", "month"])
    out = grouped[["buyers", "referred_buyers", "brought_buyers"]].sum()
    out["active_customers"] = grouped["active_customers"].last()
    buyers = out["buyers"].where(out["buyers"] > 0)
    out["referral_share"] = out["referred_buyers"] / buyers
    out["k_factor"] = out["brought_buyers"] / buyers
    return out.reset_index()


def bands(frame: pd.DataFrame, by: str, columns: Sequence[str]) -> pd.DataFrame:
    """Per column and value of `by`: mean, p5, p50, p95 across replications (tidy).

    `frame` holds one row per replication (`rep`) and value of `by`; NaNs are left out.
    """
    parts = []
    for column in columns:
        table = frame.pivot(index="rep", columns=by, values=column)
        values = table.to_numpy(dtype=float)
        seen = np.isfinite(values).any(axis=0)
        stats = np.full((4, values.shape[1]), np.nan)
        if seen.any():
            stats[0, seen] = np.nanmean(values[:, seen], axis=0)
            stats[1:, seen] = np.nanpercentile(values[:, seen], [5, 50, 95], axis=0)
        parts.append(
            pd.DataFrame(
                {
                    "series": column,
                    by: table.columns.to_numpy(),
                    "mean": stats[0],
                    "p5": stats[1],
                    "p50": stats[2],
                    "p95": stats[3],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _spans(run: Run) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each loyalty-class entry: customer, day entered, class, day left (inf: still in it)."""
    m = run.log.moves
    order = np.lexsort((m["time"], m["customer"]))
    who, when, klass = m["customer"][order], m["time"][order], m["klass"][order]
    same_next = np.append(who[1:] == who[:-1], False)
    leave = np.where(same_next, np.append(when[1:], np.inf), np.inf)
    return who, when, klass, leave


def _class_counts(run: Run, days: int) -> dict[str, np.ndarray]:
    _, when, klass, leave = _spans(run)
    return {
        name: alive_per_day(when[klass == code], leave[klass == code], days)
        for code, name in enumerate(run.log.classes)
    }
