"""The sales team person by person: each seller's and each role's leads, wins, losses and time.

Counted over the measurement window [warmup_days, horizon_days), as the other KPIs are: the
visits that began in it and the first purchases made in it. Per seller, the numbers sum to
the team's; a role's are the sum of its sellers'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hourglass.analysis.intervals import wilson
from hourglass.i18n import _
from hourglass.log import FIRST_REASON, INSIDE, PASSED, EventLog, Run
from hourglass.stages import FUNNEL, HOURGLASS, SELLER_BESIDE, WENT_COLD

SUMMED = (
    "capacity",
    "seat_days",
    "leads",
    "visits",
    "won",
    "lost",
    "inside",
    "revenue",
    "busy_days",
    "wait_days",
    "cycles",
    "cycle_days",
    "follow_ups_missed",
)
"""The seller table's columns that add up over sellers (to a role's, to the team's)."""

REPORTED = (
    "leads",
    "visits",
    "won",
    "lost",
    "revenue",
    "utilization",
    "mean_wait_days",
    "mean_cycle_days",
    "follow_ups_missed",
)
"""A seller's headline numbers, the ones `run --json` bands over replications."""


DEFAULT_NAME = re.compile(r"Seller (\d+)")
"""How the engine names the people of a team the scenario does not name."""


def seller_name(name: str) -> str:
    """A seller's name to show: the engine's default names in the reader's language."""
    numbered = DEFAULT_NAME.fullmatch(name)
    return _("Seller {number}").format(number=numbered[1]) if numbered else name


def role_name(role: str) -> str:
    """A sales role to show: the default role of an unnamed team in the reader's language."""
    return _("seller") if role == "seller" else role.replace("_", " ")


@dataclass(frozen=True)
class SellerReport:
    """One run's sales team, person by person (tables stack over replications with a `rep`)."""

    sellers: pd.DataFrame
    """One row per seller: who (`seller`, `name`, `role`) and the SUMMED columns, with
    `utilization`, `mean_wait_days` and `mean_cycle_days` derived from them."""
    stages: pd.DataFrame
    """One row per seller and stage the seller worked: visits, passed, lost, inside, and at
    Repeat and Refer the follow-ups and talks `missed` (routed to the seller, worked by no
    one)."""
    losses: pd.DataFrame
    """Losses while a seller worked the lead: seller, stage, reason, lost."""
    cold: pd.DataFrame
    """Leads that went cold waiting, by the role they waited for: role, stage, lost_waiting."""


def seller_report(run: Run) -> SellerReport:
    """Each seller's leads, visits, wins, losses, revenue, time and waits in one run.

    - leads: distinct prospects the seller worked in a visit that began in the window;
    - won and revenue: first purchases in the window, credited to the closer, the seller of
      the lead's last worked visit before buying (whoever worked the last worked stage), with
      the value of that first purchase;
    - lost: visits the seller worked that ended in a loss (any reason, disqualified included);
    - utilisation: the seller's busy seat-time inside the window over capacity x window
      (only the days they were on the team and not away, when the team changes);
    - mean wait: over the seller's visits, the time the lead waited before work began (a stage
      the same seller goes on working costs no wait);
    - cycle: per lead, from entering the seller's first visit to leaving the last, over leads
      whose visits with the seller have all ended;
    - follow-ups missed: those due in the window that no one worked within their patience,
      put down to the seller each was routed to (the first whose place came free).
    """
    log = run.log
    start, end = log.warmup_days, log.horizon_days
    v = log.visits
    served = v["seller"] >= 0
    counted = served & (v["enter"] >= start)
    n = len(log.sellers)
    who = v["seller"][counted].astype(np.int64)
    outcome = v["outcome"][counted]
    lost = outcome >= FIRST_REASON
    won, revenue = _closed(log, start, n)
    leads, cycles, cycle_days = _leads_and_cycles(log, counted, n)
    table = pd.DataFrame(
        {
            "seller": np.arange(n),
            "name": [name for name, _ in log.sellers],
            "role": [role for _, role in log.sellers],
            "capacity": np.asarray(log.seller_capacity, dtype=np.int64),
            "seat_days": np.asarray(log.seller_capacity, dtype=float)
            * (np.asarray(log.seller_days) if log.seller_days else end - start),
            "leads": leads,
            "visits": np.bincount(who, minlength=n),
            "won": won,
            "lost": np.bincount(who[lost], minlength=n),
            "inside": np.bincount(who[outcome == INSIDE], minlength=n),
            "revenue": revenue,
            "busy_days": _busy_days(log, served, n),
            "wait_days": np.bincount(who, weights=v["wait"][counted], minlength=n),
            "cycles": cycles,
            "cycle_days": cycle_days,
            "follow_ups_missed": np.asarray(log.follow_ups_missed or [0] * n, dtype=np.int64),
        }
    )
    return SellerReport(
        sellers=with_ratios(table),
        stages=_stage_rows(log, counted),
        losses=_loss_rows(log, counted),
        cold=_cold_rows(run),
    )


def with_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """The table with utilisation, mean wait and mean cycle worked out from its sums."""
    return table.assign(
        utilization=_share(table["busy_days"], table["seat_days"]),
        mean_wait_days=_share(table["wait_days"], table["visits"]),
        mean_cycle_days=_share(table["cycle_days"], table["cycles"]),
    )


def _share(num: pd.Series, den: pd.Series) -> pd.Series:
    return num.div(den.where(den > 0))


def _closed(log: EventLog, start: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per seller: first purchases in the window they closed, and those purchases' value."""
    v, p = log.visits, log.purchases
    served = np.flatnonzero((v["seller"] >= 0) & (v["stage"] < len(FUNNEL)))  # not follow-ups
    order = served[np.lexsort((v["enter"][served], v["prospect"][served]))]
    prospect = v["prospect"][order]
    last = np.ones(len(order), dtype=bool)  # each prospect's last worked visit
    last[:-1] = prospect[1:] != prospect[:-1]
    closer = pd.Series(v["seller"][order][last], index=prospect[last])
    first = (p["kind"] == 0) & (p["time"] >= start)
    by = closer.reindex(p["customer"][first]).to_numpy()
    credited = np.isfinite(by)
    sellers = by[credited].astype(np.int64)
    return (
        np.bincount(sellers, minlength=n),
        np.bincount(sellers, weights=p["value"][first][credited], minlength=n),
    )


def _leads_and_cycles(log: EventLog, counted: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """Per seller: distinct leads, the leads done with (all their visits ended), their days.

    A lead's days run from entering its first visit with the seller to leaving its last.
    """
    v = log.visits
    people = len(log.prospects["arrival"]) + 1
    pair = v["seller"][counted].astype(np.int64) * people + v["prospect"][counted]
    order = np.argsort(pair, kind="stable")
    keys, starts = np.unique(pair[order], return_index=True)
    seller = keys // people
    exits = v["exit"][counted][order]
    if not len(keys):
        return np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n)
    ended = np.logical_and.reduceat(np.isfinite(exits), starts)
    span = np.maximum.reduceat(exits, starts) - np.minimum.reduceat(
        v["enter"][counted][order], starts
    )
    return (
        np.bincount(seller, minlength=n),
        np.bincount(seller[ended], minlength=n),
        np.bincount(seller[ended], weights=span[ended], minlength=n),
    )


def _busy_days(log: EventLog, served: np.ndarray, n: int) -> np.ndarray:
    """Seat-time each seller spent working inside the window, also on work begun before it."""
    v = log.visits
    start, end = log.warmup_days, log.horizon_days
    began = np.maximum(v["enter"][served] + v["wait"][served], start)
    until = np.where(np.isnan(v["exit"][served]), end, v["exit"][served])
    busy = np.clip(until - began, 0.0, None)
    return np.bincount(v["seller"][served].astype(np.int64), weights=busy, minlength=n)


def _stage_rows(log: EventLog, counted: np.ndarray) -> pd.DataFrame:
    """Per seller and stage they worked: visits, passed, lost, still inside, missed.

    Missed follow-ups are the seller's at Repeat, the stage a follow-up visits; missed
    referral talks at Refer.
    """
    v = log.visits
    stages = len(HOURGLASS)  # follow-ups are visits to Repeat
    cell = v["seller"][counted].astype(np.int64) * stages + v["stage"][counted]
    size = len(log.sellers) * stages
    outcome = v["outcome"][counted]
    counts = {
        "visits": np.bincount(cell, minlength=size),
        "passed": np.bincount(cell[outcome == PASSED], minlength=size),
        "lost": np.bincount(cell[outcome >= FIRST_REASON], minlength=size),
        "inside": np.bincount(cell[outcome == INSIDE], minlength=size),
        "missed": np.zeros(size, dtype=np.int64),
    }
    first = np.arange(len(log.sellers)) * stages
    for stage, missed in (("repeat", log.follow_ups_missed), ("refer", log.talks_missed)):
        if missed:
            counts["missed"][first + HOURGLASS.index(stage)] = missed
    worked = np.flatnonzero(counts["visits"] + counts["missed"])
    return pd.DataFrame(
        {
            "seller": worked // stages,
            "stage": np.asarray(HOURGLASS)[worked % stages],
            **{name: column[worked] for name, column in counts.items()},
        }
    )


def _loss_rows(log: EventLog, counted: np.ndarray) -> pd.DataFrame:
    """Per seller, stage and reason: the leads lost while the seller worked them."""
    v = log.visits
    lost = counted & (v["outcome"] >= FIRST_REASON)
    stages, reasons = len(HOURGLASS), len(log.reasons)
    cell = v["seller"][lost].astype(np.int64) * stages + v["stage"][lost]
    cell = cell * reasons + v["outcome"][lost] - FIRST_REASON
    cells, counts = np.unique(cell, return_counts=True)
    return pd.DataFrame(
        {
            "seller": cells // (stages * reasons),
            "stage": np.asarray(HOURGLASS)[cells // reasons % stages],
            "reason": np.asarray(log.reasons)[cells % reasons],
            "lost": counts,
        }
    )


def _cold_rows(run: Run) -> pd.DataFrame:
    """Leads lost waiting, by stage, put down to the role the scenario gives the stage."""
    log, v = run.log, run.log.visits
    columns = ["role", "stage", "lost_waiting"]
    if WENT_COLD not in log.reasons or run.scenario.sales is None:
        return pd.DataFrame(columns=columns)
    role_of = {
        SELLER_BESIDE[stage]: role
        for role, people in run.scenario.sales.team.items()
        for stage in people.stages
    }
    went_cold = FIRST_REASON + log.reasons.index(WENT_COLD)
    cold = (v["outcome"] == went_cold) & (v["enter"] >= log.warmup_days)
    stages, counts = np.unique(v["stage"][cold], return_counts=True)
    rows = [(role_of[FUNNEL[k]], FUNNEL[k], int(n)) for k, n in zip(stages, counts, strict=True)]
    return pd.DataFrame(rows, columns=columns)


def seller_table(report: SellerReport, reps: int = 1) -> pd.DataFrame:
    """Per seller, in the team's order: the sums (mean per run over `reps`) and ratios."""
    table = report.sellers.groupby(["seller", "name", "role"], sort=True)[list(SUMMED)].sum()
    return with_ratios(table.div(reps).reset_index())


def sales_roles(report: SellerReport, reps: int = 1) -> pd.DataFrame:
    """Per role, in the team's order: its sellers' sums (mean per run), ratios, lost waiting."""
    table = report.sellers
    order = list(dict.fromkeys(table["role"]))
    sums = table.groupby("role", sort=False)[list(SUMMED)].sum() / reps
    sums["sellers"] = table.groupby("role", sort=False)["seller"].nunique()
    cold = report.cold.groupby("role")["lost_waiting"].sum() / reps
    sums["lost_waiting"] = cold.reindex(sums.index, fill_value=0)
    return with_ratios(sums.loc[order].reset_index())


def stage_conversion(report: SellerReport, by: str = "seller") -> pd.DataFrame:
    """Conversion per seller, role or the whole team (`by`) and stage, with 95% Wilson intervals.

    Conversion is passed / (passed + lost + missed) over the visits worked and the follow-ups
    missed, pooled over replications: at Repeat, the share of follow-ups owed that were done.
    Rows come in the team's order, then in the stages' order.
    """
    who = {"seller": ["seller", "name", "role"], "role": ["role"], "team": []}[by]
    team = report.sellers[["seller", "name", "role"]].drop_duplicates("seller")
    rows = report.stages.merge(team, on="seller")
    rank = {stage: k for k, stage in enumerate(HOURGLASS)}
    rows = rows.assign(
        order=rows[who[0]].map({x: i for i, x in enumerate(dict.fromkeys(team[who[0]]))})
        if who
        else 0,
        rank=rows["stage"].map(rank),
    )
    keys = ["order", *who, "rank", "stage"]
    counted = ["visits", "passed", "lost", "inside", "missed"]
    pooled = rows.groupby(keys)[counted].sum().reset_index()
    decided = pooled["passed"] + pooled["lost"] + pooled["missed"]
    intervals = [wilson(int(p), int(d)) for p, d in zip(pooled["passed"], decided, strict=True)]
    return pooled.drop(columns=["order", "rank"]).assign(
        conversion=[e.value for e in intervals],
        low=[e.low for e in intervals],
        high=[e.high for e in intervals],
    )


def stacked(reports: list[tuple[int, SellerReport]]) -> SellerReport:
    """Replications' reports as one, each row marked with its replication's `rep`."""

    def stack(tables: list[pd.DataFrame]) -> pd.DataFrame:
        marked = [t.assign(rep=rep) for (rep, _), t in zip(reports, tables, strict=True)]
        return pd.concat(marked, ignore_index=True)

    return SellerReport(
        *(stack([getattr(r, name) for _, r in reports]) for name in SellerReport.__annotations__)
    )


def seller_records(report: SellerReport, reps: int) -> list[dict]:
    """Each seller as a record: who, the REPORTED numbers and `by_stage`.

    Over replications each number is its mean, p5 and p95 across them; the stages' counts are
    means per run and their conversions pooled.
    """
    records = []
    stages = stage_conversion(report)
    losses = report.losses.groupby(["seller", "stage", "reason"])["lost"].sum() / reps
    for seller, rows in report.sellers.groupby("seller", sort=True):
        first = rows.iloc[0]
        record = {"name": first["name"], "role": first["role"], "capacity": int(first["capacity"])}
        for column in REPORTED:
            values = rows[column]
            record[column] = values.iloc[0].item() if reps == 1 else _band(values.to_numpy(float))
        mine = stages[stages["seller"] == seller]
        record["by_stage"] = {
            row.stage: {
                **{k: getattr(row, k) / reps for k in ("visits", "passed", "lost", "inside")},
                **({"missed": row.missed / reps} if row.stage in ("repeat", "refer") else {}),
                **{k: getattr(row, k) for k in ("conversion", "low", "high")},
                "lost_by_reason": dict(losses[seller][row.stage].items())
                if (seller, row.stage) in losses.index.droplevel("reason")
                else {},
            }
            for row in mine.itertuples()
        }
        records.append(record)
    return records


def _band(values: np.ndarray) -> dict[str, float]:
    """Mean, 5th and 95th percentiles, NaNs left out."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return dict.fromkeys(("mean", "p5", "p95"), float("nan"))
    p5, p95 = np.percentile(finite, [5, 95])
    return {"mean": float(finite.mean()), "p5": float(p5), "p95": float(p95)}


def role_records(report: SellerReport, reps: int) -> list[dict]:
    """Each role as a record: its sellers' sums, utilisation, waits and what it lost.

    What it lost: leads lost waiting and follow-ups missed. Over replications each number is
    its mean, p5 and p95 across them.
    """
    shown = ["role", "sellers", "leads", "visits", "won", "lost", "revenue", "utilization"]
    columns = [*shown, "mean_wait_days", "lost_waiting", "follow_ups_missed"]
    records = sales_roles(report, reps)[columns].to_dict("records")
    if reps == 1:
        return records
    by_rep = _roles_by_rep(report)
    for record in records:
        runs = by_rep[by_rep["role"] == record["role"]]
        for column in columns[2:]:
            record[column] = _band(runs[column].to_numpy(float))
    return records


def _roles_by_rep(report: SellerReport) -> pd.DataFrame:
    """Per replication and role: its sellers' sums, ratios and leads lost waiting."""
    keys = ["rep", "role"]
    sums = report.sellers.groupby(keys)[list(SUMMED)].sum()
    cold = report.cold.groupby(keys)["lost_waiting"].sum() if len(report.cold) else None
    sums["lost_waiting"] = 0 if cold is None else cold.reindex(sums.index, fill_value=0)
    return with_ratios(sums.reset_index())


@dataclass(frozen=True)
class Standout:
    """The seller who converts best at a stage, against the rest of the team."""

    name: str
    stage: str
    gap: float
    """The seller's conversion minus the rest of the team's (a share: 0.12 is 12 points)."""
    low: float
    high: float
    """The gap's interval (Newcombe's hybrid score interval, from Wilson intervals), at 95%
    for the best of all N sellers together (Bonferroni: each at 1 - 0.05/N)."""


def standout(report: SellerReport, stage: str) -> Standout | None:
    """The seller with the highest conversion at `stage`, against the others pooled.

    None if fewer than two sellers decided leads there. The best of N sellers looks better
    than they are by chance alone, so the gap's interval is Bonferroni's: both Wilson
    intervals, and so the gap's, at 1 - 0.05/N instead of 95%.
    """
    rows = stage_conversion(report).query("stage == @stage and passed + lost + missed > 0")
    if len(rows) < 2:
        return None
    confidence = 1.0 - 0.05 / len(rows)
    decided = rows["passed"] + rows["lost"] + rows["missed"]
    best = rows.loc[rows["conversion"].idxmax()]
    mine_low, mine_high = _wilson_at(int(best["passed"]), int(decided[best.name]), confidence)
    passed = int(rows["passed"].drop(index=best.name).sum())
    others = int(decided.drop(index=best.name).sum())
    theirs = passed / others
    low, high = _wilson_at(passed, others, confidence)
    gap = best["conversion"] - theirs
    below = np.hypot(best["conversion"] - mine_low, high - theirs)
    above = np.hypot(mine_high - best["conversion"], theirs - low)
    return Standout(str(best["name"]), stage, float(gap), float(gap - below), float(gap + above))


def _wilson_at(hits: int, n: int, confidence: float) -> tuple[float, float]:
    """The Wilson score interval of `hits` in `n` at `confidence`."""
    from scipy import stats  # half a second to import, and only standouts need it

    interval = stats.binomtest(hits, n).proportion_ci(confidence, method="wilson")
    return float(interval.low), float(interval.high)
