"""User text the dashboard shows is never read as Markdown: no link, image, HTML or LaTeX.

Streamlit reads Markdown in headers, captions, alerts, metric, widget and expander labels;
a scenario description, a YAML key or a CRM seller named `![](http://...)` would make the
browser fetch that address. The checks parse what the page sends with a CommonMark parser.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from google.protobuf.json_format import MessageToDict
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from hourglass.app.widgets import escape
from hourglass.calibration import export_deals
from tests.helpers import ROOT, repeat_buying_run
from tests.test_dashboard import SCRIPTS, open_page

URL = "http://example.invalid/x.png"
ATTACKS = (
    f"![]({URL})",
    f"[link]({URL})",
    f"<img src='{URL}'>",
    f"<{URL}>",
    f"www.example.invalid/{URL}",
    "$$\\href{http://example.invalid}{x}$$",
    ":red[loud] :material/home: **bold** `code`",
    f"# heading\n\n    code\n> quote\n- item\n1. item\n---\n| a | b |\n|---|---|\n{URL}",
    "&lt;img src=x&gt; &#60;b&#62; \\![](x) \\\\",
    "ann@example.invalid _http://example.invalid HTTPS://example.invalid mailto:a@b.c",
)
DESCRIPTION = " ".join(ATTACKS[:6])
FETCHING = {"link_open", "image", "html_inline", "html_block"}
PLAIN_TEXT_ELEMENTS = {"code", "text_area"}
"""Elements whose text Streamlit shows as it is (the YAML editor, the report as code)."""
PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
BARE_LINK = re.compile(r"(?i)(https?://|www\.)|[-.\w+]+@[-\w]+\.", re.ASCII)
"""What GitHub-flavoured Markdown links in rendered text (Streamlit does, after escapes)."""


def tokens(text: str) -> Iterator:
    """Every token CommonMark reads in the text, inline ones included."""
    for token in PARSER.parse(text):
        yield token
        yield from token.children or ()


def assert_literal(text: str) -> None:
    """The text, read as Markdown, has no link, image, HTML, LaTeX or bare address in it."""
    found = {t.type for t in tokens(text)} & FETCHING
    assert not found, (found, text)
    assert not re.search(r"(?<!\\)\$", text), text  # LaTeX opens on an unescaped dollar
    assert not BARE_LINK.search(" ".join(rendered_words(text))), text


def rendered_words(text: str) -> list[str]:
    """The words a reader sees once the Markdown is rendered, paragraph by paragraph."""
    words = []
    for block in PARSER.parse(text):
        inline = [t for t in block.children or () if t.type in ("text", "softbreak", "hardbreak")]
        words += "".join(t.content if t.type == "text" else " " for t in inline).split()
    return words


def seen(text: str) -> list[str]:
    """The rendered words without the invisible joiners that keep addresses from linking."""
    return " ".join(rendered_words(text)).replace("\u2060", "").split()


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from("\n\t\r")))
def test_escaped_text_reads_as_the_same_words_and_nothing_else(text):
    escaped = escape(text)
    assert_literal(escaped)
    # words a reader sees: each line's in turn, none lost, none added, none changed
    assert seen(escaped) == text.split()


@pytest.mark.parametrize("attack", ATTACKS)
def test_each_known_markup_shows_as_its_own_text(attack):
    escaped = escape(attack)
    assert_literal(escaped)
    assert seen(escaped) == attack.split()


def shown_strings(at: AppTest) -> Iterator[tuple[str, str]]:
    """(element type, text) for every string the page sends that Streamlit reads as Markdown."""
    nodes = list(at._tree.children.values())
    while nodes:
        node = nodes.pop()
        nodes.extend(getattr(node, "children", {}).values())
        proto = getattr(node, "proto", None)
        if proto is None or node.type in PLAIN_TEXT_ELEMENTS:
            continue
        values = [MessageToDict(proto)]
        while values:
            value = values.pop()
            if isinstance(value, dict):
                values.extend(value.values())
            elif isinstance(value, list):
                values.extend(value)
            elif isinstance(value, str):
                yield node.type, value


def assert_page_literal(at: AppTest, expected: int = 1) -> None:
    """No error, and every string with the attack's address in it is shown as plain text."""
    assert not at.exception, [e.value for e in at.exception]
    attacked = [(kind, text) for kind, text in shown_strings(at) if "example" in text]
    for _, text in attacked:
        assert_literal(text)
    assert len(attacked) >= expected, attacked  # the attack did reach the page


def with_description(description: str) -> dict[str, str]:
    """The shipped library plus a scenario named `attacked` with this description."""
    library = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "scenarios").glob("*.yaml")}
    text = library["no_referrals"].replace("name: no_referrals", "name: attacked")
    line = "description: " + json.dumps(description)
    text = re.sub(r"(?m)^description:.*$", lambda _: line, text)
    library["attacked"] = text
    return library


@pytest.mark.parametrize("address", list(SCRIPTS))
def test_a_scenario_description_with_markup_shows_as_text_on_every_page(address):
    at = open_page(address, library=with_description(DESCRIPTION), chosen="attacked")
    untitled = ("compare", "scenario", "import", "business")  # pages not headed by the scenario
    assert "attacked" in at.header[0].value or address in untitled
    assert_page_literal(at, expected=1 if address == "trainer" else 0)


def test_an_uploaded_key_and_file_name_with_markup_show_as_text():
    at = open_page("scenario")
    attack = f"![]({URL})"
    text = (ROOT / "scenarios" / "baseline.yaml").read_text() + f"'{attack}': 1\n"
    at.file_uploader(key="upload").upload(f"[x]({URL}).yaml", text.encode(), "text/yaml").run()
    assert "unknown key" in at.error[0].value
    assert_page_literal(at)
    assert at.selectbox(key="chosen").value == "baseline"


def test_an_edited_key_with_markup_shows_as_text():
    at = open_page("scenario")
    at.text_area[0].set_value(at.text_area[0].value + f"\n'<img src=\"{URL}\">': 1\n")
    at.button(key="check").click().run()
    assert "unknown key" in at.error[0].value
    assert_page_literal(at)


def test_crm_names_with_markup_show_as_text_on_the_import_page():
    deals = export_deals(repeat_buying_run())
    half = deals.index[: len(deals) // 2]
    deals.loc[half, "seller"] = f"![]({URL})"
    deals.loc[half, "loss_reason"] = f"[lost]({URL})"
    deals.loc[half, "source"] = f"$$x$$ <b>{URL}</b>"
    at = open_page("import")
    at.file_uploader(key="deals").upload(
        "deals.csv", deals.to_csv(index=False).encode(), "text/csv"
    )
    at.button[0].click().run()
    assert_page_literal(at, expected=0)
    report = at.code[0].value  # the report names the sellers inert, shown as text
    assert f"!\\[\\]({URL})" in report


def test_a_file_name_with_markup_in_an_import_error_shows_as_text():
    at = open_page("import")
    bad = (ROOT / "tests" / "data" / "bad_crm" / "missing_column.csv").read_bytes()
    bad = bad.replace(b"seller", f"![]({URL})".encode())
    at.file_uploader(key="deals").upload(f"![]({URL}).csv", bad, "text/csv")
    at.button[0].click().run()
    assert at.error
    assert_page_literal(at, expected=0)


def test_the_page_check_sees_unescaped_markup(monkeypatch):
    """The page check itself fails where a page shows the description unescaped."""
    monkeypatch.setattr("hourglass.app.widgets.escape", lambda text: str(text))
    at = open_page("trainer", library=with_description(DESCRIPTION), chosen="attacked")
    with pytest.raises(AssertionError):
        assert_page_literal(at)
