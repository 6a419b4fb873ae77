"""Numbers a Russian reader types and reads: the precision line and the dashboard's inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import invoke_cli, make_scenario
from tests.test_dashboard import open_page

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


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("ru", f"парных повторов: 2; Выручка ±0 (цель ±1{NBSP}500)"),
        ("en", "after 2 paired replications: Revenue ±0 (target ±1,500)"),
    ],
)
def test_compare_precision_line_names_the_kpi_and_writes_numbers_as_the_reader_does(
    tmp_path: Path, tiny: str, lang: str, line: str
):
    other = tmp_path / "other.yaml"
    other.write_text(Path(tiny).read_text("utf-8").replace("name: test", "name: other"), "utf-8")
    args = ["--lang", lang, "compare", tiny, str(other), "--reps", "2", "--seed", "1"]
    result = invoke_cli([*args, "--precision", "revenue=1500.5", "--backend", "serial"])
    assert result.returncode == 0, result.stderr
    assert line in result.stdout.replace("\n", " ")


def test_marketer_shows_pass_probabilities_as_whole_percents_and_money_whole():
    at = open_page("marketer", "ru", chosen="marketing_budgets")
    know = next(s for s in at.slider if s.label == "Знать")
    assert (know.value, know.proto.format, know.proto.max) == (55, "%d %%", 100)
    bonus = "Бонус за каждого приведённого покупателя"
    money = [n for n in at.number_input if n.label in ("Медийная реклама", bonus)]
    assert money and all(n.proto.format == "%.0f" for n in money)
    assert not next(m for m in at.metric if m.label == "Покупатели").delta  # untouched: as loaded
    know.set_value(60)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert next(m for m in at.metric if m.label == "Покупатели").delta  # 60 % is 0.60


def test_a_run_in_russian_says_the_scenarios_russian_description():
    result = invoke_cli(["--lang", "ru", "run", "scenarios/baseline.yaml", "--seed", "1"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("Магазин B2C")
