"""The message catalogue: every text a user reads, in English and in Russian.

English text is the message id, so code reads as what the user sees::

    st.subheader(_("How the hourglass fills"))

The Russian catalogue is a gettext ``.po`` file beside this module, read with Babel on
first use. The active language is a context variable, so each dashboard session (a
thread of its own) and each command keeps its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from gettext import GNUTranslations, NullTranslations
from io import BytesIO
from pathlib import Path

LANGUAGES = ("en", "ru")
DOMAIN = "hourglass"
CATALOGUES = Path(__file__).parent

_active: ContextVar[str] = ContextVar("hourglass_language", default="en")


def set_language(lang: str) -> None:
    """Make `lang` the language of every message from here on, in this context."""
    _active.set(_checked(lang))


def get_language() -> str:
    """The active language code."""
    return _active.get()


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Messages in `lang` inside the block; the previous language after it."""
    token = _active.set(_checked(lang))
    try:
        yield
    finally:
        _active.reset(token)


def _(message: str) -> str:
    """`message` in the active language (itself when no translation exists)."""
    return translations(_active.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message that fits the count `n`, in the active language."""
    return translations(_active.get()).ngettext(singular, plural, n)


@cache
def translations(lang: str, domain: str = DOMAIN) -> NullTranslations:
    """The translations into `lang` of a catalogue (`domain`), read from its file once.

    Besides the project's own, the `click` catalogue holds the command line library's words.
    """
    if lang == "en":
        return NullTranslations()
    # Babel loads only when a translation is first needed, so English commands start fast
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with (CATALOGUES / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as po:
        book = read_po(po, locale=lang, domain=domain)
    compiled = BytesIO()
    write_mo(compiled, book)
    compiled.seek(0)
    return GNUTranslations(compiled)


def grouped(number: float, digits: int = 0, *, sign: bool = False, grouping: bool = True) -> str:
    """`number` as a reader of the active language writes it, with `digits` decimals.

    English: ``12,345.6``; Russian: ``12 345,6`` (a no-break space, a decimal comma).
    `sign` puts a + before a positive number; `grouping` False leaves thousands ungrouped.
    """
    lang = _active.get()
    if lang == "en" or not math.isfinite(number):
        return f"{number:{'+' if sign else ''}{',' if grouping else ''}.{digits}f}"
    from babel.numbers import format_decimal

    pattern = ("#,##0" if grouping else "0") + ("." + "0" * digits if digits else "")
    if sign:
        pattern = f"+{pattern};-{pattern}"
    return format_decimal(number, format=pattern, locale=lang)


def significant(number: float, digits: int) -> str:
    """`number` to `digits` significant digits (Python's ``{:.4g}``) in the active language."""
    lang = _active.get()
    if lang == "en" or not math.isfinite(number):
        return f"{number:.{digits}g}"
    from babel.numbers import format_decimal

    return format_decimal(number, format="@" + "#" * (digits - 1), locale=lang)


def _checked(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    return lang
