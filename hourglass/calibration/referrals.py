"""Word of mouth from a deal history: the referral rate and how much warmer referred deals are.

The referral rate. Customers bring referred deals: R deals whose source is a referral source
arrived in the period, while the customer base, counted month by month, came to E
customer-months (each customer counts from the first purchase to the end of the period:
the transaction log's first purchases where a log is given, else the deals won). The rate
R / E, with the exact Poisson (Garwood) 95% interval, is referred deals per customer-month:
the scenario's contacts per customer-month times the chance a contact comes, which the data
cannot tell apart, so the scenario writes the rate as contacts with win_prob 1. Assumptions:
every customer, still buying or not, refers at one steady rate from the first purchase on
(no loyalty classes, no ramp-up); a referred deal arrives when it is contacted (no delay);
the customers before the files are not counted, so a business older than its files reads
high; the market is large enough that contacts rarely meet someone already reached.

The boost. At each stage, referred deals' pass probability against the other deals', by the
stages' censoring-aware estimator; where they differ (a two-sided test, Holm-adjusted over
the stages, p < 0.05) the scenario's referral boost is their ratio and the stage's own pass
probability is the other deals'. Elsewhere both share the pooled estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hourglass.analysis.intervals import Z95, Estimate, wilson
from hourglass.calibration.crm import Deals, Transactions
from hourglass.calibration.estimators import difference, holm, poisson_rate, standard_error
from hourglass.calibration.funnel import channel_of
from hourglass.calibration.mapping import CrmMapping
from hourglass.calibration.sources import visits_fit
from hourglass.config.gaps import WhyNoWordOfMouth, why_no_word_of_mouth
from hourglass.stages import DAYS_PER_MONTH, FUNNEL

MIN_REFERRALS = 5
"""Fewer referred deals than this leave the referral rate unestimated."""
SIGNIFICANT = 0.05
"""A stage gets a referral boost when the adjusted p-value is below this."""


@dataclass(frozen=True)
class Boost:
    """Referred deals' pass probability at a stage over the others', and the test of it."""

    ratio: Estimate
    referred: Estimate
    others: Estimate
    p_value: float
    """Two-sided, Holm-adjusted over the stages tested."""

    @property
    def significant(self) -> bool:
        """Whether referred deals pass the stage differently from the others."""
        return self.p_value < SIGNIFICANT


@dataclass(frozen=True)
class ReferralFit:
    """The referral rate per customer-month, its inputs, and the stages' boosts."""

    referred: int
    """Deals whose source is a referral source."""
    deals: int
    customers: int
    customer_months: float
    base: str
    """Where the customers come from: transactions or deals."""
    rate: Estimate | None
    """Referred deals per customer-month (None: not estimated)."""
    boosts: dict[str, Boost] = field(default_factory=dict)
    why: WhyNoWordOfMouth | None = None
    """Why the rate was not estimated (None: it was)."""
    least: int = MIN_REFERRALS

    @property
    def why_not(self) -> str:
        """Why the rate was not estimated, in words (empty: it was)."""
        return why_no_word_of_mouth(self.why, self.referred, self.least) if self.why else ""

    @property
    def share(self) -> Estimate:
        """The share of deals sourced by referral, with its Wilson interval."""
        return wilson(self.referred, self.deals)

    @property
    def boost(self) -> dict[str, float]:
        """The scenario's referral boost: the significant stages' ratios."""
        return {s: b.ratio.value for s, b in self.boosts.items() if b.significant}

    def to_dict(self) -> dict[str, Any]:
        """The fit as plain data."""
        share = self.share
        return {
            "referred_deals": self.referred,
            "share": share.value,
            "share_ci": [share.low, share.high],
            "customers": self.customers,
            "customer_months": self.customer_months,
            "customer_base": self.base,
            "per_customer_month": None if self.rate is None else self.rate.value,
            "per_customer_month_ci": None if self.rate is None else [self.rate.low, self.rate.high],
            "not_estimated": self.why_not or None,
            "boost": {
                stage: {
                    "ratio": b.ratio.value,
                    "ratio_ci": [b.ratio.low, b.ratio.high],
                    "p": b.p_value,
                    "written": b.significant,
                }
                for stage, b in self.boosts.items()
            },
        }


def fit_referrals(
    deals: Deals,
    mapping: CrmMapping,
    transactions: Transactions | None,
    rng: np.random.Generator,
) -> ReferralFit | None:
    """The referral rate and boosts; None when the export has no sources or no referral one."""
    if "source" not in deals.columns:
        return None
    v = deals.visits
    first = v.groupby("deal")["source"].first()
    referred = first.map(lambda s: channel_of(s, mapping)[1] == "referral")
    if not referred.any():
        return None
    base, starts = _customer_starts(deals, transactions)
    months = float(np.clip(deals.until - starts, 0.0, None).sum()) / DAYS_PER_MONTH
    count = int(referred.sum())
    why: WhyNoWordOfMouth | None = None
    if count < MIN_REFERRALS:
        why = "few_referrals"
    elif months <= 0.0:
        why = "no_customers"
    rate = None if why else poisson_rate(count, months)
    boosts = _boosts(v, v["deal"].map(referred).to_numpy(bool), deals.until, rng)
    return ReferralFit(count, len(first), len(starts), months, base, rate, boosts, why)


def _customer_starts(deals: Deals, transactions: Transactions | None) -> tuple[str, np.ndarray]:
    """Each customer's first purchase, in days from the deals' origin, up to the period's end.

    From the transaction log when there is one, else from the deals won (their buy stage
    passed).
    """
    if transactions is not None:
        first = transactions.rows.groupby("customer")["date"].min().dt.normalize()
        days = ((first - deals.origin) / pd.Timedelta(days=1)).to_numpy(float)
        return "transactions", days[days <= deals.until]
    v = deals.visits
    won = v[(v["stage"] == len(FUNNEL) - 1) & (v["status"] == "passed")]["left"]
    return "deals", won.dropna().to_numpy(float)


def _boosts(
    visits: pd.DataFrame, referred: np.ndarray, until: float, rng: np.random.Generator
) -> dict[str, Boost]:
    """Per stage, referred deals' pass probability over the others', Holm-adjusted."""
    found: dict[str, tuple[Estimate, Estimate, Estimate, float]] = {}
    for k, stage in enumerate(FUNNEL):
        here = (visits["stage"] == k).to_numpy()
        if not (here & referred).any() or not (here & ~referred).any():
            continue
        mine = visits_fit(visits[here & referred], until, rng)[1]
        rest = visits_fit(visits[here & ~referred], until, rng)[1]
        tested = difference(mine, rest)
        a, b = mine.estimate, rest.estimate
        if tested is None or a.value <= 0.0 or b.value <= 0.0:
            continue
        spread = math.hypot(standard_error(mine) / a.value, standard_error(rest) / b.value)
        ratio = a.value / b.value
        interval = Estimate(ratio, ratio * math.exp(-Z95 * spread), ratio * math.exp(Z95 * spread))
        found[stage] = (interval, a, b, tested[1])
    adjusted = holm([p for *_estimates, p in found.values()])
    return {
        stage: Boost(ratio, a, b, p)
        for (stage, (ratio, a, b, _p)), p in zip(found.items(), adjusted, strict=True)
    }
