"""Honest calibration: censoring-aware source tests, duration intervals, neutral notes."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from hourglass import calibrate
from hourglass.calibration import read_transactions
from hourglass.calibration.sources import difference_p, visits_fit
from hourglass.config.scenario import parse_scenario
from hourglass.experiments.comparison import compare_runs
from hourglass.forecasting import forecast
from hourglass.i18n import language
from hourglass.stages import DAYS_PER_MONTH, FUNNEL
from tests.helpers import repeat_buying_run, run_cli, varied_spend_transactions

UNTIL = 365.0
"""Days the synthetic exports cover."""


def _stage_visits(rng: np.random.Generator, p: float, n: int, first: float) -> pd.DataFrame:
    """`n` visits to a stage entering from day `first` on, passing with probability `p`.

    Passing takes 40 days on average and losing 8, so the visits still open at the end are
    mostly future passes: leaving them out reads the pass probability low, the more so the
    later a source's visits came.
    """
    entered = rng.uniform(first, UNTIL, n)
    passed = rng.random(n) < p
    left = entered + np.where(passed, rng.exponential(40.0, n), rng.exponential(8.0, n))
    is_open = left > UNTIL
    return pd.DataFrame(
        {
            "status": np.where(is_open, "open", np.where(passed, "passed", "lost")),
            "entered": entered,
            "left": np.where(is_open, np.nan, left),
        }
    )


def _detected(p_early: float, p_recent: float, exports: int, seed: int) -> float:
    """The share of exports where the test tells a source of a year from one of 150 days."""
    rng = np.random.default_rng(seed)
    found = 0
    for _ in range(exports):
        early = visits_fit(_stage_visits(rng, p_early, 300, 0.0), UNTIL, rng)
        recent = visits_fit(_stage_visits(rng, p_recent, 300, UNTIL - 150.0), UNTIL, rng)
        found += difference_p([early, recent]) < 0.05
    return found / exports


@pytest.mark.slow
def test_sources_alike_are_told_apart_about_5_percent_of_the_time_despite_open_deals():
    """Both sources pass 0.7; the recent one has twice the open visits of the other.

    Over 300 exports the test calls them different in 7% (5.6% over 2,000); Pearson's
    chi-square on passed and lost visits, open ones left out, did in 15%.
    """
    assert 0.02 <= _detected(0.7, 0.7, exports=300, seed=11) <= 0.085


def test_sources_passing_0_80_and_0_61_are_told_apart_in_nearly_every_export():
    """Referred deals pass 0.80 and the others 0.61: found in at least 90% of 100 exports."""
    assert _detected(0.80, 0.61, exports=100, seed=12) >= 0.9


def _compared(**kpis: tuple[list[float], list[float]]) -> list[str]:
    """Sentences comparing two runs whose KPIs per replication are given (base, other)."""
    runs = {
        name: SimpleNamespace(
            seed=1, reps=4, kpis=pd.DataFrame({k: pair[i] for k, pair in kpis.items()})
        )
        for i, name in enumerate(("a", "b"))
    }
    return compare_runs(runs).sentences()


def test_a_kpi_neither_run_defines_says_neither_has_one():
    """A free channel's LTV:CAC is NaN in both runs; a CAC only one run has is NaN in one."""
    nan = [math.nan] * 4
    said = _compared(ltv_cac=(nan, nan), cac_referral=([15.0] * 4, nan))
    assert said == [
        "b: LTV:CAC cannot be compared with a (neither has one)",
        "b: CAC (referral) cannot be compared with a (one of them has none)",
    ]
    with language("ru"):
        said = _compared(ltv_cac=(nan, nan))
    assert said == ["b: отношение LTV:CAC — не сравнить с a (ни у одного из них нет значения)"]  # noqa: RUF001


def _few_referrals() -> str:
    """Twenty organic deals won by early January 2025; three referred deals open at know."""
    lines = ["deal_id,stage,entered_at,left_at,outcome,source"]
    for deal in range(20):
        for k, stage in enumerate(FUNNEL):
            lines.append(
                f"c{deal},{stage},2024-12-{10 + k} 09:{deal:02d},2024-12-{11 + k},won,organic"
            )
    lines += [f"r{deal},know,2025-02-0{1 + deal},,open,referral" for deal in range(3)]
    return "\n".join(lines) + "\n"


def test_not_estimated_is_stored_as_keys_and_read_in_the_reader_s_language(tmp_path):
    """Calibrated in Russian, the scenario keeps keys; check lists the gaps in each language."""
    with language("ru"):
        cal = calibrate(_few_referrals(), until="2025-03-02")
    written = cal.scenario.to_dict()["not_estimated"]
    assert {"part": "word_of_mouth", "why": "few_referrals", "count": 3, "least": 5} in written
    assert {"part": "repeat"} in written
    path = tmp_path / "calibrated.yaml"
    path.write_text(cal.scenario.to_yaml(), encoding="utf-8")
    english = run_cli(["--lang", "en", "check", str(path)])
    assert english.returncode == 0, english.stderr
    said = " ".join(english.stdout.split())
    assert (
        "not estimated from the data: word of mouth (only 3 referred deals; at least 5 needed)"
        in said
    )
    russian = run_cli(["--lang", "ru", "check", str(path)])
    said = " ".join(russian.stdout.split())
    assert "не оценено по данным: сарафанное радио (всего 3 сделки по рекомендациям" in said
    assert "not estimated" not in said


def _exponential_export(n: int = 40, open_: int = 5) -> str:
    """`n` deals leaving know after times at an exponential's quantiles (mean 3 days).

    Every other one is lost there, the rest pass to like for a day and are won; `open_`
    more are open at know since 2025-03-01; the period ends on 2025-03-11.
    """
    start = pd.Timestamp("2025-01-01")
    days = -np.log(1.0 - (np.arange(n) + 0.5) / n) * 3.0
    lines = ["deal_id,stage,entered_at,left_at,outcome"]
    for k, d in enumerate(days):
        entered = start + pd.Timedelta(days=k)
        left, done = (entered + pd.Timedelta(days=float(d) + extra) for extra in (0, 1))
        outcome = "won" if k % 2 else "lost"
        lines.append(f"d{k},know,{entered:%Y-%m-%d %H:%M:%S},{left:%Y-%m-%d %H:%M:%S},{outcome}")
        if k % 2:
            lines.append(f"d{k},like,{left:%Y-%m-%d %H:%M:%S},{done:%Y-%m-%d %H:%M:%S},won")
    lines += [f"o{k},know,2025-03-01,,open" for k in range(open_)]
    return "\n".join(lines) + "\n"


def test_the_written_time_in_stage_has_the_exponential_mean_s_interval():
    """An exponential mean's interval is exp(log(T / r) +- 1.96 / sqrt(r)), by hand.

    r = 40 times totalling T with the 5 open visits' 10 days each; the written scenario loads
    back with that interval, and its pass probability is written with the estimator's.
    """
    cal = calibrate(_exponential_export(), until="2025-03-11", seed=1)
    know = cal.scenario_data()["stages"]["know"]
    assert cal.stages[0].duration.family == "exponential"
    total = float(np.sum(-np.log(1.0 - (np.arange(40) + 0.5) / 40) * 3.0)) + 5 * 10.0
    mean, spread = total / 40, 1.959963984540054 / math.sqrt(40)
    written = know["duration"]["exponential"]["mean_days"]
    assert written["mean"] == pytest.approx(mean, rel=1e-5)
    assert written["ci"] == pytest.approx(
        [mean * math.exp(-spread), mean * math.exp(spread)], rel=1e-4
    )
    estimate = cal.stages[0].pass_prob
    assert know["pass_prob"] == {"mean": estimate.value, "ci": [estimate.low, estimate.high]}
    loaded = parse_scenario(cal.scenario.to_dict(), "calibrated")
    assert loaded.stages.know.duration.mean_interval.ci == pytest.approx(written["ci"])
    assert loaded.stages.know.pass_prob_interval.ci == (estimate.low, estimate.high)


def _funnel_export(deals: int = 150, seed: int = 4) -> str:
    """`deals` deals over 60 days, passing each stage at 0.6 after an exponential 2 days."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01")
    lines = ["deal_id,stage,entered_at,left_at,outcome"]
    for deal in range(deals):
        day, rows, outcome = float(rng.uniform(0, 60)), [], "won"
        for stage in FUNNEL:
            rows.append((stage, day, day + float(rng.exponential(2.0))))
            day = rows[-1][2]
            if rng.random() >= 0.6:
                outcome = "lost"
                break
        for stage, entered, left in rows:
            came, went = (start + pd.Timedelta(days=d) for d in (entered, left))
            lines.append(f"{deal},{stage},{came:%Y-%m-%d %H:%M},{went:%Y-%m-%d %H:%M},{outcome}")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_a_forecast_draws_the_calibrated_parameters_and_its_band_is_wider():
    """New customers over a year from a funnel fitted on 150 deals: the parameters' doubt.

    Each replication draws the pass probabilities and mean times from their intervals, so
    the spread of new customers is well above that of --fixed-parameters (noise only).
    """
    scenario = calibrate(_funnel_export(), until="2025-03-15", seed=1).scenario
    log = read_transactions(varied_spend_transactions(repeat_buying_run()))
    until = pd.Timestamp("2026-06-30")
    drawn = forecast(log, until, 12, scenario, reps=40, seed=3)
    fixed = forecast(log, until, 12, scenario, reps=40, seed=3, fixed_parameters=True)
    assert "parameters" in drawn.to_dict()["uncertainty"]
    spread = {
        name: result.totals["new_customers"].std(ddof=1)
        for name, result in (("drawn", drawn), ("fixed", fixed))
    }
    assert spread["drawn"] > 2.0 * spread["fixed"], spread


BUY = {"ann": 0.85, "bob": 0.62, "cat": 0.62}
"""Each seller's pass probability at buy; every other stage passes 0.8 for all."""
SHARE = {"ann": 0.5, "bob": 0.3, "cat": 0.2}
"""Each seller's share of the deals."""


def _seller_export(seed: int, deals: int = 600, buy: dict[str, float] = BUY) -> str:
    """Deals over a year dealt to sellers by SHARE; open ones where a stage outlasts it.

    Each seller passes buy at `buy`'s rate, every other stage at 0.8.
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01")
    lines = ["deal_id,stage,entered_at,left_at,outcome,seller"]
    for deal in range(deals):
        seller = str(rng.choice(list(SHARE), p=list(SHARE.values())))
        day, rows, outcome = float(rng.uniform(0, 365.0)), [], "won"
        for stage in FUNNEL:
            leave = day + float(rng.exponential(20.0))
            rows.append((stage, day, None if leave > 365.0 else leave))
            if leave > 365.0:
                outcome = "open"
                break
            if rng.random() >= (buy[seller] if stage == "buy" else 0.8):
                outcome = "lost"
                break
            day = leave
        for stage, entered, left in rows:
            went = "" if left is None else f"{start + pd.Timedelta(days=left):%Y-%m-%d %H:%M}"
            came = start + pd.Timedelta(days=entered)
            lines.append(f"{deal},{stage},{came:%Y-%m-%d %H:%M},{went},{outcome},{seller}")
    return "\n".join(lines) + "\n"


def test_a_seller_s_skill_interval_holds_the_team_rate_s_doubt_and_shares_are_reported():
    """Ann's skill at buy: her rate over the team's, from one joint bootstrap of the visits.

    Each replicate gives Ann's rate and the team's from the same weights (her visits are
    the team's too); the interval is the skill times exp(+-1.96 sd) of the replicates'
    log ratios. Each seller's share of the deals is reported with its interval, and the
    scenario routes leads by those shares.
    """
    cal = calibrate(_seller_export(5), until="2026-01-01", seed=5)
    doc = cal.to_dict()["sellers"]
    buy = next(s for s in cal.stages if s.stage == "buy")
    ann = next(s for s in cal.sellers if s.seller == "ann").stages["buy"]
    skill = ann.fit.pass_prob.value / buy.pass_prob.value
    spread = math.exp(1.959963984540054 * np.std(np.log(ann.skill_draws), ddof=1))
    assert doc["ann"]["stages"]["buy"]["skill"] == skill
    assert doc["ann"]["stages"]["buy"]["skill_ci"] == pytest.approx(
        [skill / spread, skill * spread]
    )
    assert abs(np.median(ann.skill_draws) / skill - 1) < 0.01
    for name, share in SHARE.items():
        low, high = doc[name]["deal_share_ci"]
        assert low < share < high, name
    assert cal.scenario.sales.routing == "weighted"
    written = {s.name: s.share for s in cal.scenario.sales.roles["sellers"].sellers}
    assert written == {name: doc[name]["deal_share"] for name in SHARE}
    team = next(g for g in cal.scenario.not_estimated if g.part == "team")
    assert team.shares == written
    assert "at random in their shares of the deals in the data: ann 5" in team.text()


@pytest.mark.slow
def test_seller_skill_intervals_hold_the_truth_95_percent_of_the_time():
    """Ann passes buy at 0.9, Bob and Cat at 0.4; 60 exports of 300 deals, 3 skills each.

    The truth is each rate over the team's at the true shares. The coverage's own
    binomial standard error over 180 intervals is 1.6 points; it must lie within 3 of them
    of 95%. Measured: 96.7% (mean width 0.61); the delta method at the observed share of
    the visits held 93.3% (width 0.49), and over 600 skills of exports like
    `_seller_export`'s 92.8% (width 0.29), against 94.3% (width 0.30) now.
    """
    buy = {"ann": 0.9, "bob": 0.4, "cat": 0.4}
    team = sum(SHARE[name] * buy[name] for name in SHARE)
    held = 0
    for seed in range(1000, 1060):
        doc = calibrate(_seller_export(seed, 300, buy), until="2026-01-01", seed=seed).to_dict()
        for name in SHARE:
            low, high = doc["sellers"][name]["stages"]["buy"]["skill_ci"]
            held += low < buy[name] / team < high
    coverage, se = held / 180, math.sqrt(0.95 * 0.05 / 180)
    assert abs(coverage - 0.95) < 3 * se, coverage


PASS = {"know": 0.5, "like": 0.6, "trust": 0.6, "try": 0.7, "buy": 0.8}
"""Each stage's pass probability for unreferred deals; referred ones pass know at 0.8."""
REFERRALS_PER_MONTH = 0.2
"""Referred deals each customer brings a month, from the purchase on."""


def _word_of_mouth_export(seed: int) -> str:
    """Organic deals, 3 a day for a year; each customer brings referred deals, which may buy.

    Every stage takes an exponential 5 days; referred deals pass know 1.6 times as often.
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01")
    arrivals = [(float(t), "organic") for t in rng.uniform(0, 365.0, rng.poisson(3 * 365))]
    lines = ["deal_id,stage,entered_at,left_at,outcome,source"]
    for deal, (day, source) in enumerate(arrivals):  # referred deals appended join the walk
        rows, outcome = [], "won"
        for stage in FUNNEL:
            leave = day + float(rng.exponential(5.0))
            rows.append((stage, day, None if leave > 365.0 else leave))
            if leave > 365.0:
                outcome = "open"
                break
            boost = 1.6 if stage == "know" and source == "referral" else 1.0
            if rng.random() >= PASS[stage] * boost:
                outcome = "lost"
                break
            day = leave
        if outcome == "won":
            brought = rng.poisson(REFERRALS_PER_MONTH * (365.0 - day) / DAYS_PER_MONTH)
            arrivals += [(float(t), "referral") for t in rng.uniform(day, 365.0, brought)]
        for stage, entered, left in rows:
            went = "" if left is None else f"{start + pd.Timedelta(days=left):%Y-%m-%d %H:%M}"
            came = start + pd.Timedelta(days=entered)
            lines.append(f"{deal},{stage},{came:%Y-%m-%d %H:%M},{went},{outcome},{source}")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_the_boost_and_the_referral_rate_come_back_over_several_exports():
    """Over 8 exports: know's boost 1.6 and the rate 0.2 a customer-month within their intervals.

    Each interval is a 95% one: over 60 exports the rate's held the truth in all 60 and
    the boost's in 57; the stages with no boost were given one in 4 of 240 (Holm).
    """
    rate_held = boost_held = written = 0
    ratios = []
    for seed in range(8):
        doc = calibrate(_word_of_mouth_export(seed), until="2026-01-01", seed=seed).to_dict()
        fit = doc["referral"]
        low, high = fit["per_customer_month_ci"]
        rate_held += low < REFERRALS_PER_MONTH < high
        low, high = fit["boost"]["know"]["ratio_ci"]
        boost_held += low < 1.6 < high
        ratios.append(fit["boost"]["know"]["ratio"])
        written += sum(b["written"] for stage, b in fit["boost"].items() if stage != "know")
    assert rate_held >= 7 and boost_held >= 6
    assert abs(np.mean(ratios) - 1.6) < 0.1
    assert written <= 2
