"""The layers as the interpreter sees them: loading the metrics or figures leaves SimPy out."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

LOADED = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for name in package.__all__:
    getattr(package, name)
for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
    importlib.import_module(module.name)
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("package", ["hourglass.analysis", "hourglass.plots"])
def test_results_load_without_the_engine(package: str) -> None:
    """Every module and lazy name of the package, in a fresh interpreter: no simpy, no sim."""
    proc = subprocess.run(
        [sys.executable, "-c", LOADED, package], capture_output=True, text=True, check=True
    )
    modules = json.loads(proc.stdout)
    assert package in modules
    engine = [m for m in modules if m == "simpy" or m.startswith(("simpy.", "hourglass.sim"))]
    assert engine == []
