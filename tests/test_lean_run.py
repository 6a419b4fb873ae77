"""One run stays lean: log tables hold what their rows need; a run imports what it uses."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hourglass import log
from hourglass.log import Table

from .helpers import ROOT


def _resident_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_growing_table_takes_memory_only_for_its_rows():
    table = Table(value="f8")
    table.add_block(value=np.ones(3_000_000))  # 24 MB of rows, all of the capacity
    before = _resident_mb()
    table.add_row(2.0)
    table.settle()
    table.add_block(value=np.ones(1))  # full: the table grows
    grown = _resident_mb() - before
    assert table.count == 3_000_002
    assert grown < 6.0  # writing zeros over the spare half would take 12 MB and more
    assert table.freeze()["value"][-2:].tolist() == [2.0, 1.0]


def test_a_table_refuses_more_rows_than_its_32_bit_ids_count(monkeypatch):
    monkeypatch.setattr(log, "MAX_ROWS", 2000)
    table = Table(prospect="i4")
    table.add_block(prospect=np.arange(1500, dtype=np.int32))
    with pytest.raises(OverflowError, match="at most 2,000 rows a table, and this run needs 2,500"):
        table.add_block(prospect=np.arange(1000, dtype=np.int32))


def test_one_run_of_the_baseline_does_not_import_scipy():
    code = (
        "import sys, hourglass\n"
        "spec = hourglass.load_scenario(sys.argv[1])\n"
        "hourglass.replicate(spec, 1, None, 'serial')\n"
        "print(sorted(m for m in ('scipy', 'scipy.stats', 'plotly') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "scenarios" / "baseline.yaml")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_importing_the_scenario_models_builds_few_of_their_schemas():
    code = (
        "import hourglass.config.scenario\n"
        "from hourglass.config.base import Model\n"
        "def subclasses(cls):\n"
        "    for sub in cls.__subclasses__():\n"
        "        yield sub\n"
        "        yield from subclasses(sub)\n"
        "models = set(subclasses(Model))\n"
        "print(len(models), sum(m.__pydantic_complete__ for m in models))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    models, built = map(int, done.stdout.split())
    assert models > 50
    assert built < 10  # those whose defaults are built on import (5 today); the rest wait
