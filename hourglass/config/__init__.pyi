from .budgets import budget_lines, with_budgets
from .graph import Graph, build_graph
from .network import Network
from .scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
    parse_scenario_text,
    well_mixed,
)
