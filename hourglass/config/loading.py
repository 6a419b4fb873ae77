"""Reading scenario YAML, and the scenarios shipped with the package, by name.

Where a file is wrong, the error says where: the file, the line, the field.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Hashable
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


MAX_SCENARIO_BYTES = 1024 * 1024
"""Largest scenario read (bytes of a file, characters of a text): the shipped ones hold
under 4 kB; a megabyte is the smallest cap the dashboard's uploader can show."""

MAX_VALUES = 20_000
"""Most values (scalars, lists, mappings) a scenario may hold; the shipped ones hold under
500. Reading stops there, so a file of many tiny values is refused in about a second."""

MAX_NESTING = 64
"""Deepest nesting of lists and mappings in a scenario; a real one nests fewer than ten."""

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
"""What a name in a scenario (its own, a channel's, a loss reason's) may be."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_scenario_file(path: Path, source: str) -> str:
    """A scenario file's text, refused before it is read whole if it cannot be a scenario.

    Devices, FIFOs and sockets are refused unopened (a FIFO would block), and so is a file
    over MAX_SCENARIO_BYTES.
    """
    data = read_capped(path, source, MAX_SCENARIO_BYTES, "a scenario file")
    if not data.strip():
        raise ScenarioError(f"{source}: empty file; a scenario is a YAML mapping (name: ...)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ScenarioError(
            f"{source}: line {line}: not UTF-8 text (byte 0x{data[err.start]:02x}); "
            "save the file as UTF-8"
        ) from None


def read_capped(path: Path | str, source: str, limit: int, what: str) -> bytes:
    """A regular file's bytes, at most `limit` of them; ScenarioError naming `source` if not.

    Folders, devices, FIFOs and sockets are refused before they are opened; the file is
    then opened without blocking and checked again, so nothing swapped in is waited on.
    """
    if "\0" in str(path):
        raise ScenarioError(f"{source}: not a file name (it holds a NUL character)")
    try:
        _check_file(os.stat(path), source, limit, what)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as file:
            _check_file(os.fstat(fd), source, limit, what)
            data = file.read(limit + 1)
    except FileNotFoundError:
        raise ScenarioError(f"{source}: no such file") from None
    except OSError as err:
        raise ScenarioError(f"{source}: cannot read: {err.strerror or err}") from None
    if len(data) > limit:  # grew since it was checked
        raise ScenarioError(f"{source}: more than {limit:,} bytes; {what} may hold at most that")
    return data


def _check_file(info: os.stat_result, source: str, limit: int, what: str) -> None:
    """Refuse what is not a regular file of at most `limit` bytes, saying what it is."""
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(f"{source}: is a folder, not {what}")
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(f"{source}: {_kind(info)}, not {what}; give a regular file")
    if info.st_size > limit:
        raise ScenarioError(f"{source}: {info.st_size:,} bytes; {what} may hold at most {limit:,}")


def _kind(info: os.stat_result) -> str:
    """What a file that is not a regular file is, in words."""
    if stat.S_ISCHR(info.st_mode):
        null = os.stat(os.devnull)
        if stat.S_ISCHR(null.st_mode) and info.st_rdev == null.st_rdev:
            return "an empty file (the null device)"
        return "a device"
    if stat.S_ISFIFO(info.st_mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(info.st_mode):
        return "a socket"
    return "a device" if stat.S_ISBLK(info.st_mode) else "not a regular file"


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML, stricter: no key twice, no list as a key, no lone surrogate, no deep nesting.

    Nesting stops at MAX_NESTING levels, reading at MAX_VALUES values. Merge keys
    (`<<: *defaults`) work as in YAML 1.1: the keys written beside them win.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._values = 0

    def _refuse(self, problem: str) -> None:
        """Stop reading, with `problem` at the place reached."""
        raise yaml.composer.ComposerError(None, None, problem, self.peek_event().start_mark)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        self._depth += 1
        self._values += 1
        try:
            if self._values > MAX_VALUES:
                self._refuse(f"more than {MAX_VALUES:,} values; a scenario holds far fewer")
            if self._depth > MAX_NESTING:
                self._refuse(f"lists and mappings nested more than {MAX_NESTING} deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"a key must be a single value (a name or a number), not a "
                    f"{'list' if isinstance(key, list) else 'mapping'}",
                    key_node.start_mark,
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # Python refuses to read ints of more than 4,300 digits
            raise yaml.constructor.ConstructorError(
                None, None, "a whole number too long to read", node.start_mark
            ) from None

    def construct_scalar(self, node: yaml.ScalarNode) -> str:
        value = super().construct_scalar(node)
        if isinstance(value, str) and _SURROGATE.search(value):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "a \\ud800 to \\udfff escape alone is no character; write the character itself",
                node.start_mark,
            )
        return value


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


def read_yaml(text: str, source: str) -> Any:
    """Plain data from YAML text: no object tags, no key twice in a mapping.

    At most MAX_SCENARIO_BYTES characters and MAX_NESTING levels are read.
    """
    if len(text) > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            f"{source}: {len(text):,} characters; a scenario may hold at most "
            f"{MAX_SCENARIO_BYTES:,}"
        )
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        if mark is not None:
            where = f": line {mark.line + 1}"
        elif isinstance(err, yaml.reader.ReaderError):
            where = f": line {text.count(chr(10), 0, err.position) + 1}"
        else:
            where = ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ScenarioError(f"{source}{where}: not valid YAML: {problem}") from None


def located(err: ValidationError, source: str, text: str | None) -> ScenarioError:
    """A validation error as one line per problem: the source, the line in `text`, the field."""
    root = _composed(text)
    return ScenarioError("\n".join(_describe(e, source, root) for e in err.errors()))


def _composed(text: str | None) -> yaml.Node | None:
    """The text's node tree (merge keys not applied), to find the lines of fields in."""
    if text is None:
        return None
    try:
        return yaml.compose(text, Loader=_StrictLoader)
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
    elif isinstance(error.get("input"), float) and not math.isfinite(error["input"]):
        message = f"must be a finite number, not {error['input']}"
    elif error["type"] == "string_pattern_mismatch" and ctx.get("pattern") == NAME_PATTERN:
        message = (
            f"'{error['input']}' is not a name: use lower-case letters, digits and _, "
            "beginning with a letter (e.g. ads_search)"
        )
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
