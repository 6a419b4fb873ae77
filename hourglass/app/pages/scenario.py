"""Scenario: edit the chosen scenario and check it, upload a scenario file, download YAML."""

from __future__ import annotations

import streamlit as st

from hourglass.app import state, widgets

MAX_UPLOAD_BYTES = 256_000  # larger scenario uploads are refused unread


def show(choice: state.Choice) -> None:
    """The upload, the editor of the chosen scenario, and its download."""
    name = choice.scenario.name
    st.header("Scenario files")
    st.file_uploader(
        "Upload a scenario (YAML, up to 250 kB)",
        type=["yaml", "yml"],
        key="upload",
        on_change=take_upload,
    )
    kind, message = state.told()
    if kind == "error":
        st.error(message)
    elif kind == "success":
        st.success(message)
    st.subheader(f"Edit · {name}")
    key = f"edit-{name}-{state.version_tag(choice.scenario)}"
    text = st.text_area("Scenario (YAML)", state.library()[name], height=480, key=key)
    check, download = st.columns(2)
    check.button("Check and use", type="primary", key="check", on_click=take_edit, args=(key,))
    with download:
        widgets.download("Download YAML", text, f"{name}.yaml", "application/yaml")
    st.caption(
        "Edits and uploads stay in this browser session; download a scenario to keep it. "
        "Files are read as plain YAML: nothing in them is run, and no path in them is opened."
    )


def take_edit(key: str) -> None:
    """Validate the edited text; use it on every page, or say what is wrong."""
    state.keep(st.session_state[key], f"{st.session_state.chosen}.yaml")


def take_upload() -> None:
    """Validate an uploaded scenario; use it on every page, or say what is wrong."""
    upload = st.session_state.upload
    if upload is None:
        return
    data = upload.getvalue()
    if len(data) > MAX_UPLOAD_BYTES:
        state.tell(
            "error", f"{upload.name}: {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}."
        )
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        state.tell("error", f"{upload.name}: not UTF-8 text (byte {err.start}).")
        return
    state.keep(text, upload.name)


if __name__ == "__main__":
    show(state.choice())
