"""A live dashboard server and Debian's chromium, for the browser test and its benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "dashboard.py"
ADDRESSES = {  # each page's address: its heading and its plotly charts on the baseline
    "trainer": ("The hourglass · baseline", 3),
    "marketer": ("Tune the levers · baseline", 1),
    "budget": ("Budget · baseline", 1),
    "planner": ("Forecast · baseline", 2),
    "compare": ("Compare scenarios", 3),
    "deals": ("B2B deals · baseline", 0),
    "sales-team": ("Sales team · baseline", 2),
    "network": ("Network · baseline", 0),
    "accounts": ("Key accounts · baseline", 2),
    "business": ("My business", 0),
    "scenario": ("Scenario files", 0),
    "import": ("Import data", 0),
}
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port: int, app: Path = DASHBOARD, code: Path | None = None) -> subprocess.Popen:
    """Start a Streamlit app the way the README does, headless, on a port of its own.

    With `code`, the server and the workers it spawns import the package from that folder.
    """
    env = None if code is None else {**os.environ, "PYTHONPATH": str(code)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(app),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",  # an edit while the tests run must not stop the app for a rerun prompt
        ],
        cwd=ROOT,
        env=env,
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
    raise TimeoutError(f"the dashboard did not answer at {url} within {seconds:.0f} s")


def require_chromium() -> None:
    """Skip the calling test module without Debian's chromium; fail instead where CI asks."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("HOURGLASS_REQUIRE_BROWSER"):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium", pytrace=False)
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)", allow_module_level=True)


def settle(tab: Any, appear_ms: float = 2_000) -> None:
    """Wait until the app has finished its run (its running widget shows after a moment).

    A quick run may end before the widget shows: `appear_ms` is how long it is looked for.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    running = tab.locator('[data-testid="stStatusWidget"]')
    with suppress(PlaywrightTimeout):
        running.wait_for(state="attached", timeout=appear_ms)
    running.wait_for(state="detached")


@contextmanager
def live_server(code: Path | None = None) -> Iterator[str]:
    """A live dashboard on a port of its own: its address while the block runs.

    With `code` (a folder holding another checkout's files), that checkout's dashboard.
    """
    port = free_port()
    process = serve(port, DASHBOARD if code is None else code / "dashboard.py", code)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def projector_tab() -> Iterator[Any]:
    """A 1280x720 browser tab, a projector's size, with `base_url` a live dashboard of its own."""
    from playwright.sync_api import sync_playwright

    with live_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720}, locale="en-US")
        page.set_default_timeout(180_000)
        page.base_url = url
        yield page
        browser.close()
