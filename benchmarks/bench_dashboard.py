"""Time to the first chart: the dashboard against a one-chart Streamlit page, in chromium.

Each round starts a fresh server for each app and opens it in headless chromium (Debian's,
driven by Playwright): "cold" is the first visit (imports, the first simulation), "warm" a
second visit to the same server (imports done, the result cached). The baseline app draws
one fixed plotly chart, the floor that Streamlit, plotly and the browser cost by themselves.

    python benchmarks/bench_dashboard.py --repeat 5 [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from live_dashboard import CHROMIUM, CHROMIUM_FLAGS, free_port, serve, wait_healthy  # noqa: E402

BASELINE_APP = """
import plotly.graph_objects as go
import streamlit as st

st.title("one chart")
st.plotly_chart(go.Figure(go.Bar(x=[1, 2, 3], y=[3, 1, 2])))
"""


def first_chart_seconds(browser, url: str) -> float:
    """Seconds from opening the page to a drawn plotly chart."""
    page = browser.new_page()
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function(
        "() => { const p = document.querySelector('.js-plotly-plot'); return p && p.data; }",
        timeout=120_000,
    )
    seconds = time.perf_counter() - started
    page.close()
    return seconds


def measure(browser, app: Path) -> tuple[float, float]:
    """Cold and warm time to the first chart of one app on a fresh server."""
    port = free_port()
    server = serve(port, app)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        return first_chart_seconds(browser, url), first_chart_seconds(browser, url)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds (medians are reported)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    times: dict[str, list[float]] = {k: [] for k in ("cold", "warm", "base_cold", "base_warm")}
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        baseline = Path(folder) / "one_chart.py"
        baseline.write_text(BASELINE_APP)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        for _ in range(args.repeat):
            cold, warm = measure(browser, ROOT / "dashboard.py")
            base_cold, base_warm = measure(browser, baseline)
            for key, value in zip(times, (cold, warm, base_cold, base_warm), strict=True):
                times[key].append(value)
        browser.close()
    medians = {key: statistics.median(values) for key, values in times.items()}
    report = {
        "repeat": args.repeat,
        "cold_s": medians["cold"],
        "warm_s": medians["warm"],
        "baseline_cold_s": medians["base_cold"],
        "baseline_warm_s": medians["base_warm"],
        "cold_over_baseline": medians["cold"] / medians["base_cold"],
        "runs": times,
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"time to the first chart, median of {args.repeat} (seconds)")
    print(f"  dashboard  cold {medians['cold']:.2f}  warm {medians['warm']:.2f}")
    print(f"  one chart  cold {medians['base_cold']:.2f}  warm {medians['base_warm']:.2f}")
    print(f"  cold ratio {report['cold_over_baseline']:.2f}x")


if __name__ == "__main__":
    main()
