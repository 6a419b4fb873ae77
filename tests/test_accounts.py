"""Key accounts: the service ladder's chain, the four kinds of client and the whale curve."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hourglass import load_scenario, replicate, simulate
from hourglass.analysis import metrics
from hourglass.analysis.accounts import (
    accounts_summary,
    customer_table,
    kind_table,
    placed,
    share_bands,
    whale_band,
    whale_curve,
    whale_summary,
)
from hourglass.log import LEFT_SERVICE
from hourglass.stages import DAYS_PER_MONTH
from hourglass.theory import ladder_occupancy
from tests.helpers import ROOT, exits_2_saying, golden, make_scenario, shipped_run

LADDER = {
    "levels": [
        {"name": "audit", "value_per_month": 100.0, "cost_to_serve_per_month": 20.0},
        {"name": "support", "value_per_month": 300.0, "cost_to_serve_per_month": 150.0},
        {"name": "outsourcing", "value_per_month": 900.0, "cost_to_serve_per_month": 700.0},
        {"name": "partnership", "value_per_month": 2000.0, "cost_to_serve_per_month": 2400.0},
    ],
    "upgrade_per_month": [0.3, 0.2, 0.1],
    "downgrade_per_month": [0.05, 0.05, 0.1],
    "churn_per_month": [0.04, 0.02, 0.02, 0.03],
}
SPEND_EFFECT = {"per_month": 500.0, "response": {"linear": {"per_unit": 0.001, "cap": 2.0}}}
"""Account management at 500 a month on a linear curve: an effect of 0.5 on upgrades."""


def ladder_scenario(**changes):
    """Customers who only climb the ladder: no prospects, no repeats."""
    return make_scenario(
        channels__organic__prospects_per_day=0.0,
        horizon_days=181.0,
        after_sale__service_ladder={**LADDER, "budget": SPEND_EFFECT},
        **changes,
    )


def test_account_management_multiplies_the_upgrade_rates_by_the_curve():
    scenario = ladder_scenario()
    ladder = scenario.after_sale.service_ladder
    q = ladder.generator() * DAYS_PER_MONTH
    assert ladder.upgrade_factor() == pytest.approx(1.5)
    assert [q[0, 1], q[1, 2], q[2, 3]] == pytest.approx([0.45, 0.3, 0.15])
    assert q[1, 0] == pytest.approx(0.05) and q[3, 4] == pytest.approx(0.03)


def test_simulated_levels_follow_the_matrix_exponential():
    n = 20_000
    scenario = ladder_scenario()
    run = simulate(scenario, seed=3, cohort=[0.0] * n)
    times = np.array([30.0, 90.0, 180.0])
    expected = ladder_occupancy(scenario.after_sale.service_ladder, times) * n
    moves = pd.DataFrame(run.log.level_moves)
    for row, t in enumerate(times):
        at_t = moves[moves["time"] <= t].groupby("customer")["level"].last()
        counts = at_t.replace(LEFT_SERVICE, 4).value_counts().reindex(range(5), fill_value=0)
        p = expected[row] / n
        se = np.sqrt(n * p * (1 - p))
        assert np.all(np.abs(counts.to_numpy() - expected[row]) < 4 * se + 1e-9), (t, counts)
    # a 2-point bias in any level's share would be more than 4 standard errors
    assert 4 * np.sqrt(0.25 / n) < 0.02


def test_a_level_held_brings_its_value_and_cost_per_day_held():
    """Ten customers hold one level for 100 days: 1 a day in fees, 0.5 a day to serve."""
    one_level = {
        "levels": [
            {"name": "audit", "value_per_month": DAYS_PER_MONTH, "cost_to_serve_per_month": 15.0},
            {"name": "support", "value_per_month": 0.0},
        ],
        "upgrade_per_month": [0.0],
    }
    scenario = make_scenario(
        channels__organic__prospects_per_day=0.0,
        after_sale__service_ladder=one_level,
        after_sale__margin=0.5,
    )
    run = simulate(scenario, seed=1, cohort=[0.0] * 10)
    k = metrics.kpis(run)
    serve = 10 * 100 * 15.0 / DAYS_PER_MONTH
    assert k["revenue"] == pytest.approx(10 * 100.0 + 10 * 100.0)
    assert k["cost"] == pytest.approx(serve)
    assert k["profit"] == pytest.approx(0.5 * 2000.0 - serve)
    assert k["ltv"] == pytest.approx(0.5 * 200.0)


def ladder_run(seed: int = 2):
    """A small shop whose customers climb the ladder and move between loyalty classes."""
    scenario = make_scenario(
        horizon_days=200.0,
        channels__organic__prospects_per_day=5.0,
        after_sale__margin=0.6,
        after_sale__cost_to_serve_per_month=10.0,
        after_sale__repeat={"simple": {"purchases_per_month": 0.5, "dropout_prob": 0.1}},
        after_sale__loyalty={"transitions_per_month": {"one_time": {"regular": 0.3}}},
        after_sale__service_ladder=LADDER,
    )
    return simulate(scenario, seed=seed)


def test_the_whale_curve_ends_at_the_total_customer_profit():
    customers = customer_table(ladder_run())
    curve = whale_curve(customers)
    total = customers["profit"].sum()
    assert curve["cumulative_profit"].iloc[-1] == pytest.approx(total, rel=1e-12)
    assert curve["share_of_profit"].iloc[-1] == pytest.approx(1.0)
    gains = np.diff(curve["cumulative_profit"].to_numpy(), prepend=0.0)
    assert np.all(np.diff(gains) <= 0.0)  # the most profitable first


def test_the_kinds_partition_the_customers_and_sum_to_the_totals():
    run = ladder_run()
    customers = customer_table(run)
    kinds = kind_table(customers)
    assert kinds["kind"].tolist() == ["key", "developing_key", "maintained", "occasional"]
    assert kinds["customers"].sum() == len(customers) == metrics.kpis(run)["buyers"]
    assert customers["customer"].is_unique
    for column in ("revenue", "cost_to_serve", "profit"):
        assert kinds[column].sum() == pytest.approx(customers[column].sum(), rel=1e-12)
    # with no warm-up, every sale is a customer's: the customers' revenue is the run's
    assert customers["revenue"].sum() == pytest.approx(metrics.kpis(run)["revenue"], rel=1e-12)
    margin_after_serving = 0.6 * customers["revenue"] - customers["cost_to_serve"]
    assert customers["profit"].to_numpy() == pytest.approx(margin_after_serving.to_numpy())


def test_hand_placed_customers_fall_into_their_kinds():
    table = pd.DataFrame(
        {
            "customer": [0, 1, 2, 3],
            "revenue": [100.0, 90.0, 5.0, 8.0],
            "profit": [50.0, 40.0, 2.0, 1.0],
            "growth": [10.0, 9.0, -1.0, 0.0],
            "loyalty": ["fan", "one_time", "loyal", "former"],
            "share_of_wallet": [1.0, 0.25, 0.5, 0.0],
        }
    )
    out = placed(table)
    assert out["kind"].tolist() == ["key", "developing_key", "maintained", "occasional"]
    assert out["attractiveness_to_us"].tolist() == pytest.approx([1.0, 0.75, 1 / 3, 5 / 12])
    assert out["attractiveness_to_them"].tolist() == pytest.approx([1.0, 0.225, 0.55, 0.0])


def test_the_whale_summary_of_a_hand_made_curve():
    customers = pd.DataFrame({"profit": [5.0, -3.0, 10.0, -2.0]})
    summary = whale_summary(whale_curve(customers))
    assert summary == pytest.approx({"top20_share": 1.0, "peak_share": 1.5, "peak_at": 0.5})


def test_the_key_accounts_lesson_has_key_clients_who_lose_money():
    run = shipped_run("key_accounts", 1)
    kinds = kind_table(customer_table(run)).set_index("kind")
    assert kinds.loc["key", "profit"] < 0 < kinds.loc["occasional", "profit"]
    summary = whale_summary(whale_curve(customer_table(run)))
    assert summary["top20_share"] > 1.0 and summary["peak_share"] > 2.0


def _bad_ladder(tmp_path, old: str, new: str) -> str:
    text = (ROOT / "scenarios" / "key_accounts.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return str(path)


def test_a_misspelt_start_level_is_named_with_its_line(tmp_path):
    exits_2_saying(
        ["run", _bad_ladder(tmp_path, "start: audit", "start: adit")],
        "line 55: after_sale.service_ladder.start: 'adit' is not a level; did you mean 'audit'?",
    )


def test_a_misspelt_level_field_gets_a_did_you_mean(tmp_path):
    exits_2_saying(
        ["run", _bad_ladder(tmp_path, "value_per_month: 900,", "value_per_mnth: 900,")],
        "levels.1.value_per_mnth: unknown key 'value_per_mnth'; did you mean 'value_per_month'?",
    )


def test_too_few_upgrade_rates_say_how_many_are_needed(tmp_path):
    exits_2_saying(
        ["check", _bad_ladder(tmp_path, "[0.20, 0.15, 0.10]", "[0.20, 0.15]")],
        "upgrade_per_month: give 3 rates (one per step between neighbouring levels), got 2",
    )


def test_a_level_named_twice_is_refused(tmp_path):
    exits_2_saying(
        ["check", _bad_ladder(tmp_path, "name: support,", "name: audit,")],
        "line 47: after_sale.service_ladder.levels: 'audit' is named twice",
    )


def test_the_json_of_a_run_holds_its_key_accounts():
    accounts = golden("key_accounts")["accounts"]
    kinds = {row["kind"]: row for row in accounts["kinds"]}
    assert sum(row["customers"] for row in kinds.values()) == accounts["customers"]
    assert sum(row["profit"] for row in kinds.values()) == pytest.approx(accounts["total_profit"])
    assert kinds["key"]["profit"] < 0
    assert set(accounts["whale"]) == {"top20_share", "peak_share", "peak_at"}


def test_the_page_answers_first_and_draws_both_figures():
    from tests.test_dashboard import figures, open_page

    at = open_page("accounts", chosen="key_accounts")
    assert at.header[0].value == "Key accounts · key\\_accounts"
    run = shipped_run("key_accounts", 1)
    customers = customer_table(run)
    key = customers[customers["kind"] == "key"]
    losing = key[key["profit"] < 0]
    top = whale_summary(whale_curve(customers))["top20_share"]
    assert at.subheader[0].value == (
        f"The top 20% of customers earn {top:.0%} of the profit; {len(losing)} key clients "
        f"lose {-losing['profit'].sum():,.0f} after cost to serve."
    )
    table = at.dataframe[0].value
    assert table["kind"].tolist() == ["key", "developing key", "maintained", "occasional"]
    assert table["customers"].sum() == len(customers)
    account_map, whale = figures(at)
    assert [t.name for t in account_map.data] == table["kind"].tolist()
    assert whale.data[1].y is not None and len(whale.layout.shapes) == 1  # the 100% line


def test_the_page_bands_the_whale_curve_and_the_top_shares_across_replications():
    from tests.test_dashboard import figures, open_page, values

    at = open_page("accounts", chosen="key_accounts")
    summaries = replicate(load_scenario("key_accounts"), 2, seed=1, backend="serial").accounts
    band = whale_band(summaries)
    shares = share_bands(summaries).set_index("number")
    top, peak = shares.loc["top20_share"], shares.loc["peak_share"]
    assert at.markdown[0].value == (
        f"Across 2 runs the top 20% of customers earn {top['mean']:.0%} of the profit "
        f"(p5-p95: {top['p5']:.0%} to {top['p95']:.0%}), and the whale curve peaks at "
        f"{peak['mean']:.0%} ({peak['p5']:.0%} to {peak['p95']:.0%})."
    )
    assert "middle 90% of 2 runs" in " ".join(c.value for c in at.caption)
    shown = at.dataframe[1].value.set_index("number")
    assert shown.loc["the whale curve's peak", "p95"] == pytest.approx(100 * peak["p95"])
    whale = figures(at)[1]
    assert whale.data[0].fill == "toself" and whale.data[0].name == "p5-p95 of 2 runs"
    upper = values(whale.data[0].y)[: len(band)]
    assert upper == pytest.approx((band["p95"] * 100).tolist())


def test_the_page_speaks_russian():
    from streamlit.testing.v1 import AppTest

    from tests.test_dashboard import DASHBOARD, figures, script

    at = AppTest.from_file(DASHBOARD, default_timeout=180)
    at.query_params["lang"] = "ru"
    at.session_state["chosen"] = "key_accounts"
    at.session_state["reps"] = 2
    at.switch_page(script("scenario")).run()
    at.switch_page(script("accounts")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.header[0].value == "Ключевые клиенты · key\\_accounts"
    assert at.subheader[0].value.startswith(
        "20\N{NO-BREAK SPACE}% самых прибыльных клиентов приносят "
    )
    assert "ключевых клиент" in at.subheader[0].value
    assert at.dataframe[0].value["kind"].tolist()[:2] == ["ключевые", "развивающиеся ключевые"]
    account_map, whale = figures(at)
    assert account_map.layout.xaxis.title.text == "привлекательность для нас"
    assert whale.layout.yaxis.title.text == "доля всей прибыли (%)"
    assert at.markdown[0].value.startswith(
        "По 2 прогонам 20\N{NO-BREAK SPACE}% самых прибыльных клиентов"
    )
    assert "средние 90% из 2 прогонов" in " ".join(c.value for c in at.caption)
    assert whale.data[0].name == "p5\N{EN DASH}p95 по 2 прогонам"


def test_segments_count_their_customers_service_fees_and_costs():
    """With segments and a ladder, the segments' money still adds up to the run's."""
    from hourglass.analysis.segments import segment_table

    scenario = make_scenario(
        horizon_days=120.0,
        warmup_days=10.0,
        channels__organic__prospects_per_day=20.0,
        after_sale__service_ladder=LADDER,
        after_sale__cost_to_serve_per_month=5.0,
        segments={
            "small": {"share": {"organic": 0.6}, "cost_to_serve_per_month": 2.0},
            "large": {"share": {"organic": 0.4}, "cost_to_serve_per_month": 40.0},
        },
    )
    run = simulate(scenario, seed=5)
    k, table = metrics.kpis(run), segment_table(run)
    assert table["revenue"].sum() == pytest.approx(k["revenue"], rel=1e-9)
    assert table["profit"].sum() == pytest.approx(k["profit"], rel=1e-9)
    large = customer_table(run).query("segment == 'large'")
    assert len(large) and large["cost_to_serve"].gt(0).all()


def test_theory_expects_the_fees_and_costs_of_the_levels_held():
    """One level held for good: each buyer pays for half the horizon on average."""
    from hourglass.theory import expected_outcome

    still = {
        "levels": [
            {"name": "audit", "value_per_month": DAYS_PER_MONTH, "cost_to_serve_per_month": 3.0},
            {"name": "support", "value_per_month": 0.0},
        ],
        "upgrade_per_month": [0.0],
    }
    plain = expected_outcome(make_scenario())
    laddered = expected_outcome(make_scenario(after_sale__service_ladder=still))
    buyers = plain["buyers"]
    assert laddered["revenue"] - plain["revenue"] == pytest.approx(buyers * 50.0)
    assert laddered["cost"] - plain["cost"] == pytest.approx(buyers * 50.0 * 3.0 / DAYS_PER_MONTH)


def test_a_run_where_nobody_buys_has_no_accounts_and_no_failure():
    run = simulate(make_scenario(horizon_days=20.0, stages__buy__pass_prob=0.0), 1)
    summary = accounts_summary(run)
    assert len(customer_table(run)) == 0
    assert (summary["customers"], summary["key_customers"], summary["total_profit"]) == (0, 0, 0)
    assert math.isnan(summary["top20_share"])
