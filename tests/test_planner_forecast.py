"""The Planner's forecast of the reader's own customers from an uploaded transaction log."""

from __future__ import annotations

import datetime
from pathlib import Path

import pandas as pd
import pytest

import hourglass as hg
from hourglass.analysis.forecast import forecast_table
from hourglass.app import runs
from hourglass.app.pages import planner_forecast
from hourglass.calibration import CrmMapping
from hourglass.forecasting import forecast
from tests.helpers import cdnow_export
from tests.live_dashboard import CHROMIUM, CHROMIUM_FLAGS, live_server
from tests.test_dashboard import figures, open_page

SHOTS = Path(__file__).parent / "screenshots"
UNTIL = datetime.date(1997, 9, 30)
SEED = 1  # the baseline's, which the sidebar starts with


@pytest.fixture(scope="module")
def cdnow_csv() -> bytes:
    """CDNOW as a CSV with ISO dates, as a shop's export would have it."""
    return cdnow_export().to_csv(index=False).encode()


def forecast_page(data: bytes, name: str = "cdnow.csv", **state: object):
    at = open_page("planner", **state)
    at.segmented_control(key="planner-mode").set_value("log").run()
    at.file_uploader(key="planner-log").upload(name, data, "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def asked(at, months: int = 9, reps: int = 4):
    at.checkbox(key="forecast-keep-duplicates").check().run()
    at.date_input(key="forecast-until").set_value(UNTIL)
    at.number_input(key="forecast-months").set_value(months)
    at.number_input(key="forecast-reps").set_value(reps)
    next(b for b in at.button if b.label in ("Forecast", "Построить прогноз")).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def library_forecast(data: bytes, months: int = 9, reps: int = 4) -> dict:
    table = hg.calibration.read_table(data, "cdnow.csv").frame
    log = hg.calibration.read_transactions(
        table, CrmMapping(keep_duplicate_transactions=True), "cdnow.csv"
    )
    return forecast(log, pd.Timestamp(UNTIL), months, None, reps, SEED).to_dict()


def test_the_forecast_mode_gives_the_librarys_months_with_the_actuals_beside(cdnow_csv):
    at = asked(forecast_page(cdnow_csv))
    doc = library_forecast(cdnow_csv)
    assert [h.value for h in at.header] == ["Forecast · my customers"]
    table = at.dataframe[0].value
    assert table["Month"].tolist()[:2] == ["1997-10", "1997-11"] and len(table) == 9
    first = doc["monthly"][0]["repeat_purchases"]
    assert table["Repeat purchases"][0] == (
        f"{first['mean']:,.0f} ({first['p5']:,.0f}\N{EN DASH}{first['p95']:,.0f})"
    )
    actual = doc["monthly"][0]["actual_repeat_purchases"]
    assert table["Repeat purchases, actual"][0] == f"{actual:,.0f}"
    known, inside = doc["backtest"]["months"], doc["backtest"]["inside_band"]
    assert known == 9
    assert at.metric[0].value == f"{inside} / 9"
    band = "p5-p95 of 4 runs; the band holds: simulation noise, the fitted parameters' uncertainty"
    assert band in [c.value for c in at.caption]
    chart = figures(at)[0]
    actual_points = next(t for t in chart.data if t.mode == "markers")
    assert actual_points.name == "actual"


def test_the_forecast_table_holds_the_librarys_numbers(cdnow_csv):
    doc = library_forecast(cdnow_csv, months=3, reps=2)
    table = forecast_table(doc)
    assert table["month"].tolist() == ["1997-10", "1997-11", "1997-12"]
    assert table["repeat_purchases_mean"][0] == doc["monthly"][0]["repeat_purchases"]["mean"]
    assert table["revenue_actual"][2] == doc["monthly"][2]["actual_revenue"]


def test_a_future_month_has_no_actual(cdnow_csv):
    doc = library_forecast(cdnow_csv, months=12, reps=2)  # the log ends in June 1998
    table = forecast_table(doc)
    assert table["repeat_purchases_actual"].isna().tolist() == [False] * 9 + [True] * 3


def test_the_forecast_mode_speaks_russian(cdnow_csv):
    at = asked(forecast_page(cdnow_csv, language="ru"), months=3, reps=2)
    table = at.dataframe[0].value
    assert table["Месяц"].tolist() == ["октябрь 1997", "ноябрь 1997", "декабрь 1997"]
    assert "Повторные покупки, факт" in table.columns
    assert any(
        c.value.startswith("p5\N{EN DASH}p95 по 2 прогонам; диапазон учитывает") for c in at.caption
    )
    assert at.metric[0].label.startswith("Месяцы, в которых")


def test_a_row_left_out_is_named_by_file_column_and_row():
    bad = b"customer_id,date,amount\nA,1997-01-01,12\nB,not a date,3\n"
    at = forecast_page(bad, name="shop.csv")
    assert not at.error
    assert "shop.csv: 1 row skipped: column 'date': unparseable date (rows 3)" in shown(at)


def test_a_log_with_no_usable_row_is_refused_naming_the_file():
    at = forecast_page(b"customer_id,date,amount\nB,not a date,3\n", name="shop.csv")
    message = at.error[0].value.replace("\\", "")
    assert message.startswith("shop.csv: no usable rows")
    assert "column 'date': unparseable date (rows 2)" in message
    assert not at.get("form")  # nothing to forecast from: no cut-off asked for


def shown(at) -> str:
    """The page's warnings, as their text reads."""
    return " ".join(w.value.replace("\\", "") for w in at.warning)


def test_a_cut_off_too_early_to_fit_is_refused_and_keeps_the_last_forecast(cdnow_csv):
    at = asked(forecast_page(cdnow_csv), months=3, reps=2)
    before = at.dataframe[0].value
    at.date_input(key="forecast-until").set_value(datetime.date(1997, 1, 2))
    next(b for b in at.button if b.label == "Forecast").click().run()
    assert not at.exception
    message = at.error[0].value.replace("\\", "")
    assert message.startswith(
        "cdnow.csv: the repeat buying could not be fitted from the purchases up to Cut-off date"
    )
    pd.testing.assert_frame_equal(at.dataframe[0].value, before)


@pytest.mark.slow  # a forecast fitted and drawn in a browser, in two languages
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_forecast_mode_in_a_browser(cdnow_csv, tmp_path, lang):
    """Upload, forecast, and a screenshot at a projector's size (tests/screenshots/)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    log = tmp_path / "cdnow.csv"
    log.write_bytes(cdnow_csv)
    words = {
        "en": ("My customers (transaction log)", "Rows alike", "Forecast"),
        "ru": ("Мои клиенты (журнал покупок)", "Строки, совпадающие", "Построить прогноз"),
    }[lang]
    with live_server() as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 2400})  # the whole answer
        tab.set_default_timeout(180_000)
        tab.goto(f"{url}/planner?lang={lang}")
        tab.get_by_role("radio", name=words[0]).click()
        tab.locator('input[type="file"]').set_input_files(str(log))
        tab.get_by_text(words[1]).click()
        tab.get_by_role("button", name=words[2], exact=True).click()
        tab.wait_for_selector('[data-testid="stDataFrame"]')
        tab.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 1")
        tab.wait_for_timeout(1500)
        SHOTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(SHOTS / f"planner-forecast-{lang}.png"), full_page=True)
        assert " / " in tab.locator('[data-testid="stMetricValue"]').first.inner_text()
        browser.close()


def test_the_cut_off_offered_first_ends_a_month_two_thirds_into_the_log():
    first, last = datetime.date(1997, 1, 1), datetime.date(1998, 6, 30)
    assert planner_forecast.default_until(first, last) == datetime.date(1997, 11, 30)
    assert planner_forecast.default_until(first, datetime.date(1997, 1, 10)) == datetime.date(
        1997, 1, 7
    )


def test_a_forecast_over_the_work_budget_is_refused_with_why(cdnow_csv, monkeypatch):
    monkeypatch.setattr(runs, "SESSION_EVENTS", 1_000)
    at = asked(forecast_page(cdnow_csv), months=3, reps=2)
    message = at.error[0].value.replace("\\", "")
    assert message.startswith("Not forecast: this needs about")
    assert "a session may run 0.0 million events" in message
    assert not at.dataframe


def test_the_page_estimates_the_work_the_library_does(cdnow_csv):
    """Known customers start the day after the cut-off; the run lasts the forecast's months.

    9 months from 1997-10-01 are 273 days; the page allows 31 days a month, 279.
    """
    table = hg.calibration.read_table(cdnow_csv, "cdnow.csv").frame
    log = hg.calibration.read_transactions(
        table, CrmMapping(keep_duplicate_transactions=True), "cdnow.csv"
    )
    work = planner_forecast.forecast_work(log, pd.Timestamp(UNTIL), 9, 4)
    assert (work.horizon_days, work.runs, work.customers) == (279.0, 4, pytest.approx(2357.0))
