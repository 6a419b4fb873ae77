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
    "CRM_PRESETS": "hourglass.crm_mapping",
    "CrmMapping": "hourglass.crm_mapping",
    "DataError": "hourglass.crm_mapping",
    "detect_preset": "hourglass.crm",
    "export_deals": "hourglass.crm",
    "export_transactions": "hourglass.crm",
    "load_mapping": "hourglass.crm_mapping",
    "read_deals": "hourglass.crm",
    "read_transactions": "hourglass.crm",
    "Calibration": "hourglass.calibration",
    "calibrate": "hourglass.calibration",
    "report_markdown": "hourglass.calibration_report",
    "fit_bgnbd": "hourglass.btyd",
    "fit_gamma_gamma": "hourglass.btyd",
    "repeat_tracking": "hourglass.btyd",
    "rfm_summary": "hourglass.btyd",
    "duration_figure": "hourglass.calibration_plots",
    "pass_prob_figure": "hourglass.calibration_plots",
    "repeat_tracking_figure": "hourglass.calibration_plots",
}

__all__ = [
    "BACKENDS",
    "CRM_PRESETS",
    "STAGE_COLUMNS",
    "BackendError",
    "Calibration",
    "Comparison",
    "CrmMapping",
    "DataError",
    "EventLog",
    "ReplicationError",
    "Replications",
    "Run",
    "Scenario",
    "ScenarioError",
    "Vary",
    "__version__",
    "calibrate",
    "compare",
    "daily_table",
    "detect_preset",
    "duration_figure",
    "export_deals",
    "export_transactions",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "half_widths",
    "jsonable",
    "kpis",
    "load_mapping",
    "load_scenario",
    "loss_table",
    "parse_scenario",
    "parse_scenario_text",
    "parse_vary",
    "pass_prob_figure",
    "read_deals",
    "read_transactions",
    "repeat_tracking",
    "repeat_tracking_figure",
    "replicate",
    "report_markdown",
    "rfm_summary",
    "save_replications",
    "simulate",
    "stage_occupancy",
    "stage_table",
    "summarize",
    "sweep",
]

if TYPE_CHECKING:
    from hourglass.btyd import fit_bgnbd, fit_gamma_gamma, repeat_tracking, rfm_summary
    from hourglass.calibration import Calibration, calibrate
    from hourglass.calibration_plots import (
        duration_figure,
        pass_prob_figure,
        repeat_tracking_figure,
    )
    from hourglass.calibration_report import report_markdown
    from hourglass.comparison import Comparison, compare
    from hourglass.crm import (
        detect_preset,
        export_deals,
        export_transactions,
        read_deals,
        read_transactions,
    )
    from hourglass.crm_mapping import CRM_PRESETS, CrmMapping, DataError, load_mapping
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
