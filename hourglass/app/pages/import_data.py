"""Import data: fit a scenario from a CRM export and a transaction log; show the fits."""

from __future__ import annotations

import dataclasses
import datetime
from typing import TYPE_CHECKING, Any

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

import hourglass as hg
from hourglass.app import runs, state, widgets
from hourglass.calibration.gaps import not_estimated
from hourglass.calibration.writing import LEAST_MARKET, MARKET_PER_DEAL
from hourglass.config.gaps import gap_records
from hourglass.config.sections import MAX_MARKET
from hourglass.i18n import _
from hourglass.kpis import written

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

MAX_CSV_BYTES = widgets.MAX_CSV_MB * widgets.BYTES_PER_MB  # larger ones are refused unread
MAX_MAPPING_BYTES = 64 * 1024  # the largest mapping file read: a real one is under a kilobyte
# The chance to stop buying after each repeat purchase, with a repeat rate entered here (the
# My business form's); a docstring here would be shown on the page.
DROPOUT = 0.1


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
    key = (*(f.file_id for f in files), until)
    found = st.session_state.get("calibrated")
    if not found or found[0] != key:
        cal = _calibrated(deals, transactions, mapping, until)
        if cal is None:
            return
        st.session_state.calibrated = (key, cal)
    calibration(st.session_state.calibrated[1])


def _calibrated(
    deals: UploadedFile,
    transactions: UploadedFile | None,
    mapping: UploadedFile | None,
    until: datetime.date | None,
) -> hg.calibration.Calibration | None:
    """The uploads calibrated within the server's budgets, or None after saying why not.

    The intervals' bootstrap takes the command line's default seed, not the simulations'
    seed: the same files give the same scenario here as from `hourglass calibrate`, and
    choosing a seed on the pages leaves an opened calibration as it was.
    """
    tables = [f for f in (deals, transactions) if f is not None]
    big = [f for f in tables if f.size > MAX_CSV_BYTES]
    if big:
        too_big = _("{name}: {size} bytes; the limit is {limit}.").format(
            name=big[0].name, size=f"{big[0].size:,}", limit=f"{MAX_CSV_BYTES:,}"
        )
        st.error(widgets.escape(too_big))
        return None
    rows = sum(f.getvalue().count(b"\n") + 1 for f in tables)
    bar = st.progress(0.0)
    try:
        columns = _mapping(mapping)
        with runs.ledger().calibration_admitted(state.session_key(), rows):
            return hg.calibrate(
                deals.getvalue(),
                transactions.getvalue() if transactions else None,
                mapping=columns,
                until=until,
                progress=lambda step: _show_step(bar, step),
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
    finally:
        bar.empty()
    return None


def _show_step(bar: DeltaGenerator, step: str) -> None:
    """The calibration's step on its progress bar, in the reader's words."""
    words = {
        "deals": _("Reading the deal history"),
        "stages": _("Fitting pass probabilities and times in stage, per channel too"),
        "sellers": _("Fitting the sellers"),
        "repeat": _("Fitting repeat buying and order value"),
        "referrals": _("Fitting referrals"),
    }
    from hourglass.calibration.fit import CALIBRATION_STEPS as steps  # loaded by now

    bar.progress(steps.index(step) / len(steps), text=words[step])


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
    scenario = missing_rates(cal)
    st.button(
        _("Open the calibrated scenario"),
        key="open-calibrated",
        on_click=state.keep,
        args=(scenario.to_yaml(), f"{cal.name}.yaml"),
    )
    kind, message = state.told()
    if kind == "success":
        st.success(widgets.escape(message))


def missing_rates(cal: hg.calibration.Calibration) -> hg.Scenario:
    """The calibrated scenario, with the repeat and referral rates the data could not give.

    A warning says what is missing and what the scenario will use; a number input under it
    takes each missing rate.
    """
    fitted = cal.scenario
    no_repeat = fitted.after_sale.repeat is None
    no_referral = not _talks(fitted)
    if not (no_repeat or no_referral):
        return fitted
    warning = st.empty()
    left, right = st.columns(2)
    repeats = referred = None
    if no_repeat:
        repeats = left.number_input(
            _("Repeat purchases per customer per month"),
            0.0,
            100.0,
            0.0,
            0.05,
            key="import-repeats",
            help=_(
                "How often a customer buys again, on average: 0.2 is once in five months. "
                "After each repeat purchase a customer stops buying with a {chance} chance. "
                "0: no repeat purchases."
            ).format(chance=written(DROPOUT, "{:.0%}")),
        )
    if no_referral:
        referred = right.number_input(
            _("Referred prospects per customer per month"),
            0.0,
            100.0,
            0.0,
            0.05,
            key="import-referred",
            help=_(
                "New prospects each customer sends you a month by word of mouth: 0.1 is one "
                "in ten customers bringing someone each month. 0: no referrals."
            ),
        )
    scenario = with_rates(cal, repeats, referred)
    parts = ", ".join(widgets.missing_parts(fitted).values())
    warning.warning(
        _(
            "Your data could not estimate {parts}. Enter them below; the scenario you open "
            "uses: {used}."
        ).format(parts=parts, used="; ".join(_used(repeats, referred, scenario)))
    )
    return scenario


def _talks(scenario: hg.Scenario) -> bool:
    """Whether the scenario's customers bring others by word of mouth."""
    return scenario.referral is not None and any(scenario.referral.contacts_per_month.values())


def _used(repeats: float | None, referred: float | None, scenario: hg.Scenario) -> list[str]:
    """In words, the repeat and referral rates the scenario uses in place of the missing ones."""
    used = []
    if repeats is not None:
        used.append(
            _(
                "repeat purchases: {rate} per customer a month, with a {chance} chance to stop "
                "buying after each"
            ).format(rate=written(repeats, "{:g}"), chance=written(DROPOUT, "{:.0%}"))
            if repeats
            else _("no repeat purchases")
        )
    if referred is not None:
        used.append(
            _(
                "referred prospects: {rate} per customer a month, in a market of {size} people "
                "(set it to your market's size on the Scenario page)"
            ).format(rate=written(referred, "{:g}"), size=written(scenario.market.size, "{:,.0f}"))
            if referred
            else _("no referrals")
        )
    return used


def with_rates(
    cal: hg.calibration.Calibration, repeats: float | None, referred: float | None
) -> hg.Scenario:
    """The calibrated scenario with a repeat rate and a referral rate entered by hand.

    None leaves that part as calibrated; 0 leaves it out. Referrals need a finite market:
    without one, the scenario gets the market a calibration writes with word of mouth. The
    scenario's notes of what was not estimated keep only the parts still missing.
    """
    data: dict[str, Any] = cal.scenario_data()
    gone: list[dict[str, Any]] = []
    if repeats:
        data["after_sale"]["repeat"] = {
            "simple": {"purchases_per_month": repeats, "dropout_prob": DROPOUT}
        }
        gone.append({"part": "repeat"})
    if referred:
        # every customer refers alike, still buying or lapsed, as a calibration writes it
        data["referral"] = {
            "contacts_per_month": {"one_time": referred, "temporarily_lost": referred},
            "win_prob": 1.0,
        }
        if data.get("market", {}).get("size") is None:
            deals = sum(c.deals for c in cal.channels)
            size = int(min(MAX_MARKET, max(LEAST_MARKET, MARKET_PER_DEAL * deals)))
            data["market"] = {"size": size}
        without_word_of_mouth = dataclasses.replace(cal, referral=None)
        kept = not_estimated(without_word_of_mouth)
        gone += gap_records([gap for gap in not_estimated(cal) if gap not in kept])
    notes = [note for note in data.pop("not_estimated", []) if note not in gone]
    if notes:
        data["not_estimated"] = notes
    return hg.parse_scenario(data, source=_("the calibrated scenario"), files=False)


if __name__ == "__main__":
    show(state.choice())
