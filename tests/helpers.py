"""Shared helpers: small scenarios built in code, and the command line's bad-input check."""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import math
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from hourglass import Run, Scenario, load_scenario, parse_scenario, simulate
from hourglass.calibration.crm import Transactions, read_transactions
from hourglass.calibration.export import export_transactions
from hourglass.calibration.mapping import CrmMapping, TransactionColumns
from hourglass.cli import app
from hourglass.stages import FUNNEL

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"

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


def exponential(mean: float) -> dict[str, dict[str, float]]:
    """An exponential duration of this mean, as a scenario file writes it."""
    return {"exponential": {"mean_days": mean}}


def stat_close(samples: list[float] | np.ndarray, expected: float, k: float = 4.0) -> None:
    """The mean of per-replication `samples` is within k standard errors of `expected`."""
    x = np.asarray(samples, dtype=float)
    sem = x.std(ddof=1) / math.sqrt(len(x))
    assert abs(x.mean() - expected) < k * sem, (x.mean(), expected, sem)


@functools.cache
def shipped_run(name: str, seed: int) -> Run:
    """A shipped scenario's run, simulated once per test process: read it, do not change it."""
    return simulate(load_scenario(name), seed)


def golden(name: str) -> dict[str, Any]:
    """A shipped scenario's `run --json --seed 1`, as tests/test_golden.py keeps it checked."""
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


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


def run_cli(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command from the project's folder, its output captured as text.

    A process of its own: for what only a fresh interpreter shows (the language chosen as
    the command line loads, a traceback Python itself prints).
    """
    return subprocess.run(
        [sys.executable, "-m", "hourglass.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def invoke_cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the command in this process from the project's folder, as `run_cli` reports it.

    Seconds faster than a process of its own; an exception the command leaves uncaught
    comes back as exit code 1 with its traceback on stderr, as Python would print it.
    """
    with contextlib.chdir(ROOT):
        result = CliRunner().invoke(app, args)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, stderr)


def exits_2_saying(args: list[str], words: str) -> None:
    """Run the command: exit code 2, the words on stderr, no traceback anywhere."""
    proc = invoke_cli(args)
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def cdnow_transactions(keep_duplicates: bool = True) -> Transactions:
    """The CDNOW sample (Fader, Hardie and Lee's 2,357 customers) read as a transaction log."""
    raw = pd.read_csv(
        ROOT / "tests" / "data" / "cdnow" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["customer", "sample_id", "date", "cds", "amount"],
        dtype=str,
    )
    mapping = CrmMapping(
        transactions=TransactionColumns(customer="customer", date="date", amount="amount"),
        transaction_date_format="%Y%m%d",
        keep_duplicate_transactions=keep_duplicates,
    )
    return read_transactions(raw, mapping, name="CDNOW_sample.txt")


def cdnow_export() -> pd.DataFrame:
    """The CDNOW sample as a shop's transaction export: its own columns, ISO dates, as text."""
    raw = pd.read_csv(
        ROOT / "tests" / "data" / "cdnow" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        dtype=str,
        names=["customer_id", "sample", "date", "cds", "amount"],
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d")
    return raw


def repeat_buying_run(seed: int = 4) -> Run:
    """A small shop whose customers buy again (BG/NBD), run for 240 days."""
    shop = make_scenario(
        horizon_days=240.0,
        channels={"organic": {"prospects_per_day": 20.0}},
        stages={name: {"pass_prob": 0.7} for name in FUNNEL},
        after_sale={
            "order_value": {"gamma": {"mean": 10.0, "cv": 0.5}},
            "repeat": {"bgnbd": {"r": 1.0, "alpha": 4.0, "a": 0.5, "b": 3.0}},
        },
    )
    return simulate(shop, seed)


def varied_spend_transactions(run: Run) -> pd.DataFrame:
    """The run's transaction log with customers who differ in what they spend.

    The engine draws every customer's orders alike; without a spread between customers
    Gamma-Gamma's fit may run off to infinite parameters and be left out.
    """
    tx = export_transactions(run)
    spend = np.random.default_rng(0).gamma(4.0, 0.25, tx["customer_id"].max() + 1)
    tx["amount"] = (tx["amount"] * spend[tx["customer_id"]]).round(2)
    return tx
