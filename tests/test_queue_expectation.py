"""The expectation with the sales team's queues: Erlang's closed forms, and the simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hourglass import analysis, replicate, simulate, theory
from hourglass.config.business import Business
from hourglass.stages import FUNNEL
from hourglass.theory_queues import erlang_a_kept
from tests.helpers import INSTANT, exponential, make_scenario, stat_close

LAM, MU, SEATS, PATIENCE, PASS = 16.0, 5.0, 3, 0.5, 0.6
"""Leads a day, services a day per seat, seats, mean patience in days, Know's pass chance."""
HALF_LIFE_HOURS = 3.0


def test_kept_is_erlang_a_without_decay_and_erlang_c_without_patience():
    """Without decay: 1 less Erlang A's share abandoning; without patience: Erlang C's decay."""
    theta = 1.0 / PATIENCE
    assert erlang_a_kept(LAM, MU, SEATS, theta) == pytest.approx(
        1.0 - theory.erlang_a_abandon(LAM, MU, SEATS, theta), rel=1e-9
    )
    assert erlang_a_kept(LAM, MU, 4, 0.0, 3.0) == pytest.approx(
        theory.erlang_c_decay(LAM, MU, 4, 3.0), rel=1e-12
    )
    # M/M/1 by hand, rho 0.75: 0.25 + 0.75 x 1 / (1 + 2)
    assert erlang_a_kept(3.0, 4.0, 1, 0.0, 2.0) == pytest.approx(0.5)
    # past full load without patience, the seats serve c mu of lambda
    assert erlang_a_kept(30.0, 5.0, 3, 0.0) == pytest.approx(0.5, rel=1e-9)
    # M/M/1+M, one waiting at most in effect: patience so short that no one waits
    assert erlang_a_kept(1.0, 1.0, 1, 1e9) == pytest.approx(0.5, rel=1e-6)


def _one_desk():
    """Poisson leads meeting one role of 3 at Know: Erlang A with speed to lead, then buying."""
    stages = {
        name: {"pass_prob": 1.0, "duration": exponential(1.0 / MU) if name == "know" else INSTANT}
        for name in FUNNEL
    }
    stages["know"]["pass_prob"] = PASS
    sales = {
        "patience": exponential(PATIENCE),
        "speed_to_lead": {"exponential": {"half_life_hours": HALF_LIFE_HOURS}},
        "roles": {"sdr": {"headcount": SEATS, "stages": ["explore"]}},
    }
    return make_scenario(
        channels={"organic": {"prospects_per_day": LAM}},
        stages=stages,
        sales=sales,
        horizon_days=400.0,
        warmup_days=50.0,
    )


def test_one_desk_buyers_match_the_simulation_within_4_standard_errors():
    """Buyers = leads x p x E[e^(-k W); served]: exact for M/M/c+M, stationary."""
    scenario = _one_desk()
    k = math.log(2.0) * 24.0 / HALF_LIFE_HOURS
    kept = erlang_a_kept(LAM, MU, SEATS, 1.0 / PATIENCE, k)
    expected = theory.expected_outcome(scenario, queues=True)["buyers"]
    assert expected == pytest.approx(LAM * 350.0 * PASS * kept, rel=0.01)
    assert theory.expected_outcome(scenario)["buyers"] > 1.5 * expected  # queues ignored
    seeds = np.random.SeedSequence(2027).spawn(12)
    stat_close([analysis.kpis(simulate(scenario, seq))["buyers"] for seq in seeds], expected)


def test_the_planners_theory_line_counts_the_sellers_queues():
    """My business's default: 4 sellers cap the buyers; the day-by-day theory sees them.

    Without the queues theory expected about four times the buyers the simulation gives.
    """
    scenario = Business().to_scenario()
    daily = theory.expected_daily(scenario, int(scenario.horizon_days))
    buyers = replicate(scenario, 20, 1, backend="serial").kpis["buyers"].to_numpy(float)
    se = buyers.std(ddof=1) / math.sqrt(len(buyers))
    assert abs(daily["buyers"].sum() - buyers.mean()) < 4 * se
    assert theory.expected_outcome(scenario)["buyers"] > 3 * buyers.mean()
