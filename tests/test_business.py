"""My business: a form's answers become a valid scenario, used on every page, or are refused."""

from __future__ import annotations

import datetime
import math
import re

import pytest

import hourglass as hg
from hourglass.calibration import export_deals
from hourglass.config.business import Business, PaidLine, Step
from tests.helpers import repeat_buying_run
from tests.test_dashboard import metric, open_page, script, shown

PASSES = {"know": 0.5, "like": 0.5, "trust": 0.5, "try": 0.5, "buy": 0.8}
ORGANIC_ONLY = Business(
    name="corner_shop",
    start_date=datetime.date(2027, 3, 1),
    months=12,  # 366 days: February 2028 has 29
    market_size=1_000_000,
    paid=(),
    organic_per_month=100 * 365.25 / 12,  # 100 a day
    steps={stage: Step(p, 1.0) for stage, p in PASSES.items()},
    sellers=0,
    referral_contacts_per_month=0.0,
)


def expected_buyers(funnel_days: float = 5.0) -> float:
    """Outside contacts land on a market of M: M (1 - e^(-C/M)) are new; 5% of them buy.

    Those who arrive in the last `funnel_days` have not bought by the horizon.
    """
    contacts, market = 100 * (366 - funnel_days), 1_000_000
    return market * -math.expm1(-contacts / market) * 0.5**4 * 0.8


def test_the_forms_defaults_make_a_valid_scenario():
    scenario = Business().to_scenario()
    assert scenario.name == "my_business" and scenario.sales.sellers == 4
    assert scenario.channels.paid["ads"].prospects_per_day == pytest.approx(5000 / 2.5 / 30.4375)
    assert hg.config.parse_scenario_text(scenario.to_yaml()) == scenario


def test_a_filled_form_gives_the_buyers_theory_expects_and_the_simulation_agrees():
    scenario = ORGANIC_ONLY.to_scenario()
    assert scenario.horizon_days == 366
    assert hg.theory.expected_outcome(scenario)["buyers"] == pytest.approx(expected_buyers())
    simulated = hg.analysis.kpis(hg.simulate(scenario, 1))["buyers"]
    assert abs(simulated - expected_buyers()) < 4 * math.sqrt(expected_buyers())


def test_a_bad_value_is_refused_by_the_field_it_went_to():
    bad = Business(paid=(PaidLine("ads", 5000.0, 0.0),))
    with pytest.raises(hg.ScenarioError, match=r"channels\.paid\.ads\.cost_per_prospect"):
        bad.to_scenario()


def fill(at, answers: dict[str, object]) -> None:
    for key, value in answers.items():
        if isinstance(value, str):
            at.text_input(key=key).set_value(value)
        else:
            at.number_input(key=key).set_value(value)


def test_the_page_makes_the_scenario_chooses_it_and_the_planner_forecasts_it():
    at = open_page("business")
    assert [h.value for h in at.header] == ["My business"]
    fill(
        at,
        {
            "biz-name": "corner_shop",
            "biz-channel-0": "",
            "biz-market": 1_000_000,
            "biz-organic": 100 * 365.25 / 12,
            "biz-sellers": 0,
            "biz-contacts": 0.0,
            **{f"biz-pass-{stage}": p for stage, p in PASSES.items()},
        },
    )
    at.date_input(key="biz-start").set_value(datetime.date(2027, 3, 1))
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert "'corner_shop' is valid and chosen on every page" in shown(at.success[0].value)
    assert at.selectbox(key="chosen").value == "corner_shop"
    # the form's default times: 14 days through the funnel
    assert metric(at, "Buyers").value == f"{expected_buyers(14.0):,.0f}"
    at.switch_page(script("planner")).run()
    assert not at.exception and not at.error
    assert [shown(h.value) for h in at.header] == ["Forecast · corner_shop"]
    assert at.dataframe[0].value["Month"].tolist()[0] == "2027-03"


def test_the_page_refuses_a_bad_value_by_name_and_keeps_the_answers():
    at = open_page("business")
    at.number_input(key="biz-cost-0").set_value(0.0)
    at.button[0].click().run()
    assert not at.exception
    assert "the form: channels.paid.ads.cost_per_prospect" in shown(at.error[0].value)
    assert at.selectbox(key="chosen").value == "baseline"  # nothing changed
    assert at.number_input(key="biz-cost-0").value == 0.0


def test_the_page_speaks_russian():
    at = open_page("business", language="ru")
    assert [h.value for h in at.header] == ["Мой бизнес"]
    at.button[0].click().run()
    assert "«my_business» проверен" in shown(at.success[0].value)
    assert metric(at, "Покупатели").value
    assert not latin_prose(at)


def latin_prose(at) -> list[str]:
    """Text the page shows that reads as English (a word of four Latin letters or more)."""
    prose = [m.value for m in at.markdown if not m.value.startswith("<style>")]
    return [text for text in prose if re.search("[A-Za-z]{4,}", shown(text))]


def test_the_scenario_page_speaks_russian():
    at = open_page("scenario", language="ru")
    assert [h.value for h in at.header] == ["Файлы сценариев"]
    assert [shown(h.value) for h in at.subheader] == ["Правка · baseline"]
    assert not latin_prose(at)  # no constant's note shown by Streamlit's magic
    edited = at.text_area[0].value.replace("name: baseline", "name: my_shop")
    at.text_area[0].set_value(edited)
    at.button(key="check").click().run()
    assert shown(at.success[0].value) == "«my_shop» проверен и выбран на всех страницах."
    at.file_uploader(key="upload").upload("big.yaml", b"#" * (2**20 + 1), "text/yaml").run()
    assert shown(at.error[0].value) == (
        "big.yaml: 1,048,577 байт; сценарий может занимать не больше 1,048,576 байт "
        "(1 МБ). Ничего не изменено."
    )


def imported_then(address: str, **state: object):
    """A CRM export imported and its scenario opened, then another page of the dashboard."""
    run = repeat_buying_run()
    at = open_page("import", **state)
    at.file_uploader(key="deals").upload(
        "deals.csv", export_deals(run).to_csv(index=False).encode()
    )
    at.button[0].click().run()
    at.button(key="open-calibrated").click().run()
    at.switch_page(script(address)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_after_an_import_the_marketer_page_warns_of_what_the_data_could_not_estimate():
    at = imported_then("marketer")
    warning = at.warning[0].value.replace("\\", "")
    assert warning.startswith(
        "'calibrated' was calibrated from your data, which could not estimate repeat buying, "
        "referrals (word of mouth): the scenario leaves them out"
    )
    at.selectbox(key="chosen").set_value("baseline").run()
    assert not [w for w in at.warning if "calibrated from your data" in w.value]


def test_the_warning_after_an_import_speaks_russian():
    at = imported_then("planner", language="ru")
    warning = at.warning[0].value.replace("\\", "")
    assert warning.startswith("Сценарий «calibrated» откалиброван по вашим данным")
    assert "повторные покупки, рекомендации (сарафанное радио)" in warning


REACH_ONLY = Business(
    name="reach_shop",
    months=12,
    market_size=100_000_000,  # so large that nobody is reached twice
    paid=(PaidLine("ads", 3000.0, 1.0, most_prospects_per_month=3000.0, half_reach_budget=3000.0),),
    organic_per_month=0.0,
    referral_contacts_per_month=0.0,
)
"""A channel whose reach saturates: the budget that buys half its most, nothing else."""


def test_a_channel_by_reach_becomes_a_saturating_response_curve():
    ads = REACH_ONLY.to_scenario().channels.paid["ads"]
    per_day = 3000.0 / hg.stages.DAYS_PER_MONTH
    assert ads.cost_per_prospect is None
    assert ads.prospects_per_day == pytest.approx(per_day / 2)  # half the most, by definition
    assert ads.reach(9000.0) == pytest.approx(per_day * 0.75)  # three times the money: 3/4


def test_a_channel_by_reach_brings_its_prospects_into_the_simulation():
    scenario = REACH_ONLY.to_scenario()
    expected = 1500.0 / hg.stages.DAYS_PER_MONTH * scenario.horizon_days  # half of 3,000 a month
    simulated = hg.analysis.kpis(hg.simulate(scenario, 1))["outside_prospects"]
    assert abs(simulated - expected) < 4 * math.sqrt(expected)


def test_the_page_takes_a_channel_by_reach():
    at = open_page("business")
    fill(at, {"biz-name": "reach_shop", "biz-most-0": 3000.0, "biz-half-0": 5000.0})
    at.button[0].click().run()
    assert not at.exception and not at.error
    ads = ads_scenario(at).channels
    assert ads.paid["ads"].prospects_per_day == pytest.approx(
        3000.0 / hg.stages.DAYS_PER_MONTH * 5000.0 / (5000.0 + 5000.0)
    )
    buyers = hg.theory.expected_outcome(ads_scenario(at), queues=True)["buyers"]
    assert metric(at, "Buyers").value == f"{buyers:,.0f}"


def ads_scenario(at) -> hg.Scenario:
    return hg.config.parse_scenario_text(at.session_state["library"]["reach_shop"])


def test_the_reach_fields_speak_russian():
    at = open_page("business", language="ru")
    labels = {n.label for n in at.number_input}
    assert {
        "Самое большее потенциальных клиентов в месяц (0 — без предела)",
        "Бюджет на половину из них",
    } <= labels


def test_a_reach_without_the_budget_for_half_is_refused_by_its_field():
    bad = Business(paid=(PaidLine("ads", 5000.0, 2.5, most_prospects_per_month=3000.0),))
    with pytest.raises(hg.ScenarioError, match=r"channels\.paid\.ads\.response\.hill\.half_sat"):
        bad.to_scenario()
