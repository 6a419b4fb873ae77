"""Each seller's pass probability per stage, and which sellers pass a stage better or worse.

A visit counts for the seller its own rows name, else the seller the export last names on
the deal (owners.py). Sellers work the stages at which at least half the visits name a
seller on their own rows: all of them where the export gives the deal's owner on every row,
only the worked ones where it names a seller just where one worked. Per seller and worked
stage, the pass
probability comes from the same censoring-aware estimator as the stage's (Aalen-Johansen,
open visits right-censored, Poisson-bootstrap interval), so open deals are not dropped.
Two tests per stage: a Wald test of homogeneity on the sellers' censoring-aware estimates
(do the sellers pass it alike? sources.difference_p), and each seller with at least
MIN_TESTED decided visits there against the rest of the team: the difference in pass
probability with a 95% interval from the two bootstraps, its two-sided p-value
adjusted by Holm's method for every seller and stage tested, so that the chance of calling
any seller better or worse by luck alone stays at 5%.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from hourglass.analysis.intervals import Estimate
from hourglass.calibration.crm import Deals
from hourglass.calibration.estimators import (
    BOOTSTRAP,
    PassDraws,
    difference,
    holm,
    weighted_pass_probability,
)
from hourglass.calibration.funnel import SourceFit
from hourglass.calibration.sources import difference_p, visits_fit
from hourglass.i18n import _, get_language
from hourglass.stages import FUNNEL, LABELS

SIGNIFICANT = 0.05
"""A seller differs from the rest at a stage when the adjusted p-value is below this."""
MIN_TESTED = 10
"""A seller with fewer decided visits at a stage (passed or lost) is not tested there: the
normal approximation of the difference would call one won deal against one lost
significant."""
WORKED_SHARE = 0.5
"""Sellers work a stage when at least this share of its visits name one on their own rows."""


@dataclass(frozen=True)
class SellerStage:
    """One seller at one stage: visits by status, pass probability, the test against the rest."""

    fit: SourceFit
    versus_rest: Estimate | None = None
    """This seller's pass probability minus the rest of the team's, with a 95% interval."""
    p_value: float | None = None
    """P-value that this seller passes the stage like the rest, Holm-adjusted over every
    seller and stage tested (None: untested)."""
    draws: PassDraws | None = field(default=None, repr=False, compare=False)
    """The pass probability's bootstrap draws, behind the test that the sellers are alike."""
    rest: PassDraws | None = field(default=None, repr=False, compare=False)
    """The rest of the team's pass probability there."""
    skill_draws: np.ndarray | None = field(default=None, repr=False, compare=False)
    """This seller's pass probability over the team's, per joint bootstrap replicate
    (`skill_draws`), behind the skill's interval."""

    @property
    def verdict(self) -> str:
        """better, worse or alike (the rest of the team), or untested."""
        if self.p_value is None or self.versus_rest is None:
            return "untested"
        if self.p_value >= SIGNIFICANT:
            return "alike"
        return "better" if self.versus_rest.value > 0 else "worse"

    def to_dict(self) -> dict[str, Any]:
        """The stage's fit as plain data."""
        f = self.fit
        diff = self.versus_rest
        return {
            "pass_prob": f.pass_prob.value,
            "pass_prob_ci": [f.pass_prob.low, f.pass_prob.high],
            "visits": {"passed": f.passed, "lost": f.lost, "open": f.open},
            "versus_rest": None if diff is None else diff.value,
            "versus_rest_ci": None if diff is None else [diff.low, diff.high],
            "versus_rest_p": self.p_value,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class SellerFit:
    """One seller: deals by final outcome, and the pass probability at each stage worked."""

    seller: str
    won: int
    lost: int
    open: int
    stages: dict[str, SellerStage] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The seller's fit as plain data."""
        return {
            "deals": {"won": self.won, "lost": self.lost, "open": self.open},
            "stages": {name: s.to_dict() for name, s in self.stages.items()},
        }


@dataclass(frozen=True)
class SellerFits:
    """Every seller's fit, and per stage the p-value that all sellers pass it alike."""

    sellers: list[SellerFit] = field(default_factory=list)
    alike_p: dict[str, float | None] = field(default_factory=dict)
    """Stage -> the p-value that the sellers pass it alike (None: fewer than two)."""


def fit_sellers(deals: Deals, rng: np.random.Generator, notes: list[str]) -> SellerFits:
    """Each seller's stages, and the tests of difference between the sellers."""
    if "seller" not in deals.columns:
        notes.append(_("sellers: no seller column; pass probabilities per seller not estimated"))
        return SellerFits()
    v = deals.visits[deals.visits["seller"] != ""]
    if v.empty:
        notes.append(
            _("sellers: no deal names a seller; pass probabilities per seller not estimated")
        )
        return SellerFits()
    names = sorted(v["seller"].unique())
    per_stage: dict[str, dict[str, SellerStage]] = {}
    alike: dict[str, float | None] = {}
    for k in worked_stages(deals):
        stage, mine = FUNNEL[k], v[v["stage"] == k]
        per_stage[stage] = _stage_sellers(mine, deals.until, rng)
        alike[stage] = difference_p(
            (s.fit, s.draws) for s in per_stage[stage].values() if s.draws is not None
        )
    per_stage = _adjusted(per_stage)
    outcomes = v.groupby("deal")[["seller", "outcome"]].last()
    out = []
    for name in names:
        mine = outcomes[outcomes["seller"] == name]["outcome"]
        won, lost = int((mine == "won").sum()), int((mine == "lost").sum())
        stages = {s: by[name] for s, by in per_stage.items() if name in by}
        out.append(SellerFit(str(name), won, lost, len(mine) - won - lost, stages))
    kept = _kept_alike(per_stage)
    if kept:
        notes.append(
            _(
                "sellers: skill kept at 1.0 (the team's rate) where the data do not show a "
                "seller passing the stage differently from the rest (Holm-adjusted p of 0.05 "
                "or more, or too few visits to test): {kept}"
            ).format(kept=", ".join(kept))
        )
    return SellerFits(out, alike)


def worked_stages(deals: Deals) -> list[int]:
    """The funnel stages sellers work: where at least half the visits name a seller."""
    v = deals.visits
    named = v["named"] if "named" in v else v["seller"] != ""
    share = named.groupby(v["stage"]).mean()
    return [k for k in range(len(FUNNEL)) if share.get(k, 0.0) >= WORKED_SHARE]


def _kept_alike(per_stage: dict[str, dict[str, SellerStage]]) -> list[str]:
    """'seller at stage' wherever the fit does not support a skill apart from the team's."""
    labels = LABELS.get(get_language(), LABELS["en"])
    return [
        f"{name} ({labels[stage]})"
        for stage, by in per_stage.items()
        for name, s in sorted(by.items())
        if s.verdict in ("alike", "untested")
    ]


def _stage_sellers(
    visits: pd.DataFrame, until: float, rng: np.random.Generator
) -> dict[str, SellerStage]:
    """One stage's fit per seller, each tested against the rest of the team there."""
    fits: dict[str, tuple[SourceFit, PassDraws]] = {
        str(name): visits_fit(group, until, rng) for name, group in visits.groupby("seller")
    }
    if len(fits) < 2:
        return {name: SellerStage(fit, draws=drawn) for name, (fit, drawn) in fits.items()}
    ratios = skill_draws(visits, until, rng)
    differences: dict[str, tuple[Estimate, float]] = {}
    rests: dict[str, PassDraws] = {}
    for name, (fit, drawn) in fits.items():
        rests[name] = visits_fit(visits[visits["seller"] != name], until, rng)[1]
        if fit.passed + fit.lost < MIN_TESTED:
            continue
        tested = difference(drawn, rests[name])
        if tested is not None:
            differences[name] = tested
    return {
        name: SellerStage(
            fit,
            *differences.get(name, (None, None)),
            draws=drawn,
            rest=rests[name],
            skill_draws=ratios[name],
        )
        for name, (fit, drawn) in fits.items()
    }


def skill_draws(
    visits: pd.DataFrame, until: float, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Per seller, their pass probability over the team's in each of one joint bootstrap.

    Each replicate reweighs the stage's visits (Poisson weights), and both the seller's
    rate and the team's come from the same weights: the seller's visits are part of the
    team's, and how many of them there are moves the team's rate towards the seller's,
    so the two are correlated and the ratio's spread holds both.
    """
    status = visits["status"].to_numpy(str)
    left, entered = visits["left"].to_numpy(float), visits["entered"].to_numpy(float)
    still_open = (status == "open") & np.isnan(left)
    days = np.nan_to_num(np.where(still_open, until - entered, left - entered))
    weights = rng.poisson(1.0, size=(BOOTSTRAP, len(visits))).astype(float)
    team = weighted_pass_probability(days, status, weights)
    sellers = visits["seller"].to_numpy(str)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            str(name): weighted_pass_probability(days, status, weights * (sellers == name)) / team
            for name in np.unique(sellers)
        }


def _adjusted(per_stage: dict[str, dict[str, SellerStage]]) -> dict[str, dict[str, SellerStage]]:
    """The stages' fits with every p-value adjusted by Holm's method over all of them."""
    tested = [
        (stage, name)
        for stage, by in per_stage.items()
        for name, s in by.items()
        if s.p_value is not None
    ]
    adjusted = holm([per_stage[stage][name].p_value for stage, name in tested])
    out = {stage: dict(by) for stage, by in per_stage.items()}
    for (stage, name), p in zip(tested, adjusted, strict=True):
        out[stage][name] = replace(out[stage][name], p_value=p)
    return out
