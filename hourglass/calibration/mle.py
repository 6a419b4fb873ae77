"""Maximum likelihood on log-scale parameters, with Wald intervals from the observed information."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from hourglass.analysis.intervals import Z95


@dataclass(frozen=True)
class Fit:
    """A maximum-likelihood fit: log parameters, their covariance, the log-likelihood."""

    log_params: np.ndarray
    cov: np.ndarray
    """Covariance of the log parameters (NaN where the information matrix is singular)."""
    loglik: float

    @property
    def params(self) -> np.ndarray:
        """The parameters on their natural scale."""
        return np.exp(self.log_params)

    def intervals(self, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of each parameter's interval, exp(log estimate ± z se)."""
        se = np.sqrt(np.diag(self.cov))
        return np.exp(self.log_params - z * se), np.exp(self.log_params + z * se)


def maximize(loglik: Callable[[np.ndarray], float], start: np.ndarray) -> Fit:
    """Maximize `loglik` over log parameters: Nelder-Mead, then BFGS to polish."""

    def negative(x: np.ndarray) -> float:
        value = -loglik(x)
        return value if np.isfinite(value) else 1e300

    first = optimize.minimize(
        negative,
        np.asarray(start, dtype=float),
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 20_000, "maxfev": 40_000},
    )
    best = optimize.minimize(negative, first.x, method="BFGS", options={"gtol": 1e-8})
    x = best.x if best.fun <= first.fun else first.x
    info = hessian(negative, x)
    try:
        cov = np.linalg.inv(info)
        if np.any(np.diag(cov) <= 0) or not np.all(np.isfinite(cov)):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.full_like(info, np.nan)
    return Fit(log_params=x, cov=cov, loglik=-negative(x))


def hessian(f: Callable[[np.ndarray], float], x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """The matrix of second derivatives of `f` at `x`, by central differences."""
    n = len(x)
    h = np.zeros((n, n))
    eye = np.eye(n) * step
    for i in range(n):
        for j in range(i, n):
            h[i, j] = h[j, i] = (
                f(x + eye[i] + eye[j])
                - f(x + eye[i] - eye[j])
                - f(x - eye[i] + eye[j])
                + f(x - eye[i] - eye[j])
            ) / (4 * step * step)
    return h
