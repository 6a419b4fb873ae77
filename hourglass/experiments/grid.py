"""The grid of a sweep: fields to vary, parsed from --vary text, and their combinations."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hourglass.config.arguments import kind_of
from hourglass.config.scenario import Scenario, ScenarioError
from hourglass.i18n import _, grouped

MAX_POINTS = 10_000


@dataclass(frozen=True)
class Vary:
    """One swept field: its dotted path in the scenario file and the values it takes."""

    path: str
    values: tuple[Any, ...]


_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_WORD = re.compile(r"[^\W\d][\w.\-/ ]*")  # begins with a letter or _, as names do
_PATH = re.compile(r"[A-Za-z_]\w*(\.\w+)*")
_NOT_FINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan"}


def parse_vary(spec: str) -> Vary:
    """Parse "path=start:stop:step" (stop included), "path=start:stop" (step 1), "path=a,b,c".

    Values have a grammar of their own, not YAML's: a number (an int where written as
    one), true or false, or a plain word. A range is counted before it is built.
    """
    path, sep, values = spec.partition("=")
    path, values = path.strip(), values.strip()
    if not sep or not path or not values:
        raise ScenarioError(
            _("--vary {spec}: write it as path=start:stop:step or path=a,b,c").format(spec=spec)
        )
    if not _PATH.fullmatch(path):
        raise ScenarioError(
            _(
                "--vary {spec}: '{path}' is not a field path; write the scenario file's keys "
                "joined by dots, e.g. sales.sellers"
            ).format(spec=spec, path=path)
        )
    if path == "seed":  # every point runs on the sweep's own seed children
        raise ScenarioError(
            _(
                "--vary {spec}: a sweep runs every point on the same seeds; give --seed "
                "instead, or more --reps"
            ).format(spec=spec)
        )
    if ":" in values:
        return Vary(path, _range(spec, values))
    items = [v.strip() for v in values.split(",")]
    if not all(items):
        raise ScenarioError(_("--vary {spec}: an empty value in the list").format(spec=spec))
    if len(items) > MAX_POINTS:
        raise ScenarioError(
            _("--vary {spec}: {count} values; at most {limit}").format(
                spec=spec, count=grouped(len(items)), limit=grouped(MAX_POINTS)
            )
        )
    return Vary(path, tuple(_value(spec, item) for item in items))


def _value(spec: str, text: str) -> Any:
    """One listed value: a finite number, true/false or a plain word."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _INT.fullmatch(text) or _FLOAT.fullmatch(text) or text.lower() in _NOT_FINITE:
        return _number(spec, text)
    if _WORD.fullmatch(text):
        return text
    raise ScenarioError(
        _(
            "--vary {spec}: '{text}' is not a number, true/false or a plain word "
            "(letters, digits, spaces and _ - . /, beginning with a letter)"
        ).format(spec=spec, text=text)
    )


def _number(spec: str, text: str) -> int | float:
    """A finite number as written: an int without a point or exponent, else a float."""
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text) and math.isfinite(number := float(text)):
        return number
    if text.lower() in _NOT_FINITE or _FLOAT.fullmatch(text):
        raise ScenarioError(
            _("--vary {spec}: '{text}' is not a finite number").format(spec=spec, text=text)
        )
    raise ScenarioError(
        _("--vary {spec}: start:stop:step must be numbers, not '{text}'").format(
            spec=spec, text=text
        )
    )


def _range(spec: str, values: str) -> tuple[int | float, ...]:
    """The values of start:stop[:step], stop included, refused above MAX_POINTS unbuilt."""
    parts = [p.strip() for p in values.split(":")]
    if len(parts) not in (2, 3):
        raise ScenarioError(
            _("--vary {spec}: a range is start:stop or start:stop:step").format(spec=spec)
        )
    numbers = [_number(spec, p) for p in parts]
    start, stop, step = (*numbers, 1)[:3]
    if step <= 0 or stop < start:
        raise ScenarioError(
            _("--vary {spec}: an empty range (need step > 0, stop >= start)").format(spec=spec)
        )
    if all(isinstance(n, int) for n in numbers):
        count = (stop - start) // step + 1
    else:
        ratio = (stop - start) / step
        count = math.floor(ratio + 1e-9) + 1 if math.isfinite(ratio) else math.inf
    if count > MAX_POINTS:
        many = grouped(count) if math.isfinite(count) else _("countless")
        raise ScenarioError(
            _(
                "--vary {spec}: {count} values; a sweep has at most {limit} points: take a "
                "larger step or a shorter range"
            ).format(spec=spec, count=many, limit=grouped(MAX_POINTS))
        )
    if isinstance(count, int) and all(isinstance(n, int) for n in numbers):
        return tuple(range(start, stop + 1, step))
    return tuple(round(start + i * step, 12) for i in range(count))


def grid(base: Scenario, varies: Sequence[Vary]) -> list[tuple[dict[str, Any], Scenario]]:
    """Every combination of the varied values, each validated into a scenario.

    The points are counted before any is built.
    """
    paths = [v.path for v in varies]
    if len(set(paths)) != len(paths):
        raise ScenarioError(_("--vary: a field is varied twice"))
    total = math.prod(len(v.values) for v in varies)
    if total > MAX_POINTS:
        sizes = " x ".join(grouped(len(v.values)) for v in varies)
        raise ScenarioError(
            _(
                "--vary: {total} grid points ({sizes}); at most {limit}: vary fewer fields or "
                "fewer values"
            ).format(total=grouped(total), sizes=sizes, limit=grouped(MAX_POINTS))
        )
    points = []
    for combo in itertools.product(*(v.values for v in varies)):
        overrides = dict(zip(paths, combo, strict=True))
        try:
            points.append((overrides, base.with_overrides(overrides)))
        except ScenarioError as err:
            point = ", ".join(f"{k}={v}" for k, v in overrides.items())
            raise ScenarioError(
                "\n".join(
                    f"--vary {point}: {line.removeprefix('overrides: ')}"
                    for line in str(err).splitlines()
                )
            ) from None
    return points


def as_varies(varies: Any) -> list[Vary]:
    """The swept fields as Vary: given as Vary, as "path=values" text, or as {path: values}."""
    if isinstance(varies, Vary | str):
        varies = [varies]
    if isinstance(varies, Mapping):
        return [_listed(path, values) for path, values in varies.items()]
    if not isinstance(varies, Iterable):
        raise _not_varies(varies)
    found = []
    for vary in varies:
        if isinstance(vary, str):
            vary = parse_vary(vary)
        if not isinstance(vary, Vary):
            raise _not_varies(vary)
        found.append(vary)
    return found


def _not_varies(given: Any) -> TypeError:
    """What to give as the fields to vary, saying what was given instead."""
    return TypeError(
        _(
            "varies: give the fields to vary as a dict of paths to values (e.g. "
            "sales.sellers to [4, 8]), as path=start:stop:step text, or as Vary(path, values); "
            "not {kind}"
        ).format(kind=kind_of(given))
    )


def _listed(path: Any, values: Any) -> Vary:
    """One {path: values} entry as a Vary; a text of values is read as --vary reads it."""
    if not isinstance(path, str):
        raise _not_varies(path)
    if isinstance(values, str) or path == "seed":
        return parse_vary(f"{path}={values}")
    if not isinstance(values, Iterable):
        values = [values]
    values = tuple(values)
    if not values:
        raise ValueError(_("varies: {path}: no values to sweep").format(path=path))
    return Vary(path, values)
