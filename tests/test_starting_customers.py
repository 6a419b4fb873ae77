"""A business that starts with customers: they buy again from day 0, and are not new buyers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hourglass import simulate
from hourglass.analysis import kpis
from hourglass.config.business import Business
from hourglass.config.scenario import parse_scenario_text
from hourglass.config.work import estimate_work
from hourglass.forecasting import forecast
from hourglass.stages import DAYS_PER_MONTH
from tests.helpers import ROOT, cdnow_transactions, exits_2_saying, make_scenario, run_cli
from tests.test_dashboard import open_page, shown

REPEATS_PER_MONTH = 0.3
STARTING = 2000


def _existing_base(count: int = STARTING):
    """No new prospects; customers buy again at a steady rate and never stop."""
    return make_scenario(
        channels={"organic": {"prospects_per_day": 0.0}},
        after_sale__repeat={
            "simple": {"purchases_per_month": REPEATS_PER_MONTH, "dropout_prob": 0.0}
        },
        starting_customers={"count": count},
    )


def test_starting_customers_buy_again_at_the_repeat_rate_in_the_first_month():
    run = simulate(_existing_base(), 7)
    bought = run.log.purchases
    first_month = int((bought["time"] < DAYS_PER_MONTH).sum())
    expected = REPEATS_PER_MONTH * STARTING  # Poisson: the variance is the mean
    assert abs(first_month - expected) < 4 * math.sqrt(expected), first_month


def test_starting_customers_are_neither_new_buyers_nor_prospects_nor_revenue_before_day_0():
    run = simulate(_existing_base(), 7)
    numbers = kpis(run)
    assert numbers["buyers"] == 0
    assert numbers["prospects"] == 0
    assert numbers["customers_end"] == STARTING
    assert numbers["revenue"] == 100.0 * numbers["repeat_purchases"]
    assert numbers["repeat_purchases"] == len(run.log.purchases["time"]) > 0
    assert not any(name.endswith("_cohort") for name in numbers)


def test_a_scenario_without_starting_customers_draws_as_before():
    plain = make_scenario()
    assert plain.starting_customers is None
    assert np.array_equal(
        simulate(plain, 3).log.purchases["value"], simulate(plain, 3).log.purchases["value"]
    )
    assert "cohort" not in simulate(plain, 3).log.channels


def test_the_work_estimate_counts_the_starting_customers():
    without = estimate_work(_existing_base().with_overrides({"starting_customers.count": 1}))
    with_them = estimate_work(_existing_base())
    assert with_them.purchases > without.purchases + 0.25 * REPEATS_PER_MONTH * STARTING


def _scenario_file(tmp_path: Path, starting: str, name: str = "baseline") -> str:
    """A shipped scenario with `starting_customers: <starting>` as its last line."""
    text = (ROOT / "scenarios" / f"{name}.yaml").read_text().rstrip("\n")
    path = tmp_path / "mine.yaml"
    path.write_text(f"{text}\nstarting_customers: {starting}\n")
    return str(path)


def _last_line(path: str) -> int:
    return Path(path).read_text().count("\n")


def test_run_reports_the_starting_customers_repeat_purchases(tmp_path):
    mine = _scenario_file(tmp_path, "{count: 1200}", "no_referrals")
    proc = run_cli(["run", mine, "--json", "--seed", "1"])
    assert proc.returncode == 0, proc.stderr
    with_base = json.loads(proc.stdout)["kpis"]
    without = json.loads((ROOT / "tests" / "golden" / "no_referrals.json").read_text())["kpis"]
    assert with_base["buyers"] == without["buyers"]
    assert with_base["repeat_purchases"] > without["repeat_purchases"] + 500
    assert with_base["customers_end"] > without["customers_end"] + 500


def test_a_count_below_one_is_refused_with_the_field_and_line(tmp_path):
    mine = _scenario_file(tmp_path, "{count: 0}")
    exits_2_saying(
        ["run", mine],
        f"mine.yaml: line {_last_line(mine)}: starting_customers.count: Input should be "
        "greater than or equal to 1",
    )


def test_a_fractional_count_is_refused(tmp_path):
    exits_2_saying(
        ["run", _scenario_file(tmp_path, "{count: 1.5}")],
        "starting_customers.count: Input should be a valid integer, got a number with a "
        "fractional part",
    )


def test_a_misspelt_key_is_refused_with_a_hint(tmp_path):
    exits_2_saying(
        ["run", _scenario_file(tmp_path, "{cout: 5}")],
        "starting_customers.cout: unknown key 'cout'; did you mean 'count'? (allowed: count, "
        "by_class, months_as_customers)",
    )


def test_starting_customers_in_a_network_are_refused(tmp_path):
    exits_2_saying(
        ["run", _scenario_file(tmp_path, "{count: 10}", "social_network")],
        "starting_customers: a network holds only the people in its graph, so customers from "
        "before day 0 have no place in it; leave one of them out",
    )


@pytest.mark.parametrize(
    ("lang", "label", "caption"),
    [
        (
            "en",
            "Customers you already have",
            "It counts the 1,200 customers you already have.",
        ),
        (
            "ru",
            "Сколько клиентов уже есть",
            "В ней учтены клиенты, которые у вас уже есть (1\u00a0200).",  # noqa: RUF001
        ),
    ],
)
def test_the_business_form_takes_the_customers_a_business_already_has(lang, label, caption):
    at = open_page("business", language=lang)
    field = at.number_input(key="biz-starting")
    assert field.label == label
    assert field.value == 0
    field.set_value(1200)
    at.button[0].click().run()
    assert not at.exception and not at.error
    chosen = at.selectbox(key="chosen").value
    made = parse_scenario_text(at.session_state["library"][chosen])
    assert made.starting_customers.count == 1200
    assert caption in [shown(c.value) for c in at.caption]


def test_a_business_with_none_writes_no_starting_customers():
    assert "starting_customers" not in Business().to_data()
    assert Business(starting_customers=5).to_scenario().starting_customers.count == 5


def test_a_forecast_from_a_log_counts_the_logs_customers_once():
    """The log's customers are the business's own: the scenario's starting ones are not added."""
    shop = make_scenario(
        channels={"organic": {"prospects_per_day": 2.0}},
        after_sale={
            "order_value": {"fixed": {"value": 10.0}},
            "repeat": {"bgnbd": {"r": 1.0, "alpha": 4.0, "a": 0.5, "b": 3.0}},
        },
    )
    with_base = shop.with_overrides({"starting_customers": {"count": 3000}})
    until = pd.Timestamp("1997-09-30")
    plain = forecast(cdnow_transactions(), until, 2, shop, reps=2, seed=1).to_dict()
    based = forecast(cdnow_transactions(), until, 2, with_base, reps=2, seed=1).to_dict()
    assert based["total"] == plain["total"]
