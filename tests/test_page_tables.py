"""Tables the dashboard shows, made by the library: theory gap, deal summary, calibration fits."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from hourglass import calibrate, simulate, theory
from hourglass.analysis import deal_summary, deal_table, kpis, stage_table, theory_gap
from hourglass.calibration import export_deals, repeat_fits, stage_fits
from hourglass.i18n import language
from hourglass.stages import FUNNEL, LABELS
from tests.helpers import ROOT, make_scenario, repeat_buying_run, varied_spend_transactions

PROBS = (0.6, 0.5, 0.7, 0.4, 0.8)


def test_a_straight_funnel_meets_its_expectation_within_the_noise():
    """Straight funnel: each stage's entries are binomial around the expectation (4 SDs).

    No sellers, no referrals, instant stages: a prospect reaches stage k with probability
    prod(p_i, i < k), independently of every other prospect.
    """
    scenario = make_scenario(
        stages={n: {"pass_prob": p} for n, p in zip(FUNNEL, PROBS, strict=True)}
    )
    run = simulate(scenario, 3)
    prospects = int(kpis(run)["outside_prospects"])
    gap = theory_gap(stage_table(run), theory.expected_entries(scenario, prospects, 0.0))
    assert list(gap["stage"]) == list(FUNNEL)
    assert gap.loc[0, "gap"] == 0.0 and gap.loc[0, "simulated"] == prospects
    reach = 1.0
    for row, p in zip(gap.itertuples(), PROBS, strict=True):
        sd = math.sqrt(prospects * reach * (1 - reach))
        assert abs(row.simulated - row.expected) <= 4 * sd + 1e-9
        assert row.gap == pytest.approx(row.simulated / row.expected - 1)
        reach *= p


def test_the_gap_is_missing_where_nothing_is_expected_or_entered():
    stages = pd.DataFrame({"stage": ["know", "like"], "entered": [100, 40]})
    gap = theory_gap(stages, {"know": 100.0, "like": 0.0, "trust": 20.0}).set_index("stage")
    assert gap.loc["know", "gap"] == 0.0
    assert math.isnan(gap.loc["like", "gap"])  # nothing expected
    assert math.isnan(gap.loc["trust", "simulated"]) and math.isnan(gap.loc["trust", "gap"])
    assert math.isnan(gap.loc["buy", "expected"])


def test_deal_summary_counts_decided_deals_and_won_cycles():
    deals = pd.DataFrame(
        {
            "outcome": ["won", "lost", "open", "won", "lost", "lost"],
            "cycle_days": [10.0, 3.0, 50.0, 30.0, 4.0, 5.0],
            "people_asked": [3, 1, 2, 4, 1, 1],
        }
    )
    summary = deal_summary(deals, runs=2)
    assert summary["deals_per_run"] == 3.0
    assert summary["win_rate"] == pytest.approx(2 / 5)  # the open deal is not decided
    assert summary["won_cycle_p50_days"] == 20.0
    assert summary["people_asked"] == 2.0
    empty = deal_summary(deals.iloc[:0])
    assert empty["deals_per_run"] == 0.0
    assert all(math.isnan(empty[k]) for k in ("win_rate", "won_cycle_p50_days", "people_asked"))


def test_deal_summary_agrees_with_the_channel_table():
    scenario = make_scenario(
        horizon_days=200.0,
        committee={
            "roles": {
                "gatekeeper": {"approval": 0.7, "delay": {"exponential": {"mean_days": 3}}},
                "big_boss": {"approval": 0.8, "delay": {"exponential": {"mean_days": 6}}},
            },
            "order": {"default": ["gatekeeper", "big_boss"]},
        },
    )
    deals = deal_table(simulate(scenario, 2))
    summary = deal_summary(deals)
    decided = deals[deals["outcome"] != "open"]
    assert summary["deals_per_run"] == len(deals) > 100
    assert summary["win_rate"] == (decided["outcome"] == "won").mean()
    assert 0.7 * 0.8 - 0.1 < summary["win_rate"] < 0.7 * 0.8 + 0.1


def test_stage_fits_read_one_row_per_stage_with_its_interval():
    cal = calibrate((ROOT / "tests" / "data" / "crm" / "hourglass.csv").read_text())
    table = stage_fits(cal).set_index("stage")
    assert list(table.index) == [LABELS["en"][stage] for stage in FUNNEL]
    for fit in cal.stages:
        row = table.loc[LABELS["en"][fit.stage]]
        assert row["pass probability"] == fit.pass_prob.value
        assert row["95% CI"] == f"{fit.pass_prob.low:.3f} to {fit.pass_prob.high:.3f}"
        assert (row["passed"], row["lost"], row["open"]) == (fit.passed, fit.lost, fit.open)
    assert repeat_fits(cal).empty and list(repeat_fits(cal).columns) == [
        "parameter",
        "value",
        "95% CI",
    ]


def test_repeat_fits_list_bgnbd_then_gamma_gamma():
    run = repeat_buying_run()
    tx = varied_spend_transactions(run)
    cal = calibrate(export_deals(run).to_csv(index=False), tx)
    table = repeat_fits(cal).set_index("parameter")
    assert list(table.index) == ["r", "alpha", "a", "b", "p", "q", "v"]
    assert table.loc["r", "value"] == cal.repeat.r.value
    assert table.loc["v", "95% CI"] == f"{cal.spend.v.low:.4g} to {cal.spend.v.high:.4g}"


def test_calibration_tables_read_in_russian():
    cal = calibrate((ROOT / "tests" / "data" / "crm" / "hourglass.csv").read_text())
    with language("ru"):
        table = stage_fits(cal)
    assert list(table.columns[:3]) == ["этап", "вероятность прохода", "95% ДИ"]
    assert table.iloc[0, 0] == LABELS["ru"]["know"]
    low, high = cal.stages[0].pass_prob.low, cal.stages[0].pass_prob.high
    comma = str.maketrans(".", ",")  # a Russian reader's decimal comma
    assert table.iloc[0, 2] == f"от {low:.3f} до {high:.3f}".translate(comma)
