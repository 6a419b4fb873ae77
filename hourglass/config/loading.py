"""Reading scenario YAML, and the scenarios shipped with the package, by name.

Where a file is wrong, the error says where: the file, the line, the field.
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hourglass.config.base import did_you_mean


class ScenarioError(ValueError):
    """A scenario file or override that cannot be used; the message says what and where."""


DEFAULT_SCENARIO = "baseline"
"""The shipped scenario loaded when none is named."""


def _shipped_folder() -> Traversable:
    """The shipped scenarios: package data when installed, else the folder beside the package."""
    try:
        return resources.files("hourglass.scenarios")
    except ModuleNotFoundError:  # imported from a source checkout (or an editable install)
        return Path(__file__).resolve().parents[2] / "scenarios"


def shipped_scenarios() -> list[str]:
    """The names of the scenarios shipped with hourglass, sorted (`baseline`, ...)."""
    folder = _shipped_folder()
    if not folder.is_dir():
        return []
    return sorted(
        f.name.removesuffix(".yaml") for f in folder.iterdir() if f.name.endswith(".yaml")
    )


def shipped_file(name: str) -> Traversable:
    """A shipped scenario's file, by name with or without `.yaml`; ScenarioError if none."""
    names = shipped_scenarios()
    stem = name.removesuffix(".yaml")
    if stem not in names:
        hint = did_you_mean(stem, names)
        raise ScenarioError(
            f"{name}: no such file, nor a shipped scenario{hint} (shipped: {', '.join(names)})"
        )
    return _shipped_folder() / f"{stem}.yaml"


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(text: str, source: str) -> Any:
    """Plain data from YAML text (no object tags, no key twice in a mapping)."""
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f": line {mark.line + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ScenarioError(f"{source}{where}: not valid YAML: {problem}") from None


def located(err: ValidationError, source: str, text: str | None) -> ScenarioError:
    """A validation error as one line per problem: the source, the line in `text`, the field."""
    root = _compose(text)
    return ScenarioError("\n".join(_describe(e, source, root) for e in err.errors()))


def _compose(text: str | None) -> yaml.Node | None:
    if text is None:
        return None
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _describe(error: dict[str, Any], source: str, root: yaml.Node | None) -> str:
    loc = [str(p) for p in error["loc"] if not str(p).startswith(("function-", "["))]
    message = error["msg"]
    ctx = error.get("ctx") or {}
    if error["type"] == "unknown_key":
        loc.append(ctx["key"])
    elif error["type"] == "literal_error" and isinstance(error.get("input"), str):
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        message = f"'{error['input']}' is not one of {', '.join(expected)}"
        message += did_you_mean(error["input"], expected)
    elif error["type"] == "missing":
        message = "required, but missing"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
        loc, message = _deeper(root, loc, message)
    line = _line_of(root, loc)
    where = f": line {line}" if line else ""
    field = ".".join(loc) or "(top level)"
    return f"{source}{where}: {field}: {message}"


def _deeper(root: yaml.Node | None, loc: list[str], message: str) -> tuple[list[str], str]:
    """A model check's message may begin with the dotted path it is about ("order.default: …").

    Where that path is in the file, it joins the error's location.
    """
    match = re.match(r"([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*): (.+)", message, re.DOTALL)
    if match is None or root is None:
        return loc, message
    deeper = loc + match[1].split(".")
    if _node_at(root, deeper) is None:
        return loc, message
    return deeper, match[2]


def _node_at(root: yaml.Node, loc: list[str]) -> yaml.Node | None:
    node = root
    for part in loc:
        if not isinstance(node, yaml.MappingNode):
            return None
        node = next((v for k, v in node.value if str(k.value) == part), None)
        if node is None:
            return None
    return node


def _line_of(root: yaml.Node | None, loc: list[str]) -> int | None:
    if root is None:
        return None
    node, line = root, root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == part), None)
            if match is None:
                break
            node, line = match[1], match[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line
