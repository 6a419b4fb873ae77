"""The `hourglass` command line: a thin shell over the public API."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

import hourglass
from hourglass.experiments.results import write_atomic
from hourglass.stages import LABELS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Simulate the marketing-sales hourglass: know, like, trust, try, buy, repeat, refer.",
)
out = Console()
if not out.is_terminal:
    out.width = 120
err = Console(stderr=True)

KPI_FORMATS = {
    "revenue": "{:,.0f}",
    "cost": "{:,.0f}",
    "cac": "{:,.2f}",
    "ltv": "{:,.2f}",
    "roi": "{:+.1%}",
    "referral_share": "{:.1%}",
    "k_factor": "{:.3f}",
    "seller_utilization": "{:.1%}",
    "mean_wait_days": "{:.2f}",
}

ScenarioArg = Annotated[
    Path | None,
    typer.Argument(help="Scenario file (YAML); leave out for the built-in default scenario."),
]
RepsOpt = Annotated[int, typer.Option(min=1, max=100_000, help="Replications.")]
SeedOpt = Annotated[int | None, typer.Option(min=0, help="Seed (default: the file's).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
BackendOpt = Annotated[
    str,
    typer.Option(help="Where replications run: serial, processes (all cores) or dask."),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address (default: a local cluster on 127.0.0.1)."),
]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {_escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _make_dir(directory: Path) -> None:
    """Create an output folder before any work, so a bad --out costs nothing."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _fail(f"--out {directory}: cannot create the folder: {e}") from None


def _escape(text: str) -> str:
    return text.replace("[", r"\[")


def _load(path: Path | None) -> hourglass.Scenario:
    try:
        return hourglass.load_scenario(path)
    except hourglass.ScenarioError as e:
        raise _fail(str(e)) from None


def _check_backend(backend: str, scheduler: str | None) -> None:
    if backend not in hourglass.experiments.BACKENDS:
        raise _fail(f"--backend {backend}: use one of {', '.join(hourglass.experiments.BACKENDS)}")
    if scheduler and backend != "dask":
        raise _fail("--scheduler needs --backend dask")


@contextmanager
def _computing(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on a terminal; clean failures for what the computation raises."""
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(label, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            yield tick
        except (hourglass.ScenarioError, hourglass.experiments.BackendError, ValueError) as e:
            raise _fail(str(e)) from None
        except OSError as e:
            raise _fail(f"cannot write results: {e}") from None
        except hourglass.experiments.ReplicationError as e:
            err.print(f"[bold red]error:[/] {_escape(str(e))}", highlight=False)
            raise typer.Exit(code=1) from None


def _dump(doc: dict[str, Any]) -> None:
    print(json.dumps(hourglass.experiments.jsonable(doc), indent=2, allow_nan=False))


def _fmt(value: float | None, fmt: str) -> str:
    return "n/a" if value is None or not math.isfinite(value) else fmt.format(value)


@app.command()
def run(
    scenario: ScenarioArg = None,
    reps: RepsOpt = 1,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Save tables (Parquet) and a manifest here.")
    ] = None,
    backend: BackendOpt = "processes",
    scheduler: SchedulerOpt = None,
    precision: Annotated[
        float | None,
        typer.Option(
            min=0.0001,
            max=1.0,
            help="Add replications until buyers, revenue and "
            "customers at the end are known within this relative 95% half-width.",
        ),
    ] = None,
) -> None:
    """Simulate a scenario and print its stage table and KPIs."""
    spec = _load(scenario)
    _check_backend(backend, scheduler)
    if out_dir is not None:
        _make_dir(out_dir)
    with _computing(f"Simulating {spec.name}") as tick:
        result = hourglass.replicate(
            spec, reps, seed, backend, scheduler=scheduler, precision=precision, progress=tick
        )
    stages = _stage_records(result)
    kpis = _kpi_block(result)
    if out_dir is not None:
        try:
            hourglass.experiments.save_replications(result, out_dir, hourglass.__version__)
        except OSError as e:
            raise _fail(f"--out {out_dir}: cannot write: {e}") from None
    if as_json:
        doc = {
            "scenario": spec.name,
            "seed": result.seed,
            "reps": result.reps,
            "stages": stages,
            "kpis": kpis,
        }
        if spec.committee is not None:
            doc["committee"] = {
                "roles": result.role_summary().to_dict("records"),
                "channels": result.channel_summary().to_dict("records"),
            }
        if precision is not None:
            doc["precision"] = {
                "target": precision,
                "met": _met(result, precision),
                "half_widths": hourglass.experiments.half_widths(result),
            }
        _dump(doc)
        return
    _print_report(spec, result, stages, kpis)
    if precision is not None:
        shown = ", ".join(
            f"{k} ±{v:.2%}" for k, v in hourglass.experiments.half_widths(result).items()
        )
        verdict = "reached" if _met(result, precision) else "NOT reached (replication cap)"
        out.print(
            f"Precision {precision:.2%} {verdict} with {result.reps} replications: {shown}",
            highlight=False,
        )
    if out_dir is not None:
        out.print(f"Saved the tables (Parquet) and manifest.json to {out_dir}/", highlight=False)


@app.command()
def check(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML) to validate.")],
) -> None:
    """Validate a scenario file: a one-line summary, or what is wrong and where."""
    spec = _load(scenario)
    channels = [*spec.channels.paid, *(["organic"] if spec.channels.organic else [])]
    sellers = spec.sales.sellers if spec.sales else 0
    market = f"{spec.market.size:,}" if spec.market.size else "unlimited"
    extras = ""
    if spec.committee is not None:
        roles = len(spec.committee.roles)
        extras += f", a committee of {roles} roles at {spec.committee.stage}"
    if spec.network is not None:
        kind = next(
            k
            for k in ("small_world", "scale_free", "complete", "edge_list")
            if getattr(spec.network, k) is not None
        )
        extras += f", a {kind.replace('_', '-')} graph of {spec.network.nodes:,} people"
    print(
        f"{scenario}: ok: '{spec.name}', {spec.horizon_days:g} days, market {market}, "
        f"channels {', '.join(channels) or 'none'}, {sellers} sellers, "
        f"referrals {'on' if spec.referral else 'off'}{extras}"
    )


@app.command()
def compare(
    baseline: Annotated[Path, typer.Argument(help="The baseline scenario file.")],
    others: Annotated[list[Path], typer.Argument(help="Scenario files to compare with it.")],
    reps: RepsOpt = 20,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    backend: BackendOpt = "processes",
    scheduler: SchedulerOpt = None,
) -> None:
    """Compare scenarios with the baseline on common random numbers: deltas with 95% CIs."""
    specs = [_load(baseline), *(_load(p) for p in others)]
    _check_backend(backend, scheduler)
    if reps < 2:
        raise _fail("--reps: a confidence interval needs at least 2 replications")
    with _computing("Comparing") as tick:
        result = hourglass.compare(specs, reps, seed, backend, scheduler=scheduler, progress=tick)
    if as_json:
        _dump(result.to_dict())
        return
    out.print(
        f"[bold]Against {result.baseline}: {reps} paired replications, seed "
        f"{result.seed}[/] (95% confidence intervals)",
        highlight=False,
    )
    for sentence in result.sentences():
        out.print(sentence, highlight=False)


@app.command()
def sweep(
    scenario: ScenarioArg = None,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            help="A field and its values: path=start:stop:step or path=a,b,c "
            "(repeat for a grid), e.g. sales.sellers=5:40:5."
        ),
    ] = None,
    reps: RepsOpt = 10,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Save each grid point as it finishes, and the table."),
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Continue an interrupted sweep saved in --out.")
    ] = False,
    backend: BackendOpt = "processes",
    scheduler: SchedulerOpt = None,
) -> None:
    """Replicate a grid of overrides; one row per grid point and KPI, with its band."""
    spec = _load(scenario)
    _check_backend(backend, scheduler)
    if not vary:
        raise _fail("--vary: give at least one field to sweep, e.g. sales.sellers=5:40:5")
    if resume and out_dir is None:
        raise _fail("--resume needs --out, the folder of the interrupted sweep")
    if out_dir is not None:
        _make_dir(out_dir)
    with _computing(f"Sweeping {spec.name}") as tick:
        varies = [hourglass.experiments.parse_vary(v) for v in vary]
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
    if as_json:
        _dump({"scenario": spec.name, "reps": reps, "rows": table.to_dict("records")})
        return
    paths = [v.partition("=")[0].strip() for v in vary]
    shown = table[table["kpi"].isin(["buyers", "revenue", "roi", "lost_waiting"])]
    wide = shown.pivot_table(index=paths, columns="kpi", values="mean", sort=False)
    grid = Table(title=f"{spec.name}: mean over {reps} replications per point")
    for col in [*paths, *wide.columns]:
        grid.add_column(col, justify="right")
    for key, row in wide.iterrows():
        keys = key if isinstance(key, tuple) else (key,)
        grid.add_row(
            *(str(k) for k in keys),
            *(_fmt(row[c], KPI_FORMATS.get(c, "{:,.0f}")) for c in wide.columns),
        )
    out.print(grid)
    if out_dir is not None:
        out.print(f"Saved the sweep to {out_dir}/sweep.parquet", highlight=False)


@app.command()
def optimize(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML) with budget lines.")],
    budget: Annotated[
        float, typer.Option(min=0.0, help="Total money per month to allocate over the lines.")
    ],
    objective: Annotated[
        str, typer.Option(help="What to maximise: buyers, revenue, profit or customers.")
    ] = "profit",
    lock: Annotated[
        list[str] | None, typer.Option(help="A line to keep as it is (repeatable).")
    ] = None,
    minimum: Annotated[
        list[str] | None, typer.Option("--min", help="LINE=AMOUNT: a line's least money.")
    ] = None,
    maximum: Annotated[
        list[str] | None, typer.Option("--max", help="LINE=AMOUNT: a line's most money.")
    ] = None,
    reps: Annotated[
        int, typer.Option(min=2, max=10_000, help="Paired replications for the check.")
    ] = 20,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the optimised scenario here.")
    ] = None,
    backend: BackendOpt = "processes",
) -> None:
    """Allocate a budget over the scenario's lines; confirm the gain by simulation."""
    spec = _load(scenario)
    _check_backend(backend, None)
    if objective not in hourglass.experiments.OBJECTIVE_KPIS:
        raise _fail(
            f"--objective {objective}: use one of {', '.join(hourglass.experiments.OBJECTIVE_KPIS)}"
        )
    constraints = hourglass.experiments.Constraints(
        locked=frozenset(lock or []),
        minimum=_amounts("--min", minimum),
        maximum=_amounts("--max", maximum),
    )
    if output is not None and not output.parent.is_dir():
        raise _fail(f"-o {output}: the folder {output.parent} does not exist")
    with _computing(f"Optimising {spec.name}"):
        result = hourglass.optimize(
            spec, budget, objective, constraints, reps=reps, seed=seed, backend=backend
        )
    if output is not None:
        try:
            hourglass.experiments.write_text(result.scenario.to_yaml(), output)
        except OSError as e:
            raise _fail(f"-o {output}: cannot write: {e}") from None
    if as_json:
        _dump(result.to_dict())
        return
    table = Table(title=f"{spec.name}: money per month by line, to maximise {objective}")
    for col in ("line", "current", "optimal", "change"):
        table.add_column(col, justify="left" if col == "line" else "right")
    for line, now in result.current.items():
        best = result.optimal[line]
        table.add_row(line, f"{now:,.0f}", f"{best:,.0f}", f"{best - now:+,.0f}")
    out.print(table)
    for note in result.notes:
        out.print(f"Note: {note}", highlight=False)
    out.print(result.verdict(), highlight=False)
    if output is not None:
        out.print(f"Wrote the optimised scenario to {output}", highlight=False)


def _amounts(flag: str, items: list[str] | None) -> dict[str, float]:
    """LINE=AMOUNT options as a mapping; a malformed one is refused."""
    amounts = {}
    for item in items or []:
        line, sep, value = item.partition("=")
        try:
            amounts[line.strip()] = float(value)
        except ValueError:
            raise _fail(f"{flag} {item}: expected LINE=AMOUNT, e.g. ads=5000") from None
        if not sep or not line.strip():
            raise _fail(f"{flag} {item}: expected LINE=AMOUNT, e.g. ads=5000")
    return amounts


def _read_text(path: Path, what: str) -> str:
    if path.is_dir():
        raise _fail(f"{what} {path}: is a folder, not a file")
    try:
        return path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise _fail(f"{what} {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise _fail(f"{what} {path}: cannot read: {e}") from None


def _check_target(*targets: Path | None) -> None:
    """Refuse an output in a folder that does not exist, before any work."""
    for target in targets:
        if target is not None and not target.resolve().parent.is_dir():
            raise _fail(f"{target}: cannot write: no folder {target.parent}")


def _write_text(target: Path, text: str) -> None:
    """Write a file atomically; a clean failure naming it if that cannot be done."""
    try:
        write_atomic(target, lambda f: Path(f).write_text(text, "utf-8"))
    except OSError as e:
        raise _fail(f"{target}: cannot write: {e.strerror or e}") from None


def _date(text: str, option: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(text)
    except ValueError:
        raise _fail(f"{option} {text}: not a date (use e.g. 2026-03-31)") from None


def _mapping(
    deals_text: str, mapping: Path | None, crm: str | None, columns: list[str]
) -> hourglass.calibration.CrmMapping:
    """The mapping file, else the named or detected CRM's default, with --column overrides."""
    if mapping is not None and crm is not None:
        raise _fail("--crm and --mapping: give one (a mapping file may say 'preset: NAME')")
    try:
        if mapping is not None:
            base = hourglass.calibration.load_mapping(
                _read_text(mapping, "--mapping"), str(mapping)
            )
        else:
            name = crm or hourglass.calibration.detect_preset(deals_text)
            if name not in hourglass.calibration.CRM_PRESETS:
                raise _fail(
                    f"--crm {name}: use one of {', '.join(hourglass.calibration.CRM_PRESETS)}"
                )
            base = hourglass.calibration.CRM_PRESETS[name]
    except hourglass.calibration.DataError as e:
        raise _fail(str(e)) from None
    data = base.model_dump()
    tables = {t: type(getattr(base, t)).model_fields for t in ("deals", "transactions")}
    for item in columns:
        field, sep, header = item.partition("=")
        where = next((t for t, fields in tables.items() if field.strip() in fields), None)
        if not sep or not header.strip() or where is None:
            known = ", ".join(f for fields in tables.values() for f in fields)
            raise _fail(f"--column {item}: use FIELD=HEADER with FIELD one of {known}")
        data[where][field.strip()] = header.strip()
    try:
        return hourglass.calibration.CrmMapping.model_validate(data)
    except ValueError as e:
        wrong = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise _fail(f"--column: {wrong}") from None


@app.command()
def calibrate(
    deals: Annotated[Path, typer.Option(help="CRM export of deal-stage history (CSV).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Scenario file to write.")],
    transactions: Annotated[
        Path | None, typer.Option(help="Transaction log (CSV): customer, date, amount.")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="Column mapping file (YAML).")] = None,
    crm: Annotated[
        str | None,
        typer.Option(
            help="Default mapping: hourglass, bitrix24, hubspot or salesforce "
            "(default: detected from the columns)."
        ),
    ] = None,
    column: Annotated[
        list[str] | None, typer.Option(help="FIELD=HEADER, e.g. stage='Deal Stage' (repeat).")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            help="End of the calibration period (a date); later rows are kept out of the fit."
        ),
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write the report (Markdown) here.")] = None,
    name: Annotated[str, typer.Option(help="The scenario's name.")] = "calibrated",
    seed: Annotated[int, typer.Option(min=0, help="Seed of the bootstrap intervals.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Fit a scenario from a CRM deal-stage history and, optionally, a transaction log."""
    _check_target(output, report)
    deals_text = _read_text(deals, "--deals")
    tx_text = _read_text(transactions, "--transactions") if transactions else None
    spec = _mapping(deals_text, mapping, crm, column or [])
    end = _date(until, "--until") if until is not None else None
    try:
        read = hourglass.calibration.read_deals(deals_text, spec, end, name=str(deals))
        tx = (
            hourglass.calibration.read_transactions(tx_text, spec, name=str(transactions))
            if tx_text is not None
            else None
        )
        result = hourglass.calibrate(read, tx, spec, end, name=name, seed=seed)
        scenario = result.scenario
    except (hourglass.calibration.DataError, hourglass.ScenarioError) as e:
        raise _fail(str(e)) from None
    header = f"# Calibrated by 'hourglass calibrate' from {deals.name}"
    header += f" and {transactions.name}\n" if transactions else "\n"
    _write_text(output, header + scenario.to_yaml())
    if report is not None:
        _write_text(report, hourglass.calibration.report_markdown(result))
    if as_json:
        _dump(result.to_dict())
        return
    skipped = sum(s.count for s in result.skipped_rows)
    out.print(
        f"Wrote {output}" + (f" and {report}" if report else "") + f": {len(result.stages)} "
        f"stages, {len(result.channels)} channels, repeat model "
        f"{'fitted' if result.repeat else 'not fitted'}; {skipped} row{'s' * (skipped != 1)} "
        "skipped, "
        f"{len(result.notes)} notes (see the report).",
        highlight=False,
        soft_wrap=True,
    )


@app.command(name="export-crm")
def export_crm(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML) to simulate and export.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Deal history (CSV).")],
    transactions: Annotated[
        Path | None, typer.Option(help="Also write the purchases as a transaction log (CSV).")
    ] = None,
    seed: SeedOpt = None,
    start: Annotated[str, typer.Option(help="Calendar date of day 0.")] = "2026-01-01",
) -> None:
    """Simulate a scenario and write its event log as a CRM deal-stage history."""
    if scenario.is_dir():
        raise _fail(
            f"{scenario}: is a folder; saved results hold tables, not the event log: "
            "give the scenario file"
        )
    spec = _load(scenario)
    origin = _date(start, "--start")
    _check_target(output, transactions)
    run_ = hourglass.simulate(spec, seed)
    tables = [(output, hourglass.calibration.export_deals(run_, origin))]
    if transactions is not None:
        tables.append((transactions, hourglass.calibration.export_transactions(run_, origin)))
    for target, frame in tables:
        _write_text(target, frame.to_csv(index=False))
    out.print(
        f"Wrote {len(tables[0][1]):,} stage visits to {output}"
        + (f" and {len(tables[-1][1]):,} purchases to {transactions}" if transactions else ""),
        highlight=False,
        soft_wrap=True,
    )


def _met(result: hourglass.experiments.Replications, precision: float) -> bool:
    return all(w <= precision for w in hourglass.experiments.half_widths(result).values())


def _stage_records(result: hourglass.experiments.Replications) -> list[dict[str, Any]]:
    table = result.stage_summary()
    losses = result.losses.groupby(["stage", "reason"], sort=False)["lost"].sum() / result.reps
    records = []
    for row in table.to_dict("records"):
        name = row.pop("stage")
        mine = losses[name] if name in losses.index.get_level_values(0) else None
        by_reason = dict(mine.items()) if mine is not None else {}
        records.append({"name": name, **row, "lost_by_reason": by_reason})
    return records


def _kpi_block(result: hourglass.experiments.Replications) -> dict[str, Any]:
    if result.reps == 1:
        return result.kpis.iloc[[0]].to_dict("records")[0]
    return {
        name: {k: stats[k] for k in ("mean", "p5", "p95")}
        for name, stats in result.kpi_summary().items()
    }


def _print_report(
    spec: hourglass.Scenario,
    result: hourglass.experiments.Replications,
    stages: list[dict[str, Any]],
    kpis: dict[str, Any],
) -> None:
    reps = result.reps
    title = f"{spec.name}: {spec.horizon_days:g} days, seed {result.seed}, {reps} replication"
    out.print(f"[bold]{title}{'s' if reps > 1 else ''}[/]", highlight=False)
    if spec.description:
        out.print(spec.description, highlight=False)
    if spec.network is not None and spec.network.social_selling is not None:
        out.print(f"Social selling: {spec.network.social_selling.label}", highlight=False)
    table = Table(title="Stages" + (" (mean over replications)" if reps > 1 else ""))
    headers = (*(c.replace("_", " ") for c in hourglass.analysis.STAGE_COLUMNS), "main loss")
    for col in headers:
        table.add_column(col, justify="left" if col in ("stage", "main loss") else "right")
    for row in stages:
        reasons = row["lost_by_reason"]
        top = max(reasons, key=reasons.get) if reasons else ""
        table.add_row(
            LABELS[spec.labels][row["name"]],
            *(f"{row[c]:,.0f}" for c in ("entered", "passed", "lost", "inside")),
            _fmt(row["conversion"], "{:.1%}"),
            _fmt(row["mean_days"], "{:.1f}"),
            _fmt(row["p90_days"], "{:.1f}"),
            top,
        )
    out.print(table)
    kt = Table(title="KPIs" + (" (mean [p5, p95])" if reps > 1 else ""))
    kt.add_column("kpi")
    kt.add_column("value", justify="right")
    for name, value in kpis.items():
        family = "cac" if name.startswith("cac_") else name  # CAC by channel: as CAC
        fmt = KPI_FORMATS.get(family, "{:,.0f}")
        if isinstance(value, dict):
            text = (
                f"{_fmt(value['mean'], fmt)}  [{_fmt(value['p5'], fmt)}, {_fmt(value['p95'], fmt)}]"
            )
        else:
            text = _fmt(value, fmt)
        kt.add_row(name, text)
    out.print(kt)
    if spec.committee is not None:
        _print_committee(result)


def _named_rows(title: str, columns: tuple[str, ...]) -> Table:
    """A table whose rows begin with a name (left) followed by numbers (right)."""
    table = Table(title=title)
    table.add_column(columns[0])
    for col in columns[1:]:
        table.add_column(col, justify="right")
    return table


def _print_committee(result: hourglass.experiments.Replications) -> None:
    """Where deals die by role, and win rates and cycles by channel."""
    per_run = " (mean per run)" if result.reps > 1 else ""
    roles = _named_rows(
        f"Buying centre at {result.scenario.committee.stage}{per_run}",
        ("role", "deals reached", "people asked", "deals ended", "share of ended", "let through"),
    )
    for row in result.role_summary().itertuples():
        roles.add_row(
            row.role,
            f"{row.deals_reached:,.1f}",
            f"{row.asked:,.1f}",
            f"{row.ended:,.1f}",
            _fmt(row.share_of_ended, "{:.1%}"),
            _fmt(row.let_through, "{:.1%}"),
        )
    out.print(roles)
    deals = _named_rows(
        f"Deals by channel{per_run}",
        (
            "channel",
            "deals",
            "won",
            "lost",
            "open",
            "win rate [95% CI]",
            "cycle p50 days",
            "cycle p90 days",
        ),
    )
    for row in result.channel_summary().itertuples():
        deals.add_row(
            row.channel,
            *(f"{v:,.1f}" for v in (row.deals, row.won, row.lost, row.open)),
            f"{_fmt(row.win_rate, '{:.1%}')} [{_fmt(row.win_rate_low, '{:.0%}')}, "
            f"{_fmt(row.win_rate_high, '{:.0%}')}]",
            _fmt(row.cycle_p50_days, "{:,.0f}"),
            _fmt(row.cycle_p90_days, "{:,.0f}"),
        )
    out.print(deals)


if __name__ == "__main__":
    app()
