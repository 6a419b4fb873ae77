"""A CRM's sellers become the calibrated scenario's named sellers, with their skills."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import yaml
from streamlit.testing.v1 import AppTest

from hourglass import calibrate, simulate
from hourglass.calibration import seller_fits
from hourglass.calibration.export import export_deals
from hourglass.config.scenario import parse_scenario
from hourglass.i18n import language
from tests.helpers import ROOT, invoke_cli
from tests.test_dashboard import DASHBOARD, script

SKILL = {"Anna": 1.3, "Boris": 0.7, "Clara": 1.0}
"""Each seller's true skill at Buy (deliver); their mean is 1, so it is also the skill over
the team's rate when leads are dealt to them in turn."""
BUY = 0.5
"""Buy's pass probability before the seller's skill."""
CRM = ROOT / "tests" / "data" / "crm" / "hourglass.csv"
"""A small export that names the deal's owner on every row."""


def _team_scenario() -> dict:
    """Three named account executives, in turn, working Try and Buy; no wait for a seat."""
    fast = {"pass_prob": 1.0, "duration": {"exponential": {"mean_days": 1.0}}}
    return {
        "name": "named_sellers",
        "horizon_days": 365,
        "channels": {"organic": {"prospects_per_day": 5}},
        "stages": {
            "know": fast,
            "like": fast,
            "trust": fast,
            "try": {"pass_prob": 0.7, "duration": {"exponential": {"mean_days": 5.0}}},
            "buy": {"pass_prob": BUY, "duration": {"exponential": {"mean_days": 5.0}}},
        },
        "after_sale": {"order_value": {"fixed": {"value": 100}}},
        "sales": {
            "routing": "round_robin",
            "roles": {
                "ae": {
                    "headcount": 3,
                    "leads_per_seller": 1000,
                    "stages": ["define", "deliver"],
                    "sellers": [
                        {"name": name, "skill": {"deliver": skill}} for name, skill in SKILL.items()
                    ],
                }
            },
        },
    }


def _calibrated(seed: int):
    """The team scenario simulated with `seed`, exported and calibrated."""
    run = simulate(parse_scenario(_team_scenario(), source="test"), seed)
    return calibrate(export_deals(run).to_csv(index=False), seed=seed)


def test_the_export_names_the_seller_who_worked_each_visit():
    """Try and Buy rows name one of the three sellers; the stages no seller works name none."""
    run = simulate(parse_scenario(_team_scenario(), source="test"), 3)
    deals = export_deals(run)
    worked = deals["stage"].isin(["try", "buy"])
    assert set(deals.loc[worked, "seller"]) == set(SKILL)
    assert (deals.loc[~worked, "seller"] == "").all()
    # continuity: the seller who took the deal at Try keeps it at Buy
    assert (deals[worked].groupby("deal_id")["seller"].nunique() == 1).all()


def test_each_seller_skill_comes_back_within_its_interval_and_without_bias():
    """Anna 1.3 and Boris 0.7 at Buy are recovered and written; Clara keeps 1.0.

    Per export, each skill's interval holds the truth and only the stages sellers work
    (Try, Buy) are fitted per seller; over four exports the mean skill lies within 4
    standard errors of the truth.
    """
    estimates: dict[str, list[float]] = {name: [] for name in SKILL}
    for seed in range(4):
        cal = _calibrated(seed)
        sellers = cal.to_dict()["sellers"]
        assert set(sellers) == set(SKILL)
        for name, truth in SKILL.items():
            assert set(sellers[name]["stages"]) == {"try", "buy"}
            buy = sellers[name]["stages"]["buy"]
            low, high = buy["skill_ci"]
            assert low < truth < high, (seed, name, buy["skill_ci"])
            assert buy["skill"] == buy["pass_prob"] / cal.stages[4].pass_prob.value
            estimates[name].append(buy["skill"])
        written = {
            s["name"]: s.get("skill", {})
            for s in cal.scenario_data()["sales"]["roles"]["sellers"]["sellers"]
        }
        assert written["Anna"]["deliver"] == sellers["Anna"]["stages"]["buy"]["skill"]
        assert written["Boris"]["deliver"] == sellers["Boris"]["stages"]["buy"]["skill"]
        assert written["Clara"] == {}
        assert any("Clara (Buy)" in note and "1.0" in note for note in cal.notes)
    for name, truth in SKILL.items():
        values = np.array(estimates[name])
        sem = values.std(ddof=1) / math.sqrt(len(values))
        assert abs(values.mean() - truth) < 4 * sem, (name, values)


def test_the_calibrated_team_is_one_role_with_capacity_not_estimated():
    """Headcount 3, Try and Buy worked (define, deliver), by their shares; the gap is said.

    Each seller may hold four times the most deals a seller held at once in the export.
    """
    cal = _calibrated(1)
    sales = cal.scenario.sales
    role = sales.roles["sellers"]
    assert role.headcount == 3 and role.stages == ["define", "deliver"]
    assert [s.name for s in role.sellers] == ["Anna", "Boris", "Clara"]
    assert sales.routing == "weighted"
    held = role.leads_per_seller // 4  # the most deals a seller held at once, four times over
    assert role.leads_per_seller == 4 * held and 5 < held < 100
    gaps = [gap.text() for gap in cal.scenario.not_estimated]
    assert any(
        f"may hold {4 * held} leads at once, 4 times the most deals a seller held" in gap
        for gap in gaps
    )
    assert not any("has no sales section" in gap for gap in gaps)


def test_the_seller_fits_table_is_translated():
    """The dashboard's table of seller fits: Russian headers and stage names, six rows."""
    cal = _calibrated(2)
    with language("ru"):
        table = seller_fits(cal)
    assert list(table.columns[:3]) == ["продавец", "этап", "вероятность прохода"]
    assert len(table) == 6
    assert set(table.iloc[:, 1]) == {"Попробовать", "Купить"}


def test_long_seller_names_stay_apart_in_the_scenario():
    """Two 50-character owners that share their first 40 characters get two valid names."""
    stem = "Regional account executive for the northern"
    names = [stem + " area A", stem + " area B"]
    lines = ["deal_id,stage,entered_at,left_at,outcome,seller"]
    for deal in range(40):
        outcome = "won" if deal % 3 else "lost"
        entered = f"2026-01-{1 + deal % 20:02d}"
        lines.append(f"{deal},buy,{entered},2026-02-01,{outcome},{names[deal % 2]}")
    cal = calibrate("\n".join(lines) + "\n", until="2026-03-01")
    role = cal.scenario.sales.roles["sellers"]
    written = [s.name for s in role.sellers]
    assert len(set(written)) == 2 and all(len(n) <= 40 for n in written)
    assert written[0] == names[0][:40]
    assert role.leads_per_seller == 4 * 20  # each held their 20 deals at once in late January


def test_calibrate_json_and_the_written_scenario_run_with_the_named_sellers(tmp_path: Path):
    """export-crm, calibrate --json, run --json: the run's sellers are Anna, Boris, Clara."""
    source = tmp_path / "team.yaml"
    source.write_text(yaml.safe_dump(_team_scenario()))
    deals, written = tmp_path / "deals.csv", tmp_path / "calibrated.yaml"
    proc = invoke_cli(["export-crm", str(source), "-o", str(deals), "--seed", "4"])
    assert proc.returncode == 0, proc.stderr
    proc = invoke_cli(["calibrate", "--deals", str(deals), "-o", str(written), "--json"])
    assert proc.returncode == 0, proc.stderr
    anna = json.loads(proc.stdout)["sellers"]["Anna"]["stages"]["buy"]
    assert {"pass_prob", "pass_prob_ci", "visits", "verdict", "skill", "skill_ci"} <= set(anna)
    proc = invoke_cli(["run", str(written), "--json", "--seed", "1"])
    assert proc.returncode == 0, proc.stderr
    sellers = json.loads(proc.stdout)["sellers"]
    assert [s["name"] for s in sellers] == ["Anna", "Boris", "Clara"]
    assert {s["role"] for s in sellers} == {"sellers"}
    assert all(s["mean_wait_days"] == 0.0 for s in sellers)  # room enough: nobody waits
    won = {s["name"]: s["won"] for s in sellers}
    assert won["Anna"] > won["Clara"] > won["Boris"]


def test_one_won_deal_against_one_lost_is_no_skill():
    """Ann won her one deal at Like and Bob lost his: too few to test, both keep 1.0."""
    cal = calibrate(CRM.read_text())
    sellers = cal.to_dict()["sellers"]
    assert sellers["ann"]["stages"]["like"]["verdict"] == "untested"
    assert sellers["bob"]["stages"]["like"]["skill_written"] == 1.0
    written = cal.scenario_data()["sales"]["roles"]["sellers"]["sellers"]
    assert written == [{"name": "ann", "share": 2 / 3}, {"name": "bob", "share": 1 / 3}]


def _import_page(lang: str) -> AppTest:
    """The Import page, in `lang`, after calibrating the small shipped export."""
    at = AppTest.from_file(DASHBOARD, default_timeout=180)
    at.query_params["lang"] = lang
    at.switch_page(script("scenario")).run()
    at.switch_page(script("import")).run()
    at.file_uploader(key="deals").upload("deals.csv", CRM.read_bytes(), "text/csv")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_import_page_shows_each_seller_fit():
    """Below the stages: a row per seller and stage, Bob's Like passed by none of one."""
    at = _import_page("en")
    assert "Pass probability per seller" in [m.value.strip("*") for m in at.markdown]
    table = at.dataframe[1].value
    assert list(table.columns[:3]) == ["seller", "stage", "pass probability"]
    bob = table[(table["seller"] == "bob") & (table["stage"] == "Like")].iloc[0]
    assert bob["pass probability"] == 0.0 and bob["lost"] == 1
    assert bob["skill in the scenario"] == 1.0


def test_the_import_page_shows_each_seller_fit_in_russian():
    """The same table in Russian: headers, stage names and the heading above it."""
    at = _import_page("ru")
    assert "Вероятность прохода по продавцам" in [m.value.strip("*") for m in at.markdown]
    table = at.dataframe[1].value
    assert list(table.columns) == [
        "продавец",
        "этап",
        "вероятность прохода",
        "95% ДИ",
        "навык",
        "навык в сценарии",
        "минус остальные",
        "p (Холм)",
        "прошли",
        "потеряны",
        "открыты",
    ]
    assert table.iloc[1, 1] == "Нравиться"
    assert table.iloc[1, 4] == 2.0  # Ann passed Like, the team one of two
    assert any("ann (Нравиться)" in c.value.replace("\\", "") for c in at.caption)
