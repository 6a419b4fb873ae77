"""Figure builders: the numbers drawn are the numbers given, labels follow the choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hourglass import compare, replicate, simulate, theory
from hourglass.analysis import daily_table, filling, kpis, loss_table, stage_table
from hourglass.plots import (
    band_figure,
    conversion_bars,
    delta_figure,
    hourglass_animation,
    hourglass_figure,
    overlay_figure,
    sankey_figure,
    theory_svg,
)
from hourglass.stages import FUNNEL, HOURGLASS
from tests.helpers import make_scenario


@pytest.fixture(scope="module")
def run():
    stages = {
        n: {"pass_prob": p, "duration": {"exponential": {"mean_days": 1.0}}}
        for n, p in zip(FUNNEL, (0.6, 0.5, 0.5, 0.6, 0.7), strict=True)
    }
    stages["buy"]["loss_reasons"] = {"price": 0.6, "timing": 0.4}
    return simulate(
        make_scenario(
            stages=stages,
            horizon_days=120.0,
            after_sale={
                "order_value": {"fixed": {"value": 50.0}},
                "repeat": {"simple": {"purchases_per_month": 1.0, "dropout_prob": 0.3}},
            },
        ),
        1,
    )


def test_hourglass_widths_are_people_and_centred(run):
    table = stage_table(run)
    flows = theory.scenario_funnel(run.scenario)
    expected = {s: flows.reach[k] * table.loc[0, "entered"] for k, s in enumerate(FUNNEL)}
    fig = hourglass_figure(table, labels="ru", expected=expected)
    bars = fig.data[0]
    assert list(bars.x) == table.set_index("stage").loc[list(HOURGLASS), "entered"].tolist()
    np.testing.assert_allclose(np.asarray(bars.base, float), -np.asarray(bars.x, float) / 2)
    assert bars.y[0] == "Знать" and bars.y[-1] == "Рекомендовать"
    outline = [x for x in fig.data[1].x if x is not None]
    assert outline[1] == pytest.approx(expected["know"] / 2)


def test_sankey_flows_conserve_people(run):
    table, losses = stage_table(run), loss_table(run)
    fig = sankey_figure(table, losses)
    link = fig.data[0].link
    out_of_know = sum(v for s, v in zip(link.source, link.value, strict=True) if s == 0)
    know = table.set_index("stage").loc["know"]
    assert out_of_know == know["passed"] + know["lost"]
    assert "Buy: price" in fig.data[0].node.label


def test_bands_draw_p5_p95_and_median():
    result = replicate(make_scenario(horizon_days=20.0), 5, seed=2, backend="serial")
    bands = result.daily_bands()
    fig = band_figure(bands, ["buyers"], title="Buyers")
    fill, median = fig.data
    rows = bands[bands["series"] == "buyers"].sort_values("day")
    assert list(median.y) == rows["p50"].tolist()
    assert max(fill.y) == rows["p95"].max()


def test_comparison_figures_show_each_scenario():
    base = make_scenario(stages__know={"pass_prob": 0.5})
    other = base.with_overrides({"name": "better", "stages.know.pass_prob": 0.7})
    result = compare([base, other], reps=3, seed=1, backend="serial")
    fig = delta_figure(result.table, ["buyers", "revenue"])
    assert [t.name for t in fig.data] == ["better"]
    assert fig.data[0].y[0] == pytest.approx(
        result.table.set_index(["scenario", "kpi"]).loc[("better", "buyers"), "delta_pct"]
    )
    bars = conversion_bars({n: r.stage_summary() for n, r in result.runs.items()})
    assert [t.name for t in bars.data] == ["test", "better"]
    know = [t.y[0] for t in bars.data]
    assert know[1] > know[0]
    assert isinstance(pd.DataFrame(result.table), pd.DataFrame)


def test_lower_half_widths_replace_repeat_and_refer(run):
    k = kpis(run)
    lower = {"repeat": k["repeat_purchases"], "refer": k["referred_prospects"]}
    bars = hourglass_figure(stage_table(run), lower=lower).data[0]
    assert list(bars.x[5:]) == [lower["repeat"], lower["refer"]]
    assert bars.text[5] == f"{lower['repeat']:,.0f}"  # no conversion for a count of events
    assert bars.x[4] == stage_table(run).set_index("stage").loc["buy", "entered"]


def test_animation_frames_grow_to_the_final_hourglass(run):
    filled = filling(daily_table(run))
    fig = hourglass_animation(filled, step_days=30)
    assert [f.name for f in fig.frames] == ["30", "60", "90", "120"]
    assert list(fig.frames[-1].data[0].x) == filled.iloc[-1].tolist()
    know = [f.data[0].x[0] for f in fig.frames]
    assert know == sorted(know) and know[0] < know[-1]
    assert fig.layout.xaxis.range[1] == pytest.approx(0.55 * filled.to_numpy().max())
    assert len(fig.layout.sliders[0].steps) == 4


def test_overlay_draws_each_scenario_with_its_band():
    base = make_scenario(horizon_days=20.0)
    other = base.with_overrides({"name": "better", "stages.know.pass_prob": 0.5})
    result = compare([base, other], reps=3, seed=1, backend="serial")
    bands = {n: r.daily_bands() for n, r in result.runs.items()}
    fig = overlay_figure(bands, "buyers", x="day")
    assert [t.name for t in fig.data if t.showlegend is not False] == ["test", "better"]
    medians = fig.data[1::2]
    assert list(medians[1].y) == bands["better"].query("series == 'buyers'")["p50"].tolist()
    monthly = band_figure(
        bands["test"].rename(columns={"day": "month"}), ["buyers"], x="month", percent=True
    )
    assert monthly.layout.xaxis.title.text == "month"
    assert monthly.layout.yaxis.tickformat == ".0%"


def test_theory_svg_draws_each_stage_as_wide_as_its_people():
    import xml.etree.ElementTree as ET

    entered = {"know": 1000.0, "like": 500.0, "trust": 250.0, "try": 100.0, "buy": 10.0}
    svg = theory_svg(entered, labels="ru", title="A <sketch> & more")
    root = ET.fromstring(svg)  # well-formed, the title's markup escaped
    ns = {"s": "http://www.w3.org/2000/svg"}
    bars = root.findall("s:rect", ns)
    widths = [float(b.get("width")) for b in bars]
    assert len(bars) == 5
    np.testing.assert_allclose(widths, [400.0, 200.0, 100.0, 40.0, 4.0])
    centres = [float(b.get("x")) + w / 2 for b, w in zip(bars, widths, strict=True)]
    np.testing.assert_allclose(centres, centres[0])  # centred, as the hourglass is
    texts = [t.text for t in root.findall("s:text", ns)]
    assert texts[0] == "A <sketch> & more"
    assert "Знать" in texts and "1,000" in texts and "10" in texts
