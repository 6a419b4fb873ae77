"""Plotly figures of a calibration's fits: results in, go.Figure out; no Streamlit here."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy import stats

from hourglass.plots.style import LOST, PALETTE, UPPER
from hourglass.stages import FUNNEL

if TYPE_CHECKING:
    from hourglass.calibration.estimators import DurationFit
    from hourglass.calibration.fit import Calibration


def pass_prob_figure(cal: Calibration, truth: Mapping[str, float] | None = None) -> go.Figure:
    """Each stage's fitted pass probability with its 95% interval; `truth` as open diamonds."""
    fits = [s for s in cal.stages if s.visits]
    fig = go.Figure(
        go.Scatter(
            x=[s.stage for s in fits],
            y=[s.pass_prob.value for s in fits],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [s.pass_prob.high - s.pass_prob.value for s in fits],
                "arrayminus": [s.pass_prob.value - s.pass_prob.low for s in fits],
            },
            mode="markers",
            marker={"color": UPPER, "size": 10},
            name="fitted (95% interval)",
        )
    )
    if truth:
        fig.add_scatter(
            x=list(truth),
            y=list(truth.values()),
            mode="markers",
            marker={"symbol": "diamond-open", "size": 12, "color": LOST},
            name="true",
        )
    fig.update_layout(
        title="Pass probability per stage",
        yaxis={"title": "pass probability", "range": [0, 1]},
        xaxis={"categoryorder": "array", "categoryarray": list(FUNNEL)},
    )
    return fig


def _kaplan_meier(days: np.ndarray, ended: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((~ended, days))
    days, ended = days[order], ended[order]
    at_risk = len(days) - np.arange(len(days))
    survival = np.cumprod(1.0 - ended / at_risk)
    return days[ended], survival[ended]


def _survival(fit: DurationFit, days: np.ndarray) -> np.ndarray:
    mean, cv = fit.mean_days.value, fit.cv
    if fit.family == "lognormal":
        sigma = math.sqrt(math.log1p(cv * cv))
        return stats.lognorm.sf(days, sigma, scale=mean / math.sqrt(1.0 + cv * cv))
    shape = 1.0 / (cv * cv)
    return stats.gamma.sf(days, shape, scale=mean / shape)


def duration_figure(cal: Calibration, stage: str) -> go.Figure:
    """Time in one stage: the Kaplan-Meier curve of the data beside the fitted survival."""
    fit = next(s for s in cal.stages if s.stage == stage)
    v = cal.deals.visits
    mine = v[v["stage"] == FUNNEL.index(stage)]
    ended = (mine["status"] != "open").to_numpy()
    days = np.where(ended, mine["left"] - mine["entered"], cal.until_days - mine["entered"])
    known = ~np.isnan(days)  # decided visits with no leaving time
    days, ended = days[known].astype(float), ended[known]
    fig = go.Figure()
    if len(days):
        x, y = _kaplan_meier(days, ended)
        fig.add_scatter(
            x=x,
            y=y,
            mode="lines",
            line={"shape": "hv", "color": PALETTE[0]},
            name="data (Kaplan-Meier)",
        )
    if fit.duration is not None:
        grid = np.linspace(0.0, float(np.quantile(days, 0.99)) if len(days) else 1.0, 200)
        d = fit.duration
        fig.add_scatter(
            x=grid,
            y=_survival(d, grid),
            mode="lines",
            line={"color": PALETTE[1], "dash": "dash"},
            name=f"{d.family}: mean {d.mean_days.value:.3g} days, cv {d.cv:.2g}",
        )
    fig.update_layout(
        title=f"Time in {stage}: share still in the stage",
        xaxis={"title": "days in stage"},
        yaxis={"title": "share still inside", "range": [0, 1.02]},
    )
    return fig


def repeat_tracking_figure(table: pd.DataFrame, split: float | None = None) -> go.Figure:
    """Cumulative repeat purchases per period: actual, simulated, BG/NBD's expectation.

    `split` marks the end of the calibration period.
    """
    fig = go.Figure()
    styles = {
        "actual": {"color": "black"},
        "simulated": {"color": PALETTE[0]},
        "expected": {"color": PALETTE[1], "dash": "dash"},
    }
    for col, line in styles.items():
        if col in table:
            fig.add_scatter(x=table["period"], y=table[col], mode="lines", line=line, name=col)
    if split is not None:
        fig.add_vline(
            x=split, line={"color": "grey", "dash": "dot"}, annotation_text="end of calibration"
        )
    fig.update_layout(
        title="Cumulative repeat purchases",
        xaxis={"title": "week"},
        yaxis={"title": "repeat purchases"},
    )
    return fig
