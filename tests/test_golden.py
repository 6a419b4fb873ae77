"""Golden outputs: every shipped scenario's `hourglass run --json --seed 1`, byte for byte.

A change not meant to move numbers leaves every file in `tests/golden/` as it is. A change
meant to move them regenerates them in a commit of its own that says why:

    python tests/test_golden.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hourglass.cli import app

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


def golden_output(scenario: Path) -> str:
    """What `hourglass run <scenario> --json --seed 1` prints."""
    result = CliRunner().invoke(app, ["run", str(scenario), "--json", "--seed", "1"])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("scenario", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_output_matches_its_golden(scenario: Path) -> None:
    """The scenario's JSON output is byte-identical to the stored one."""
    stored = (GOLDEN / f"{scenario.stem}.json").read_text(encoding="utf-8")
    assert golden_output(scenario) == stored


def test_every_shipped_scenario_has_a_golden() -> None:
    """No golden without its scenario, no scenario without its golden."""
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == [p.stem for p in SHIPPED]


if __name__ == "__main__":
    for path in SHIPPED:
        (GOLDEN / f"{path.stem}.json").write_text(golden_output(path), encoding="utf-8")
        print(f"wrote {GOLDEN / path.stem}.json", file=sys.stderr)
