"""Starting customers in their loyalty classes and with a tenure: checked, simulated, expected."""

from __future__ import annotations

import datetime
import math
from pathlib import Path

import numpy as np
import pytest

from hourglass import simulate
from hourglass.analysis.forecast import calendar_months, expected_months
from hourglass.analysis.series import daily_table
from hourglass.config.plan import compile_plan
from hourglass.config.scenario import Scenario
from hourglass.stages import DAYS_PER_MONTH, LOYALTY_CLASSES
from hourglass.theory import bgnbd_expected_repeats, expected_daily, expected_outcome
from hourglass.theory_money import bgnbd_alive
from hourglass.theory_starting import starting_days
from tests.helpers import ROOT, exits_2_saying, make_scenario

STARTING = 3000
HORIZON = 200.0
RATE, DROPOUT = 0.4, 0.25  # purchases a month, chance to stop after each
BGNBD = {"r": 1.0, "alpha": 4.0, "a": 2.0, "b": 3.0}  # weeks


def _base(repeat: dict, **starting) -> Scenario:
    """No new prospects: only the starting customers buy."""
    return make_scenario(
        horizon_days=HORIZON,
        channels={"organic": {"prospects_per_day": 0.0}},
        after_sale__repeat=repeat,
        starting_customers={"count": STARTING, **starting},
    )


def _simple(**starting) -> Scenario:
    return _base({"simple": {"purchases_per_month": RATE, "dropout_prob": DROPOUT}}, **starting)


def _repeats_by(scenario: Scenario, days: float, seed: int = 5) -> tuple[int, float]:
    """Repeat purchases before `days` in one run, and their standard error from the customers."""
    bought = simulate(scenario, seed).log.purchases
    early = bought["time"] < days
    per_customer = np.bincount(bought["customer"][early], minlength=STARTING)
    return int(early.sum()), float(math.sqrt(STARTING * per_customer.var()))


def _hand_simple(customers: float, months: float, since: float = 0.0) -> float:
    """Repeats in (since, months] of customers buying at RATE until a drop-out (months)."""
    lapse = RATE * DROPOUT
    return customers / DROPOUT * (math.exp(-lapse * since) - math.exp(-lapse * months))


def _scenario_file(tmp_path: Path, starting: str) -> str:
    text = (ROOT / "scenarios" / "baseline.yaml").read_text().rstrip("\n")
    path = tmp_path / "mine.yaml"
    path.write_text(f"{text}\nstarting_customers: {starting}\n")
    return str(path)


# -- checked ---------------------------------------------------------------------------------


def test_class_shares_that_do_not_add_up_to_one_are_refused_with_the_line(tmp_path):
    mine = _scenario_file(tmp_path, "{count: 100, by_class: {one_time: 0.5, loyal: 0.4}}")
    line = Path(mine).read_text().count("\n")
    exits_2_saying(
        ["run", mine],
        f"mine.yaml: line {line}: starting_customers.by_class: the shares add up to 0.9, not "
        "1; give each loyalty class's share of the starting customers (e.g. one_time: 0.7, "
        "temporarily_lost: 0.3)",
    )


def test_a_misspelt_class_is_refused_with_a_hint(tmp_path):
    exits_2_saying(
        ["run", _scenario_file(tmp_path, "{count: 100, by_class: {regulr: 1}}")],
        "starting_customers.by_class.regulr: 'regulr' is not one of one_time, regular, loyal, "
        "committed, fan, temporarily_lost, former, antagonist; did you mean 'regular'?",
    )


def test_a_negative_tenure_is_refused(tmp_path):
    exits_2_saying(
        ["run", _scenario_file(tmp_path, "{count: 100, months_as_customers: -2}")],
        "starting_customers.months_as_customers: Input should be greater than or equal to 0",
    )


def test_a_tenure_no_customer_survives_is_refused_by_name(tmp_path):
    hopeless = _base(
        {"bgnbd": {"r": 4.0, "alpha": 1.0, "a": 100.0, "b": 1.0}},
        by_class={"loyal": 1.0},
        months_as_customers=0.5,
    )
    path = tmp_path / "hopeless.yaml"
    text = hopeless.to_yaml()
    assert "months_as_customers: 0.5" in text
    path.write_text(text.replace("months_as_customers: 0.5", "months_as_customers: 24"))
    line = text.splitlines().index("  months_as_customers: 0.5") + 1
    exits_2_saying(
        ["run", str(path)],
        f"hopeless.yaml: line {line}: starting_customers.months_as_customers: under "
        "after_sale.repeat.bgnbd fewer than 1 in 10,000 customers go 24 months without "
        "dropping out, too few to stand for those still buying; give a shorter time",
    )


# -- simulated and expected ------------------------------------------------------------------


def test_customers_start_in_their_classes_in_exact_shares():
    shares = {"one_time": 0.5, "loyal": 0.3, "temporarily_lost": 0.2}
    run = simulate(_simple(by_class=shares), 2)
    moves = run.log.moves
    opening = moves["klass"][moves["time"] == 0.0]
    counts = np.bincount(opening, minlength=len(LOYALTY_CLASSES))
    assert {c: int(counts[LOYALTY_CLASSES.index(c)]) for c in shares} == {
        "one_time": 1500,
        "loyal": 900,
        "temporarily_lost": 600,
    }


def test_without_drop_outs_n_customers_make_n_r_repeats_a_month():
    scenario = _base({"simple": {"purchases_per_month": RATE, "dropout_prob": 0.0}})
    expected = starting_days(compile_plan(scenario), 61)
    assert expected.repeats.sum() == pytest.approx(STARTING * RATE * 61 / DAYS_PER_MONTH)
    assert expected.active[-1] == pytest.approx(STARTING)
    simulated, se = _repeats_by(scenario, DAYS_PER_MONTH)
    assert abs(simulated - STARTING * RATE) < 4 * se, (simulated, se)


def test_only_those_still_buying_buy_in_month_one_at_the_hand_rate():
    """N r in month 1 without drop-outs; with them N (1 - e^(-r p)) / p, over the buying share."""
    scenario = _simple(by_class={"regular": 0.75, "former": 0.25})
    hand = _hand_simple(0.75 * STARTING, 1.0)
    expected = starting_days(compile_plan(scenario), 31)
    days = math.floor(DAYS_PER_MONTH)
    assert expected.repeats[:days].sum() == pytest.approx(
        _hand_simple(0.75 * STARTING, days / DAYS_PER_MONTH), rel=1e-6
    )
    assert hand == pytest.approx(0.75 * STARTING * RATE, rel=0.06)  # the drop-outs' dent
    simulated, se = _repeats_by(scenario, DAYS_PER_MONTH)
    assert abs(simulated - hand) < 4 * se, (simulated, hand, se)


def test_repeats_decay_month_by_month_as_customers_drop_out():
    """Month m: N / p e^(-r p (m - 1)) (1 - e^(-r p)); the simulation's month 6 agrees."""
    scenario = _simple()
    daily = expected_daily(scenario, round(HORIZON))
    month = DAYS_PER_MONTH
    for m in (1, 3, 6):
        within = slice(round((m - 1) * month), round(m * month))
        hand = _hand_simple(STARTING, round(m * month) / month, round((m - 1) * month) / month)
        assert daily["revenue"][within].sum() == pytest.approx(100.0 * hand, rel=1e-6)
    bought = simulate(scenario, 9).log.purchases["time"]
    sixth = int(((bought >= 5 * month) & (bought < 6 * month)).sum())
    hand = _hand_simple(STARTING, 6.0, 5.0)
    assert abs(sixth - hand) < 4 * math.sqrt(hand), (sixth, hand)  # Poisson counts


def test_without_classes_the_tenure_decides_who_still_buys():
    """After T months of buying at r with drop-out p, e^(-r p T) of them still buy."""
    months = 12.0
    scenario = _simple(months_as_customers=months)
    alive = math.exp(-RATE * DROPOUT * months)
    run = simulate(scenario, 4)
    moves = run.log.moves
    opening = moves["klass"][moves["time"] == 0.0]
    buying = int((opening == LOYALTY_CLASSES.index("one_time")).sum())
    se = math.sqrt(STARTING * alive * (1 - alive))
    assert abs(buying - STARTING * alive) < 4 * se, (buying, STARTING * alive)
    assert starting_days(compile_plan(scenario), 1).active[0] == pytest.approx(
        STARTING * alive * math.exp(-RATE * DROPOUT / DAYS_PER_MONTH), rel=1e-6
    )
    ends = expected_outcome(scenario)["customers_end"]
    assert ends == pytest.approx(
        STARTING * alive * math.exp(-RATE * DROPOUT * HORIZON / DAYS_PER_MONTH), rel=1e-6
    )


def test_under_bgnbd_customers_who_stayed_longer_buy_as_survivors_do():
    """Still buying after T: (E[X(T + t)] - E[X(T)]) / S(T) repeats each in the next t."""
    weeks, months = 12.0, 12.0
    tenure = months * DAYS_PER_MONTH / 7
    scenario = _base({"bgnbd": BGNBD}, by_class={"one_time": 1.0}, months_as_customers=months)
    gained = bgnbd_expected_repeats(tenure + weeks, **BGNBD) - bgnbd_expected_repeats(
        tenure, **BGNBD
    )
    hand = STARTING * gained / bgnbd_alive(tenure, **BGNBD)
    new = STARTING * bgnbd_expected_repeats(weeks, **BGNBD)
    assert hand < 0.97 * new  # survivors are the slower buyers: tenure matters
    expected = starting_days(compile_plan(scenario), round(7 * weeks))
    assert expected.repeats.sum() == pytest.approx(hand, rel=1e-3)
    simulated, se = _repeats_by(scenario, 7 * weeks)
    assert abs(simulated - hand) < 4 * se, (simulated, hand, se)


def test_the_planners_theory_line_counts_starting_customers_month_by_month():
    """Customers still buying at each month's end and the month's revenue, as simulated.

    Purchases are near Poisson (a month's count's variance is its mean), and each customer
    still buys or not: the standard errors come from the expected numbers.
    """
    scenario = _simple(by_class={"one_time": 0.9, "antagonist": 0.1})
    start, days, reps = datetime.date(2026, 1, 1), round(HORIZON), 6
    theory = expected_months(expected_daily(scenario, days), start, days)
    buying = 0.9 * STARTING * math.exp(-RATE * DROPOUT * 31 / DAYS_PER_MONTH)
    assert theory["active_customers"][0] == pytest.approx(buying, rel=1e-6)
    daily = [daily_table(simulate(scenario, s)) for s in range(reps)]
    runs = [
        calendar_months(d.rename_axis("day").reset_index().assign(rep=0), start, days)
        for d in daily
    ]
    for month in (0, 3):
        purchases = theory["revenue"][month] / 100.0
        revenue = np.mean([r["revenue"][month] for r in runs])
        assert abs(revenue - 100.0 * purchases) < 4 * 100.0 * math.sqrt(purchases / reps)
        share = theory["active_customers"][month] / STARTING
        active = np.mean([r["active_customers"][month] for r in runs])
        se = math.sqrt(STARTING * share * (1 - share) / reps)
        assert abs(active - STARTING * share) < 4 * se, (active, STARTING * share, se)
