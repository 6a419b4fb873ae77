"""The `hourglass` command line: a thin shell over the public API."""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

import hourglass
from hourglass.experiment import Replications
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

ScenarioArg = Annotated[
    Path | None,
    typer.Argument(help="Scenario file (YAML); leave out for the built-in default scenario."),
]

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


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code=2)


def _load(path: Path | None) -> hourglass.Scenario:
    try:
        return hourglass.load_scenario(path)
    except hourglass.ScenarioError as e:
        raise _fail(str(e).replace("[", r"\[")) from None


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _stage_records(result: Replications) -> list[dict[str, Any]]:
    table = result.stage_summary()
    losses = result.losses.groupby(["stage", "reason"], sort=False)["lost"].sum() / result.reps
    records = []
    for row in table.to_dict("records"):
        name = row.pop("stage")
        mine = losses[name] if name in losses.index.get_level_values(0) else {}
        records.append(
            {"name": name, **row, "lost_by_reason": dict(mine.items()) if len(mine) else {}}
        )
    return records


def _kpi_block(result: Replications) -> dict[str, Any]:
    if result.reps == 1:
        return result.kpis.iloc[0].to_dict()
    return {
        name: {k: v for k, v in stats.items() if k != "sem"}
        for name, stats in result.kpi_summary().items()
    }


@app.command()
def run(
    scenario: ScenarioArg = None,
    reps: Annotated[int, typer.Option(min=1, max=100_000, help="Replications.")] = 1,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed (default: the file's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Save tables (Parquet) and a manifest here.")
    ] = None,
) -> None:
    """Simulate a scenario and print its stage table and KPIs."""
    spec = _load(scenario)
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise _fail(f"--out {out_dir}: exists and is not a directory")
    started = time.perf_counter()
    result = hourglass.replicate(spec, reps=reps, seed=seed)
    elapsed = time.perf_counter() - started
    stages = _stage_records(result)
    kpis = _kpi_block(result)
    if out_dir is not None:
        _save(result, out_dir, elapsed)
    if as_json:
        doc = {
            "scenario": spec.name,
            "seed": result.seed,
            "reps": reps,
            "stages": stages,
            "kpis": kpis,
        }
        print(json.dumps(_clean(doc), indent=2, allow_nan=False))
        return
    _print_report(spec, result, stages, kpis)
    if out_dir is not None:
        out.print(f"Saved stages, losses, daily and kpis tables to {out_dir}/", highlight=False)


@app.command()
def check(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML) to validate.")],
) -> None:
    """Validate a scenario file: a one-line summary, or what is wrong and where."""
    spec = _load(scenario)
    channels = [*spec.channels.paid, *(["organic"] if spec.channels.organic else [])]
    sellers = spec.sales.sellers if spec.sales else 0
    market = f"{spec.market.size:,}" if spec.market.size else "unlimited"
    print(
        f"{scenario}: ok: '{spec.name}', {spec.horizon_days:g} days, market {market}, "
        f"channels {', '.join(channels) or 'none'}, {sellers} sellers, "
        f"referrals {'on' if spec.referral else 'off'}"
    )


def _print_report(
    spec: hourglass.Scenario,
    result: Replications,
    stages: list[dict[str, Any]],
    kpis: dict[str, Any],
) -> None:
    reps = result.reps
    title = f"{spec.name}: {spec.horizon_days:g} days, seed {result.seed}, {reps} replication"
    out.print(f"[bold]{title}{'s' if reps > 1 else ''}[/]", highlight=False)
    if spec.description:
        out.print(spec.description, highlight=False)
    table = Table(title="Stages" + (" (mean over replications)" if reps > 1 else ""))
    for col in (
        "stage",
        "entered",
        "passed",
        "lost",
        "inside",
        "conversion",
        "mean days",
        "p90 days",
        "main loss",
    ):
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
        fmt = KPI_FORMATS.get(name, "{:,.0f}")
        if isinstance(value, dict):
            text = (
                f"{_fmt(value['mean'], fmt)}  [{_fmt(value['p5'], fmt)}, {_fmt(value['p95'], fmt)}]"
            )
        else:
            text = _fmt(value, fmt)
        kt.add_row(name, text)
    out.print(kt)


def _fmt(value: float, fmt: str) -> str:
    return "n/a" if value is None or not math.isfinite(value) else fmt.format(value)


def _save(result: Replications, directory: Path, elapsed: float) -> None:
    """Write the tables as Parquet and a manifest, each file atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    tables = {
        "stages": result.stages,
        "losses": result.losses,
        "daily": result.daily,
        "kpis": result.kpis.reset_index(),
    }
    for name, frame in tables.items():
        _atomic(directory / f"{name}.parquet", lambda f, df=frame: df.to_parquet(f, index=False))
    manifest = {
        "scenario": result.scenario.to_dict(),
        "seed": result.seed,
        "reps": result.reps,
        "version": hourglass.__version__,
        "backend": "serial",
        "seconds": round(elapsed, 3),
    }
    text = json.dumps(_clean(manifest), indent=2, allow_nan=False)
    _atomic(directory / "manifest.json", lambda f: Path(f).write_text(text, "utf-8"))


def _atomic(target: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


if __name__ == "__main__":
    app()
