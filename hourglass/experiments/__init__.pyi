from .allocation import (
    OBJECTIVE_KPIS,
    Constraints,
    Optimization,
    OptimizeError,
    marginal_roi,
    objective_label,
    optimize,
)
from .comparison import Comparison, Precision, compare, compare_runs, stop_when_precise
from .curves import line_curves
from .grid import Vary, parse_vary
from .replication import (
    BACKENDS,
    BackendError,
    ReplicationError,
    Replications,
    half_widths,
    replicate,
    summarize,
)
from .results import jsonable, save_replications, write_text
from .sweeps import sweep
