"""Theory's money against the simulation: segments' own rates, service ladders, both together.

Theory leaves out queues for sellers, antagonists and the market filling up with referrals.
The scenarios here have no sellers and no antagonist moves, and referrals reach a small part
of the market, so the simulated mean must hold theory within 4 standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import hourglass as hg
from hourglass.analysis.segments import segment_table
from hourglass.config.budgets import spend_per_day

REPLICATIONS = 6
MONEY = ("revenue", "cost_to_serve", "profit")


def shortened(name: str, days: float, **after_sale: object) -> hg.Scenario:
    """A shipped scenario over fewer days (and with some after-sale fields changed)."""
    scenario = hg.load_scenario(name)
    after = scenario.after_sale.model_copy(update=after_sale)
    return scenario.model_copy(update={"horizon_days": days, "after_sale": after})


def replicated(scenario: hg.Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per replication: the KPIs with the cost to serve; and each segment's buyers and money."""
    fixed = float(spend_per_day(scenario, math.ceil(scenario.horizon_days)).sum())
    bonus = scenario.referral.bonus if scenario.referral else 0.0
    totals, segments = [], []
    for seed in range(1, REPLICATIONS + 1):
        run = hg.simulate(scenario, seed)
        k = hg.analysis.kpis(run)
        k["cost_to_serve"] = k["cost"] - fixed - bonus * k["referred_buyers"]
        totals.append(k)
        segments.append(segment_table(run).assign(rep=seed))
    return pd.DataFrame(totals), pd.concat(segments)


def assert_within_4_se(simulated: pd.Series, expected: float, what: str) -> None:
    """The simulated mean is within 4 standard errors of theory (at least one unit)."""
    error = max(simulated.std(ddof=1) / math.sqrt(len(simulated)), 1.0)
    assert abs(simulated.mean() - expected) < 4 * error, (
        f"{what}: theory {expected:,.0f}, simulated {simulated.mean():,.0f} ± {error:,.0f}"
    )


@pytest.fixture(scope="module")
def b2b() -> tuple[hg.Scenario, pd.DataFrame, pd.DataFrame]:
    scenario = shortened("b2b_segments", 300)
    return (scenario, *replicated(scenario))


def test_theory_charges_each_segment_its_own_order_value_repeats_and_cost_to_serve(b2b):
    scenario, totals, _ = b2b
    expected = hg.theory.expected_outcome(scenario)
    for what in MONEY:
        assert_within_4_se(totals[what], expected[what], what)


def test_theory_expects_each_segments_buyers(b2b):
    scenario, _, segments = b2b
    expected = hg.theory.expected_segments(scenario)
    assert list(expected) == ["smb", "mid_market", "enterprise"]
    for name, rows in segments.groupby("name", sort=False):
        for what in ("buyers", "revenue", "cost_to_serve"):
            assert_within_4_se(rows[what], expected[name][what], f"{name} {what}")


def test_theory_charges_the_service_levels_for_the_time_they_are_held():
    scenario = shortened("key_accounts", 540)
    totals, _ = replicated(scenario)
    expected = hg.theory.expected_outcome(scenario)
    for what in (*MONEY, "buyers"):
        assert_within_4_se(totals[what], expected[what], what)


def test_theory_follows_segments_up_a_service_ladder():
    ladder = hg.load_scenario("key_accounts").after_sale.service_ladder
    scenario = shortened("b2b_segments", 240, service_ladder=ladder)
    totals, segments = replicated(scenario)
    expected = hg.theory.expected_outcome(scenario)
    for what in MONEY:
        assert_within_4_se(totals[what], expected[what], what)
    by_segment = hg.theory.expected_segments(scenario)
    for name, rows in segments.groupby("name", sort=False):
        assert_within_4_se(rows["revenue"], by_segment[name]["revenue"], f"{name} revenue")
    assert sum(s["revenue"] for s in by_segment.values()) == pytest.approx(expected["revenue"])


def test_theory_days_add_up_to_its_totals():
    scenario = hg.load_scenario("b2b_segments")
    days = math.ceil(scenario.horizon_days)
    daily = hg.theory.expected_daily(scenario, days)
    expected = hg.theory.expected_outcome(scenario)
    assert float(np.sum(daily["buyers"])) == pytest.approx(expected["buyers"])
    assert float(np.sum(daily["revenue"])) == pytest.approx(expected["revenue"])


def test_the_budget_pages_name_the_account_management_line():
    from hourglass.i18n import language
    from hourglass.plots.budgets import line_names

    scenario = hg.load_scenario("key_accounts")
    assert line_names(scenario) == {"ads": "Ads", "expand": "Account management"}
    with language("ru"):
        assert line_names(scenario, "ru")["expand"] == "Работа с клиентами"  # noqa: RUF001


def test_the_marketer_ranks_events_first_for_the_next_money():
    """Theory's ranking of the next 1000 a month on b2b_segments, which follows the mid-market.

    Theory charged every segment the scenario's own money and ranked search ads far ahead
    (141,000 against 49,000 profit a year). Simulated on 24 paired replications, events
    bring 11,000 (-37,000 to 60,000) more profit over the horizon than search ads; theory
    says 24,500: the same side, inside the interval.
    """
    from hourglass.experiments.next_money import ranked_lines

    assert list(ranked_lines(hg.load_scenario("b2b_segments"))) == ["events", "search_ads"]
