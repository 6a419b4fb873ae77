"""Calibrate a scenario from a CRM deal-stage history and a transaction log.

Per stage: the pass probability from the Aalen-Johansen cumulative incidences of passing
and of being lost, so deals still open at the end count as right-censored (not dropped);
time in stage by censored maximum likelihood over exponential, gamma and lognormal, the
family chosen by AIC. Arrivals per channel, loss-reason shares and each seller's pass
probability per stage (sellers.py), with 95% intervals. Repeat buying by BG/NBD and order
value by Gamma-Gamma (btyd.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hourglass.analysis.intervals import Estimate
from hourglass.calibration.btyd import (
    BGNBDFit,
    GammaGammaFit,
    Holdout,
    fit_bgnbd,
    fit_gamma_gamma,
    holdout_repeats,
    rfm_summary,
)
from hourglass.calibration.crm import Deals, Skipped, Transactions, read_deals, read_transactions
from hourglass.calibration.dates import read_date
from hourglass.calibration.estimators import FEW
from hourglass.calibration.funnel import (
    ChannelFit,
    StageFit,
    fit_channels,
    fit_stages,
    slug,
)
from hourglass.calibration.mapping import CrmMapping, DataError
from hourglass.calibration.referrals import ReferralFit, fit_referrals
from hourglass.calibration.sellers import SellerFit, fit_sellers
from hourglass.calibration.sources import fit_sources
from hourglass.calibration.team import seller_dicts
from hourglass.calibration.writing import scenario_data
from hourglass.config.arguments import kind_of
from hourglass.config.scenario import Scenario, parse_scenario
from hourglass.i18n import _, grouped, ngettext
from hourglass.stages import stage_word

MIN_CUSTOMERS = 10
"""Fewer customers than this leave the repeat model unfitted."""
MAX_PERIOD_DAYS = 36_500.0
"""The longest calibration period: a scenario's horizon is at most 100 years."""


@dataclass(frozen=True)
class Calibration:
    """Everything fitted, what was skipped and why, and the scenario it makes."""

    name: str
    deals: Deals | None
    """The checked deal history the fit used (None: calibrated from transactions alone)."""
    origin: pd.Timestamp
    until_days: float
    stages: list[StageFit]
    channels: list[ChannelFit]
    sellers: list[SellerFit]
    """Each seller's pass probability per stage, tested against the rest of the team."""
    repeat: BGNBDFit | None
    spend: GammaGammaFit | None
    skipped_rows: list[Skipped]
    set_aside: dict[str, int]
    """Rows after the calibration period per file, kept out of the fit for checking."""
    notes: list[str] = field(default_factory=list)
    """Estimates skipped, and assumptions made, each with its reason."""
    amount_mean_cv: tuple[float, float] | None = None
    """Mean and cv of the calibration period's amounts, the fallback order value."""
    holdout: Holdout | None = None
    """Repeat purchases after the period, kept for checking the fit."""
    warnings: list[str] = field(default_factory=list)
    """What the user should look at before using the scenario: rows left out for their dates,
    stages fitted from few deals."""
    sellers_alike_p: dict[str, float | None] = field(default_factory=dict)
    """Stage -> the p-value that every seller passes it alike (sources.difference_p)."""
    referral: ReferralFit | None = None
    """Word of mouth: the referral rate and boosts (None: no referral source in the export)."""

    @property
    def scenario(self) -> Scenario:
        """The calibrated scenario."""
        return parse_scenario(self.scenario_data(), source="calibration")

    def scenario_data(self) -> dict[str, Any]:
        """The calibrated scenario as plain data, before it is checked."""
        return scenario_data(self)

    @property
    def until_date(self) -> pd.Timestamp:
        """The end of the calibration period."""
        return self.origin + pd.Timedelta(days=self.until_days)

    def to_dict(self) -> dict[str, Any]:
        """What was fitted, as plain data: stages, channels, repeat, sellers, skipped."""
        repeat: dict[str, float] | None = None
        intervals: dict[str, list[float]] = {}
        if self.repeat is not None:
            named = {k: getattr(self.repeat, k) for k in ("r", "alpha", "a", "b")}
            if self.spend is not None:
                named |= {k: getattr(self.spend, k) for k in ("p", "q", "v")}
            repeat = {k: e.value for k, e in named.items()}
            intervals = {k: [e.low, e.high] for k, e in named.items()}
        return {
            "period": {"from": f"{self.origin:%Y-%m-%d}", "until": f"{self.until_date:%Y-%m-%d}"},
            "stages": {s.stage: _stage_dict(s) for s in self.stages},
            "channels": {
                c.channel: {
                    "kind": c.kind,
                    "deals": c.deals,
                    "per_day": c.per_day.value,
                    "per_day_ci": [c.per_day.low, c.per_day.high],
                }
                for c in self.channels
            },
            "repeat": repeat,
            "repeat_ci": intervals,
            "holdout": None
            if self.holdout is None
            else {
                "from": f"{self.holdout.until:%Y-%m-%d}",
                "to": f"{self.holdout.end:%Y-%m-%d}",
                "actual_repeats": self.holdout.actual,
                "expected_repeats": self.holdout.expected,
            },
            "sellers": seller_dicts(self),
            "sellers_alike_p": self.sellers_alike_p,
            "referral": None if self.referral is None else self.referral.to_dict(),
            "skipped_rows": {
                sk.file: {
                    f"{col}: {why}" if col else why: len(rows)
                    for (col, why), rows in sk.reasons.items()
                }
                for sk in self.skipped_rows
            },
            "notes": self.notes,
            "warnings": self.warnings,
            "encodings": {sk.file: sk.encoding for sk in self.skipped_rows},
        }


def _stage_dict(s: StageFit) -> dict[str, Any]:
    """One stage's fit as plain data."""
    return {
        "pass_prob": s.pass_prob.value,
        "pass_prob_ci": [s.pass_prob.low, s.pass_prob.high],
        "visits": {"passed": s.passed, "lost": s.lost, "open": s.open},
        "duration": None
        if s.duration is None
        else {
            "family": s.duration.family,
            "mean_days": s.duration.mean_days.value,
            "mean_days_ci": [s.duration.mean_days.low, s.duration.mean_days.high],
            "cv": s.duration.cv,
            "aic": s.duration.aic,
        },
        "loss_reasons": {k: v.value for k, v in s.loss_reasons.items()},
        "by_source": {
            name: {
                "pass_prob": f.pass_prob.value,
                "pass_prob_ci": [f.pass_prob.low, f.pass_prob.high],
                "visits": {"passed": f.passed, "lost": f.lost, "open": f.open},
            }
            for name, f in s.by_source.items()
        },
        "by_source_difference_p": s.source_difference,
    }


def _finite(value: float, default: float) -> float:
    return value if math.isfinite(value) else default


CALIBRATION_STEPS = ("deals", "stages", "sellers", "repeat", "referrals")
"""What a calibration does in turn: read the deals, fit the stages (per channel too), the
sellers, the repeat buying (with a transaction log) and the referrals."""


def calibrate(
    deals: str | bytes | pd.DataFrame | Deals | None,
    transactions: str | bytes | pd.DataFrame | Transactions | None = None,
    mapping: CrmMapping | None = None,
    until: str | pd.Timestamp | None = None,
    name: str = "calibrated",
    period_days: float = 7.0,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> Calibration:
    """Fit a scenario from a deal-stage history and, optionally, a transaction log.

    The history is CSV text or bytes, or a DataFrame. `until` ends the calibration period (deals
    already read with `read_deals` keep the period they were read with). Without deals
    (None), only the repeat buying and order value are fitted, from the transactions.
    `progress`, if given, is told each step of CALIBRATION_STEPS as it starts.
    """
    step = progress or (lambda _step: None)
    if deals is not None and not isinstance(deals, str | bytes | pd.DataFrame | Deals):
        raise TypeError(
            _(
                "deals: give the deal-stage history as CSV text, bytes or a DataFrame, not {kind}"
            ).format(kind=kind_of(deals))
        )
    end = None if until is None else read_date(until, "until")
    if deals is None:
        if transactions is None:
            raise DataError(
                _("nothing to calibrate from: give a deal history, a transaction log or both")
            )
        return _from_transactions(transactions, mapping, end, slug(name), period_days)
    if not isinstance(deals, Deals):
        step("deals")
        deals = read_deals(deals, mapping, end, name="deals")
    if deals.until > MAX_PERIOD_DAYS:
        raise DataError(
            _(
                "{file}: the dates run {days} days from {start}; a calibration period is at "
                "most {limit} days (100 years): check the dates, or give --until to end the "
                "period sooner"
            ).format(
                file=deals.skipped.file,
                days=grouped(deals.until),
                start=f"{deals.origin:%Y-%m-%d}",
                limit=grouped(MAX_PERIOD_DAYS),
            )
        )
    mapping = mapping or deals.mapping
    notes, warnings = list(deals.notes), list(deals.warnings)
    rng = np.random.default_rng(seed)
    step("stages")
    stages = fit_sources(deals, mapping, fit_stages(deals, rng, notes), rng)
    channels = fit_channels(deals, mapping, notes, warnings)
    step("sellers")
    team = fit_sellers(deals, rng, notes)
    skipped, set_aside = [deals.skipped], {deals.skipped.file: deals.set_aside}
    repeat = spend = amounts = holdout = None
    if transactions is None:
        notes.append(_("repeat buying and order value not fitted: no transaction log given"))
    else:
        step("repeat")
        if not isinstance(transactions, Transactions):
            transactions = read_transactions(transactions, mapping, "transactions", end)
        skipped.append(transactions.skipped)
        warnings += transactions.warnings
        warnings += _shared_dates(deals, transactions)
        cut = end or deals.origin + pd.Timedelta(days=deals.until)
        repeat, spend, amounts, aside = _fit_repeat(transactions, cut, period_days, notes)
        set_aside[transactions.skipped.file] = aside
        if repeat is not None and aside:
            holdout = holdout_repeats(transactions.rows, repeat, cut)
    step("referrals")
    referral = fit_referrals(deals, mapping, transactions, rng)
    return Calibration(
        name=slug(name),
        deals=deals,
        origin=deals.origin,
        until_days=deals.until,
        stages=stages,
        channels=channels,
        sellers=team.sellers,
        repeat=repeat,
        spend=spend,
        skipped_rows=skipped,
        set_aside=set_aside,
        notes=notes,
        amount_mean_cv=amounts,
        holdout=holdout,
        warnings=[w for s in skipped for w in s.warnings()] + warnings + _few_deals(stages),
        sellers_alike_p=team.alike_p,
        referral=referral,
    )


MIN_SHARED = 0.5
"""Deals and transactions sharing less of the shorter file's span than this are warned about."""


def _shared_dates(deals: Deals, transactions: Transactions) -> list[str]:
    """A warning when the two files share few dates; DataError when they share none."""
    first, last = deals.origin, deals.origin + pd.Timedelta(days=deals.until)
    dates = transactions.rows["date"].dt.normalize()
    tx_first, tx_last = dates.min(), dates.max()
    words = {
        "deals": deals.skipped.file,
        "transactions": transactions.skipped.file,
        "from": f"{first:%Y-%m-%d}",
        "to": f"{last:%Y-%m-%d}",
        "tx_from": f"{tx_first:%Y-%m-%d}",
        "tx_to": f"{tx_last:%Y-%m-%d}",
    }
    shared = (min(last, tx_last) - max(first, tx_first)) / pd.Timedelta(days=1)
    if shared < 0:
        raise DataError(
            _(
                "{transactions}: the transactions run from {tx_from} to {tx_to} and the deals "
                "({deals}) from {from} to {to}: the two files share no dates, so they cannot "
                "describe one business over one period; check the years (and the order of day "
                "and month) in both files"
            ).format(**words)
        )
    shorter = max(1.0, min(deals.until, (tx_last - tx_first) / pd.Timedelta(days=1)))
    if shared / shorter >= MIN_SHARED:
        return []
    return [
        _(
            "{transactions}: the transactions run from {tx_from} to {tx_to} and the deals "
            "({deals}) from {from} to {to}: they share only {share} of the shorter period; "
            "check the years in both files before relying on a fit that joins them"
        ).format(share=f"{shared / shorter:.0%}", **words)
    ]


def _from_transactions(
    transactions: str | bytes | pd.DataFrame | Transactions,
    mapping: CrmMapping | None,
    end: pd.Timestamp | None,
    name: str,
    period_days: float,
) -> Calibration:
    """Repeat buying and order value from a transaction log alone; no funnel, no arrivals."""
    if not isinstance(transactions, Transactions):
        transactions = read_transactions(transactions, mapping, "transactions", end)
    dates = transactions.rows["date"].dt.normalize()
    origin, cut = dates.min(), end if end is not None else dates.max()
    if cut < origin:
        raise DataError(
            _("{file}: no purchase on or before --until {until}; the log starts on {first}").format(
                file=transactions.skipped.file, until=f"{cut:%Y-%m-%d}", first=f"{origin:%Y-%m-%d}"
            )
        )
    notes = [_("funnel not fitted: no deal history given; the scenario has no arrivals")]
    repeat, spend, amounts, aside = _fit_repeat(transactions, cut, period_days, notes)
    holdout = holdout_repeats(transactions.rows, repeat, cut) if repeat and aside else None
    skipped = transactions.skipped
    return Calibration(
        name=name,
        deals=None,
        origin=origin,
        until_days=(cut - origin) / pd.Timedelta(days=1),
        stages=[],
        channels=[],
        sellers=[],
        repeat=repeat,
        spend=spend,
        skipped_rows=[skipped],
        set_aside={skipped.file: aside},
        notes=notes,
        amount_mean_cv=amounts,
        holdout=holdout,
        warnings=skipped.warnings() + transactions.warnings,
    )


def _few_deals(stages: list[StageFit]) -> list[str]:
    """A warning for each stage fitted from fewer than FEW decided visits."""
    return [
        ngettext(
            "{stage}: only {n} decided visit (fewer than {few}): its pass probability and "
            "time in stage rest on few deals; read their intervals before relying on them",
            "{stage}: only {n} decided visits (fewer than {few}): its pass probability and "
            "time in stage rest on few deals; read their intervals before relying on them",
            s.passed + s.lost,
        ).format(stage=stage_word(s.stage), n=s.passed + s.lost, few=FEW)
        for s in stages
        if 0 < s.passed + s.lost < FEW
    ]


def _bounded(*estimates: Estimate, top: float) -> bool:
    """Whether a fit stayed in [0.001, top], with finite intervals."""
    return all(
        math.isfinite(e.low) and math.isfinite(e.high) and 1e-3 <= e.value <= top for e in estimates
    )


def _fit_repeat(
    transactions: Transactions, until: pd.Timestamp, period_days: float, notes: list[str]
) -> tuple[BGNBDFit | None, GammaGammaFit | None, tuple[float, float] | None, int]:
    rows = transactions.rows
    aside = int((rows["date"].dt.normalize() > until).sum())
    summary = rfm_summary(rows, until, period_days)
    calib = rows[rows["date"].dt.normalize() <= until]["amount"]
    amounts = (float(calib.mean()), float(calib.std() / calib.mean())) if calib.mean() > 0 else None
    if len(summary) < MIN_CUSTOMERS:
        notes.append(
            _(
                "repeat buying not fitted: {n} customers bought by the end of the period; "
                "at least {least} needed"
            ).format(n=len(summary), least=MIN_CUSTOMERS)
        )
        return None, None, amounts, aside
    repeat = fit_bgnbd(summary, period_days)
    if not (_bounded(repeat.r, top=1e3) and _bounded(repeat.alpha, repeat.a, repeat.b, top=1e6)):
        notes.append(
            _(
                "repeat buying not fitted: BG/NBD runs off to the edge of its parameters on "
                "{customers} customers with {repeats} repeat purchases (too few repeats to "
                "tell how customers differ)"
            ).format(customers=grouped(repeat.customers), repeats=grouped(repeat.repeats))
        )
        return None, None, amounts, aside
    buyers = int(((summary["x"] > 0) & (summary["m"] > 0)).sum())
    if buyers < MIN_CUSTOMERS:
        notes.append(
            _(
                "order value by Gamma-Gamma not fitted: {n} customers bought again; at least "
                "{least} needed (the mean and cv of all amounts are used)"
            ).format(n=buyers, least=MIN_CUSTOMERS)
        )
        return repeat, None, amounts, aside
    spend = fit_gamma_gamma(summary)
    if not (_bounded(spend.p, spend.q, top=1e3) and _bounded(spend.v, top=math.inf)):
        notes.append(
            _(
                "order value by Gamma-Gamma not fitted: the fit runs off to infinite "
                "parameters, as when customers do not differ in what they spend (the mean and "
                "cv of all amounts are used)"
            )
        )
        return repeat, None, amounts, aside
    if spend.q.value <= 2:
        notes.append(
            _(
                "Gamma-Gamma q <= 2: one order's value has no finite variance; the scenario "
                "uses the mean and cv of all amounts"
            )
        )
    return repeat, spend, amounts, aside
