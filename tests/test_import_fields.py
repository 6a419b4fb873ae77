"""The Import page asks for the repeat and referral rates its data could not estimate."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from hourglass.config.gaps import gap_text
from hourglass.config.scenario import parse_scenario_text
from tests.helpers import ROOT
from tests.test_dashboard import DASHBOARD, script

DEALS = ROOT / "tests" / "data" / "crm" / "hourglass.csv"  # a deal history, no transactions


def _imported(lang: str) -> AppTest:
    """The Import page in `lang`, after calibrating a deal history without transactions."""
    at = AppTest.from_file(DASHBOARD, default_timeout=180)
    at.query_params["lang"] = lang
    at.switch_page(script("scenario")).run()
    at.switch_page(script("import")).run()
    at.file_uploader(key="deals").upload("deals.csv", DEALS.read_bytes(), "text/csv")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _opened(at: AppTest):
    """The scenario the page's button opened, as the session keeps it."""
    at.button(key="open-calibrated").click().run()
    assert not at.exception, [e.value for e in at.exception]
    name = at.session_state["chosen"]
    return parse_scenario_text(at.session_state["library"][name])


WORDS = {
    "en": (
        "Your data could not estimate repeat buying, referrals (word of mouth). Enter them "
        "below; the scenario you open uses: no repeat purchases; no referrals.",
        "Repeat purchases per customer per month",
        "repeat purchases: 0.2 per customer a month, with a 10% chance to stop buying after each",
    ),
    "ru": (
        "По вашим данным не удалось оценить: повторные покупки, рекомендации (сарафанное "
        "радио). Укажите их ниже; сценарий, который вы откроете, возьмёт: без повторных "
        "покупок; без рекомендаций.",
        "Повторных покупок на клиента в месяц",
        "повторные покупки: 0,2 на клиента в месяц, после каждой клиент перестаёт покупать "
        "с вероятностью 10\u00a0%",  # noqa: RUF001
    ),
}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_missing_repeat_rate_is_asked_for_under_the_warning_and_used(lang):
    warning, label, used = WORDS[lang]
    at = _imported(lang)
    assert any(w.value == warning for w in at.warning), [w.value for w in at.warning]
    field = at.number_input(key="import-repeats")
    assert field.label == label
    assert field.value == 0.0
    field.set_value(0.2).run()
    assert any(used in w.value for w in at.warning), [w.value for w in at.warning]
    scenario = _opened(at)
    assert scenario.after_sale.repeat.simple.purchases_per_month == 0.2
    assert scenario.after_sale.repeat.simple.dropout_prob == 0.1
    assert scenario.referral is None
    assert not any("repeat" in note or "повтор" in note for note in scenario.not_estimated)


def test_an_entered_referral_rate_gets_a_market_and_leaves_the_notes():
    at = _imported("en")
    at.number_input(key="import-referred").set_value(0.1).run()
    scenario = _opened(at)
    assert scenario.referral.contacts_per_month == {"one_time": 0.1, "temporarily_lost": 0.1}
    assert scenario.referral.win_prob == 1.0
    assert scenario.market.size == 1_000_000
    assert scenario.after_sale.repeat is None
    assert not any(gap_text(note).startswith("word of mouth") for note in scenario.not_estimated)
    assert any(gap_text(note).startswith("repeat buying") for note in scenario.not_estimated)


def test_the_warning_on_every_page_points_to_the_fields_on_the_import_page():
    at = _imported("ru")
    scenario = _opened(at)
    assert scenario.after_sale.repeat is None and scenario.referral is None
    assert any(
        "Задайте их на странице «Загрузка данных», под этим же предупреждением" in w.value
        for w in at.warning
    ), [w.value for w in at.warning]


STILL_MISSING = {
    "en": (
        "'calibrated' was calibrated from your data, which could not estimate referrals (word "
        "of mouth): the scenario leaves them out, so every forecast from it counts none. Enter "
        "them on the Import data page, under this warning there, or on the Scenario page "
        "(referral).",
        "repeat buying",
    ),
    "ru": (
        "Сценарий «calibrated» откалиброван по вашим данным, но оценить по ним не удалось: "
        "рекомендации (сарафанное радио). В сценарии их нет, и ни один прогноз по нему их не "  # noqa: RUF001
        "учитывает. Задайте их на странице «Загрузка данных», под этим же предупреждением, или "
        "на странице «Сценарий» (referral).",
        "повторные покупки",
    ),
}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_warning_on_every_page_names_what_is_still_missing_after_one_rate(lang):
    """A repeat rate entered, referrals not: every page still warns, of referrals only."""
    warning, entered = STILL_MISSING[lang]
    at = _imported(lang)
    at.number_input(key="import-repeats").set_value(0.2).run()
    scenario = _opened(at)
    assert scenario.after_sale.repeat is not None and scenario.referral is None
    at.switch_page(script("scenario")).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [w.value for w in at.warning]
    assert warning in shown, shown
    assert not any(entered in w for w in shown), shown


def test_no_warning_once_both_rates_are_entered():
    at = _imported("en")
    at.number_input(key="import-repeats").set_value(0.2)
    at.number_input(key="import-referred").set_value(0.1).run()
    _opened(at)
    at.switch_page(script("scenario")).run()
    assert not any("was calibrated from your data" in w.value for w in at.warning)
