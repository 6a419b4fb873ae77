from .engine import simulate
