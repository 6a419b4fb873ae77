"""Widgets every page shares: the sidebar, charts with a PNG, downloads, KPI metrics."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

import hourglass as hg
from hourglass.app import cache, shell, state
from hourglass.config.loading import MAX_SCENARIO_BYTES
from hourglass.config.scenario import MAX_SEED
from hourglass.i18n import _, get_language, ngettext
from hourglass.kpis import KPIS
from hourglass.markdown import literal

if TYPE_CHECKING:
    import pandas as pd  # imported where used: the theory sketch goes out before it loads
    import plotly.graph_objects as go
    from streamlit.delta_generator import DeltaGenerator

IMPROVEMENT_COLOURS = {True: "green", False: "red", None: "gray"}
"""A change's colour, by whether it makes the KPI better."""
MAX_CSV_MB = 50
"""The largest CSV export an uploader takes, in Streamlit's megabytes (MiB)."""
BYTES_PER_MB = 1024 * 1024  # Streamlit's uploader and server count a megabyte so
MAX_SCENARIO_MB = MAX_SCENARIO_BYTES // BYTES_PER_MB
"""The largest scenario file an uploader takes, and the editor's cap, in MiB."""


def escape(text: object) -> str:
    """User text made literal for Streamlit's Markdown (see hourglass.markdown.literal)."""
    return literal(text)


def sidebar(presenting: bool = False) -> state.Choice:
    """The scenario, language, stage vocabulary, seed and replications every page uses."""
    with st.sidebar:
        names = list(state.library())
        if st.session_state.get("chosen") not in names:
            st.session_state.chosen = "baseline" if "baseline" in names else names[0]
        name = st.selectbox(_("Scenario"), names, key="chosen")
        scenario = state.scenario_of(name)
        shell.language_choice()
        seven = st.toggle(_("Seven-stage vocabulary (K. Alekseev's)"), key="seven")
        seed = st.number_input(
            _("Seed"),
            min_value=0,
            max_value=MAX_SEED,
            value=scenario.seed,
            step=1,
            key=f"seed-{state.version_tag(scenario)}",
        )
        reps = st.slider(_("Replications"), 2, 50, 8, key="reps")
        shell.presentation_choice()
        st.caption(f"hourglass {hg.__version__}")
        shell.streamlit_words()
    labels = ("seven_" if seven else "") + get_language()
    return state.Choice(scenario, int(seed), int(reps), labels, presenting)


def heading(
    title: str, scenario: hg.Scenario, *, needs: object = True, otherwise: str = ""
) -> str | None:
    """The page's heading, `title` with the scenario's name for {name}; returns the name shown.

    A page about one part of a scenario (its network, committee or sales team) passes that
    part as `needs`: when the scenario has none, `otherwise` (with {name}) says what to
    choose instead, and None is returned.
    """
    name = escape(scenario.name)
    st.header(title.format(name=name))
    if needs is None:
        st.info(otherwise.format(name=name))
        return None
    return name


def logged_run(scenario: hg.Scenario, seed: int, doing: str) -> hg.Run | None:
    """One run with its event log, held in the server's budgets while it runs.

    `doing` is what the spinner says meanwhile. None, after saying why, when the run is
    over a budget.
    """
    from hourglass.app import runs  # runs draws with these widgets, so it comes when used

    try:
        with (
            runs.ledger().admitted(state.session_key(), runs.estimate(scenario, 1)),
            st.spinner(doing),
        ):
            return cache.one_run(scenario.to_yaml(), seed)
    except runs.TooBig as err:
        st.error(
            _("'{name}' is not simulated: {reason}").format(
                name=escape(scenario.name), reason=escape(err)
            )
        )
        return None


def chart(fig: go.Figure, name: str, band: str | None = None) -> None:
    """A figure with a PNG download (drawn by kaleido only when asked for).

    The PNG carries a line saying the scenario, seed and replications, and what the
    figure's band means when `band` says it; on a projector the figure is drawn large.
    """
    choice = state.choice()
    fig = in_language(fig, choice.language)
    shown = hg.plots.for_projector(fig) if choice.presenting else fig
    st.plotly_chart(shown, width="stretch", key=f"chart-{name}")
    footer = _("{scenario} · seed {seed} · {reps} replications").format(
        scenario=choice.scenario.name, seed=choice.seed, reps=choice.reps
    )
    st.download_button(
        "PNG",
        data=png_of(fig, f"{footer} · {band}" if band else footer),
        file_name=f"{name}.png",
        mime="image/png",
        key=f"png-{name}",
        on_click="ignore",
        icon=":material/download:",
    )


def as_shown(fig: go.Figure) -> go.Figure:
    """The figure in the reader's number format, drawn large on a projector."""
    choice = state.choice()
    fig = in_language(fig, choice.language)
    return hg.plots.for_projector(fig) if choice.presenting else fig


RUSSIAN_SEPARATORS = ",\u00a0"
"""Plotly's decimal and thousands separators as Russian writes numbers (1 234,5)."""


def in_language(fig: go.Figure, language: str) -> go.Figure:
    """The figure with its axis, hover and bar numbers written as `language` writes them.

    A copy: figures may come from a cache shared by readers of both languages. Russian
    writes large ticks whole (150 000), not with the SI suffix plotly uses ("150k").
    """
    if language != "ru":
        return fig
    copy = type(fig)(fig).update_layout(separators=RUSSIAN_SEPARATORS)
    copy.for_each_xaxis(lambda axis: axis.update(exponentformat="none"))
    return copy.for_each_yaxis(lambda axis: axis.update(exponentformat="none"))


def png_of(fig: go.Figure, footer: str) -> Callable[[], bytes]:
    """A deferred PNG rendering of the figure with its footer line."""
    return lambda: hg.plots.footed(fig, footer).to_image(
        format="png", width=1400, height=800, scale=1
    )


def csv_button(frame: pd.DataFrame, label: str, name: str) -> None:
    """A CSV download of a table."""
    download(label, frame.to_csv(index=False), f"{name}.csv", "text/csv", key=f"csv-{name}")


def download(label: str, text: str, file_name: str, mime: str, key: str | None = None) -> None:
    """A download of a text (CSV, YAML, Markdown) as UTF-8."""
    st.download_button(
        label,
        data=text.encode("utf-8"),
        file_name=file_name,
        mime=mime,
        key=key,
        on_click="ignore",
        icon=":material/download:",
    )


def grid(count: int, per_row: int = 4) -> list[DeltaGenerator]:
    """`count` cells in rows of `per_row` columns, wide enough that no number is cut short."""
    cells: list[DeltaGenerator] = []
    while len(cells) < count:
        cells.extend(st.columns(per_row))
    return cells[:count]


def kpi_metric(
    column: DeltaGenerator,
    name: str,
    value: float,
    language: str,
    *,
    change: tuple[float, float] | None = None,
    noise: bool = False,
    help: str | None = None,
) -> None:
    """A KPI as the registry names and writes it.

    `change` is (delta, base): the change shows in points for shares, in percent for counts
    and money, green where it is better, red where worse, grey where `noise` says the 95%
    interval includes no change.
    """
    kpi = KPIS[name]
    delta, colour = None, "gray"
    if change is not None and change[0] and math.isfinite(change[0]):
        delta = kpi.format_delta(*change)
        colour = "gray" if noise else IMPROVEMENT_COLOURS[kpi.is_improvement(change[0])]
    shown = kpi.format(value, compact=True)
    if kpi.unit == "days" and math.isfinite(value):
        shown = ngettext("{count} day", "{count} days", round(value)).format(count=shown)
    column.metric(
        kpi.label(language),
        shown,
        delta=delta,
        delta_color=colour,
        help=help,
    )


def overridden(scenario: hg.Scenario, overrides: dict) -> hg.Scenario | None:
    """The scenario with some values changed, or None after showing why they are refused."""
    try:
        return scenario.with_overrides(overrides)
    except hg.ScenarioError as err:
        st.error(escape(err))
        return None


def comparison_table(
    comparison: hg.experiments.Comparison, kpis: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """The comparison's KPI rows (only `kpis` when given) as the registry writes them."""
    from hourglass.analysis.changes import change_table  # pandas: not before the sketch

    return change_table(comparison.table, kpis)


CALIBRATED = "calibrated"
"""Where the Import page keeps its last calibration: (what it was made of, the result)."""


def calibration_warning(choice: state.Choice) -> None:
    """On every page, when the chosen scenario is the imported one: what it still leaves out.

    The imported scenario with a rate entered since (on the Import page or the Scenario
    page) is still the imported one; the warning names only the parts still missing.
    """
    found = st.session_state.get(CALIBRATED)
    if not found or not _same_but_rates(choice.scenario, found[1].scenario):
        return
    missing = missing_parts(choice.scenario)
    if missing:
        st.warning(
            _(
                "'{name}' was calibrated from your data, which could not estimate {parts}: the "
                "scenario leaves them out, so every forecast from it counts none. Enter them "
                "on the Import data page, under this warning there, or on the Scenario page "
                "({fields})."
            ).format(
                name=escape(choice.scenario.name),
                parts=", ".join(missing.values()),
                fields=", ".join(missing),
            )
        )


def _same_but_rates(chosen: hg.Scenario, fitted: hg.Scenario) -> bool:
    """Whether `chosen` is the calibrated scenario but for the rates a user may enter.

    Those are the repeat model, the referral section, the market it needs and the notes of
    what was not estimated; the name may differ too.
    """

    def kept(scenario: hg.Scenario) -> dict:
        data = scenario.model_dump(exclude={"name", "referral", "market", "not_estimated"})
        data["after_sale"].pop("repeat")
        return data

    return kept(chosen) == kept(fitted)


def missing_parts(scenario: hg.Scenario) -> dict[str, str]:
    """The repeat and referral parts a scenario leaves out: their fields, and them in words."""
    parts = {}
    if scenario.after_sale.repeat is None:
        parts["after_sale.repeat"] = _("repeat buying")
    if scenario.referral is None or not any(scenario.referral.contacts_per_month.values()):
        parts["referral"] = _("referrals (word of mouth)")
    return parts
