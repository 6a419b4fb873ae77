"""A run written out as a CRM would hold it: a deal-stage history and a transaction log."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hourglass.log import INSIDE, PASSED, Run
from hourglass.stages import FUNNEL


def export_deals(run: Run, start: str | pd.Timestamp = "2026-01-01") -> pd.DataFrame:
    """A run's stage visits as a deal-stage history in the shipped `hourglass` format.

    Each row names the seller who worked that visit, empty where no seller did.
    """
    log = run.log
    deal = log.visits["stage"] < len(FUNNEL)  # a follow-up after the sale is no deal stage
    v = {name: column[deal] for name, column in log.visits.items()}
    origin = pd.Timestamp(start)
    order = np.lexsort((v["stage"], v["prospect"]))
    who, stage, outcome = v["prospect"][order], v["stage"][order], v["outcome"][order]
    last = np.ones(len(who), dtype=bool)
    last[:-1] = who[1:] != who[:-1]
    ends = np.flatnonzero(last)
    final = outcome[ends[np.searchsorted(ends, np.arange(len(who)))]]
    result = np.where(final == INSIDE, "open", np.where(final == PASSED, "won", "lost"))
    reasons = np.array(["", "", *log.reasons], dtype=object)
    channel = np.array(log.channels, dtype=object)[log.prospects["channel"][who]]
    # index -1 (no seller worked the visit) picks the trailing empty name
    sellers = np.array([name for name, _role in log.sellers] + [""], dtype=object)
    return pd.DataFrame(
        {
            "deal_id": who,
            "stage": np.array(FUNNEL, dtype=object)[stage],
            "entered_at": _stamps(origin, v["enter"][order]),
            "left_at": _stamps(origin, v["exit"][order]),
            "outcome": result,
            "source": channel,
            "loss_reason": np.where(result == "lost", reasons[final], ""),
            "seller": sellers[v["seller"][order]],
        }
    )


def export_transactions(run: Run, start: str | pd.Timestamp = "2026-01-01") -> pd.DataFrame:
    """A run's purchases as a transaction log: customer_id, date, amount."""
    p = run.log.purchases
    order = np.lexsort((p["time"], p["customer"]))
    return pd.DataFrame(
        {
            "customer_id": p["customer"][order],
            "date": _stamps(pd.Timestamp(start), p["time"][order]),
            "amount": np.round(p["value"][order], 2),
        }
    )


def _stamps(origin: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    """Times to the second as text; empty where a time is missing."""
    stamps = origin + pd.to_timedelta(np.round(days * 86400.0), unit="s")
    return np.where(np.isnan(days), "", stamps.strftime("%Y-%m-%d %H:%M:%S"))
