"""The dashboard's frame: its pages, the reader's language and the projector's presentation mode.

The language comes from `?lang=ru` / `?lang=en` in the address, else the sidebar's earlier
choice in this session, else the browser's language. Presentation mode (`?present=1`, or the
sidebar's toggle) hides the sidebar and Streamlit's toolbar and sets large, dark type.
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from hourglass.i18n import LANGUAGES, _
from hourglass.kpis import written

PAGE_DIR = Path("hourglass", "app", "pages")  # relative to dashboard.py, as st.Page wants it
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stAppDeployButton"],
[data-testid="stDecoration"] {
  display: none !important;
}
.block-container { padding: 1.2rem 1.6rem 1rem 1.6rem !important; max-width: 100% !important; }
h1 { font-size: 2.6rem !important; } h2 { font-size: 2.1rem !important; }
h3 { font-size: 1.8rem !important; }
[data-testid="stMarkdown"] p, [data-testid="stMarkdown"] li, [data-testid="stMarkdown"] td,
[data-testid="stMarkdown"] th, [data-testid="stCaptionContainer"],
[data-testid="stCaptionContainer"] p, [data-testid="stAlertContainer"] p,
[data-testid="stAlertContainer"] li, [data-testid="stTable"] td, [data-testid="stTable"] th,
[data-testid="stExpander"] summary p, [data-testid="stTab"] p {
  font-size: 22px !important; line-height: 1.4 !important; color: #111 !important;
}
[data-testid="stWidgetLabel"] p, [data-testid="stCheckbox"] p, [data-testid="stRadio"] p,
[data-testid="stNumberInput"] input, [data-testid="stTextInput"] input,
[data-testid="stDateInput"] input, [data-testid="stDateInputField"],
[data-testid="stTextArea"] textarea, [data-testid="stFileChip"] small,
[data-testid="stSelectbox"] div, [data-testid="stSelectbox"] input,
[data-testid="stMultiSelect"] div, [data-testid="stMultiSelect"] span,
[data-testid="stMultiSelect"] input,
[data-testid="stSliderThumbValue"], [data-testid="stSliderTickBar"] div,
[data-testid="stFileUploaderDropzone"] span:not(button *),
[data-testid="stFileUploaderDropzone"] small,
[data-testid="stFileUploaderDropzone"] button:not([data-testid$="Icon"]),
[data-testid="stFileChipName"], [data-testid^="stBaseButton"] p,
[data-testid="stButtonGroup"] button, [data-testid="stButtonGroup"] button * {
  font-size: 21px !important;
}
[data-testid="stMetricLabel"] p { font-size: 22px !important; color: #111 !important; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] div { font-size: 44px !important; }
[data-testid="stMetricDelta"] div { font-size: 21px !important; }
/* long button labels wrap inside their box rather than run past it */
[data-testid^="stBaseButton"]:not([data-testid$="Icon"]) {
  height: auto !important; min-height: 2.5rem;
}
[data-testid^="stBaseButton"] p { white-space: normal !important; line-height: 1.25 !important; }
[data-testid="stMultiSelect"] [data-baseweb="tag"] { height: auto !important; }
/* tables are drawn on a canvas in 14 px type: only zoom reaches them; the table measures
   its width within the zoomed box, so it stays as wide as its column. A zoomed table takes
   a click for the cell below the one pointed at, so tables edited in a form keep their size */
[data-testid="stElementContainer"]:has([data-testid="stDataFrame"]):not([data-testid="stForm"] *) {
  zoom: 1.5; width: calc(100% / 1.5) !important;
}
</style>
"""


STREAMLIT_WORDS_JS = """<script>
(() => {
  // Streamlit writes these words itself, in English, with no option to change them: each
  // text node in these places is written again in the page's language, as React redraws it
  const words = %s;
  const places = '[data-testid="stSkipToContent"], [data-testid="stFileUploader"], '
    + '[data-testid="stDateInputField"]';
  const size = /^([0-9.]+)\\s*([KMG]?B)( per file)?$/;  // 50MB per file; a file's 207.6KB
  const say = (text) => {
    const found = text.match(size);
    if (!found) return words.whole[text] ?? text;
    const amount = found[1].replace(".", words.decimal) + "\\u00a0" + words.units[found[2]];
    return found[3] ? words.perFile.replace("{size}", amount) : amount;
  };
  window.hourglassRewrite = () => {
    for (const place of document.querySelectorAll(places)) {
      const walker = document.createTreeWalker(place, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.nodeValue !== node.hourglassShown) node.hourglassOriginal = node.nodeValue;
        const original = node.hourglassOriginal, text = original.trim();
        const shown = text ? original.replace(text, say(text)) : original;
        if (shown !== node.nodeValue) node.nodeValue = shown;
        node.hourglassShown = shown;
      }
    }
  };
  if (!window.hourglassWatcher) {
    window.hourglassWatcher = new MutationObserver(() => window.hourglassRewrite());
    window.hourglassWatcher.observe(
      document.body, {childList: true, subtree: true, characterData: true});
  }
  window.hourglassRewrite();
})();
</script>"""


def streamlit_words() -> None:
    """Streamlit's own English words, as the reader's language writes them (in the browser)."""
    words = {
        "whole": {
            "Skip to main content": _("Skip to main content"),
            "Drag and drop a file here": _("Drag and drop a file here"),
            "Drag and drop files here": _("Drag and drop files here"),
            "Upload": _("Upload"),
            # an empty date box's year, month and day
            "yyyy": _("yyyy"),
            "mm": _("mm"),
            "dd": _("dd"),
        },
        "perFile": _("up to {size} per file"),
        "units": {"B": _("B"), "KB": _("KB"), "MB": _("MB"), "GB": _("GB")},
        "decimal": written(0.5, "{:.1f}")[1],  # the language's decimal point
    }
    st.html(
        STREAMLIT_WORDS_JS % json.dumps(words, ensure_ascii=False), unsafe_allow_javascript=True
    )


def page_list() -> tuple[tuple[str, str, str, str], ...]:
    """Each page's address, title (in the active language), icon and script."""
    return (
        ("trainer", _("Trainer"), ":material/hourglass_empty:", "trainer.py"),
        ("marketer", _("Marketer"), ":material/tune:", "marketer.py"),
        ("budget", _("Budget"), ":material/payments:", "budget.py"),
        ("planner", _("Planner"), ":material/timeline:", "planner.py"),
        ("compare", _("Compare"), ":material/compare_arrows:", "compare.py"),
        ("deals", _("B2B deals"), ":material/handshake:", "deals.py"),
        ("sales-team", _("Sales team"), ":material/groups:", "sales_team.py"),
        ("network", _("Network"), ":material/hub:", "network.py"),
        ("accounts", _("Key accounts"), ":material/diamond:", "accounts.py"),
        ("business", _("My business"), ":material/storefront:", "business.py"),
        ("scenario", _("Scenario"), ":material/edit_document:", "scenario.py"),
        ("import", _("Import data"), ":material/upload_file:", "import_data.py"),
    )


def pages() -> list[st.Page]:
    """Every page at its address; the app's root opens the first one."""
    shown = [
        st.Page(PAGE_DIR / script, url_path=path, title=title, icon=icon)
        for path, title, icon, script in page_list()
    ]
    # the default page would be served at "/" only, so the root passes on to /trainer
    root = st.Page(
        lambda: st.switch_page(shown[0]),
        url_path="home",
        title="hourglass",
        default=True,
        visibility="hidden",
    )
    return [root, *shown]


def reader_language() -> str:
    """The language to show this run in: the address's, the session's, or the browser's."""
    asked = st.query_params.get("lang")
    if asked in LANGUAGES:
        st.session_state.language = asked
    elif st.session_state.get("language") not in LANGUAGES:
        browser = st.context.locale or ""
        st.session_state.language = "ru" if browser.lower().startswith("ru") else "en"
    return st.session_state.language


def presenting() -> bool:
    """Whether this run is in presentation mode (`?present=1`, or the sidebar's toggle)."""
    asked = st.query_params.get("present")
    if asked is not None:
        st.session_state.present = asked in ("1", "true", "yes")
    return bool(st.session_state.get("present", False))


def language_choice() -> None:
    """The sidebar's language switch; the address follows it, so a shared link keeps it."""
    st.radio(
        _("Language"),
        list(LANGUAGES),
        format_func=LANGUAGE_NAMES.__getitem__,
        horizontal=True,
        key="language",
        on_change=lambda: st.query_params.update(lang=st.session_state.language),
    )


def presentation_choice() -> None:
    """The sidebar's presentation-mode switch."""
    st.toggle(
        _("Presentation mode (large type, no sidebar)"),
        key="present",
        on_change=lambda: st.query_params.update(present="1" if st.session_state.present else "0"),
    )


def present() -> None:
    """Lay the page out for a projector, with one button back to the normal layout."""
    st.markdown(PRESENTATION_CSS, unsafe_allow_html=True)
    right = st.columns([3, 1])[1]  # room for the label in Russian at 1280 px
    right.button(
        _("Leave presentation"), key="leave-presentation", on_click=_leave, width="stretch"
    )


def _leave() -> None:
    st.session_state.present = False
    st.query_params["present"] = "0"
