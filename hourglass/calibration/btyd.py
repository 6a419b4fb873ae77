"""Buy-till-you-die fits from a transaction log: BG/NBD for repeat buying, Gamma-Gamma for spend.

Both by maximum likelihood (Fader, Hardie and Lee 2005, "Counting your customers the easy
way" and "RFM and CLV"), with 95% Wald intervals on the log parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from hourglass.analysis.intervals import Estimate
from hourglass.calibration.mle import maximize
from hourglass.log import Run
from hourglass.theory import bgnbd_expected_repeats


@dataclass(frozen=True)
class BGNBDFit:
    """BG/NBD parameters (time in periods of `period_days`) and what they were fitted on."""

    r: Estimate
    alpha: Estimate
    a: Estimate
    b: Estimate
    period_days: float
    customers: int
    repeats: int
    loglik: float
    cov: np.ndarray | None = None
    """Covariance of the log parameters (log r, log alpha, log a, log b), from the Hessian."""


@dataclass(frozen=True)
class GammaGammaFit:
    """Gamma-Gamma spend parameters: spend ~ Gamma(p, nu), nu ~ Gamma(q, v)."""

    p: Estimate
    q: Estimate
    v: Estimate
    customers: int
    loglik: float
    cov: np.ndarray | None = None
    """Covariance of the log parameters (log p, log q, log v), from the Hessian."""

    @property
    def mean_spend(self) -> float:
        """Expected value of one purchase, p v / (q - 1) (infinite if q <= 1)."""
        q = self.q.value
        return self.p.value * self.v.value / (q - 1.0) if q > 1.0 else np.inf

    @property
    def spend_cv(self) -> float:
        """Coefficient of variation of one purchase's value across customers (q > 2)."""
        p, q = self.p.value, self.q.value
        return float(np.sqrt((p + 1.0) * (q - 1.0) / (p * (q - 2.0)) - 1.0)) if q > 2 else np.inf


def rfm_summary(
    transactions: pd.DataFrame,
    until: pd.Timestamp,
    period_days: float = 7.0,
    seen_to: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Per customer first bought by `until`: repeats x, recency t_x, age T, and repeat value m.

    Recency and age are in periods, the age to `seen_to` (default `until`); m is the mean value
    of the repeat purchases. Purchases on one day count as one.
    """
    days = transactions.assign(day=transactions["date"].dt.normalize())
    days = days.groupby(["customer", "day"], as_index=False)["amount"].sum()
    first = days.groupby("customer")["day"].min()
    days = days[days["day"] <= until].join(first.rename("first"), on="customer")
    days = days[days["first"] <= until]
    repeat = days[days["day"] > days["first"]]
    per = pd.Timedelta(days=period_days)
    g = days.groupby("customer")
    out = pd.DataFrame(
        {
            "first": g["first"].first(),
            "x": g.size() - 1,
            "t_x": (g["day"].max() - g["first"].first()) / per,
            "T": ((until if seen_to is None else seen_to) - g["first"].first()) / per,
        }
    )
    out["m"] = repeat.groupby("customer")["amount"].mean().reindex(out.index).fillna(0.0)
    return out


def bgnbd_loglik(
    log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> float:
    """BG/NBD log-likelihood of (x, t_x, T) at log (r, alpha, a, b)."""
    r, alpha, a, b = np.exp(log_params)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b)
    a3 = -(r + x) * np.log(alpha + big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1.0, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return float(np.sum(a1 + a2 + np.logaddexp(a3, a4)))


def _estimates(fit, names: tuple[str, ...]) -> dict[str, Estimate]:
    low, high = fit.intervals()
    return {
        n: Estimate(float(v), float(lo), float(hi))
        for n, v, lo, hi in zip(names, fit.params, low, high, strict=True)
    }


def fit_bgnbd(summary: pd.DataFrame, period_days: float = 7.0) -> BGNBDFit:
    """BG/NBD by maximum likelihood on an RFM summary (columns x, t_x, T)."""
    x, t_x, big_t = (summary[c].to_numpy(float) for c in ("x", "t_x", "T"))
    fit = maximize(lambda p: bgnbd_loglik(p, x, t_x, big_t), np.zeros(4))
    est = _estimates(fit, ("r", "alpha", "a", "b"))
    return BGNBDFit(
        **est,
        period_days=period_days,
        customers=len(x),
        repeats=int(x.sum()),
        loglik=fit.loglik,
        cov=fit.cov,
    )


def gamma_gamma_loglik(log_params: np.ndarray, x: np.ndarray, m: np.ndarray) -> float:
    """Gamma-Gamma log-likelihood of customers' repeat counts x and mean spends m."""
    p, q, v = np.exp(log_params)
    px = p * x
    return float(
        np.sum(
            special.gammaln(px + q)
            - special.gammaln(px)
            - special.gammaln(q)
            + q * np.log(v)
            + (px - 1.0) * np.log(m)
            + px * np.log(x)
            - (px + q) * np.log(v + m * x)
        )
    )


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGammaFit:
    """Gamma-Gamma by maximum likelihood on customers with repeats and a positive mean spend."""
    keep = (summary["x"] > 0) & (summary["m"] > 0)
    x, m = summary.loc[keep, "x"].to_numpy(float), summary.loc[keep, "m"].to_numpy(float)
    start = np.log([1.0, 1.0, max(float(np.mean(m)), 1e-6)])
    fit = maximize(lambda p: gamma_gamma_loglik(p, x, m), start)
    return GammaGammaFit(
        **_estimates(fit, ("p", "q", "v")), customers=len(x), loglik=fit.loglik, cov=fit.cov
    )


def bgnbd_alive_prob(
    x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, r: float, alpha: float, a: float, b: float
) -> np.ndarray:
    """BG/NBD's P(alive | x, t_x, T) (Fader, Hardie and Lee's note on P(alive), eq. 13).

    1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)); time in periods.
    """
    x, t_x, big_t = (np.asarray(v, float) for v in (x, t_x, big_t))
    with np.errstate(divide="ignore", over="ignore"):
        odds = a / np.maximum(b + x - 1.0, 1e-300) * ((alpha + big_t) / (alpha + t_x)) ** (r + x)
    return np.where(x > 0, 1.0 / (1.0 + odds), 1.0)


def bgnbd_conditional_expected(
    t: float,
    x: np.ndarray,
    t_x: np.ndarray,
    big_t: np.ndarray,
    r: float,
    alpha: float,
    a: float,
    b: float,
) -> np.ndarray:
    """BG/NBD's E[Y(t) | x, t_x, T]: repeat purchases expected in (T, T + t] (FHL 2005, eq. 10).

    (a + b + x - 1) / (a - 1) [1 - ((alpha + T) / (alpha + T + t))^(r + x)
    2F1(r + x, b + x; a + b + x - 1; t / (alpha + T + t))], divided by
    1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x); time in periods.
    """
    x, t_x, big_t = (np.asarray(v, float) for v in (x, t_x, big_t))
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1.0, t / (alpha + big_t + t))
    alive_part = (a + b + x - 1.0) / (a - 1.0)
    alive_part = alive_part * (1.0 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp)
    return alive_part * bgnbd_alive_prob(x, t_x, big_t, r, alpha, a, b)


@dataclass(frozen=True)
class Holdout:
    """Repeat purchases after the calibration period, by its customers: actual and expected."""

    until: pd.Timestamp
    end: pd.Timestamp
    actual: int
    expected: float

    @property
    def error(self) -> float:
        """(expected - actual) / actual."""
        return (self.expected - self.actual) / self.actual if self.actual else np.nan


def holdout_repeats(transactions: pd.DataFrame, fit: BGNBDFit, until: pd.Timestamp) -> Holdout:
    """Repeat purchases after `until` by earlier buyers, against BG/NBD's expectation for them.

    Earlier buyers are the customers who first bought by `until`; the period runs to the last date
    in the log, and a day counts once.
    """
    days = transactions["date"].dt.normalize()
    per_day = transactions.assign(day=days).drop_duplicates(["customer", "day"])
    first = per_day.groupby("customer")["day"].transform("min")
    mine = per_day[first <= until]
    end = days.max()
    per = pd.Timedelta(days=fit.period_days)
    starts = mine.groupby("customer")["day"].min()
    params = (fit.r.value, fit.alpha.value, fit.a.value, fit.b.value)
    expected = bgnbd_expected_repeats((end - starts) / per, *params) - bgnbd_expected_repeats(
        (until - starts) / per, *params
    )
    return Holdout(
        until=until,
        end=end,
        actual=int((mine["day"] > until).sum()),
        expected=float(expected.sum()),
    )


def cumulative_repeats(days: np.ndarray, periods: int, period_days: float = 7.0) -> np.ndarray:
    """Repeat purchases made before the end of each period 1..periods (days from the origin)."""
    ends = np.arange(1, periods + 1) * period_days
    return np.searchsorted(np.sort(np.asarray(days, dtype=float)), ends, side="left")


def expected_cumulative_repeats(first_days: np.ndarray, fit: BGNBDFit, periods: int) -> np.ndarray:
    """BG/NBD's expected repeat purchases by the end of each period, summed over customers."""
    ends = np.arange(1, periods + 1) * fit.period_days
    age = np.clip(ends[:, None] - np.asarray(first_days, float)[None, :], 0.0, None)
    per_customer = bgnbd_expected_repeats(
        age / fit.period_days, fit.r.value, fit.alpha.value, fit.a.value, fit.b.value
    )
    return per_customer.sum(axis=1)


def repeat_tracking(
    run: Run, first_days: np.ndarray, actual_repeat_days: np.ndarray, fit: BGNBDFit, periods: int
) -> pd.DataFrame:
    """Cumulative repeat purchases per period: actual, simulated, and BG/NBD's expectation."""
    bought = run.log.purchases
    simulated = bought["time"][bought["kind"] >= 1]
    return pd.DataFrame(
        {
            "period": np.arange(1, periods + 1),
            "actual": cumulative_repeats(actual_repeat_days, periods, fit.period_days),
            "simulated": cumulative_repeats(simulated, periods, fit.period_days),
            "expected": expected_cumulative_repeats(first_days, fit, periods),
        }
    )
