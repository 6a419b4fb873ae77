"""Import data: fit a scenario from a CRM export and a transaction log; show the fits."""

from __future__ import annotations

import datetime

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

import hourglass as hg
from hourglass.app import runs, state, widgets
from hourglass.i18n import _

MAX_CSV_BYTES = widgets.MAX_CSV_MB * widgets.BYTES_PER_MB  # larger ones are refused unread
MAX_MAPPING_BYTES = 64 * 1024  # the largest mapping file read: a real one is under a kilobyte


def show(choice: state.Choice) -> None:
    """The two uploads; on Calibrate, the fits, kept in this session for these files."""
    st.header(_("Import data"))
    st.caption(
        _(
            "A CRM export of deal-stage history (one row per deal and stage; Bitrix24, HubSpot "
            "and Salesforce exports are recognised by their columns) and, optionally, a "
            "transaction log (customer, date, amount). Every row that cannot be used is "
            "counted, with why."
        )
    )
    with st.form("calibrate"):
        deals = st.file_uploader(
            _("Deal-stage history (CSV)"),
            type=["csv"],
            key="deals",
            max_upload_size=widgets.MAX_CSV_MB,
        )
        transactions = st.file_uploader(
            _("Transactions (CSV)"),
            type=["csv"],
            key="transactions",
            max_upload_size=widgets.MAX_CSV_MB,
        )
        mapping = st.file_uploader(
            _("Column mapping (YAML, optional)"),
            type=["yaml", "yml"],
            key="mapping",
            help=_(
                "Names the columns and stages of an export that is not recognised, e.g. "
                "transactions: {customer: Client, date: Day, amount: Total}; the README's "
                "mapping file section lists every key."
            ),
        )
        until = st.date_input(_("End of the calibration period (optional)"), value=None)
        st.form_submit_button(_("Calibrate"), type="primary")
    if deals is None:
        return
    files = [f for f in (deals, transactions, mapping) if f is not None]
    key = (*(f.file_id for f in files), until, choice.seed)
    found = st.session_state.get("calibrated")
    if not found or found[0] != key:
        cal = _calibrated(deals, transactions, mapping, until, choice.seed)
        if cal is None:
            return
        st.session_state.calibrated = (key, cal)
    calibration(st.session_state.calibrated[1])


def _calibrated(
    deals: UploadedFile,
    transactions: UploadedFile | None,
    mapping: UploadedFile | None,
    until: datetime.date | None,
    seed: int,
) -> hg.calibration.Calibration | None:
    """The uploads calibrated within the server's budgets, or None after saying why not."""
    tables = [f for f in (deals, transactions) if f is not None]
    big = [f for f in tables if f.size > MAX_CSV_BYTES]
    if big:
        too_big = _("{name}: {size} bytes; the limit is {limit}.").format(
            name=big[0].name, size=f"{big[0].size:,}", limit=f"{MAX_CSV_BYTES:,}"
        )
        st.error(widgets.escape(too_big))
        return None
    rows = sum(f.getvalue().count(b"\n") + 1 for f in tables)
    try:
        columns = _mapping(mapping)
        with (
            runs.ledger().calibration_admitted(state.session_key(), rows),
            st.spinner(_("Fitting stages, durations, channels and repeat buying")),
        ):
            return hg.calibrate(
                deals.getvalue(),
                transactions.getvalue() if transactions else None,
                mapping=columns,
                until=until,
                seed=seed,
            )
    except runs.TooBig as err:
        st.error(widgets.escape(_("Not calibrated: {why}").format(why=err)))
    except (hg.calibration.DataError, hg.ScenarioError) as err:
        st.error(widgets.escape(err))
        if "--mapping" in str(err) or "--column" in str(err):
            st.info(
                _(
                    "On this page, give a column mapping file under 'Column mapping': it "
                    "names the columns as --mapping and --column do on the command line."
                )
            )
    return None


def _mapping(upload: UploadedFile | None) -> hg.calibration.CrmMapping | None:
    """The uploaded column mapping, read; None when none is given."""
    if upload is None:
        return None
    if upload.size > MAX_MAPPING_BYTES:
        raise hg.calibration.DataError(
            _("{name}: {size} bytes; a mapping file may hold at most {limit}").format(
                name=upload.name, size=f"{upload.size:,}", limit=f"{MAX_MAPPING_BYTES:,}"
            )
        )
    try:
        text = upload.getvalue().decode("utf-8")
    except UnicodeDecodeError:
        raise hg.calibration.DataError(
            _("{name}: not UTF-8 text; save the mapping file as UTF-8").format(name=upload.name)
        ) from None
    return hg.calibration.load_mapping(text, upload.name)


def _seller_fits(cal: hg.calibration.Calibration) -> None:
    """Each seller's pass probability and skill per worked stage, where the export names sellers."""
    table = hg.calibration.seller_fits(cal)
    if not len(table):
        return
    st.markdown("**" + _("Pass probability per seller") + "**")
    st.caption(
        _(
            "Each seller's pass probability at the stages sellers work, against the rest of "
            "the team. Skill is the seller's pass probability over the team's; the calibrated "
            "scenario gives a seller that skill only where the difference from the rest is "
            "significant, and 1.0 elsewhere."
        )
    )
    numbers = table.select_dtypes("float").columns
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%.3f") for c in numbers},
    )


def choice_labels() -> str:
    """The sidebar's stage labels (en, ru, seven_en or seven_ru)."""
    return state.choice().labels


def calibration(cal: hg.calibration.Calibration) -> None:
    """What was fitted, the fit plots, the report, and a way to use the scenario."""
    st.subheader(
        _("Fitted from {start} to {end}").format(
            start=f"{cal.origin:%Y-%m-%d}", end=f"{cal.until_date:%Y-%m-%d}"
        )
    )
    st.dataframe(hg.calibration.stage_fits(cal), hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left:
        widgets.chart(hg.plots.pass_prob_figure(cal), "calibrated-pass-probabilities")
    with right:
        fitted_stages = [s.stage for s in cal.stages if s.duration is not None]
        if fitted_stages:
            stage = st.selectbox(
                _("Time in stage"),
                fitted_stages,
                format_func=hg.stages.LABELS[choice_labels()].get,
                key="duration-stage",
            )
            widgets.chart(hg.plots.duration_figure(cal, stage), "calibrated-durations")
    _seller_fits(cal)
    repeat = hg.calibration.repeat_fits(cal)
    if len(repeat):
        st.markdown("**" + _("Repeat buying (BG/NBD) and order value (Gamma-Gamma)") + "**")
        st.dataframe(repeat, hide_index=True)
    for warning in cal.warnings:
        st.warning(widgets.escape(warning))
    for note in cal.notes:
        st.caption(_("Note: {note}").format(note=widgets.escape(note)))
    report = hg.calibration.report_markdown(cal)
    with st.expander(_("The calibration report")):
        # shown as text: Streamlit reads more Markdown than a document does
        st.code(report, language="markdown", wrap_lines=True)
    widgets.download(_("Report (Markdown)"), report, f"{cal.name}_report.md", "text/markdown")
    st.button(
        _("Open the calibrated scenario"),
        key="open-calibrated",
        on_click=state.keep,
        args=(cal.scenario.to_yaml(), f"{cal.name}.yaml"),
    )
    kind, message = state.told()
    if kind == "success":
        st.success(widgets.escape(message))


if __name__ == "__main__":
    show(state.choice())
