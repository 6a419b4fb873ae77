"""The trainer's pages: lessons as data, the Trainer page's lesson, Network and B2B deals."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from hourglass.app import cache
from hourglass.config import ScenarioError, load_scenario, parse_scenario_text, shipped_scenarios
from hourglass.config.lesson import described
from hourglass.i18n import language
from hourglass.kpis import KPIS
from tests.test_dashboard import DASHBOARD, figures, metric, number, script, values

SHIPPED = shipped_scenarios()
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)  # noqa: RUF001


def opened(address: str, lang: str = "en", **state: object) -> AppTest:
    """The dashboard on a page in a language, with two replications."""
    at = AppTest.from_file(DASHBOARD, default_timeout=180)
    at.query_params["lang"] = lang
    at.session_state["reps"] = 2
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(script("scenario")).run()
    at.switch_page(script(address)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_has_its_lesson_in_both_languages(name):
    scenario = load_scenario(name)
    lesson = scenario.lesson
    assert lesson is not None and scenario.description_ru
    for words in (lesson.title, lesson.shows, lesson.try_):
        assert words.en != words.ru
        assert CYRILLIC.search(words.in_language("ru"))
    assert described(scenario, "ru") == scenario.description_ru
    assert described(scenario, "en") == scenario.description
    assert lesson.compare_with is None or lesson.compare_with in SHIPPED


def test_a_lesson_with_an_unknown_field_is_refused_by_name():
    text = (
        load_scenario("baseline")
        .to_yaml()
        .replace("  compare_with:", "  tips: more\n  compare_with:")
    )
    with pytest.raises(ScenarioError, match=r"lesson\.tips") as err:
        parse_scenario_text(text, "shop.yaml")
    assert "shop.yaml" in str(err.value)


def test_the_lesson_and_the_russian_description_leave_the_cached_result_alone():
    scenario = load_scenario("seller_bottleneck")
    bare = scenario.model_copy(update={"lesson": None, "description_ru": ""})
    assert cache.result_key(scenario, 2, 1) == cache.result_key(bare, 2, 1)


def test_the_trainer_page_teaches_its_lesson_in_russian_with_the_difference_in_numbers():
    at = opened("trainer", "ru", chosen="seller_bottleneck")
    assert at.header[0].value == "Песочные часы · seller\\_bottleneck"
    assert "Мало продавцов: лиды остывают" in [s.value for s in at.subheader]
    assert any("четырьмя продавцами" in c.value for c in at.caption)
    assert metric(at, "Загрузка продавцов").value.endswith("%")
    hourglass = figures(at)[0]
    assert list(hourglass.data[0].y[:2]) == ["Знать", "Нравиться"]
    at.button(key="lesson-seller_bottleneck-baseline-button").click().run()
    assert not at.exception
    sentence = next(m.value for m in at.markdown if "покупателей относительно baseline" in m.value)
    assert "остыли в ожидании продавца" in sentence
    before, after = [m for m in at.metric if m.label == "Покупатели"][:2]
    with language("ru"):
        change = KPIS["buyers"].format_delta(
            number(after.value) - number(before.value), number(before.value)
        )
    assert after.delta == change  # the metric's change is the two means' difference
    # the sentence is Markdown, whose words keep one plain space between them
    assert " ".join(change.split()) in sentence.replace("\\", "")
    assert number(after.value) < 0.6 * number(before.value)  # four sellers lose most buyers


def test_the_trainer_page_in_english_draws_the_lower_half_in_people():
    at = opened("trainer")
    assert at.subheader[0].value == "The whole hourglass in one picture"
    hourglass = figures(at)[0]
    bars, referred = hourglass.data[0], hourglass.data[1]
    table = at.dataframe[0].value
    assert values(bars.x)[:5] == [number(v) for v in table["simulated"]]
    assert values(referred.x)[0] == values(bars.x)[6]  # Refer: the referred prospects at Know
    assert "one scale" in hourglass.layout.legend.title.text


def test_the_network_page_speaks_russian_and_labels_its_log_axis_once_per_tick():
    at = opened("network", "ru", chosen="social_network")
    assert at.header[0].value == "Сеть · social\\_network"
    assert metric(at, "Гомофилия").value.startswith("в ")
    picture, adoption, chains = figures(at)
    assert {"клиент", "пришёл извне"} <= {t.name for t in picture.data[1:]}
    assert [t.name for t in adoption.data if t.showlegend is not False] == [
        "социальный граф",
        "хорошо перемешанный рынок",
    ]
    ticks = list(chains.layout.yaxis2.tickvals)
    assert ticks[:3] == [1, 2, 5] and len(set(ticks)) == len(ticks)
    assert chains.layout.yaxis2.title.text == "первые клиенты"


def test_the_deals_page_speaks_russian():
    at = opened("deals", "ru", chosen="b2b_committee")
    assert at.header[0].value == "Сделки B2B · b2b\\_committee"
    assert metric(at, "Доля выигранных").value.endswith("%")
    roles = figures(at)[0]
    assert "первое лицо" in list(roles.data[0].y)
    assert roles.layout.title.text == "Где гибнут сделки, по ролям"
    table = at.dataframe[0].value
    assert {"поисковая реклама", "выставки"} <= set(table["channel"])


def test_the_key_accounts_lesson_names_the_cost_to_serve_in_both_languages():
    lesson = load_scenario("key_accounts").lesson
    assert "cost to serve" in lesson.title.en
    assert "стоимость их обслуживания" in lesson.title.ru
    assert lesson.compare_with == "baseline"
