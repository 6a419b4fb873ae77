"""hourglass: a discrete-event simulator of the marketing-sales hourglass.

The public API is small: load or parse a scenario, simulate it, replicate, compare, sweep,
optimise budgets, calibrate from data; everything else lives in the subpackages, one per
layer. Names load on first use (the names are listed once, in `__init__.pyi`), so that
simulating pulls in neither pandas nor scipy.
"""

import lazy_loader as _lazy

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
