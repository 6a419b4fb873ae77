"""The dashboard's pages, driven by Streamlit's AppTest: each renders, and its controls act."""

from __future__ import annotations

import ast
import base64
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from hourglass.app import widgets
from hourglass.calibration import export_deals
from hourglass.kpis import MISSING
from hourglass.stages import FUNNEL, LABELS
from tests.helpers import ROOT, repeat_buying_run, varied_spend_transactions
from tests.live_dashboard import ADDRESSES

DASHBOARD = str(ROOT / "dashboard.py")
SCRIPTS = {  # each page's address and its script, relative to dashboard.py
    "trainer": "trainer.py",
    "marketer": "marketer.py",
    "budget": "budget.py",
    "planner": "planner.py",
    "compare": "compare.py",
    "deals": "deals.py",
    "sales-team": "sales_team.py",
    "network": "network.py",
    "accounts": "accounts.py",
    "business": "business.py",
    "scenario": "scenario.py",
    "import": "import_data.py",
}
CSV_UPLOADERS = ("deals", "transactions")  # the import page's uploaders


def script(address: str) -> str:
    """The page script at an address, as AppTest.switch_page wants it."""
    return f"hourglass/app/pages/{SCRIPTS[address]}"


def open_page(address: str, lang: str | None = None, **state: object) -> AppTest:
    """The dashboard on a page, in `lang` if given, with two replications unless told otherwise."""
    at = AppTest.from_file(DASHBOARD, default_timeout=300)
    if lang is not None:
        at.query_params["lang"] = lang
    at.session_state["reps"] = 2
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(script("scenario")).run()  # a first run registers the pages' addresses
    if address != "scenario":
        at.switch_page(script(address)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def figures(at: AppTest) -> list[go.Figure]:
    """The plotly figures on the page."""
    return [pio.from_json(chart.proto.spec) for chart in at.get("plotly_chart")]


def values(array: object) -> list:
    """A figure's array as a list, decoding plotly's typed-array JSON."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def metric(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


def widget(widgets, label: str):
    """The widget of a kind with this label (their keys carry the scenario's version)."""
    return next(w for w in widgets if w.label == label)


def shown(text: str) -> str:
    """Markdown escaped by the page as the reader sees it: without its backslashes."""
    return re.sub(r"\\(.)", r"\1", text)


def number(text: str) -> float:
    """A whole or English-written number as shown; a Russian one groups with no-break spaces."""
    text = text.replace("\N{NO-BREAK SPACE}", "")
    return float(text.replace(",", "").replace("%", "").replace("+", ""))


def test_trainer_shows_the_hourglass_with_theory_and_switches_labels():
    at = open_page("trainer")
    assert not at.error
    # theory's sketch went out first; the run's table of simulated and expected took its place
    assert not any(m.value.startswith("<svg") for m in at.markdown)
    hourglass, filling, flows = figures(at)
    bars = hourglass.data[0]
    assert list(bars.y) == ["Know", "Like", "Trust", "Try", "Buy", "Repeat", "Refer"]
    table = at.dataframe[0].value
    assert values(bars.x)[:5] == [number(v) for v in table["simulated"]]
    # Know is fed the simulated prospects, so theory and simulation agree there exactly
    assert table.loc[0, "expected"] == table.loc[0, "simulated"]
    assert all(abs(number(gap)) < 10 for gap in table["gap"])  # percent, as written
    assert len(filling.frames) == 53  # weekly frames over a year, the last one partial
    assert values(filling.frames[-1].data[0].x) == values(bars.x)
    assert any("price: " in label for label in flows.data[0].node.label)

    at.radio(key="language").set_value("ru").run()
    assert figures(at)[0].data[0].y[0] == "Знать"
    at.toggle(key="seven").set_value(True).run()
    assert list(figures(at)[0].data[0].y[:2]) == ["Охват", "Захват"]


def test_the_trainer_page_draws_its_sketch_before_pandas_loads():
    """The sketch's path imports no pandas, so it is on screen while the rest loads.

    The path: the app's modules, the sidebar's scenario, theory and the SVG.
    """
    code = (
        "import sys; import hourglass as hg; "
        "from hourglass.app import cache, runs, state, widgets; "
        "from hourglass.app.pages import trainer; "
        "text = open('scenarios/baseline.yaml', encoding='utf-8').read(); "
        "scenario = hg.config.parse_scenario_text(text, 'baseline.yaml', files=False); "
        "assert trainer.sketch(scenario, 'en').startswith('<svg'); "
        "print('pandas' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.stdout.strip() == "False"


def test_trainer_follows_the_seed_and_the_scenario():
    at = open_page("trainer")
    first = at.dataframe[0].value["simulated"].tolist()
    widget(at.number_input, "Seed").set_value(2).run()
    assert at.dataframe[0].value["simulated"].tolist() != first
    at.selectbox(key="chosen").set_value("b2b_long_cycle").run()
    assert not at.exception
    assert "b2b_long_cycle" in shown(at.header[0].value)
    assert widget(at.number_input, "Seed").value == 7  # the file's own seed


def test_marketer_shows_the_gain_of_a_better_stage():
    at = open_page("marketer")
    assert not metric(at, "Buyers").delta  # nothing changed yet
    widget(at.slider, "Know").set_value(80)
    at.button[0].click().run()
    assert not at.exception
    buyers = metric(at, "Buyers")
    # Know passes 0.8 instead of 0.6: a third more buyers if nothing else binds
    assert 20 < number(buyers.delta) < 40
    interval = at.dataframe[0].value.set_index("KPI").loc["Buyers", "95% interval"]
    assert number(interval.split(" to ")[0]) > 0


def test_marketer_shows_a_worse_kpi_in_red_and_a_share_in_points():
    """A bigger referral bonus costs more per buyer: CAC rises, which is worse, and profit falls.

    Profit is grey where its 95% interval includes no change; a share changes in points.
    """
    at = open_page("marketer")
    widget(at.number_input, "Referral bonus per referred buyer").set_value(400.0)
    widget(at.slider, "Know").set_value(70)
    at.button[0].click().run()
    assert not at.exception
    cac, profit, share = (metric(at, name) for name in ("CAC", "Profit", "Referral share"))
    red, grey = MetricProto.MetricColor.RED, MetricProto.MetricColor.GRAY
    assert number(cac.delta) > 0 and cac.proto.color == red
    assert number(profit.delta) < 0 and profit.proto.color == (grey if profit.help else red)
    assert share.delta.endswith(" pp")
    assert metric(at, "Buyers").proto.color == MetricProto.MetricColor.GREEN


def test_kpi_labels_follow_the_language():
    at = open_page("planner", language="ru")
    assert metric(at, "Клиенты на конец периода").value


def test_marketer_controls_start_from_the_chosen_scenario():
    """Switching scenario must not carry the last one's values into the new one's levers."""
    at = open_page("marketer")
    at.selectbox(key="chosen").set_value("marketing_budgets").run()
    assert widget(at.slider, "Know").value == 55
    assert not metric(at, "Buyers").delta  # the tuned scenario is the loaded one


def test_marketer_moves_stage_budgets_too():
    at = open_page("marketer", chosen="marketing_budgets")
    labels = [n.label for n in at.number_input]
    assert "Like" in labels and "Refer" in labels  # stage budgets, by their stage's name
    widget(at.number_input, "Like").set_value(0.0)
    at.button[0].click().run()
    assert not at.exception
    assert number(metric(at, "Buyers").delta) < 0  # webinars switched off: fewer buyers


def test_marketer_refuses_an_impossible_value_and_keeps_working():
    at = open_page("marketer")
    widget(at.number_input, "Ads").set_value(0.0)
    at.button[0].click().run()
    assert not at.exception
    assert metric(at, "CAC").value != MISSING


def test_budget_page_draws_curves_and_optimises():
    at = open_page("budget", chosen="marketing_budgets")
    curves = figures(at)[0]
    titles = [a.text for a in curves.layout.annotations]
    assert len(titles) == 7 and titles[0].startswith("Display ads<br>marginal ROI")
    objective = at.selectbox(key="objective")
    assert objective.value == "profit" and "Customers at the end" in objective.options
    objective.set_value("buyers")
    widget(at.multiselect, "Keep as they are").set_value(["display_ads"])
    at.button[0].click().run()
    assert not at.exception
    verdict = (at.success or at.warning)[0].value
    assert "paired replications" in verdict
    curves, allocation = figures(at)
    current, optimal = (dict(zip(t.x, t.y, strict=True)) for t in allocation.data)
    assert optimal["Display ads"] == current["Display ads"]  # locked
    assert sum(optimal.values()) == pytest.approx(22_000.0)
    assert {t.name for t in curves.data if t.showlegend} == {"current", "optimal"}


def test_compare_shows_deltas_for_each_chosen_scenario():
    at = open_page("compare")
    deltas = figures(at)[0]
    assert [t.name for t in deltas.data if t.showlegend] == ["no_referrals"]
    assert any("no_referrals" in shown(m.value) for m in at.markdown)
    at.multiselect[0].set_value(["baseline", "no_referrals", "seller_bottleneck"])
    at.button[0].click().run()
    assert not at.exception
    names = [t.name for t in figures(at)[0].data if t.showlegend]
    assert names == ["no_referrals", "seller_bottleneck"]
    table = at.dataframe[0].value
    assert set(table["Scenario"]) == {"no_referrals", "seller_bottleneck"}


def test_b2b_page_shows_where_deals_die_and_channels():
    at = open_page("deals")
    assert "no buying committee" in at.info[0].value
    assert not figures(at)
    at.selectbox(key="chosen").set_value("b2b_committee").run()
    assert not at.exception
    roles, channels = figures(at)
    asked = ["purchaser", "gatekeeper", "user", "expert", "treasurer", "big boss", "guru"]
    assert list(roles.data[0].y) == asked[::-1]  # the first role asked on top
    ended = values(roles.data[1].x)
    assert sum(ended) > 0
    table = at.dataframe[0].value.set_index("channel")
    assert set(table.index) == {"search ads", "trade shows", "organic", "referral"}
    assert ((table["win_rate_low"] <= table["win_rate"]) & (table["win_rate"] <= 1)).all()
    assert len(channels.data) == 2 * len(table)  # a win-rate bar and a cycle box each


def test_network_page_colours_people_by_day_and_compares_with_well_mixed():
    at = open_page("network")
    assert "no social graph" in at.info[0].value
    at.selectbox(key="chosen").set_value("social_network").run()
    assert not at.exception
    assert any("not a measured effect" in c.value for c in at.caption)
    picture, adoption, chains = figures(at)
    late = {t.name: len(values(t.x)) for t in picture.data[1:-1]}  # the last rings the roots
    assert sum(late.values()) == 200  # the largest referral trees, 200 people of 30,000
    assert late["customer"] > 0
    assert [t.name for t in adoption.data if t.showlegend is not False] == [
        "social graph",
        "well mixed",
    ]
    assert values(chains.data[0].y)[0] > 0  # buyers in generation 0
    day = next(s for s in at.slider if s.label == "Day")
    day.set_value(0).run()
    assert not at.exception
    early = {t.name: len(values(t.x)) for t in figures(at)[0].data[1:-1]}
    assert "day 0" in figures(at)[0].layout.title.text
    assert early.get("customer", 0) < late["customer"]
    assert sum(early.values()) == 0  # no one had referred anyone by the end of the first day


def test_compare_needs_two_scenarios():
    at = open_page("compare")
    at.multiselect[0].set_value(["baseline"])
    at.button[0].click().run()
    assert not at.exception
    assert "at least two" in at.info[0].value
    assert not figures(at)


def test_scenario_editor_refuses_bad_yaml_and_takes_good():
    at = open_page("scenario")
    bad = at.text_area[0].value.replace("pass_prob: 0.60", "pass_prob: 1.60")
    line = next(n for n, text in enumerate(bad.splitlines(), 1) if "1.60" in text)
    at.text_area[0].set_value(bad)
    at.button(key="check").click().run()
    assert not at.exception
    assert f"line {line}: stages.know.pass_prob" in shown(at.error[0].value)

    good = at.text_area[0].value.replace("pass_prob: 1.60", "pass_prob: 0.65")
    at.text_area[0].set_value(good.replace("name: baseline", "name: my_shop"))
    at.button(key="check").click().run()
    assert not at.error
    assert "my_shop" in at.selectbox(key="chosen").options
    assert at.selectbox(key="chosen").value == "my_shop"


def test_run_caps_refuse_huge_runs():
    at = open_page("trainer", reps=50)  # the baseline brings about 90,000 prospects a run
    assert not at.error  # one run is within the cap
    assert figures(at)


def test_import_page_fits_uploaded_exports_and_opens_the_scenario():
    run = repeat_buying_run()
    deals = export_deals(run).to_csv(index=False).encode()
    tx = varied_spend_transactions(run)
    purchases = tx.to_csv(index=False).encode()
    at = open_page("import")
    at.file_uploader(key="deals").upload("deals.csv", deals, "text/csv")
    at.file_uploader(key="transactions").upload("tx.csv", purchases, "text/csv")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value.set_index("stage")
    assert list(table.index) == [LABELS["en"][stage] for stage in FUNNEL]
    assert table.loc["Know", "pass probability"] == pytest.approx(0.7, abs=0.05)
    assert {"r", "alpha", "a", "b", "p", "q", "v"} == set(at.dataframe[1].value["parameter"])
    assert len(figures(at)) == 2
    at.button(key="open-calibrated").click().run()
    assert at.selectbox(key="chosen").value == "calibrated"
    assert "calibrated" in at.success[0].value


def test_import_page_shows_what_is_wrong_with_a_bad_export():
    at = open_page("import")
    bad = (ROOT / "tests" / "data" / "bad_crm" / "missing_column.csv").read_bytes()
    at.file_uploader(key="deals").upload("deals.csv", bad, "text/csv")
    at.button[0].click().run()
    assert not at.exception
    assert "deals.csv" in shown(at.error[0].value) or "missing" in at.error[0].value.lower()
    at.switch_page(script("trainer")).run()
    assert not at.exception and figures(at)


def test_scenario_upload_refuses_tags_and_takes_a_good_file():
    at = open_page("scenario")
    tagged = (ROOT / "tests" / "data" / "bad" / "object_tag.yaml").read_bytes()
    at.file_uploader(key="upload").upload("tagged.yaml", tagged, "application/yaml").run()
    assert "not valid YAML" in at.error[0].value
    reads_a_file = (ROOT / "tests" / "data" / "network" / "small_town.yaml").read_text()
    reads_a_file = reads_a_file.replace("friends.csv", str(ROOT / "pyproject.toml"))
    at.file_uploader(key="upload").upload("net.yaml", reads_a_file.encode(), "text/yaml").run()
    assert "may not name files" in at.error[0].value
    assert "pyproject" not in at.selectbox(key="chosen").value
    good = (
        (ROOT / "scenarios" / "no_referrals.yaml")
        .read_text()
        .replace("name: no_referrals", "name: uploaded_shop")
    )
    at.file_uploader(key="upload").upload("shop.yaml", good.encode(), "application/yaml").run()
    assert at.selectbox(key="chosen").value == "uploaded_shop"


@pytest.mark.parametrize("address", list(SCRIPTS))
def test_every_page_renders_under_its_heading(address):
    at = open_page(address)
    heading, charts = ADDRESSES[address]
    assert [h.value for h in at.header] == [heading]
    assert len(at.get("plotly_chart")) == charts
    assert not at.error


def imported(path: Path) -> Iterator[str]:
    """The modules a Python file imports."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_only_the_app_imports_streamlit():
    """The library below the dashboard never imports streamlit; its pages and helpers do."""
    importers = {
        path.relative_to(ROOT / "hourglass").parts[0]
        for path in (ROOT / "hourglass").rglob("*.py")
        if any(m.split(".")[0] == "streamlit" for m in imported(path))
    }
    assert importers == {"app"}


def test_scenario_editor_refuses_text_over_the_upload_cap():
    at = open_page("scenario")
    text = at.text_area[0].value.replace("name: baseline", "name: padded")
    padded = text + "# " + "x" * widgets.MAX_SCENARIO_MB * widgets.BYTES_PER_MB + "\n"
    at.text_area[0].set_value(padded)
    at.button(key="check").click().run()
    assert not at.exception
    size = len(padded.encode())
    assert at.error[0].value == widgets.escape(
        f"baseline.yaml: {size:,} bytes; a scenario may have at most 1,048,576 (1 MB). "
        "Nothing was changed."
    )
    assert "padded" not in at.selectbox(key="chosen").options
    assert at.text_area[0].value == padded  # the edit is still there to shorten


def test_uploaders_show_the_limit_they_enforce():
    """Each uploader's shown limit is its real one, and the server's is the largest."""
    scenario = open_page("scenario")
    upload = scenario.file_uploader(key="upload")
    assert upload.proto.max_upload_size_mb == 1
    assert "kB" not in upload.label and "MB" not in upload.label  # the widget says it
    padded = (
        (ROOT / "scenarios" / "no_referrals.yaml")
        .read_text()
        .replace("name: no_referrals", "name: padded_shop")
        + "# "
        + "x" * 300_000
        + "\n"
    )  # over the old 256,000-byte cap, under 1 MB
    upload.upload("padded.yaml", padded.encode(), "text/yaml").run()
    assert scenario.selectbox(key="chosen").value == "padded_shop"
    too_big = b"x" * (widgets.BYTES_PER_MB + 1)
    scenario.file_uploader(key="upload").upload("big.yaml", too_big, "text/yaml").run()
    assert "big.yaml: 1,048,577 bytes; a scenario may have at most 1,048,576" in shown(
        scenario.error[0].value
    )
    csv_page = open_page("import")
    limits = [csv_page.file_uploader(key=k).proto.max_upload_size_mb for k in CSV_UPLOADERS]
    assert limits == [50, 50]
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == max(limits) == widgets.MAX_CSV_MB


def test_the_address_chooses_russian_and_presentation_mode():
    at = AppTest.from_file(DASHBOARD, default_timeout=180)
    at.session_state["reps"] = 2
    at.query_params["lang"] = "ru"
    at.query_params["present"] = "1"
    at.switch_page(script("scenario")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="language").value == "ru"
    assert widget(at.slider, "Число прогонов").value == 2
    assert any("stSidebar" in m.value for m in at.markdown)  # the sidebar is hidden
    leave = next(b for b in at.button if b.label == "Выйти из презентации")
    leave.click().run()
    assert not any("stSidebar" in m.value for m in at.markdown)
    assert at.query_params["present"] == "0"


def test_a_projected_figure_is_large_and_an_exported_one_says_what_it_shows():
    fig = go.Figure(go.Bar(x=[1, 2], y=["Know", "Like"]))
    big = hg_plots().for_projector(fig)
    assert big.layout.font.size >= 18 and big.layout.yaxis.tickfont.size >= 18
    assert fig.layout.font.size is None  # the page's own figure is left as it was
    footed = hg_plots().footed(fig, "baseline · seed 1 · 8 replications")
    assert footed.layout.annotations[-1].text == "baseline · seed 1 · 8 replications"


def hg_plots():
    import hourglass as hg

    return hg.plots


def test_the_import_page_speaks_russian():
    deals = (ROOT / "tests" / "data" / "crm" / "hourglass.csv").read_bytes()
    at = AppTest.from_file(DASHBOARD, default_timeout=180)
    at.query_params["lang"] = "ru"
    at.switch_page(script("scenario")).run()
    at.switch_page(script("import")).run()
    assert at.header[0].value == "Загрузка данных"
    at.file_uploader(key="deals").upload("deals.csv", deals, "text/csv")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert list(table.columns[:2]) == ["этап", "вероятность прохода"]
    assert table.iloc[0, 0] == "Знать"
    assert at.subheader[0].value.startswith("Оценено по данным с ")  # noqa: RUF001


def test_the_network_page_speaks_russian_with_russian_numbers():
    at = AppTest.from_file(DASHBOARD, default_timeout=180)
    at.session_state["reps"] = 2
    at.query_params["lang"] = "ru"
    at.switch_page(script("scenario")).run()
    at.switch_page(script("network")).run()
    at.selectbox(key="chosen").set_value("social_network").run()
    assert not at.exception, [e.value for e in at.exception]
    said = " ".join(c.value for c in at.caption)
    assert "по заявлению LinkedIn" in said and "на 45" in said and "45%" not in said
    assert "LinkedIn's claim" not in said
    shares = [m.value for m in at.metric if m.label in ("Клиенты", "Их знакомые, которые купили")]
    assert len(shares) == 2 and all("," in v and v.endswith("\u00a0%") for v in shares), shares
