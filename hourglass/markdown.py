"""User text made literal for Markdown: shown as written, never as a link, image or style."""

from __future__ import annotations

import re

MARKUP = re.compile(r"([!-/:-@\[-`{-~])")
"""ASCII punctuation: Markdown, HTML, LaTeX and Streamlit's directives are all written in it."""
BARE_LINK = re.compile(r"(?i)(https?|ftp|mailto|xmpp|www)(?=[:.])|(?<=@)")
"""Where GitHub-flavoured Markdown starts a link in plain text: `http:`, `www.`, `a@b.c`."""
WORD_JOINER = "\u2060"  # invisible; it stands between a word and what would make it a link


def literal(text: object) -> str:
    """User text made literal for Markdown: no link, image, HTML, LaTeX or style.

    CommonMark lets a backslash escape any ASCII punctuation, so every one is escaped. Bare
    addresses are linked after escapes are read, so an invisible word joiner breaks them.
    Each line keeps its words (spaces run together) and ends in a hard line break.
    """
    lines = (" ".join(line.split()) for line in str(text).splitlines())
    unlinked = (BARE_LINK.sub(lambda m: m.group() + WORD_JOINER, line) for line in lines)
    return "  \n".join(MARKUP.sub(r"\\\1", line) for line in unlinked)


DOCUMENT_MARKUP = re.compile(r"([\\\[\]<>|`])")
"""What in user text could link or fetch (![](url), <img>) or break a table in a document."""


def inert(text: str) -> str:
    """User text inert in a Markdown document: no link, image, HTML or broken table cell.

    Lighter than `literal`, so a saved report still reads as plain text: only brackets,
    angle brackets, bars, backticks and backslashes are escaped.
    """
    return DOCUMENT_MARKUP.sub(r"\\\1", text)
