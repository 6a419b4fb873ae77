"""`hourglass calibrate` and `hourglass export-crm`: files written, JSON shape, bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from hourglass import load_scenario
from hourglass.cli import app
from hourglass.stages import FUNNEL
from tests.helpers import ROOT, exits_2_saying, make_scenario

runner = CliRunner()
DATA = ROOT / "tests" / "data"
BAD = DATA / "bad_crm"


def test_export_then_calibrate_writes_a_scenario_and_a_report(tmp_path):
    deals, tx = tmp_path / "deals.csv", tmp_path / "tx.csv"
    scenario, report = tmp_path / "fitted.yaml", tmp_path / "report.md"
    source = tmp_path / "shop.yaml"
    source.write_text(
        make_scenario(
            horizon_days=60.0,
            stages={name: {"pass_prob": 0.7} for name in FUNNEL},
            after_sale={
                "order_value": {"fixed": {"value": 10.0}},
                "repeat": {"bgnbd": {"r": 1.0, "alpha": 4.0, "a": 0.5, "b": 3.0}},
            },
        ).to_yaml()
    )
    result = runner.invoke(
        app,
        [
            "export-crm",
            str(source),
            "-o",
            str(deals),
            "--transactions",
            str(tx),
            "--seed",
            "4",
        ],
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(deals).columns[0] == "deal_id"
    result = runner.invoke(
        app,
        [
            "calibrate",
            "--deals",
            str(deals),
            "--transactions",
            str(tx),
            "-o",
            str(scenario),
            "--report",
            str(report),
            "--name",
            "shop",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote {scenario} and {report}" in result.output
    fitted = load_scenario(scenario)
    assert fitted.name == "shop"
    assert scenario.read_text().startswith("# Calibrated by 'hourglass calibrate' from deals.csv")
    text = report.read_text()
    assert "## Stages" in text and "## Arrivals per channel" in text


def _cdnow_csv(tmp_path):
    raw = pd.read_csv(
        DATA / "cdnow" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        dtype=str,
        names=["customer_id", "sample", "date", "cds", "amount"],
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d")
    path = tmp_path / "cdnow.csv"
    raw.to_csv(path, index=False)
    return path


def test_calibrate_json_has_stages_channels_and_repeat(tmp_path):
    """--json: stages, channels and repeat, with their parameters as numbers.

    Stages with pass probability and duration fit; repeat with r, alpha, a, b, p, q, v. Run on
    CDNOW's transactions with a mapping file keeping repeated rows.
    """
    deals = tmp_path / "deals.csv"
    deals.write_text((DATA / "crm" / "hourglass.csv").read_text().replace("2026-", "1997-"))
    mapping = tmp_path / "map.yaml"
    mapping.write_text("preset: hourglass\nkeep_duplicate_transactions: true\n")
    result = runner.invoke(
        app,
        [
            "calibrate",
            "--deals",
            str(deals),
            "--transactions",
            str(_cdnow_csv(tmp_path)),
            "--mapping",
            str(mapping),
            "--until",
            "1997-09-30",
            "-o",
            str(tmp_path / "s.yaml"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc["stages"]["know"]) >= {"pass_prob", "duration"}
    assert set(doc["channels"]) == {"ads", "organic"}
    repeat = doc["repeat"]
    assert set(repeat) == {"r", "alpha", "a", "b", "p", "q", "v"}
    assert all(isinstance(v, float) for v in repeat.values())
    assert repeat["r"] == pytest.approx(0.243, abs=5e-4)
    assert repeat["v"] == pytest.approx(15.44, abs=5e-3)
    holdout = doc["holdout"]  # the rows after --until check the fit
    assert (holdout["from"], holdout["to"], holdout["actual_repeats"]) == (
        "1997-09-30",
        "1998-06-30",
        1882,
    )
    assert holdout["expected_repeats"] == pytest.approx(1667, abs=1)
    assert doc["skipped_rows"][str(tmp_path / "cdnow.csv")] == {}


def test_skipped_rows_are_reported_not_fatal(tmp_path):
    report = tmp_path / "r.md"
    result = runner.invoke(
        app,
        [
            "calibrate",
            "--deals",
            str(BAD / "unparseable_date.csv"),
            "-o",
            str(tmp_path / "s.yaml"),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 row skipped: column 'entered_at': unparseable date (rows 3)" in report.read_text()


def test_column_flags_rename_fields(tmp_path):
    renamed = tmp_path / "renamed.csv"
    text = (DATA / "crm" / "hourglass.csv").read_text()
    renamed.write_text(text.replace("deal_id,stage", "Deal,Pipeline step", 1))
    result = runner.invoke(
        app,
        [
            "calibrate",
            "--deals",
            str(renamed),
            "--column",
            "deal=Deal",
            "--column",
            "stage=Pipeline step",
            "-o",
            str(tmp_path / "s.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["calibrate", "--deals", "nowhere.csv", "-o", "x.yaml"],
            "--deals nowhere.csv: no such file",
        ),
        (
            ["calibrate", "--deals", str(BAD / "missing_column.csv"), "-o", "x.yaml"],
            "missing column(s) 'stage' (stage)",
        ),
        (
            ["calibrate", "--deals", str(BAD / "nothing_usable.csv"), "-o", "x.yaml"],
            "nothing_usable.csv: no usable rows",
        ),
        (
            [
                "calibrate",
                "--deals",
                str(DATA / "crm" / "hourglass.csv"),
                "--until",
                "soon",
                "-o",
                "x.yaml",
            ],
            "--until soon: not a date",
        ),
        (
            [
                "calibrate",
                "--deals",
                str(DATA / "crm" / "hourglass.csv"),
                "--column",
                "stag=X",
                "-o",
                "x.yaml",
            ],
            "--column stag=X: use FIELD=HEADER",
        ),
        (
            [
                "calibrate",
                "--deals",
                str(DATA / "crm" / "hourglass.csv"),
                "--transactions",
                str(BAD / "missing_amount_column.csv"),
                "-o",
                "x.yaml",
            ],
            "missing column(s) 'amount' (amount)",
        ),
        (
            [
                "calibrate",
                "--deals",
                str(DATA / "crm" / "hourglass.csv"),
                "--mapping",
                str(BAD / "unknown_mapping_key.yaml"),
                "-o",
                "x.yaml",
            ],
            "did you mean 'stage'?",
        ),
        (
            [
                "calibrate",
                "--deals",
                str(DATA / "crm" / "hourglass.csv"),
                "--crm",
                "sap",
                "-o",
                "x",
            ],
            "--crm sap: use one of hourglass, bitrix24, hubspot, salesforce",
        ),
        (
            [
                "calibrate",
                "--deals",
                str(DATA / "crm" / "hourglass.csv"),
                "--crm",
                "hubspot",
                "--mapping",
                str(BAD / "unknown_mapping_key.yaml"),
                "-o",
                "x.yaml",
            ],
            "--crm and --mapping: give one",
        ),
        (["calibrate", "--deals", str(DATA), "-o", "x.yaml"], "is a folder, not a file"),
        (
            ["calibrate", "--deals", str(DATA / "crm" / "hourglass.csv"), "-o", "nowhere/x.yaml"],
            "nowhere/x.yaml: cannot write: no folder nowhere",
        ),
        (
            ["export-crm", "scenarios", "-o", "x.csv"],
            "saved results hold tables, not the event log",
        ),
        (
            ["export-crm", "scenarios/baseline.yaml", "-o", "x.csv", "--start", "someday"],
            "--start someday: not a date",
        ),
        (
            ["export-crm", "scenarios/baseline.yaml", "-o", "nowhere/x.csv"],
            "nowhere/x.csv: cannot write: no folder nowhere",
        ),
    ],
)
def test_bad_input_exits_2_without_traceback(args, words):
    exits_2_saying(args, words)


def test_calibrate_from_transactions_alone_fits_the_repeat_model(tmp_path):
    """--transactions without --deals: BG/NBD and Gamma-Gamma on CDNOW, a scenario and a report.

    The scenario has the published BG/NBD parameters and no arrivals; the report checks the fit
    on the 1,882 repeat purchases after 1997-09-30.
    """
    mapping = tmp_path / "map.yaml"
    mapping.write_text("keep_duplicate_transactions: true\n")
    scenario, report = tmp_path / "s.yaml", tmp_path / "r.md"
    args = ["calibrate", "--transactions", str(_cdnow_csv(tmp_path)), "--mapping", str(mapping)]
    args += ["--until", "1997-09-30", "-o", str(scenario), "--report", str(report), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["repeat"]["r"] == pytest.approx(0.243, abs=5e-4)
    assert doc["repeat"]["v"] == pytest.approx(15.44, abs=5e-3)
    assert (doc["stages"], doc["channels"], doc["holdout"]["actual_repeats"]) == ({}, {}, 1882)
    assert scenario.read_text().startswith("# Calibrated by 'hourglass calibrate' from cdnow.csv\n")
    fitted = load_scenario(scenario)
    assert fitted.after_sale.repeat.bgnbd.alpha == pytest.approx(4.414, abs=5e-4)
    assert fitted.channels.organic.prospects_per_day == 0
    text = report.read_text()
    assert "## Repeat buying" in text and "## Stages" not in text
    assert "funnel not fitted: no deal history given" in text


def test_calibrate_without_deals_or_transactions_names_both():
    exits_2_saying(["calibrate", "-o", "s.yaml"], "give --deals, --transactions or both")
