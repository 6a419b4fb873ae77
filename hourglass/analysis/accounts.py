"""Key accounts: each customer's worth to us and our worth to them, the four kinds, the whale curve.

Every customer who first bought in the measurement window is placed on two axes, each a
number from 0 to 1:

- **attractiveness to us**: the mean of three percentile ranks among the customers: revenue
  (purchases and service fees), margin after cost to serve (`profit`: margin x revenue minus
  the cost to serve the customer, flat and by service level) and `growth` (revenue per month
  in the second half of the customer's time with us minus that in the first half);
- **our attractiveness to them**: the mean of the share of wallet and the loyalty score.
  The share of wallet is the service level held at the horizon over the ladder's top level
  ((k + 1) / levels; 0 once the customer has left the service); a scenario without a
  service ladder has none, and the loyalty score alone counts. The loyalty score is the
  customer's last loyalty class: one_time 0.2, regular 0.4, loyal 0.6, committed 0.8, fan 1,
  temporarily_lost 0.1, former and antagonist 0.

The four kinds (V. and D. Kevorkov) split both axes at KIND_THRESHOLD: key (high, high),
developing key (attractive to us, not yet won: high, low), maintained (low, high) and
occasional (low, low). The whale curve (Kaplan and Narayanan 2001) is the cumulative profit of
customers ranked from the most profitable down; it ends at the total customer profit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hourglass.analysis.ladder_money import level_rates, level_spells, margins, segments_of
from hourglass.analysis.stages import first_purchases
from hourglass.i18n import _
from hourglass.log import Run
from hourglass.stages import ACTIVE_CLASSES, DAYS_PER_MONTH

KINDS: tuple[str, ...] = ("key", "developing_key", "maintained", "occasional")
"""The four kinds of client, from the most valued relationship down."""

KIND_THRESHOLD = 0.5
"""Where each axis splits into high and low: the median rank on ours, half way on theirs."""

LOYALTY_SCORE = {
    "one_time": 0.2,
    "regular": 0.4,
    "loyal": 0.6,
    "committed": 0.8,
    "fan": 1.0,
    "temporarily_lost": 0.1,
    "former": 0.0,
    "antagonist": 0.0,
}
"""How much each loyalty class says the customer values us, from 0 to 1."""

TOP_SHARE = 0.2
"""The share of customers, the most profitable, whose share of the profit is reported."""

WHALE_POINTS = 20
"""Points of the whale curve each run's summary keeps (every 5% of customers), for bands."""


def kind_label(kind: str) -> str:
    """A kind of client's name in the active language."""
    return {
        "key": _("key"),
        "developing_key": _("developing key"),
        "maintained": _("maintained"),
        "occasional": _("occasional"),
    }[kind]


def loyalty_label(klass: str) -> str:
    """A loyalty class's name in the active language (G. Chernovalova's classes)."""
    return {
        "one_time": _("one-time"),
        "regular": _("regular"),
        "loyal": _("loyal"),
        "committed": _("committed"),
        "fan": _("fan"),
        "temporarily_lost": _("temporarily lost"),
        "former": _("former"),
        "antagonist": _("antagonist"),
    }[klass]


def accounts_record(summaries: pd.DataFrame) -> dict | None:
    """Key accounts as `run --json` gives them, means over runs; None if no one bought.

    `summaries` holds one `accounts_summary` per run.
    """
    if summaries.empty or not summaries["customers"].mean():
        return None
    mean = summaries.mean()
    fields = ("customers", "revenue", "cost_to_serve", "profit")
    return {
        "customers": float(mean["customers"]),
        "total_profit": float(mean["total_profit"]),
        "kinds": [
            {"kind": kind, **{f: float(mean[f"{kind}_{f}"]) for f in fields}} for kind in KINDS
        ],
        "whale": {k: float(mean[k]) for k in ("top20_share", "peak_share", "peak_at")},
    }


def customer_table(run: Run) -> pd.DataFrame:
    """One row per customer won in the window: money, growth, loyalty, segment, both axes, kind.

    The flat cost to serve is charged for the time spent in active loyalty classes, at the
    customer's segment's rate; a service level's for the time it is held.
    """
    buyers = first_purchases(run)
    ids = buyers["customer"].to_numpy()
    first = buyers["day"].to_numpy(float)
    horizon = run.log.horizon_days
    mid = (first + horizon) / 2.0
    pos = np.full(len(run.log.prospects["arrival"]), -1)
    pos[ids] = np.arange(len(ids))
    n = len(ids)
    revenue, late = _purchase_money(run, pos, mid, n)
    klass, active_days = _loyalty_of(run, pos, n)
    segment = run.log.prospects["segment"][ids].astype(np.int64)
    serve = active_days * _serving_rates(run)[segment] / DAYS_PER_MONTH
    wallet = np.full(n, np.nan)
    if run.log.level_moves is not None:
        fees, late_fees, level_cost, wallet = _ladder_of(run, pos, mid, n)
        revenue, late, serve = revenue + fees, late + late_fees, serve + level_cost
    half_months = (horizon - first) / 2.0 / DAYS_PER_MONTH
    table = pd.DataFrame(
        {
            "customer": ids,
            "first_day": first,
            "revenue": revenue,
            "cost_to_serve": serve,
            "profit": margins(run)[segment] * revenue - serve,
            "growth": (2.0 * late - revenue) / half_months,
            "loyalty": np.asarray(run.log.classes)[klass],
            "segment": np.asarray(run.log.segments or ("",), dtype=object)[segment],
            "share_of_wallet": wallet,
        }
    )
    return placed(table)


def _serving_rates(run: Run) -> np.ndarray:
    """The flat cost to serve an active customer per month, by segment (one without segments)."""
    after, segments = run.scenario.after_sale, run.scenario.segments or {}
    rates = [
        after.cost_to_serve_per_month
        if seg.cost_to_serve_per_month is None
        else seg.cost_to_serve_per_month
        for seg in segments.values()
    ]
    return np.array(rates or [after.cost_to_serve_per_month], dtype=float)


def placed(table: pd.DataFrame) -> pd.DataFrame:
    """Customers with both axes and their kind, from revenue, profit, growth, loyalty, wallet."""
    ranks = table[["revenue", "profit", "growth"]].rank(pct=True, method="average")
    loyalty = table["loyalty"].map(LOYALTY_SCORE).astype(float)
    wallet = table["share_of_wallet"]
    ours = ranks.mean(axis=1) if len(table) else pd.Series(dtype=float)
    theirs = loyalty.where(wallet.isna(), (loyalty + wallet) / 2.0)
    high_ours, high_theirs = ours >= KIND_THRESHOLD, theirs >= KIND_THRESHOLD
    kind = np.select(
        [high_ours & high_theirs, high_ours, high_theirs], list(KINDS[:3]), default=KINDS[3]
    )
    return table.assign(attractiveness_to_us=ours, attractiveness_to_them=theirs, kind=kind)


def _purchase_money(
    run: Run, pos: np.ndarray, mid: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: purchase revenue, and its part in the second half of their time."""
    p = run.log.purchases
    who = pos[p["customer"]]
    mine = who >= 0
    who, time, value = who[mine], p["time"][mine], p["value"][mine]
    revenue = np.bincount(who, weights=value, minlength=n)
    late = np.bincount(who, weights=value * (time >= mid[who]), minlength=n)
    return revenue, late


def _loyalty_of(run: Run, pos: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: the last loyalty class (code) and the days spent in active classes."""
    m = run.log.moves
    order = np.lexsort((m["time"], m["customer"]))
    who, when, klass = pos[m["customer"][order]], m["time"][order], m["klass"][order]
    same_next = np.append(m["customer"][order][1:] == m["customer"][order][:-1], False)
    leave = np.where(same_next, np.append(when[1:], np.inf), run.log.horizon_days)
    active = np.isin(np.asarray(run.log.classes)[klass], list(ACTIVE_CLASSES))
    mine = who >= 0
    days = np.bincount(who[mine], weights=((leave - when) * active)[mine], minlength=n)
    last = np.zeros(n, dtype=np.int64)
    ends = mine & ~same_next
    last[who[ends]] = klass[ends]
    return last, days


def _ladder_of(
    run: Run, pos: np.ndarray, mid: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per customer: service fees, their part in the second half, level costs, share of wallet."""
    spells = level_spells(run)
    who = pos[spells["customer"].to_numpy(np.int64)]
    mine = who >= 0
    who = who[mine]
    start, end = spells["start"].to_numpy(float)[mine], spells["end"].to_numpy(float)[mine]
    level = spells["level"].to_numpy(np.int64)[mine]
    segment = segments_of(run, spells["customer"].to_numpy(np.int64)[mine])
    value, cost = (rate[segment, level] for rate in level_rates(run))
    held = end - start
    late = np.clip(end - np.maximum(start, mid[who]), 0.0, None)
    fees = np.bincount(who, weights=held * value, minlength=n)
    late_fees = np.bincount(who, weights=late * value, minlength=n)
    level_cost = np.bincount(who, weights=held * cost, minlength=n)
    wallet = np.zeros(n)
    at_end = end >= run.log.horizon_days
    wallet[who[at_end]] = (level[at_end] + 1) / len(run.log.levels)
    return fees, late_fees, level_cost, wallet


def kind_table(customers: pd.DataFrame) -> pd.DataFrame:
    """Per kind of client, in KINDS order: customers, revenue, cost to serve and profit."""
    grouped = customers.groupby("kind")[["revenue", "cost_to_serve", "profit"]].sum()
    counts = customers["kind"].value_counts()
    table = grouped.reindex(list(KINDS), fill_value=0.0)
    table.insert(0, "customers", counts.reindex(list(KINDS), fill_value=0).astype(int))
    return table.rename_axis("kind").reset_index()


def whale_curve(customers: pd.DataFrame) -> pd.DataFrame:
    """Cumulative profit by customer rank, the most profitable first.

    Columns: rank (1 = the most profitable), share_of_customers, cumulative_profit and
    share_of_profit (cumulative profit over the total; NaN when the total is not positive).
    """
    profit = np.sort(customers["profit"].to_numpy(float))[::-1]
    cumulative = np.cumsum(profit)
    total = cumulative[-1] if len(cumulative) else 0.0
    rank = np.arange(1, len(profit) + 1)
    return pd.DataFrame(
        {
            "rank": rank,
            "share_of_customers": rank / max(len(profit), 1),
            "cumulative_profit": cumulative,
            "share_of_profit": cumulative / total if total > 0 else np.nan,
        }
    )


def whale_summary(curve: pd.DataFrame) -> dict[str, float]:
    """The whale curve's top-20% share, its peak share and where it peaks (share of customers)."""
    if not len(curve):
        return dict.fromkeys(("top20_share", "peak_share", "peak_at"), math.nan)
    top = curve.iloc[max(math.ceil(TOP_SHARE * len(curve)), 1) - 1]
    peak = curve.iloc[int(curve["cumulative_profit"].to_numpy().argmax())]
    return {
        "top20_share": float(top["share_of_profit"]),
        "peak_share": float(peak["share_of_profit"]),
        "peak_at": float(peak["share_of_customers"]),
    }


def accounts_summary(run: Run) -> dict[str, float]:
    """One run's key-account numbers, flat: per kind customers/revenue/profit, the whale curve."""
    customers = customer_table(run)
    out: dict[str, float] = {
        "customers": len(customers),
        "total_profit": float(customers["profit"].sum()),
    }
    for row in kind_table(customers).to_dict("records"):
        for field in ("customers", "revenue", "cost_to_serve", "profit"):
            out[f"{row['kind']}_{field}"] = float(row[field])
    curve = whale_curve(customers)
    out |= whale_summary(curve)
    out |= whale_points(curve)
    return out


def whale_points(curve: pd.DataFrame) -> dict[str, float]:
    """The whale curve's share of the profit at every 5% of customers (`whale_05`... `whale_100`).

    The share at a point between two customers is read on the straight line between them
    (NaN where the total profit is not positive, or nobody bought).
    """
    grid = np.arange(1, WHALE_POINTS + 1) / WHALE_POINTS
    if not len(curve) or curve["share_of_profit"].isna().any():
        shares = np.full(WHALE_POINTS, math.nan)
    else:
        x = np.concatenate(([0.0], curve["share_of_customers"].to_numpy(float)))
        y = np.concatenate(([0.0], curve["share_of_profit"].to_numpy(float)))
        shares = np.interp(grid, x, y)
    return {f"whale_{round(100 * g):02d}": float(s) for g, s in zip(grid, shares, strict=True)}


def whale_band(summaries: pd.DataFrame) -> pd.DataFrame:
    """The whale curve across runs: at every 5% of customers, the p5, median and p95 share.

    `summaries` holds one `accounts_summary` per run; runs whose customers made no profit
    (NaN shares) are left out. Starts at (0, 0); empty if no run made a profit.
    """
    columns = [c for c in summaries.columns if c.startswith("whale_")]
    shares = summaries[columns].dropna().to_numpy(float)
    if not len(shares):
        return pd.DataFrame(columns=["share_of_customers", "p5", "p50", "p95", "runs"])
    p5, p50, p95 = np.percentile(shares, [5, 50, 95], axis=0)
    return pd.DataFrame(
        {
            "share_of_customers": np.concatenate(([0.0], [int(c[6:]) / 100 for c in columns])),
            "p5": np.concatenate(([0.0], p5)),
            "p50": np.concatenate(([0.0], p50)),
            "p95": np.concatenate(([0.0], p95)),
            "runs": len(shares),
        }
    )


def share_bands(summaries: pd.DataFrame) -> pd.DataFrame:
    """The top 20%'s share, the peak share and where it peaks, across runs: mean, p5, p95.

    One row per number (`top20_share`, `peak_share`, `peak_at`); runs without a profit to
    share are left out of each.
    """
    rows = []
    for name in ("top20_share", "peak_share", "peak_at"):
        values = summaries[name].dropna().to_numpy(float)
        p5, p95 = np.percentile(values, [5, 95]) if len(values) else (math.nan, math.nan)
        mean = float(values.mean()) if len(values) else math.nan
        rows.append({"number": name, "mean": mean, "p5": float(p5), "p95": float(p95)})
    return pd.DataFrame(rows)
