"""Sequential stopping: paired replications are added until the compared KPI is precise enough."""

from __future__ import annotations

import copy
import math
import re

import numpy as np
import pytest
import yaml

from hourglass import compare
from hourglass.experiments import stop_when_precise
from tests.helpers import _BASE, exits_2_saying, invoke_cli, make_scenario

Z = 1.959964
"""The normal quantile of a two-sided 95% interval."""


def _theory(sd: float, half_width: float) -> float:
    """Replications a 95% interval of half-width `half_width` needs: (z * sd / h)^2."""
    return (Z * sd / half_width) ** 2


@pytest.mark.parametrize("seed", range(5))
def test_stops_where_theory_says_for_a_known_spread(seed):
    """Differences with SD 10 and a target of 1 stop near (1.96 * 10 / 1)^2 = 384."""
    draws = np.random.default_rng(seed).normal(3.0, 10.0, 2000)
    reached = stop_when_precise(lambda n: {"buyers": [draws[:n]]}, 5, {"buyers": 1.0}, 2000)
    assert reached.reps == pytest.approx(_theory(10.0, 1.0), rel=0.2)
    assert reached.met and reached.reached["buyers"] <= 1.0


def test_gives_up_at_the_most_replications_and_says_so():
    draws = np.random.default_rng(1).normal(0.0, 10.0, 100)
    reached = stop_when_precise(lambda n: {"buyers": [draws[:n]]}, 5, {"buyers": 1.0}, 40)
    assert reached.reps == 40 and not reached.met
    assert reached.reached["buyers"] > 1.0


def _pair():
    """All prospects buy in the baseline, half of them in the other.

    Arrivals are Poisson with mean 1,000 and shared (common random numbers), so the difference
    in buyers is minus the other's non-buyers: Poisson with mean 500, an SD of sqrt(500).
    """
    base = make_scenario(horizon_days=20.0)
    half = make_scenario(name="half", horizon_days=20.0, stages__buy__pass_prob=0.5)
    return base, half


def test_compare_stops_at_the_replications_theory_predicts():
    base, half = _pair()
    result = compare([base, half], reps=5, seed=3, backend="serial", precision={"buyers": 10.0})
    expected = _theory(math.sqrt(500.0), 10.0)  # 19.2
    precision = result.precision
    assert precision.reps == result.reps
    # an SD estimated from 5 to 20 replications is itself off by up to a third, so the count
    # is checked within a factor of 2 here; the tight check is on 384 replications above
    assert expected / 2 <= precision.reps <= 2 * expected
    runs = result.runs
    differences = runs["half"].kpis["buyers"] - runs["test"].kpis["buyers"]
    assert differences.var() == pytest.approx(500.0, rel=0.35)
    assert precision.met and precision.reached["buyers"] <= 10.0
    row = result.table.set_index("kpi").loc["buyers"]
    assert (row["ci_high"] - row["ci_low"]) / 2 == pytest.approx(precision.reached["buyers"])
    again = compare([base, half], reps=5, seed=3, backend="serial", precision={"buyers": 10.0})
    assert again.precision == precision and again.table.equals(result.table)
    assert result.to_dict()["precision"] == {
        "target": {"buyers": 10.0},
        "reached": precision.reached,
        "met": True,
        "reps": precision.reps,
    }


def test_compare_refuses_an_unknown_kpi_or_a_bad_half_width():
    base, half = _pair()
    with pytest.raises(ValueError, match="unknown KPI 'byers'"):
        compare([base, half], reps=2, backend="serial", precision={"byers": 10.0})
    with pytest.raises(ValueError, match="half-width of buyers must be a positive number"):
        compare([base, half], reps=2, backend="serial", precision={"buyers": math.nan})


def test_the_command_says_what_precision_was_reached(tmp_path):
    files = []
    for name, buy in (("all", 1.0), ("half", 0.5)):
        data = copy.deepcopy(_BASE)
        data["name"], data["horizon_days"] = name, 20.0
        data["stages"]["buy"]["pass_prob"] = buy
        files.append(tmp_path / f"{name}.yaml")
        files[-1].write_text(yaml.safe_dump(data))
    args = ["compare", *map(str, files), "--reps", "5", "--seed", "3", "--backend", "serial"]
    done = invoke_cli(["--lang", "en", *args, "--precision", "buyers=10"])
    assert done.returncode == 0, done.stderr
    said = re.search(
        r"Precision reached after (\d+) paired replications: Buyers ±([\d.]+) \(target ±10\)",
        done.stdout,
    )
    assert said, done.stdout
    assert f"Against all: {said[1]} paired replications, seed 3" in done.stdout
    assert int(said[1]) > 5 and float(said[2]) <= 10.0


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("buyers", "--precision buyers: write KPI=NUMBER, e.g. buyers=50"),
        ("byers=5", "--precision byers=5: unknown KPI 'byers'; use one of"),
        ("buyers=0,5", "'0,5' is not a number; the decimal separator is a point: 0.5"),
        ("buyers=-1", "--precision buyers=-1: the half-width must be a positive number"),
        ("buyers=nan", "--precision buyers=nan: the half-width must be a positive number"),
    ],
)
def test_the_command_refuses_a_bad_precision_by_name(given, words):
    exits_2_saying(
        ["compare", "scenarios/baseline.yaml", "scenarios/no_referrals.yaml", "--precision", given],
        words,
    )
