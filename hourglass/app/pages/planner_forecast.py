"""The Planner's second mode: the reader's own customers, forecast from their transaction log.

The same forecast as `hourglass forecast` (`hourglass.forecasting.forecast`), its work
estimated first and admitted through the dashboard's budgets like every simulation.
"""

from __future__ import annotations

import datetime

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

import hourglass as hg
from hourglass.analysis.forecast import forecast_table
from hourglass.app import runs, state, widgets
from hourglass.config.work import TooMuchWork, estimate_work
from hourglass.forecasting import MAX_MONTHS, Forecast, ForecastError, forecast
from hourglass.i18n import _
from hourglass.kpis import written
from hourglass.plots.forecast import customer_forecast_figure, month_label

# The session's last forecast: what it was made of, and the result.
RESULT = "planner-forecast-result"
# Header names each column is first looked for under (case-insensitive).
COLUMN_GUESSES = {
    "customer": ("customer_id", "customer", "client", "клиент"),
    "date": ("date", "day", "дата"),
    "amount": ("amount", "total", "sum", "сумма"),
}


def show(choice: state.Choice) -> None:
    """Upload, columns, the cut-off and months; on Forecast, the months with their bands."""
    st.caption(
        _(
            "A transaction log: one row per purchase with the customer, the date and the "
            "amount. Customers who bought by the cut-off date are forecast month by month "
            "from it; where the log goes on after it, the actual months stand beside the "
            "forecast."
        )
    )
    upload = st.file_uploader(
        _("Transaction log (CSV)"),
        type=["csv"],
        key="planner-log",
        max_upload_size=widgets.MAX_CSV_MB,
    )
    if upload is None:
        return
    log = read_log(upload)
    if log is None:
        return
    dates = log.rows["date"]
    first, last = dates.min().date(), dates.max().date()
    with st.form("planner-forecast"):
        until, months, reps = st.columns(3)
        until.date_input(
            _("Cut-off date (the last day of known data)"),
            value=default_until(first, last),
            min_value=first,
            max_value=last,
            key="forecast-until",
        )
        months.number_input(_("Months to forecast"), 1, MAX_MONTHS, 12, key="forecast-months")
        reps.number_input(_("Replications"), 2, 200, max(choice.reps, 20), key="forecast-reps")
        st.checkbox(
            _("Hold the fitted parameters fixed"),
            key="forecast-fixed",
            help=_("Then the band holds simulation noise only."),
        )
        asked = st.form_submit_button(_("Forecast"), type="primary")
    s = st.session_state
    request = (upload.file_id, columns_key(), s["forecast-until"], s["forecast-months"])
    request += (s["forecast-reps"], choice.seed, s["forecast-fixed"])
    kept = s.get(RESULT)
    if asked and (kept is None or kept[0] != request):
        result = run_forecast(log, request, upload.name)
        if result is not None:
            s[RESULT] = (request, result)
    if s.get(RESULT) and s[RESULT][0][0] == upload.file_id:
        answer(s[RESULT][1], choice)


def read_log(upload: UploadedFile) -> hg.calibration.Transactions | None:
    """The upload in its own encoding, its columns chosen; None after saying what is wrong."""
    try:
        table = hg.calibration.read_table(upload.getvalue(), upload.name)
    except hg.calibration.DataError as err:
        st.error(widgets.escape(err))
        return None
    headers = list(table.frame.columns)
    picked = {}
    for column, (role, label) in zip(st.columns(3), column_roles().items(), strict=True):
        picked[role] = column.selectbox(
            label, headers, index=guess(headers, role), key=f"forecast-column-{role}"
        )
    st.checkbox(
        _("Rows alike in every column are separate purchases"),
        key="forecast-keep-duplicates",
        help=_("Otherwise a row that repeats an earlier one exactly is left out as a duplicate."),
    )
    mapping = hg.calibration.CrmMapping(
        transactions=picked,
        keep_duplicate_transactions=st.session_state["forecast-keep-duplicates"],
    )
    try:
        log = hg.calibration.read_transactions(table.frame, mapping, upload.name)
    except (hg.calibration.DataError, hg.ScenarioError) as err:
        st.error(widgets.escape(err))
        return None
    for line in log.skipped.lines():
        st.warning(widgets.escape(line))
    return log


def column_roles() -> dict[str, str]:
    """The log's three columns, named in the reader's language."""
    return {
        "customer": _("Customer column"),
        "date": _("Date column"),
        "amount": _("Amount column"),
    }


def guess(headers: list[str], role: str) -> int:
    """The header most likely to hold the role's column: a known name, else by position."""
    lowered = [h.strip().lower() for h in headers]
    for name in COLUMN_GUESSES[role]:
        if name in lowered:
            return lowered.index(name)
    return min(list(COLUMN_GUESSES).index(role), len(headers) - 1)


def columns_key() -> tuple:
    """The columns chosen now: a new choice asks for a new forecast."""
    s = st.session_state
    return (
        *(s[f"forecast-column-{role}"] for role in COLUMN_GUESSES),
        s["forecast-keep-duplicates"],
    )


def default_until(first: datetime.date, last: datetime.date) -> datetime.date:
    """The end of a month two thirds into the log: the rest of it backtests the forecast.

    At a month's end, so that the forecast's first month is a whole one.
    """
    two_thirds = first + (last - first) * 2 // 3
    month_end = two_thirds.replace(day=1) - datetime.timedelta(days=1)
    return month_end if month_end >= first else two_thirds


def run_forecast(log: hg.calibration.Transactions, request: tuple, file: str) -> Forecast | None:
    """The library's forecast within the dashboard's budgets; None after saying why not."""
    _file_id, _columns, until, months, reps, seed, fixed = request
    end = pd.Timestamp(until)
    try:
        work = forecast_work(log, end, int(months), int(reps))
        with (
            runs.ledger().admitted(state.session_key(), work),
            st.spinner(
                _("Fitting repeat buying and simulating {reps} replications").format(reps=reps)
            ),
        ):
            return forecast(log, end, int(months), None, int(reps), seed, fixed, allow_large=True)
    except runs.TooBig as err:
        st.error(widgets.escape(_("Not forecast: {why}").format(why=err)))
    except ForecastError as err:
        st.error(widgets.escape(in_page_words(str(err), file)))
    except (TooMuchWork, hg.calibration.DataError, hg.ScenarioError) as err:
        st.error(widgets.escape(f"{file}: {err}"))
    return None


def in_page_words(message: str, file: str) -> str:
    """A forecast's message with the command line's options named as this page's fields."""
    fields = {
        f"--transactions {file}: ": f"{file}: ",
        "--until": _("Cut-off date"),
        "--months": _("Months to forecast"),
    }
    for option, field in fields.items():
        message = message.replace(option, field)
    return message


def forecast_work(
    log: hg.calibration.Transactions, until: pd.Timestamp, months: int, reps: int
) -> hg.config.WorkEstimate:
    """The forecast's work as the library counts it: known customers from the day after `until`.

    The repeat model is fitted to the log, and the run lasts `months` months.
    """
    cal = hg.calibration.calibrate(None, log, until=until)
    first = log.rows["date"].dt.normalize().groupby(log.rows["customer"]).min()
    known = int((first <= until).sum())
    horizon = months * 31.0  # the longest `months` calendar months can be
    cohort = hg.config.parse_scenario({**cal.scenario_data(), "horizon_days": horizon}, "forecast")
    return estimate_work(cohort, reps, known_customers=[0.0] * known)


def answer(result: Forecast, choice: state.Choice) -> None:
    """The forecast's chart, what its band holds, the backtest, and the table as CSV."""
    doc = result.to_dict()
    table = forecast_table(doc)
    labels = [month_label(pd.Period(m, "M"), choice.language) for m in table["month"]]
    sources = ", ".join(source_names()[s] for s in result.uncertainty)
    band = _("p5-p95 of {n} runs; the band holds: {sources}").format(n=doc["reps"], sources=sources)
    known, inside = result.inside_band()
    if known:
        st.metric(
            _("Months whose actual repeat purchases fell inside the band"),
            f"{inside} / {known}",
            help=_("A backtest: the log goes on after the cut-off date."),
        )
    figure = customer_forecast_figure(table, labels, measure_names())
    widgets.chart(figure, "customer-forecast", band=band)
    st.caption(band)
    shown = readable(table, labels)
    st.dataframe(shown, hide_index=True, width="stretch")
    widgets.csv_button(numbers(table), _("Customer forecast (CSV)"), "customer-forecast")


def source_names() -> dict[str, str]:
    """The sources of uncertainty a band may hold, in words."""
    return {
        "simulation": _("simulation noise"),
        "parameters": _("the fitted parameters' uncertainty"),
    }


def measure_names() -> dict[str, str]:
    """The forecast's measures in the reader's language."""
    return {
        "repeat_purchases": _("Repeat purchases"),
        "active_customers": _("Active customers"),
        "revenue": _("Revenue"),
    }


def whole(value: float) -> str:
    """A count or an amount in whole units, as the reader's language writes it."""
    return written(value, "{:,.0f}")


def readable(table: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """The table as read: each measure's mean with its p5-p95, the actual beside it."""
    out = pd.DataFrame({_("Month"): labels})
    actual = _("{measure}, actual")
    for measure, name in measure_names().items():
        out[name] = [
            f"{whole(m)} ({whole(low)}\N{EN DASH}{whole(high)})"
            for m, low, high in zip(
                table[f"{measure}_mean"],
                table[f"{measure}_p5"],
                table[f"{measure}_p95"],
                strict=True,
            )
        ]
        out[actual.format(measure=name)] = [
            "" if pd.isna(v) else whole(v) for v in table[f"{measure}_actual"]
        ]
    return out


def numbers(table: pd.DataFrame) -> pd.DataFrame:
    """The table as numbers, its headers in the reader's language."""
    out = pd.DataFrame({_("Month"): table["month"]})
    for measure, name in measure_names().items():
        for stat, heading in {"mean": _("mean"), "p5": "p5", "p50": "p50", "p95": "p95"}.items():
            out[f"{name} {heading}"] = table[f"{measure}_{stat}"]
        out[_("{measure}, actual").format(measure=name)] = table[f"{measure}_actual"]
    return out


if __name__ == "__main__":
    show(state.choice())
