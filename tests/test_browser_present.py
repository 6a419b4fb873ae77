"""Presentation mode in a real browser at 1280x720: Streamlit's own widgets in a room's type.

Pages are opened with `?present=1`; the computed sizes of a message box, an input's label,
the uploader's button, a table's text and a metric's value are read in the page, and no
button's label may run past its box. Each chart is also shot on its own, as a room sees it
(tests/screenshots/<address>-<language>-present-<n>.png), and the Sankey's labels must lie
inside the figure. Without /usr/bin/chromium the tests are skipped (see tests/live_dashboard.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_dashboard import (
    ADDRESSES,
    projector_tab,
    require_chromium,
    settle,
)

SHOTS = Path(__file__).parent / "screenshots"
BAD = Path(__file__).parent / "data" / "bad"
BODY_PX = 20
"""The smallest body text a room reads at 1280x720, in pixels."""
METRIC_PX = 36
"""The smallest metric value a room reads, in pixels."""
GRID_PX = 14
"""The type Streamlit's tables draw on their canvas, in CSS pixels (before any zoom)."""
SIZES = """([selector, grid]) => Array.from(document.querySelectorAll(selector))
    .filter(element => element.getClientRects().length)
    .map(element => (grid || parseFloat(getComputedStyle(element).fontSize))
        * element.currentCSSZoom)"""
WORD_SIZES = """selector => Array.from(document.querySelectorAll(selector))
    .filter(element => element.getClientRects().length && Array.from(element.childNodes)
        .some(node => node.nodeType === Node.TEXT_NODE && node.nodeValue.trim()))
    .map(element => parseFloat(getComputedStyle(element).fontSize) * element.currentCSSZoom)"""
OVERFLOWING_BUTTONS = """() => Array.from(document.querySelectorAll('button'))
    .filter(button => button.getClientRects().length && button.innerText.trim())
    .filter(button => button.scrollWidth > button.clientWidth
        || Array.from(button.querySelectorAll('p')).some(p => p.scrollWidth > p.clientWidth))
    .map(button => button.innerText)"""
LABELS_OUTSIDE = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(plot => {
    const box = plot.querySelector('.main-svg').getBoundingClientRect();
    return Array.from(plot.querySelectorAll('.sankey-node .node-label'))
        .filter(label => {
            const at = label.getBoundingClientRect();
            return at.left < box.left || at.right > box.right || at.top < box.top
                || at.bottom > box.bottom;
        })
        .map(label => label.textContent);
})"""

require_chromium()

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow  # pages simulated in a browser


@pytest.fixture(scope="module")
def tab() -> Iterator[object]:
    """A 1280x720 browser tab, a projector's size, and the address of a live dashboard."""
    yield from projector_tab()


def presented(page, address: str, language: str) -> None:
    """The page at `address` in presentation mode, its run finished and its charts drawn."""
    page.goto(f"{page.base_url}/{address}?lang={language}&present=1")
    page.locator("h1, h2, h3").first.wait_for()
    settle(page)
    charts = ADDRESSES[address][1]
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot').length >= n", arg=charts
    )
    assert not page.locator('[data-testid="stException"]').count()


def sizes(page, selector: str, *, grid: bool = False) -> list[float]:
    """The on-screen type size, in pixels, of each visible element `selector` finds."""
    found = page.evaluate(SIZES, [selector, GRID_PX if grid else 0])
    assert found, f"nothing on the page matches {selector}"
    return found


def word_sizes(page, selector: str) -> list[float]:
    """The on-screen type size of each visible element within `selector` that holds words."""
    found = page.evaluate(WORD_SIZES, f"{selector}, {selector} *")
    assert found, f"no words within {selector}"
    return found


def shoot_charts(page, address: str, language: str) -> None:
    """Each chart on its own, scrolled into view, as a room sees it."""
    SHOTS.mkdir(exist_ok=True)
    for n, chart in enumerate(page.locator('[data-testid="stPlotlyChart"]').all(), start=1):
        chart.screenshot(path=str(SHOTS / f"{address}-{language}-present-{n}.png"))


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_trainer_s_metrics_tables_and_captions_are_large(tab, language):
    presented(tab, "trainer", language)
    assert min(sizes(tab, '[data-testid="stMetricValue"]')) >= METRIC_PX
    assert min(sizes(tab, '[data-testid="stMetricLabel"] p')) >= BODY_PX
    assert min(sizes(tab, '[data-testid="stDataFrame"]', grid=True)) >= BODY_PX
    assert min(sizes(tab, '[data-testid="stCaptionContainer"]')) >= BODY_PX
    assert tab.evaluate(OVERFLOWING_BUTTONS) == []
    assert tab.evaluate(LABELS_OUTSIDE) == []  # the Sankey's, in the projector's type
    shoot_charts(tab, "trainer", language)


def test_the_marketer_s_input_labels_and_values_are_large(tab):
    presented(tab, "marketer", "ru")
    assert min(sizes(tab, '[data-testid="stWidgetLabel"] p')) >= BODY_PX
    assert min(sizes(tab, '[data-testid="stNumberInput"] input')) >= BODY_PX
    assert min(sizes(tab, '[data-testid="stSliderThumbValue"]')) >= BODY_PX
    assert tab.evaluate(OVERFLOWING_BUTTONS) == []
    shoot_charts(tab, "marketer", "ru")


def test_the_uploader_and_its_message_are_large(tab):
    presented(tab, "scenario", "ru")
    assert min(sizes(tab, '[data-testid="stFileUploaderDropzone"] button p')) >= BODY_PX
    # the size limit and file types; the button's icon keeps its size, so the button fits it
    assert min(sizes(tab, '[data-testid="stFileUploaderDropzone"] span:not(button *)')) >= BODY_PX
    tab.locator('input[type="file"]').set_input_files(str(BAD / "unknown_key.yaml"))
    tab.locator('[data-testid="stAlertContainer"]').first.wait_for()
    assert min(sizes(tab, '[data-testid="stAlertContainer"] p')) >= BODY_PX
    assert tab.evaluate(OVERFLOWING_BUTTONS) == []


def test_the_budget_s_choices_read_as_large_as_their_labels(tab):
    """A select box's chosen value and a multiselect's placeholder, not only their labels."""
    presented(tab, "budget", "en")
    assert min(word_sizes(tab, '[data-testid="stSelectbox"]')) >= BODY_PX
    assert min(word_sizes(tab, '[data-testid="stMultiSelect"]')) >= BODY_PX
    assert tab.evaluate(OVERFLOWING_BUTTONS) == []


def test_the_planner_s_forecast_source_reads_large(tab):
    """A segmented control's options (the forecast's source), before the forecast is drawn."""
    tab.goto(f"{tab.base_url}/planner?lang=ru&present=1")
    tab.locator('[data-testid="stButtonGroup"] button').first.wait_for()
    assert min(word_sizes(tab, '[data-testid="stButtonGroup"] button')) >= BODY_PX
    assert tab.evaluate(OVERFLOWING_BUTTONS) == []
