"""Figure builders: the numbers drawn are the numbers given, labels follow the choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hourglass import compare, replicate, simulate, theory
from hourglass.analysis import daily_table, filling, kpis, loss_table, stage_table
from hourglass.config import load_scenario
from hourglass.i18n import language
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
from hourglass.plots.network import log_ticks
from hourglass.plots.style import LOWER
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
    node = fig.data[0].node
    price = int(losses.set_index(["stage", "reason"]).loc[("buy", "price"), "lost"])
    at = next(i for i, label in enumerate(node.label) if f"price: {price:,}" in label)
    buy, customers = FUNNEL.index("buy"), len(FUNNEL)
    assert node.x[buy] < node.x[at] < node.x[customers]  # beside Buy, between it and after
    assert node.y[at] > node.y[buy]  # below the flow, so no loss crosses it
    assert node.label[0] == f"Know<br>{know['entered']:,.0f}"


def test_sankey_names_loss_reasons_in_russian(run):
    with language("ru"):
        fig = sankey_figure(stage_table(run), loss_table(run), labels="seven_ru")
    labels = fig.data[0].node.label
    assert labels[0].startswith("Охват<br>")
    assert any(label.startswith("нет интереса: ") for label in labels)
    assert any("<br>цена: " in label or label.startswith("цена: ") for label in labels)
    assert fig.layout.title.text == "Потоки и потери"


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
    assert [a.text for a in fig.layout.annotations] == ["% of the baseline"]
    bars = conversion_bars({n: r.stage_summary() for n, r in result.runs.items()})
    assert [t.name for t in bars.data] == ["test", "better"]
    know = [t.y[0] for t in bars.data]
    assert know[1] > know[0]
    assert isinstance(pd.DataFrame(result.table), pd.DataFrame)


def test_the_lower_half_is_people_on_the_funnels_scale(run):
    table = stage_table(run).set_index("stage")
    referred = float(kpis(run)["referred_prospects"])
    fig = hourglass_figure(stage_table(run), referred=referred)
    bars = fig.data[0]
    assert list(bars.x[5:]) == [table.loc["repeat", "entered"], table.loc["refer", "entered"]]
    assert table.loc["refer", "entered"] == referred  # Refer: the prospects customers brought
    assert "Widths: people, one scale" in fig.layout.legend.title.text
    assert "Refer: prospects customers brought." in fig.layout.legend.title.text


def test_referral_driven_shows_the_hourglass_turned_over():
    """Know's referred part, drawn in the lower half's colour, outweighs its outside part."""
    run = simulate(load_scenario("referral_driven").with_overrides({"horizon_days": 360}), 3)
    k = kpis(run)
    fig = hourglass_figure(stage_table(run), referred=k["referred_prospects"])
    referred_part = fig.data[1]
    assert referred_part.marker.color == LOWER
    assert referred_part.x[0] == k["referred_prospects"] > k["outside_prospects"]
    know = fig.data[0].x[0]
    assert referred_part.base[0] + referred_part.x[0] == pytest.approx(know / 2)  # right edge
    assert fig.data[0].x[-1] > k["buyers"]  # Refer wider than the waist


def test_log_ticks_are_labelled_once_each():
    assert log_ticks(1) == [1, 2]
    assert log_ticks(120) == [1, 2, 5, 10, 20, 50, 100, 200]


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


def test_shares_change_in_points_and_rates_in_their_units_beside_percent_changes():
    """Shares move in percentage points, never "-100%"; intervals stop where values end."""
    rows = [
        ("buyers", 1000.0, -50.0, -80.0, -20.0),
        ("referral_share", 0.073, -0.073, -0.09, -0.056),
        ("k_factor", 0.32, -0.32, -0.40, -0.24),
    ]
    table = pd.DataFrame(
        [
            {"scenario": "quiet", "kpi": k, "base": b, "delta": d, "ci_low": lo, "ci_high": hi}
            for k, b, d, lo, hi in rows
        ]
    )
    fig = delta_figure(table, ["buyers", "referral_share", "k_factor"])
    percent, points, own = fig.data
    assert percent.y[0] == pytest.approx(-5.0)
    assert points.y[0] == pytest.approx(-7.3)
    assert points.y[0] - points.error_y.arrayminus[0] == pytest.approx(-7.3)  # share >= 0
    assert points.y[0] + points.error_y.array[0] == pytest.approx(-5.6)
    assert own.y[0] == pytest.approx(-0.32)
    assert own.y[0] - own.error_y.arrayminus[0] == pytest.approx(-0.32)  # K-factor >= 0
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["% of the baseline", "percentage points", "own units"]
    assert [t.showlegend for t in fig.data] == [True, False, False]
