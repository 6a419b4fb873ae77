"""The calibrated scenario's sales team: the export's sellers as named sellers of one role.

A seller's skill at a worked stage is the seller's pass probability over the team's (the
stage's, every deal pooled), so that in the scenario the seller passes the stage at the
seller's own rate. Its interval holds the doubt in the team's rate as well as in the
seller's (`skill`). The scenario gets the skill only where the
seller's difference from the rest of the team is significant (sellers.py); elsewhere the
seller keeps 1.0, the team's rate. Leads are routed by weight (`routing: weighted`), each
seller's share their observed share of the deals (`deal_share`, reported with its Wilson
interval). The export says nothing of how many leads a seller can hold: each seller may
hold HEADROOM times the most deals any seller held at once in the data, so that leads
seldom wait for a seller on top of the stage times the data show (those already hold any
wait), and a lead's chance of each seller is then their share.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from hourglass.analysis.intervals import Z95, Estimate, wilson
from hourglass.calibration.estimators import FEW
from hourglass.config.gaps import Gap
from hourglass.stages import FUNNEL, SELLER_BESIDE

if TYPE_CHECKING:
    from hourglass.calibration.fit import Calibration

ROLE = "sellers"
"""The one role the calibrated sellers fill."""
HEADROOM = 4
"""Each calibrated seller may hold this many times the most deals a seller held at once."""
LEADS_AT_ONCE = 1000
"""The most leads a seller may hold at once in a scenario."""
SKILL_RANGE = (0.01, 10.0)
"""A skill is written within these bounds (the scenario's)."""
LONGEST_NAME = 40
"""The longest seller name a scenario takes."""
SELLER_STAGE = {beside: stage for stage, beside in SELLER_BESIDE.items()}
"""Funnel stage -> the seller stage beside it."""


def skill(cal: Calibration, seller: str, stage: str) -> Estimate | None:
    """A seller's pass probability at a stage over the team's, with its 95% interval.

    The team's rate holds the seller's own visits, and the more of them an export has, the
    nearer the team's rate is to the seller's: the two estimates are correlated. A delta
    method on the seller's and the rest's rates, at the seller's share of the visits as
    observed, leaves out that the share itself varies, and its intervals held the truth
    in 92.8% of 600 (nominal 95%). The interval comes from a joint bootstrap of the
    stage's visits instead (`sellers.skill_draws`: both rates from the same weights), on
    the log scale where a ratio's spread is even: ratio exp(+-Z95 sd of the log ratios).
    With fewer than FEW decided visits, it is at least the seller's own interval (widened
    to Wilson's) over the team's rate.
    """
    fitted = next(s for s in cal.stages if s.stage == stage)
    team = fitted.pass_prob.value
    fits = next(s.stages for s in cal.sellers if s.seller == seller)
    if stage not in fits or not team > 0.0:
        return None
    mine = fits[stage]
    own = mine.fit.pass_prob
    ratio = own.value / team
    counted = Estimate(ratio, own.low / team, own.high / team)
    draws = mine.skill_draws
    logs = np.log(draws[np.isfinite(draws) & (draws > 0.0)]) if draws is not None else []
    if not ratio > 0.0 or len(logs) < 2:
        return counted
    spread = math.exp(Z95 * float(np.std(logs, ddof=1)))
    low, high = ratio / spread, ratio * spread
    if mine.fit.passed + mine.fit.lost < FEW:
        low, high = min(low, counted.low), max(high, counted.high)
    return Estimate(ratio, low, high)


def written_skill(cal: Calibration, seller: str, stage: str) -> float:
    """The multiplier the scenario gets: the skill where the difference is significant."""
    estimate = skill(cal, seller, stage)
    fits = next(s.stages for s in cal.sellers if s.seller == seller)
    if estimate is None or not math.isfinite(estimate.value):
        return 1.0
    if fits[stage].verdict not in ("better", "worse"):
        return 1.0
    return float(np.clip(estimate.value, *SKILL_RANGE))


def seller_dicts(cal: Calibration) -> dict[str, Any]:
    """Each seller's fit as plain data, each stage with its skill and the one written."""
    out = {}
    deals = _deals(cal)
    for fit in cal.sellers:
        data = fit.to_dict()
        share = wilson(deals[fit.seller], sum(deals.values()))
        data["deal_share"], data["deal_share_ci"] = share.value, [share.low, share.high]
        for stage, entry in data["stages"].items():
            estimate = skill(cal, fit.seller, stage)
            entry["skill"] = None if estimate is None else estimate.value
            entry["skill_ci"] = None if estimate is None else [estimate.low, estimate.high]
            entry["skill_written"] = written_skill(cal, fit.seller, stage)
        out[fit.seller] = data
    return out


def sales_section(cal: Calibration) -> dict[str, Any]:
    """The `sales` section: one role of the export's sellers, by name (none: no sellers)."""
    worked = [stage for stage in FUNNEL if stage in cal.sellers_alike_p]
    if not cal.sellers or not worked:
        return {}
    names = _scenario_names([s.seller for s in cal.sellers])
    deals = _deals(cal)
    sellers = []
    for fit, name in zip(cal.sellers, names, strict=True):
        own = {
            SELLER_STAGE[stage]: written_skill(cal, fit.seller, stage)
            for stage in worked
            if stage in fit.stages
        }
        entry: dict[str, Any] = {"name": name, "share": deals[fit.seller] / sum(deals.values())}
        skills = {stage: m for stage, m in own.items() if m != 1.0}
        if skills:
            entry["skill"] = skills
        sellers.append(entry)
    role = {
        "headcount": len(sellers),
        "leads_per_seller": _leads_at_once(cal, worked),
        "stages": [SELLER_STAGE[stage] for stage in worked],
        "sellers": sellers,
    }
    return {"sales": {"routing": "weighted", "roles": {ROLE: role}}}


def team_gaps(cal: Calibration) -> list[Gap]:
    """What the sales section assumes for lack of data, when the scenario has one."""
    section = sales_section(cal)
    if not section:
        return []
    role = section["sales"]["roles"][ROLE]
    shares = {s["name"]: s["share"] for s in role["sellers"]}
    return [Gap(part="team", leads=role["leads_per_seller"], headroom=HEADROOM, shares=shares)]


def _deals(cal: Calibration) -> dict[str, int]:
    """Deals per seller of the export, whatever their outcome."""
    return {f.seller: f.won + f.lost + f.open for f in cal.sellers}


def _leads_at_once(cal: Calibration, worked: list[str]) -> int:
    """HEADROOM times the most visits at worked stages any seller held open at once."""
    v = cal.deals.visits
    mine = v[(v["seller"] != "") & v["stage"].isin([FUNNEL.index(s) for s in worked])]
    held = 1
    for _name, group in mine.groupby("seller"):
        times = np.concatenate([group["entered"], group["left"].fillna(cal.deals.until)])
        steps = np.concatenate([np.ones(len(group)), -np.ones(len(group))])
        order = np.lexsort((steps, times))  # at equal times, a visit ends before one starts
        held = max(held, int(np.cumsum(steps[order]).max()))
    return min(HEADROOM * held, LEADS_AT_ONCE)


def _scenario_names(names: list[str]) -> list[str]:
    """The export's seller names, cut to a scenario's longest and kept apart."""
    out: list[str] = []
    for name in names:
        short = name.strip()[:LONGEST_NAME] or "?"
        n = 2
        while short in out:
            tail = f" {n}"
            short, n = name.strip()[: LONGEST_NAME - len(tail)] + tail, n + 1
        out.append(short)
    return out
