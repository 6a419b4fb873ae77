"""Replications, backends, precision targets, paired comparisons and resumable sweeps."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from hourglass import ScenarioError, compare, load_scenario, replicate, sweep
from hourglass.experiments import ReplicationError, compare_runs, half_widths, parse_vary
from hourglass.experiments import replication as exp
from hourglass.experiments.comparison import paired_difference
from tests.helpers import ROOT, make_scenario

COMPARED = {"mean", "delta", "delta_pct", "ci_low", "ci_high"}
"""The numbers a comparison has always given per KPI (callers rely on them)."""


def _small(**changes):
    """A small business with sellers, a finite market and word of mouth."""
    base = {
        "horizon_days": 60.0,
        "market": {"size": 20_000},
        "channels": {
            "organic": {"prospects_per_day": 40.0},
            "paid": {"ads": {"budget_per_month": 3000.0, "cost_per_prospect": 5.0}},
        },
        "stages": {
            n: {"pass_prob": p, "duration": {"exponential": {"mean_days": 1.0}}}
            for n, p in zip(
                ("know", "like", "trust", "try", "buy"), (0.6, 0.6, 0.6, 0.6, 0.7), strict=True
            )
        },
        "sales": {
            "sellers": 3,
            "stages": ["define"],
            "patience": {"exponential": {"mean_days": 1.0}},
        },
        "after_sale": {
            "order_value": {"gamma": {"mean": 80.0, "cv": 0.5}},
            "repeat": {"simple": {"purchases_per_month": 1.0, "dropout_prob": 0.2}},
            "loyalty": {"transitions_per_month": {"one_time": {"fan": 1.0}}},
        },
        "referral": {"contacts_per_month": {"fan": 4.0}, "win_prob": 0.3},
    }
    base.update(changes)
    return make_scenario(**base)


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.kpis, b.kpis)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    pd.testing.assert_frame_equal(a.stages, b.stages)


def test_serial_and_process_backends_agree_for_any_worker_count():
    scenario = _small()
    serial = replicate(scenario, 5, seed=3, backend="serial")
    _same(serial, replicate(scenario, 5, seed=3, backend="processes", workers=2))
    _same(serial, replicate(scenario, 5, seed=3, backend="processes", workers=1))
    assert serial.kpis["buyers"].nunique() > 1


@pytest.mark.slow
def test_dask_backend_agrees_with_serial():
    scenario = _small()
    serial = replicate(scenario, 4, seed=3, backend="serial")
    _same(serial, replicate(scenario, 4, seed=3, backend="dask", workers=1))
    _same(serial, replicate(scenario, 4, seed=3, backend="dask", workers=2))


def test_an_unreachable_scheduler_is_a_clear_error():
    said = "--scheduler tcp://127.0.0.1:9: cannot reach the Dask scheduler there"
    with pytest.raises(exp.BackendError, match=re.escape(said)):
        replicate(_small(), 2, seed=1, backend="dask", scheduler="tcp://127.0.0.1:9")


def test_replications_are_the_seed_children_whatever_their_number():
    scenario = _small()
    few, more = replicate(scenario, 2, 8, "serial"), replicate(scenario, 4, 8, "serial")
    pd.testing.assert_frame_equal(few.kpis, more.kpis.iloc[:2])


@pytest.mark.slow  # 160 replications
def test_confidence_intervals_shrink_as_one_over_root_reps():
    """log(hw_10 / hw_160) is log 4 give or take the sampling error of two sample SDs."""
    result = replicate(_small(horizon_days=30.0), 160, seed=5, backend="processes")
    buyers = result.kpis["buyers"].to_numpy(float)
    hw = [1.96 * buyers[:n].std(ddof=1) / math.sqrt(n) for n in (10, 160)]
    sd_log = math.sqrt(1 / (2 * 9) + 1 / (2 * 159))  # delta-method SE of log sample SDs
    assert abs(math.log(hw[0] / hw[1]) - math.log(4.0)) < 4 * sd_log


def test_precision_target_adds_replications_until_met():
    """Rounds of replications stop once every main KPI's 95% half-width is within the target.

    Each round runs as many replications as those so far say the target needs.
    """
    precision = 0.05
    result = replicate(
        _small(horizon_days=30.0), 3, seed=2, backend="processes", precision=precision, max_reps=400
    )
    assert 3 < result.reps < 400
    widths = half_widths(result)
    assert all(w <= precision for w in widths.values()), widths
    # an early round's estimate from few replications may ask for more than the last
    # needs, but never for more than its own replications said
    kpis = result.kpis[list(exp.MAIN_KPIS)]
    target = 3
    while True:
        so_far = kpis.iloc[:target]
        ratio = 1.96 * so_far.std(ddof=1) / (precision * so_far.mean().abs())
        needed = max(target, math.ceil((ratio**2).max()))
        if needed == target:
            break
        target = max(needed, target + 2)
    assert result.reps == target


def test_bands_are_ordered():
    bands = replicate(_small(), 6, seed=4, backend="serial").daily_bands()
    assert {"series", "day", "mean", "p5", "p50", "p95"} <= set(bands.columns)
    assert (bands["p5"] <= bands["p50"]).all() and (bands["p50"] <= bands["p95"]).all()
    assert bands["series"].nunique() > 10


def test_a_failing_replication_is_retried_once(monkeypatch):
    real, calls = exp.run_replication, []

    def flaky(scenario, seed, rep):
        calls.append(rep)
        if rep == 1 and calls.count(1) == 1:
            raise RuntimeError("transient")
        return real(scenario, seed, rep)

    monkeypatch.setattr(exp, "run_replication", flaky)
    result = replicate(_small(), 3, seed=1, backend="serial")
    assert result.reps == 3 and calls.count(1) == 2


def test_a_replication_failing_twice_is_reported(monkeypatch):
    def broken(scenario, seed, rep):
        raise RuntimeError(f"boom {rep}")

    monkeypatch.setattr(exp, "run_replication", broken)
    with pytest.raises(ReplicationError, match="replication 0: RuntimeError: boom 0"):
        replicate(_small(), 2, seed=1, backend="serial")


def test_a_killed_worker_is_retried_on_a_fresh_pool(monkeypatch, tmp_path):
    real, marker = exp.run_replication, tmp_path / "killed"

    def dies_once(scenario, seed, rep):
        if rep == 2 and not marker.exists():
            marker.touch()
            os._exit(1)
        return real(scenario, seed, rep)

    monkeypatch.setattr(exp, "run_replication", dies_once)
    result = replicate(_small(), 4, seed=1, backend="processes", workers=2)
    _same(result, replicate(_small(), 4, seed=1, backend="serial"))


def test_common_random_numbers_narrow_the_paired_interval():
    """A small change: paired on the same seeds its CI is far narrower than on independent ones."""
    base = _small()
    more = base.with_overrides({"name": "more_ads", "channels.paid.ads.budget_per_month": 3300})
    a = replicate(base, 12, seed=1, backend="processes")
    same = replicate(more, 12, seed=1, backend="processes")
    other = replicate(more, 12, seed=999, backend="processes")
    widths = {}
    for kpi in ("prospects", "buyers", "revenue"):
        base_kpi = a.kpis[kpi].to_numpy(float)
        _, lo1, hi1 = paired_difference(base_kpi, same.kpis[kpi].to_numpy(float))
        _, lo2, hi2 = paired_difference(base_kpi, other.kpis[kpi].to_numpy(float))
        widths[kpi] = (hi1 - lo1) / (hi2 - lo2)
    assert all(ratio < 1.0 for ratio in widths.values()), widths
    assert widths["prospects"] < 0.5, widths  # the ads change touches arrivals first


def test_compare_reports_deltas_and_sentences():
    base = _small()
    none = base.with_overrides(
        {"name": "no_word_of_mouth", "referral.contacts_per_month": {"fan": 0.0}}
    )
    result = compare([base, none], reps=6, seed=2, backend="processes")
    doc = result.to_dict()
    assert set(doc) == {"baseline", "reps", "seed", "scenarios"}
    row = doc["scenarios"]["no_word_of_mouth"]["kpis"]["referred_prospects"]
    assert set(row) == {*COMPARED, "base", "clear", "improvement"}
    assert row["mean"] == 0 and row["delta_pct"] == pytest.approx(-100.0)
    assert row["base"] == pytest.approx(row["mean"] - row["delta"])
    assert row["ci_low"] <= row["delta"] <= row["ci_high"]
    assert row["clear"] is True and row["improvement"] is False
    sentences = result.sentences()
    assert any(
        s.startswith("no_word_of_mouth has 100.0% fewer referred prospects than test [")
        and s.endswith("], worse")
        for s in sentences
    ), sentences
    with pytest.raises(ValueError, match="names must differ"):
        compare([base, base], reps=2, seed=1, backend="serial")


def test_identical_scenarios_show_no_difference():
    base = _small()
    twin = base.with_overrides({"name": "twin"})
    result = compare([base, twin], reps=4, seed=1, backend="serial")
    delta, defined = result.table["delta"], result.table["base"].notna()
    assert (delta[defined] == 0).all() and delta[~defined].isna().all()  # free channels' LTV:CAC
    assert not result.table["clear"].any() and result.table["improvement"].isna().all()
    said = result.sentences()
    assert [("cannot be compared" in s) for s in said] == (~defined).tolist()
    assert all("no clear difference" in s for s, ok in zip(said, defined, strict=True) if ok)


def test_vary_specs_parse():
    assert parse_vary("sales.sellers=5:20:5").values == (5, 10, 15, 20)
    assert parse_vary("stages.know.pass_prob=0.1:0.3:0.1").values == (0.1, 0.2, 0.3)
    assert parse_vary("labels=en,ru").values == ("en", "ru")
    for bad, words in (
        ("sales.sellers=5:1:1", "an empty range"),
        ("sales.sellers", "write it"),
        ("sales.sellers=a:b:c", "must be numbers"),
    ):
        with pytest.raises(ScenarioError, match=words):
            parse_vary(bad)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_an_interrupted_sweep_resumes_to_the_same_result(tmp_path):
    scenario = _small(horizon_days=20.0)
    varies = [parse_vary("sales.sellers=1:3:1"), parse_vary("referral.win_prob=0.1,0.5")]
    whole = sweep(scenario, varies, reps=2, seed=4, backend="serial", out=tmp_path / "whole")

    def kill_in_third_point(done: int, total: int) -> None:
        if done == 5:  # the first replication of the third point has just finished
            raise KeyboardInterrupt

    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        sweep(
            scenario,
            varies,
            reps=2,
            seed=4,
            backend="serial",
            out=cut,
            progress=kill_in_third_point,
        )
    assert _files(cut) == [
        ".lock",
        "manifest.json",
        "points/point-00000.parquet",
        "points/point-00001.parquet",
    ]
    with pytest.raises(ScenarioError, match="add --resume"):
        sweep(scenario, varies, reps=2, seed=4, backend="serial", out=cut)
    with pytest.raises(ScenarioError, match="cannot resume it"):
        sweep(scenario, varies, reps=3, seed=4, backend="serial", out=cut, resume=True)
    ran: list[int] = []
    resumed = sweep(
        scenario,
        varies,
        reps=2,
        seed=4,
        backend="serial",
        out=cut,
        resume=True,
        progress=lambda d, t: ran.append(d),
    )
    pd.testing.assert_frame_equal(resumed, whole)
    pd.testing.assert_frame_equal(pd.read_parquet(cut / "sweep.parquet"), whole)
    assert len(_files(cut)) == 3 + 6
    assert len(ran) == 2 * 4 + 6, "only the four missing points were simulated"
    assert set(whole["sales.sellers"]) == {1, 2, 3}
    assert len(whole) == 6 * whole["kpi"].nunique()
    assert np.isfinite(whole.loc[whole["kpi"] == "buyers", "p50"]).all()


def test_compare_runs_pairs_what_was_already_run():
    """compare_runs on replications run apart gives compare's table; mismatches are refused."""
    base = make_scenario(horizon_days=20.0)
    other = base.with_overrides({"name": "other", "stages.know.pass_prob": 0.5})
    together = compare([base, other], reps=3, seed=4, backend="serial")
    runs = {s.name: replicate(s, 3, 4, backend="serial") for s in (base, other)}
    apart = compare_runs(runs)
    pd.testing.assert_frame_equal(apart.table, together.table)
    with pytest.raises(ValueError, match="same both"):
        compare_runs({"test": runs["test"], "other": replicate(other, 3, 5, backend="serial")})


def _compared(**kpis: tuple[list[float], list[float]]) -> list[str]:
    """Sentences comparing two runs whose KPIs per replication are given (base, other)."""
    runs = {
        name: SimpleNamespace(
            seed=1, reps=4, kpis=pd.DataFrame({k: pair[i] for k, pair in kpis.items()})
        )
        for i, name in enumerate(("a", "b"))
    }
    return compare_runs(runs).sentences()


def test_shares_change_in_points_and_counts_in_percent():
    """ROI 0.50 -> 0.55 reads as 5.0 points; buyers 200 -> 210 as 5.0%.

    CAC and payback, where lower is better, say so; the K-factor (a rate) changes in its own units.
    """
    roi = np.array([0.50, 0.52, 0.48, 0.50])
    buyers = np.array([200.0, 210.0, 190.0, 200.0])
    k = np.array([0.136, 0.140, 0.132, 0.136])
    said = _compared(
        roi=(roi, roi + np.array([0.049, 0.051, 0.050, 0.050])),
        buyers=(buyers, buyers * 1.05),
        cac=(buyers, buyers * 0.88),
        payback_days=(buyers, buyers * 1.15),
        k_factor=(k, k + np.array([0.014, 0.015, 0.013, 0.014])),
    )
    assert said == [
        "b: ROI is 5.0 points higher than a [4.9, 5.1], better",
        "b has 5.0% more buyers than a [4.7%, 5.3%], better",
        "b has 12.0% lower CAC than a [11.2%, 12.8%], better",
        "b has 15.0% longer payback than a [14.0%, 16.0%], worse",
        "b: K-factor is 0.014 higher than a [0.013, 0.015], better",
    ]


def test_unclear_missing_and_directionless_changes():
    """A change whose interval holds zero is no clear difference, in the KPI's units.

    A KPI one run lacks cannot be compared; utilisation has no better direction; a count from a
    zero baseline changes in its own units.
    """
    flat = [0.50, 0.52, 0.48, 0.50]
    said = _compared(
        referral_share=(flat, [0.51, 0.51, 0.49, 0.51]),
        cac_referral=([15.0] * 4, [math.nan] * 4),
        seller_utilization=(flat, [0.60, 0.63, 0.57, 0.60]),
        referred_buyers=([0.0] * 4, [11.0, 12.0, 13.0, 12.0]),
    )
    assert said == [
        "b: no clear difference in referral share from a (+0.5 points [-1.1, +2.1])",
        "b: CAC (referral) cannot be compared with a (one of them has none)",
        "b: seller utilisation is 10.0 points higher than a [8.7, 11.3]",
        "b has 12 more referred buyers than a [11, 13], better",
    ]


def test_scenarios_with_different_paid_channels_compare_on_what_they_share():
    short = {"horizon_days": 20.0}
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml").with_overrides(short)
    other = load_scenario(ROOT / "scenarios" / "social_network.yaml").with_overrides(short)
    assert "cac_ads" in replicate(base, 1, backend="serial").kpis
    table = compare([base, other], reps=2, backend="serial").table
    assert "cac_ads" not in set(table["kpi"])
    assert {"buyers", "revenue", "profit"} <= set(table["kpi"])
