"""Fuzzing: scenario files, command-line flags and CSV exports end in a result or a clean error.

Each property draws inputs with hypothesis (seeded by `derandomize`, so every run tries the
same ones, and bounded by `max_examples`): mutated shipped scenarios, flag values and CRM or
transaction files. The only outcomes allowed are a result or the library's own error with a
message (exit code 2 on the command line), never another exception or a traceback. The work
each draw asks for is kept small (a five-day scenario, two replications, short grids);
unbounded work has examples of its own at the end, with the defects found so far.
"""

from __future__ import annotations

import copy
import math
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

import hourglass
from hourglass.calibration import CrmMapping, DataError
from hourglass.cli import app
from tests.helpers import ROOT, SCENARIOS, make_scenario

pytestmark = pytest.mark.slow  # 40 to 50 seconds on one core

FUZZ = settings(
    derandomize=True,
    deadline=timedelta(seconds=20),
    phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure costs no extra minutes
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
SHIPPED_TEXT = {p.name: p.read_text(encoding="utf-8") for p in SCENARIOS}
SHIPPED_DATA = [yaml.safe_load(text) for text in SHIPPED_TEXT.values()]
NAN, INF = math.nan, math.inf
# inputs, several to a line
# fmt: off
JUNK_VALUES = (
    0, -1, 1e300, -1e300, 1e-300, NAN, INF, -INF, 2**64, -(2**63), "", "x" * 100_000,
    "é☃\u202e\U0001f600", "![](http://example.invalid/x.png)", "1:2", None, True, [], {},
    [1, "a", None], {"a": {"b": None}},
)
JUNK_KEYS = ("", "x" * 10_000, "é☃\u202e", "![](http://example.invalid/x.png)", "<<", "1", 1, None)
YAML_EDGES = (
    "? [a]\n: 1\n", "[" * 500 + "\n", '"\\ud800": 1\n', "<<: *x\n",
    "base: &x {name: anchored}\nother:\n  <<: *x\n", "!!python/object/apply:os.system [echo]\n",
    "a: !!binary AAAA\n", "a: !!set {b, c}\n", "a: !custom 1\n", "a: *undefined\n",
    "---\nname: second\n", "...\n", "%YAML 1.1\n---\n", "\ta: tab\n", "a: {b: [c, {d: e}]\n",
    "'unterminated\n", "a:\n  - b\n - c\n", "horizon_days: 0x1F\n", "horizon_days: .nan\n",
    "horizon_days: 1_0\n", "horizon_days: 2:12\n", "seed: 99999999999999999999999999\n",
    "description: " + "é" * 100_000 + "\n", "\ufeff", "\x00", "\r\n",
)
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1251", "latin-1")
# fmt: on


def outcome(call: Callable[[], Any], allowed: tuple[type[Exception], ...]) -> Any:
    """The call's result, or None after one of the allowed errors with a message."""
    try:
        return call()
    except allowed as err:
        assert str(err).strip(), f"{type(err).__name__} with no message"
        return None


def rarely(draw: st.DrawFn, usual: Any, junk: tuple) -> Any:
    """The usual value, or one in eight times a junk one."""
    return draw(st.sampled_from(junk)) if draw(st.integers(0, 7)) == 0 else usual


# --- scenario files --------------------------------------------------------------------------


@st.composite
def mutated_data(draw: st.DrawFn) -> dict:
    """A shipped scenario as plain data, with one to three keys dropped, replaced or renamed."""
    data = copy.deepcopy(draw(st.sampled_from(SHIPPED_DATA)))
    for _ in range(draw(st.integers(1, 3))):
        mutate(draw, data)
    return data


def mutate(draw: st.DrawFn, node: dict | list) -> None:
    """Walk down from `node` to a random entry and break it one way."""
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            return
        key = draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, dict | list) and child and draw(st.booleans()):
            node = child
            continue
        action = draw(st.sampled_from(("drop", "replace", "rename")))
        if action == "drop":
            del node[key]
        elif action == "replace" or isinstance(node, list):
            node[key] = draw(st.sampled_from(JUNK_VALUES) | st.floats() | st.integers())
        else:
            node[draw(st.sampled_from(JUNK_KEYS))] = node.pop(key)
        return


@st.composite
def mutated_text(draw: st.DrawFn) -> bytes:
    """A shipped scenario file with YAML edge syntax put in, cut short or re-encoded."""
    lines = draw(st.sampled_from(list(SHIPPED_TEXT.values()))).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 2))):
        at = draw(st.integers(0, len(lines)))
        action = draw(st.sampled_from(("insert", "value", "cut", "text")))
        if action == "insert":
            lines.insert(at, draw(st.sampled_from(YAML_EDGES)))
        elif action == "value" and at < len(lines) and ":" in lines[at]:
            key = lines[at].split(":", 1)[0]
            lines[at] = f"{key}: {draw(st.sampled_from(YAML_EDGES)).strip()}\n"
        elif action == "cut":
            lines = lines[:at]
        else:
            lines.insert(at, draw(st.text(max_size=40)) + "\n")
    text = "".join(lines)
    encoding = draw(st.sampled_from(("utf-8", "utf-8", "utf-16", "latin-1")))
    return text.encode(encoding, errors="replace")


@settings(FUZZ, max_examples=150)
@given(mutated_data())
def test_mutated_scenario_data_is_a_scenario_or_a_scenario_error(data):
    scenario = outcome(
        lambda: hourglass.parse_scenario(data, source="fuzz.yaml"), (hourglass.ScenarioError,)
    )
    assert scenario is None or isinstance(scenario, hourglass.Scenario)


@settings(FUZZ, max_examples=120)
@given(mutated_text())
def test_mutated_scenario_files_load_or_say_why(raw):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "fuzz.yaml")
        path.write_bytes(raw)
        scenario = outcome(lambda: hourglass.load_scenario(path), (hourglass.ScenarioError,))
    assert scenario is None or isinstance(scenario, hourglass.Scenario)


def check_file(raw: bytes) -> subprocess.CompletedProcess:
    """`hourglass check` on a file of these bytes, as a user runs it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "fuzz.yaml")
        path.write_bytes(raw)
        return subprocess.run(
            [sys.executable, "-m", "hourglass.cli", "check", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )


@settings(FUZZ, max_examples=4)
@given(mutated_text())
def test_check_answers_mutated_files_without_a_traceback(raw):
    proc = check_file(raw)
    assert proc.returncode in (0, 2), proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode == 0 or proc.stderr.startswith("error: ")


# --- command-line flags ----------------------------------------------------------------------

RUNNER = CliRunner()
CRM_EXAMPLE = ROOT / "tests" / "data" / "crm" / "hourglass.csv"
TINY = make_scenario(
    horizon_days=5.0,
    channels={
        "organic": {"prospects_per_day": 2.0},
        "paid": {"ads": {"budget_per_month": 100.0, "cost_per_prospect": 10.0}},
    },
)
NUMBERS = ("0", "-1", "1", "2", "1e3", "2.5", "", "x", "nan", "inf", "-inf", "1e300", "0x10")
BIG_INTS = (str(2**32), str(2**64), str(2**128), "-" + str(2**64))
SCHEDULERS = ("tls://127.0.0.1:1", "ucx://x", "inproc://x", "tcp://[::1", "", "junk")
# fmt: off
VARY_PATHS = ("horizon_days", "stages.know.pass_prob", "seed", "nope", "", "stages..x", "stages")
VARY_VALUES = (
    "1:3:1", "0.2:0.8:0.3", "2,3", "0.5", "2:12", "5:1:1", "1:2:0", "1:2:-1", "1,,2", "inf",
    "nan", "-1", "1e300", "{a: 1}", "[1, 2", "!!python/object:os.system", "", ":", "::",
    "a:b:c", "1:2:3:4", "é",
)
DATES = (
    "2026-03-01", "2026-03-01T00:00:00+03:00", "01/03/2026", "9999-01-01", "1500-01-01",
    "2026-13-45", "", "junk", "1767225600",
)
# fmt: on


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A five-day scenario with one paid line, so every command has little to do.

    Beside it, `other.yaml`: the same under another name, to compare with.
    """
    path = tmp_path_factory.mktemp("fuzz") / "tiny.yaml"
    path.write_text(TINY.to_yaml(), encoding="utf-8")
    other = TINY.with_overrides({"name": "other"})
    (path.parent / "other.yaml").write_text(other.to_yaml(), encoding="utf-8")
    return path


@st.composite
def flags(draw: st.DrawFn, command: str, tiny: Path) -> list[str]:
    """A command line for `command` on the tiny scenario, its flags drawn from junk and sense."""
    serial = ["--backend", rarely(draw, "serial", ("nope", "", "SERIAL"))]
    if draw(st.integers(0, 7)) == 0:
        serial += ["--scheduler", draw(st.sampled_from(SCHEDULERS))]
    seed = ["--seed", rarely(draw, "3", NUMBERS + BIG_INTS)] if draw(st.booleans()) else []
    reps = rarely(draw, draw(st.sampled_from(("1", "2"))), ("0", "-1", "100001", "x", *BIG_INTS))
    if command == "run":
        precision = draw(st.sampled_from(((), ("--precision", "1"), ("--precision", "nan"))))
        return ["run", str(tiny), "--reps", reps, *seed, *serial, *precision]
    if command == "compare":
        other = str(tiny.parent / "other.yaml")
        pair = [str(tiny), rarely(draw, other, (str(tiny),))]
        return ["compare", *pair, "--reps", reps, *seed, *serial]
    if command == "sweep":
        varies = []
        for _ in range(draw(st.integers(0, 2))):
            path, values = draw(st.sampled_from(VARY_PATHS)), draw(st.sampled_from(VARY_VALUES))
            varies += ["--vary", rarely(draw, f"{path}={values}", (values,))]
        return ["sweep", str(tiny), "--reps", "2", *varies, *seed, *serial]
    if command == "calibrate":
        return calibrate_flags(draw, tiny.parent)
    budget = draw(st.sampled_from(("100", "0", "-1", "nan", "inf", "x", "1e300", "1e-300")))
    bounds = draw(st.sampled_from(((), ("--min", "ads=50"), ("--max", "ads=x"), ("--min", "="))))
    objective = draw(st.sampled_from(("profit", "buyers", "nope", "")))
    return ["optimize", str(tiny), "--budget", budget, "--objective", objective, *bounds]


def calibrate_flags(draw: st.DrawFn, folder: Path) -> list[str]:
    """`calibrate` on the three-deal example export, its options drawn from junk and sense."""
    args = ["calibrate", "--deals", str(CRM_EXAMPLE), "-o", str(folder / "calibrated.yaml")]
    if draw(st.booleans()):
        args += ["--until", draw(st.sampled_from(DATES))]
    if draw(st.integers(0, 3)) == 0:
        args += ["--crm", draw(st.sampled_from(("hourglass", "bitrix24", "nope", "")))]
    if draw(st.integers(0, 3)) == 0:
        args += ["--column", draw(st.sampled_from(("stage=stage", "=", "nope=x", "stage")))]
    if draw(st.integers(0, 3)) == 0:
        args += ["--seed", draw(st.sampled_from(NUMBERS + BIG_INTS))]
    return args


def assert_clean_exit(args: list[str]) -> None:
    """The command ends with 0 or 2 (a message, or typer's usage error), never an exception."""
    result = RUNNER.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        repr(result.exception),
    )
    assert result.exit_code in (0, 2), (args, result.exit_code, result.output[-500:])


@settings(FUZZ, max_examples=50)
@given(
    data=st.data(),
    command=st.sampled_from(("run", "compare", "sweep", "optimize", "calibrate")),
)
def test_random_flags_give_a_result_or_a_message(tiny, data, command):
    args = data.draw(flags(command, tiny))
    if command == "optimize":
        args += ["--reps", "2", "--backend", "serial"]
    assert_clean_exit(args)


@settings(FUZZ, max_examples=20)
@given(path=st.sampled_from(("/dev/null", "/nonexistent/s.yaml", "", ".", "scenarios", "é.yaml")))
def test_check_of_paths_that_are_no_scenario_gives_a_message(path):
    assert_clean_exit(["check", path])


# --- CSV inputs ------------------------------------------------------------------------------

DEAL_COLUMNS = ("deal_id", "stage", "entered_at", "left_at", "outcome", "source", "loss_reason")
STAGES = ("know", "like", "trust", "try", "buy", "won", "lost", "KNOW", "nope", "")
OUTCOMES = ("won", "lost", "", "open", "WON", "maybe")
NAMES = ("ann", "Анна Петрова", "bob", "", "![](http://example.invalid/x.png)", "x" * 500)
DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y")
ODD_DATES = ("2099-01-01", "1500-01-01", "3000-12-31", "", "junk", "0", "2026-02-30")
AMOUNTS = ("12.50", "0", "-5", "1e300", "nan", "inf", "1,5", "1 000", "", "abc", "9" * 400)


@st.composite
def dates(draw: st.DrawFn) -> str:
    """A date in one of several formats, or an odd one."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(ODD_DATES))
    day = pd.Timestamp("2026-01-01") + pd.Timedelta(days=draw(st.integers(0, 200)))
    return day.strftime(draw(st.sampled_from(DATE_FORMATS)))


def encoded(draw: st.DrawFn, frame: pd.DataFrame) -> bytes:
    """A table as CSV bytes, in a drawn encoding and separator, some columns dropped."""
    dropped = draw(st.lists(st.sampled_from(list(frame.columns)), max_size=2, unique=True))
    frame = frame.drop(columns=dropped) if draw(st.integers(0, 4)) == 0 else frame
    text = frame.to_csv(index=False, sep=draw(st.sampled_from((",", ",", ";", "\t"))))
    return text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")


@st.composite
def crm_exports(draw: st.DrawFn) -> bytes:
    """A deal-stage history: deals going through stages in order, with junk here and there."""
    rows = []
    fmt = draw(st.sampled_from(DATE_FORMATS))
    for deal in range(draw(st.integers(1, 12))):
        source, seller = draw(st.sampled_from(NAMES)), draw(st.sampled_from(NAMES))
        day = pd.Timestamp("2026-01-01") + pd.Timedelta(days=draw(st.integers(0, 100)))
        passed = draw(st.integers(1, 5))
        for number, stage in enumerate(STAGES[:passed]):
            left = day + pd.Timedelta(days=draw(st.integers(0, 20)))
            last = number == passed - 1
            rows.append(
                {
                    "deal_id": rarely(draw, str(deal), ("", "x", "1e300")),
                    "stage": rarely(draw, stage, STAGES),
                    "entered_at": rarely(draw, day.strftime(fmt), ODD_DATES),
                    "left_at": rarely(draw, left.strftime(fmt), ODD_DATES),
                    "outcome": draw(st.sampled_from(OUTCOMES)) if last else "",
                    "source": source,
                    "loss_reason": draw(st.sampled_from(("", "price", "Цена"))),
                    "seller": seller,
                }
            )
            day = left
    return encoded(draw, pd.DataFrame(rows))


@st.composite
def transaction_logs(draw: st.DrawFn) -> bytes:
    """A transaction log: customers, dates and amounts, with junk here and there."""
    size = draw(st.integers(1, 30))
    frame = pd.DataFrame(
        {
            "customer_id": [rarely(draw, str(n % 4), ("", "x")) for n in range(size)],
            "date": [draw(dates()) for _ in range(size)],
            "amount": [rarely(draw, AMOUNTS[0], AMOUNTS) for _ in range(size)],
        }
    )
    return encoded(draw, frame)


CLEAN = (DataError, hourglass.ScenarioError)


@st.composite
def mappings(draw: st.DrawFn) -> CrmMapping | None:
    """No mapping (the columns tell), or one with a drawn date format and day order."""
    if draw(st.booleans()):
        return None
    fmt = draw(st.sampled_from((None, *DATE_FORMATS, "no directive", "")))
    return CrmMapping(date_format=fmt, dayfirst=draw(st.booleans()))


@settings(FUZZ, max_examples=100)
@given(crm_exports(), mappings())
def test_random_crm_exports_are_read_or_refused_cleanly(raw, mapping):
    deals = outcome(lambda: hourglass.calibration.read_deals(raw, mapping, name="deals.csv"), CLEAN)
    assert deals is None or len(deals.visits) > 0


@settings(FUZZ, max_examples=100)
@given(transaction_logs())
def test_random_transaction_logs_are_read_or_refused_cleanly(raw):
    log = outcome(lambda: hourglass.calibration.read_transactions(raw, name="tx.csv"), CLEAN)
    assert log is None or len(log.rows) > 0


@settings(FUZZ, max_examples=25)
@given(crm_exports(), st.none() | transaction_logs(), st.sampled_from((None, *DATES)))
def test_random_exports_calibrate_or_are_refused_cleanly(deals, transactions, until):
    cal = outcome(lambda: hourglass.calibrate(deals, transactions, until=until), CLEAN)
    assert cal is None or isinstance(cal.scenario, hourglass.Scenario)


# --- defects the properties above found, each kept as an example ------------------------


@pytest.mark.parametrize("until", ["junk", "2026-13-45", "1767225600"])
def test_an_odd_until_is_refused_cleanly(until):
    with pytest.raises(CLEAN, match="until"):
        hourglass.calibrate(CRM_EXAMPLE.read_bytes(), until=until)


@pytest.mark.parametrize("fmt", ["%", "%Q"])
def test_a_date_format_python_cannot_read_is_refused_cleanly(fmt):
    with pytest.raises(ValidationError, match="date_format"):
        CrmMapping(date_format=fmt)


def test_a_far_future_deal_is_refused_or_noted():
    export = (
        "deal_id,stage,entered_at,left_at,outcome\n"
        "1,know,2099-01-01,2099-01-02,won\n"
        "2,know,2026-01-01,2026-01-02,lost\n"
    )
    cal = outcome(lambda: hourglass.calibrate(export), CLEAN)
    assert cal is None or cal.until_date.year == 2026  # not a period of 73 years


def test_a_year_3000_is_refused_or_left_out_cleanly():
    export = "deal_id,stage,entered_at\n1,know,2026-01-01\n2,know,3000-12-31\n"
    deals = outcome(lambda: hourglass.calibration.read_deals(export), CLEAN)
    assert deals is None or deals.until < 365  # not a period of ten centuries
