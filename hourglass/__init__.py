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
    "compare_runs": "hourglass.comparison",
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
    "bands": "hourglass.metrics",
    "filling": "hourglass.metrics",
    "monthly_growth": "hourglass.metrics",
    "expected_entries": "hourglass.theory",
    "expected_prospects": "hourglass.theory",
    "band_figure": "hourglass.plots",
    "conversion_bars": "hourglass.plots",
    "delta_figure": "hourglass.plots",
    "hourglass_animation": "hourglass.plots",
    "hourglass_figure": "hourglass.plots",
    "overlay_figure": "hourglass.plots",
    "sankey_figure": "hourglass.plots",
    "theory_figure": "hourglass.plots",
    "LABELS": "hourglass.stages",
    "Constraints": "hourglass.allocation",
    "OBJECTIVE_KPIS": "hourglass.allocation",
    "Optimization": "hourglass.allocation",
    "OptimizeError": "hourglass.allocation",
    "optimize": "hourglass.allocation",
    "marginal_roi": "hourglass.allocation",
    "line_curves": "hourglass.allocation",
    "response_figure": "hourglass.plots",
    "allocation_figure": "hourglass.plots",
    "budget_lines": "hourglass.budgets",
    "with_budgets": "hourglass.budgets",
    "expected_outcome": "hourglass.theory",
    "expected_outside_prospects": "hourglass.theory",
    "write_text": "hourglass.results",
    "HOURGLASS": "hourglass.stages",
    "FUNNEL": "hourglass.stages",
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
    "FUNNEL",
    "HOURGLASS",
    "LABELS",
    "OBJECTIVE_KPIS",
    "STAGE_COLUMNS",
    "BackendError",
    "Calibration",
    "Comparison",
    "Constraints",
    "CrmMapping",
    "DataError",
    "EventLog",
    "Optimization",
    "OptimizeError",
    "ReplicationError",
    "Replications",
    "Run",
    "Scenario",
    "ScenarioError",
    "Vary",
    "__version__",
    "allocation_figure",
    "band_figure",
    "bands",
    "budget_lines",
    "calibrate",
    "compare",
    "compare_runs",
    "conversion_bars",
    "daily_table",
    "delta_figure",
    "detect_preset",
    "duration_figure",
    "expected_entries",
    "expected_outcome",
    "expected_outside_prospects",
    "expected_prospects",
    "export_deals",
    "export_transactions",
    "filling",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "half_widths",
    "hourglass_animation",
    "hourglass_figure",
    "jsonable",
    "kpis",
    "line_curves",
    "load_mapping",
    "load_scenario",
    "loss_table",
    "marginal_roi",
    "monthly_growth",
    "optimize",
    "overlay_figure",
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
    "response_figure",
    "rfm_summary",
    "sankey_figure",
    "save_replications",
    "simulate",
    "stage_occupancy",
    "stage_table",
    "summarize",
    "sweep",
    "theory_figure",
    "with_budgets",
    "write_text",
]

if TYPE_CHECKING:
    from hourglass.allocation import (
        OBJECTIVE_KPIS,
        Constraints,
        Optimization,
        OptimizeError,
        line_curves,
        marginal_roi,
        optimize,
    )
    from hourglass.btyd import fit_bgnbd, fit_gamma_gamma, repeat_tracking, rfm_summary
    from hourglass.budgets import budget_lines, with_budgets
    from hourglass.calibration import Calibration, calibrate
    from hourglass.calibration_plots import (
        duration_figure,
        pass_prob_figure,
        repeat_tracking_figure,
    )
    from hourglass.calibration_report import report_markdown
    from hourglass.comparison import Comparison, compare, compare_runs
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
        bands,
        daily_table,
        filling,
        kpis,
        loss_table,
        monthly_growth,
        stage_occupancy,
        stage_table,
    )
    from hourglass.plots import (
        allocation_figure,
        band_figure,
        conversion_bars,
        delta_figure,
        hourglass_animation,
        hourglass_figure,
        overlay_figure,
        response_figure,
        sankey_figure,
        theory_figure,
    )
    from hourglass.results import jsonable, save_replications, write_text
    from hourglass.scenario import (
        Scenario,
        ScenarioError,
        load_scenario,
        parse_scenario,
        parse_scenario_text,
    )
    from hourglass.stages import FUNNEL, HOURGLASS, LABELS
    from hourglass.sweeps import Vary, parse_vary, sweep
    from hourglass.theory import (
        expected_entries,
        expected_outcome,
        expected_outside_prospects,
        expected_prospects,
    )


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'hourglass' has no attribute '{name}'")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value
