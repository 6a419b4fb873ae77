"""Weighted routing: each named seller's share of the leads, checked and kept by the engine."""

from __future__ import annotations

import math

import pytest
import yaml

from hourglass import calibrate, simulate
from hourglass.analysis.sellers import seller_report, seller_table
from hourglass.calibration.export import export_deals
from hourglass.config.scenario import parse_scenario
from tests.helpers import exits_2_saying

SHARES = {"Anna": 0.5, "Boris": 0.3, "Clara": 0.2}
"""Each seller's share of the leads."""


def _scenario(routing: str = "weighted", sellers: list[dict] | None = None, **role) -> dict:
    """Leads at 60 a day for a year reach three account executives at Try, with room to spare."""
    fast = {"pass_prob": 1.0, "duration": {"exponential": {"mean_days": 1.0}}}
    named = [{"name": n, "share": s} for n, s in SHARES.items()] if sellers is None else sellers
    return {
        "name": "weighted_team",
        "horizon_days": 365,
        "channels": {"organic": {"prospects_per_day": 60}},
        "stages": {
            "know": fast,
            "like": fast,
            "trust": fast,
            "try": {"pass_prob": 0.7, "duration": {"exponential": {"mean_days": 2.0}}},
            "buy": {"pass_prob": 0.5, "duration": {"exponential": {"mean_days": 2.0}}},
        },
        "after_sale": {"order_value": {"fixed": {"value": 100}}},
        "sales": {
            "routing": routing,
            "roles": {
                "ae": {
                    "headcount": 3,
                    "leads_per_seller": 1000,
                    "stages": ["define"],
                    "sellers": named,
                    **role,
                }
            },
        },
    }


def _leads(seed: int, days: int = 365) -> dict[str, int]:
    """Leads each seller worked in one run of the scenario over `days`."""
    scenario = {**_scenario(), "horizon_days": days}
    run = simulate(parse_scenario(scenario, source="test"), seed)
    table = seller_table(seller_report(run))
    return {str(name): int(n) for name, n in zip(table["name"], table["leads"], strict=True)}


def test_sellers_get_their_shares_of_over_20_000_leads_within_4_standard_errors():
    """Shares 0.5, 0.3, 0.2: each seller's observed share is within 4 binomial SEs."""
    leads = _leads(1)
    total = sum(leads.values())
    assert total >= 20_000
    for name, share in SHARES.items():
        se = math.sqrt(share * (1 - share) / total)
        assert abs(leads[name] / total - share) < 4 * se, (name, leads)


def test_the_same_seed_routes_the_same_leads_and_another_seed_others():
    """Weighted routing draws from the run's own stream: seed 2 twice gives the same split."""
    assert _leads(2, days=30) == _leads(2, days=30)
    assert _leads(2, days=30) != _leads(3, days=30)


def test_a_calibrated_export_writes_the_shares_it_recovers_within_their_intervals():
    """Five leads a day for a year, exported and calibrated: weighted routing, by the data.

    Each seller's share of the deals holds the truth within its interval, and the scenario
    routes by the shares it reports.
    """
    scenario = _scenario()
    scenario["channels"]["organic"]["prospects_per_day"] = 5
    run = simulate(parse_scenario(scenario, source="test"), 4)
    cal = calibrate(export_deals(run).to_csv(index=False), seed=4)
    reported = cal.to_dict()["sellers"]
    sales = cal.scenario.sales
    assert sales.routing == "weighted"
    written = {s.name: s.share for s in sales.roles["sellers"].sellers}
    for name, share in SHARES.items():
        low, high = reported[name]["deal_share_ci"]
        assert low < share < high, (name, reported[name]["deal_share_ci"])
        assert written[name] == reported[name]["deal_share"]
    assert sum(written.values()) == pytest.approx(1.0)


def test_sellers_without_a_share_split_what_the_others_leave():
    """Anna 0.6 named; Boris and the unnamed third seller take 0.2 each."""
    scenario = _scenario(sellers=[{"name": "Anna", "share": 0.6}, {"name": "Boris"}])
    role = parse_scenario(scenario, source="test").sales.roles["ae"]
    assert role.shares() == pytest.approx([0.6, 0.2, 0.2])


def _write(tmp_path, scenario: dict) -> str:
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(scenario), encoding="utf-8")
    return str(path)


def test_a_negative_share_is_refused(tmp_path):
    sellers = [{"name": "Anna", "share": -0.1}, {"name": "Boris", "share": 0.5}]
    exits_2_saying(
        ["check", _write(tmp_path, _scenario(sellers=sellers))],
        "sales.roles.ae.sellers.0.share",
    )


def test_shares_adding_up_to_more_than_1_are_refused(tmp_path):
    sellers = [{"name": "Anna", "share": 0.7}, {"name": "Boris", "share": 0.5}]
    exits_2_saying(
        ["check", _write(tmp_path, _scenario(sellers=sellers))],
        "sales.roles.ae.sellers: the shares add up to 1.2; give each seller's part of 1",
    )


def test_every_seller_s_share_must_add_up_to_1(tmp_path):
    sellers = [{"name": n, "share": 0.2} for n in SHARES]
    exits_2_saying(
        ["check", _write(tmp_path, _scenario(sellers=sellers))],
        "every seller has a share and they add up to 0.6; they must add up to 1",
    )


def test_a_share_under_another_routing_is_refused(tmp_path):
    exits_2_saying(
        ["check", _write(tmp_path, _scenario(routing="round_robin"))],
        "sales: roles.ae.sellers.0.share: shares route leads only with sales.routing: "
        "weighted (it is round_robin)",
    )


def test_a_misspelt_routing_says_did_you_mean(tmp_path):
    exits_2_saying(
        ["check", _write(tmp_path, _scenario(routing="wieghted"))],
        "sales.routing: 'wieghted' is not one of first_free, round_robin, least_loaded, "
        "by_skill, weighted; did you mean 'weighted'?",
    )
