"""This browser session's state: its scenarios, the sidebar's choice, and messages to show."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

import hourglass as hg
from hourglass.app import cache
from hourglass.i18n import _


@dataclass(frozen=True)
class Choice:
    """What the sidebar chose for every page: scenario, seed, replications, labels, layout."""

    scenario: hg.Scenario
    seed: int
    reps: int
    labels: str
    """A key of `hourglass.stages.LABELS`: en, ru, seven_en or seven_ru."""
    presenting: bool = False
    """Whether the page is laid out for a projector."""

    @property
    def language(self) -> str:
        """The reader's language, en or ru; stage labels and KPI names follow it."""
        return self.labels.removeprefix("seven_")


def open_library(folder: Path) -> None:
    """Start this session's scenarios with the shipped ones in `folder`, once a session."""
    if "library" not in st.session_state:
        st.session_state.library = dict(cache.shipped_scenarios(str(folder)))


def library() -> dict[str, str]:
    """This session's scenarios (shipped, uploaded, edited): name -> YAML text."""
    return st.session_state.library


def scenario_of(name: str) -> hg.Scenario:
    """The named scenario of this session, validated."""
    return cache.parse(library()[name], f"{name}.yaml")


def add_scenario(text: str, source: str) -> str:
    """Validate a scenario text and keep it in this session; the name it is kept by is returned.

    A text named as a shipped scenario but differing from it is kept beside it, its name
    given a suffix (baseline_2): a shipped scenario is never replaced.
    """
    scenario = cache.parse(text, source)
    name = scenario.name
    if name in hg.config.shipped_scenarios() and library().get(name, text) != text:
        for n in itertools.count(2):
            text = scenario.model_copy(update={"name": f"{name}_{n}"}).to_yaml()
            if library().get(f"{name}_{n}", text) == text:
                name = f"{name}_{n}"
                break
    library()[name] = text
    return name


def session_key() -> str:
    """This browser session's own key: its share of the server's work is counted by it."""
    return st.session_state.setdefault("session_key", uuid.uuid4().hex)


def choose(choice: Choice) -> None:
    """Hand the sidebar's choice to the page about to run."""
    st.session_state.choice = choice


def choice() -> Choice:
    """The sidebar's choice in this run."""
    return st.session_state.choice


def version_tag(scenario: hg.Scenario) -> str:
    """A short tag of a scenario's content: controls keyed by it start from its own values."""
    return hashlib.sha1(scenario.to_yaml().encode("utf-8")).hexdigest()[:10]


def keep(text: str, source: str) -> None:
    """Add a scenario text to this session and choose it, or tell why it is refused."""
    try:
        name = add_scenario(text, source)
    except hg.ScenarioError as err:
        tell("error", str(err))
        return
    st.session_state.chosen = name
    written = cache.parse(text, source).name
    if name != written:
        tell(
            "success",
            _(
                "'{written}' is the name of a shipped scenario, so this one is kept beside it "
                "as '{name}' and chosen on every page."
            ).format(written=written, name=name),
        )
        return
    tell("success", _("'{name}' is valid and chosen on every page.").format(name=name))


def tell(kind: str, message: str) -> None:
    """Leave a message (error or success) for the page's next run."""
    st.session_state.told = (kind, message)


def told() -> tuple[str | None, str | None]:
    """The message left for this run, once: its kind and text, or (None, None)."""
    return st.session_state.pop("told", (None, None))
