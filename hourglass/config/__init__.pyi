from .budgets import budget_lines, with_budgets
from .graph import Graph, build_graph
from .loading import ScenarioError, shipped_scenarios
from .network import Network
from .scenario import (
    Scenario,
    load_scenario,
    parse_scenario,
    parse_scenario_text,
    well_mixed,
)
from .segments import Segment, SegmentStage
from .work import TooMuchWork, WorkCeilingError, WorkEstimate, check_work, estimate_work
