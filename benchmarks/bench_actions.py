"""The dashboard's actions, timed end to end in headless chromium on a fresh server per round.

Each action is timed from the user's click, key or address to the end of the page's run with
its answer on screen (Streamlit's running widget gone, the expected charts or text there).
Run through `bench_dashboard.py --actions`; the server and browser come from the browser
tests' own helpers, so the benchmark drives the app as they do.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_cli import checkout  # noqa: E402

from tests import live_dashboard  # noqa: E402
from tests.live_dashboard import CHROMIUM, CHROMIUM_FLAGS, live_server  # noqa: E402

EXPORT_ROWS = 100_000
"""Rows of the CRM export the Import page calibrates."""

TARGETS = {
    "trainer_cold_chart": 3.5,
    "marketer_run": 1.5,
    "optimise": 8.0,
    "planner_within_year": 1.0,
    "planner_next_year": 1.0,
    "compare": 3.0,
    "calibrate_100k": 10.0,
}
"""Each action's target in seconds (issue 15); both Planner changes answer to its 1 s."""

FIRST_NUMBER = re.compile(r"Expected from the pass rates|of \d+ runs; range follows")
"""What a page shows first while it simulates: theory's expectation, or the first
replications' numbers (`*_first` times are to the first of these on screen)."""


def settle(tab: Page) -> None:
    """Wait until the app has finished its run, looking for its running widget for 1 s."""
    live_dashboard.settle(tab, appear_ms=1_000)


def charts(tab: Page, n: int) -> None:
    """Wait until `n` plotly charts have drawn a trace."""
    tab.wait_for_function(
        """(n) => Array.from(document.querySelectorAll('.js-plotly-plot'))
            .filter((p) => p.data && p.querySelector('.main-svg .trace, .main-svg .sankey'))
            .length >= n""",
        arg=n,
    )


def opened(tab: Page, url: str, heading: str, n: int) -> None:
    """Open a page and wait for its heading, its run and its `n` charts."""
    tab.goto(url)
    tab.get_by_role("heading", name=heading).wait_for()
    settle(tab)
    charts(tab, n)


def timed(action: Callable[[], None]) -> float:
    """Seconds `action` takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def trainer_cold_chart(tab: Page, url: str) -> float:
    """The first visit of a fresh server: seconds to the first drawn plotly chart."""
    return timed(lambda: (tab.goto(f"{url}/trainer"), charts(tab, 1)))


def first_number(tab: Page, done: str) -> None:
    """Wait until the page shows its first number while it simulates, or its answer (`done`).

    A page whose replications all end at once may show no number before its answer.
    """
    tab.wait_for_function(
        """([pattern, done]) => new RegExp(pattern).test(document.body.innerText)
            || document.querySelector(done) !== null""",
        arg=[FIRST_NUMBER.pattern, done],
    )


def marketer_run(tab: Page, url: str) -> dict[str, float]:
    """Marketer on the baseline: one more seller, Run, to the first number and to the last."""
    opened(tab, f"{url}/marketer", "Tune the levers · baseline", 1)
    sellers = tab.get_by_label("Sellers", exact=True)
    sellers.fill(str(int(sellers.input_value()) + 1))
    started = time.perf_counter()
    tab.get_by_role("button", name="Run").click()
    first_number(tab, '[data-testid="stMetricDelta"]')
    first = time.perf_counter() - started
    tab.locator('[data-testid="stMetricDelta"]').first.wait_for()
    settle(tab)
    return {"marketer_run_first": first, "marketer_run": time.perf_counter() - started}


def optimise(tab: Page, url: str) -> float:
    """Budget on marketing_budgets: Optimise, to the answer confirmed by simulation."""
    opened(tab, f"{url}/budget", "Budget · baseline", 1)
    tab.locator('[data-testid="stSelectbox"]').filter(has_text="Scenario").click()
    tab.get_by_role("option", name="marketing_budgets", exact=True).click()
    tab.get_by_role("heading", name="Budget · marketing_budgets").wait_for()
    settle(tab)

    def run() -> None:
        tab.get_by_role("button", name="Optimise").click()
        settle(tab)
        tab.locator('[data-testid="stProgress"]').wait_for(state="detached")

    return timed(run)


def planner(key: str) -> Callable[[Page, str], float]:
    """A Planner horizon change by an arrow key and Show: left stays in the year, right leaves it.

    The horizon is in a form, so the key alone changes nothing until Show is pressed. Timed to
    the simulated answer at the new horizon: the forecast and the K-factor charts (drawn only
    from the simulation) both showing its months, so a run that ends before Streamlit shows
    its running widget is not timed to the wait for that widget.
    """

    def change(tab: Page, url: str) -> float:
        opened(tab, f"{url}/planner", "Forecast · baseline", 2)
        horizon = tab.locator('[data-testid="stSlider"]').filter(has_text="Forecast horizon")
        slider = horizon.get_by_role("slider")
        slider.focus()

        shown = horizon.locator('[data-testid="stSliderThumbValue"]')
        months = int(shown.inner_text()) + (1 if key == "ArrowRight" else -1)

        def press() -> None:
            tab.keyboard.press(key)
            tab.get_by_role("button", name="Show", exact=True).click()
            tab.wait_for_function(MONTHS_DRAWN, arg=months)

        seconds = timed(press)
        settle(tab)
        return seconds

    return change


MONTHS_DRAWN = """(months) => {
    const plots = Array.from(document.querySelectorAll('.js-plotly-plot')).filter(
        (p) => p.data && p.querySelector('.main-svg .trace'));
    return plots.length >= 2 && plots.every((p) => new Set(p.data[0].x).size === months);
}"""
"""Whether the Planner's charts are drawn for `months` months."""


def compare(tab: Page, url: str) -> dict[str, float]:
    """Compare opened with its two default scenarios, to the first number and to its charts."""
    started = time.perf_counter()
    tab.goto(f"{url}/compare")
    first_number(tab, ".js-plotly-plot")
    first = time.perf_counter() - started
    tab.get_by_role("heading", name="Compare scenarios").wait_for()
    settle(tab)
    charts(tab, 3)
    return {"compare_first": first, "compare": time.perf_counter() - started}


def calibrate(export: Path) -> Callable[[Page, str], float]:
    """The Import page: upload the export and Calibrate, to the fitted scenario's chart."""

    def run(tab: Page, url: str) -> float:
        tab.goto(f"{url}/import")
        tab.get_by_role("heading", name="Import data").wait_for()
        settle(tab)

        def upload_and_fit() -> None:
            tab.locator('input[type="file"]').first.set_input_files(str(export))
            tab.get_by_role("button", name="Calibrate").click()
            tab.get_by_text("Fitted from").wait_for()
            settle(tab)

        return timed(upload_and_fit)

    return run


def crm_export(folder: Path, rows: int = EXPORT_ROWS) -> Path:
    """The baseline's CRM export, cut after the whole deal that reaches `rows` rows."""
    full = folder / "full.csv"
    subprocess.run(
        [sys.executable, "-m", "hourglass.cli", "export-crm", "baseline", "-o", str(full)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    cut = folder / f"export_{rows}.csv"
    with full.open(newline="") as source, cut.open("w", newline="") as target:
        reader = csv.reader(source)
        writer = csv.writer(target)
        writer.writerow(next(reader))
        kept, last = 0, None
        for row in reader:
            if kept >= rows and row[0] != last:
                break
            writer.writerow(row)
            kept, last = kept + 1, row[0]
    return cut


def one_round(browser, export: Path, only: list[str], code: Path | None = None) -> dict[str, float]:
    """The chosen actions once, in order, on a fresh server (so the first chart is cold)."""
    actions = {
        "trainer_cold_chart": trainer_cold_chart,
        "marketer_run": marketer_run,
        "optimise": optimise,
        "planner_within_year": planner("ArrowLeft"),
        "planner_next_year": planner("ArrowRight"),
        "compare": compare,
        "calibrate_100k": calibrate(export),
    }
    times = {}
    with live_server(code) as url:
        for name, action in actions.items():
            if name not in only:
                continue
            tab = browser.new_page(viewport={"width": 1500, "height": 2200})
            tab.set_default_timeout(600_000)
            measured = action(tab, url)
            tab.close()
            measured = measured if isinstance(measured, dict) else {name: measured}
            for label, seconds in measured.items():
                print(f"{label}: {seconds:.2f} s", file=sys.stderr, flush=True)
            times |= measured
    return times


def report_actions(
    repeat: int, *, only: list[str], before: str | None = None, as_json: bool = False
) -> None:
    """Time the actions over `repeat` rounds; print medians, ranges and the targets.

    With `before` (a git revision), each round is run on that code too, interleaved.
    """
    runs: dict[str, dict[str, list[float]]] = {"now": {}}
    if before:
        runs["before"] = {}
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        export = crm_export(Path(folder)) if "calibrate_100k" in only else Path(folder)
        old = checkout(before, Path(folder) / "before") if before else None
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        for _ in range(repeat):
            for label, code in (("now", None), ("before", old)):
                if label not in runs:
                    continue
                for name, seconds in one_round(browser, export, only, code).items():
                    runs[label].setdefault(name, []).append(seconds)
        browser.close()
    if as_json:
        print(json.dumps({"repeat": repeat, "before": before, "targets": TARGETS, "runs": runs}))
        return
    print(f"{'action':<22} {'code':<7} {'median [min, max] s':>24} {'target s':>9}")
    for label, measured in runs.items():
        for name, times in measured.items():
            spread = f"{statistics.median(times):.2f} [{min(times):.2f}, {max(times):.2f}]"
            target = f"{TARGETS[name]:.1f}" if name in TARGETS else "-"
            print(f"{name:<22} {label:<7} {spread:>24} {target:>9}")
