"""Loose ends of the sellers, segments and key-accounts features: saved tables and flags."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import hourglass
from hourglass.cli import app
from tests.helpers import ROOT
from tests.test_dashboard import open_page
from tests.test_readme import README, _quoted

runner = CliRunner()


def _short(name: str, folder: Path, days: int = 120) -> Path:
    """A shipped scenario cut to a short horizon, written into `folder`."""
    data = yaml.safe_load((ROOT / "scenarios" / name).read_text(encoding="utf-8"))
    data["horizon_days"] = days
    path = folder / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("sales_team.yaml", "sellers"),
        ("b2b_segments.yaml", "segments"),
        ("key_accounts.yaml", "accounts"),
    ],
)
def test_run_out_saves_sellers_segments_and_accounts(name, table, tmp_path):
    scenario = _short(name, tmp_path)
    out = tmp_path / "saved"
    args = ["run", str(scenario), "--json", "--reps", "2", "--seed", "1", "--backend", "serial"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    again = hourglass.replicate(scenario, 2, 1, "serial")
    expected = {
        "sellers": again.sellers.sellers,
        "segments": again.segments,
        "accounts": again.accounts.reset_index(),
    }
    assert len(expected[table]), f"{name} has {table}"
    for saved, frame in expected.items():
        if frame.empty:
            assert not (out / f"{saved}.parquet").exists()
        else:
            pd.testing.assert_frame_equal(pd.read_parquet(out / f"{saved}.parquet"), frame)
    if table == "sellers":
        names = pd.read_parquet(out / "sellers.parquet")["name"]
        assert sorted(set(names)) == sorted({s["name"] for s in doc["sellers"]})
    if table == "accounts":
        customers = pd.read_parquet(out / "accounts.parquet")["customers"]
        assert customers.mean() == doc["accounts"]["customers"]


@pytest.mark.parametrize("command", [[], ["compare"], ["run"], ["sweep"]])
def test_help_shows_no_value_placeholder_after_flags(command):
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout
    flags = [line for line in result.stdout.splitlines() if "--help " in line]
    assert flags and all("--help   " in line for line in flags), flags
    if command == ["compare"]:
        assert "KPI=NUMBER" in result.stdout, "placeholders of options with values stay"


@pytest.mark.slow
def test_compare_precision_example_prints_the_quoted_line():
    """The README's compare --precision example prints the precision line quoted below it."""
    example = _quoted(
        r"^(hourglass compare .+ \\\n\s+--precision \S+)\s+#.*\n#\s+(Precision reached .+)$",
        README,
    )
    command, line = example.groups()
    result = runner.invoke(app, shlex.split(command.replace("\\\n", " "))[1:])
    assert result.exit_code == 0, result.output
    assert line in result.stdout.splitlines()


RUSSIAN_THOUSANDS = re.compile(r"[+-]?\d{1,3}(\u00a0\d{3})+")
"""A whole number of a thousand or more as Russian writes it: groups split by no-break spaces."""


def test_trainer_gap_table_writes_numbers_as_russian_does():
    table = open_page("trainer", "ru").dataframe[0].value
    know = table.iloc[0]
    assert RUSSIAN_THOUSANDS.fullmatch(know["simulated"]), know["simulated"]
    assert RUSSIAN_THOUSANDS.fullmatch(know["expected"]), know["expected"]
    assert re.fullmatch(r"[+-]\d+,\d\u00a0%", know["gap"]), know["gap"]


def test_marketer_next_money_question_writes_the_step_as_russian_does():
    at = open_page("marketer", "ru")
    headings = [h.value for h in at.subheader]
    assert any("1\u00a0000" in h for h in headings), headings
    assert not any("1,000" in h for h in headings), headings


def test_compare_json_gives_each_scenario_s_sellers_and_accounts_as_run_does(tmp_path):
    base = _short("sales_team.yaml", tmp_path)
    other = tmp_path / "accounts"
    other.mkdir()
    other = _short("key_accounts.yaml", other)
    common = ["--json", "--reps", "2", "--seed", "1", "--backend", "serial"]
    compared = runner.invoke(app, ["compare", str(base), str(other), *common])
    assert compared.exit_code == 0, compared.stderr
    runs = json.loads(compared.stdout)["runs"]
    assert set(runs) == {"sales_team", "key_accounts"}
    for name, path in (("sales_team", base), ("key_accounts", other)):
        alone = json.loads(runner.invoke(app, ["run", str(path), *common]).stdout)
        for key in ("sellers", "seller_roles", "accounts"):
            assert runs[name].get(key) == alone.get(key), (name, key)
    assert runs["sales_team"]["sellers"], "the sales team's sellers are listed"
    assert runs["key_accounts"]["accounts"]["customers"] > 0


def test_business_horizon_is_written_as_russian_does():
    at = open_page("business", "ru", **{"biz-months": 48})
    next(b for b in at.button if b.label == "Проверить и использовать").click().run()
    assert not at.exception, [e.value for e in at.exception]
    headings = [h.value for h in at.subheader if h.value.startswith("Чего ожидать")]
    assert headings and RUSSIAN_THOUSANDS.search(headings[0]), headings


def test_budget_verdict_writes_money_and_percent_as_russian_does():
    at = open_page("budget", "ru", chosen="marketing_budgets")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    verdict = (at.success or at.warning)[0].value
    shown = verdict.replace("\\", "")  # the page escapes Markdown's punctuation
    # decimal comma, thousands and the percent sign apart (the page may draw the spaces plain)
    assert re.search(r"\([+-]\d+,\d\s%;", shown), shown
    assert re.search(r"[+-]\d{1,3}\s\d{3} в год", shown), shown


def test_a_russian_reader_sees_chart_numbers_written_the_russian_way():
    """Axis, hover and bar numbers take Russian separators; the cached figure is left alone."""
    import plotly.graph_objects as go

    from hourglass.app.widgets import in_language

    fig = go.Figure(go.Bar(x=["a"], y=[1234.5]))
    russian = in_language(fig, "ru")
    assert russian.layout.separators == ",\u00a0"
    assert fig.layout.separators is None
    assert in_language(fig, "en") is fig


def test_a_russian_reader_sees_large_ticks_whole_on_every_axis():
    """150 000 rather than "150k", on each subplot's axes; the cached figure is left alone."""
    from plotly.subplots import make_subplots

    from hourglass.app.widgets import in_language

    fig = make_subplots(rows=2, cols=1)
    russian = in_language(fig, "ru")
    formats = [a.exponentformat for a in (*russian.select_xaxes(), *russian.select_yaxes())]
    assert formats == ["none"] * 4
    assert fig.layout.yaxis2.exponentformat is None
