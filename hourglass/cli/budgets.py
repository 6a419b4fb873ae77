"""The optimize command: a total budget spread over the lines, the gain confirmed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import hourglass
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
    not_a_number,
    number_from,
    out,
)
from hourglass.cli.simulation import AllowLargeOpt, refuse_large
from hourglass.i18n import _

MAX_AMOUNT = 1e12
"""The most money a month a scenario's budget fields hold (config's Money)."""


def optimize(
    scenario: Annotated[Path, typer.Argument(help=_("Scenario file (YAML) with budget lines."))],
    budget: Annotated[
        float,
        typer.Option(
            parser=number_from("--budget", 0.0, MAX_AMOUNT, _(" a month")),
            metavar=_("NUMBER"),
            help=_("Total money per month to allocate over the lines."),
        ),
    ],
    objective: Annotated[
        str,
        typer.Option(
            help=_(
                "What to maximise: buyers, revenue, profit, customers, or profit_p10 (the "
                "profit nearly certain: its 10th percentile across replications)."
            )
        ),
    ] = "profit",
    lock: Annotated[
        list[str] | None, typer.Option(help=_("A line to keep as it is (repeatable)."))
    ] = None,
    minimum: Annotated[
        list[str] | None, typer.Option("--min", help=_("LINE=AMOUNT: a line's least money."))
    ] = None,
    maximum: Annotated[
        list[str] | None, typer.Option("--max", help=_("LINE=AMOUNT: a line's most money."))
    ] = None,
    reps: Annotated[
        int, typer.Option(min=2, max=10_000, help=_("Paired replications for the check."))
    ] = 20,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help=_("Write the optimised scenario here."))
    ] = None,
    backend: BackendOpt = "processes",
    allow_large: AllowLargeOpt = False,
) -> None:
    """Allocate a budget over the scenario's lines; confirm the gain by simulation."""
    from hourglass.cli import report
    from hourglass.experiments.results import OutputError, check_writable_file

    spec = load(scenario)
    check_backend(backend, None)
    if objective not in hourglass.experiments.OBJECTIVE_KPIS:
        raise fail(
            _("--objective {objective}: use one of {choices}").format(
                objective=objective, choices=", ".join(hourglass.experiments.OBJECTIVE_KPIS)
            )
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
    with computing(_("Optimising {name}").format(name=spec.name)):
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
            raise fail(
                _("-o {file}: cannot write: {reason}").format(file=output, reason=e.strerror or e)
            ) from None
        if not as_json:
            out.print(
                _("Wrote the optimised scenario to {file}").format(file=output), highlight=False
            )


def _amounts(flag: str, items: list[str] | None) -> dict[str, float]:
    """LINE=AMOUNT options as a mapping; a malformed one, or an amount out of range, is refused."""
    amounts = {}
    for item in items or []:
        line, sep, value = item.partition("=")
        if not sep or not line.strip():
            raise fail(
                _("{given}: expected LINE=AMOUNT, e.g. ads=5000").format(given=f"{flag} {item}")
            )
        try:
            amount = float(value)
        except ValueError:
            raise fail(
                _("{given}: {why}; expected LINE=AMOUNT, e.g. ads=5000").format(
                    given=f"{flag} {item}", why=not_a_number(value)
                )
            ) from None
        if not 0.0 <= amount <= MAX_AMOUNT:
            raise fail(
                _("{given}: the amount must be from 0 to {most} a month").format(
                    given=f"{flag} {item}", most=f"{MAX_AMOUNT:,.0f}"
                )
            )
        amounts[line.strip()] = amount
    return amounts


def _check_bounds(budget: float, constraints: hourglass.experiments.Constraints) -> None:
    """Refuse bounds that contradict each other or the budget (its range is the option's)."""
    for line, least in constraints.minimum.items():
        most = constraints.maximum.get(line)
        if most is not None and least > most:
            raise fail(
                _("{least} is above {most}; lower the one or raise the other").format(
                    least=f"--min {line}={least:g}", most=f"--max {line}={most:g}"
                )
            )
        if least > budget:
            raise fail(
                _("{least} is more than the whole {budget}; lower --min or raise --budget").format(
                    least=f"--min {line}={least:g}", budget=f"--budget {budget:g}"
                )
            )
