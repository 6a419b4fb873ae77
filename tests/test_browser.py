"""The dashboard in a real browser: Debian's chromium, driven by Playwright, against a live server.

Pages are driven as users drive them (every address is visited by tests/test_browser_lang.py).
Screenshots land in tests/screenshots/.
Without /usr/bin/chromium the test is skipped, unless HOURGLASS_REQUIRE_BROWSER is set (as CI
does), when it fails instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_dashboard import CHROMIUM, CHROMIUM_FLAGS, live_server, require_chromium, settle

SHOTS = Path(__file__).parent / "screenshots"
BAD = Path(__file__).parent / "data" / "bad"

require_chromium()

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The dashboard's address on a live server of its own."""
    with live_server() as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        tab = browser.new_page(viewport={"width": 1500, "height": 2200})
        tab.set_default_timeout(180_000)
        tab.goto(server)
        yield tab
        browser.close()


def chart_values(tab, index: int, trace: int = 0, axis: str = "x") -> list:
    """The numbers a plotly chart on the page draws."""
    return tab.evaluate(
        "([i, t, a]) => Array.from(document.querySelectorAll('.js-plotly-plot')[i].data[t][a])",
        [index, trace, axis],
    )


def wait_for_change(tab, index: int, before: list, axis: str = "x") -> list:
    """Wait until a chart draws something else than `before`; return what it draws."""
    tab.wait_for_function(
        """([i, a, old]) => {
            const plots = document.querySelectorAll('.js-plotly-plot');
            return plots.length > i && plots[i].data
                && JSON.stringify(Array.from(plots[i].data[0][a])) !== JSON.stringify(old);
        }""",
        arg=[index, axis, before],
    )
    settle(tab)
    return chart_values(tab, index, axis=axis)


def go_to(tab, address: str, heading: str, charts: int) -> None:
    """Open a page at its address; wait for its heading, its run and its charts."""
    tab.goto(f"{root(tab)}/{address}")
    arrived(tab, address, heading, charts)


def arrived(tab, address: str, heading: str, charts: int) -> None:
    """The page at `address` is on screen, whole: its heading, no error, all its charts."""
    tab.get_by_role("heading", name=heading).wait_for()
    settle(tab)
    assert tab.url == f"{root(tab)}/{address}"
    assert not tab.get_by_text("Page not found").count()
    assert not tab.locator('[data-testid="stException"]').count()
    # a page loaded afresh draws its charts once plotly's script has come
    tab.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot').length >= n", arg=charts
    )
    assert tab.locator(".js-plotly-plot").count() == charts


def root(tab) -> str:
    """The app's root address (scheme, host and port of the page on screen)."""
    return "/".join(tab.url.split("/")[:3])


def shoot(tab, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_root_opens_the_trainer_and_a_new_seed_redraws_the_hourglass(page):
    arrived(page, "trainer", "The hourglass · baseline", 3)
    before = chart_values(page, 0)
    shoot(page, "1-trainer")
    seed = page.get_by_label("Seed")
    seed.fill("7")
    seed.press("Enter")
    after = wait_for_change(page, 0, before)
    assert len(after) == 7 and after[0] != before[0]
    with page.expect_download() as csv:
        page.get_by_role("button", name="Stage table (CSV)").click()
    lines = Path(csv.value.path()).read_text().splitlines()
    assert lines[0].startswith("stage,entered,passed,lost") and len(lines) == 8
    with page.expect_download(timeout=120_000) as png:
        page.get_by_role("button", name="PNG", exact=True).first.click()
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.value.suggested_filename == "hourglass.png"
    english = chart_values(page, 0, axis="y")  # read before the click: the rerun may be quick
    page.get_by_text("Русский").click()
    russian = wait_for_change(page, 0, english, axis="y")
    assert russian[0] == "Знать"
    page.get_by_text("English").click()
    assert wait_for_change(page, 0, russian, axis="y") == english


@pytest.mark.slow  # a page run twice in a browser
def test_marketer_runs_with_more_sellers(page):
    go_to(page, "marketer", "Tune the levers · baseline", 1)
    sellers = page.get_by_label("Sellers", exact=True)
    sellers.fill("20")
    page.get_by_role("button", name="Run").click()
    page.locator('[data-testid="stMetricDelta"]').first.wait_for()
    settle(page)
    deltas = page.locator('[data-testid="stMetricDelta"]').all_inner_texts()
    assert any(text.strip() not in ("", "+0.0%") for text in deltas), deltas
    shoot(page, "2-marketer")


@pytest.mark.slow  # three pages simulated in a browser
def test_budget_planner_and_compare_draw_their_charts(page):
    go_to(page, "budget", "Budget · baseline", 1)
    shoot(page, "3-budget")
    go_to(page, "planner", "Forecast · baseline", 2)
    shoot(page, "4-planner")
    go_to(page, "compare", "Compare scenarios", 3)
    assert page.get_by_text("no_referrals").first.is_visible()
    shoot(page, "5-compare")


def test_a_bad_upload_shows_the_message_and_the_app_goes_on(page):
    go_to(page, "scenario", "Scenario files", 0)
    assert page.get_by_text("YAML, at most 1 MB").is_visible()  # the limit the page enforces
    page.locator('input[type="file"]').set_input_files(str(BAD / "unknown_key.yaml"))
    message = page.get_by_text("did you mean 'pass_prob'?")
    message.wait_for()
    assert "unknown_key.yaml: line 5" in message.inner_text()
    page.locator('input[type="file"]').set_input_files(str(BAD / "object_tag.yaml"))
    page.get_by_text("not valid YAML").wait_for()
    huge = {"name": "huge.yaml", "mimeType": "application/yaml", "buffer": b"#" * 1_100_000}
    page.locator('input[type="file"]').set_input_files(huge)
    page.get_by_text("File must be 1.0MB or smaller.").wait_for()  # refused before it is sent
    shoot(page, "6-scenario-bad-upload")
    page.get_by_role("link", name="Trainer").click()
    arrived(page, "trainer", "The hourglass · baseline", 3)


def test_import_page_calibrates_an_uploaded_export(page):
    go_to(page, "import", "Import data", 0)
    deals = Path(__file__).parent / "data" / "crm" / "hourglass.csv"
    page.locator('input[type="file"]').first.set_input_files(str(deals))
    page.get_by_role("button", name="Calibrate").click()
    page.get_by_text("Fitted from").wait_for()
    settle(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 1")
    shoot(page, "7-import-data")


def choose_scenario(tab, name: str) -> None:
    """Pick a shipped scenario in the sidebar."""
    tab.locator('[data-testid="stSelectbox"]').filter(has_text="Scenario").click()
    tab.get_by_role("option", name=name, exact=True).click()
    settle(tab)


@pytest.mark.slow  # two pages simulated in a browser
def test_b2b_and_network_pages_draw_their_views_and_keep_the_sidebar(page):
    go_to(page, "deals", "B2B deals · baseline", 0)
    choose_scenario(page, "b2b_committee")
    arrived(page, "deals", "B2B deals · b2b_committee", 2)
    roles = chart_values(page, 0, axis="y")
    assert roles[-1] == "purchaser"  # the first role a cold deal meets, on top
    shoot(page, "8-b2b-deals")
    page.get_by_role("link", name="Network").click()
    arrived(page, "network", "Network · b2b_committee", 0)  # the sidebar's choice holds
    choose_scenario(page, "social_network")
    arrived(page, "network", "Network · social_network", 3)
    assert page.get_by_text("not a measured effect").first.is_visible()
    shoot(page, "9-network")
