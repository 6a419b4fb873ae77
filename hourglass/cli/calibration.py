"""Commands between the simulator and a CRM: calibrate from an export, export a run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import hourglass
from hourglass.cli.common import JsonOpt, SeedOpt, dump, fail, keep_inputs, load, out
from hourglass.config.reasons import os_reason
from hourglass.i18n import _, ngettext

if TYPE_CHECKING:
    import pandas as pd


def calibrate(
    output: Annotated[Path, typer.Option("--output", "-o", help=_("Scenario file to write."))],
    deals: Annotated[
        Path | None, typer.Option(help=_("CRM export of deal-stage history (CSV)."))
    ] = None,
    transactions: Annotated[
        Path | None, typer.Option(help=_("Transaction log (CSV): customer, date, amount."))
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help=_("Column mapping file (YAML)."))] = None,
    crm: Annotated[
        str | None,
        typer.Option(
            help=_(
                "Default mapping: hourglass, bitrix24, hubspot or salesforce "
                "(default: detected from the columns)."
            )
        ),
    ] = None,
    column: Annotated[
        list[str] | None, typer.Option(help=_("FIELD=HEADER, e.g. stage='Deal Stage' (repeat)."))
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            help=_("End of the calibration period (a date); later rows are kept out of the fit.")
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help=_("Write the report (Markdown) here."))
    ] = None,
    name: Annotated[str, typer.Option(help=_("The scenario's name."))] = "calibrated",
    seed: Annotated[int, typer.Option(min=0, help=_("Seed of the bootstrap intervals."))] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Fit a scenario from a CRM deal-stage history and, optionally, a transaction log."""
    keep_inputs(
        {"-o": output, "--report": report},
        {"--deals": deals, "--transactions": transactions, "--mapping": mapping},
    )
    if deals is None and transactions is None:
        raise fail(_("give --deals, --transactions or both"))
    _check_target(("-o", output), ("--report", report))
    deals_data = _read_csv(deals, "--deals") if deals else None
    tx_data = _read_csv(transactions, "--transactions") if transactions else None
    spec = _mapping(deals_data, str(deals), mapping, crm, column or [])
    end = _date(until, "--until") if until is not None else None
    try:
        read = (
            hourglass.calibration.read_deals(deals_data, spec, end, name=str(deals))
            if deals_data is not None
            else None
        )
        tx = (
            hourglass.calibration.read_transactions(tx_data, spec, str(transactions), end)
            if tx_data is not None
            else None
        )
        result = hourglass.calibrate(read, tx, spec, end, name=name, seed=seed)
        scenario = result.scenario
    except (hourglass.calibration.DataError, hourglass.ScenarioError) as e:
        raise fail(str(e)) from None
    files = " and ".join(path.name for path in (deals, transactions) if path is not None)
    header = f"# Calibrated by 'hourglass calibrate' from {files}\n"
    _write_text(output, header + scenario.to_yaml(), "-o")
    if report is not None:
        _write_text(report, hourglass.calibration.report_markdown(result), "--report")
    if as_json:
        dump(result.to_dict())
        return
    for line in _summary(result, output, report):
        out.print(line, markup=False, highlight=False, soft_wrap=True)


def _summary(
    result: hourglass.calibration.Calibration, output: Path, report: Path | None
) -> list[str]:
    """What was written and fitted; the encodings other than UTF-8; the warnings."""
    skipped = sum(s.count for s in result.skipped_rows)
    files = _("{output} and {report}") if report else "{output}"
    repeat = _("repeat model fitted") if result.repeat else _("repeat model not fitted")
    rows = ngettext("{n} row skipped", "{n} rows skipped", skipped).format(n=skipped)
    return [
        _(
            "Wrote {files}: {stages} stages, {channels} channels, {repeat}; {rows}, "
            "{notes} notes (see the report)."
        ).format(
            files=files.format(output=output, report=report),
            stages=len(result.stages),
            channels=len(result.channels),
            repeat=repeat,
            rows=rows,
            notes=len(result.notes),
        ),
        *(
            _("Read {file} as {encoding}.").format(file=s.file, encoding=s.encoding)
            for s in result.skipped_rows
            if s.encoding not in ("utf-8", "text", "table")
        ),
        *(_("warning: {warning}").format(warning=w) for w in result.warnings),
    ]


def export_crm(
    scenario: Annotated[
        Path, typer.Argument(help=_("Scenario file (YAML) to simulate and export."))
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help=_("Deal history (CSV)."))],
    transactions: Annotated[
        Path | None, typer.Option(help=_("Also write the purchases as a transaction log (CSV)."))
    ] = None,
    seed: SeedOpt = None,
    start: Annotated[str, typer.Option(help=_("Calendar date of day 0."))] = "2026-01-01",
) -> None:
    """Simulate a scenario and write its event log as a CRM deal-stage history."""
    if scenario.is_dir():
        raise fail(
            _(
                "{folder}: is a folder; saved results hold tables, not the event log: "
                "give the scenario file"
            ).format(folder=scenario)
        )
    spec = load(scenario)
    origin = _date(start, "--start")
    keep_inputs({"-o": output, "--transactions": transactions}, {"": scenario})
    _check_target(("-o", output), ("--transactions", transactions))
    run_ = hourglass.simulate(spec, seed)
    tables = [(output, hourglass.calibration.export_deals(run_, origin))]
    if transactions is not None:
        tables.append((transactions, hourglass.calibration.export_transactions(run_, origin)))
    for option, (target, frame) in zip(("-o", "--transactions"), tables, strict=False):
        _write_text(target, frame.to_csv(index=False), option)
    said = _("Wrote {visits} stage visits to {file}").format(
        visits=f"{len(tables[0][1]):,}", file=output
    )
    if transactions:
        said += _(" and {purchases} purchases to {file}").format(
            purchases=f"{len(tables[-1][1]):,}", file=transactions
        )
    out.print(said, highlight=False, soft_wrap=True)


MAX_MAPPING_BYTES = 1_000_000
"""Larger mapping files are refused unread."""


def _read_csv(path: Path, what: str) -> bytes:
    """A data file's bytes (size checked before reading), or a clean failure naming the option."""
    try:
        return hourglass.calibration.read_bytes(path)
    except hourglass.calibration.DataError as e:
        raise fail(f"{what} {e}") from None


def _read_text(path: Path, what: str) -> str:
    """A mapping file's text, or a clean failure naming the option."""
    try:
        data = hourglass.calibration.read_bytes(path, MAX_MAPPING_BYTES)
        return data.decode("utf-8-sig")
    except hourglass.calibration.DataError as e:
        raise fail(f"{what} {e}") from None
    except UnicodeDecodeError as e:
        raise fail(
            _("{given}: not UTF-8 text: {reason}").format(given=f"{what} {path}", reason=e)
        ) from None


def _check_target(*targets: tuple[str, Path | None]) -> None:
    """Refuse, before any work, an output file that could not be written."""
    from hourglass.experiments.results import OutputError, check_writable_file

    for option, target in targets:
        if target is not None:
            try:
                check_writable_file(target, option)
            except OutputError as e:
                raise fail(str(e)) from None


def _write_text(target: Path, text: str, option: str) -> None:
    """Write a file atomically; if that fails, print its text (nothing is lost) and fail."""
    try:
        hourglass.experiments.write_text(text, target)
    except OSError as e:
        print(text)
        raise fail(
            _("{given}: cannot write: {reason}").format(
                given=f"{option} {target}", reason=os_reason(e)
            )
        ) from None


def _date(text: str, option: str) -> pd.Timestamp:
    """A date option (a time zone converts to UTC), or a clean failure with an example."""
    from hourglass.calibration.dates import read_date
    from hourglass.calibration.mapping import DataError

    try:
        return read_date(text, option)
    except DataError as e:
        raise fail(str(e)) from None


def _mapping(
    deals_data: bytes | None,
    deals_name: str,
    mapping: Path | None,
    crm: str | None,
    columns: list[str],
) -> hourglass.calibration.CrmMapping:
    """The mapping file, else the named or detected CRM's default, with --column overrides."""
    if mapping is not None and crm is not None:
        raise fail(_("--crm and --mapping: give one (a mapping file may say 'preset: NAME')"))
    try:
        if mapping is not None:
            base = hourglass.calibration.load_mapping(
                _read_text(mapping, "--mapping"), str(mapping)
            )
        else:
            name = crm or (
                hourglass.calibration.detect_preset(deals_data, deals_name)
                if deals_data is not None
                else "hourglass"
            )
            if name not in hourglass.calibration.CRM_PRESETS:
                raise fail(
                    _("--crm {name}: use one of {choices}").format(
                        name=name, choices=", ".join(hourglass.calibration.CRM_PRESETS)
                    )
                )
            base = hourglass.calibration.CRM_PRESETS[name]
    except hourglass.calibration.DataError as e:
        raise fail(str(e)) from None
    data = base.model_dump()
    tables = {t: type(getattr(base, t)).model_fields for t in ("deals", "transactions")}
    given: set[str] = set()
    for item in columns:
        field, sep, header = (part.strip() for part in item.partition("="))
        where = next((t for t, fields in tables.items() if field in fields), None)
        if not sep or not header or where is None:
            known = ", ".join(f for fields in tables.values() for f in fields)
            raise fail(
                _("{given}: use FIELD=HEADER with FIELD one of {known}").format(
                    given=f"--column {item}", known=known
                )
            )
        if field in given:
            raise fail(
                _("{given}: {field} is given twice; give each field once").format(
                    given=f"--column {item}", field=field
                )
            )
        given.add(field)
        data[where][field] = header
        twin = next((f for f, h in data[where].items() if h == header and f != field), None)
        if twin is not None:
            raise fail(
                _(
                    "{given}: the column '{header}' is already read as {twin}; "
                    "each column serves one field"
                ).format(given=f"--column {item}", header=header, twin=twin)
            )
    try:
        return hourglass.calibration.CrmMapping.model_validate(data)
    except ValueError as e:
        wrong = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise fail(f"--column: {wrong}") from None
