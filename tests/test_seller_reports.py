"""Reports per seller and per role: a hand-built log with known answers, sums and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import hourglass as hg
from hourglass.analysis import metrics
from hourglass.analysis.sellers import (
    Standout,
    sales_roles,
    seller_records,
    seller_report,
    stacked,
    stage_conversion,
    standout,
)
from hourglass.cli import app
from hourglass.i18n import language
from hourglass.log import FIRST_REASON, INSIDE, PASSED, EventLog, Run
from tests.helpers import make_scenario
from tests.test_dashboard import figures, open_page, values

NAN = math.nan
REASONS = ("no_action", "went_cold", "lost_to_competitor")
NO_ACTION, COLD, COMPETITOR = (FIRST_REASON + k for k in range(3))
TRY, BUY = 3, 4
# prospect, stage, enter, exit, wait, outcome, seller (0 Ann the SDR; 1 Bob, 2 Cy the AEs)
VISITS = [
    (0, 0, 12, 20, NAN, PASSED, -1),
    (0, TRY, 20, 25, 1, PASSED, 1),
    (0, BUY, 25, 30, 0, PASSED, 1),
    (1, TRY, 5, 15, 2, PASSED, 2),  # began before the window: its busy time counts from day 10
    (1, BUY, 15, 18, 0, PASSED, 2),
    (2, TRY, 40, 45, 3, NO_ACTION, 0),
    (3, TRY, 50, 52, NAN, COLD, -1),
    (4, TRY, 100, NAN, 4, INSIDE, 1),
    (5, BUY, 60, 70, 0, COMPETITOR, 0),
    (6, TRY, 70, 71, 0.5, PASSED, 0),
    (6, BUY, 71, 73, 0, PASSED, 1),  # handed to Bob, who closes it
    (7, BUY, 3, 8, 0, PASSED, 2),  # bought before the window
]
# customer, day, value, kind (0: first purchase)
PURCHASES = [(0, 30, 100, 0), (1, 18, 50, 0), (6, 73, 30, 0), (7, 8, 20, 0), (0, 80, 40, 1)]


def columns(rows: list[tuple], **dtypes: str) -> dict[str, np.ndarray]:
    """Rows as the log's columns."""
    return {
        name: np.array([row[i] for row in rows], dtype=dtype)
        for i, (name, dtype) in enumerate(dtypes.items())
    }


def hand_built() -> Run:
    """A log of 8 prospects and a team of three, window 10-110; the AEs work Try and Buy."""
    scenario = hg.load_scenario("baseline").with_overrides(
        {
            "horizon_days": 110.0,
            "sales": {
                "roles": {
                    "sdr": {"headcount": 1, "stages": ["design"]},
                    "ae": {"headcount": 2, "stages": ["define", "deliver"]},
                }
            },
        }
    )
    log = EventLog(
        horizon_days=110.0,
        warmup_days=10.0,
        seats=4,
        channels=("organic",),
        reasons=REASONS,
        classes=("one_time",),
        prospects=columns(
            [(1.0 + i, 0, -1, -1) for i in range(8)],
            arrival="f8",
            channel="i1",
            referrer="i4",
            node="i4",
        ),
        visits=columns(
            VISITS,
            prospect="i4",
            stage="i1",
            enter="f8",
            exit="f8",
            wait="f8",
            outcome="i1",
            seller="i2",
        ),
        purchases=columns(PURCHASES, customer="i4", time="f8", value="f8", kind="i1"),
        moves=columns([], customer="i4", time="f8", klass="i1"),
        contacts=columns([], referrer="i4", time="f8", won="i1"),
        sellers=(("Ann", "sdr"), ("Bob", "ae"), ("Cy", "ae")),
        seller_capacity=(1, 2, 1),
    )
    return Run(scenario, 1, log)


@pytest.fixture(scope="module")
def report() -> hg.analysis.sellers.SellerReport:
    """The hand-built run's report."""
    return seller_report(hand_built())


def test_each_seller_matches_the_hand_count(report) -> None:
    """Leads, visits, wins, losses, revenue, busy time, waits and cycles, worked out by hand."""
    table = report.sellers.set_index("name")
    expected = {
        "leads": [3, 3, 1],
        "visits": [3, 4, 1],
        "won": [0, 2, 1],
        "lost": [2, 0, 0],
        "inside": [0, 1, 0],
        "revenue": [0.0, 130.0, 50.0],
        "busy_days": [12.5, 17.0, 8.0],
        "utilization": [0.125, 0.085, 0.08],
        "mean_wait_days": [3.5 / 3, 1.25, 0.0],
        "cycles": [3, 2, 1],
        "mean_cycle_days": [16 / 3, 6.0, 3.0],
    }
    for column, numbers in expected.items():
        assert table.loc[["Ann", "Bob", "Cy"], column].tolist() == pytest.approx(numbers), column


def test_losses_by_stage_and_reason(report) -> None:
    """Ann lost one lead at Try for no action and one at Buy to a competitor."""
    rows = report.losses.sort_values("stage").to_dict("records")
    assert rows == [
        {"seller": 0, "stage": "buy", "reason": "lost_to_competitor", "lost": 1},
        {"seller": 0, "stage": "try", "reason": "no_action", "lost": 1},
    ]


def test_a_lead_lost_waiting_goes_to_the_role_working_its_stage(report) -> None:
    """The AEs work Try, so the lead that went cold there is theirs."""
    roles = sales_roles(report).set_index("role")
    assert roles["lost_waiting"].to_dict() == {"sdr": 0, "ae": 1}
    assert roles.loc["ae", "sellers"] == 2


def test_roles_are_the_sum_of_their_sellers(report) -> None:
    """The AEs' leads, wins and revenue add up; their utilisation is over their joint seats."""
    ae = sales_roles(report).set_index("role").loc["ae"]
    assert (ae["leads"], ae["won"], ae["revenue"]) == (4, 3, 180.0)
    assert ae["utilization"] == pytest.approx(25.0 / 300.0)


def test_sellers_sum_to_the_team_kpis() -> None:
    """Wins are the buyers; waits and utilisation are the team's as the KPIs count them."""
    run = hand_built()
    team, sellers = metrics.kpis(run), seller_report(run).sellers
    assert sellers["won"].sum() == team["buyers"] == 3
    assert sellers["wait_days"].sum() / sellers["visits"].sum() == pytest.approx(
        team["mean_wait_days"]
    )
    weighted = (sellers["utilization"] * sellers["capacity"]).sum() / sellers["capacity"].sum()
    assert weighted == pytest.approx(team["seller_utilization"]) == pytest.approx(0.09375)


def test_conversion_by_stage_has_wilson_intervals(report) -> None:
    """The team passed 2 of the 3 decided at Try in the window: 67% [20.8%, 93.9%]."""
    team = stage_conversion(report, by="team").set_index("stage")
    assert team.loc["try", ["passed", "lost", "inside"]].tolist() == [2, 1, 1]
    assert team.loc["try", "conversion"] == pytest.approx(2 / 3)
    assert team.loc["try", ["low", "high"]].tolist() == pytest.approx([0.2077, 0.9385], abs=1e-4)
    ann = stage_conversion(report).query("name == 'Ann'").set_index("stage")
    assert ann["conversion"].to_dict() == {"try": 0.5, "buy": 0.0}


def test_replications_give_a_mean_and_a_band(report) -> None:
    """Two identical replications: every band collapses onto the one run's value."""
    both = stacked([(0, report), (1, report)])
    bob = next(r for r in seller_records(both, 2) if r["name"] == "Bob")
    assert bob["won"] == {"mean": 2.0, "p5": 2.0, "p95": 2.0}
    assert bob["by_stage"]["buy"]["passed"] == 2.0
    assert bob["by_stage"]["try"]["conversion"] == 1.0


def test_baseline_sellers_sum_to_its_kpis() -> None:
    """In a real run too: wins are the buyers, and utilisation the capacity-weighted mean."""
    run = hg.simulate(hg.load_scenario("baseline"), 1)
    team, sellers = metrics.kpis(run), seller_report(run).sellers
    assert sellers["won"].sum() == team["buyers"]
    weighted = (sellers["busy_days"].sum()) / sellers["seat_days"].sum()
    assert weighted == pytest.approx(team["seller_utilization"], rel=1e-12)
    assert (
        sellers["visits"].sum() + sales_roles(seller_report(run))["lost_waiting"].sum()
        <= (team["leads_to_sellers"])
    )


def test_run_json_has_a_seller_per_member_of_the_team(tmp_path) -> None:
    """`run --json` lists every seller with the agreed keys; their wins are the buyers."""
    doc = json.loads(invoke("run", team_file(tmp_path, 4), "--json", "--seed", "1"))
    assert [s["name"] for s in doc["sellers"]] == [f"Seller {i}" for i in range(1, 5)]
    first = doc["sellers"][0]
    assert {"name", "role", "leads", "won", "lost", "revenue", "utilization", "by_stage"} <= set(
        first
    )
    assert first["role"] == "seller" and set(first["by_stage"]) == {"try", "buy"}
    assert sum(s["won"] for s in doc["sellers"]) == doc["kpis"]["buyers"]
    assert doc["seller_roles"][0]["sellers"] == 4


def team_file(tmp_path, sellers: int) -> str:
    """A small scenario with a team of `sellers` at Try and Buy, saved as YAML."""
    spec = make_scenario(
        sales={"sellers": sellers, "stages": ["define", "deliver"]},
        stages__try__pass_prob=0.6,
        stages__buy__pass_prob=0.5,
        stages__try__duration={"exponential": {"mean_days": 0.5}},
    )
    path = tmp_path / "team.yaml"
    path.write_text(spec.to_yaml(), encoding="utf-8")
    return str(path)


def invoke(*args: str) -> str:
    """The command's output, once it has succeeded."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_report_lists_each_seller_with_the_numbers_of_the_json(tmp_path) -> None:
    """The "Sales team" table has a line per seller saying the leads and wins the JSON has."""
    path = team_file(tmp_path, 3)
    doc = json.loads(invoke("run", path, "--seed", "1", "--json"))
    text = invoke("run", path, "--seed", "1")
    assert "Sales team" in text and "Sales roles" not in text  # one role: no roles table
    for seller in doc["sellers"]:
        line = next(x for x in text.splitlines() if x.strip().startswith(seller["name"] + " "))
        assert line.split()[3:5] == [f"{seller['leads']:,}", f"{seller['won']:,}"]
    team = text[text.index("Sales team") : text.index("Key accounts")].splitlines()
    assert max(len(line) for line in team) <= 80


def test_a_long_team_shows_its_roles_and_both_ends(tmp_path) -> None:
    """15 sellers: the roles' line, the 6 best and 6 worst closers, and 3 left out."""
    text = invoke("run", team_file(tmp_path, 15), "--seed", "1")
    assert "Sales roles" in text
    assert sum(line.strip().startswith("Seller ") for line in text.splitlines()) == 12
    assert "3 sellers between the best and the worst closers are not shown" in text


def test_report_speaks_russian(tmp_path) -> None:
    """In Russian the table, the default names and the role are Russian."""
    text = invoke("--lang", "ru", "run", team_file(tmp_path, 3), "--seed", "1")
    assert "Отдел продаж" in text
    assert any(line.split()[:3] == ["Продавец", "1", "продавец"] for line in text.splitlines())


def test_replications_band_each_seller_in_the_json(tmp_path) -> None:
    """With --reps the numbers are a mean with p5 and p95, the roles' as the sellers'."""
    path = team_file(tmp_path, 2)
    doc = json.loads(
        invoke("run", path, "--seed", "1", "--reps", "3", "--backend", "serial", "--json")
    )
    won = doc["sellers"][0]["won"]
    assert set(won) == {"mean", "p5", "p95"} and won["p5"] <= won["mean"] <= won["p95"]
    total = sum(s["won"]["mean"] for s in doc["sellers"])
    assert total == pytest.approx(doc["kpis"]["buyers"]["mean"])
    assert doc["seller_roles"][0]["won"]["mean"] == pytest.approx(total)


def test_the_standout_seller_is_compared_with_the_rest(report) -> None:
    """At Buy Bob passed 2 of 2 and the others 1 of 2: 50 points up, too few to be sure."""
    best = standout(report, "buy")
    assert (best.name, best.gap) == ("Bob", 0.5)
    assert best.low < 0 < best.high


def test_the_page_answers_short_of_time_or_with_the_best_closer() -> None:
    """A busy team is the answer before skill; a clear closer is named with the interval."""
    from hourglass.app.pages.sales_team import answer

    busy = {"seller_utilization": 0.97, "lost_waiting": 640.0}
    assert answer(busy, None, "en") == (
        "Sellers are busy 97% of the time; leads lost waiting: 640 per run"
    )
    calm = {"seller_utilization": 0.6, "lost_waiting": 0.0}
    best = Standout("Seller 3", "buy", 0.12, 0.05, 0.19)
    assert answer(calm, best, "en") == (
        "Best closer: Seller 3, +12.0 pp against the rest of the team at Buy [+5.0, +19.0]"
    )
    with language("ru"):
        assert answer(calm, best, "ru") == (
            "Лучше всех закрывает сделки Продавец 3: +12,0 п. п. в сравнении с остальными на "  # noqa: RUF001
            "этапе «Купить» [+5,0; +19,0]"
        )


def test_the_page_shows_the_team_in_english() -> None:
    """Baseline: 12 identical sellers, so no one stands out; the busy metric is their mean."""
    at = open_page("sales-team")
    assert [h.value for h in at.header] == ["Sales team · baseline"]
    assert at.subheader[0].value.startswith("No seller stands out at Buy: the best, Seller ")
    table = at.dataframe[0].value
    assert list(table["name"]) == [f"Seller {i}" for i in range(1, 13)]
    busy = next(m for m in at.metric if m.label == "Seller utilisation")
    assert busy.value == f"{table['utilization'].mean() / 100:.1%}"  # one seat each
    conversion, utilization = figures(at)
    assert [t.name for t in conversion.data] == ["Try", "Buy"]
    assert list(conversion.data[0].x) == ["<b>Team</b>", *table["name"]]
    assert len(values(utilization.data[0].y)) == 12


def test_the_page_speaks_russian() -> None:
    """In Russian: the heading, the answer, the KPI's label, the names and the figures."""
    at = open_page("sales-team", language="ru")
    assert [h.value for h in at.header] == ["Отдел продаж · baseline"]
    assert at.subheader[0].value.startswith("На этапе «Купить» никто не")  # noqa: RUF001
    assert "Загрузка продавцов" in [m.label for m in at.metric]
    assert at.dataframe[0].value["role"].unique().tolist() == ["продавец"]
    conversion, utilization = figures(at)
    assert conversion.layout.title.text.startswith("Конверсия по продавцам")
    assert list(conversion.data[1].x)[:2] == ["<b>Отдел</b>", "Продавец 1"]
    assert utilization.layout.title.text.startswith("Загрузка каждого продавца (пунктир")


def test_a_team_of_roles_sums_to_the_team() -> None:
    """sales_team: SDRs and the account manager close nothing, the AEs every sale.

    Each seller weighs by the seat-days they held (seats times days on the team, so the AE
    hired in month 2 weighs less); the account manager's follow-ups count in the team's time.
    """
    run = hg.simulate(hg.load_scenario("sales_team"), 1)
    team, report = metrics.kpis(run), seller_report(run)
    roles = sales_roles(report).set_index("role")
    assert roles.loc["sdr", "won"] == roles.loc["account_manager", "won"] == 0
    assert roles.loc["ae", "won"] == team["buyers"]
    sellers = report.sellers
    assert list(sellers["capacity"]) == [1, 1, 2, 2, 2, 2, 4]
    assert sellers["seat_days"].iloc[5] < sellers["seat_days"].iloc[4]  # hired in month 2
    weighted = (sellers["utilization"] * sellers["seat_days"]).sum() / sellers["seat_days"].sum()
    assert weighted == pytest.approx(team["seller_utilization"], rel=1e-12)
    assert roles["lost_waiting"].sum() == team["lost_waiting"]


def test_the_page_names_the_best_closer_of_sales_team() -> None:
    """Anna's Buy skill is 1.15 on a pass chance of 0.6: 9 points above the other AEs."""
    at = open_page("sales-team", chosen="sales_team")
    said = at.subheader[0].value
    assert said.startswith("Best closer: Anna, +")
    low, high = (float(x) for x in said[said.index("[") + 1 : -1].split(", "))
    assert low <= 0.6 * 1.15 * 100 - 60 <= high
    sellers, roles = (frame.value for frame in at.dataframe)
    roles = roles.set_index("role")
    assert list(roles.index) == ["sdr", "ae", "account manager"]
    assert roles.loc["sdr", "won"] == roles.loc["account manager", "won"] == 0
    assert roles.loc["ae", "won"] == sellers.query("role == 'ae'")["won"].sum()
