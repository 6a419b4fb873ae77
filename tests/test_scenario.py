"""Scenario files: the shipped ones load, bad ones say what is wrong and where."""

from __future__ import annotations

from pathlib import Path

import pytest

from hourglass import ScenarioError, load_scenario
from hourglass.config import parse_scenario_text
from tests.helpers import ROOT, make_scenario

BAD = ROOT / "tests" / "data" / "bad"

# file -> (line, the words the user must see)
EXPECTED = {
    "unknown_key.yaml": (
        5,
        "stages.know.pas_prob: unknown key 'pas_prob'; did you mean 'pass_prob'?",
    ),
    "unknown_top_key.yaml": (4, "stagez: unknown key 'stagez'; did you mean 'stages'?"),
    "out_of_range.yaml": (5, "stages.know.pass_prob: Input should be less than or equal to 1"),
    "negative_duration.yaml": (
        5,
        "stages.know.duration.exponential.mean_days: Input should be greater than 0",
    ),
    "broken_yaml.yaml": (3, "not valid YAML"),
    "wrong_type.yaml": (2, "horizon_days: Input should be a valid number"),
    "unknown_seller_stage.yaml": (10, "sales.stages.0: 'desing' is not one of"),
    "unknown_class.yaml": (12, "did you mean 'fan'?"),
    "warmup_too_long.yaml": (3, "warmup_days: must be shorter than horizon_days (30), got 45"),
    "offers_over_one.yaml": (12, "after_sale.offers: offer probabilities add up to 1.2; at most 1"),
    "two_distributions.yaml": (5, "stages.know.duration: give exactly one of"),
    "object_tag.yaml": (1, "not valid YAML"),
    "not_a_mapping.yaml": (None, "a scenario is a mapping of keys to values, not list"),
    "referral_without_market.yaml": (11, "referral: word of mouth needs a finite market"),
    "duplicate_key.yaml": (2, "not valid YAML: key 'name' appears twice"),
    "reserved_reason.yaml": (9, "'went_cold' is a reserved loss reason"),
    "committee_role_twice.yaml": (
        17,
        "committee.order.default: role 'gatekeeper' is named twice",
    ),
    "committee_role_key_twice.yaml": (16, "not valid YAML: key 'gatekeeper' appears twice"),
    "committee_unknown_role.yaml": (
        17,
        "committee.order.default: 'big_bos' is not a role; did you mean 'big_boss'?",
    ),
    "committee_unknown_channel.yaml": (
        18,
        "committee.order.referal: not a channel; did you mean 'referral'?",
    ),
    "committee_unworked_stage.yaml": (
        15,
        "committee.roles.big_boss.reached_by.design: the team does not work this stage",
    ),
    "extreme_cv.yaml": (
        5,
        "stages.know.duration.gamma.cv: Input should be greater than or equal to 0.01",
    ),
}


def test_every_bad_file_has_an_expectation():
    assert sorted(p.name for p in BAD.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_names_file_line_and_field(name: str):
    line, words = EXPECTED[name]
    with pytest.raises(ScenarioError) as err:
        load_scenario(BAD / name)
    message = str(err.value)
    where = f"{BAD / name}: line {line}: " if line else f"{BAD / name}: "
    assert message.startswith(where), message
    assert words in message, message


def test_missing_file_is_named():
    with pytest.raises(ScenarioError, match=r"nowhere\.yaml: no such file"):
        load_scenario("nowhere.yaml")


def test_shipped_scenarios_load_and_round_trip(shipped: Path):
    scenario = load_scenario(shipped)
    assert scenario.name == shipped.stem
    assert parse_scenario_text(scenario.to_yaml()) == scenario
    header = shipped.read_text().splitlines()[0]
    assert header.startswith("# "), "each teaching scenario opens with a comment header"


def test_the_five_teaching_cases_ship():
    names = {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
    assert {
        "baseline",
        "no_referrals",
        "seller_bottleneck",
        "b2b_long_cycle",
        "referral_driven",
    } <= names


def test_default_scenario_is_the_baseline():
    assert load_scenario() == load_scenario(ROOT / "scenarios" / "baseline.yaml")


def test_scenarios_are_frozen():
    scenario = make_scenario()
    with pytest.raises(ValueError):
        scenario.horizon_days = 5.0


def test_overrides_make_a_new_validated_scenario():
    scenario = load_scenario()
    fewer = scenario.with_overrides({"sales.sellers": 3, "stages.try.pass_prob": 0.2})
    assert (fewer.sales.sellers, fewer.stages["try"].pass_prob) == (3, 0.2)
    assert scenario.sales.sellers == 12
    with pytest.raises(ScenarioError, match="did you mean 'sellers'"):
        scenario.with_overrides({"sales.selers": 3})
    with pytest.raises(
        ScenarioError,
        match=r"sales\.sellers: Input should be greater than or "
        r"equal to 1",
    ):
        scenario.with_overrides({"sales.sellers": 0})


def test_seller_rules_are_checked():
    with pytest.raises(ScenarioError, match="skill for 'design', but the team does not work it"):
        make_scenario(sales={"sellers": 2, "stages": ["define"], "skill": {"design": 1.2}})
    with pytest.raises(ScenarioError, match="'measure' takes no seller time here"):
        make_scenario(sales={"sellers": 2, "stages": ["measure"]})
    for name in ("organic", "like", "refer"):
        with pytest.raises(ScenarioError, match=f"'{name}' is a reserved name"):
            make_scenario(
                channels={"paid": {name: {"budget_per_month": 1, "cost_per_prospect": 1}}}
            )
