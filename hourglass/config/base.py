"""The project's pydantic base model: frozen, strict about keys, helpful about typos."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from hourglass.i18n import _

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


def did_you_mean(word: str, choices: list[str]) -> str:
    """A " did you mean 'x'?" hint for a misspelt word, or an empty string."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return _("; did you mean '{word}'?").format(word=close[0]) if close else ""


def exactly_one(model: BaseModel, names: Sequence[str], *, count: bool = False) -> str:
    """The one of the fields `names` that `model` sets; a ValueError unless exactly one is set.

    With `count`, the message says how many were given.
    """
    given = [name for name in names if getattr(model, name) is not None]
    if len(given) != 1:
        got = _(" (got {count})").format(count=len(given)) if count else ""
        raise ValueError(
            _("give exactly one of: {names}{got}").format(names=", ".join(names), got=got)
        )
    return given[0]


class Model(BaseModel):
    """Frozen, rejects unknown keys with a "did you mean" hint, checks every number."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, defer_build=True
    )

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        allowed = [f.alias or name for name, f in cls.model_fields.items()]
        known = set(allowed) | set(cls.model_fields)
        fields = {f.alias or name: f for name, f in cls.model_fields.items()} | cls.model_fields
        for key, value in data.items():
            if key not in known:
                hint = did_you_mean(str(key), allowed)
                raise PydanticCustomError(
                    "unknown_key",
                    _("unknown key '{key}'{hint} (allowed: {allowed})"),
                    {"key": str(key), "hint": hint, "allowed": ", ".join(allowed)},
                )
            # pydantic reads true as 1 where a number is expected; YAML's yes/on are true
            if isinstance(value, bool) and _numeric(fields[key].annotation):
                raise PydanticCustomError(
                    "bool_as_number",
                    _("{key}: a number is expected, not {value}"),
                    {"key": str(key), "value": str(value).lower()},
                )
        return data


def _numeric(annotation: Any) -> bool:
    """Whether a field holds a number (int or float, perhaps optional), not a true/false."""
    if annotation in (int, float):
        return True
    return get_origin(annotation) in (Union, UnionType) and any(
        a in (int, float) for a in get_args(annotation)
    )
