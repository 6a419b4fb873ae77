"""Shared helpers: small scenarios built in code for the theory and property checks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

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


@pytest.fixture(params=SCENARIOS, ids=[p.stem for p in SCENARIOS])
def shipped(request: pytest.FixtureRequest) -> Path:
    """Each shipped scenario file."""
    return request.param
