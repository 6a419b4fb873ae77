"""Word of mouth from data: the referral rate, the boost, and the parts left unestimated."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from hourglass import calibrate, load_scenario, simulate
from hourglass.analysis import metrics
from hourglass.calibration import export_deals, read_transactions
from hourglass.calibration.estimators import poisson_rate
from hourglass.forecasting import forecast
from hourglass.stages import DAYS_PER_MONTH, FUNNEL
from tests.helpers import invoke_cli, make_scenario, repeat_buying_run, varied_spend_transactions

START = pd.Timestamp("2024-12-27")
"""The won deals enter know on this day and buy four days later."""
BOOST = {"know": 1.7, "like": 1.5, "trust": 1.4, "try": 1.2}
"""referral_driven's boost; buy has none."""


def test_referral_driven_comes_back_with_its_word_of_mouth():
    """Export referral_driven for 240 days and calibrate: referrals come back.

    Each boost's interval holds the truth and buy gets none; the calibrated scenario's run
    has a referral share above 0, more prospects than the outside ones, and about as many
    referred prospects as the export had referred deals.
    """
    shop = load_scenario("referral_driven").model_copy(update={"horizon_days": 240.0})
    cal = calibrate(export_deals(simulate(shop, 1)), seed=1)
    doc = cal.to_dict()["referral"]
    for stage, truth in BOOST.items():
        low, high = doc["boost"][stage]["ratio_ci"]
        assert low < truth < high, stage
    assert not doc["boost"]["buy"]["written"]
    scenario = cal.scenario
    assert scenario.referral.boost == pytest.approx({s: doc["boost"][s]["ratio"] for s in BOOST})
    assert scenario.referral.contacts_per_month["one_time"] == doc["per_customer_month"]
    kpis = metrics.kpis(simulate(scenario, 2))
    assert kpis["referral_share"] > 0.3
    assert kpis["prospects"] > kpis["outside_prospects"]
    assert kpis["referred_prospects"] == pytest.approx(doc["referred_deals"], rel=0.15)


def _export(referred: int, customers: int = 20) -> str:
    """`customers` organic deals won on 2025-01-01; `referred` referral deals open at know later.

    Each won deal spends about a day in each stage, from 2024-12-27.
    """
    lines = ["deal_id,stage,entered_at,left_at,outcome,source"]
    for deal in range(customers):
        for k, stage in enumerate(FUNNEL):
            entered = START + pd.Timedelta(days=k, hours=12, minutes=deal)
            left = START + pd.Timedelta(days=k + 1, hours=deal % 5)
            lines.append(
                f"c{deal},{stage},{entered:%Y-%m-%d %H:%M},{left:%Y-%m-%d %H:%M},won,organic"
            )
    for deal in range(referred):
        lines.append(f"r{deal},know,2025-02-{1 + deal:02d},,open,referral")
    return "\n".join(lines) + "\n"


def test_the_rate_is_referred_deals_per_customer_month():
    """12 referred deals over 20 customers, each from its buy to the end: 12 / customer-months."""
    cal = calibrate(_export(12), until="2025-03-02")
    doc = cal.to_dict()["referral"]
    won = [5.0 + deal % 5 / 24.0 for deal in range(20)]
    months = sum(cal.until_days - day for day in won) / DAYS_PER_MONTH
    assert doc["customer_months"] == pytest.approx(months)
    assert doc["customer_base"] == "deals"
    expected = poisson_rate(12, months)
    assert doc["per_customer_month"] == pytest.approx(12 / months)
    assert doc["per_customer_month_ci"] == pytest.approx([expected.low, expected.high])
    assert doc["share"] == pytest.approx(12 / 32)


def test_the_transaction_log_is_the_customer_base_when_given():
    """With a log, its first purchases up to the period's end make the customer base."""
    log = pd.DataFrame(
        {"customer_id": ["a", "b", "a"], "date": ["2025-01-01", "2025-01-31", "2025-02-01"]}
    ).assign(amount=10.0)
    cal = calibrate(_export(12), read_transactions(log), until="2025-03-02")
    doc = cal.to_dict()["referral"]
    assert doc["customer_base"] == "transactions" and doc["customers"] == 2
    days = (cal.until_days - 5.0) + (cal.until_days - 35.0)  # from 2025-01-01 and 01-31
    assert doc["customer_months"] == pytest.approx(days / DAYS_PER_MONTH)


def test_too_few_referred_deals_leave_word_of_mouth_out_and_say_so(tmp_path):
    """3 referred deals: no referral section; the scenario, run and run --json say why."""
    cal = calibrate(_export(3), until="2025-03-02")
    assert cal.scenario.referral is None
    gaps = [gap.text() for gap in cal.scenario.not_estimated]
    said = "word of mouth (only 3 referred deals; at least 5 needed)"
    assert any(said in gap for gap in gaps)
    path = tmp_path / "calibrated.yaml"
    path.write_text(cal.scenario.to_yaml())
    proc = invoke_cli(["run", str(path), "--json"])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["not_estimated"] == cal.scenario.to_dict()["not_estimated"]
    assert f"warning: not estimated from the data: {gaps[0]}" in " ".join(proc.stderr.split())


def test_a_forecast_carries_the_scenario_s_gaps_and_its_parameter_bounds():
    """A forecast's JSON lists what the scenario did not estimate and draws its bounds."""
    shop = make_scenario(
        channels={"organic": {"prospects_per_day": 2.0}},
        stages__know={"pass_prob": {"mean": 0.5, "ci": [0.3, 0.7]}},
        not_estimated=["repeat buying (no transaction log)"],
    )
    log = read_transactions(varied_spend_transactions(repeat_buying_run()))
    result = forecast(log, pd.Timestamp("2026-06-30"), 1, shop, reps=2, seed=1)
    doc = result.to_dict()
    assert doc["not_estimated"] == ["repeat buying (no transaction log)"]
    assert "parameters" in doc["uncertainty"]
    fixed = forecast(log, pd.Timestamp("2026-06-30"), 1, shop, 2, 1, fixed_parameters=True)
    assert fixed.to_dict()["uncertainty"] == ["simulation"]


def test_a_stage_left_at_once_by_some_and_open_long_for_others_is_left_unfitted():
    """Times all under a minute beside weeks-long open visits: no crash, no endless mean.

    The likelihood runs the mean off to infinity (it overflowed before); the stage's time is
    left unfitted, with a note, and the scenario lists it as not estimated.
    """
    lines = ["deal_id,stage,entered_at,left_at,outcome,source"]
    lines += [f"d{k},know,2025-01-01,2025-01-01,lost,organic" for k in range(20)]
    lines += [f"o{k},know,2025-01-{1 + k:02d},,open,organic" for k in range(12)]
    cal = calibrate("\n".join(lines) + "\n", until="2025-02-01")
    assert cal.stages[0].duration is None
    assert any("know: time in stage not fitted: its fit runs off" in n for n in cal.notes)
    assert any(g.text().startswith("know: the time in stage") for g in cal.scenario.not_estimated)
