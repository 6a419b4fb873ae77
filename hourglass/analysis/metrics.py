"""Pure functions from a run's event log to tables and KPIs; nothing here runs SimPy.

Everything is counted over the measurement window [warmup_days, horizon_days): visits that
began, customers first bought, and money that moved in it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hourglass.config.budgets import line_spend_per_day, spend_per_day
from hourglass.log import FIRST_REASON, INSIDE, PASSED, Run
from hourglass.stages import (
    ACTIVE_CLASSES,
    CHURNED,
    DAYS_PER_MONTH,
    FUNNEL,
    NOT_ENTHUSIASTIC,
    SELLER_BESIDE,
    WENT_COLD,
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


def _window(run: Run) -> tuple[float, float]:
    log = run.log
    return log.warmup_days, log.horizon_days


def _first_purchases(run: Run) -> pd.DataFrame:
    """Customers first bought in the window: customer, day."""
    p = run.log.purchases
    first = p["kind"] == 0
    df = pd.DataFrame({"customer": p["customer"][first], "day": p["time"][first]})
    return df[df["day"] >= run.log.warmup_days]


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


def _lower_row(
    run: Run, stage: str, ids: np.ndarray, start: np.ndarray, done: np.ndarray, at: np.ndarray
) -> tuple:
    """A lower-half row: passed on the first `done` event, lost on lapsing before it."""
    success = _first_after(done, at, ids, start)
    m = run.log.moves
    inactive = ~np.isin(np.asarray(run.log.classes)[m["klass"]], list(ACTIVE_CLASSES))
    lapse = _first_after(m["customer"][inactive], m["time"][inactive], ids, start)
    passed = np.isfinite(success) & (success <= lapse)
    lost = np.isfinite(lapse) & ~passed
    days = np.concatenate([(success - start)[passed], (lapse - start)[lost]])
    still = ~np.isfinite(success) & ~np.isfinite(lapse)  # neither happened by the horizon
    return _row(stage, len(ids), int(passed.sum()), int(lost.sum()), int(still.sum()), days)


def _repeat_row(run: Run) -> tuple:
    """Buyers enter; they pass on their first repeat purchase, are lost if they lapse first."""
    buyers = _first_purchases(run)
    p = run.log.purchases
    again = p["kind"] > 0
    return _lower_row(
        run,
        "repeat",
        buyers["customer"].to_numpy(),
        buyers["day"].to_numpy(),
        p["customer"][again],
        p["time"][again],
    )


def _refer_row(run: Run) -> tuple:
    """Advocates (buyers who talk) enter on their first contact; a won contact passes them."""
    ids = _first_purchases(run)["customer"].to_numpy()
    c = run.log.contacts
    first_talk = pd.Series(c["time"]).groupby(c["referrer"]).min()
    advocates = ids[np.isin(ids, first_talk.index)]
    won = c["won"] == 1
    return _lower_row(
        run,
        "refer",
        advocates,
        first_talk.reindex(advocates).to_numpy(),
        c["referrer"][won],
        c["time"][won],
    )


def loss_table(run: Run) -> pd.DataFrame:
    """Lost by reason: one row per stage and reason with at least one loss."""
    rows = []
    for k, stage in enumerate(FUNNEL):
        out = _stage_visits(run, k)["outcome"]
        codes, counts = np.unique(out[out >= FIRST_REASON], return_counts=True)
        rows += [
            (stage, run.log.reasons[c - FIRST_REASON], int(n))
            for c, n in zip(codes, counts, strict=True)
        ]
    table = stage_table(run).set_index("stage")
    rows += [
        (stage, reason, int(table.loc[stage, "lost"]))
        for stage, reason in (("repeat", CHURNED), ("refer", NOT_ENTHUSIASTIC))
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
        counts[stage] = _alive_per_day(v["enter"][mask], leave[mask], days)
    return pd.DataFrame(counts, index=pd.RangeIndex(days, name="day"))


def _alive_per_day(start: np.ndarray, end: np.ndarray, days: int) -> np.ndarray:
    """How many [start, end) stays are under way just before the end of each day.

    "Just before" keeps stocks in step with flows: whoever arrives during day d counts in
    day d's flow and in the stock at the end of day d.
    """
    edges = np.arange(1, days + 1, dtype=float)
    return np.searchsorted(np.sort(start), edges) - np.searchsorted(np.sort(end), edges)


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
    out["brought_buyers"] = _brought_by_cohort(run, days)
    for klass, counts in _class_counts(run, days).items():
        out[f"customers_{klass}"] = counts
    out["active_customers"] = sum(out[f"customers_{c}"] for c in log.classes if c in ACTIVE_CLASSES)
    out["cost"] = _cost_per_day(run, out["referred_buyers"], out["active_customers"])
    for stage, entries in _entries_per_day(run, days).items():
        out[f"entered_{stage}"] = entries
    return out


def _cost_per_day(run: Run, referred_buyers: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Per day: budgets and sellers, referral bonuses, and the cost to serve customers.

    Customers are served at the day's closing count of active ones.
    """
    s, horizon = run.scenario, run.log.horizon_days
    share_of_day = np.minimum(1.0, horizon - np.arange(len(active)))  # the last may be part
    bonus = s.referral.bonus if s.referral else 0.0
    serve = s.after_sale.cost_to_serve_per_month / DAYS_PER_MONTH
    return (
        spend_per_day(s, len(active)) * share_of_day
        + bonus * np.asarray(referred_buyers)
        + serve * np.asarray(active) * share_of_day
    )


def _brought_by_cohort(run: Run, days: int) -> np.ndarray:
    """Per day: buyers referred by the customers who first bought that day (by the horizon)."""
    purchases, p = run.log.purchases, run.log.prospects
    first = purchases["kind"] == 0
    first_day = np.full(len(p["arrival"]), -1, dtype=np.int64)
    first_day[purchases["customer"][first]] = purchases["time"][first].astype(np.int64)
    referrer = p["referrer"][purchases["customer"][first]]
    cohort = first_day[referrer[referrer >= 0]]
    return np.bincount(cohort[cohort >= 0], minlength=days)[:days]


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

    Funnel stages count the people who had entered them; Repeat counts repeat purchases and
    Refer the prospects referrals had brought, the widths `hourglass_figure` takes as
    `lower`. `daily` is a daily table, or the mean of several over replications.
    """
    counts = daily[[f"entered_{s}" for s in FUNNEL]].set_axis(list(FUNNEL), axis=1)
    counts["repeat"] = daily["repeat_purchases"]
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


def _class_counts(run: Run, days: int) -> dict[str, np.ndarray]:
    m = run.log.moves
    order = np.lexsort((m["time"], m["customer"]))
    who, when, klass = m["customer"][order], m["time"][order], m["klass"][order]
    same_next = np.append(who[1:] == who[:-1], False)
    leave = np.where(same_next, np.append(when[1:], np.inf), np.inf)
    return {
        name: _alive_per_day(when[klass == code], leave[klass == code], days)
        for code, name in enumerate(run.log.classes)
    }


def kpis(run: Run) -> dict[str, float]:
    """The headline numbers of one run (money in the scenario's currency, time in days)."""
    log, s = run.log, run.scenario
    start = run.log.warmup_days
    p = log.prospects
    arrived = p["arrival"] >= start
    referred = p["referrer"] >= 0
    buyers = _first_purchases(run)
    ids = buyers["customer"].to_numpy()
    referred_buyers = int((p["referrer"][ids] >= 0).sum())
    n_buyers = len(ids)

    purchases = log.purchases
    in_window = purchases["time"] >= start
    revenue = float(purchases["value"][in_window].sum())
    own = np.isin(purchases["customer"], ids)
    customer_revenue = float(purchases["value"][own].sum())
    margin = s.after_sale.margin

    daily = daily_table(run).iloc[math.floor(start) :]
    cost = float(daily["cost"].sum())
    profit = margin * revenue - cost
    return {
        "prospects": int(arrived.sum()),
        "outside_prospects": int((arrived & ~referred).sum()),
        "referred_prospects": int((arrived & referred).sum()),
        "buyers": n_buyers,
        "referred_buyers": referred_buyers,
        "customers_end": _customers_at_end(run),
        "repeat_purchases": int((in_window & (purchases["kind"] > 0)).sum()),
        "revenue": revenue,
        "cost": cost,
        "cac": _ratio(cost, n_buyers),
        "ltv": _ratio(margin * customer_revenue, n_buyers),
        "roi": _ratio(profit, cost),
        "profit": profit,
        "payback_days": _payback_days(daily, margin, start),
        "referral_share": _ratio(referred_buyers, n_buyers),
        "k_factor": _k_factor(run, buyers),
        "referral_contacts": int((log.contacts["time"] >= start).sum()),
        **_seller_kpis(run),
        **_cac_by_channel(run, ids),
    }


def _payback_days(daily: pd.DataFrame, margin: float, start: float) -> float:
    """Days from the window's start until margin on revenue has paid for all costs so far."""
    balance = (margin * daily["revenue"] - daily["cost"]).cumsum().to_numpy()
    paid_back = np.flatnonzero(balance >= 0.0)
    if not len(paid_back):
        return math.nan
    return float(daily.index[paid_back[0]] + 1 - start)


def _cac_by_channel(run: Run, buyer_ids: np.ndarray) -> dict[str, float]:
    """Per channel (cac_<channel>): its own spend in the window over the buyers it brought."""
    s, log = run.scenario, run.log
    came_by = log.prospects["channel"][buyer_ids]
    start, end = _window(run)
    days = math.ceil(end)
    share = np.clip(
        np.minimum(np.arange(days) + 1.0, end) - np.maximum(np.arange(days), start), 0, 1
    )
    bonus = s.referral.bonus if s.referral else 0.0
    out = {}
    for code, channel in enumerate(log.channels):
        won = int((came_by == code).sum())
        if channel in s.channels.paid:
            spend = float((line_spend_per_day(s, channel, days) * share).sum())
        elif channel == "referral":
            spend = bonus * won
        else:
            spend = 0.0
        out[f"cac_{channel}"] = _ratio(spend, won)
    return out


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def _customers_at_end(run: Run) -> int:
    m = run.log.moves
    if not len(m["customer"]):
        return 0
    order = np.lexsort((m["time"], m["customer"]))
    who, klass = m["customer"][order], m["klass"][order]
    last = np.append(who[1:] != who[:-1], True)
    active = np.isin(np.asarray(run.log.classes)[klass[last]], list(ACTIVE_CLASSES))
    return int(active.sum())


def _k_factor(run: Run, buyers: pd.DataFrame) -> float:
    """New customers each customer brought, over customers won in the window's first half.

    Each of them had at least half the window to refer, so late customers, who had no time
    yet, do not pull the number down.
    """
    start, end = _window(run)
    early = buyers["customer"][buyers["day"] < (start + end) / 2].to_numpy()
    if not len(early):
        return math.nan
    p = run.log.prospects
    first = run.log.purchases["kind"] == 0
    referrer_of_buyer = p["referrer"][run.log.purchases["customer"][first]]
    brought = np.isin(referrer_of_buyer, early).sum()
    return float(brought) / len(early)


def _seller_kpis(run: Run) -> dict[str, float]:
    log, sales = run.log, run.scenario.sales
    start, end = _window(run)
    v = log.visits
    worked = [FUNNEL.index(SELLER_BESIDE[w]) for w in sales.stages] if sales else []
    at_worked = np.isin(v["stage"], worked)
    entered = (v["enter"] >= start) & at_worked
    served = np.isfinite(v["wait"]) & at_worked
    # seller time inside the window, also for work that began before the warm-up ended
    busy_from = np.maximum(v["enter"][served] + v["wait"][served], start)
    busy_to = np.where(np.isnan(v["exit"][served]), end, v["exit"][served])
    busy = float(np.clip(busy_to - busy_from, 0.0, None).sum())
    cold = v["outcome"] == FIRST_REASON + log.reasons.index(WENT_COLD)
    waits = v["wait"][np.isfinite(v["wait"]) & entered].astype(float)
    return {
        "seller_utilization": _ratio(busy, log.seats * (end - start)),
        "mean_wait_days": float(waits.mean()) if len(waits) else math.nan,
        "lost_waiting": int((cold & entered).sum()),
        "leads_to_sellers": int(entered.sum()),
    }
