"""A run's KPIs: prospects, buyers, money, ROI, referral share, K-factor and the sales team.

Counted over the measurement window [warmup_days, horizon_days), from the event log only.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hourglass.analysis.ladder_money import blended_margin, ladder_money
from hourglass.analysis.series import daily_table
from hourglass.analysis.stages import first_purchases
from hourglass.config.budgets import line_spend_per_day
from hourglass.log import FIRST_REASON, Run
from hourglass.stages import (
    ACTIVE_CLASSES,
    FUNNEL,
    WENT_COLD,
)


def _window(run: Run) -> tuple[float, float]:
    log = run.log
    return log.warmup_days, log.horizon_days


def kpis(run: Run, daily: pd.DataFrame | None = None) -> dict[str, float]:
    """The headline numbers of one run (money in the scenario's currency, time in days).

    `daily` is the run's `daily_table` when the caller has it already.
    """
    log = run.log
    start = run.log.warmup_days
    p = log.prospects
    # customers who joined outside the funnel (known or starting ones) were never prospects
    known = [code for code, name in enumerate(log.channels) if name == "cohort"]
    arrived = (p["arrival"] >= start) & ~np.isin(p["channel"], known)
    referred = p["referrer"] >= 0
    buyers = first_purchases(run)
    ids = buyers["customer"].to_numpy()
    referred_buyers = int((p["referrer"][ids] >= 0).sum())
    n_buyers = len(ids)

    purchases = log.purchases
    in_window = purchases["time"] >= start
    revenue = float(purchases["value"][in_window].sum())
    own = np.isin(purchases["customer"], ids)
    customer_revenue = float(purchases["value"][own].sum())
    if log.level_moves is not None:  # service fees, for the time each level is held
        revenue += ladder_money(run, start)
        customer_revenue += ladder_money(run, start, ids)
    ltv = _ratio(blended_margin(run, start, ids) * customer_revenue, n_buyers)
    margin = blended_margin(run, start)  # the segments' own margins, weighted by revenue

    daily = (daily_table(run) if daily is None else daily).iloc[math.floor(start) :]
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
        "ltv": ltv,
        "ltv_cac": _ratio(ltv, _ratio(cost, n_buyers)),
        "roi": _ratio(profit, cost),
        "profit": profit,
        "payback_days": _payback_days(daily, margin, start),
        "referral_share": _ratio(referred_buyers, n_buyers),
        "k_factor": _k_factor(run, buyers),
        "referral_contacts": int((log.contacts["time"] >= start).sum()),
        **_seller_kpis(run),
        **_by_channel(run, ids),
    }


def _payback_days(daily: pd.DataFrame, margin: float, start: float) -> float:
    """Days from the window's start until margin on revenue has paid for all costs so far."""
    balance = (margin * daily["revenue"] - daily["cost"]).cumsum().to_numpy()
    paid_back = np.flatnonzero(balance >= 0.0)
    if not len(paid_back):
        return math.nan
    return float(daily.index[paid_back[0]] + 1 - start)


def _by_channel(run: Run, buyer_ids: np.ndarray) -> dict[str, float]:
    """Per channel: CAC, LTV and LTV:CAC of the buyers it brought (referred ones: referral).

    Customers who joined outside the funnel (channel "cohort") were not acquired: no row.
    """
    cac = _cac_by_channel(run, buyer_ids)
    ltv = _ltv_by_channel(run, buyer_ids)
    out = {}
    for channel in run.log.channels:
        if channel == "cohort":
            continue
        out[f"cac_{channel}"] = cac[channel]
        out[f"ltv_{channel}"] = ltv[channel]
        out[f"ltv_cac_{channel}"] = _ratio(ltv[channel], cac[channel])
    return out


def _ltv_by_channel(run: Run, buyer_ids: np.ndarray) -> dict[str, float]:
    """Per channel: margin on its buyers' revenue over its buyers, as the total LTV counts it.

    The buyer-weighted mean of the channels' LTVs is the total LTV.
    """
    log = run.log
    came_by = log.prospects["channel"][buyer_ids]
    purchases = log.purchases
    out = {}
    for code, channel in enumerate(log.channels):
        ids = buyer_ids[came_by == code]
        revenue = float(purchases["value"][np.isin(purchases["customer"], ids)].sum())
        if log.level_moves is not None:
            revenue += ladder_money(run, log.warmup_days, ids)
        margin = blended_margin(run, log.warmup_days, ids)
        out[channel] = _ratio(margin * revenue, len(ids))
    return out


def _cac_by_channel(run: Run, buyer_ids: np.ndarray) -> dict[str, float]:
    """Per channel: its own spend in the window over the buyers it brought."""
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
        out[channel] = _ratio(spend, won)
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
    log = run.log
    start, end = _window(run)
    v = log.visits
    worked = [FUNNEL.index(stage) for stage in run.scenario.worked]
    at_worked = np.isin(v["stage"], worked)
    entered = (v["enter"] >= start) & at_worked
    served = np.isfinite(v["wait"])  # follow-ups after the sale hold seats too
    # seller time inside the window, also for work that began before the warm-up ended
    busy_from = np.maximum(v["enter"][served] + v["wait"][served], start)
    busy_to = np.where(np.isnan(v["exit"][served]), end, v["exit"][served])
    busy = float(np.clip(busy_to - busy_from, 0.0, None).sum())
    cold = v["outcome"] == FIRST_REASON + log.reasons.index(WENT_COLD)
    waits = v["wait"][np.isfinite(v["wait"]) & entered].astype(float)
    seat_days = log.seats * (end - start)
    if log.seller_days:  # a team that changes: only the days each seller was there
        seat_days = float(np.dot(log.seller_capacity, log.seller_days))
    return {
        "seller_utilization": _ratio(busy, seat_days),
        "mean_wait_days": float(waits.mean()) if len(waits) else math.nan,
        "lost_waiting": int((cold & entered).sum()),
        "follow_ups_missed": sum(log.follow_ups_missed),
        "leads_to_sellers": int(entered.sum()),
    }
