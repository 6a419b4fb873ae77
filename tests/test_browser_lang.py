"""Every page in Russian in a real browser, with no English word left; screenshots for a room.

Each page is opened at `/<address>?lang=ru&present=1` at 1280x720, a projector's size, and its
visible text (the charts' text included) is searched for English words outside a short
allowlist: units, acronyms, file formats and the shipped scenarios' file and channel names.
The sidebar is checked once, on the Trainer page. Screenshots of every page in presentation
mode (both languages) land in tests/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.live_dashboard import (
    ADDRESSES,
    projector_tab,
    require_chromium,
    settle,
)

SHOTS = Path(__file__).parent / "screenshots"
SHIPPED = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))
SCENARIOS = {path.stem for path in SHIPPED}
CHANNELS = {
    channel
    for path in SHIPPED
    for channel in (yaml.safe_load(path.read_text("utf-8")).get("channels") or {}).get("paid", {})
}
"""The shipped scenarios' paid channels: names the scenario's author chose, shown as written."""
ALLOWED = {
    *(word for name in SCENARIOS for word in re.findall(r"[A-Za-z]+", name)),
    *("CAC", "LTV", "ROI", "CSV", "PNG", "YAML", "JSON", "MB", "B2B", "SVG", "BG", "NBD"),
    *("hourglass", "Excel", "Bitrix24", "amoCRM", "UTF", "cp1251", "English"),
    *("Bitrix", "HubSpot", "Salesforce", "CRM", "YML", "LinkedIn"),
    *(word for name in CHANNELS for word in re.findall(r"[A-Za-z]+", name)),
}
"""Words a Russian page may still show in Latin letters."""
RUSSIAN_PAGES = (
    *("trainer", "network", "deals", "marketer", "budget", "compare"),
    *("planner", "business", "scenario", "sales-team", "accounts", "import"),
)
"""The pages whose every word is translated (the test covers each)."""
SHOWN_ON = {"network": "social_network", "budget": "marketing_budgets"}
"""Pages that draw their views only for some scenarios, and the scenario each is checked on."""
VISIBLE_TEXT = """() => {
    const hide = document.createElement('style');
    hide.textContent = '[data-testid="stIconMaterial"], [role="img"][translate="no"], code '
        + '{ display: none !important; }';
    document.head.appendChild(hide);
    const text = document.querySelector('[data-testid="stApp"]').innerText;
    hide.remove();
    const charts = Array.from(document.querySelectorAll('.js-plotly-plot svg text'))
        .map(t => t.textContent);
    return [text, ...charts].join('\\n');
}"""
require_chromium()

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def tab() -> Iterator[object]:
    """A 1280x720 browser tab and the address of a live dashboard of its own."""
    yield from projector_tab()


def opened(page, address: str, query: str) -> None:
    """The page at `address?query`, its run finished and its charts drawn.

    In English the page's own heading is awaited, and the address must hold.
    """
    page.goto(f"{page.base_url}/{address}?{query}")
    if "lang=en" in query:
        page.get_by_role("heading", name=ADDRESSES[address][0]).wait_for()
        assert page.url.split("?")[0] == f"{page.base_url}/{address}"
        assert not page.get_by_text("Page not found").count()
    else:
        page.locator("h1, h2, h3").first.wait_for()
    settle(page)
    charts = ADDRESSES[address][1]
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot').length >= n", arg=charts
    )
    assert not page.locator('[data-testid="stException"]').count()


def english_words(text: str) -> list[str]:
    """The words of `text` in Latin letters that are not allowed on a Russian page."""
    words = re.findall(r"[A-Za-z][A-Za-z']+", text)
    return sorted({w for w in words if w not in ALLOWED and w.lower() not in ALLOWED})


def test_english_words_are_found_and_allowed_ones_pass():
    assert english_words("Клиенты 1,200 · CAC 35 · baseline · Buyers") == ["Buyers"]


def test_the_russian_sidebar_shows_no_english_word(tab):
    opened(tab, "trainer", "lang=ru")
    SHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(SHOTS / "trainer-ru.png"))
    assert english_words(tab.evaluate(VISIBLE_TEXT)) == []


@pytest.mark.parametrize("address", sorted(SHOWN_ON))
def test_a_page_on_the_scenario_that_fills_it_shows_no_english_word(tab, address):
    """The page with the scenario chosen in the sidebar, its every chart drawn, in Russian."""
    opened(tab, address, "lang=ru")
    tab.locator('[data-testid="stSelectbox"]').filter(has_text="Сценарий").click()
    tab.get_by_role("option", name=SHOWN_ON[address], exact=True).click()
    tab.get_by_role("heading").filter(has_text=SHOWN_ON[address]).first.wait_for()
    settle(tab)
    tab.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 1")
    assert not tab.locator('[data-testid="stException"]').count()
    SHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{address}-{SHOWN_ON[address]}-ru.png"))
    chart = tab.locator(".js-plotly-plot").first
    chart.screenshot(path=str(SHOTS / f"{address}-{SHOWN_ON[address]}-ru-chart.png"))
    assert english_words(tab.evaluate(VISIBLE_TEXT)) == []


@pytest.mark.slow  # every page in both languages: minutes in a browser
@pytest.mark.parametrize("address", list(ADDRESSES))
@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_page_opens_in_presentation_mode(tab, address, language):
    """Each page on a projector; in Russian, with no English word (the sidebar is hidden)."""
    opened(tab, address, f"lang={language}&present=1")
    SHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{address}-{language}-present.png"))
    assert not tab.locator('[data-testid="stSidebar"]').is_visible()
    assert not tab.locator('[data-testid="stAppDeployButton"]').is_visible()
    if language == "ru" and address in RUSSIAN_PAGES:
        assert english_words(tab.evaluate(VISIBLE_TEXT)) == []
