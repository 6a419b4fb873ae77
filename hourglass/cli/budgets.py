"""The optimize command: a total budget spread over the lines, the gain confirmed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import hourglass
from hourglass.cli import report
from hourglass.cli.common import (
    BackendOpt,
    JsonOpt,
    SeedOpt,
    check_backend,
    computing,
    dump,
    fail,
    keep_inputs,
    load,
    out,
)
from hourglass.cli.simulation import AllowLargeOpt, refuse_large
from hourglass.experiments.results import OutputError, check_writable_file


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
    allow_large: AllowLargeOpt = False,
) -> None:
    """Allocate a budget over the scenario's lines; confirm the gain by simulation."""
    spec = load(scenario)
    check_backend(backend, None)
    if objective not in hourglass.experiments.OBJECTIVE_KPIS:
        raise fail(
            f"--objective {objective}: use one of {', '.join(hourglass.experiments.OBJECTIVE_KPIS)}"
        )
    constraints = hourglass.experiments.Constraints(
        locked=frozenset(lock or []),
        minimum=_amounts("--min", minimum),
        maximum=_amounts("--max", maximum),
    )
    _check_bounds(budget, constraints)
    keep_inputs({"-o": output}, {"": scenario})
    if output is not None:
        try:
            check_writable_file(output, "-o")
        except OutputError as e:
            raise fail(str(e)) from None
    refuse_large(spec, reps, allow_large)
    with computing(f"Optimising {spec.name}"):
        result = hourglass.optimize(
            spec,
            budget,
            objective,
            constraints,
            reps=reps,
            seed=seed,
            backend=backend,
            guard=lambda best: refuse_large([spec, best], reps, allow_large),
        )
    if as_json:
        dump(result.to_dict())
    else:
        report.print_allocation(spec.name, result)
    if output is not None:  # after printing: a failed write loses nothing
        text = result.scenario.to_yaml()
        try:
            hourglass.experiments.write_text(text, output)
        except OSError as e:
            if not as_json:
                print(text)
            raise fail(f"-o {output}: cannot write: {e.strerror or e}") from None
        if not as_json:
            out.print(f"Wrote the optimised scenario to {output}", highlight=False)


MAX_AMOUNT = 1e12
"""The most money a month a scenario's budget fields hold (config's Money)."""


def _amounts(flag: str, items: list[str] | None) -> dict[str, float]:
    """LINE=AMOUNT options as a mapping; a malformed one, or an amount out of range, is refused."""
    amounts = {}
    for item in items or []:
        line, sep, value = item.partition("=")
        if not sep or not line.strip():
            raise fail(f"{flag} {item}: expected LINE=AMOUNT, e.g. ads=5000")
        try:
            amount = float(value)
        except ValueError:
            raise fail(
                f"{flag} {item}: '{value}' is not an amount; expected LINE=AMOUNT, e.g. ads=5000"
            ) from None
        if not 0.0 <= amount <= MAX_AMOUNT:
            raise fail(f"{flag} {item}: the amount must be from 0 to {MAX_AMOUNT:,.0f} a month")
        amounts[line.strip()] = amount
    return amounts


def _check_bounds(budget: float, constraints: hourglass.experiments.Constraints) -> None:
    """Refuse a budget out of range, or bounds that contradict each other or the budget."""
    if budget > MAX_AMOUNT:
        raise fail(
            f"--budget {budget:g}: at most {MAX_AMOUNT:,.0f} a month; give the total money "
            "per month for all the lines together"
        )
    for line, least in constraints.minimum.items():
        most = constraints.maximum.get(line)
        if most is not None and least > most:
            raise fail(
                f"--min {line}={least:g} is above --max {line}={most:g}; lower the one or raise "
                "the other"
            )
        if least > budget:
            raise fail(
                f"--min {line}={least:g} is more than the whole --budget {budget:g}; lower "
                "--min or raise --budget"
            )
