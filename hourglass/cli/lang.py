"""The language of the command line: --lang, else HOURGLASS_LANG, else the locale.

The command line library's own words (the usage line, the help option, panel titles, usage
errors) come from a catalogue of their own, `click`, beside the project's.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import typer
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup

from hourglass.i18n import CATALOGUES, LANGUAGES, get_language, set_language, translations

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
    speak_to_typer()


CLICK_DOMAIN = "click"
"""The catalogue of the command line library's own words (usage line, help option, errors)."""

RICH_WORDS: dict[str, str] = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
    "DEFAULT_STRING": "[default: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "ENVVAR_STRING": "[env var: {}]",
    "DEPRECATED_STRING": "(deprecated) ",
}
"""typer's rich help and error words, which it reads once, as it loads, into these names."""


def click_words(message: str) -> str:
    """One of click's or typer's own words (as its English) in the active language."""
    return translations(get_language(), CLICK_DOMAIN).gettext(message)


def click_message(english: str) -> str:
    """A message click or typer wrote in English, in the active language.

    It is matched against the catalogue's templates ("Invalid value for {name}: {message}"),
    and so is each part it fills in; a message that fits none stays as it is.
    """
    whole = click_words(english)
    if whole != english:
        return whole
    for template, pattern in _templates(get_language()):
        found = pattern.fullmatch(english)
        if found:
            parts = {name: click_message(part) for name, part in found.groupdict().items()}
            return click_words(template).format(**parts)
    return english


@cache
def _templates(lang: str) -> list[tuple[str, re.Pattern[str]]]:
    """The catalogue's messages that hold placeholders, each with a pattern that reads one."""
    if lang == "en":
        return []
    from babel.messages.pofile import read_po

    with (CATALOGUES / lang / "LC_MESSAGES" / f"{CLICK_DOMAIN}.po").open("rb") as po:
        ids = [m.id for m in read_po(po, locale=lang) if isinstance(m.id, str) and "{" in m.id]
    ids.sort(key=len, reverse=True)  # "No such option: {name} (Possible ...)" before its start
    return [(i, re.compile(_PLACEHOLDER.sub(_group, re.escape(i)), re.DOTALL)) for i in ids]


_PLACEHOLDER = re.compile(r"\\\{(\w+)\\\}")


def _group(placeholder: re.Match[str]) -> str:
    return f"(?P<{placeholder[1]}>.+?)"


def speak_to_typer() -> None:
    """Give typer's rich help and errors their panel titles and hints in the active language."""
    if get_language() == "en" and "typer.rich_utils" not in sys.modules:
        return  # typer's own English stands
    from typer import rich_utils

    for name, english in RICH_WORDS.items():
        setattr(rich_utils, name, click_words(english))


class _Speaking:
    """Click's own words in the active language: the usage line, the help option, usage errors."""

    def get_help_option(self, ctx: typer.Context) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = click_words("Show this message and exit.")
        return option

    def get_params(self, ctx: typer.Context) -> list[Any]:
        """The parameters, on/off flags without the value placeholder typer gives them."""
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params

    def format_usage(self, ctx: typer.Context, formatter: Any) -> None:
        pieces = [click_words(p) for p in self.collect_usage_pieces(ctx)]  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=click_words("Usage: "))

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except UsageError as error:
            raise _in_words(error) from None

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)  # type: ignore[misc]
        except UsageError as error:
            raise _in_words(error) from None


def _in_words(error: UsageError) -> UsageError:
    """The same usage error, its message in the active language."""
    message = click_message(error.format_message())
    error.format_message = lambda: message  # type: ignore[method-assign]
    return error


class SpeakingGroup(_Speaking, TyperGroup):
    """The command line's group of commands, speaking the active language."""


class SpeakingCommand(_Speaking, TyperCommand):
    """A command, speaking the active language."""
