"""Plotly figures: tables and results in, go.Figure out; never Streamlit."""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
