"""Scenario: edit the chosen scenario and check it, upload a scenario file, download YAML."""

from __future__ import annotations

from contextlib import AbstractContextManager

import streamlit as st

from hourglass.app import state, widgets
from hourglass.i18n import _, language

# The largest scenario text taken, uploaded or edited; a larger one is refused unread.
MAX_SCENARIO_BYTES = widgets.MAX_SCENARIO_MB * widgets.BYTES_PER_MB


def show(choice: state.Choice) -> None:
    """The upload, the editor of the chosen scenario, and its download."""
    name = choice.scenario.name
    st.header(_("Scenario files"))
    st.file_uploader(
        _("Upload a scenario (YAML)"),
        type=["yaml", "yml"],
        max_upload_size=widgets.MAX_SCENARIO_MB,
        key="upload",
        on_change=take_upload,
    )
    st.caption(_("YAML, at most {mb} MB").format(mb=widgets.MAX_SCENARIO_MB))
    kind, message = state.told()
    if kind == "error":
        st.error(widgets.escape(message))
    elif kind == "success":
        st.success(widgets.escape(message))
    st.subheader(_("Edit · {name}").format(name=widgets.escape(name)))
    key = f"edit-{name}-{state.version_tag(choice.scenario)}"
    # no max_chars: Streamlit would cut a longer paste short without a word; Check says why
    text = st.text_area(_("Scenario (YAML)"), state.library()[name], height=480, key=key)
    check, download = st.columns(2)
    check.button(_("Check and use"), type="primary", key="check", on_click=take_edit, args=(key,))
    with download:
        widgets.download(_("Download YAML"), text, f"{name}.yaml", "application/yaml")
    st.caption(
        _(
            "Edits and uploads stay in this browser session; download a scenario to keep it. "
            "Files are read as plain YAML: nothing in them is run, and no path in them is "
            "opened."
        )
    )


def take_edit(key: str) -> None:
    """Validate the edited text; use it on every page, or say what is wrong."""
    text, source = st.session_state[key], f"{st.session_state.chosen}.yaml"
    with readers_language():
        if not too_big(source, len(text.encode("utf-8"))):
            state.keep(text, source)


def take_upload() -> None:
    """Validate an uploaded scenario; use it on every page, or say what is wrong."""
    upload = st.session_state.upload
    if upload is None:
        return
    data = upload.getvalue()
    with readers_language():
        if too_big(upload.name, len(data)):
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            message = _("{file}: not UTF-8 text (byte {byte}).")
            state.tell("error", message.format(file=upload.name, byte=err.start))
            return
        state.keep(text, upload.name)


def readers_language() -> AbstractContextManager[None]:
    """The reader's language for a callback, which runs before the page sets it."""
    return language(st.session_state.get("language", "en"))


def too_big(source: str, size: int) -> bool:
    """Whether a scenario text is over the cap; if so, the message gives its size and the cap."""
    if size <= MAX_SCENARIO_BYTES:
        return False
    message = _(
        "{source}: {size:,} bytes; a scenario may have at most {most:,} ({mb} MB). "
        "Nothing was changed."
    )
    state.tell(
        "error",
        message.format(
            source=source, size=size, most=MAX_SCENARIO_BYTES, mb=widgets.MAX_SCENARIO_MB
        ),
    )
    return True


if __name__ == "__main__":
    show(state.choice())
