"""Arguments of the library's public functions, checked before any work starts.

A wrong argument gets a TypeError or ValueError that names it and says what to pass,
instead of an error from deep inside numpy or pydantic.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np

from hourglass.config.scenario import Scenario, load_scenario
from hourglass.i18n import _


def as_scenario(value: Any, argument: str = "scenario") -> Scenario:
    """A Scenario as given, or loaded from a file path or a shipped scenario's name."""
    if isinstance(value, Scenario):
        return value
    if isinstance(value, str | Path | os.PathLike):
        return load_scenario(value)
    raise TypeError(
        _(
            "{argument}: pass a Scenario, or a scenario file's path (hg.load_scenario reads one), "
            "not {kind}"
        ).format(argument=argument, kind=kind_of(value))
    )


def kind_of(value: Any) -> str:
    """What a wrong argument is, in a word: None, or its type's name."""
    return "None" if value is None else type(value).__name__


def whole_number(value: Any, argument: str, least: int = 0) -> int:
    """`value` as an int of at least `least`; a ValueError or TypeError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            _("{argument}: a whole number is expected, not {value!r} ({kind})").format(
                argument=argument, value=value, kind=kind_of(value)
            )
        )
    if value < least:
        raise ValueError(
            _("{argument}: must be at least {least}, got {value}").format(
                argument=argument, least=least, value=value
            )
        )
    return int(value)


def checked_seed(seed: Any) -> int | np.random.SeedSequence | None:
    """A seed as the engine takes it: None, a SeedSequence, or a whole number from 0."""
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return seed
    return whole_number(seed, "seed")
