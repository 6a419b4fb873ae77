"""Numbers a Russian reader types and reads: the precision line and the dashboard's inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import invoke_cli, make_scenario

NBSP = "\N{NO-BREAK SPACE}"


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    """A scenario file that simulates in a blink."""
    path = tmp_path / "tiny.yaml"
    path.write_text(make_scenario(horizon_days=20.0).to_yaml(), "utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        (
            "ru",
            f"Точность 12,50{NBSP}% достигнута, повторов: 4; Покупатели ±2,74{NBSP}%, "
            f"Выручка ±2,74{NBSP}%",
        ),
        ("en", "Precision 12.50% reached with 4 replications: Buyers ±2.74%, Revenue ±2.74%"),
    ],
)
def test_precision_line_writes_percentages_as_the_reader_does(tiny: str, lang: str, line: str):
    args = ["--lang", lang, "run", tiny, "--reps", "2", "--precision", "0.125", "--seed", "1"]
    result = invoke_cli([*args, "--backend", "serial"])
    assert result.returncode == 0, result.stderr
    assert line in result.stdout.replace("\n", " ")
