"""The message catalogue: every message in the code has its Russian, and languages stay apart."""

from __future__ import annotations

import re
import threading

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from hourglass import i18n
from hourglass.i18n import _, language, ngettext
from tests.helpers import ROOT

KEYWORDS = {"_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _in_code() -> set[str | tuple[str, ...]]:
    found = extract_from_dir(ROOT / "hourglass", [("**.py", "python")], keywords=KEYWORDS)
    return {message for _file, _line, message, _comments, _context in found}


def _russian():
    path = i18n.CATALOGUES / "ru" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as po:
        return read_po(po, locale="ru")


def test_every_message_in_the_code_has_a_russian_translation():
    book = _russian()
    missing = [m for m in _in_code() if book.get(m) is None or not all(_strings(book.get(m)))]
    assert not missing, f"translate these in the Russian catalogue: {missing}"


def test_the_catalogue_holds_no_message_the_code_no_longer_uses():
    in_code = _in_code()
    unused = [m.id for m in _russian() if m.id and m.id not in in_code]
    assert not unused, f"remove these from the Russian catalogue: {unused}"


def test_translations_keep_every_placeholder_of_their_message():
    for message in _russian():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in _strings(message):
            assert set(PLACEHOLDER.findall(text)) == wanted, (message.id, text)


def test_english_is_the_message_itself_and_an_unknown_message_passes_through():
    assert _("no such message here") == "no such message here"
    with language("ru"):
        assert _("no such message here") == "no such message here"
        assert ngettext("{n} day", "{n} days", 1) == "{n} day"


@pytest.mark.parametrize(("n", "form"), [(1, 0), (2, 1), (4, 1), (5, 2), (11, 2), (21, 0), (22, 1)])
def test_russian_plural_forms_follow_the_count(n, form):
    assert i18n.translations("ru").plural(n) == form


def test_each_thread_keeps_its_own_language():
    seen: dict[str, str] = {}

    def session(lang: str) -> None:
        i18n.set_language(lang)
        barrier.wait()
        seen[lang] = i18n.get_language()

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=session, args=(lang,)) for lang in ("en", "ru")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"en": "en", "ru": "ru"}
    assert i18n.get_language() == "en"


def test_an_unknown_language_is_refused_by_name():
    with pytest.raises(ValueError, match="'de': choose one of en, ru"):
        i18n.set_language("de")


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)
