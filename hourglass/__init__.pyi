from . import analysis, calibration, config, experiments, log, plots, sim, stages, theory
from .calibration.fit import calibrate
from .config.scenario import Scenario, ScenarioError, load_scenario, parse_scenario
from .config.work import estimate_work
from .experiments.allocation import optimize
from .experiments.comparison import compare
from .experiments.replication import replicate
from .experiments.sweeps import sweep
from .log import Run
from .sim.engine import simulate
