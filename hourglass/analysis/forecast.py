"""A forecast by calendar month: daily series cut to a horizon, money planned, and K-factor.

The K-factor here counts, per buyer, the buyers they referred within a fixed window after
their own first purchase (REFERRAL_WINDOW_DAYS), so it does not grow with the horizon. A
month's buyers whose window runs past the simulated horizon are right-censored: their
K-factor so far is a lower bound.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from hourglass.config.budgets import budget_lines, line_spend_per_day, pay_per_day
from hourglass.config.scenario import Scenario
from hourglass.stages import DAYS_PER_MONTH

REFERRAL_WINDOW_MONTHS = 6
REFERRAL_WINDOW_DAYS = REFERRAL_WINDOW_MONTHS * DAYS_PER_MONTH
"""The window after a first purchase in which a buyer's referrals count (six months)."""
SELLERS = "sellers"
"""The spend line of the sales team's pay."""


def next_month_start(today: datetime.date) -> datetime.date:
    """The first day of the month after `today`: where an undated forecast starts."""
    return (pd.Timestamp(today) + pd.offsets.MonthBegin(1)).date()


def referrals_in_window(
    referrer_bought: np.ndarray, referred_bought: np.ndarray, days: int, window_days: float
) -> np.ndarray:
    """Per day: referred buyers who bought within `window_days` of their referrer's first purchase.

    Counted on the day the referrer first bought; the two arrays hold, per referred buyer,
    the referrer's and the referred buyer's first-purchase times in days.
    """
    within = np.asarray(referred_bought) - np.asarray(referrer_bought) <= window_days
    cohort = np.asarray(referrer_bought)[within].astype(np.int64)
    return np.bincount(cohort, minlength=days)[:days]


def calendar_months(daily: pd.DataFrame, start: datetime.date, days: int) -> pd.DataFrame:
    """Per replication and calendar month of the first `days` days: buyers, money, customers.

    `daily` holds daily tables stacked with `rep` and `day` columns. Columns: buyers,
    revenue, referred buyers, the buyers referred within the window (`brought_in_window`),
    active customers at the month's end, the month's first day (`month`) and `days` in it.
    """
    frame = daily[daily["day"] < days]
    month = (pd.Timestamp(start) + pd.to_timedelta(frame["day"], unit="D")).dt.to_period("M")
    grouped = frame.assign(month=month).groupby(["rep", "month"])
    out = grouped[["buyers", "revenue", "referred_buyers", "brought_in_window"]].sum()
    out["active_customers"] = grouped["active_customers"].last()
    out["days"] = grouped["day"].count()
    return out.reset_index()


def monthly_k_factor(
    months: pd.DataFrame, start: datetime.date, simulated_days: float
) -> pd.DataFrame:
    """Per replication and month: the window K-factor of its buyers, and whether it is complete.

    `months` is `calendar_months`' table; a month is complete when its last buyer's window
    ends by `simulated_days`, the horizon the referrals were counted to.
    """
    last_day = (months["month"].dt.end_time.dt.normalize() - pd.Timestamp(start)).dt.days
    buyers = months["buyers"].where(months["buyers"] > 0)
    return months[["rep", "month"]].assign(
        k_factor=months["brought_in_window"] / buyers,
        complete=last_day + 1 + REFERRAL_WINDOW_DAYS <= simulated_days,
    )


def pooled_k_factor(months: pd.DataFrame, k: pd.DataFrame) -> pd.Series:
    """Per replication: referrals in the window per buyer, over the complete months only."""
    done = months[k["complete"].to_numpy()]
    sums = done.groupby("rep")[["brought_in_window", "buyers"]].sum()
    per_rep = sums["brought_in_window"] / sums["buyers"].where(sums["buyers"] > 0)
    return per_rep.reindex(months["rep"].unique())


def monthly_spend(scenario: Scenario, start: datetime.date, days: int) -> pd.DataFrame:
    """Planned money per calendar month of the first `days` days, one column per line.

    The lines are the paid channels and levers with a budget, then the sellers' pay.
    """
    spend = {line: line_spend_per_day(scenario, line, days) for line in budget_lines(scenario)}
    if scenario.sales is not None and scenario.sales.pay_per_month:
        spend[SELLERS] = pay_per_day(scenario, days)
    dates = pd.date_range(pd.Timestamp(start), periods=days, freq="D")
    frame = pd.DataFrame(spend, index=dates.to_period("M"))
    return frame.groupby(level=0).sum().rename_axis("month").reset_index()


def expected_months(daily: dict[str, np.ndarray], start: datetime.date, days: int) -> pd.DataFrame:
    """An expectation day by day, per calendar month of the first `days` days.

    `daily` is `hourglass.theory.expected_daily`'s: arrays of at least `days` days. Columns:
    `month`, `active_customers` at the month's end and `revenue` in the month.
    """
    month = pd.date_range(pd.Timestamp(start), periods=days, freq="D").to_period("M")
    frame = pd.DataFrame(
        {"active_customers": daily["active_customers"][:days], "revenue": daily["revenue"][:days]},
        index=month,
    )
    grouped = frame.groupby(level=0)
    out = pd.DataFrame(
        {
            "active_customers": grouped["active_customers"].last(),
            "revenue": grouped["revenue"].sum(),
        }
    )
    return out.rename_axis("month").reset_index()


FORECAST_MEASURES = ("repeat_purchases", "active_customers", "revenue")
"""What a customer forecast shows month by month."""


def forecast_table(doc: dict) -> pd.DataFrame:
    """A customer forecast's months as numbers: each measure's bands and actual figure.

    `doc` is `hourglass.forecasting.Forecast.to_dict()`'s. Columns: `month` ("YYYY-MM"),
    and per measure `<measure>_mean`, `_p5`, `_p50`, `_p95` and `_actual` (NaN where the
    log does not cover the month).
    """
    rows = []
    for month in doc["monthly"]:
        row: dict = {"month": month["month"]}
        for measure in FORECAST_MEASURES:
            row |= {f"{measure}_{stat}": value for stat, value in month[measure].items()}
            row[f"{measure}_actual"] = month.get(f"actual_{measure}", np.nan)
        rows.append(row)
    return pd.DataFrame(rows)
