"""Why a file could not be read or written, in the reader's language.

The operating system and PyYAML explain failures in English of their own; the common
reasons are said here through the catalogue, with the line and column kept. A reason not
known here keeps its original words, after the caller's translated lead.
"""

from __future__ import annotations

import errno
import re
from typing import TYPE_CHECKING

from hourglass.i18n import _

if TYPE_CHECKING:
    import yaml


def os_reason(error: OSError) -> str:
    """The operating system's reason for `error`, translated where its errno is a common one."""
    reasons = {
        errno.ENOENT: _("No such file or directory"),
        errno.EACCES: _("Permission denied"),
        errno.EPERM: _("Permission denied"),
        errno.EISDIR: _("Is a directory"),
        errno.ENOTDIR: _("Not a directory"),
        errno.ENOSPC: _("No space left on device"),
        errno.EROFS: _("Read-only file system"),
        errno.ENAMETOOLONG: _("File name too long"),
    }
    return reasons.get(error.errno or 0) or error.strerror or str(error)


_YAML_PATTERNS: tuple[tuple[str, re.Pattern[str], bool], ...] = (
    ("colon", re.compile(r"mapping values are not allowed here"), False),
    ("no colon", re.compile(r"while scanning a simple key\ncould not find expected ':'"), True),
    ("tab", re.compile(r"found character '\\t' that cannot start any token"), False),
    ("character", re.compile(r"found character '(?P<char>.+)' that cannot start any token"), False),
    ("mapping indent", re.compile(r"while parsing a block mapping\nexpected <block end>"), False),
    ("list indent", re.compile(r"while parsing a block collection\nexpected <block end>"), False),
    ("list open", re.compile(r"while parsing a flow sequence\nexpected ',' or ']'"), True),
    ("mapping open", re.compile(r"while parsing a flow mapping\nexpected ',' or '\}'"), True),
    ("quote", re.compile(r"while scanning a quoted scalar\nfound unexpected end of stream"), True),
    ("escape", re.compile(r"found unknown escape character '(?P<char>[^']*)'"), False),
    ("tag", re.compile(r"constructor for the tag '(?P<tag>[^']*)'"), False),
    ("tag", re.compile(r"found undefined tag handle '(?P<tag>[^']*)'"), False),
    ("alias", re.compile(r"found undefined alias '(?P<name>[^']*)'"), False),
    ("anchor", re.compile(r"found duplicate anchor '(?P<name>[^']*)'"), False),
    ("document", re.compile(r"expected a single document in the stream"), False),
)
"""PyYAML's common problems: a name, the context and problem it writes, and whether the
message names the context's place (where the unclosed thing began) besides the problem's
line (where reading stopped)."""


def _yaml_wordings() -> dict[str, str]:
    """What each common PyYAML problem means, in the active language."""
    return {
        "colon": _(
            "a colon at column {column} is not allowed here; put text that holds ': ' in "
            "quotes, or line the key up with the keys beside it"
        ),
        "no colon": _(
            "the text at line {line}, column {column} has no ':' after it; write each setting as "
            "'key: value'"
        ),
        "tab": _("a tab at column {column}; indent with spaces, not tabs"),
        "character": _(
            "the character '{char}' at column {column} cannot start a value; put the value "
            "in quotes"
        ),
        "mapping indent": _(
            "the line starting at column {column} is indented unlike the keys above it; "
            "give the keys of one level the same indent"
        ),
        "list indent": _(
            "the line starting at column {column} is indented unlike the list items above it; "
            "start each item of one list with '-' at the same indent"
        ),
        "list open": _(
            "the list opened with '[' at line {line}, column {column} is never closed with ']', "
            "or a comma is missing"
        ),
        "mapping open": _(
            "the mapping opened with a curly brace at line {line}, column {column} is never "
            "closed, or a comma is missing"
        ),
        "quote": _("the quote at line {line}, column {column} is never closed"),
        "escape": _(
            "\\{char} at column {column} is no escape YAML knows in double quotes; write a "
            "backslash as \\\\ or put the text in single quotes"
        ),
        "tag": _("the tag {tag} at column {column} is not allowed; write plain values"),
        "alias": _("the alias *{name} at column {column} names no anchor &{name} above it"),
        "anchor": _(
            "the anchor &{name} at column {column} is already set above; give each anchor "
            "a name of its own"
        ),
        "document": _("a second document ('---') starts here; the file may hold only one"),
    }


def yaml_problem(error: yaml.YAMLError) -> tuple[int | None, str]:
    """The line (from 1) where PyYAML's `error` is, and what is wrong there in words.

    The line is None where PyYAML gives no place; a problem not known here is PyYAML's own.
    """
    context = getattr(error, "context", None) or ""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    said = f"{context}\n{problem}"
    for name, pattern, at_context in _YAML_PATTERNS:
        match = pattern.search(said)
        if match is None:
            continue
        shown = (getattr(error, "context_mark", None) if at_context else None) or mark
        place = {"line": shown.line + 1, "column": shown.column + 1} if shown else {}
        return line, _yaml_wordings()[name].format_map(
            {"line": "?", "column": "?"} | place | match.groupdict()
        )
    return line, problem
