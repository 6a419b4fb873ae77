"""The SimPy engine and its parts: streams, market, sales team, buying centre, neighbourhood."""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
