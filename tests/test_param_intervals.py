"""Parameters written with bounds: read, written back, and drawn afresh by each replication."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml
from scipy import stats
from yaml import safe_load as parse_yaml

from hourglass import ScenarioError, replicate
from hourglass.config.scenario import parse_scenario_text
from tests.helpers import INSTANT, invoke_cli, make_scenario

A, B = 8.0, 8.0
"""Buy's pass probability is Beta(A, B): mean 0.5, variance AB / ((A + B)^2 (A + B + 1))."""


def test_the_spread_of_buyers_follows_the_law_of_total_variance():
    """With pass_prob {beta: {a, b}} at buy, Var(buyers) = E[Var(buyers | p)] + Var(E[. | p]).

    Prospects N arrive and every other stage lets all through, so buyers given p are a
    binomial thinning of N: E = p E[N] and Var = E[N] p (1 - p) + p^2 Var(N); a run with
    buy at 1 gives E[N] and Var(N). The sample variance over n replications must lie within
    4 of its standard errors, sigma^2 sqrt(2 / (n - 1) + kurtosis / n), of the prediction,
    and the mean within 4 standard errors of E[N] E[p]; with p held at 0.5 the spread is far
    smaller.
    """
    horizon = 10.0
    arrivals = replicate(make_scenario(horizon_days=horizon), 20, 5, "serial").kpis["buyers"]
    mean_n, var_n = arrivals.mean(), arrivals.var(ddof=1)
    uncertain = make_scenario(
        horizon_days=horizon,
        stages__buy={"pass_prob": {"beta": {"a": A, "b": B}}, "duration": INSTANT},
    )
    n = 120
    buyers = replicate(uncertain, n, 1, "serial").kpis["buyers"].to_numpy(float)
    p = stats.beta(A, B)
    e_p, e_p2 = p.mean(), p.var() + p.mean() ** 2
    within = mean_n * (e_p - e_p2) + e_p2 * var_n
    between = mean_n**2 * p.var()
    predicted = within + between
    kurtosis = float(p.stats(moments="k"))
    tolerance = 4 * predicted * math.sqrt(2 / (n - 1) + kurtosis / n)
    assert abs(buyers.var(ddof=1) - predicted) < tolerance
    assert abs(buyers.mean() - mean_n * e_p) < 4 * math.sqrt(predicted / n)
    fixed = make_scenario(horizon_days=horizon, stages__buy={"pass_prob": 0.5, "duration": INSTANT})
    plain = replicate(fixed, 10, 1, "serial").kpis["buyers"].to_numpy(float)
    assert plain.var(ddof=1) < 0.1 * predicted


def test_a_mean_with_an_interval_becomes_the_beta_of_that_width_and_writes_back():
    """{mean: 0.3, ci: [0.2, 0.4]}: a beta with mean 0.3 whose 95% interval is 0.2 wide."""
    stage = make_scenario(stages__know={"pass_prob": {"mean": 0.3, "ci": [0.2, 0.4]}})
    know = stage.stages.know
    assert know.pass_prob == pytest.approx(0.3)
    a, b = know.pass_prob_interval.shapes
    low, high = stats.beta.ppf([0.025, 0.975], a, b)
    assert a / (a + b) == pytest.approx(0.3)
    assert high - low == pytest.approx(0.2, abs=1e-6)
    again = parse_scenario_text(stage.to_yaml())
    assert again == stage
    assert again.to_dict()["stages"]["know"]["pass_prob"] == {"mean": 0.3, "ci": [0.2, 0.4]}
    assert stage.with_overrides({"stages.know.pass_prob": 0.6}).stages.know.pass_prob == 0.6


def test_a_plain_number_keeps_its_numbers():
    """A number is no interval: the replications are those of the run without any draws."""
    plain = make_scenario(horizon_days=10.0, stages__buy={"pass_prob": 0.5})
    assert plain.stages.buy.pass_prob_interval is None
    first = replicate(plain, 3, 2, "serial").kpis["buyers"].tolist()
    assert first == replicate(plain, 3, 2, "serial").kpis["buyers"].tolist()


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"mean": 0.5, "ci": [0.6, 0.7]}, "stages.buy.pass_prob: ci: [0.6, 0.7] must hold"),
        ({"mean": 0.5}, "stages.buy.pass_prob: give a number, or a mean with its ci"),
        ({"beta": {"a": 2, "b": 2}, "mean": 0.5}, "give mean and ci, or beta, not both"),
        ({"beta": {"a": -1, "b": 2}}, "stages.buy.pass_prob.beta.a"),
        ({"mean": 0.5, "cl": [0.4, 0.6]}, "stages.buy.pass_prob: unknown key 'cl'"),
    ],
)
def test_a_wrong_interval_names_the_field(given, words):
    """Each mistake in an interval is named at its field and line, in a ScenarioError."""
    text = make_scenario().to_yaml()
    bad = parse_yaml(text)
    bad["stages"]["buy"]["pass_prob"] = given
    with pytest.raises(ScenarioError) as caught:
        parse_scenario_text(yaml.safe_dump(bad, sort_keys=False), "bad.yaml")
    assert words in str(caught.value)
    assert "bad.yaml: line " in str(caught.value)


def test_run_says_the_band_holds_the_parameters(tmp_path):
    """`run` names the drawn fields in its JSON and in its text."""
    path = tmp_path / "uncertain.yaml"
    scenario = make_scenario(
        horizon_days=10.0, stages__buy={"pass_prob": {"mean": 0.5, "ci": [0.4, 0.6]}}
    )
    path.write_text(scenario.to_yaml())
    proc = invoke_cli(["run", str(path), "--reps", "2", "--backend", "serial", "--json"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["uncertainty"] == {
        "sources": ["simulation", "parameters"],
        "parameters": ["stages.buy.pass_prob"],
    }
    assert np.isfinite(doc["kpis"]["buyers"]["mean"])
    text = invoke_cli(["run", str(path), "--reps", "2", "--backend", "serial"]).stdout
    said = " ".join(text.split())
    assert "draws the parameters given with bounds (stages.buy.pass_prob)" in said
