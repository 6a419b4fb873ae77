"""A malformed mean time interval or `not_estimated` entry is refused, naming what is wrong."""

from __future__ import annotations

import pytest
import yaml

from hourglass.config.distributions import UncertainMean
from hourglass.i18n import language
from tests.helpers import ROOT, exits_2_saying, invoke_cli

KNOW = "stages.know.duration.exponential.mean_days"
"""Where the bad interval is written."""


def _write(tmp_path, mean_days=None, not_estimated=None) -> str:
    """The baseline scenario with Know's mean time or its `not_estimated` list replaced."""
    scenario = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text(encoding="utf-8"))
    if mean_days is not None:
        scenario["stages"]["know"]["duration"] = {"exponential": {"mean_days": mean_days}}
    if not_estimated is not None:
        scenario["not_estimated"] = not_estimated
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("mean_days", "said"),
    [
        ({"mean": 5, "ci": [7, 3]}, f"{KNOW}: ci: [7, 3] runs backwards; give the low end first"),
        ({"mean": 5, "ci": [6, 9]}, f"{KNOW}: ci: [6, 9] must hold the mean 5 strictly inside"),
        ({"mean": 5, "ci": [-1, 9]}, f"{KNOW}.ci: [-1, 9]: both ends are days, above 0; -1 is"),
        ({"mean": 5, "ci": [3]}, f"{KNOW}.ci: [3] is not an interval: give two numbers of days"),
        ({"mean": 5, "ci": 3}, f"{KNOW}.ci: 3 is not an interval: give two numbers of days"),
        ({"mean": 5, "ci": [3, 7], "sd": 1}, f"{KNOW}: unknown key 'sd' (allowed: mean, ci)"),
        ({"mean": 5}, "mean_days.ci: required, but missing"),
    ],
    ids=[
        "reversed",
        "mean_outside",
        "negative",
        "one_number",
        "not_a_list",
        "unknown_key",
        "no_ci",
    ],
)
def test_a_malformed_mean_days_interval_is_refused(tmp_path, mean_days, said):
    exits_2_saying(["check", _write(tmp_path, mean_days=mean_days)], said)


def test_a_reversed_interval_is_said_in_russian():
    """The model's own check speaks the reader's language."""
    with language("ru"), pytest.raises(ValueError, match=r"идёт в обратном порядке"):
        UncertainMean.model_validate({"mean": 5, "ci": [7, 3]})


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        (
            {"part": "fuzzy"},
            "not_estimated.1: part: 'fuzzy' is not one of funnel, pass_prob, duration, repeat",
        ),
        (
            {"part": "word_of_mouth", "why": "few_refferals", "count": 3, "least": 5},
            "not_estimated.1: why: 'few_refferals' is not one of few_referrals, no_customers, "
            "no_referrals; did you mean 'few_referrals'?",
        ),
        (
            {"part": "word_of_mouth", "why": "few_referrals", "least": 5},
            "not_estimated.1: count: required, but missing (part: word_of_mouth, why: "
            "few_referrals)",
        ),
        (
            {"part": "repeat", "colour": 1},
            "not_estimated.1: unknown key 'colour' (allowed: part,",
        ),
    ],
    ids=["unknown_part", "unknown_why", "missing_count", "unknown_key"],
)
def test_a_malformed_not_estimated_entry_is_refused(tmp_path, entry, said):
    """The entry after a hand-written note: its place in the list is named."""
    exits_2_saying(
        ["check", _write(tmp_path, not_estimated=["hand-written note", entry])],
        said,
    )


def test_a_wrong_gap_is_not_also_called_not_a_string(tmp_path):
    """One line for one mistake: the union with a hand-written note is not reported too."""
    proc = invoke_cli(["check", _write(tmp_path, not_estimated=[{"part": "fuzzy"}])])
    assert proc.returncode == 2
    assert "valid string" not in proc.stderr
    assert proc.stderr.count("not_estimated.0") == 1
