"""The `hourglass` command line: reports, JSON, saved results and bad input."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from hourglass.cli import app, report
from hourglass.kpis import KPIS
from tests.helpers import ROOT, exits_2_saying

runner = CliRunner()
SMALL = ROOT / "scenarios" / "referral_driven.yaml"
REQUIRED_KPIS = {
    "prospects",
    "buyers",
    "revenue",
    "cost",
    "cac",
    "ltv",
    "roi",
    "referral_share",
    "k_factor",
    "seller_utilization",
    "mean_wait_days",
    "lost_waiting",
}


def _json(*args: str) -> dict:
    result = runner.invoke(app, ["run", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_run_json_has_the_promised_shape():
    doc = _json(str(SMALL), "--seed", "4")
    assert set(doc) == {"scenario", "seed", "reps", "stages", "kpis", "accounts"} | {
        "sellers",
        "seller_roles",
    }
    assert (doc["scenario"], doc["seed"], doc["reps"]) == ("referral_driven", 4, 1)
    assert [s["name"] for s in doc["stages"]] == [
        "know",
        "like",
        "trust",
        "try",
        "buy",
        "repeat",
        "refer",
    ]
    for stage in doc["stages"]:
        assert stage["entered"] == stage["passed"] + stage["lost"] + stage["inside"]
        assert sum(stage["lost_by_reason"].values()) == stage["lost"]
    assert set(doc["kpis"]) >= REQUIRED_KPIS
    assert all(isinstance(v, int | float) or v is None for v in doc["kpis"].values())
    know = doc["stages"][0]
    assert doc["kpis"]["prospects"] == know["entered"]
    assert doc["kpis"]["buyers"] == doc["stages"][4]["passed"]


def test_same_seed_gives_byte_identical_json():
    first = runner.invoke(app, ["run", str(SMALL), "--seed", "9", "--json"]).stdout
    again = runner.invoke(app, ["run", str(SMALL), "--seed", "9", "--json"]).stdout
    other = runner.invoke(app, ["run", str(SMALL), "--seed", "10", "--json"]).stdout
    assert first == again
    assert first != other


def test_replications_report_mean_and_band():
    doc = _json(str(SMALL), "--reps", "3", "--seed", "2")
    buyers = doc["kpis"]["buyers"]
    assert set(buyers) == {"mean", "p5", "p95"}
    assert buyers["p5"] <= buyers["mean"] <= buyers["p95"]
    assert buyers["p5"] < buyers["p95"]


def test_default_scenario_runs_with_a_readable_report():
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    for words in ("baseline: 365 days", "Stages", "KPIs", "Know", "Refer", "Seller utilisation"):
        assert words in result.stdout


def test_kpi_table_reads_labels_and_formats_from_the_registry():
    """Every KPI of the JSON output is a row of the report: its label, then its value.

    The value is written as the registry writes it; a band the same way, mean [p5, p95].
    """
    args = ["run", str(SMALL), "--seed", "3", "--backend", "serial"]
    doc = _json(*args[1:])
    text = runner.invoke(app, args).stdout
    for name, value in doc["kpis"].items():
        kpi = KPIS[name]
        assert re.search(rf"│ {re.escape(kpi.label())} +│ +{re.escape(kpi.format(value))} │", text)
    assert "seller_utilization" not in text and "Seller utilisation" in text
    banded = runner.invoke(app, [*args, "--reps", "2"]).stdout
    assert "KPIs (mean [p5, p95])" in banded
    assert re.search(r"│ ROI +│ +[+-][\d.]+%  \[[+-][\d.]+%, [+-][\d.]+%\] │", banded)


def test_help_lists_every_command_in_order():
    """`hourglass --help` lists the commands as the README introduces them."""
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    listed = re.findall(r"^│ ([a-z][a-z-]*) ", result.stdout, flags=re.MULTILINE)
    assert listed == [
        "run",
        "check",
        "compare",
        "sweep",
        "optimize",
        "target",
        "calibrate",
        "export-crm",
        "forecast",
    ]


def test_out_saves_parquet_tables_and_manifest(tmp_path):
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", str(SMALL), "--reps", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "accounts.parquet",
        "daily.parquet",
        "daily_bands.parquet",
        "kpis.parquet",
        "losses.parquet",
        "manifest.json",
        "stages.parquet",
    ]
    kpis = pd.read_parquet(out / "kpis.parquet")
    assert list(kpis["rep"]) == [0, 1]
    stages = pd.read_parquet(out / "stages.parquet")
    assert (stages["entered"] == stages["passed"] + stages["lost"] + stages["inside"]).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["name"] == "referral_driven"
    assert manifest["reps"] == 2


def test_check_summarises_a_good_file():
    result = runner.invoke(app, ["check", str(SMALL)])
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 2
    assert "ok: 'referral_driven', 540 days, market 60,000" in result.stdout
    assert "work: about 27,313 prospects, 42,653 purchases" in result.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["check", "tests/data/bad/unknown_key.yaml"], "did you mean 'pass_prob'?"),
        (["run", "tests/data/bad/broken_yaml.yaml"], "not valid YAML"),
        (["run", "missing.yaml"], "missing.yaml: no such file"),
        (["run", "--reps", "0"], "reps"),
        (["run", "--seed", "-1"], "seed"),
        (["run", str(SMALL), "--out", "README.md/sub"], "--out README.md/sub: cannot create"),
        (["run", "scenarios"], "is a folder, not a scenario file"),
    ],
)
def test_bad_input_exits_2_without_traceback(args, words):
    exits_2_saying(args, words)


def test_out_onto_a_file_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, ["run", str(SMALL), "--out", str(blocker)])
    assert result.exit_code == 2
    assert blocker.read_text() == "x"


def test_stage_labels_follow_the_scenario(tmp_path):
    russian = tmp_path / "ru.yaml"
    text = SMALL.read_text().replace("name: referral_driven", "name: referral_driven\nlabels: ru")
    russian.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["run", str(russian)])
    assert result.exit_code == 0, result.output
    for label in ("Знать", "Доверять", "Рекомендовать"):
        assert label in result.stdout


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "sentences"])
def test_compare_reports_paired_deltas(as_json):
    args = [
        "compare",
        "scenarios/baseline.yaml",
        "scenarios/no_referrals.yaml",
        "--reps",
        "3",
        "--backend",
        "serial",
    ]
    result = runner.invoke(app, [*args, "--json"] if as_json else args)
    assert result.exit_code == 0, result.output
    if not as_json:
        lines = result.stdout.splitlines()
        assert lines[0] == (
            "Against baseline: 3 paired replications, seed 1 (95% confidence intervals)"
        )
        assert any(
            line.startswith("no_referrals has ")
            and "% fewer buyers than baseline [" in line
            and line.endswith("%], worse")
            for line in lines
        ), lines
        assert any(  # a share changes in points, and says which way is better
            re.fullmatch(
                r"no_referrals: referral share is [\d.]+ points lower than baseline "
                r"\[[\d.]+, [\d.]+\], worse",
                line,
            )
            for line in lines
        ), lines
        return
    doc = json.loads(result.stdout)
    assert set(doc) == {"baseline", "reps", "seed", "scenarios", "runs"}
    buyers = doc["scenarios"]["no_referrals"]["kpis"]["buyers"]
    assert set(buyers) == {
        "mean",
        "base",
        "delta",
        "delta_pct",
        "ci_low",
        "ci_high",
        "clear",
        "improvement",
    }
    assert buyers["delta"] < 0  # word of mouth brings buyers
    assert buyers["clear"] is True and buyers["improvement"] is False


def test_sweep_prints_a_grid_and_saves_it(tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", str(SMALL), "--vary", "referral.win_prob=0.2,0.5", "--reps", "2"]
    args += ["--backend", "serial", "--out", str(out)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    buyers = {r["referral.win_prob"]: r["mean"] for r in rows if r["kpi"] == "buyers"}
    assert buyers[0.5] > buyers[0.2]
    assert (out / "sweep.parquet").exists()
    again = runner.invoke(app, [*args, "--resume"])  # every point is saved: nothing to run
    assert again.exit_code == 0, again.output
    header = next(line for line in again.stdout.splitlines() if "referral.win_prob" in line)
    headings = ["referral.win_prob", *(KPIS[k].label() for k in report.SWEPT_KPIS)]
    assert re.fullmatch(" +".join(map(re.escape, headings)), header.strip())


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["sweep", "--vary", "sales.selers=1:3:1"], "did you mean 'sellers'?"),
        (["sweep", "--vary", "sales.sellers=5:1:1"], "an empty range"),
        (["sweep", "--vary", "sales.sellers=0,1"], "greater than or equal to 1"),
        (["sweep"], "give at least one field to sweep"),
        (["sweep", "--vary", "sales.sellers=1,2", "--resume"], "--resume needs --out"),
        (["run", "--backend", "cloud"], "use one of serial, processes, dask"),
        (
            ["run", "--reps", "2", "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9"],
            "cannot reach the Dask scheduler",
        ),
        (
            ["compare", "scenarios/baseline.yaml", "scenarios/baseline.yaml", "--reps", "2"],
            "names must differ",
        ),
    ],
)
def test_bad_experiment_input_exits_2(args, words):
    exits_2_saying(args, words)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "--precision", "nan"], "--precision nan: not a number; give one from 0.0001 to 1"),
        (
            ["optimize", "scenarios/marketing_budgets.yaml", "--budget", "nan"],
            "--budget nan: not a number; give one from 0 to 1,000,000,000,000 a month",
        ),
    ],
)
def test_nan_for_a_number_option_is_told_the_range(args, words):
    exits_2_saying(args, words)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["optimize", "scenarios/marketing_budgets.yaml", "--budget", "1,5"],
            "--budget 1,5: '1,5' is not a number; the decimal separator is a point: 1.5",
        ),
        (
            ["sweep", "--vary", "x=0,5:1"],
            "--vary x=0,5:1: start:stop:step must be numbers, not '0,5'; the decimal separator "
            "is a point: 0.5",
        ),
        (
            ["optimize", "scenarios/marketing_budgets.yaml", "--budget", "9", "--min", "ads=0,5"],
            "--min ads=0,5: '0,5' is not a number; the decimal separator is a point: 0.5",
        ),
    ],
)
def test_a_decimal_comma_gets_the_number_with_a_point(args, words):
    exits_2_saying(args, words)


def test_compare_of_two_files_with_one_name_names_both_files(tmp_path):
    twin = tmp_path / "twin.yaml"
    text = SMALL.read_text(encoding="utf-8").replace("win_prob: 0.5", "win_prob: 0.8")
    assert text != SMALL.read_text(encoding="utf-8")
    twin.write_text(text, encoding="utf-8")
    args = ["compare", str(SMALL), str(twin), "--reps", "2", "--seed", "1", "--backend", "serial"]
    result = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    head = f"Against referral_driven ({SMALL}): 2 paired replications, seed 1"
    assert result.stdout.startswith(head)
    assert f"referral_driven ({twin}) has " in result.stdout
    doc = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert list(doc["scenarios"]) == [f"referral_driven ({twin})"]
