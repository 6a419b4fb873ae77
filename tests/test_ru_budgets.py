"""Budget lines by name in Russian on the Marketer and Budget pages; the pages keep their keys."""

from __future__ import annotations

import re

import hourglass as hg
from hourglass.i18n import language
from hourglass.plots.budgets import line_names
from tests.test_dashboard import figures, open_page, shown

RUSSIAN_LINES = [
    "Медийная реклама", "Поисковая реклама", "Нравиться", "Доверять", "Попробовать",
    "Повторить", "Рекомендовать",
]  # fmt: skip


def test_line_names_translate_known_channels_and_keep_a_users_own():
    scenario = hg.load_scenario("marketing_budgets")
    with language("ru"):
        assert list(line_names(scenario, "ru").values()) == RUSSIAN_LINES
    renamed = scenario.with_overrides(
        {"channels.paid": {"my_shop_ads": scenario.channels.paid["display_ads"].model_dump()}}
    )
    with language("ru"):
        assert line_names(renamed, "ru")["my_shop_ads"] == "my_shop_ads"


def test_budget_page_names_lines_in_russian_before_and_after_optimising():
    at = open_page("budget", "ru", chosen="marketing_budgets")
    titles = [a.text for a in figures(at)[0].layout.annotations]
    first = r"Медийная реклама<br>предельный ROI [+-]\d+,\d\d<br>"
    assert re.match(first, titles[0]), titles[0]
    assert [t.split("<br>")[0] for t in titles] == RUSSIAN_LINES
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert list(table["Статья бюджета"]) == RUSSIAN_LINES
    assert all(re.fullmatch(r"[+-]\d+,\d\d", roi) for roi in table.iloc[:, -1]), table
    allocation = figures(at)[1]
    assert list(allocation.data[0].x) == RUSSIAN_LINES
    assert "display_ads" not in " ".join(shown(m.value) for m in at.markdown)


def test_marketer_page_names_lines_in_russian_and_runs():
    at = open_page("marketer", "ru", chosen="marketing_budgets")
    labels = [n.label for n in at.number_input]
    assert all(name in labels for name in RUSSIAN_LINES), labels
    words = " ".join(shown(m.value) for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "display_ads" not in words and "search_ads" not in words
    assert "Медийная реклама" in words or "Поисковая реклама" in words
    next(n for n in at.number_input if n.label == "Поисковая реклама").set_value(0.0)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
