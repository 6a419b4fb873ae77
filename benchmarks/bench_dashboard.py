"""Time to the first chart: the dashboard against a one-chart Streamlit page, in chromium.

Each round starts a fresh server for each app and opens it in headless chromium (Debian's,
driven by Playwright): "cold" is the first visit (imports, the first simulation), "warm" a
second visit to the same server (imports done, the result cached). The dashboard is opened
at the Trainer page's address, /trainer, or with --root at the app's root, which passes on
to /trainer (what `streamlit run` opens). Each visit is timed to the first chart on screen
(the funnel as theory expects it, an inline SVG picture shown while the run goes on), to
the first plotly chart drawn, and to every chart of the page (the simulated hourglass, its
filling, the flows). The baseline app draws one fixed plotly chart, the floor that
Streamlit, plotly and the browser cost by themselves.

    python benchmarks/bench_dashboard.py --repeat 5 [--root] [--json]

With --actions, each round starts a fresh server and times what a user does, each from the
click (or the address) to the page's run ending with its answer on screen: the cold first
plotly chart of the Trainer page, a Marketer Run with one more seller, Optimise on
marketing_budgets, a Planner horizon change within the simulated year and one into the next,
Compare of baseline and no_referrals, and calibrating a 100k-row export (upload included).

    python benchmarks/bench_dashboard.py --actions --repeat 3 [--json]
    python benchmarks/bench_dashboard.py --actions --only trainer_cold_chart --before main
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER = [
    "--server.headless=true",
    "--server.address=127.0.0.1",
    "--browser.gatherUsageStats=false",
    "--server.fileWatcherType=none",
]

BASELINE_APP = """
import plotly.graph_objects as go
import streamlit as st

st.title("one chart")
st.plotly_chart(go.Figure(go.Bar(x=[1, 2, 3], y=[3, 1, 2])))
"""


# a chart counts once plotly has drawn a trace into its svg (bars, lines, a sankey) on screen
DRAWN = """(n) => {
    const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
    const drawn = (p) => p.data && p.getBoundingClientRect().width > 0
        && p.querySelector('.main-svg .trace, .main-svg .sankey') !== null;
    return plots.filter(drawn).length >= n;
}"""


# or a picture: an SVG image in the page (the Trainer page's sketch), not one of plotly's
PICTURE = """() => Array.from(document.querySelectorAll('[data-testid="stMain"] svg[role="img"]'))
    .some((s) => s.getBoundingClientRect().width > 0 && s.querySelector('rect') !== null)"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port: int, app: Path) -> subprocess.Popen:
    """Start a Streamlit app the way the README does, headless, on a port of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), *SERVER, "--server.port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_healthy(url: str, seconds: float = 60.0) -> None:
    """Wait until the server at `url` answers its health check."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"the app did not answer at {url} within {seconds:.0f} s")


def chart_seconds(browser, url: str, charts: int) -> tuple[float, float, float]:
    """Seconds from opening the page to its first chart, first plotly chart and `charts` charts.

    The first chart is a picture or a drawn plotly chart, whichever is on screen first; the first
    plotly chart is the first drawn; the last time is to `charts` plotly charts.
    """
    page = browser.new_page()
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function(f"() => ({PICTURE})() || ({DRAWN})(1)", timeout=120_000, polling="raf")
    first = time.perf_counter() - started
    page.wait_for_function(DRAWN, arg=1, timeout=120_000)
    plotly = time.perf_counter() - started
    page.wait_for_function(DRAWN, arg=charts, timeout=120_000)
    every = time.perf_counter() - started
    page.close()
    return first, plotly, every


def measure(browser, app: Path, charts: int, address: str = "") -> list[float]:
    """Cold and warm times of one app on a fresh server, opened at `address`.

    Each time three ways: to the first chart, the first plotly chart and every chart.
    """
    port = free_port()
    server = serve(port, app)
    url = f"http://127.0.0.1:{port}/{address}"
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        return [*chart_seconds(browser, url, charts), *chart_seconds(browser, url, charts)]
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    """Measure the dashboard and a one-chart page over `--repeat` rounds; print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds (medians are reported)")
    parser.add_argument("--root", action="store_true", help="open the app's root, not /trainer")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--actions", action="store_true", help="time the users' actions")
    parser.add_argument("--only", nargs="*", help="with --actions: these actions only")
    parser.add_argument("--before", help="with --actions: a git revision to interleave with")
    args = parser.parse_args()
    if args.actions:
        from bench_actions import TARGETS, report_actions

        only = args.only or list(TARGETS)
        report_actions(args.repeat, only=only, before=args.before, as_json=args.json)
        return
    keys = ("cold", "cold_plotly", "cold_all", "warm", "warm_plotly", "warm_all")
    times: dict[str, list[float]] = {k: [] for k in keys}
    floor: dict[str, list[float]] = {k: [] for k in keys}
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        baseline = Path(folder) / "one_chart.py"
        baseline.write_text(BASELINE_APP)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        for _ in range(args.repeat):
            # the Trainer page's three charts: the hourglass, its filling, the flows
            trainer = measure(browser, ROOT / "dashboard.py", 3, "" if args.root else "trainer")
            for key, value in zip(keys, trainer, strict=True):
                times[key].append(value)
            for key, value in zip(keys, measure(browser, baseline, 1), strict=True):
                floor[key].append(value)
        browser.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    base = {k: statistics.median(v) for k, v in floor.items()}
    report = {
        "repeat": args.repeat,
        "address": "/" if args.root else "/trainer",
        **{f"{k}_s": v for k, v in med.items()},
        **{f"baseline_{k}_s": v for k, v in base.items()},
        "cold_over_baseline": med["cold"] / base["cold"],
        "runs": times,
        "baseline_runs": floor,
    }
    if args.json:
        print(json.dumps(report))
        return
    print(
        "seconds to the first chart (a picture or plotly), the first plotly chart and every "
        f"chart, median [range] of {args.repeat}"
    )
    for name, runs in (("dashboard", times), ("one chart", floor)):
        cells = (
            f"{k} {statistics.median(v):.2f} [{min(v):.2f}-{max(v):.2f}]" for k, v in runs.items()
        )
        print(f"  {name:10s}", "  ".join(cells))
    print(f"  cold ratio {report['cold_over_baseline']:.2f}x")


if __name__ == "__main__":
    main()
