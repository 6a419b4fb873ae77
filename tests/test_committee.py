"""B2B committee mode: the buying centre's answers against closed forms, and its limit."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hourglass import load_scenario, parse_scenario, replicate, simulate
from hourglass.analysis.deals import (
    CHANNEL_COLUMNS,
    DEAL_COLUMNS,
    channel_table,
    deal_table,
    role_table,
)
from hourglass.cli import app
from hourglass.theory import committee_days, committee_pass, expected_entries
from tests.helpers import ROOT, make_scenario

ROLES = {
    "gatekeeper": {"approval": 0.7, "weight": 0.8, "delay": {"exponential": {"mean_days": 3}}},
    "expert": {
        "people": 2.5,
        "approval": 0.85,
        "weight": 0.6,
        "delay": {"gamma": {"mean_days": 4, "cv": 0.5}},
    },
    "big_boss": {"approval": 0.8, "delay": {"exponential": {"mean_days": 6}}},
}
ORDERS = {"default": ["gatekeeper", "expert", "big_boss"], "referral": ["big_boss", "expert"]}
HORIZON = 400.0
SETTLED = 200.0
"""Deals that reached the committee this long before the horizon are all decided (the
committee takes about 20 days on average), so censoring does not bias the checks."""


def _two_channel_scenario():
    """Cold ads deals ask everyone; organic deals go straight to the big boss."""
    return make_scenario(
        horizon_days=HORIZON,
        channels={
            "paid": {"ads": {"budget_per_month": 3652.5, "cost_per_prospect": 1.0}},
            "organic": {"prospects_per_day": 30.0},
        },
        committee={"roles": ROLES, "order": {**ORDERS, "organic": ["big_boss"]}},
    )


@pytest.fixture(scope="module")
def deals():
    scenario = _two_channel_scenario()
    table = deal_table(simulate(scenario, seed=3))
    return scenario, table[table["entered"] < HORIZON - SETTLED]


def test_a_committee_of_one_role_that_always_agrees_gives_the_plain_funnel():
    plain = load_scenario(ROOT / "scenarios" / "b2b_long_cycle.yaml")
    data = plain.to_dict()
    data["committee"] = {
        "stage": "try",
        "roles": {"user": {"approval": 1.0}},
        "order": {"default": ["user"]},
    }
    with_committee = plain.model_validate(data)
    a, b = simulate(plain, seed=5).log, simulate(with_committee, seed=5).log
    for table in ("prospects", "visits", "purchases", "moves", "contacts"):
        for column, values in getattr(a, table).items():
            np.testing.assert_array_equal(values, getattr(b, table)[column], err_msg=table)
    at_try = b.visits["stage"] == 3
    assert len(b.answers["deal"]) == (b.visits["outcome"][at_try] == 0).sum() > 100


@pytest.mark.parametrize("channel", ["ads", "organic"])
def test_win_rate_and_cycle_by_channel_match_the_closed_forms(deals, channel: str):
    scenario, table = deals
    mine = table[table["channel"] == channel]
    assert (mine["outcome"] != "open").all()
    won = mine["outcome"] == "won"
    p, n = committee_pass(scenario, channel), len(mine)
    assert abs(won.mean() - p) < 4 * math.sqrt(p * (1 - p) / n), (won.mean(), p, n)
    days = (mine["closed"] - mine["entered"])[won]
    expected = committee_days(scenario, channel)
    assert abs(days.mean() - expected) < 4 * days.std() / math.sqrt(len(days)), (
        days.mean(),
        expected,
    )


def test_each_role_lets_through_its_closed_form_share(deals):
    table = deals[1]
    ads = table[table["channel"] == "ads"]
    assert set(ads["ended_by"]) <= {"", "gatekeeper", "expert", "big_boss"}
    reached = len(ads)
    for role in ORDERS["default"]:
        spec = ROLES[role]
        s = 1.0 - (1.0 - spec["approval"]) * spec.get("weight", 1.0)
        m = spec.get("people", 1.0) - 1.0
        through = s * math.exp(-m * (1.0 - s))
        ended = int((ads["ended_by"] == role).sum())
        share = 1.0 - ended / reached
        assert abs(share - through) < 4 * math.sqrt(through * (1 - through) / reached), role
        reached -= ended


def test_role_table_counts_answers_and_people():
    scenario = _two_channel_scenario()
    run = simulate(scenario, seed=4)
    roles = role_table(run).set_index("role")
    answers = run.log.answers
    assert roles["asked"].sum() == len(answers["deal"])
    assert roles["agreed"].sum() + roles["overruled"].sum() + roles["ended"].sum() == len(
        answers["deal"]
    )
    assert roles["share_of_ended"].sum() == pytest.approx(1.0)
    # experts: 1 + Poisson(m) people per deal that reaches them, asked until one ends it;
    # each lets it go on with s, so E[asked] = (1 - E[s^n]) / (1 - s), E[s^n] = s e^(-m(1-s))
    expert = ROLES["expert"]
    s = 1.0 - (1.0 - expert["approval"]) * expert["weight"]
    m = expert["people"] - 1.0
    expected = (1.0 - s * math.exp(-m * (1.0 - s))) / (1.0 - s)
    settled = deal_table(run)
    settled = settled["deal"][settled["entered"] < HORIZON - SETTLED]
    code = run.log.roles.index("expert")
    mine = (answers["role"] == code) & np.isin(answers["deal"], settled)
    per_deal = np.unique(answers["deal"][mine], return_counts=True)[1]
    assert roles.loc["expert", "asked"] / roles.loc["expert", "deals_reached"] > 1.0
    sem = per_deal.std(ddof=1) / math.sqrt(len(per_deal))
    assert abs(per_deal.mean() - expected) < 4 * sem, (per_deal.mean(), expected)
    table = deal_table(run)
    assert (table["people_asked"][table["channel"] == "organic"] <= 1).all()


def test_seller_work_lifts_the_roles_it_reaches():
    roles = {"expert": {"approval": 0.5, "reached_by": {"design": 0.3}}}
    base = {
        "committee": {"roles": roles, "order": {"default": ["expert"]}},
        "horizon_days": 200.0,
    }
    worked = make_scenario(**base, sales={"sellers": 10_000, "stages": ["design"]})
    p = committee_pass(worked, "organic")
    assert p == pytest.approx(0.8)
    table = deal_table(simulate(worked, seed=6))
    won = (table["outcome"] == "won").mean()
    assert abs(won - p) < 4 * math.sqrt(p * (1 - p) / len(table))


def test_the_expectation_counts_the_committee(deals):
    scenario, table = deals
    p, n = expected_entries(scenario, 1.0, 0.0)["buyers"], len(table)
    won = (table["outcome"] == "won").mean()
    assert abs(won - p) < 4 * math.sqrt(p * (1 - p) / n), (won, p)


def test_channel_table_reports_win_rates_with_intervals():
    scenario = _two_channel_scenario()
    table = channel_table(deal_table(simulate(scenario, seed=3))).set_index("channel")
    assert set(table.index) == {"ads", "organic"}
    for channel in table.index:
        row = table.loc[channel]
        assert row["win_rate_low"] < row["win_rate"] < row["win_rate_high"]
        assert row["deals"] == row["won"] + row["lost"] + row["open"]
    # the big boss alone decides faster and more often than the whole committee
    assert table.loc["organic", "win_rate"] > table.loc["ads", "win_rate_high"]
    assert table.loc["organic", "cycle_mean_days"] < table.loc["ads", "cycle_mean_days"]


def test_deal_table_refuses_a_run_without_a_committee():
    with pytest.raises(ValueError, match="has no committee"):
        deal_table(simulate(make_scenario(), seed=1))


def test_cli_reports_the_buying_centre_and_channels():
    path = ROOT / "scenarios" / "b2b_committee.yaml"
    result = CliRunner().invoke(app, ["run", str(path), "--json", "--backend", "serial"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    roles = {r["role"]: r for r in doc["committee"]["roles"]}
    assert list(roles) == list(load_scenario(path).committee.roles)
    ended = sum(r["ended"] for r in roles.values())
    refused = sum(
        v for k, v in doc["stages"][4]["lost_by_reason"].items() if k.startswith("refused_by_")
    )
    assert ended == refused > 0  # every deal a role ended is a loss at Buy with its reason
    channels = {c["channel"] for c in doc["committee"]["channels"]}
    assert channels == {"search_ads", "trade_shows", "organic", "referral"}
    check = CliRunner().invoke(app, ["check", str(path)])
    assert "a committee of 7 roles at buy" in check.stdout
    text = CliRunner().invoke(app, ["run", str(path), "--backend", "serial"])
    assert "Buying centre at buy" in text.stdout and "Deals by channel" in text.stdout


def test_a_change_to_one_role_leaves_other_deals_answers_alone():
    """Common random numbers: each deal's answers come from its own luck.

    So asking the purchaser differently changes nothing for trade-show deals, which never meet the
    purchaser (no sellers or referrals here to couple one deal to another).
    """
    data = load_scenario(ROOT / "scenarios" / "b2b_committee.yaml").to_dict()
    for key in ("referral", "sales"):
        del data[key]
    for role in data["committee"]["roles"].values():
        role.pop("reached_by", None)
    del data["committee"]["roles"]["guru"], data["committee"]["order"]["referral"]
    scenario = parse_scenario(data)
    easier = scenario.with_overrides({"committee.roles.purchaser.approval": 0.95})
    a = deal_table(simulate(scenario, seed=2)).set_index("deal")
    b = deal_table(simulate(easier, seed=2)).set_index("deal")
    shows = a.index[a["channel"] == "trade_shows"]
    assert len(shows) > 20
    pd.testing.assert_frame_equal(a.loc[shows], b.loc[shows])
    ads = a.index[a["channel"] == "search_ads"]
    assert (a.loc[ads, "outcome"] == "won").sum() < (b.loc[ads, "outcome"] == "won").sum()


def test_replications_pool_the_roles_and_refuse_a_scenario_without_a_committee():
    scenario = _two_channel_scenario().with_overrides({"horizon_days": 60.0})
    result = replicate(scenario, reps=2, seed=1, backend="serial")
    roles = result.role_summary().set_index("role")
    per_rep = result.roles.groupby("role")["ended"].sum() / 2
    assert roles["ended"].to_dict() == pytest.approx(per_rep.to_dict())
    assert roles["share_of_ended"].sum() == pytest.approx(1.0)
    assert list(result.channel_summary().columns) == list(CHANNEL_COLUMNS)
    empty = channel_table(pd.DataFrame(columns=DEAL_COLUMNS))
    assert empty.empty and list(empty.columns) == list(CHANNEL_COLUMNS)
    plain = replicate(make_scenario(), reps=1, seed=1, backend="serial")
    with pytest.raises(ValueError, match="has no committee"):
        plain.role_summary()
