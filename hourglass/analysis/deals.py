"""B2B deals from the event log: cycles, where deals die by role, and each channel's win rate.

Pure functions, counted over deals that reached the committee's stage in the window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hourglass.analysis.intervals import wilson
from hourglass.log import AGREED, FIRST_REASON, INSIDE, OVERRULED, PASSED, REFUSED, Run
from hourglass.stages import FUNNEL, REFUSED_BY

DEAL_COLUMNS = (
    "rep",
    "deal",
    "channel",
    "arrival",
    "entered",
    "closed",
    "outcome",
    "reason",
    "ended_by",
    "cycle_days",
    "people_asked",
)


def deal_table(runs: Run | Sequence[Run]) -> pd.DataFrame:
    """One row per deal that entered the committee's stage in the window.

    `outcome` is won, lost or open (at the horizon); `ended_by` names the role whose refusal
    ended a lost deal ("" if the stage itself lost it); `cycle_days` runs from the first
    contact to the decision; `people_asked` counts the committee's answers.
    """
    runs = [runs] if isinstance(runs, Run) else list(runs)
    frames = [_deals_of(i, run) for i, run in enumerate(runs)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=DEAL_COLUMNS)


def _deals_of(index: int, run: Run) -> pd.DataFrame:
    log, committee = run.log, run.scenario.committee
    if committee is None or log.answers is None:
        raise ValueError(f"scenario '{run.scenario.name}' has no committee (B2B mode)")
    v = log.visits
    at = (v["stage"] == FUNNEL.index(committee.stage)) & (v["enter"] >= log.warmup_days)
    deal, outcome = v["prospect"][at], v["outcome"][at]
    reasons = np.array(["", "", *log.reasons], dtype=object)[outcome]
    ended_by = np.array(
        [r.removeprefix(REFUSED_BY) if r.startswith(REFUSED_BY) else "" for r in reasons],
        dtype=object,
    )
    arrival = log.prospects["arrival"][deal]
    asked = np.bincount(log.answers["deal"], minlength=len(log.prospects["arrival"]))
    return pd.DataFrame(
        {
            "rep": index,
            "deal": deal,
            "channel": np.array(log.channels, dtype=object)[log.prospects["channel"][deal]],
            "arrival": arrival,
            "entered": v["enter"][at],
            "closed": v["exit"][at],
            "outcome": np.select(
                [outcome == PASSED, outcome == INSIDE], ["won", "open"], default="lost"
            ),
            "reason": np.where(outcome >= FIRST_REASON, reasons, ""),
            "ended_by": ended_by,
            "cycle_days": v["exit"][at] - arrival,
            "people_asked": asked[deal],
        }
    )


def role_table(runs: Run | Sequence[Run]) -> pd.DataFrame:
    """Where deals die, per committee role, in the scenario's order.

    For each role: deals that reached it, people asked and their answers, deals it ended, its share
    of the deals the committee ended, and the share of deals reaching it that it let through.

    Counts are means per run.
    """
    runs = [runs] if isinstance(runs, Run) else list(runs)
    deals = deal_table(runs)
    n_roles = len(runs[0].log.roles)
    counts = np.zeros((n_roles, len(ROLE_COUNTS)), dtype=np.int64)
    for i, run in enumerate(runs):
        a = run.log.answers
        mine = np.isin(a["deal"], deals["deal"][deals["rep"] == i])
        role, deal, answer = a["role"][mine], a["deal"][mine], a["answer"][mine]
        reached = np.unique(np.stack([role.astype(np.int64), deal]), axis=1)[0]
        counts[:, 0] += np.bincount(reached, minlength=n_roles)
        counts[:, 1] += np.bincount(role, minlength=n_roles)
        for column, code in ((2, AGREED), (3, OVERRULED), (4, REFUSED)):
            counts[:, column] += np.bincount(role[answer == code], minlength=n_roles)
    rows = pd.DataFrame(counts, columns=list(ROLE_COUNTS))
    rows.insert(0, "role", list(runs[0].log.roles))
    return pooled_roles(rows, len(runs))


ROLE_COUNTS = ("deals_reached", "asked", "agreed", "overruled", "ended")


def pooled_roles(counts: pd.DataFrame, runs: int) -> pd.DataFrame:
    """Role counts summed over `runs` runs, as means per run, with shares of the pooled counts.

    `counts` has one row per role and run, or per role. The shares are of the deals the committee
    ended, and of the deals reaching each role that it let through.
    """
    table = counts.groupby("role", sort=False)[list(ROLE_COUNTS)].sum().reset_index()
    all_ended = table["ended"].sum()
    table["share_of_ended"] = table["ended"] / all_ended if all_ended else 0.0
    table["let_through"] = 1.0 - table["ended"] / table["deals_reached"].replace(0, np.nan)
    table[list(ROLE_COUNTS)] = table[list(ROLE_COUNTS)] / runs
    return table


def channel_table(deals: pd.DataFrame, runs: int = 1) -> pd.DataFrame:
    """Per channel, from a deal table of `runs` runs: deals, win rate and the cycle of won deals.

    Deals, won, lost and open are means per run; the win rate of decided deals comes with its 95%
    Wilson interval (pooled over runs); the cycle of won deals is in days.
    """
    n_runs = runs
    rows = []
    for channel, group in deals.groupby("channel", sort=False):
        won = int((group["outcome"] == "won").sum())
        lost = int((group["outcome"] == "lost").sum())
        rate = wilson(won, won + lost)
        cycles = group["cycle_days"][group["outcome"] == "won"]
        rows.append(
            {
                "channel": channel,
                "deals": len(group) / n_runs,
                "won": won / n_runs,
                "lost": lost / n_runs,
                "open": int((group["outcome"] == "open").sum()) / n_runs,
                "win_rate": rate.value,
                "win_rate_low": rate.low,
                "win_rate_high": rate.high,
                "cycle_mean_days": float(cycles.mean()) if len(cycles) else math.nan,
                "cycle_p50_days": float(cycles.median()) if len(cycles) else math.nan,
                "cycle_p90_days": float(cycles.quantile(0.9)) if len(cycles) else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=CHANNEL_COLUMNS)


def deal_summary(deals: pd.DataFrame, runs: int = 1) -> dict[str, float]:
    """Deals per run, win rate, median cycle of won deals and people asked per deal.

    From a deal table of `runs` runs; the win rate counts decided deals, the cycle is in days,
    and a number with nothing to measure is NaN.
    """
    outcome = deals["outcome"]
    decided = outcome[outcome != "open"]
    won = deals["cycle_days"][outcome == "won"]
    return {
        "deals_per_run": len(deals) / runs,
        "win_rate": float((decided == "won").mean()) if len(decided) else math.nan,
        "won_cycle_p50_days": float(won.median()) if len(won) else math.nan,
        "people_asked": float(deals["people_asked"].mean()) if len(deals) else math.nan,
    }


CHANNEL_COLUMNS = (
    "channel",
    "deals",
    "won",
    "lost",
    "open",
    "win_rate",
    "win_rate_low",
    "win_rate_high",
    "cycle_mean_days",
    "cycle_p50_days",
    "cycle_p90_days",
)
