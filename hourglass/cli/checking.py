"""What `hourglass check` prints: a scenario's verdict, its summary and its work per run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hourglass
from hourglass.cli.report import number
from hourglass.i18n import _


def check_lines(path: Path, spec: hourglass.Scenario) -> list[str]:
    """What `check` prints: the verdict and summary, the work per run, what is over the limits."""
    from hourglass.config.gaps import gap_text
    from hourglass.config.work import estimate_work

    work = estimate_work(spec)
    too_large = work.over_limit()
    channels = [*spec.channels.paid, *(["organic"] if spec.channels.organic else [])]
    sellers = spec.sales.headcount if spec.sales else 0
    summary = _(
        "{file}: {verdict}: '{name}', {days} days, market {market}, channels {channels}, "
        "{sellers} sellers, referrals {referrals}"
    ).format(
        file=path,
        verdict=_("ok") if too_large is None else _("valid, but too large to run"),
        name=spec.name,
        days=f"{spec.horizon_days:g}",
        market=number(spec.market.size, "{:,.0f}") if spec.market.size else _("unlimited"),
        channels=", ".join(channels) or _("none"),
        sellers=sellers,
        referrals=_("on") if spec.referral else _("off"),
    )
    if spec.committee is not None:
        summary += _(", a committee of {roles} roles at {stage}").format(
            roles=len(spec.committee.roles), stage=spec.committee.stage
        )
    if spec.network is not None:
        summary += _(", a {kind} graph of {people} people").format(
            kind=_network_kind(spec.network), people=number(spec.network.nodes, "{:,.0f}")
        )
    lines = [summary, "  " + _("work: {summary}").format(summary=_work_summary(work))]
    if too_large is not None:
        lines.append("  " + _("over the limits: {why}").format(why=too_large))
    lines += [
        "  " + _("not estimated from the data: {part}").format(part=gap_text(part))
        for part in spec.not_estimated or []
    ]
    return lines


def _network_kind(network: Any) -> str:
    """The kind of a scenario's social graph, as a reader names it."""
    kinds = {
        "small_world": _("small-world"),
        "scale_free": _("scale-free"),
        "complete": _("complete"),
        "edge_list": _("edge-list"),
    }
    return next(text for kind, text in kinds.items() if getattr(network, kind) is not None)


def _work_summary(work: Any) -> str:
    """One line of the work estimate: prospects, purchases, events and memory per run."""
    from hourglass.config.work import _bytes, _n

    drivers = {
        "prospects": _("prospects"),
        "stage visits": _("stage visits"),
        "purchases": _("purchases"),
        "loyalty moves": _("loyalty moves"),
        "referral contacts": _("referral contacts"),
        "committee answers": _("committee answers"),
        "graph links": _("graph links"),
    }
    return _(
        "about {prospects} prospects, {purchases} purchases, {events} events and {memory} "
        "per run (mostly {driver})"
    ).format(
        prospects=_n(work.prospects),
        purchases=_n(work.purchases),
        events=_n(work.events_per_run),
        memory=_bytes(work.memory_bytes),
        driver=drivers.get(work.driver, work.driver),
    )
