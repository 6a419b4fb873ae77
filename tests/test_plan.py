"""The compiled plan: budgets, lifts and seller skill resolved once, read by engine and theory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hourglass import load_scenario, parse_scenario
from hourglass.config import scenario as scenario_module
from hourglass.config.budgets import budget_lines, with_budgets
from hourglass.config.plan import compile_plan
from hourglass.experiments.allocation import Constraints, allocate
from hourglass.theory import expected_outcome

ROOT = Path(__file__).resolve().parent.parent
BUDGETS = ROOT / "scenarios" / "marketing_budgets.yaml"


def test_amounts_on_a_plan_equal_amounts_validated_anew() -> None:
    """Money set on the plan gives exactly what the same money in a re-validated scenario gives."""
    scenario = load_scenario(BUDGETS)
    amounts = {line: 1.7 * money + 100.0 for line, money in budget_lines(scenario).items()}
    on_plan = compile_plan(scenario, amounts)
    validated = compile_plan(with_budgets(scenario, amounts))
    np.testing.assert_array_equal(on_plan.pass_prob, validated.pass_prob)
    np.testing.assert_array_equal(on_plan.pass_prob_referred, validated.pass_prob_referred)
    assert on_plan.outside_per_day == validated.outside_per_day
    assert on_plan.repeat == validated.repeat
    assert on_plan.contacts_per_month == validated.contacts_per_month
    assert expected_outcome(on_plan) == expected_outcome(with_budgets(scenario, amounts))


def test_the_optimiser_weighs_allocations_without_validating_scenarios(monkeypatch) -> None:
    """A search over allocations never parses a scenario: it works on plans."""

    def refuse(*args, **kwargs):
        raise AssertionError("a scenario was parsed during the search")

    scenario = load_scenario(BUDGETS)
    monkeypatch.setattr(scenario_module, "parse_scenario", refuse)
    optimal, _ = allocate(scenario, 22_000.0, "profit", Constraints())
    assert sum(optimal.values()) == pytest.approx(22_000.0)


def test_lift_and_skill_fold_into_the_pass_probability() -> None:
    """Try at 0.5 with a linear budget lifting 0.1 and a define skill of 1.2 passes at 0.72."""
    stages = {
        name: {"pass_prob": 0.5, "duration": {"fixed": {"days": 0.0}}}
        for name in ("know", "like", "trust", "try", "buy")
    }
    stages["try"]["budget"] = {
        "per_month": 1000,
        "response": {"linear": {"per_unit": 1e-4, "cap": 0.5}},
    }
    scenario = parse_scenario(
        {
            "name": "lifted",
            "horizon_days": 60,
            "channels": {"organic": {"prospects_per_day": 10}},
            "stages": stages,
            "sales": {"sellers": 2, "stages": ["define"], "skill": {"define": 1.2}},
            "referral": {"win_prob": 0.2, "boost": {"try": 1.5}},
            "after_sale": {"order_value": {"fixed": {"value": 10}}},
        }
    )
    plan = compile_plan(scenario)
    assert plan.worked == (False, False, False, True, False)
    assert plan.pass_prob[0].tolist() == pytest.approx([0.5, 0.5, 0.5, 0.72, 0.5])
    assert plan.pass_prob_referred[0, 3] == pytest.approx(1.0)  # 0.72 x 1.5, at most 1
    assert plan.mean_pass_prob[3] == pytest.approx(0.72)


def test_negative_money_is_refused() -> None:
    """A plan is not compiled with money below zero."""
    scenario = load_scenario(BUDGETS)
    line = next(iter(budget_lines(scenario)))
    with pytest.raises(ValueError, match=line):
        compile_plan(scenario, {line: -1.0})
