"""Shared helpers: small scenarios built in code, and the command line's bad-input check."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

from hourglass import Scenario, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

INSTANT = {"fixed": {"days": 0.0}}

_BASE: dict[str, Any] = {
    "name": "test",
    "horizon_days": 100.0,
    "channels": {"organic": {"prospects_per_day": 50.0}},
    "stages": {
        name: {"pass_prob": 1.0, "duration": INSTANT}
        for name in ("know", "like", "trust", "try", "buy")
    },
    "after_sale": {"order_value": {"fixed": {"value": 100.0}}},
}


def make_scenario(**changes: Any) -> Scenario:
    """A small valid scenario: instant stages that all pass; `changes` set dotted paths."""
    data = copy.deepcopy(_BASE)
    for path, value in changes.items():
        node = data
        parts = path.split("__")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return parse_scenario(data, source="test")


def exits_2_saying(args: list[str], words: str) -> None:
    """Run the real command: exit code 2, the words on stderr, no traceback anywhere."""
    proc = subprocess.run(
        [sys.executable, "-m", "hourglass.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
