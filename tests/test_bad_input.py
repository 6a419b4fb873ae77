"""Bad input of every kind gets a message naming what is wrong and where, never a traceback.

Scenario files, --vary, rich markup in user text, edge lists and optimize's amounts.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hourglass import ScenarioError, load_scenario
from hourglass.config import parse_scenario_text
from hourglass.config.graph import MAX_EDGE_FILE_BYTES, file_keys, load_edge_list
from hourglass.config.loading import MAX_NESTING, MAX_SCENARIO_BYTES
from hourglass.experiments import parse_vary
from hourglass.experiments.sweeps import MAX_POINTS, grid
from tests.helpers import ROOT, exits_2_saying, make_scenario, run_cli

NETWORK = ROOT / "tests" / "data" / "network"
BUDGETS = "scenarios/marketing_budgets.yaml"

_STAGES = "\n".join(f"  {s}: {{pass_prob: 0.5}}" for s in ("know", "like", "trust", "try", "buy"))
SMALL = f"""name: shop
horizon_days: 20
channels:
  organic: {{prospects_per_day: 5}}
stages:
{_STAGES}
after_sale:
  order_value: {{fixed: {{value: 10}}}}
"""


def _write(folder: Path, text: str, name: str = "scenario.yaml") -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# YAML structure


def test_a_list_as_a_key_is_refused_with_its_line(tmp_path):
    exits_2_saying(
        ["check", _write(tmp_path, "name: shop\n? [a]\n: 1\n")],
        "scenario.yaml: line 2: not valid YAML: a key must be a single value (a name or a "
        "number), not a list",
    )


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path):
    exits_2_saying(
        ["check", _write(tmp_path, "name: " + "[" * 500 + "\n")],
        f"line 1: not valid YAML: lists and mappings nested more than {MAX_NESTING} deep",
    )


def test_a_lone_surrogate_is_refused_with_its_line(tmp_path):
    exits_2_saying(
        ["check", _write(tmp_path, 'name: shop\n"\\ud800": 1\n')],
        "line 2: not valid YAML: a \\ud800 to \\udfff escape alone is no character",
    )


def test_merge_keys_work_and_the_keys_beside_them_win(tmp_path):
    text = SMALL.replace("  know: {pass_prob: 0.5}", "  know: &usual {pass_prob: 0.5}")
    text = text.replace("  like: {pass_prob: 0.5}", "  like: {<<: *usual, pass_prob: 0.7}")
    text = text.replace("  trust: {pass_prob: 0.5}", "  trust: {<<: *usual}")
    scenario = load_scenario(_write(tmp_path, text))
    assert scenario.stages["like"].pass_prob == 0.7
    assert scenario.stages["trust"].pass_prob == 0.5


def test_a_number_too_long_to_read_is_refused_with_its_line():
    text = SMALL.replace("horizon_days: 20", "horizon_days: 1" + "0" * 5000)
    with pytest.raises(ScenarioError) as err:
        parse_scenario_text(text, "big")
    assert str(err.value) == "big: line 2: not valid YAML: a whole number too long to read"


def test_a_nan_horizon_is_called_not_finite():
    text = SMALL.replace("horizon_days: 20", "horizon_days: .nan")
    with pytest.raises(ScenarioError) as err:
        parse_scenario_text(text, "nan")
    assert str(err.value) == "nan: line 2: horizon_days: must be a finite number, not nan"


def test_a_nul_character_names_its_line():
    with pytest.raises(ScenarioError) as err:
        parse_scenario_text("name: shop\ndescription: a\x00b\n", "nul")
    assert str(err.value).startswith("nul: line 2: not valid YAML: unacceptable character")


# What is read as a scenario file


def test_dev_null_is_called_empty_not_missing():
    exits_2_saying(["check", "/dev/null"], "/dev/null: an empty file (the null device)")


def test_dev_zero_is_refused_unread():
    exits_2_saying(["check", "/dev/zero"], "/dev/zero: a device, not a scenario file")


def test_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    exits_2_saying(["check", str(fifo)], "pipe.yaml: a named pipe (FIFO), not a scenario file")


def test_an_empty_file_is_called_empty(tmp_path):
    exits_2_saying(["check", _write(tmp_path, "\n\n")], "scenario.yaml: empty file")


def test_an_oversized_scenario_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(40_000_000)  # sparse: 40 MB that nothing has to write
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as err:
        load_scenario(big)
    assert time.perf_counter() - started < 1.0
    assert str(err.value) == (
        f"{big}: 40,000,000 bytes; a scenario file may hold at most {MAX_SCENARIO_BYTES:,}"
    )


def test_a_file_of_many_tiny_values_is_refused_at_the_value_cap(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text("name: shop\nlist: [" + ",".join(["1"] * 200_000) + "]\n")
    words = r"line 2: not valid YAML: more than 20,000 values; a scenario holds far fewer"
    with pytest.raises(ScenarioError, match=words):
        load_scenario(path)


def test_a_file_not_in_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"name: shop\ndescription: caf\xe9\n")
    with pytest.raises(ScenarioError, match=r"latin.yaml: line 2: not UTF-8 text \(byte 0xe9\)"):
        load_scenario(path)


def test_a_malformed_name_says_what_a_name_may_be(tmp_path):
    exits_2_saying(
        ["check", _write(tmp_path, SMALL.replace("name: shop", "name: My Shop"))],
        "line 1: name: 'My Shop' is not a name: use lower-case letters, digits and _",
    )


def test_a_file_name_holding_nul_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match=r"not a file name \(it holds a NUL character\)"):
        load_scenario(tmp_path / "a\0b.yaml")


# --vary


def test_vary_range_is_not_read_as_base_60():
    assert parse_vary("sales.sellers=2:12").values == tuple(range(2, 13))
    assert parse_vary("sales.sellers=2:12:5").values == (2, 7, 12)


def test_a_sweep_over_a_range_runs_the_values_written(tmp_path):
    args = ["sweep", _write(tmp_path, SMALL), "--vary", "horizon_days=20:21", "--reps", "1"]
    proc = subprocess.run(
        [sys.executable, "-m", "hourglass.cli", *args, "--backend", "serial", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["rows"]
    assert sorted({row["horizon_days"] for row in rows}) == [20, 21]  # not 1221 (base 60)


def test_vary_values_are_numbers_booleans_or_words_not_yaml():
    values = parse_vary("x=3,0.5,1e3,true,False,on,en").values
    assert values == (3, 0.5, 1000.0, True, False, "on", "en")
    assert [type(v) for v in values[:3]] == [int, float, float]


@pytest.mark.parametrize(
    ("vary", "words"),
    [
        ("sales.sellers=inf", "--vary sales.sellers=inf: 'inf' is not a finite number"),
        ("sales.sellers=1,nan", "'nan' is not a finite number"),
        ("sales.sellers=!!python/name:os.system", "must be numbers, not '!!python/name'"),
        ("sales.sellers=&a [1]", "'&a [1]' is not a number, true/false or a plain word"),
        ("sales.sellers=1:1e12:1", "1,000,000,000,000 values; a sweep has at most 10,000"),
        ("stages.know.pass_prob=0:1:1e-8", "100,000,001 values; a sweep has at most 10,000"),
        ("sales sellers=1", "'sales sellers' is not a field path"),
    ],
)
def test_bad_vary_is_refused_before_any_value_is_built(vary, words):
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as err:
        parse_vary(vary)
    assert words in str(err.value)
    assert time.perf_counter() - started < 0.5


def test_vary_on_the_command_line_names_the_flag():
    exits_2_saying(
        ["sweep", "scenarios/seller_bottleneck.yaml", "--vary", "sales.sellers=0:1:1e-8"],
        "--vary sales.sellers=0:1:1e-8: 100,000,001 values",
    )


def test_a_grid_is_counted_before_its_points_are_built():
    varies = [parse_vary(f"{p}=0:0.99:0.01") for p in ("a", "b", "c")]
    with pytest.raises(ScenarioError, match=r"1,000,000 grid points \(100 x 100 x 100\)"):
        grid(make_scenario(), varies)


# Rich markup in user text


def test_brackets_in_user_text_are_printed_as_written(tmp_path):
    description = "Prices [/] in [bold]EUR[/bold], band [p5, p95]"
    text = SMALL.replace("horizon_days", f"description: {json.dumps(description)}\nhorizon_days")
    out = tmp_path / "results [/] [bold]"
    args = ["run", _write(tmp_path, text), "--reps", "2", "--backend", "serial", "--out", str(out)]
    proc = run_cli(args)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert description in lines
    assert any(line.strip() == "KPIs (mean [p5, p95])" for line in lines)
    assert any(line.startswith("│ Buyers ") for line in lines)
    said = " ".join(proc.stdout.split())  # undo the wrapping of the last line
    assert said.endswith(f"Saved the tables (Parquet) and manifest.json to {out}/")


# Edge lists


def _town(folder: Path, edges: str) -> Path:
    """The small-town scenario in `folder`, its people beside it, its links at `edges`."""
    shutil.copy(NETWORK / "people.csv", folder / "people.csv")
    text = (NETWORK / "small_town.yaml").read_text().replace("friends.csv", edges)
    return Path(_write(folder, text))


def _refused(scenario: Path, words: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as err:
        load_scenario(scenario)
    assert time.perf_counter() - started < 5.0
    assert str(err.value).startswith(f"{scenario}: line 5: network.edge_list")
    assert words in str(err.value)


def test_an_edge_list_field_over_the_csv_limit_names_its_line(tmp_path):
    (tmp_path / "links.csv").write_text("a,b\nann,bob\n" + "x" * 200_000 + ",bob\n")
    _refused(
        _town(tmp_path, "links.csv"),
        "links.csv: line 3: not a CSV file: a field longer than 131,072 characters",
    )


def test_an_edge_list_fifo_is_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "links.csv")
    _refused(_town(tmp_path, "links.csv"), "links.csv: not a regular file (a device or pipe)")


@pytest.mark.parametrize("edges", ["/dev/zero", "../outside.csv", "zero.csv", "elsewhere.csv"])
def test_an_edge_list_outside_the_scenario_folder_is_refused(tmp_path, edges):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(NETWORK / "friends.csv", tmp_path / "outside.csv")
    (home / "zero.csv").symlink_to("/dev/zero")
    (home / "elsewhere.csv").symlink_to(tmp_path / "outside.csv")
    _refused(
        _town(home, edges),
        f"edges: {edges}: outside the scenario's folder ({home.resolve()}); put the file "
        "beside the scenario file",
    )


def test_an_edge_list_name_holding_nul_is_refused(tmp_path):
    _refused(_town(tmp_path, '"links\\0.csv"'), "not a file name (it holds a NUL character)")


def test_an_edge_list_in_a_folder_below_the_scenario_is_read(tmp_path):
    (tmp_path / "graph").mkdir()
    shutil.copy(NETWORK / "friends.csv", tmp_path / "graph" / "friends.csv")
    assert load_scenario(_town(tmp_path, "graph/friends.csv")).market.size == 6


def test_an_oversized_edge_list_is_refused_unread(tmp_path):
    with (tmp_path / "links.csv").open("wb") as f:
        f.truncate(MAX_EDGE_FILE_BYTES + 1)
    _refused(
        _town(tmp_path, "links.csv"),
        f"{MAX_EDGE_FILE_BYTES + 1:,} bytes; an edge list may hold at most {MAX_EDGE_FILE_BYTES:,}",
    )


# Messages a marketer can act on


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--budget", "1e300"], "--budget 1e+300: at most 1,000,000,000,000 a month"),
        (
            ["--budget", "1000", "--min", "like=5000"],
            "--min like=5000 is more than the whole --budget 1000; lower --min or raise --budget",
        ),
        (
            ["--budget", "9000", "--min", "like=5000", "--max", "like=100"],
            "--min like=5000 is above --max like=100",
        ),
        (["--budget", "9000", "--max", "like=1e300"], "--max like=1e300: the amount must be"),
        (
            [
                "--budget",
                "30000",
                "--lock",
                "display_ads",
                "--lock",
                "search_ads",
                "--min",
                "like=15000",
            ],
            "'like': its minimum of 15,000.00 is above the 14,000.00 a month the budget leaves "
            "after the locked lines",
        ),
    ],
)
def test_optimize_names_the_flag_and_what_to_change(args, words):
    exits_2_saying(["optimize", BUDGETS, *args, "--reps", "2", "--backend", "serial"], words)


# Fuzzing: whatever is written, a scenario or a message naming the source, never a traceback

_YAML_BITS = st.sampled_from(
    [
        *("[", "]", "{", "}", ":", ",", "? ", "- ", "&a ", "*a", "<<: ", "!!", "\\ud800", '"'),
        *("'", "\n", "  ", "\t", "#", "~", ".inf", "1e400", "0x1F", "10:30", "yes", "---"),
    ]
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.integers(0, len(SMALL)), st.lists(_YAML_BITS | st.text(max_size=4), max_size=6))
def test_fuzzed_scenario_text_gets_a_scenario_or_a_message(at, bits):
    text = SMALL[:at] + "".join(bits) + SMALL[at:]
    try:
        parse_scenario_text(text, "fuzz.yaml")
    except ScenarioError as err:
        assert str(err).startswith("fuzz.yaml")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet="0123456789.:,-+eE infatrulsxyz[]{}!&*=_/", max_size=16))
def test_fuzzed_vary_gets_values_or_a_message(values):
    try:
        vary = parse_vary(f"sales.sellers={values}")
    except ScenarioError as err:
        assert str(err).startswith(f"--vary sales.sellers={values}")
    else:
        assert 1 <= len(vary.values) <= MAX_POINTS
        assert all(isinstance(v, bool | int | float | str) for v in vary.values)
        assert all(math.isfinite(v) for v in vary.values if isinstance(v, float))


def test_a_seed_beyond_what_a_browser_holds_exactly_is_refused():
    make_scenario(seed=2**53 - 1)
    words = r"seed: Input should be less than or equal to 9007199254740991"
    with pytest.raises(ScenarioError, match=words):
        make_scenario(seed=2**53)


def test_vary_of_the_seed_is_refused_for_it_would_be_ignored():
    with pytest.raises(ScenarioError, match="a sweep runs every point on the same seeds"):
        parse_vary("seed=1,2")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"horizon_days": True}, "horizon_days: a number is expected, not true"),
        ({"seed": False}, "seed: a number is expected, not false"),
        ({"channels__organic__prospects_per_day": True}, "prospects_per_day: a number is expected"),
    ],
)
def test_true_or_false_where_a_number_belongs_is_refused(changes, words):
    with pytest.raises(ScenarioError, match=words):
        make_scenario(**changes)


def test_varying_a_section_the_scenario_lacks_is_refused_not_ignored():
    exits_2_saying(
        ["sweep", "no_referrals", "--vary", "referral.win_prob=0.1,0.2", "--reps", "2"],
        "referral.win_prob: the scenario has no 'referral' section; add it to the scenario first",
    )


def test_loss_reason_shares_that_do_not_add_up_to_one_are_refused_naming_the_stage():
    stages = {name: {"pass_prob": 0.5} for name in ("know", "like", "trust", "try", "buy")}
    stages["buy"]["loss_reasons"] = {"price": 0.5, "timing": 0.2}
    with pytest.raises(ScenarioError, match=r"stages.buy.loss_reasons: the shares add up to 0.7"):
        make_scenario(stages=stages)
    stages["buy"]["loss_reasons"] = {"price": 0.3333333, "timing": 0.6666667}
    assert make_scenario(stages=stages).stages.buy.loss_reasons["price"] == 0.3333333


@pytest.mark.parametrize("header", ["", "source,target\n"])
@pytest.mark.parametrize("links", ["1,2\n2,3\n3,1\n", "ann,bob\nbob,cat\ncat,ann\n"])
def test_an_edge_list_is_read_whole_with_or_without_a_header(tmp_path, header, links):
    path = tmp_path / "links.csv"
    path.write_text(header + links)
    graph = load_edge_list(*file_keys(str(path), None))
    assert (graph.nodes, graph.edges) == (3, 3)


def test_a_scenario_named_as_a_shipped_one_is_kept_beside_it():
    from tests.test_dashboard import open_page, shown

    at = open_page("scenario")
    shipped = at.session_state["library"]["baseline"]
    mine = shipped.replace("pass_prob: 0.60", "pass_prob: 0.65")
    at.file_uploader(key="upload").upload("mine.yaml", mine.encode(), "application/yaml").run()
    assert at.selectbox(key="chosen").value == "baseline_2"
    assert at.session_state["library"]["baseline"] == shipped
    assert "'baseline' is the name of a shipped scenario, so this one is kept beside it as " in (
        shown(at.success[0].value)
    )


def test_the_import_page_takes_a_column_mapping_where_the_command_line_takes_flags():
    from tests.test_dashboard import open_page, shown

    deals = (ROOT / "tests" / "data" / "crm" / "hourglass.csv").read_text()
    renamed = deals.replace("stage,", "phase,", 1).encode()
    at = open_page("import")
    at.file_uploader(key="deals").upload("deals.csv", renamed, "text/csv")
    at.button[0].click().run()
    assert "give a column mapping file under 'Column mapping'" in shown(at.info[0].value)
    mapping = b"deals: {stage: phase}\n"
    at.file_uploader(key="mapping").upload("columns.yaml", mapping, "application/yaml")
    at.button[0].click().run()
    assert not at.error, [e.value for e in at.error]
    assert list(at.dataframe[0].value["stage"])[:1] == ["Know"]
