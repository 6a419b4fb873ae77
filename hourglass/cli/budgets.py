"""Budget commands: optimize (over lines, or month by month) and target (the budget for a goal)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
from hourglass.config.reasons import os_reason
from hourglass.i18n import _, get_language

if TYPE_CHECKING:
    from hourglass.experiments.month_allocation import MonthPlan

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
                "profit nearly certain: its 10th percentile across replications; with "
                "--by-month, the plans the expectation proposes are simulated and the one "
                "with the highest 10th percentile is kept)."
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
    by_month: Annotated[
        bool,
        typer.Option(
            "--by-month",
            help=_("Plan the money month by month over the run, against the steady split."),
        ),
    ] = False,
    blocks: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=1200,
            help=_("With --by-month: groups of consecutive months sharing one amount (3)."),
        ),
    ] = None,
    month_cap: Annotated[
        float | None,
        typer.Option(
            parser=number_from("--month-cap", 0.0, MAX_AMOUNT, _(" a month")),
            metavar=_("NUMBER"),
            help=_("With --by-month: the most spent on all lines together in any month."),
        ),
    ] = None,
) -> None:
    """Allocate a budget over the scenario's lines; confirm the gain by simulation."""
    from hourglass.cli import report

    spec = load(scenario)
    check_backend(backend, None)
    if objective not in hourglass.experiments.OBJECTIVE_KPIS:
        raise fail(
            _("--objective {objective}: use one of {choices}").format(
                objective=objective, choices=", ".join(hourglass.experiments.OBJECTIVE_KPIS)
            )
        )
    _check_month_flags(spec, budget, objective, (by_month, blocks, month_cap))
    constraints = hourglass.experiments.Constraints(
        locked=frozenset(lock or []),
        minimum=_amounts("--min", minimum),
        maximum=_amounts("--max", maximum),
    )
    _check_bounds(budget, constraints)
    _check_output(output, scenario)
    refuse_large(spec, reps, allow_large)
    if by_month:
        from hourglass.experiments.month_allocation import plan_months

        with computing(_("Planning {name} month by month").format(name=spec.name)) as tick:
            plan = plan_months(
                spec,
                budget,
                objective,
                constraints,
                blocks=blocks or 3,
                month_cap=month_cap,
                reps=reps,
                seed=seed,
                backend=backend,
                progress=tick,
                guard=lambda best: refuse_large([spec, best], reps, allow_large),
            )
        if as_json:
            dump(plan.to_dict())
        else:
            print_month_plan(spec.name, plan)
        _write_scenario(plan.scenario, output, as_json)
        return
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
    _write_scenario(result.scenario, output, as_json)


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


def _check_output(output: Path | None, scenario: Path) -> None:
    """Refuse an output file that is an input or cannot be written, before any work."""
    from hourglass.experiments.results import OutputError, check_writable_file

    keep_inputs({"-o": output}, {"": scenario})
    if output is not None:
        try:
            check_writable_file(output, "-o")
        except OutputError as e:
            raise fail(str(e)) from None


def _write_scenario(spec: hourglass.Scenario, output: Path | None, as_json: bool) -> None:
    """Write the optimised scenario after printing, so that a failed write loses nothing."""
    if output is None:
        return
    text = spec.to_yaml()
    try:
        hourglass.experiments.write_text(text, output)
    except OSError as e:
        if not as_json:
            print(text)
        raise fail(
            _("-o {file}: cannot write: {reason}").format(file=output, reason=os_reason(e))
        ) from None
    if not as_json:
        out.print(_("Wrote the optimised scenario to {file}").format(file=output), highlight=False)


def _check_month_flags(
    spec: hourglass.Scenario,
    budget: float,
    objective: str,
    flags: tuple[bool, int | None, float | None],
) -> None:
    """Refuse month-plan flags without --by-month, or ones the run or budget contradict."""
    from hourglass.config.budgets import months_of
    by_month, blocks, month_cap = flags
    if not by_month:
        for flag, value in (("--blocks", blocks), ("--month-cap", month_cap)):
            if value is not None:
                raise fail(_("{flag} plans money month by month; add --by-month").format(flag=flag))
        return
    months = months_of(spec)
    if blocks is not None and blocks > months:
        raise fail(
            _("--blocks {blocks}: the run has {months} months; give 1 to {months}").format(
                blocks=blocks, months=months
            )
        )
    if month_cap is not None and month_cap < budget:
        raise fail(
            _("{cap} is below {budget}: no plan could spend the budget").format(
                cap=f"--month-cap {month_cap:g}", budget=f"--budget {budget:g}"
            )
        )


def print_month_plan(name: str, plan: MonthPlan) -> None:
    """Money per month by line and block, the comparison with the steady split, the verdict."""
    from hourglass.cli.report import number, table
    from hourglass.kpis import KPIS

    spans = [
        _("month {month}").format(month=a)
        if a == b
        else _("months {first}-{last}").format(first=a, last=b)
        for a, b in plan.blocks
    ]
    grid = table(
        _("{name}: money per month by line and months, to maximise {objective}").format(
            name=name,
            objective=hourglass.experiments.objective_label(plan.objective, get_language()),
        ),
        (_("line"),),
        (_("steady"), *spans),
    )
    for line, amounts in plan.amounts.items():
        grid.add_row(
            line,
            number(plan.steady.get(line, amounts[0]), "{:,.0f}"),
            *(number(v, "{:,.0f}") for v in amounts),
        )
    out.print(grid)
    check = table(
        _("Simulated over {reps} paired replications").format(reps=plan.reps),
        (_("KPI"),),
        (_("steady"), _("plan"), _("change"), _("95% CI")),
    )
    for kpi, c in plan.compared.items():
        check.add_row(
            KPIS[kpi].label(get_language()),
            number(c.steady, "{:,.0f}"),
            number(c.plan, "{:,.0f}"),
            number(c.change.mean, "{:+,.0f}"),
            _("[{low}, {high}]").format(
                low=number(c.change.ci_low, "{:+,.0f}"), high=number(c.change.ci_high, "{:+,.0f}")
            ),
        )
    out.print(check)
    for note in plan.notes:
        out.print(_("Note: {note}").format(note=note), highlight=False)
    out.print(plan.verdict(), highlight=False)


def target(
    scenario: Annotated[Path, typer.Argument(help=_("Scenario file (YAML) with budget lines."))],
    customers: Annotated[
        float | None,
        typer.Option(
            parser=number_from("--customers", 1.0, MAX_AMOUNT),
            metavar=_("NUMBER"),
            help=_("Customers to have at the end of the month."),
        ),
    ] = None,
    buyers: Annotated[
        float | None,
        typer.Option(
            parser=number_from("--buyers", 1.0, MAX_AMOUNT),
            metavar=_("NUMBER"),
            help=_("Buyers to have won by the end of the month."),
        ),
    ] = None,
    revenue: Annotated[
        float | None,
        typer.Option(
            parser=number_from("--revenue", 1.0, MAX_AMOUNT),
            metavar=_("NUMBER"),
            help=_("Revenue to have earned by the end of the month."),
        ),
    ] = None,
    by_month: Annotated[
        int | None,
        typer.Option(
            "--by-month", min=1, max=1200, help=_("The month (from 1) to reach the target by.")
        ),
    ] = None,
    max_budget: Annotated[
        float | None,
        typer.Option(
            parser=number_from("--max-budget", 1.0, MAX_AMOUNT, _(" a month")),
            metavar=_("NUMBER"),
            help=_("The largest budget per month to consider (default: ten times the current)."),
        ),
    ] = None,
    reps: Annotated[
        int, typer.Option(min=2, max=10_000, help=_("Replications for the check."))
    ] = 20,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    backend: BackendOpt = "processes",
    allow_large: AllowLargeOpt = False,
) -> None:
    """Find the monthly budget that reaches a target by a month; check it by simulation."""
    spec = load(scenario)
    check_backend(backend, None)
    given = {
        name: value
        for name, value in (("customers", customers), ("buyers", buyers), ("revenue", revenue))
        if value is not None
    }
    if len(given) != 1:
        flags = ", ".join(f"--{name}" for name in given)
        raise fail(
            _("give one target: --customers, --buyers or --revenue (given: {flags})").format(
                flags=flags or _("none")
            )
        )
    if by_month is None:
        raise fail(_("--by-month: give the month (from 1) to reach the target by"))
    ((target_of, value),) = given.items()
    refuse_large(spec, reps, allow_large)
    from hourglass.experiments.targets import reach_target

    with computing(_("Solving {name} for a target").format(name=spec.name)) as tick:
        reach = reach_target(
            spec,
            target_of,
            value,
            by_month,
            most=max_budget,
            reps=reps,
            seed=seed,
            backend=backend,
            progress=tick,
            guard=lambda found: refuse_large(found, reps, allow_large),
        )
    if as_json:
        dump(reach.to_dict())
        return
    from hourglass.cli.report import number, table

    grid = table(
        _("{name}: money per month by line at the budget found").format(name=spec.name),
        (_("line"),),
        (_("money per month"),),
    )
    for line, amount in reach.amounts.items():
        grid.add_row(line, number(amount, "{:,.0f}"))
    out.print(grid)
    for note in reach.notes:
        out.print(_("Note: {note}").format(note=note), highlight=False)
    out.print(reach.sentence(), highlight=False)
