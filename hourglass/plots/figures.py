"""Plotly figure builders: results in, go.Figure out. Nothing here imports Streamlit.

Nor pandas: the figures take its tables, but the theory sketch draws before it is loaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hourglass.stages import FUNNEL, HOURGLASS, LABELS

if TYPE_CHECKING:
    import pandas as pd

UPPER = "#2f6db5"
"""The funnel's colour (before and at the sale)."""
LOWER = "#2e9e6a"
"""The lower half's colour (repeat and refer)."""
LOST = "#c8553d"
PALETTE = ("#2f6db5", "#c8553d", "#2e9e6a", "#8e6bbf", "#d4a017", "#5b8c99")


def _labels(labels: str) -> dict[str, str]:
    return LABELS[labels]


def hourglass_figure(
    stages: pd.DataFrame,
    *,
    labels: str = "en",
    expected: Mapping[str, float] | None = None,
    lower: Mapping[str, float] | None = None,
    title: str = "The hourglass",
) -> go.Figure:
    """The hourglass: each stage a bar as wide as the people who entered it, centred.

    The funnel narrows to Buy; Repeat and Refer widen again below it. `lower` replaces the
    widths of those two, e.g. with repeat purchases and referred prospects. `expected`
    (stage -> people), e.g. the absorbing-chain expectation, is drawn as an outline.
    """
    names = _labels(labels)
    table = stages.set_index("stage").reindex(HOURGLASS)
    widths = table["entered"].fillna(0.0)
    conversion = table["conversion"]
    if lower:
        widths = widths.copy()
        conversion = conversion.copy()
        for stage, value in lower.items():
            widths[stage], conversion[stage] = value, math.nan
    fig = go.Figure(_hourglass_bars(widths.tolist(), names, conversion.tolist()))
    if expected:
        xs, ys = [], []
        for stage in HOURGLASS:
            value = expected.get(stage)
            if value is None:
                continue
            xs += [-value / 2, value / 2, None]
            ys += [names[stage], names[stage], None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                marker={"symbol": "line-ns-open", "size": 26, "line": {"width": 3}},
                marker_color="#222222",
                name="expected (theory)",
                hoverinfo="skip",
            )
        )
    _hourglass_layout(fig, title)
    fig.update_layout(showlegend=bool(expected))
    return fig


def theory_svg(
    entered: Mapping[str, float],
    *,
    labels: str = "en",
    title: str = "",
    label: str = "The funnel as theory expects it",
) -> str:
    """The funnel alone as plain SVG text, each stage a centred bar as wide as `entered` says
    (stage -> people), e.g. the absorbing-chain expectation: a sketch of the hourglass before
    any run, which the browser draws at once, with no chart library to load first. `label`
    is what a screen reader says of it."""
    names = _labels(labels)
    most = max((entered[s] for s in FUNNEL), default=0.0) or 1.0
    row, left, span = 50, 90, 400
    top = 44 if title else 6
    rows = []
    for i, stage in enumerate(FUNNEL):
        width = max(2.0, span * entered[stage] / most)
        x, y = left + (span - width) / 2, top + i * row
        inside = width > 110
        rows.append(
            f'<text x="{left - 10}" y="{y + 30}" text-anchor="end" fill="#444">'
            f"{_escape(names[stage])}</text>"
            f'<rect x="{x:.1f}" y="{y + 6}" width="{width:.1f}" height="{row - 10}" rx="3" '
            f'fill="{UPPER}"/>'
            f'<text x="{left + span / 2 if inside else x + width + 8:.1f}" y="{y + 30}" '
            f'text-anchor="{"middle" if inside else "start"}" '
            f'fill="{"#fff" if inside else "#444"}">{entered[stage]:,.0f}</text>'
        )
    heading = (
        f'<text x="10" y="28" font-size="20" font-weight="bold" fill="#222">{_escape(title)}</text>'
        if title
        else ""
    )
    height = top + len(FUNNEL) * row + 6
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + span + 20} {height}" '
        f'font-family="sans-serif" font-size="17" role="img" aria-label="{_escape(label)}">'
        f"{heading}{''.join(rows)}</svg>"
    )


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def hourglass_animation(
    filled: pd.DataFrame, *, labels: str = "en", step_days: int = 7, title: str = ""
) -> go.Figure:
    """The hourglass filling up: one frame per `step_days`, a play button and a day slider.

    `filled` holds, per day (rows), the people who had entered each stage by then.
    """
    names = _labels(labels)
    days = list(range(step_days - 1, len(filled), step_days))
    if not days or days[-1] != len(filled) - 1:
        days.append(len(filled) - 1)
    frames = [
        go.Frame(
            data=[_hourglass_bars(filled.loc[d, list(HOURGLASS)].tolist(), names)],
            name=str(d + 1),
        )
        for d in days
    ]
    fig = go.Figure(data=frames[-1].data, frames=frames)
    _hourglass_layout(fig, title or "How the hourglass fills")
    widest = float(filled[list(HOURGLASS)].to_numpy().max()) or 1.0
    slider_steps = [
        {
            "label": frame.name,
            "method": "animate",
            "args": [[frame.name], {"mode": "immediate", "frame": {"duration": 0}}],
        }
        for frame in frames
    ]
    fig.update_layout(
        showlegend=False,
        xaxis={"visible": False, "range": [-0.55 * widest, 0.55 * widest]},
        sliders=[
            {
                "active": len(frames) - 1,
                "currentvalue": {"prefix": "day "},
                "steps": slider_steps,
                "pad": {"t": 30},
            }
        ],
        updatemenus=[
            {
                "type": "buttons",
                "showactive": False,
                "x": 0.0,
                "y": -0.08,
                "xanchor": "right",
                "buttons": [
                    {
                        "label": "Play",
                        "method": "animate",
                        "args": [
                            None,
                            {"frame": {"duration": 120, "redraw": True}, "fromcurrent": False},
                        ],
                    }
                ],
            }
        ],
    )
    return fig


def _hourglass_bars(
    widths: Sequence[float], names: Mapping[str, str], conversion: Sequence[float] | None = None
) -> go.Bar:
    """Centred horizontal bars, one per hourglass stage, coloured by half."""
    widths = [float(w) for w in widths]
    rates = conversion if conversion is not None else [math.nan] * len(widths)
    text = [
        f"{w:,.0f}" + (f" · {c:.0%}" if c is not None and not math.isnan(c) else "")
        for w, c in zip(widths, rates, strict=True)
    ]
    widest = max(widths, default=0.0)
    return go.Bar(
        x=widths,
        y=[names[s] for s in HOURGLASS],
        base=[-w / 2 for w in widths],
        orientation="h",
        marker_color=[UPPER if s in FUNNEL else LOWER for s in HOURGLASS],
        text=text,
        textposition=["inside" if w > 0.25 * widest else "outside" for w in widths],
        insidetextanchor="middle",
        textangle=0,
        textfont={"size": 14},
        name="simulated",
        hovertemplate="%{y}: %{x:,.0f} people<extra></extra>",
    )


def _hourglass_layout(fig: go.Figure, title: str) -> None:
    fig.update_layout(
        title=title,
        barmode="overlay",
        yaxis={"autorange": "reversed", "title": None},
        xaxis={"visible": False},
        template="plotly_white",
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )


def sankey_figure(
    stages: pd.DataFrame, losses: pd.DataFrame, *, labels: str = "en", title: str = "Flows"
) -> go.Figure:
    """Flows through the funnel: stage to stage, and out to each loss reason."""
    names = _labels(labels)
    table = stages.set_index("stage")
    nodes = [names[s] for s in FUNNEL] + ["Customers"]
    colors = [UPPER] * len(FUNNEL) + [LOWER]
    source, target, value, link_color = [], [], [], []
    for k, stage in enumerate(FUNNEL):
        source.append(k)
        target.append(k + 1)
        value.append(float(table.loc[stage, "passed"]))
        link_color.append("rgba(47,109,181,0.35)")
        mine = losses[losses["stage"] == stage]
        for reason, lost in zip(mine["reason"], mine["lost"], strict=True):
            nodes.append(f"{names[stage]}: {reason.replace('_', ' ')}")
            colors.append(LOST)
            source.append(k)
            target.append(len(nodes) - 1)
            value.append(float(lost))
            link_color.append("rgba(200,85,61,0.30)")
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": nodes, "color": colors, "pad": 14, "thickness": 16},
            link={"source": source, "target": target, "value": value, "color": link_color},
        )
    )
    fig.update_layout(
        title=title, template="plotly_white", font={"size": 13}, margin={"l": 10, "r": 10, "t": 50}
    )
    return fig


def band_figure(
    bands: pd.DataFrame,
    series: Sequence[str],
    *,
    title: str = "",
    y_title: str = "",
    names: Mapping[str, str] | None = None,
    x: str = "day",
    percent: bool = False,
) -> go.Figure:
    """Series over time with their p5-p95 band and median line, one colour per series."""
    fig = go.Figure()
    for i, name in enumerate(series):
        rows = bands[bands["series"] == name].sort_values(x)
        _add_band(fig, rows, (names or {}).get(name, name), PALETTE[i % len(PALETTE)], x)
    _time_layout(fig, title, x, y_title, percent)
    return fig


def overlay_figure(
    bands: Mapping[str, pd.DataFrame],
    series: str,
    *,
    title: str = "",
    y_title: str = "",
    x: str = "day",
    percent: bool = False,
) -> go.Figure:
    """One series of several scenarios over time, each with its p5-p95 band."""
    fig = go.Figure()
    for i, (scenario, table) in enumerate(bands.items()):
        rows = table[table["series"] == series].sort_values(x)
        _add_band(fig, rows, scenario, PALETTE[i % len(PALETTE)], x)
    _time_layout(fig, title, x, y_title, percent)
    return fig


def _add_band(fig: go.Figure, rows: pd.DataFrame, label: str, color: str, x: str) -> None:
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([rows[x].to_numpy(), rows[x].to_numpy()[::-1]]),
            y=np.concatenate([rows["p95"].to_numpy(), rows["p5"].to_numpy()[::-1]]),
            fill="toself",
            fillcolor=_transparent(color),
            line={"width": 0},
            hoverinfo="skip",
            name=f"{label} p5-p95",
            showlegend=False,
        )
    )
    fig.add_trace(go.Scatter(x=rows[x], y=rows["p50"], line={"color": color}, name=label))


def _time_layout(fig: go.Figure, title: str, x: str, y_title: str, percent: bool) -> None:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y_title,
        yaxis_tickformat=".0%" if percent else None,
        template="plotly_white",
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.2},
    )


def conversion_bars(stage_tables: Mapping[str, pd.DataFrame], *, labels: str = "en") -> go.Figure:
    """Stage conversion of several scenarios side by side."""
    names = _labels(labels)
    fig = go.Figure()
    for i, (scenario, table) in enumerate(stage_tables.items()):
        t = table.set_index("stage").reindex(HOURGLASS)
        fig.add_trace(
            go.Bar(
                x=[names[s] for s in HOURGLASS],
                y=t["conversion"],
                name=scenario,
                marker_color=PALETTE[i % len(PALETTE)],
                hovertemplate="%{x}: %{y:.1%}<extra>" + scenario + "</extra>",
            )
        )
    fig.update_layout(
        title="Conversion by stage",
        barmode="group",
        yaxis={"tickformat": ".0%", "range": [0, 1]},
        template="plotly_white",
    )
    return fig


def delta_figure(
    table: pd.DataFrame, kpis: Sequence[str], *, names: Mapping[str, str] | None = None
) -> go.Figure:
    """Each scenario's change against the baseline, in percent, with its 95% interval."""
    fig = go.Figure()
    rows = table[table["kpi"].isin(kpis)]
    for i, (scenario, mine) in enumerate(rows.groupby("scenario", sort=False)):
        mine = mine.set_index("kpi").reindex(kpis)
        fig.add_trace(
            go.Bar(
                x=[(names or {}).get(k, k) for k in kpis],
                y=mine["delta_pct"],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": mine["ci_high_pct"] - mine["delta_pct"],
                    "arrayminus": mine["delta_pct"] - mine["ci_low_pct"],
                },
                name=scenario,
                marker_color=PALETTE[(i + 1) % len(PALETTE)],
            )
        )
    fig.update_layout(
        title="Change against the baseline (95% CI)",
        yaxis_title="%",
        barmode="group",
        template="plotly_white",
    )
    return fig


def _transparent(hex_color: str, alpha: float = 0.18) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def response_figure(
    curves: pd.DataFrame,
    marginal: Mapping[str, float] | None = None,
    optimal: Mapping[str, float] | None = None,
) -> go.Figure:
    """One panel per budget line: its response curve, the current point, and the optimal one.

    `curves` is `line_curves`'s table; `marginal` (line -> marginal ROI) goes in the panel
    titles; `optimal` (line -> money) marks where an optimiser would put the line.
    """
    lines = list(dict.fromkeys(curves["line"]))
    cols = min(3, len(lines)) or 1
    rows = math.ceil(len(lines) / cols) or 1
    titles = [
        line + (f" · marginal ROI {marginal[line]:+.2f}" if marginal and line in marginal else "")
        for line in lines
    ]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.08)
    for i, line in enumerate(lines):
        mine = curves[curves["line"] == line]
        row, col = i // cols + 1, i % cols + 1
        unit = mine["unit"].iloc[0]
        fig.add_trace(
            go.Scatter(
                x=mine["money"],
                y=mine["effect"],
                line={"color": UPPER},
                name=line,
                showlegend=False,
                hovertemplate="%{x:,.0f} a month: %{y:.3g} " + unit + "<extra></extra>",
            ),
            row=row,
            col=col,
        )
        now = mine[mine["current"]].iloc[0]
        points = [("current", now["money"], now["effect"], "#222222")]
        if optimal and line in optimal:
            effect = np.interp(optimal[line], mine["money"], mine["effect"])
            points.append(("optimal", optimal[line], effect, LOST))
        for label, x, y, color in points:
            fig.add_trace(
                go.Scatter(
                    x=[x],
                    y=[y],
                    mode="markers",
                    marker={"size": 11, "color": color},
                    name=label,
                    legendgroup=label,
                    showlegend=i == 0,
                    hovertemplate=f"{label}: %{{x:,.0f}} a month<extra></extra>",
                ),
                row=row,
                col=col,
            )
        fig.update_yaxes(title_text=unit, title_font={"size": 11}, row=row, col=col)
    fig.update_layout(
        title="Response curves: effect of money per month",
        template="plotly_white",
        height=max(420, 320 * rows),
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.12},
        margin={"t": 110},
    )
    return fig


def allocation_figure(current: Mapping[str, float], optimal: Mapping[str, float]) -> go.Figure:
    """Money per month by line: the current allocation beside the optimal one."""
    lines = list(current)
    fig = go.Figure()
    for name, amounts, color in (("current", current, PALETTE[0]), ("optimal", optimal, LOST)):
        fig.add_trace(
            go.Bar(
                x=lines,
                y=[amounts[k] for k in lines],
                name=name,
                marker_color=color,
                hovertemplate="%{x}: %{y:,.0f} a month<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        title="Money per month by line",
        barmode="group",
        yaxis_title="money per month",
        template="plotly_white",
    )
    return fig
