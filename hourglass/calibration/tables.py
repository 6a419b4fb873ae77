"""A calibration's fits as tables to read: per stage, and the repeat-buying parameters."""

from __future__ import annotations

import pandas as pd

from hourglass.calibration.fit import Calibration

BGNBD = ("r", "alpha", "a", "b")
"""Repeat buying's parameters."""

GAMMA_GAMMA = ("p", "q", "v")
"""Order value's parameters."""


def stage_fits(cal: Calibration) -> pd.DataFrame:
    """Per funnel stage: pass probability (95% CI), visits by status, time in stage."""
    return pd.DataFrame(
        [
            {
                "stage": s.stage,
                "pass prob": s.pass_prob.value,
                "95% CI": f"{s.pass_prob.low:.3f} to {s.pass_prob.high:.3f}",
                "passed": s.passed,
                "lost": s.lost,
                "open": s.open,
                "time in stage": (
                    f"{s.duration.family}, mean {s.duration.mean_days.value:.1f} days"
                    if s.duration is not None
                    else "not fitted"
                ),
            }
            for s in cal.stages
        ],
        columns=["stage", "pass prob", "95% CI", "passed", "lost", "open", "time in stage"],
    )


def repeat_fits(cal: Calibration) -> pd.DataFrame:
    """Repeat buying's and order value's parameters, each with its 95% interval.

    BG/NBD's r, alpha, a, b, then Gamma-Gamma's p, q, v when order values were fitted; no
    rows when repeat buying was not fitted (no transaction log).
    """
    named = {}
    if cal.repeat is not None:
        named = {k: getattr(cal.repeat, k) for k in BGNBD}
        if cal.spend is not None:
            named |= {k: getattr(cal.spend, k) for k in GAMMA_GAMMA}
    return pd.DataFrame(
        [
            {"parameter": k, "value": e.value, "95% CI": f"{e.low:.4g} to {e.high:.4g}"}
            for k, e in named.items()
        ],
        columns=["parameter", "value", "95% CI"],
    )
