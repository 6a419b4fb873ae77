"""Shipped scenarios: package data of the installed package, loaded by name."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hourglass import ScenarioError, load_scenario
from hourglass.config import parse_scenario_text, shipped_scenarios
from tests.helpers import ROOT, SCENARIOS


def test_every_file_in_scenarios_is_shipped():
    assert shipped_scenarios() == [p.stem for p in SCENARIOS]


def test_shipped_scenarios_name_no_files(shipped: Path):
    """Only the YAML files are package data: a shipped scenario may not need a file beside it."""
    parse_scenario_text(shipped.read_text(), str(shipped), files=False)


@pytest.mark.parametrize("name", ["seller_bottleneck", "seller_bottleneck.yaml"])
def test_a_shipped_scenario_loads_by_name(name: str, tmp_path: Path, monkeypatch):
    """From any folder, with or without its suffix, equal to the file it ships from."""
    monkeypatch.chdir(tmp_path)
    assert load_scenario(name) == load_scenario(ROOT / "scenarios" / "seller_bottleneck.yaml")


def test_no_path_is_the_baseline():
    assert load_scenario() == load_scenario(ROOT / "scenarios" / "baseline.yaml")


def test_a_file_of_that_name_comes_first(tmp_path: Path, monkeypatch):
    text = (ROOT / "scenarios" / "baseline.yaml").read_text().replace("name: baseline", "name: own")
    (tmp_path / "baseline.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert load_scenario("baseline.yaml").name == "own"
    assert load_scenario("baseline").name == "baseline"


def test_an_unknown_name_lists_the_shipped_ones(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as err:
        load_scenario("seller_botleneck")
    message = str(err.value)
    assert message.startswith("seller_botleneck: no such file, nor a shipped scenario")
    assert "did you mean 'seller_bottleneck'?" in message
    assert f"(shipped: {', '.join(shipped_scenarios())})" in message


def test_a_missing_path_is_not_looked_up_by_name(tmp_path: Path):
    with pytest.raises(ScenarioError, match=r"baseline\.yaml: no such file$"):
        load_scenario(tmp_path / "baseline.yaml")


def test_every_package_is_listed_for_the_wheel():
    """The scenarios folder is mapped into the package, so pyproject lists the packages.

    A package left out would be missing from a wheel.
    """
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "hourglass").rglob("__init__.py")
    }
    assert set(setuptools["packages"]) == on_disk | {"hourglass.scenarios"}
    assert setuptools["package-dir"] == {"hourglass.scenarios": "scenarios"}
    assert setuptools["package-data"]["hourglass.scenarios"] == ["*.yaml"]


def test_the_key_accounts_lesson_ships_with_its_service_ladder():
    ladder = load_scenario("key_accounts").after_sale.service_ladder
    assert ladder.names == ["audit", "support", "outsourcing", "full_partnership"]
    top = ladder.levels[-1]
    assert top.cost_to_serve_per_month > top.value_per_month  # the partnership loses money
