"""The library's public functions: a wrong argument is named, with what to pass instead."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import hourglass as hg
from hourglass.analysis.metrics import kpis
from hourglass.calibration.mapping import DataError
from hourglass.experiments import OptimizeError
from tests.helpers import make_scenario

SHORT = {"horizon_days": 20.0}


def test_simulate_loads_a_scenario_given_as_a_path(tmp_path):
    scenario = make_scenario(**SHORT)
    path = tmp_path / "shop.yaml"
    path.write_text(scenario.to_yaml(), encoding="utf-8")
    from_file = hg.simulate(str(path), seed=3)
    assert from_file.scenario == scenario
    # KPIs undefined in both runs (a free channel's LTV:CAC) are NaN, which equals nothing
    assert pd.Series(kpis(from_file)).equals(pd.Series(kpis(hg.simulate(scenario, seed=3))))


def test_simulate_names_what_it_was_given_instead_of_a_scenario():
    with pytest.raises(TypeError, match="scenario: pass a Scenario, or a scenario file's path"):
        hg.simulate({"name": "shop"})


@pytest.mark.parametrize(
    ("seed", "error", "words"),
    [
        (-1, ValueError, "seed: must be at least 0, got -1"),
        (1.5, TypeError, "seed: a whole number is expected, not 1.5 (float)"),
        (True, TypeError, "seed: a whole number is expected, not True (bool)"),
    ],
)
def test_a_wrong_seed_is_named(seed, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        hg.simulate(make_scenario(), seed=seed)


def test_replicate_names_a_negative_seed_instead_of_failing_every_replication():
    with pytest.raises(ValueError, match="seed: must be at least 0, got -1"):
        hg.replicate(make_scenario(), 2, seed=-1, backend="serial")


def test_a_sweep_takes_its_fields_as_a_dict_of_paths_to_values():
    base = make_scenario(**SHORT)
    table = hg.sweep(base, {"horizon_days": [10.0, 20.0]}, 2, 1, "serial")
    assert sorted(table["horizon_days"].unique()) == [10.0, 20.0]
    as_text = hg.sweep(base, "horizon_days=10.0,20.0", 2, 1, "serial")
    assert as_text.equals(table)


def test_a_sweep_names_what_it_was_given_instead_of_fields():
    with pytest.raises(TypeError, match="varies: give the fields to vary as a dict"):
        hg.sweep(make_scenario(), 42, 2, 1, "serial")


def test_calibrate_names_a_missing_history():
    with pytest.raises(DataError, match="nothing to calibrate from: give a deal history"):
        hg.calibrate(None)
    with pytest.raises(TypeError, match="deals: give the deal-stage history as CSV text"):
        hg.calibrate(12)


def test_optimize_refuses_one_replication_instead_of_a_nan_interval():
    scenario = hg.load_scenario("marketing_budgets")
    with pytest.raises(OptimizeError, match="at least 2 paired replications"):
        hg.optimize(scenario, 22_000.0, reps=1, backend="serial")


def test_a_saturated_response_curve_gives_its_maximum_without_a_warning():
    scenario = hg.load_scenario("marketing_budgets")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        steep = scenario.with_overrides(
            {
                "channels.paid.search_ads.response.hill.half_saturation": 1e-300,
                "channels.paid.search_ads.response.hill.shape": 10.0,
            }
        )
        response = steep.channels.paid["search_ads"].response
        assert response.effect(4000.0) == 160.0
        assert response.slope(4000.0) == 0.0
