"""Honest calibration: censoring-aware source tests, duration intervals, neutral notes."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from hourglass import calibrate
from hourglass.calibration.sources import difference_p, visits_fit
from hourglass.experiments.comparison import compare_runs
from hourglass.i18n import language
from hourglass.stages import FUNNEL
from tests.helpers import run_cli

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

    Over 300 exports the test calls them different in about 5% (6% over 2,000); Pearson's
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
