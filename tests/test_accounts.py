"""Key accounts: the service ladder's chain, the four kinds of client and the whale curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers import exits_2_saying, make_scenario
from hourglass import simulate
from hourglass.analysis import metrics
from hourglass.analysis.accounts import (
    customer_table,
    kind_table,
    placed,
    whale_curve,
    whale_summary,
)
from hourglass.log import LEFT_SERVICE
from hourglass.stages import DAYS_PER_MONTH
from hourglass.theory import ladder_occupancy

LADDER = {
    "levels": [
        {"name": "audit", "value_per_month": 100.0, "cost_to_serve_per_month": 20.0},
        {"name": "support", "value_per_month": 300.0, "cost_to_serve_per_month": 150.0},
        {"name": "outsourcing", "value_per_month": 900.0, "cost_to_serve_per_month": 700.0},
        {"name": "partnership", "value_per_month": 2000.0, "cost_to_serve_per_month": 2400.0},
    ],
    "upgrade_per_month": [0.3, 0.2, 0.1],
    "downgrade_per_month": [0.05, 0.05, 0.1],
    "churn_per_month": [0.04, 0.02, 0.02, 0.03],
}
SPEND_EFFECT = {"per_month": 500.0, "response": {"linear": {"per_unit": 0.001, "cap": 2.0}}}
"""Account management at 500 a month on a linear curve: an effect of 0.5 on upgrades."""


def ladder_scenario(**changes):
    """Customers who only climb the ladder: no prospects, no repeats."""
    return make_scenario(
        channels__organic__prospects_per_day=0.0,
        horizon_days=181.0,
        after_sale__service_ladder={**LADDER, "budget": SPEND_EFFECT},
        **changes,
    )


def test_account_management_multiplies_the_upgrade_rates_by_the_curve():
    scenario = ladder_scenario()
    ladder = scenario.after_sale.service_ladder
    q = ladder.generator() * DAYS_PER_MONTH
    assert ladder.upgrade_factor() == pytest.approx(1.5)
    assert [q[0, 1], q[1, 2], q[2, 3]] == pytest.approx([0.45, 0.3, 0.15])
    assert q[1, 0] == pytest.approx(0.05) and q[3, 4] == pytest.approx(0.03)


def test_simulated_levels_follow_the_matrix_exponential():
    n = 20_000
    scenario = ladder_scenario()
    run = simulate(scenario, seed=3, cohort=[0.0] * n)
    times = np.array([30.0, 90.0, 180.0])
    expected = ladder_occupancy(scenario.after_sale.service_ladder, times) * n
    moves = pd.DataFrame(run.log.level_moves)
    for row, t in enumerate(times):
        at_t = moves[moves["time"] <= t].groupby("customer")["level"].last()
        counts = at_t.replace(LEFT_SERVICE, 4).value_counts().reindex(range(5), fill_value=0)
        p = expected[row] / n
        se = np.sqrt(n * p * (1 - p))
        assert np.all(np.abs(counts.to_numpy() - expected[row]) < 4 * se + 1e-9), (t, counts)
    # a 2-point bias in any level's share would be more than 4 standard errors
    assert 4 * np.sqrt(0.25 / n) < 0.02
