"""Customer segments: shares of each channel, parameters by segment, results that add up."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest
import yaml
from streamlit.testing.v1 import AppTest

import hourglass as hg
from hourglass import analysis, load_scenario, replicate, simulate
from hourglass.plots.style import LOST, LOWER
from hourglass.stages import DAYS_PER_MONTH, FUNNEL
from tests.helpers import ROOT, exits_2_saying, invoke_cli, make_scenario

# two segments meeting the funnel differently: their own pass probabilities or multipliers
SEGMENTS = {
    "small": {
        "share": {"ads": 0.7, "organic": 0.4},
        "stages": {"know": {"pass_prob": 0.95}, "buy": {"pass_mult": 0.5}},
        "order_value": {"fixed": {"value": 50.0}},
        "cost_to_serve_per_month": 3.0,
    },
    "large": {
        "share": {"ads": 0.3, "organic": 0.6},
        "stages": {"trust": {"pass_prob": 0.4, "duration": {"fixed": {"days": 0.001}}}},
        "order_value": {"fixed": {"value": 700.0}},
        "cost_to_serve_per_month": 90.0,
    },
}
PASS = {"know": 0.9, "like": 0.9, "trust": 0.9, "try": 0.9, "buy": 0.9}
"""The scenario's own pass probabilities, which the segments change."""


def _segmented(**changes):
    stages = {n: {"pass_prob": p, "duration": {"fixed": {"days": 0.0}}} for n, p in PASS.items()}
    return make_scenario(
        stages=stages,
        channels={
            "paid": {"ads": {"budget_per_month": 30_000.0, "cost_per_prospect": 2.0}},
            "organic": {"prospects_per_day": 700.0},
        },
        segments=SEGMENTS,
        **changes,
    )


def _pass_through(segment: dict) -> float:
    """∏_k p_{s,k}: the segment's chance to pass every funnel stage."""
    product = 1.0
    for name in FUNNEL:
        own = segment.get("stages", {}).get(name, {})
        product *= own.get("pass_prob", PASS[name]) * own.get("pass_mult", 1.0)
    return product


def test_buyers_follow_the_segment_mix_of_each_channel():
    """Buyers = Σ_channel prospects x Σ_s share_s x ∏_k p_{s,k}, within 4 standard errors.

    About 180,000 prospects and 50,000 buyers: the standard error is under 0.4% of the
    buyers, so a bias of 2% would be more than 5 of them.
    """
    run = simulate(_segmented(horizon_days=150.0), seed=3)
    p = run.log.prospects
    early = p["arrival"] < run.log.horizon_days - 1.0  # all decided by the horizon
    first = run.log.purchases["kind"] == 0
    bought = np.zeros(len(p["arrival"]), bool)
    bought[run.log.purchases["customer"][first]] = True
    expected = variance = 0.0
    for code, channel in enumerate(run.log.channels):
        n = int((early & (p["channel"] == code)).sum())
        q = sum(s["share"].get(channel, 0.0) * _pass_through(s) for s in SEGMENTS.values())
        expected += n * q
        variance += n * q * (1.0 - q)
    buyers = int(bought[early].sum())
    assert math.sqrt(variance) < 0.004 * expected
    assert abs(buyers - expected) < 4.0 * math.sqrt(variance), (buyers, expected)


def test_segments_are_drawn_by_each_channels_shares():
    """The share of each segment among a channel's prospects is its share, within 4 SE."""
    run = simulate(_segmented(), seed=4)
    p = run.log.prospects
    assert run.log.segments == ("small", "large")
    for code, channel in enumerate(run.log.channels[:2]):
        mine = p["segment"][p["channel"] == code]
        share = SEGMENTS["small"]["share"][channel]
        sem = math.sqrt(share * (1 - share) / len(mine))
        assert abs((mine == 0).mean() - share) < 4 * sem


def test_order_values_follow_the_segment():
    """Each purchase is worth its customer's segment's order value."""
    run = simulate(_segmented(horizon_days=30.0), seed=5)
    segment = run.log.prospects["segment"][run.log.purchases["customer"]]
    values = run.log.purchases["value"]
    assert set(values[segment == 0]) == {50.0}
    assert set(values[segment == 1]) == {700.0}


def test_a_scenario_without_segments_has_one_unnamed_segment():
    run = simulate(make_scenario(horizon_days=10.0), seed=1)
    assert run.log.segments == ()
    assert not run.log.prospects["segment"].any()


def _written(tmp_path: Path, segments: dict) -> str:
    scenario = _segmented(horizon_days=10.0).to_dict()
    scenario["segments"] = segments
    path = tmp_path / "segments.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return str(path)


def test_shares_that_do_not_add_up_name_the_channel_and_the_sum(tmp_path: Path):
    segments = {**SEGMENTS, "large": {**SEGMENTS["large"], "share": {"ads": 0.3, "organic": 0.5}}}
    exits_2_saying(
        ["check", _written(tmp_path, segments)],
        "segments: the shares of channel 'organic' add up to 0.9, not 1",
    )


def test_a_channel_no_segment_shares_is_refused(tmp_path: Path):
    segments = {
        name: {**spec, "share": {"ads": spec["share"]["ads"]}} for name, spec in SEGMENTS.items()
    }
    exits_2_saying(
        ["check", _written(tmp_path, segments)],
        "segments: the shares of channel 'organic' add up to 0, not 1",
    )


def test_a_misspelt_segment_field_gets_a_did_you_mean(tmp_path: Path):
    small = {k: v for k, v in SEGMENTS["small"].items() if k != "order_value"}
    small["order_valeu"] = SEGMENTS["small"]["order_value"]
    exits_2_saying(
        ["check", _written(tmp_path, {**SEGMENTS, "small": small})],
        "segments.small.order_valeu: unknown key 'order_valeu'; did you mean 'order_value'?",
    )


def test_a_share_of_an_unknown_channel_gets_a_did_you_mean(tmp_path: Path):
    small = {**SEGMENTS["small"], "share": {"adds": 0.7, "organic": 0.4}}
    exits_2_saying(
        ["run", _written(tmp_path, {**SEGMENTS, "small": small})],
        "segments.small.share.adds: not a channel; did you mean 'ads'?",
    )


def test_a_stage_takes_a_probability_or_a_multiplier_not_both(tmp_path: Path):
    stages = {"buy": {"pass_prob": 0.5, "pass_mult": 0.5}}
    small = {**SEGMENTS["small"], "stages": stages}
    exits_2_saying(
        ["check", _written(tmp_path, {**SEGMENTS, "small": small})],
        "segments.small.stages.buy: give pass_prob or pass_mult, not both",
    )


def test_segments_add_up_to_the_totals():
    """Prospects, buyers, revenue, cost and profit of the segments sum to the run's KPIs."""
    scenario = _segmented(horizon_days=60.0, warmup_days=10.5).with_overrides(
        {"after_sale.margin": 0.6}
    )
    run = simulate(scenario, seed=6)
    table = analysis.segment_table(run)
    totals = analysis.kpis(run)
    assert list(table["name"]) == ["small", "large"]
    for column in ("prospects", "buyers"):
        assert table[column].sum() == totals[column]
    assert table["revenue"].sum() == pytest.approx(totals["revenue"], rel=1e-12)
    cost = table["acquisition_cost"].sum() + table["cost_to_serve"].sum()
    assert cost == pytest.approx(totals["cost"], rel=1e-12)
    assert table["profit"].sum() == pytest.approx(totals["profit"], rel=1e-12)
    stages = analysis.segment_stages(run).groupby("stage", sort=False)["entered"].sum()
    assert stages.tolist() == analysis.stage_table(run)["entered"].tolist()


def test_cost_to_serve_is_each_segments_rate_times_its_active_customer_months():
    """No one lapses here, so every buyer is active from the first purchase to the horizon."""
    run = simulate(_segmented(horizon_days=40.0), seed=7)
    table = analysis.segment_table(run)
    p = run.log.purchases
    first = p["kind"] == 0
    segment = run.log.prospects["segment"][p["customer"][first]]
    horizon = run.log.horizon_days
    for code, name in enumerate(run.log.segments):
        # served from the close of the day of the first purchase
        days = (horizon - np.floor(p["time"][first][segment == code])).sum()
        rate = SEGMENTS[name]["cost_to_serve_per_month"]
        assert table["cost_to_serve"][code] == pytest.approx(rate * days / DAYS_PER_MONTH)
    small, large = table["cost_to_serve"] / table["buyers"]
    assert large / small == pytest.approx(30.0, rel=0.05)  # 90 against 3 a month


def test_run_json_lists_the_segments(tmp_path: Path):
    path = _written(tmp_path, SEGMENTS)
    doc = json.loads(invoke_cli(["run", path, "--json", "--seed", "1"]).stdout)
    names = [s["name"] for s in doc["segments"]]
    assert names == ["small", "large"]
    assert sum(s["buyers"] for s in doc["segments"]) == doc["kpis"]["buyers"]
    assert {"prospects", "revenue", "cost_to_serve", "profit", "cac", "ltv"} <= set(
        doc["segments"][0]
    )
    banded = json.loads(
        invoke_cli(["run", path, "--json", "--reps", "3", "--backend", "serial"]).stdout
    )
    assert set(banded["segments"][1]["buyers"]) == {"mean", "p5", "p95"}


def test_the_shipped_lesson_holds_in_its_golden_run():
    """The b2b_segments lesson is what its golden run shows.

    Enterprises have the best LTV:CAC but the least profit; the mid-market, about a quarter
    of the buyers, brings about three quarters of the profit.
    """
    doc = json.loads((ROOT / "tests" / "golden" / "b2b_segments.json").read_text())
    by_name = {s["name"]: s for s in doc["segments"]}
    best_ratio = max(by_name, key=lambda n: by_name[n]["ltv_cac"])
    least_profit = min(by_name, key=lambda n: by_name[n]["profit"])
    assert best_ratio == least_profit == "enterprise"
    mid = by_name["mid_market"]
    assert 0.2 < mid["buyers"] / doc["kpis"]["buyers"] < 0.3
    assert 0.7 < mid["profit"] / doc["kpis"]["profit"] < 0.8


def _marketer(language: str) -> AppTest:
    """The Marketer page on the shipped segments scenario, in `language`."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180)
    at.session_state["reps"] = 2
    at.session_state["chosen"] = "b2b_segments"
    at.query_params["lang"] = language
    at.switch_page("hourglass/app/pages/scenario.py").run()
    at.switch_page("hourglass/app/pages/marketer.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize(
    ("language", "title", "profit"),
    [
        ("en", "Where the profit is, by segment", "Profit"),
        ("ru", "Где прибыль: по сегментам", "Прибыль"),
    ],
)
def test_the_marketer_page_shows_profit_by_segment(language: str, title: str, profit: str):
    """The segments table and chart show the simulated means, in the reader's language."""
    at = _marketer(language)
    assert title in [s.value for s in at.subheader]
    table = at.table[0].value
    expected = analysis.segment_summary(
        replicate(load_scenario("b2b_segments"), 2, 1, "serial").segments
    )
    assert list(table.iloc[:, 0]) == ["smb", "mid_market", "enterprise"]
    assert table[profit].tolist() == pytest.approx(expected["profit"].tolist())
    chart = next(
        pio.from_json(c.proto.spec)
        for c in at.get("plotly_chart")
        if "segment" in pio.from_json(c.proto.spec).layout.title.text.lower()
        or "сегмент" in pio.from_json(c.proto.spec).layout.title.text
    )
    assert chart.layout.yaxis.title.text == profit
    assert len(chart.data[0].x) == 3


def test_the_profit_figure_draws_each_segments_mean_and_marks_a_loss():
    frame = pd.DataFrame(
        {
            "name": ["a", "b", "a", "b"],
            "profit": [100.0, -50.0, 300.0, -150.0],
            "rep": [0, 0, 1, 1],
        }
    )
    fig = hg.plots.segment_profit_figure(frame)
    assert list(fig.data[0].y) == [200.0, -100.0]
    assert fig.data[0].marker.color == (LOWER, LOST)
    assert [a.text for a in fig.layout.annotations] == ["200", "-100"]
    assert fig.layout.yaxis.range[0] < -150.0 < 300.0 < fig.layout.yaxis.range[1]


def test_the_expected_funnel_mixes_the_segments_by_their_shares_of_the_contacts():
    """Expected buyers per outside prospect: Σ_c rate_c Σ_s share_{c,s} ∏_k p_{s,k} / Σ_c rate_c."""
    scenario = _segmented()
    rates = {"ads": 30_000.0 / DAYS_PER_MONTH / 2.0, "organic": 700.0}
    mix = sum(
        rate * sum(s["share"][channel] * _pass_through(s) for s in SEGMENTS.values())
        for channel, rate in rates.items()
    ) / sum(rates.values())
    assert hg.theory.expected_entries(scenario, 1.0, 0.0)["buyers"] == pytest.approx(mix)
