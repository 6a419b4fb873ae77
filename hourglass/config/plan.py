"""The scenario compiled once: what its budgets buy, effective pass probabilities and rates.

A plan is what the engine runs and what `theory` expects from: budget lines turned into
contacts per day and lifts (the engine never sees a response curve), seller skill folded
into pass probabilities, and the repeat and referral rates their budgets lift. Neither the
engine nor `theory` derives any of these again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hourglass.config.budgets import lever_budgets, line_path, months_of
from hourglass.config.distributions import Amount, Duration
from hourglass.config.scenario import Scenario
from hourglass.config.sections import Repeat
from hourglass.i18n import _
from hourglass.stages import FUNNEL


@dataclass(frozen=True, eq=False)
class SegmentPlan:
    """One customer segment's rates: the scenario's, changed where the segment says."""

    name: str
    pass_prob: np.ndarray
    """As Plan.pass_prob, the segment's own probabilities or multipliers applied."""
    pass_prob_referred: np.ndarray
    mean_pass_prob: tuple[float, ...]
    durations: tuple[Duration, ...]
    """Time in each funnel stage."""
    order_value: Amount
    repeat: Repeat | None
    contacts_per_month: Mapping[str, float]
    cost_to_serve_per_month: float


@dataclass(frozen=True, eq=False)
class Plan:
    """A scenario's rates, ready to run: budgets resolved, seller skill applied."""

    scenario: Scenario
    """The scenario as given (with any money per month a plan was compiled with)."""
    outside_per_day: tuple[tuple[float, ...], ...]
    """Contacts per day, month by month: each paid channel in order, then organic."""
    seller_of: Mapping[str, str]
    """Each funnel stage a seller works, with the seller stage working it."""
    pass_prob: np.ndarray
    """An outside prospect's chance to pass each funnel stage, by month (rows; a single row
    unless a stage budget follows a plan), budget lift and seller skill included."""
    pass_prob_referred: np.ndarray
    """The same for a referred prospect, the referral boost included."""
    mean_pass_prob: tuple[float, ...]
    """Each stage's pass probability with a planned lift averaged over the months."""
    repeat: Repeat | None
    """Repeat buying with the repeat budget's lift (BG/NBD's alpha shrinks by its factor)."""
    repeat_skill: float
    """The `measure` skill: multiplies every customer's repeat rate."""
    contacts_per_month: Mapping[str, float]
    """Referral contacts per customer and month, by loyalty class, the refer budget's lift in."""
    engage_skill: float
    """The `engage` skill: multiplies the referral contact rates in a run."""
    segments: tuple[SegmentPlan, ...]
    """Each customer segment's rates; one, the scenario's own, without segments."""

    @property
    def worked(self) -> tuple[bool, ...]:
        """Whether a seller works each funnel stage."""
        return tuple(name in self.seller_of for name in FUNNEL)

    @property
    def months(self) -> int:
        """The months a run spans, the last one perhaps in part."""
        return months_of(self.scenario)

    def mean_outside_per_day(self) -> dict[str, float]:
        """Each paid channel's and organic contacts per day, plans averaged over the months."""
        names = [*self.scenario.channels.paid, "organic"]
        return {
            name: float(np.mean(rates))
            for name, rates in zip(names, self.outside_per_day, strict=True)
        }


def compile_plan(scenario: Scenario, amounts: Mapping[str, float] | None = None) -> Plan:
    """The scenario's plan; `amounts` sets some budget lines' money per month first.

    Amounts are finite and not negative; the scenario is not validated again, so that an
    optimiser can weigh thousands of allocations cheaply.
    """
    if amounts:
        scenario = _with_amounts(scenario, amounts)
    levers = lever_budgets(scenario)
    sales = scenario.sales
    seller_of = scenario.worked
    skill = sales.stage_skill if sales else {}
    months = months_of(scenario)
    paid = [tuple(c.reach_by_month(months)) for c in scenario.channels.paid.values()]
    organic = scenario.channels.organic
    outside = (*paid, (organic.prospects_per_day if organic else 0.0,))
    steady = [_steady_pass_prob(name, stage.pass_prob, levers) for name, stage in scenario.funnel]
    planned = {
        name: levers[name].effects(months).tolist()
        for name in FUNNEL
        if name in levers and levers[name].plan is not None
    }
    skills = [skill.get(seller_of.get(name, ""), 1.0) for name in FUNNEL]
    pass_prob = _pass_prob_by_month(steady, planned, np.array(skills))
    boost = scenario.referral.boost if scenario.referral else {}
    referred = (pass_prob * np.array([boost.get(n, 1.0) for n in FUNNEL])).clip(0.0, 1.0)
    mean_lift = {name: float(np.mean(lifts)) for name, lifts in planned.items()}
    mean_pass = tuple(
        min(1.0, min(1.0, p + mean_lift.get(name, 0.0)) * s)
        for name, p, s in zip(FUNNEL, steady, skills, strict=True)
    )
    repeat = _lifted_repeat(scenario.after_sale.repeat, _lift(levers, "repeat"))
    contacts = _lifted_contacts(scenario, _lift(levers, "refer"))
    common = SegmentPlan(
        name="",
        pass_prob=pass_prob,
        pass_prob_referred=referred,
        mean_pass_prob=mean_pass,
        durations=tuple(stage.duration for _, stage in scenario.funnel),
        order_value=scenario.after_sale.order_value,
        repeat=repeat,
        contacts_per_month=contacts,
        cost_to_serve_per_month=scenario.after_sale.cost_to_serve_per_month,
    )
    segments = [
        _segment_plan(scenario, name, common, (levers, planned, mean_lift, np.array(skills)))
        for name in scenario.segments or {}
    ]
    return Plan(
        scenario=scenario,
        outside_per_day=outside,
        seller_of=seller_of,
        pass_prob=pass_prob,
        pass_prob_referred=referred,
        mean_pass_prob=mean_pass,
        repeat=repeat,
        repeat_skill=skill.get("measure", 1.0),
        contacts_per_month=contacts,
        engage_skill=skill.get("engage", 1.0),
        segments=tuple(segments) or (common,),
    )


def _segment_plan(scenario: Scenario, name: str, common: SegmentPlan, lifts: tuple) -> SegmentPlan:
    """A segment's rates: its own pass probabilities go through the budget lifts and skill.

    A multiplier scales the scenario's final pass probability (at most 1).
    """
    levers, planned, mean_lift, skills = lifts
    segment = scenario.segments[name]
    changes = [segment.stages.get(stage) for stage in FUNNEL]
    own = [
        stage.pass_prob if c.pass_prob is None else c.pass_prob
        for c, (_, stage) in zip(changes, scenario.funnel, strict=True)
    ]
    steady = [_steady_pass_prob(n, p, levers) for n, p in zip(FUNNEL, own, strict=True)]
    mult = np.array([c.pass_mult or 1.0 for c in changes])
    pass_prob = (_pass_prob_by_month(steady, planned, skills) * mult).clip(0.0, 1.0)
    boost = scenario.referral.boost if scenario.referral else {}
    referred = (pass_prob * np.array([boost.get(n, 1.0) for n in FUNNEL])).clip(0.0, 1.0)
    mean_pass = tuple(
        min(1.0, min(1.0, min(1.0, p + mean_lift.get(n, 0.0)) * s) * m)
        for n, p, s, m in zip(FUNNEL, steady, skills, mult, strict=True)
    )
    lift = _lift(levers, "refer")
    talk = segment.referral.contacts_per_month if segment.referral else None
    serve = segment.cost_to_serve_per_month
    return SegmentPlan(
        name=name,
        pass_prob=pass_prob,
        pass_prob_referred=referred,
        mean_pass_prob=mean_pass,
        durations=tuple(c.duration or d for c, d in zip(changes, common.durations, strict=True)),
        order_value=segment.order_value or common.order_value,
        repeat=(
            _lifted_repeat(segment.repeat, _lift(levers, "repeat"))
            if segment.repeat
            else common.repeat
        ),
        contacts_per_month=(
            {k: v * (1.0 + lift) for k, v in talk.items()}
            if talk is not None
            else common.contacts_per_month
        ),
        cost_to_serve_per_month=common.cost_to_serve_per_month if serve is None else serve,
    )


def _lift(levers: Mapping[str, Any], line: str) -> float:
    """A lower-half line's steady effect (0 without a budget)."""
    return levers[line].steady_effect() if line in levers else 0.0


def _steady_pass_prob(name: str, pass_prob: float, levers: Mapping[str, Any]) -> float:
    """A stage's pass probability with its steady budget's lift, at most 1.

    A planned lift varies by month and is added later.
    """
    budget = levers.get(name)
    if budget is None or budget.plan is not None:
        return pass_prob
    return min(1.0, pass_prob + budget.steady_effect())


def _pass_prob_by_month(
    steady: list[float], planned: dict[str, list[float]], skills: np.ndarray
) -> np.ndarray:
    """Pass probabilities by month: planned lifts added, clipped to [0, 1], times skill."""
    months = max((len(v) for v in planned.values()), default=1)
    base = np.array([steady] * months)
    for k, name in enumerate(FUNNEL):
        if name in planned:
            base[:, k] += planned[name]
    return (base.clip(0.0, 1.0) * skills).clip(0.0, 1.0)


def _lifted_repeat(repeat: Repeat | None, lift: float) -> Repeat | None:
    """Repeat buying with its rate multiplied by 1 + lift."""
    if repeat is None or lift == 0.0:
        return repeat
    factor = 1.0 + lift
    if repeat.bgnbd is not None:
        g = repeat.bgnbd  # a Gamma(r, alpha) rate scaled by the factor
        return repeat.model_copy(update={"bgnbd": g.model_copy(update={"alpha": g.alpha / factor})})
    simple = repeat.simple
    rate = simple.purchases_per_month * factor
    return repeat.model_copy(
        update={"simple": simple.model_copy(update={"purchases_per_month": rate})}
    )


def _lifted_contacts(scenario: Scenario, lift: float) -> dict[str, float]:
    """Referral contacts per month by loyalty class, multiplied by 1 + lift."""
    rates = scenario.referral.contacts_per_month if scenario.referral else {}
    if lift == 0.0:
        return dict(rates)
    return {k: v * (1.0 + lift) for k, v in rates.items()}


def _with_amounts(scenario: Scenario, amounts: Mapping[str, float]) -> Scenario:
    """The scenario with some lines' money per month set, the models copied, not re-parsed."""
    for line, amount in amounts.items():
        if not (math.isfinite(amount) and amount >= 0.0):
            raise ValueError(
                _("budget line '{line}': money per month must be >= 0, got {amount}").format(
                    line=line, amount=amount
                )
            )
        scenario = _replaced(scenario, line_path(scenario, line).split("."), float(amount))
    return scenario


def _replaced(node: Any, path: list[str], value: float) -> Any:
    """A copy of `node` with the field at `path` (names as in a scenario file) set."""
    key, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {**node, key: _replaced(node[key], rest, value) if rest else value}
    name = next(n for n, f in type(node).model_fields.items() if key in (n, f.alias))
    new = _replaced(getattr(node, name), rest, value) if rest else value
    return node.model_copy(update={name: new})
