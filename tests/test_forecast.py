"""Forecasts from a transaction log: CDNOW against BG/NBD's closed form, the band's sources."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hourglass.calibration import calibrate
from hourglass.calibration.btyd import bgnbd_conditional_expected, rfm_summary
from hourglass.cli import app
from hourglass.forecasting import forecast
from tests.helpers import ROOT, cdnow_export, cdnow_transactions, exits_2_saying, make_scenario

runner = CliRunner()
UNTIL = "1997-09-30"
"""The end of the CDNOW calibration period (week 39)."""


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory) -> str:
    """CDNOW as a transaction log with the default columns (customer_id, date, amount)."""
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    cdnow_export().to_csv(path, index=False)
    (path.parent / "map.yaml").write_text("keep_duplicate_transactions: true\n")
    return str(path)


def _forecast_json(cdnow_csv: str, *flags: str) -> dict:
    mapping = str(ROOT / cdnow_csv).replace("cdnow.csv", "map.yaml")
    args = ["forecast", "--transactions", cdnow_csv, "--until", UNTIL, "--months", "9"]
    result = runner.invoke(app, [*args, "--mapping", mapping, "--seed", "1", "--json", *flags])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cdnow_october_to_june_matches_bgnbd_conditioned_on_each_history(cdnow_csv):
    """Weeks 40-78: the engine's mean within 1% of BG/NBD's 1,642; 1,882 were made.

    BG/NBD's expectation is each customer's given their (x, t_x, T), eq. 10, summed.
    Conditioned on their histories, the customers' futures hang less on the parameters: the
    actual lies above the 90% band with the parameters fixed and with them drawn from the
    fit's sampling distribution, which is wider.
    """
    fixed = _forecast_json(cdnow_csv, "--reps", "40", "--fixed-parameters")
    total = fixed["total"]["repeat_purchases"]
    assert total["closed_form"] == pytest.approx(1642.3, abs=0.1)
    assert total["mean"] == pytest.approx(total["closed_form"], rel=0.01)
    assert total["actual"] == 1882 > total["p95"]
    assert fixed["uncertainty"] == ["simulation"]
    assert [m["month"] for m in fixed["monthly"]] == [
        *(f"1997-{m}" for m in ("10", "11", "12")),
        *(f"1998-0{m}" for m in range(1, 7)),
    ]
    assert fixed["monthly"][0]["actual_repeat_purchases"] == 236
    assert set(fixed["monthly"][0]["revenue"]) == {"mean", "p5", "p50", "p95"}
    drawn = _forecast_json(cdnow_csv, "--reps", "40")
    band = drawn["total"]["repeat_purchases"]
    assert drawn["uncertainty"] == ["simulation", "parameters"]
    assert band["p5"] < total["closed_form"] < band["p95"] < 1882
    assert band["p95"] - band["p5"] > 1.2 * (total["p95"] - total["p5"])
    assert fixed["backtest"]["months"] == drawn["backtest"]["months"] == 9
    _the_readme_quotes(total, band, fixed["backtest"], drawn["backtest"])


def _the_readme_quotes(fixed: dict, drawn: dict, fixed_test: dict, drawn_test: dict) -> None:
    """The README's CDNOW forecast paragraph quotes these numbers."""
    prose = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    quoted = re.search(
        r"with the parameters fixed, ([\d,]+) repeat purchases \[([\d,]+), ([\d,]+)\], against "
        r"BG/NBD's conditional ([\d,.]+) and the 1,882 actually made; with the parameters "
        r"drawn, ([\d,]+) \[([\d,]+), ([\d,]+)\]\..*?month by month, (\d) of the 9 actual "
        r"figures fall inside each band",
        prose,
    )
    assert quoted, "the README's CDNOW forecast paragraph"
    computed = [
        f"{fixed['mean']:,.0f}",
        f"{fixed['p5']:,.0f}",
        f"{fixed['p95']:,.0f}",
        f"{fixed['closed_form']:,.1f}",
        f"{drawn['mean']:,.0f}",
        f"{drawn['p5']:,.0f}",
        f"{drawn['p95']:,.0f}",
    ]
    assert list(quoted.groups()[:7]) == computed
    inside = int(quoted[8])
    assert fixed_test["inside_band"] == drawn_test["inside_band"] == inside


def _closed_form_spread(until: pd.Timestamp, end: pd.Timestamp, draws: int = 4000) -> float:
    """SD over the fit's draws of BG/NBD's expected repeat purchases from until + 1 day to end.

    Each customer's expectation is conditioned on their (x, t_x, T) at until + 1 day (eq. 10).
    """
    tx = cdnow_transactions()
    fit = calibrate(None, tx, until=until).repeat
    history = rfm_summary(tx.rows, until, period_days=7.0)
    x, t_x, age = history["x"], history["t_x"], history["T"] + 1.0 / 7.0
    weeks = (end - until - pd.Timedelta(days=1)).days / 7.0
    centre = np.log([fit.r.value, fit.alpha.value, fit.a.value, fit.b.value])
    rng = np.random.default_rng(0)
    totals = [
        float(bgnbd_conditional_expected(weeks, x, t_x, age, *theta).sum())
        for theta in np.exp(rng.multivariate_normal(centre, fit.cov, draws))
    ]
    return float(np.std(totals))


@pytest.mark.slow
def test_parameter_draws_widen_the_band_as_the_sampling_distribution_implies():
    """Twelve months after a one-month calibration: Var(draws) = Var(fixed) + Var(closed form).

    The closed form's spread is BG/NBD's conditional expectation over the fit's asymptotic
    normal; with
    the parameters fixed every replication runs the fitted ones (simulation noise only).
    """
    tx, until = cdnow_transactions(), pd.Timestamp("1997-04-30")
    fixed = forecast(tx, until, 12, reps=120, seed=2, fixed_parameters=True)
    drawn = forecast(tx, until, 12, reps=120, seed=2)
    assert np.ptp(fixed.parameters, axis=0).max() == 0.0
    assert np.ptp(drawn.parameters, axis=0).min() > 0.0
    sd_fixed = fixed.totals["repeat_purchases"].std(ddof=1)
    sd_drawn = drawn.totals["repeat_purchases"].std(ddof=1)
    sd_parameters = _closed_form_spread(until, pd.Timestamp("1998-05-01"))
    assert sd_drawn == pytest.approx(np.hypot(sd_fixed, sd_parameters), rel=0.15)
    assert sd_drawn > 2 * sd_fixed


def test_a_scenario_brings_new_customers_and_referrals_month_by_month():
    """With a scenario, its channels add new customers from the day after --until."""
    shop = make_scenario(
        channels={"organic": {"prospects_per_day": 2.0}},
        market={"size": 100_000},
        referral={"contacts_per_month": {"one_time": 0.5}, "win_prob": 0.5},
        after_sale={
            "order_value": {"fixed": {"value": 10.0}},
            "repeat": {"bgnbd": {"r": 1.0, "alpha": 4.0, "a": 0.5, "b": 3.0}},
        },
    )
    result = forecast(cdnow_transactions(), pd.Timestamp(UNTIL), 3, shop, reps=3, seed=1)
    doc = result.to_dict()
    assert doc["uncertainty"] == ["simulation"]
    october = doc["monthly"][0]
    referred = october["referrals"]["mean"]
    assert 0 < referred < october["new_customers"]["mean"]
    assert 31 * 2 * 0.9 < october["new_customers"]["mean"] - referred < 31 * 2 * 1.1
    assert "actual_new_customers" in october


def test_a_scenario_without_a_repeat_model_leaves_the_log_s_customers_their_order_values():
    """The log's customers buy at the log's $35.17 a purchase (Gamma-Gamma), not the shop's $10."""
    shop = make_scenario(
        channels={"organic": {"prospects_per_day": 0.0}},
        after_sale={"order_value": {"fixed": {"value": 10.0}}},
    )
    result = forecast(cdnow_transactions(), pd.Timestamp(UNTIL), 3, shop, 4, 1, True)
    per_purchase = result.draws["revenue"].sum() / result.draws["repeat_purchases"].sum()
    assert per_purchase == pytest.approx(35.17, rel=0.1)


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--until", "1998-07-01"], "--until 1998-07-01: the log"),
        (["--until", UNTIL, "--months", "0"], "--months 0: give a whole number of months"),
        (["--until", UNTIL, "--reps", "100000"], "--allow-large runs it anyway"),
    ],
)
def test_bad_forecast_options_are_named(cdnow_csv, flags, words):
    exits_2_saying(["forecast", "--transactions", cdnow_csv, *flags], words)


def test_a_scenario_with_a_network_is_refused_naming_it(cdnow_csv):
    """The log's customers have no node in a network: refused before any run, not a crash."""
    exits_2_saying(
        ["forecast", "social_network", "--transactions", cdnow_csv, "--until", UNTIL],
        "social_network: network: the log's customers have no place in the scenario's network",
    )


def test_a_log_without_a_customer_column_is_named(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("client,date,amount\n1,2026-01-01,10\n")
    exits_2_saying(
        ["forecast", "--transactions", str(log), "--until", "2026-01-01"],
        "missing column(s) 'customer_id' (customer)",
    )
