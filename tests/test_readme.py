"""The numbers the README quotes are what the code gives today.

Each test reads the quoted text out of README.md and recomputes it, so the README cannot
go stale: a change that moves a number fails here until the README says the new one.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hourglass import simulate
from hourglass.calibration import fit_bgnbd, fit_gamma_gamma, repeat_tracking, rfm_summary
from hourglass.cli import app
from hourglass.config import work
from tests.helpers import ROOT, cdnow_transactions, make_scenario

README = (ROOT / "README.md").read_text(encoding="utf-8")
PROSE = " ".join(README.split())
"""The README with every run of whitespace one space, so that quotes may wrap."""

runner = CliRunner()


def _quoted(pattern: str, text: str = PROSE) -> re.Match[str]:
    """The README's one passage matching `pattern`."""
    found = list(re.finditer(pattern, text, flags=re.MULTILINE))
    assert len(found) == 1, f"{len(found)} passages of the README match {pattern!r}"
    return found[0]


def _as_quoted(quoted: str, value: float) -> str:
    """`value` written as `quoted` is: its decimals, sign, thousands commas and percent sign."""
    number = quoted.removesuffix("%")
    decimals = len(number.partition(".")[2])
    sign = "+" if number.startswith(("+", "-")) else ""
    comma = "," if "," in number else ""
    return f"{value:{sign}{comma}.{decimals}f}" + ("%" if quoted.endswith("%") else "")


def test_check_example_prints_the_quoted_estimate():
    """The `check` output under "Work is estimated before it runs" is what check prints."""
    block = _quoted(r"^```\n(scenarios/baseline\.yaml: ok: .+\n  work: .+)\n```$", README)
    result = runner.invoke(app, ["check", "scenarios/baseline.yaml"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == block.group(1)


def test_the_quoted_work_limits_are_the_code_s():
    sentence = _quoted(r"refuse work over (\d+) million events or (\d+) GiB a run")
    assert int(sentence.group(1)) * 1e6 == work.MAX_EVENTS
    assert int(sentence.group(2)) * 2**30 == work.MAX_MEMORY_BYTES
    ceiling = _quoted(r"far past its estimate \((\w+) times, plus ([\d,]+) events\)")
    assert {"three": 3.0}[ceiling.group(1)] == work.CEILING_FACTOR
    assert int(ceiling.group(2).replace(",", "")) == work.CEILING_SLACK


@pytest.mark.slow
def test_compare_example_prints_the_quoted_sentence():
    """The compare example under "The command line" prints the sentence quoted below it."""
    example = _quoted(r"^(hourglass compare .+)\n#\s+(.+?)\s+\.\.\. one sentence per KPI$", README)
    command, sentence = example.groups()
    result = runner.invoke(app, shlex.split(command)[1:])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert sentence in lines, [line for line in lines if "buyers" in line]


def test_skipped_rows_example_is_the_message_for_stages_out_of_order(tmp_path, monkeypatch):
    """The calibration section's skipped-rows message is the report's for stages out of order.

    It is the message the report gives for a deal whose stages are out of order (the example
    file, named deals.csv).
    """
    message = _quoted(r"\(`(deals\.csv: \d+ rows? skipped: [^`]+)`\)").group(1)
    shutil.copy(
        ROOT / "tests" / "data" / "bad_crm" / "stages_out_of_order.csv", tmp_path / "deals.csv"
    )
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["calibrate", "--deals", "deals.csv", "-o", "s.yaml", "--report", "r.md"]
    )
    assert result.exit_code == 0, result.output
    report = (tmp_path / "r.md").read_text()
    assert f"- {message}\n" in report, report


CDNOW = (
    r"the (?P<customers>[\d,]+)-customer CDNOW sample .*? calibration period ending "
    r"(?P<until>\d{4}-\d\d-\d\d), the BG/NBD fit is r = (?P<r>[\d.]+), alpha = (?P<alpha>[\d.]+), "
    r"a = (?P<a>[\d.]+), b = (?P<b>[\d.]+) \(Fader, Hardie and Lee 2005: (?P<r_pub>[\d.]+), "
    r"(?P<alpha_pub>[\d.]+), (?P<a_pub>[\d.]+), (?P<b_pub>[\d.]+)\) and Gamma-Gamma "
    r"p = (?P<p>[\d.]+), q = (?P<q>[\d.]+), v = (?P<v>[\d.]+) \(published (?P<p_pub>[\d.]+), "
    r"(?P<q_pub>[\d.]+), (?P<v_pub>[\d.]+); .*? keeping the (?P<duplicates>\d+) rows that repeat "
    r"another row exactly: dropping them gives v = (?P<v_dropped>[\d.]+)\)\. .*? the cumulative "
    r"repeat purchases are (?P<sim_mid>[\d,]+) by week (?P<mid>\d+) \(mean of (?P<runs>\d+) runs; "
    r"actual (?P<actual_mid>[\d,]+), (?P<gap_mid>[+-][\d.]+%)\) and (?P<sim_end>[\d,]+) by week "
    r"(?P<end>\d+) \(BG/NBD's closed form (?P<expected_end>[\d,]+)\) against "
    r"(?P<actual_end>[\d,]+) actual: (?P<short_end>[\d.]+%) short at week (?P=end), within "
    r"(?P<worst>[\d.]+%) in every holdout week; in weeks (?P<first_holdout>\d+)-(?P=end) alone "
    r"the model expects (?P<sim_holdout>[\d,]+) repeat purchases where (?P<actual_holdout>[\d,]+) "
    r"were made"
)
"""The "Checked on CDNOW" paragraph, each number it quotes a group."""


@pytest.mark.slow
def test_cdnow_paragraph_is_what_the_fit_and_the_engine_give():
    """Checked on CDNOW: the BG/NBD and Gamma-Gamma fits, and the cohort simulated in the engine.

    The fits with their published values, to the published digits; the cohort over the holdout
    weeks.
    """
    quoted = _quoted(CDNOW).groupdict()
    until = pd.Timestamp(quoted["until"])
    mid, end, runs = (int(quoted[k]) for k in ("mid", "end", "runs"))
    tx, deduplicated = cdnow_transactions(), cdnow_transactions(keep_duplicates=False)
    summary = rfm_summary(tx.rows, until)
    fit, spend = fit_bgnbd(summary), fit_gamma_gamma(summary)
    origin = tx.rows["date"].min().normalize()
    first = (summary["first"] - origin).dt.days.to_numpy(float)
    days = tx.rows.assign(day=tx.rows["date"].dt.normalize()).drop_duplicates(["customer", "day"])
    later = days["day"] > days.groupby("customer")["day"].transform("min")
    repeats = (days.loc[later, "day"] - origin).dt.days.to_numpy(float)
    scenario = make_scenario(
        channels={},
        horizon_days=end * fit.period_days,
        after_sale={
            "order_value": {"gamma": {"mean": spend.mean_spend, "cv": spend.spend_cv}},
            "repeat": {
                "bgnbd": {
                    "r": fit.r.value,
                    "alpha": fit.alpha.value,
                    "a": fit.a.value,
                    "b": fit.b.value,
                    "period_days": fit.period_days,
                }
            },
        },
    )
    tables = [
        repeat_tracking(simulate(scenario, seed, cohort=first), first, repeats, fit, end)
        for seed in range(runs)
    ]
    simulated = np.mean([t["simulated"].to_numpy(float) for t in tables], axis=0)
    actual, expected = tables[0]["actual"].to_numpy(float), tables[0]["expected"].to_numpy()
    holdout = slice(int(quoted["first_holdout"]) - 1, end)
    fitted = {name: getattr(fit, name).value for name in ("r", "alpha", "a", "b")}
    fitted |= {name: getattr(spend, name).value for name in ("p", "q", "v")}
    computed = {
        "customers": tx.rows["customer"].nunique(),
        **fitted,
        **{f"{name}_pub": value for name, value in fitted.items()},
        "duplicates": deduplicated.skipped.count,
        "v_dropped": fit_gamma_gamma(rfm_summary(deduplicated.rows, until)).v.value,
        "sim_mid": simulated[mid - 1],
        "actual_mid": actual[mid - 1],
        "gap_mid": 100 * (simulated[mid - 1] / actual[mid - 1] - 1),
        "sim_end": simulated[end - 1],
        "expected_end": expected[end - 1],
        "actual_end": actual[end - 1],
        "short_end": 100 * (1 - simulated[end - 1] / actual[end - 1]),
        "worst": 100 * np.abs(simulated[holdout] / actual[holdout] - 1).max(),
        "sim_holdout": simulated[end - 1] - simulated[mid - 1],
        "actual_holdout": actual[end - 1] - actual[mid - 1],
    }
    assert int(quoted["first_holdout"]) == mid + 1
    said = {k: v for k, v in quoted.items() if k in computed}
    assert said == {k: _as_quoted(said[k], v) for k, v in computed.items()}


@pytest.mark.slow
def test_month_plan_and_target_examples_give_the_quoted_numbers():
    """The examples under "Month by month, and for a target" give the numbers quoted below them."""
    plan = _quoted(
        r"puts ([\d,]+) a month on ads in months 1-8 and ([\d,]+) in months 9-12 .*? raises "
        r"profit by ([\d,]+) \(95% CI ([\d,]+) to ([\d,]+)\)"
    ).groups()
    command = _quoted(r"^(hourglass optimize scenarios/baseline\.yaml .+ --by-month .+)$", README)
    result = runner.invoke(app, [*shlex.split(command.group(1))[1:], "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    ads = [block["amounts"]["ads"] for block in doc["blocks"]]
    gain = doc["compared"]["profit"]["change"]
    computed = (ads[0], ads[2], gain["mean"], gain["ci_low"], gain["ci_high"])
    assert ads[0] == pytest.approx(ads[1])
    assert plan == tuple(_as_quoted(q, v) for q, v in zip(plan, computed, strict=True))
    answer = _quoted(
        r"answers ([\d,]+) a month; the simulation gives ([\d,]+) customers and meets the "
        r"target in (\d+%) of runs"
    ).groups()
    command = _quoted(r"^(hourglass target scenarios/baseline\.yaml --customers .+)$", README)
    result = runner.invoke(app, [*shlex.split(command.group(1))[1:], "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    computed = (doc["budget"], doc["simulated"]["mean"], 100 * doc["chance"]["share"])
    assert answer == tuple(_as_quoted(q, v) for q, v in zip(answer, computed, strict=True))
