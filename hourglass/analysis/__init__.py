"""Pure functions from runs to tables: stages, KPIs, daily series, deals, networks."""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
