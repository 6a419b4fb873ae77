"""From a CRM export and a transaction log to a calibrated scenario and its report."""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
