"""The scenario: pydantic models, YAML loading with located errors, budgets, graphs, the plan."""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
