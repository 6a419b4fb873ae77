"""Plotly figures of a calibration's fits: results in, go.Figure out; no Streamlit here."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy import stats

from hourglass.i18n import _, get_language
from hourglass.plots.style import LOST, PALETTE, UPPER
from hourglass.stages import FUNNEL, LABELS

if TYPE_CHECKING:
    from hourglass.calibration.estimators import DurationFit
    from hourglass.calibration.fit import Calibration


def pass_prob_figure(
    cal: Calibration, truth: Mapping[str, float] | None = None, *, labels: str | None = None
) -> go.Figure:
    """Each stage's fitted pass probability with its 95% interval; `truth` as open diamonds.

    Stages are named in `labels` (a key of LABELS; by default the active language's).
    """
    names = LABELS[labels or get_language()]
    fits = [s for s in cal.stages if s.visits]
    fig = go.Figure(
        go.Scatter(
            x=[names[s.stage] for s in fits],
            y=[s.pass_prob.value for s in fits],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [s.pass_prob.high - s.pass_prob.value for s in fits],
                "arrayminus": [s.pass_prob.value - s.pass_prob.low for s in fits],
            },
            mode="markers",
            marker={"color": UPPER, "size": 10},
            name=_("fitted (95% interval)"),
        )
    )
    if truth:
        fig.add_scatter(
            x=[names[stage] for stage in truth],
            y=list(truth.values()),
            mode="markers",
            marker={"symbol": "diamond-open", "size": 12, "color": LOST},
            name=_("true"),
        )
    fig.update_layout(
        title=_("Pass probability per stage"),
        yaxis={"title": _("pass probability"), "range": [0, 1], "automargin": True},
        xaxis={
            "categoryorder": "array",
            "categoryarray": [names[s] for s in FUNNEL],
            "automargin": True,
        },
    )
    return fig


def family_names() -> dict[str, str]:
    """Duration families' names in the active language."""
    return {"lognormal": _("lognormal"), "gamma": _("gamma")}


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


def duration_figure(cal: Calibration, stage: str, *, labels: str | None = None) -> go.Figure:
    """Time in one stage: the Kaplan-Meier curve of the data beside the fitted survival.

    The stage is named in `labels` (a key of LABELS; by default the active language's).
    """
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
            name=_("data (Kaplan-Meier)"),
        )
    if fit.duration is not None:
        grid = np.linspace(0.0, float(np.quantile(days, 0.99)) if len(days) else 1.0, 200)
        d = fit.duration
        fig.add_scatter(
            x=grid,
            y=_survival(d, grid),
            mode="lines",
            line={"color": PALETTE[1], "dash": "dash"},
            name=_("{family}: mean {mean:.3g} days, cv {cv:.2g}").format(
                family=family_names().get(d.family, d.family), mean=d.mean_days.value, cv=d.cv
            ),
        )
    fig.update_layout(
        title=_("Time in {stage}: share still in the stage").format(
            stage=LABELS[labels or get_language()][stage]
        ),
        xaxis={"title": _("days in stage"), "automargin": True},
        yaxis={"title": _("share still inside"), "range": [0, 1.02], "automargin": True},
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
    names = {"actual": _("actual"), "simulated": _("simulated"), "expected": _("expected")}
    for col, line in styles.items():
        if col in table:
            fig.add_scatter(
                x=table["period"], y=table[col], mode="lines", line=line, name=names[col]
            )
    if split is not None:
        fig.add_vline(
            x=split,
            line={"color": "grey", "dash": "dot"},
            annotation_text=_("end of calibration"),
        )
    fig.update_layout(
        title=_("Cumulative repeat purchases"),
        xaxis={"title": _("week"), "automargin": True},
        yaxis={"title": _("repeat purchases"), "automargin": True},
    )
    return fig
