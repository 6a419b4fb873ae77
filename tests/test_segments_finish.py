"""Segments with their own margin, buying committee and service ladder; the work they make."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from hourglass import ScenarioError, analysis, replicate, simulate
from hourglass.analysis.accounts import customer_table
from hourglass.analysis.segments import segment_table
from hourglass.config.arguments import as_scenario
from hourglass.config.plan import compile_plan
from hourglass.config.work import estimate_work
from hourglass.experiments.replication import seed_child
from hourglass.stages import DAYS_PER_MONTH
from hourglass.theory import expected_outcome, expected_segments
from hourglass.theory_money import bgnbd_alive, lapse_mixture
from tests.helpers import ROOT, exits_2_saying, make_scenario, run_cli

# every stage passes at once; two segments share the organic arrivals
TWO = {
    "small": {"share": {"organic": 0.6}, "cost_to_serve_per_month": 0.0},
    "large": {"share": {"organic": 0.4}, "cost_to_serve_per_month": 0.0},
}
LADDER = {
    "levels": [
        {"name": "basic", "value_per_month": 30.0, "cost_to_serve_per_month": 6.0},
        {"name": "full", "value_per_month": 300.0, "cost_to_serve_per_month": 60.0},
    ],
    "upgrade_per_month": [0.0],
}
"""A ladder nobody climbs: each customer holds the start level to the horizon."""
HILL = {"hill": {"max_effect": 1.0, "half_saturation": 4000.0}}


def _two(**large: object):
    segments = {"small": dict(TWO["small"]), "large": {**TWO["large"], **large}}
    return make_scenario(segments=segments, after_sale__margin=0.5)


def _buyers(run) -> np.ndarray:
    """Each segment's buyers (first purchases)."""
    p, segment = run.log.purchases, run.log.prospects["segment"]
    return np.bincount(segment[p["customer"][p["kind"] == 0]], minlength=2)


def test_a_segments_own_margin_counts_in_its_profit_and_the_totals():
    run = simulate(_two(margin=0.9), seed=3)
    small, large = _buyers(run)
    table = segment_table(run).set_index("name")
    # no cost, no repeats: margin after serving is margin x buyers x the order value of 100
    assert table.loc["small", "margin_after_serve"] == pytest.approx(0.5 * 100.0 * small)
    assert table.loc["large", "margin_after_serve"] == pytest.approx(0.9 * 100.0 * large)
    assert table.loc["large", "ltv"] == pytest.approx(90.0)
    kpis = analysis.kpis(run)
    assert kpis["profit"] == pytest.approx(table["profit"].sum())
    assert kpis["ltv"] == pytest.approx((50.0 * small + 90.0 * large) / (small + large))
    profit = customer_table(run).groupby("segment")["profit"].sum()
    assert profit["large"] == pytest.approx(90.0 * large)


def test_a_segments_own_committee_vetoes_only_its_deals():
    veto = {
        "roles": {"legal": {"approval": 0.0, "weight": 1.0}},
        "order": {"default": ["legal"]},
    }
    run = simulate(_two(committee=veto), seed=3)
    small, large = _buyers(run)
    prospects = np.bincount(run.log.prospects["segment"], minlength=2)
    assert (small, large) == (prospects[0], 0)
    assert run.log.roles == ("legal",)
    assert len(run.log.answers["deal"]) == prospects[1]


def test_theory_asks_each_segments_own_committee():
    veto = {"roles": {"legal": {"approval": 0.0}}, "order": {"default": ["legal"]}}
    expected = expected_outcome(_two(committee=veto))
    # 50 prospects a day for 100 days all buy at once, but the large segment's 40% are vetoed
    assert expected["buyers"] == pytest.approx(0.6 * 50.0 * 100.0, rel=0.01)


def test_segment_committees_log_the_runs_roles_by_one_code():
    cfo = {"roles": {"cfo": {"approval": 1.0}}, "order": {"default": ["cfo"]}}
    legal = {"roles": {"legal": {"approval": 0.0}}, "order": {"default": ["legal"]}}
    scenario = make_scenario(
        segments={"small": TWO["small"], "large": {**TWO["large"], "committee": legal}},
        committee=cfo,
    )
    run = simulate(scenario, seed=3)
    assert run.log.roles == ("cfo", "legal")
    segment = run.log.prospects["segment"][run.log.answers["deal"]]
    assert set(run.log.answers["role"][segment == 0]) == {0}
    assert set(run.log.answers["role"][segment == 1]) == {1}
    assert _buyers(run)[1] == 0


def test_a_segments_own_ladder_brings_its_own_fees():
    own = {
        "levels": [
            {"name": "basic", "value_per_month": 90.0, "cost_to_serve_per_month": 9.0},
            {"name": "full", "value_per_month": 900.0},
        ],
        "upgrade_per_month": [0.0],
    }
    scenario = make_scenario(
        segments={"small": TWO["small"], "large": {**TWO["large"], "service_ladder": own}},
        after_sale={"order_value": {"fixed": {"value": 100.0}}, "service_ladder": LADDER},
    )
    run = simulate(scenario, seed=3)
    customers = customer_table(run)
    held = (run.log.horizon_days - customers["first_day"]) / DAYS_PER_MONTH
    fee = customers["segment"].map({"small": 30.0, "large": 90.0})
    cost = customers["segment"].map({"small": 6.0, "large": 9.0})
    assert customers["revenue"].to_numpy() == pytest.approx((100.0 + fee * held).to_numpy())
    assert customers["cost_to_serve"].to_numpy() == pytest.approx((cost * held).to_numpy())
    table = segment_table(run).set_index("name")
    expected = customers.groupby("segment")["revenue"].sum()
    assert table.loc["large", "revenue"] == pytest.approx(expected["large"])


def test_theory_gives_a_segment_its_own_ladders_fees():
    own = {
        **LADDER,
        "levels": [{**LADDER["levels"][0], "value_per_month": 90.0}, LADDER["levels"][1]],
    }
    scenario = make_scenario(
        segments={"small": TWO["small"], "large": {**TWO["large"], "service_ladder": own}},
        after_sale={"order_value": {"fixed": {"value": 100.0}}, "service_ladder": LADDER},
    )
    expected = expected_segments(scenario)
    # 50 buyers a day for 100 days, each holding the first level for 50 days on average
    months = 50.0 / DAYS_PER_MONTH
    assert expected["large"]["revenue"] == pytest.approx(2000 * (100 + 90 * months), rel=0.02)
    assert expected["small"]["revenue"] == pytest.approx(3000 * (100 + 30 * months), rel=0.02)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            {"service_ladder": {**LADDER, "levels": LADDER["levels"][::-1]}},
            "segments.large.service_ladder.levels: name the scenario's levels in order "
            "(basic, full), got full, basic",
        ),
        (
            {"service_ladder": {**LADDER, "budget": {"per_month": 10.0, "response": HILL}}},
            "segments.large.service_ladder.budget: account management is the scenario's",
        ),
        (
            {
                "committee": {
                    "stage": "try",
                    "roles": {"x": {"approval": 1}},
                    "order": {"default": ["x"]},
                }
            },
            "segments.large.committee.stage: 'try' differs from the committee stage 'buy'",
        ),
        ({"margin": 1.5}, "margin"),
        ({"committee": {"roles": {"x": {"aproval": 1}}, "order": {"default": ["x"]}}}, "aproval"),
    ],
)
def test_a_segment_part_that_does_not_fit_is_refused(tmp_path, change, words):
    cfo = {"roles": {"cfo": {"approval": 1.0}}, "order": {"default": ["cfo"]}}
    data = yaml.safe_load((ROOT / "scenarios" / "b2b_segments.yaml").read_text())
    data["after_sale"]["service_ladder"] = LADDER
    data["committee"] = cfo
    data["segments"]["enterprise"].update(change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    exits_2_saying(["run", str(path)], words.replace("large", "enterprise"))


def test_a_segment_ladder_needs_the_scenarios():
    with pytest.raises(ScenarioError, match=r"the scenario has no after_sale\.service_ladder"):
        _two(service_ladder=LADDER)


@pytest.mark.parametrize("name", ["b2b_segments", "key_accounts"])
def test_the_work_estimate_is_within_ten_percent_of_the_events(name):
    scenario = as_scenario(name)
    estimate = estimate_work(scenario)
    log = simulate(scenario, seed=1).log
    rows = {
        "prospects": log.prospects["arrival"],
        "stage visits": log.visits["prospect"],
        "purchases": log.purchases["customer"],
        "loyalty moves": log.moves["customer"],
        "referral contacts": log.contacts["referrer"],
        "level moves": log.level_moves["customer"] if log.level_moves is not None else [],
    }
    for part in ("prospects", "purchases", "loyalty moves", "level moves"):
        events = len(rows[part])
        assert math.isclose(estimate.parts[part], events, rel_tol=0.10, abs_tol=50), part
    total = sum(len(column) for column in rows.values())
    assert estimate.events_per_run == pytest.approx(total, rel=0.10)


def test_a_sweeps_json_has_each_points_key_accounts_as_run_gives_them(tmp_path):
    common = ["key_accounts", "--reps", "2", "--seed", "1", "--json", "--backend", "serial"]
    sweep = ["sweep", *common, "--vary", "after_sale.margin=0.8", "--out", str(tmp_path)]
    first = json.loads(run_cli(sweep).stdout)
    alone = json.loads(run_cli(["run", *common]).stdout)
    assert first["accounts"] == [{"after_sale.margin": 0.8, "accounts": alone["accounts"]}]
    resumed = json.loads(run_cli([*sweep, "--resume"]).stdout)  # read back from the point file
    assert resumed["accounts"] == first["accounts"]


# -- theory with BG/NBD repeats: customers who buy often drop out early --------------------

BGNBD = {"r": 0.5, "alpha": 8.0, "a": 0.8, "b": 2.5, "period_days": 7.0}
LOYALTY = {
    "start": "one_time",
    "transitions_per_month": {
        "one_time": {"regular": 0.40, "temporarily_lost": 0.05},
        "regular": {"loyal": 0.25, "temporarily_lost": 0.03},
        "loyal": {"committed": 0.15, "temporarily_lost": 0.02},
        "committed": {"fan": 0.08, "temporarily_lost": 0.01},
        "temporarily_lost": {"regular": 0.20, "former": 0.30},
        "former": {"regular": 0.02},
    },
}


def test_bgnbd_drop_out_rates_weigh_to_the_closed_form_alive_chance():
    scenario = make_scenario(after_sale__repeat={"bgnbd": BGNBD})
    rates, weights = lapse_mixture(compile_plan(scenario).segments[0], skill=1.0)
    days = np.array([0.0, 7.0, 70.0, 365.0, 730.0])
    mixed = weights @ np.exp(-np.outer(rates, days))
    alive = bgnbd_alive(days / 7.0, 0.5, 8.0, 0.8, 2.5)
    assert mixed == pytest.approx(alive, rel=3e-4)


def test_theory_follows_bgnbd_customers_at_the_end_and_their_referrals():
    scenario = make_scenario(
        horizon_days=300.0,
        market={"size": 1_000_000},
        channels={"organic": {"prospects_per_day": 15.0}},
        after_sale={
            "order_value": {"fixed": {"value": 100.0}},
            "repeat": {"bgnbd": BGNBD},
            "loyalty": LOYALTY,
        },
        referral={"contacts_per_month": {"loyal": 1.0, "committed": 3.0}, "win_prob": 0.25},
    )
    kpis = replicate(scenario, 5, seed=1, backend="serial").kpis
    expected = expected_outcome(scenario)
    for name in ("customers_end", "referred_prospects"):
        simulated = kpis[name].to_numpy(float)
        error = simulated.std(ddof=1) / math.sqrt(len(simulated))
        assert abs(expected[name] - simulated.mean()) < 4 * error, name


def test_run_out_saves_the_level_moves_and_they_read_back_equal(tmp_path):
    out = tmp_path / "saved"
    proc = run_cli(["run", "key_accounts", "--reps", "2", "--seed", "1", "--out", str(out)])
    assert proc.returncode == 0, proc.stderr
    saved = pd.read_parquet(out / "level_moves.parquet")
    result = replicate(as_scenario("key_accounts"), 2, seed=1, backend="serial")
    pd.testing.assert_frame_equal(saved, result.level_moves)
    first = simulate(as_scenario("key_accounts"), seed_child(1, 0)).log.level_moves
    mine = saved[saved["rep"] == 0]
    assert mine["time"].tolist() == first["time"].tolist()
    assert set(mine["level"]) == {"audit", "support", "outsourcing", "full_partnership", "left"}
