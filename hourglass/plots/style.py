"""The figures' colours, shared by every family of plots."""

from __future__ import annotations

UPPER = "#2f6db5"
"""The funnel's colour (before and at the sale)."""
LOWER = "#2e9e6a"
"""The lower half's colour (repeat and refer)."""
LOST = "#c8553d"
"""The colour of what is lost."""
PALETTE = ("#2f6db5", "#c8553d", "#2e9e6a", "#8e6bbf", "#d4a017", "#5b8c99")
"""Colours for scenarios and series, in order."""


def transparent(hex_color: str, alpha: float = 0.18) -> str:
    """The colour `hex_color` ("#rrggbb") as a CSS rgba() string with opacity `alpha`."""
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
