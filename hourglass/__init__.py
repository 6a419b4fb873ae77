"""hourglass: a discrete-event simulator of the marketing-sales hourglass.

The public API. Names load on first use, so that simulating pulls in neither pandas
nor scipy; only metrics, theory and the CLI need those.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_HOME = {
    "EventLog": "hourglass.log",
    "Run": "hourglass.engine",
    "simulate": "hourglass.engine",
    "Scenario": "hourglass.scenario",
    "ScenarioError": "hourglass.scenario",
    "load_scenario": "hourglass.scenario",
    "parse_scenario": "hourglass.scenario",
    "parse_scenario_text": "hourglass.scenario",
    "BACKENDS": "hourglass.experiment",
    "BackendError": "hourglass.experiment",
    "ReplicationError": "hourglass.experiment",
    "Replications": "hourglass.experiment",
    "half_widths": "hourglass.experiment",
    "replicate": "hourglass.experiment",
    "summarize": "hourglass.experiment",
    "Comparison": "hourglass.comparison",
    "compare": "hourglass.comparison",
    "Vary": "hourglass.sweeps",
    "parse_vary": "hourglass.sweeps",
    "sweep": "hourglass.sweeps",
    "jsonable": "hourglass.results",
    "save_replications": "hourglass.results",
    "daily_table": "hourglass.metrics",
    "kpis": "hourglass.metrics",
    "loss_table": "hourglass.metrics",
    "stage_occupancy": "hourglass.metrics",
    "stage_table": "hourglass.metrics",
    "STAGE_COLUMNS": "hourglass.metrics",
}

__all__ = [
    "BACKENDS",
    "STAGE_COLUMNS",
    "BackendError",
    "Comparison",
    "EventLog",
    "ReplicationError",
    "Replications",
    "Run",
    "Scenario",
    "ScenarioError",
    "Vary",
    "__version__",
    "compare",
    "daily_table",
    "half_widths",
    "jsonable",
    "kpis",
    "load_scenario",
    "loss_table",
    "parse_scenario",
    "parse_scenario_text",
    "parse_vary",
    "replicate",
    "save_replications",
    "simulate",
    "stage_occupancy",
    "stage_table",
    "summarize",
    "sweep",
]

if TYPE_CHECKING:
    from hourglass.comparison import Comparison, compare
    from hourglass.engine import Run, simulate
    from hourglass.experiment import (
        BACKENDS,
        BackendError,
        ReplicationError,
        Replications,
        half_widths,
        replicate,
        summarize,
    )
    from hourglass.log import EventLog
    from hourglass.metrics import (
        STAGE_COLUMNS,
        daily_table,
        kpis,
        loss_table,
        stage_occupancy,
        stage_table,
    )
    from hourglass.results import jsonable, save_replications
    from hourglass.scenario import (
        Scenario,
        ScenarioError,
        load_scenario,
        parse_scenario,
        parse_scenario_text,
    )
    from hourglass.sweeps import Vary, parse_vary, sweep


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'hourglass' has no attribute '{name}'")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value
