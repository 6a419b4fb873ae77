"""The stage table's Repeat row counts the customers a business started with who bought again."""

from __future__ import annotations

import math

import numpy as np

from hourglass import simulate
from hourglass.analysis.stages import stage_table
from hourglass.stages import DAYS_PER_MONTH
from hourglass.theory import expected_outcome
from tests.helpers import ROOT, make_scenario, run_cli, stat_close

STARTING = 2000
RATE = 0.2  # repeat purchases a month; nobody stops buying


def _only_starting(**changes):
    """No outside prospects; starting customers buy again and never stop."""
    base = {
        "channels": {"organic": {"prospects_per_day": 0.0}},
        "after_sale__repeat": {"simple": {"purchases_per_month": RATE, "dropout_prob": 0.0}},
        "starting_customers": {"count": STARTING},
    }
    return make_scenario(**{**base, **changes})


def test_starting_customers_who_buy_again_enter_repeat_once_each():
    """Each buys again within the horizon H with the chance 1 - e^(-r H)."""
    scenario = _only_starting()
    run = simulate(scenario, 3)
    row = stage_table(run).set_index("stage").loc["repeat"]
    p = run.log.purchases
    assert row["entered"] == len(np.unique(p["customer"][p["kind"] > 0]))
    chance = -math.expm1(-RATE * scenario.horizon_days / DAYS_PER_MONTH)
    hand = STARTING * chance
    assert abs(row["entered"] - hand) < 4 * math.sqrt(STARTING * chance * (1 - chance))
    assert row["lost"] == 0  # nobody lapses


def test_starting_customers_count_from_their_first_repeat_in_the_window():
    scenario = _only_starting(warmup_days=30.0)
    run = simulate(scenario, 3)
    row = stage_table(run).set_index("stage").loc["repeat"]
    p = run.log.purchases
    window = (p["kind"] > 0) & (p["time"] >= 30.0)
    assert row["entered"] == len(np.unique(p["customer"][window]))


def test_run_json_shows_the_starting_customers_in_repeat_and_says_so(tmp_path):
    text = (ROOT / "scenarios" / "no_referrals.yaml").read_text().rstrip("\n")
    mine = tmp_path / "mine.yaml"
    mine.write_text(f"{text}\nstarting_customers: {{count: 1200}}\n")
    plain = run_cli(["run", str(ROOT / "scenarios" / "no_referrals.yaml"), "--seed", "1"])
    based = run_cli(["run", str(mine), "--seed", "1"])
    assert based.returncode == 0, based.stderr
    assert "Repeat counts the 1,200 customers from before day 0 too, from their first " in (
        based.stdout
    )
    assert "customers from before day 0" not in plain.stdout


def test_theory_counts_the_people_starting_customers_bring():
    """No outside prospects: every prospect and buyer comes from the starting customers' talk."""
    scenario = _only_starting(
        market={"size": 1_000_000},
        referral={"contacts_per_month": {"one_time": 0.2}, "win_prob": 0.5},
        starting_customers={
            "count": STARTING,
            "by_class": {"one_time": 0.8, "temporarily_lost": 0.2},
        },
    )
    expected = expected_outcome(scenario)
    runs = [simulate(scenario, seed) for seed in range(6)]
    referred = [int((r.log.prospects["referrer"] >= 0).sum()) for r in runs]
    assert expected["referred_prospects"] > 0.1 * STARTING
    stat_close(referred, expected["referred_prospects"])
    revenue = [float(r.log.purchases["value"].sum()) for r in runs]
    stat_close(revenue, expected["revenue"])
