"""Shared fixtures; the helpers they use live in tests.helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import SCENARIOS


@pytest.fixture(params=SCENARIOS, ids=[p.stem for p in SCENARIOS])
def shipped(request: pytest.FixtureRequest) -> Path:
    """Each shipped scenario file."""
    return request.param
