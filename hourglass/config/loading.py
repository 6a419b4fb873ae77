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
from hourglass.config.reasons import os_reason, yaml_problem
from hourglass.i18n import _, get_language, grouped, ngettext


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
            _("{name}: no such file, nor a shipped scenario{hint} (shipped: {names})").format(
                name=name, hint=hint, names=", ".join(names)
            )
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
    data = read_capped(path, source, MAX_SCENARIO_BYTES, _("a scenario file"))
    if not data.strip():
        raise ScenarioError(
            _("{source}: empty file; a scenario is a YAML mapping (name: ...)").format(
                source=source
            )
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ScenarioError(
            _(
                "{source}: line {line}: not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"
            ).format(source=source, line=line, byte=data[err.start])
        ) from None


def read_capped(path: Path | str, source: str, limit: int, what: str) -> bytes:
    """A regular file's bytes, at most `limit` of them; ScenarioError naming `source` if not.

    Folders, devices, FIFOs and sockets are refused before they are opened; the file is
    then opened without blocking and checked again, so nothing swapped in is waited on.
    """
    if "\0" in str(path):
        raise ScenarioError(
            _("{source}: not a file name (it holds a NUL character)").format(source=source)
        )
    try:
        _check_file(os.stat(path), source, limit, what)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as file:
            _check_file(os.fstat(fd), source, limit, what)
            data = file.read(limit + 1)
    except FileNotFoundError:
        raise ScenarioError(_("{source}: no such file").format(source=source)) from None
    except OSError as err:
        raise ScenarioError(
            _("{source}: cannot read: {reason}").format(source=source, reason=os_reason(err))
        ) from None
    if len(data) > limit:  # grew since it was checked
        raise ScenarioError(
            _("{source}: more than {limit} bytes; {what} may hold at most that").format(
                source=source, limit=grouped(limit), what=what
            )
        )
    return data


def _check_file(info: os.stat_result, source: str, limit: int, what: str) -> None:
    """Refuse what is not a regular file of at most `limit` bytes, saying what it is."""
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(_("{source}: is a folder, not {what}").format(source=source, what=what))
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(
            _("{source}: {kind}, not {what}; give a regular file").format(
                source=source, kind=_kind(info), what=what
            )
        )
    if info.st_size > limit:
        raise ScenarioError(
            _("{source}: {size} bytes; {what} may hold at most {limit}").format(
                source=source, size=grouped(info.st_size), what=what, limit=grouped(limit)
            )
        )


def _kind(info: os.stat_result) -> str:
    """What a file that is not a regular file is, in words."""
    if stat.S_ISCHR(info.st_mode):
        null = os.stat(os.devnull)
        if stat.S_ISCHR(null.st_mode) and info.st_rdev == null.st_rdev:
            return _("an empty file (the null device)")
        return _("a device")
    if stat.S_ISFIFO(info.st_mode):
        return _("a named pipe (FIFO)")
    if stat.S_ISSOCK(info.st_mode):
        return _("a socket")
    return _("a device") if stat.S_ISBLK(info.st_mode) else _("not a regular file")


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
                self._refuse(
                    _("more than {count} values; a scenario holds far fewer").format(
                        count=grouped(MAX_VALUES)
                    )
                )
            if self._depth > MAX_NESTING:
                self._refuse(
                    _("lists and mappings nested more than {depth} deep").format(depth=MAX_NESTING)
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    _("a key must be a single value (a name or a number), not a list")
                    if isinstance(key, list)
                    else _("a key must be a single value (a name or a number), not a mapping"),
                    key_node.start_mark,
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, _("key '{key}' appears twice").format(key=key), key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # Python refuses to read ints of more than 4,300 digits
            raise yaml.constructor.ConstructorError(
                None, None, _("a whole number too long to read"), node.start_mark
            ) from None

    def construct_scalar(self, node: yaml.ScalarNode) -> str:
        value = super().construct_scalar(node)
        if isinstance(value, str) and _SURROGATE.search(value):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                _("a \\ud800 to \\udfff escape alone is no character; write the character itself"),
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
            _("{source}: {count} characters; a scenario may hold at most {limit}").format(
                source=source, count=grouped(len(text)), limit=grouped(MAX_SCENARIO_BYTES)
            )
        )
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as err:
        line, problem = yaml_problem(err)
        if line is None and isinstance(err, yaml.reader.ReaderError):
            line = text.count(chr(10), 0, err.position) + 1
        where = _(": line {line}").format(line=line) if line is not None else ""
        raise ScenarioError(
            _("{source}{where}: not valid YAML: {problem}").format(
                source=source, where=where, problem=problem
            )
        ) from None


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
    message = pydantic_message(error)
    ctx = error.get("ctx") or {}
    if error["type"] == "unknown_key":
        loc.append(ctx["key"])
    elif error["type"] == "literal_error" and isinstance(error.get("input"), str):
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        message = _("'{value}' is not one of {choices}").format(
            value=error["input"], choices=", ".join(expected)
        )
        message += did_you_mean(error["input"], expected)
    elif error["type"] == "missing":
        message = _("required, but missing")
    elif isinstance(error.get("input"), float) and not math.isfinite(error["input"]):
        message = _("must be a finite number, not {value}").format(value=error["input"])
    elif error["type"] == "string_pattern_mismatch" and ctx.get("pattern") == NAME_PATTERN:
        message = _(
            "'{value}' is not a name: use lower-case letters, digits and _, "
            "beginning with a letter (e.g. ads_search)"
        ).format(value=error["input"])
    elif error["type"] == "value_error":
        message = str(ctx.get("error", message))
        loc, message = _deeper(root, loc, message)
    line = _line_of(root, loc)
    where = _(": line {line}").format(line=line) if line else ""
    field = ".".join(loc) or _("(top level)")
    return f"{source}{where}: {field}: {message}"


def pydantic_message(error: dict[str, Any]) -> str:
    """The message for a pydantic error, in the active language (pydantic's own in English).

    The values come from the error's context, shown as pydantic shows them.
    """
    if get_language() == "en":
        return error["msg"]
    kind, ctx = error["type"], error.get("ctx") or {}
    shown = {name: _shown(value) for name, value in ctx.items()}
    if kind == "too_short":
        return ngettext(
            "should have at least {min_length} item, not {actual_length}",
            "should have at least {min_length} items, not {actual_length}",
            int(ctx["min_length"]),
        ).format(**shown)
    if kind == "too_long":
        return ngettext(
            "should have at most {max_length} item, not {actual_length}",
            "should have at most {max_length} items, not {actual_length}",
            int(ctx["max_length"]),
        ).format(**shown)
    template = _pydantic_templates().get(kind)
    return error["msg"] if template is None else template.format(**shown)


def _shown(value: Any) -> str:
    """A context value as pydantic's message shows it: 1.0 as 1."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _pydantic_templates() -> dict[str, str]:
    """The messages of pydantic by error type, in the active language, to fill from the context."""
    return {
        "missing": _("Field required"),
        "extra_forbidden": _("Extra inputs are not permitted"),
        "greater_than": _("Input should be greater than {gt}"),
        "greater_than_equal": _("Input should be greater than or equal to {ge}"),
        "less_than": _("Input should be less than {lt}"),
        "less_than_equal": _("Input should be less than or equal to {le}"),
        "multiple_of": _("Input should be a multiple of {multiple_of}"),
        "finite_number": _("Input should be a finite number"),
        "float_type": _("Input should be a valid number"),
        "float_parsing": _("Input should be a valid number, unable to parse string as a number"),
        "int_type": _("Input should be a valid integer"),
        "int_parsing": _("Input should be a valid integer, unable to parse string as an integer"),
        "int_parsing_size": _("Unable to parse input string as an integer, exceeded maximum size"),
        "int_from_float": _("Input should be a valid integer, got a number with a fractional part"),
        "bool_type": _("Input should be a valid boolean"),
        "bool_parsing": _("Input should be a valid boolean, unable to interpret input"),
        "string_type": _("Input should be a valid string"),
        "string_pattern_mismatch": _("String should match pattern '{pattern}'"),
        "dict_type": _("Input should be a valid dictionary"),
        "model_type": _("Input should be a valid dictionary or instance of {class_name}"),
        "model_attributes_type": _(
            "Input should be a valid dictionary or object to extract fields from"
        ),
        "list_type": _("Input should be a valid list"),
        "tuple_type": _("Input should be a valid tuple"),
        "none_required": _("Input should be None"),
        "literal_error": _("Input should be {expected}"),
        "enum": _("Input should be {expected}"),
        "date_type": _("Input should be a valid date"),
        "date_parsing": _("Input should be a valid date in the format YYYY-MM-DD, {error}"),
        "union_tag_invalid": _(
            "Input tag '{tag}' found using {discriminator} does not match any of the expected "
            "tags: {expected_tags}"
        ),
        "union_tag_not_found": _("Unable to extract tag using discriminator {discriminator}"),
    }


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
