"""The planner: calendar months, the fixed-window K-factor, the spend plan, and its page."""

from __future__ import annotations

import datetime
import re

import numpy as np
import pandas as pd
import pytest

import hourglass as hg
from hourglass.analysis import forecast
from hourglass.app import runs
from hourglass.app.pages import planner
from hourglass.config.business import days_in_months
from hourglass.i18n import language
from hourglass.plots.forecast import month_label
from tests.helpers import ROOT
from tests.test_dashboard import figures, open_page, values

START = datetime.date(2027, 3, 1)
BASELINE = (ROOT / "scenarios" / "baseline.yaml").read_text(encoding="utf-8")
DATED = (
    BASELINE.replace("name: baseline", "name: dated")
    .replace("budget_per_month: 15000", "budget_per_month: 3000")
    .replace("prospects_per_day: 40", "prospects_per_day: 8")
    .replace("seed: 1\n", "seed: 1\nstart_date: 2027-03-01\n")
)
"""A fifth of the baseline's arrivals, dated: 36 months of it simulate in seconds."""
RANGE = re.compile(r"^[\d,.]+M? \([\d,.]+M?\N{EN DASH}[\d,.]+M?\)$")


def test_referrals_count_only_within_the_window_on_the_referrers_day():
    referrer = np.array([0.5, 0.5, 2.2, 2.9])
    referred = np.array([10.0, 200.0, 2.9, 185.6])  # 199.5 and 182.7 days: outside 182.625
    counts = forecast.referrals_in_window(referrer, referred, 4, forecast.REFERRAL_WINDOW_DAYS)
    assert counts.tolist() == [1, 0, 1, 0]


def test_a_months_k_factor_is_complete_once_its_window_ends_in_the_simulation():
    daily = pd.DataFrame(
        {
            "rep": 0,
            "day": np.arange(120),
            "buyers": 2,
            "revenue": 10.0,
            "referred_buyers": 0,
            "brought_in_window": np.where(np.arange(120) < 31, 1, 0),
            "active_customers": np.arange(120),
        }
    )
    months = forecast.calendar_months(daily, START, 92)  # March, April, May 2027
    assert [str(m) for m in months["month"]] == ["2027-03", "2027-04", "2027-05"]
    assert months["buyers"].tolist() == [62, 60, 62]
    assert months["active_customers"].tolist() == [30, 60, 91]
    # March's last buyer's window ends on day 31 + 182.625; April's on day 61 + 182.625
    k = forecast.monthly_k_factor(months, START, simulated_days=31 + 182.625)
    assert k["k_factor"].tolist() == [pytest.approx(0.5), 0.0, 0.0]
    assert k["complete"].tolist() == [True, False, False]
    assert forecast.pooled_k_factor(months, k).tolist() == [pytest.approx(0.5)]


def test_the_spend_plan_is_split_into_calendar_months():
    scenario = hg.config.parse_scenario_text(DATED, "dated.yaml")
    spend = forecast.monthly_spend(scenario, START, days_in_months(START, 2))
    per_day = 3000 / hg.stages.DAYS_PER_MONTH
    assert list(spend.columns) == ["month", "ads", forecast.SELLERS]
    assert spend["ads"].tolist() == pytest.approx([31 * per_day, 30 * per_day])
    assert spend[forecast.SELLERS].iloc[1] == pytest.approx(30 * 12 * 2500 / (365.25 / 12))


def test_months_are_written_as_the_reader_writes_them():
    march = pd.Period("2027-03", "M")
    assert month_label(march, "en") == "2027-03"
    assert month_label(march, "ru") == "март 2027"


def test_an_undated_forecast_starts_on_the_first_of_next_month():
    assert forecast.next_month_start(datetime.date(2026, 11, 27)) == datetime.date(2026, 12, 1)
    assert forecast.next_month_start(datetime.date(2026, 12, 1)) == datetime.date(2027, 1, 1)
    assert days_in_months(START, 12) == 366  # March 2027 to March 2028, a leap day


def test_replications_are_cut_to_what_the_work_budget_admits():
    three_years = hg.load_scenario().with_overrides({"horizon_days": 1096.0})
    one = runs.estimate(three_years, 1)
    most = planner.affordable_reps(three_years, 50)
    assert 2 <= most < 50
    assert runs.refusal(one.times(most), runs.Load(), runs.Load(), runs.cache.WORKERS) is None
    assert runs.refusal(one.times(most + 1), runs.Load(), runs.Load(), runs.cache.WORKERS)
    assert planner.affordable_reps(three_years, 2) == 2


def dated_page(**state: object):
    return open_page("planner", library={"dated": DATED}, chosen="dated", **state)


def test_the_planner_shows_months_with_ranges_and_slices_one_simulation():
    at = dated_page()
    assert [h.value for h in at.header] == ["Forecast · dated"]
    buyers = next(m for m in at.metric if m.label == "Buyers")
    low, high = (float(x.replace(",", "")) for x in buyers.delta.split("\N{EN DASH}"))
    assert low <= float(buyers.value.replace(",", "")) <= high
    assert RANGE.match(at.dataframe[0].value["New buyers"][0])
    band = "p5-p95 of 2 runs: simulation noise only; parameter uncertainty is not included"
    assert band in [c.value for c in at.caption]
    assert any("March 1, 2027, the scenario's start date" in c.value for c in at.caption)
    year = at.dataframe[0].value
    assert year["Month"].tolist()[:2] == ["2027-03", "2027-04"] and len(year) == 12
    spend = year["Planned spend"].tolist()
    assert spend[0] == f"{(3000 + 30000) * 31 / (365.25 / 12):,.0f}"  # ads and sellers
    simulated = len(runs.cache.result_store()[0])
    at.slider(key="horizon-dated").set_value(7)
    at.button[0].click().run()
    assert not at.exception
    seven = at.dataframe[0].value
    # the same simulation cut shorter: its months are the same numbers
    pd.testing.assert_frame_equal(seven, year.iloc[:7])
    assert len(runs.cache.result_store()[0]) == simulated  # nothing simulated anew
    forecast_chart = figures(at)[0]
    assert [a.text for a in forecast_chart.layout.annotations][2].startswith("Planned spend")
    at.slider(key="horizon-dated").set_value(36)
    at.button[0].click().run()
    hollow = next(t for t in figures(at)[1].data if t.marker.symbol == "circle-open")
    # the months whose buyers' 6-month window runs past the 36 simulated ones
    assert list(hollow.x) == [f"2029-{m:02d}" for m in range(8, 13)] + ["2030-01", "2030-02"]


def test_the_planner_speaks_russian():
    at = dated_page(language="ru")
    assert [h.value for h in at.header] == ["Прогноз · dated"]
    assert {"Клиенты на конец периода", "K-фактор за 6 мес."} <= {m.label for m in at.metric}
    table = at.dataframe[0].value
    assert table["Месяц"].tolist()[:2] == ["март 2027", "апрель 2027"]
    assert any(c.value.startswith("p5\N{EN DASH}p95 по 2 прогонам") for c in at.caption)
    legend = {trace.name for fig in figures(at) for trace in fig.data}
    assert "канал реклама" in legend and "канал ads" not in legend


def test_the_planner_cuts_replications_with_a_note_instead_of_refusing(monkeypatch):
    year = hg.config.parse_scenario_text(DATED).with_overrides({"horizon_days": 366.0})
    monkeypatch.setattr(runs, "SESSION_EVENTS", 3.5 * runs.estimate(year, 1).events_per_run)
    fit = planner.affordable_reps(year, 8)
    assert 1 <= fit < 8
    at = dated_page(reps=8)
    assert not at.error
    assert "8 replications of 12 months are more work" in at.info[0].value
    assert f"{fit} are simulated" in at.info[0].value
    assert any(c.value.startswith(f"p5-p95 of {fit} runs") for c in at.caption)


def test_time_series_and_conversion_figures_speak_the_readers_language():
    bands = pd.DataFrame(
        {"series": "x", "day": [0, 1], "p5": [1.0, 2.0], "p50": [2.0, 3.0], "p95": [3.0, 4.0]}
    )
    stages = pd.DataFrame({"stage": ["know"], "conversion": [0.5]})
    with language("ru"):
        band = hg.plots.band_figure(bands, ["x"], names={"x": "клиенты"})
        bars = hg.plots.conversion_bars({"baseline": stages}, labels="ru")
    assert band.layout.xaxis.title.text == "день"
    assert band.data[0].name == "клиенты: p5\N{EN DASH}p95"
    assert bars.layout.title.text == "Конверсия по этапам"


def test_within_a_horizon_shorter_than_the_window_every_referral_counts():
    scenario = hg.config.parse_scenario_text(DATED).with_overrides({"horizon_days": 150.0})
    daily = hg.analysis.daily_table(hg.simulate(scenario, 3))
    assert daily["brought_buyers"].sum() > 0
    assert daily["brought_in_window"].tolist() == daily["brought_buyers"].tolist()


def test_over_a_longer_horizon_late_referrals_fall_outside_the_window():
    scenario = hg.config.parse_scenario_text(DATED).with_overrides({"horizon_days": 600.0})
    daily = hg.analysis.daily_table(hg.simulate(scenario, 3))
    assert (daily["brought_in_window"] <= daily["brought_buyers"]).all()
    assert daily["brought_in_window"].sum() < daily["brought_buyers"].sum()


def test_the_theory_expects_a_plain_funnels_buyers_and_customers_by_hand():
    """Organic arrivals only, no repeats or referrals: buyers = rate * p^5 after the lag."""
    data = hg.config.parse_scenario_text(DATED).model_dump(by_alias=True, exclude_none=True)
    for part in ("market", "referral", "sales"):
        data.pop(part, None)
    data["channels"].pop("paid")
    data["after_sale"].pop("repeat")
    plain = hg.config.parse_scenario(data)
    daily = hg.theory.expected_daily(plain, 200)
    chance = np.prod([plain.stages[s].pass_prob for s in hg.stages.FUNNEL])
    lag = round(sum(plain.stages[s].duration.mean for s in hg.stages.FUNNEL))
    rate = plain.channels.organic.prospects_per_day
    assert daily["buyers"][:lag].sum() == 0
    assert daily["buyers"][lag:] == pytest.approx(rate * chance)
    order = plain.after_sale.order_value.mean
    assert daily["revenue"][lag:] == pytest.approx(rate * chance * order)
    # nobody leaves the active classes within days of a first purchase
    assert daily["active_customers"][lag + 1] == pytest.approx(2 * rate * chance, rel=0.01)
    months = forecast.expected_months(daily, START, 92)
    assert [str(m) for m in months["month"]] == ["2027-03", "2027-04", "2027-05"]
    assert months["revenue"].sum() == pytest.approx(daily["revenue"][:92].sum())
    assert months["active_customers"][0] == daily["active_customers"][30]


def theory_line(at) -> tuple:
    """The forecast figure's dashed theory line on its first plot: its name and values."""
    line = next(t for t in figures(at)[0].data if t.type == "scatter" and t.line.dash == "dash")
    return line.name, values(line.y)


def test_the_planner_draws_the_theory_beside_the_simulated_bands():
    at = dated_page()
    name, line = theory_line(at)
    scenario = hg.config.parse_scenario_text(DATED)
    days = days_in_months(START, 12)
    expected = forecast.expected_months(hg.theory.expected_daily(scenario, days), START, days)
    assert name == "theory, no noise"
    assert line[0] == pytest.approx(expected["active_customers"][0])
    assert len(line) == 12 and line[-1] == pytest.approx(expected["active_customers"].iloc[-1])
    bands = [t for t in figures(at)[0].data if t.type == "scatter" and t.fill == "toself"]
    assert len(bands) == 2  # the simulation's, around the theory


def test_the_planners_theory_speaks_russian():
    at = dated_page(language="ru")
    name, _ = theory_line(at)
    assert name == "теория, без шума"
    assert at.button[0].label == "Показать"


def test_the_theory_follows_the_simulation_where_queues_do_not_bind():
    """Buyers, revenue and active customers (lapsing as repeat buyers drop out), year one."""
    scenario = hg.config.parse_scenario_text(DATED).with_overrides({"sales.sellers": 40})
    expected = hg.theory.expected_daily(scenario, 365)
    daily = hg.replicate(scenario, 4, 1).daily
    simulated = daily[daily["day"] < 365].groupby("rep")[["buyers", "revenue"]].sum().mean()
    assert expected["buyers"].sum() == pytest.approx(simulated["buyers"], rel=0.05)
    assert expected["revenue"].sum() == pytest.approx(simulated["revenue"], rel=0.08)
    at_end = daily[daily["day"] == 364]["active_customers"].mean()
    # a first-order expectation: about 10% under the simulation on this scenario
    assert expected["active_customers"][364] == pytest.approx(at_end, rel=0.15)
