"""Commands that simulate scenarios: run, check, compare and sweep."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated

import typer

import hourglass
from hourglass.cli.common import (
    BackendOpt,
    JsonOpt,
    RepsOpt,
    ScenarioArg,
    SchedulerOpt,
    SeedOpt,
    check_backend,
    comma_hint,
    computing,
    dump,
    err,
    fail,
    load,
    make_dir,
    not_a_number,
    number_from,
    out,
)
from hourglass.config.reasons import os_reason
from hourglass.i18n import _, get_language, grouped

MIN_PRECISION = 0.0001
"""The finest --precision: a relative 95% half-width of 0.01%."""

MAX_PRECISION_REPS = 1000
"""The most replications --precision adds, where the work limit allows that many."""

AllowLargeOpt = Annotated[
    bool,
    typer.Option(
        "--allow-large",
        help=_("Run even when the estimated work is over the limits (events or memory)."),
    ),
]


def refuse_large(
    scenarios: hourglass.Scenario | list[hourglass.Scenario], runs: int, allow_large: bool
) -> None:
    """Refuse work over the limits before any of it starts, saying what would fit."""
    from hourglass.config.work import TooMuchWork, check_work

    try:
        check_work(scenarios, runs, allow_large=allow_large)
    except TooMuchWork as e:
        raise fail(str(e)) from None


def _most_reps(
    specs: hourglass.Scenario | list[hourglass.Scenario], reps: int, allow_large: bool
) -> int:
    """How far --precision may add replications: 1,000, or fewer where the work limit is."""
    from hourglass.config.work import MAX_EVENTS, estimate_work

    if allow_large:
        return MAX_PRECISION_REPS
    each = [specs] if isinstance(specs, hourglass.Scenario) else specs
    fit = int(MAX_EVENTS // max(sum(estimate_work(s).events_per_run for s in each), 1.0))
    return max(reps, min(MAX_PRECISION_REPS, fit))


def run(
    scenario: ScenarioArg = None,
    reps: RepsOpt = 1,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help=_("Save tables (Parquet) and a manifest here."))
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help=_("Replace the earlier run saved in --out."))
    ] = False,
    backend: BackendOpt = "processes",
    scheduler: SchedulerOpt = None,
    precision: Annotated[
        float | None,
        typer.Option(
            parser=number_from("--precision", MIN_PRECISION, 1.0),
            metavar=_("NUMBER"),
            help=_(
                "Add replications until buyers, revenue and customers at the end are known "
                "within this relative 95% half-width."
            ),
        ),
    ] = None,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Simulate a scenario and print its stage table and KPIs."""
    from hourglass.config.distributions import uncertain_parameters

    spec = load(scenario)
    check_backend(backend, scheduler)
    refuse_large(spec, reps, allow_large)
    if out_dir is not None:
        _check_out(out_dir, replace)
    warn_not_estimated(spec)
    drawn = uncertain_parameters(spec)
    with computing(_("Simulating {name}").format(name=spec.name)) as tick:
        result = hourglass.replicate(
            spec,
            reps,
            seed,
            backend,
            scheduler=scheduler,
            precision=precision,
            max_reps=_most_reps(spec, reps, allow_large),
            progress=tick,
        )
    from hourglass.analysis.segments import segment_records
    from hourglass.cli import report

    stages = report.stage_records(result)
    kpis = report.kpi_block(result)
    if as_json:
        doc = {
            "scenario": spec.name,
            "seed": result.seed,
            "reps": result.reps,
            "stages": stages,
            "kpis": kpis,
            **report.seller_block(result),
        }
        if spec.not_estimated:
            from hourglass.config.gaps import gap_records

            doc["not_estimated"] = gap_records(spec.not_estimated)
        if drawn:
            doc["uncertainty"] = {"sources": ["simulation", "parameters"], "parameters": drawn}
        accounts = hourglass.analysis.accounts_record(result.accounts)
        if accounts is not None:
            doc["accounts"] = accounts
        if spec.committee is not None:
            doc["committee"] = {
                "roles": result.role_summary().to_dict("records"),
                "channels": result.channel_summary().to_dict("records"),
            }
        if spec.segments is not None:
            doc["segments"] = segment_records(result.segments)
        if precision is not None:
            doc["precision"] = {
                "target": precision,
                "met": report.met(result, precision),
                "half_widths": hourglass.experiments.half_widths(result),
            }
        dump(doc)
        _save_run(result, out_dir, quiet=True)
        return
    report.print_run(spec, result, stages, kpis)
    if drawn:
        out.print(
            _(
                "Each replication draws the parameters given with bounds ({fields}): the band "
                "holds their uncertainty as well as the simulation's noise."
            ).format(fields=", ".join(drawn)),
            highlight=False,
            soft_wrap=True,
        )
    if precision is not None:
        report.print_precision(result, precision)
    _save_run(result, out_dir)


def warn_not_estimated(spec: hourglass.Scenario) -> None:
    """A warning line on stderr for each part of the scenario its data could not estimate."""
    from hourglass.config.gaps import gap_text

    for part in spec.not_estimated or []:
        err.print(
            _("warning: not estimated from the data: {part}").format(part=gap_text(part)),
            highlight=False,
            soft_wrap=True,
        )


def _check_out(out_dir: Path, replace: bool) -> None:
    """Refuse, before any work, a --out folder the results could not be saved in."""
    from hourglass.experiments.results import OutputError, check_output_folder

    try:
        check_output_folder(out_dir, "--out", replace)
    except OutputError as e:
        raise fail(str(e)) from None


def _save_run(
    result: hourglass.experiments.Replications, out_dir: Path | None, quiet: bool = False
) -> None:
    """Save the run's tables once they are printed, so a failed save loses nothing."""
    if out_dir is None:
        return
    try:
        hourglass.experiments.save_replications(result, out_dir, hourglass.__version__)
    except OSError as e:
        raise fail(
            _("--out {folder}: cannot save the results: {reason}").format(
                folder=out_dir, reason=os_reason(e)
            )
        ) from None
    if not quiet:
        out.print(
            _("Saved the tables (Parquet) and manifest.json to {folder}/").format(folder=out_dir),
            highlight=False,
        )


def check(
    scenario: Annotated[Path, typer.Argument(help=_("Scenario file (YAML) to validate."))],
) -> None:
    """Validate a scenario file: a summary and its work per run, or what is wrong and where."""
    from hourglass.cli.checking import check_lines

    spec = load(scenario)
    for line in check_lines(scenario, spec):
        print(line)


def compare(
    baseline: Annotated[Path, typer.Argument(help=_("The baseline scenario file."))],
    others: Annotated[list[Path], typer.Argument(help=_("Scenario files to compare with it."))],
    reps: RepsOpt = 20,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    backend: BackendOpt = "processes",
    scheduler: SchedulerOpt = None,
    precision: Annotated[
        list[str] | None,
        typer.Option(
            metavar="KPI=NUMBER",
            help=_(
                "Add paired replications until the 95% interval of this KPI's difference is "
                "within this half-width, in the KPI's units, e.g. buyers=50 (repeatable)."
            ),
        ),
    ] = None,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Compare scenarios with the baseline on common random numbers: deltas with 95% CIs."""
    paths = [baseline, *others]
    specs = _told_apart(paths, [load(p) for p in paths])
    check_backend(backend, scheduler)
    if reps < 2:
        raise fail(_("--reps: a confidence interval needs at least 2 replications"))
    targets = dict(_parsed_precision(text) for text in precision) if precision else None
    refuse_large(specs, reps, allow_large)
    with computing(_("Comparing")) as tick:
        result = hourglass.compare(
            specs,
            reps,
            seed,
            backend,
            scheduler=scheduler,
            progress=tick,
            precision=targets,
            max_reps=_most_reps(specs, reps, allow_large),
        )
    if as_json:
        dump(_comparison_document(result))
        return
    out.print(
        _(
            "Against {baseline}: {reps} paired replications, seed {seed} (95% confidence intervals)"
        ).format(baseline=result.baseline, reps=result.reps, seed=result.seed),
        style="bold",
        highlight=False,
    )
    for sentence in result.sentences():
        out.print(sentence, highlight=False)
    if result.precision is not None:
        out.print(_precision_line(result.precision), highlight=False)


def _comparison_document(result: hourglass.experiments.Comparison) -> dict:
    """The comparison as JSON, and under `runs` each scenario's sellers and key accounts.

    They are written as `run --json` writes them, from the replications already run.
    """
    from hourglass.cli import report

    doc = result.to_dict()
    doc["runs"] = {}
    for name, run in result.runs.items():
        summary = report.seller_block(run)
        accounts = hourglass.analysis.accounts_record(run.accounts)
        if accounts is not None:
            summary["accounts"] = accounts
        doc["runs"][name] = summary
    return doc


def _parsed_precision(text: str) -> tuple[str, float]:
    """One --precision KPI=NUMBER, or a clean failure saying what is wrong with it."""
    from hourglass.kpis import KPIS

    kpi, sign, number = (part.strip() for part in text.partition("="))
    given = f"--precision {text}"
    if not sign or not kpi:
        raise fail(_("{given}: write KPI=NUMBER, e.g. buyers=50").format(given=given))
    if kpi not in KPIS:
        raise fail(
            _("{given}: unknown KPI '{kpi}'; use one of {choices}").format(
                given=given, kpi=kpi, choices=", ".join(KPIS.names())
            )
        )
    try:
        width = float(number)
    except ValueError:
        raise fail(f"{given}: {not_a_number(number)}") from None
    if not (width > 0 and width != float("inf")):
        raise fail(_("{given}: the half-width must be a positive number").format(given=given))
    return kpi, width


def _precision_line(precision: hourglass.experiments.Precision) -> str:
    """Whether each KPI's half-width reached its target, and after how many replications."""
    from hourglass.kpis import KPIS

    widths = ", ".join(
        _("{kpi} ±{reached} (target ±{target})").format(
            kpi=KPIS[kpi].label(get_language()),
            reached=_four_digits(precision.reached[kpi]),
            target=_four_digits(target),
        )
        for kpi, target in precision.target.items()
    )
    if precision.met:
        said = _("Precision reached after {reps} paired replications: {widths}")
    else:
        said = _(
            "Precision NOT reached after {reps} paired replications, the most allowed: {widths}"
        )
    return said.format(reps=precision.reps, widths=widths)


def _four_digits(number: float) -> str:
    """`number` to about four significant digits, grouped as the reader writes numbers."""
    if not math.isfinite(number):
        return grouped(number)
    mantissa, _e, exponent = f"{abs(number):.4g}".partition("e")
    return grouped(number, max(0, len(mantissa.partition(".")[2]) - int(exponent or 0)))


def _told_apart(paths: list[Path], specs: list[hourglass.Scenario]) -> list[hourglass.Scenario]:
    """The scenarios, those that share a name called by name and file, so each is known."""
    names = [spec.name for spec in specs]
    return [
        spec.model_copy(update={"name": f"{spec.name} ({path})"})
        if names.count(spec.name) > 1
        else spec
        for path, spec in zip(paths, specs, strict=True)
    ]


def sweep(
    scenario: ScenarioArg = None,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            help=_(
                "A field and its values: path=start:stop:step or path=a,b,c "
                "(repeat for a grid), e.g. sales.sellers=5:40:5."
            )
        ),
    ] = None,
    reps: RepsOpt = 10,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help=_("Save each grid point as it finishes, and the table.")),
    ] = None,
    resume: Annotated[
        bool, typer.Option(help=_("Continue an interrupted sweep saved in --out."))
    ] = False,
    backend: BackendOpt = "processes",
    scheduler: SchedulerOpt = None,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Replicate a grid of overrides; one row per grid point and KPI, with its band."""
    from hourglass.cli import report
    from hourglass.experiments.grid import grid
    from hourglass.experiments.results import OutputError

    spec = load(scenario)
    check_backend(backend, scheduler)
    if not vary:
        raise fail(_("--vary: give at least one field to sweep, e.g. sales.sellers=5:40:5"))
    if resume and out_dir is None:
        raise fail(_("--resume needs --out, the folder of the interrupted sweep"))
    with computing(_("Sweeping {name}").format(name=spec.name)) as tick:
        varies = [_parsed_vary(v) for v in vary]
        refuse_large([point for _, point in grid(spec, varies)], reps, allow_large)
        if out_dir is not None:
            make_dir(out_dir)
        unsaved: OutputError | None = None
        try:
            table = hourglass.sweep(
                spec,
                varies,
                reps,
                seed,
                backend,
                scheduler=scheduler,
                out=out_dir,
                resume=resume,
                progress=tick,
                version=hourglass.__version__,
            )
        except OutputError as e:
            if e.unsaved is None:
                raise fail(str(e)) from None
            table, unsaved = e.unsaved, e
    if as_json:
        rows = table.to_dict("records")
        accounts = table.attrs.get("accounts", [])
        dump({"scenario": spec.name, "reps": reps, "rows": rows, "accounts": accounts})
    else:
        report.print_sweep(spec.name, reps, [v.partition("=")[0].strip() for v in vary], table)
    if unsaved is not None:  # shown above, so nothing computed is lost
        raise fail(str(unsaved))
    if out_dir is not None and not as_json:
        out.print(
            _("Saved the sweep to {file}").format(file=f"{out_dir}/sweep.parquet"),
            highlight=False,
        )


def _parsed_vary(text: str) -> hourglass.experiments.Vary:
    """One --vary; one refused for a number written with a decimal comma says so."""
    from hourglass.experiments.grid import parse_vary

    try:
        return parse_vary(text)
    except hourglass.ScenarioError as e:
        hints = "".join(comma_hint(value) for value in re.split(r"[=:]", text)[1:])
        raise fail(f"{e}{hints}") from None
