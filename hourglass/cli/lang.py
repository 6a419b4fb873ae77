"""The language of the command line: --lang, else HOURGLASS_LANG, else the locale."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from hourglass.i18n import LANGUAGES, set_language

ENV_VAR = "HOURGLASS_LANG"
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG")


def asked_on_command_line(argv: Sequence[str]) -> str | None:
    """The value of a --lang written before the command (`--lang ru` or `--lang=ru`)."""
    for i, token in enumerate(argv):
        if not token.startswith("-"):
            return None  # the command: what follows is its own
        if token == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if token.startswith("--lang="):
            return token.partition("=")[2]
    return None


def from_locale(environ: Mapping[str, str]) -> str:
    """Russian when the locale of messages is Russian, else English.

    The locale of messages is the first of LC_ALL, LC_MESSAGES and LANG that is set.
    """
    for name in LOCALE_VARS:
        if environ.get(name):
            return "ru" if environ[name].lower().startswith("ru") else "en"
    return "en"


def chosen(asked: str | None, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The language asked for and where it was asked (the flag or the variable), unchecked."""
    environ = os.environ if environ is None else environ
    if asked is not None:
        return asked, "--lang"
    if environ.get(ENV_VAR):
        return environ[ENV_VAR], ENV_VAR
    return from_locale(environ), "locale"


def usable(lang: str) -> bool:
    """Whether the catalogue has `lang`."""
    return lang in LANGUAGES


def use_early() -> None:
    """Set the language the command line asks for, before the commands' help is written.

    A language that is not in the catalogue leaves English here; the --lang option refuses
    it once the command line is read.
    """
    asked, _where = chosen(asked_on_command_line(sys.argv[1:]))
    set_language(asked if usable(asked) else "en")
