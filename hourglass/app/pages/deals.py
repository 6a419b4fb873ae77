"""B2B deals: where deals die by role, and win rates and cycles by channel."""

from __future__ import annotations

import math

import streamlit as st

import hourglass as hg
from hourglass.app import runs, state, widgets
from hourglass.i18n import _
from hourglass.kpis import MISSING
from hourglass.stages import LABELS, channel_label


def show(choice: state.Choice) -> None:
    """For a scenario with a buying committee: its deals in numbers, by role and by channel."""
    scenario, seed = choice.scenario, choice.seed
    committee = scenario.committee
    missing = _(
        "'{name}' has no buying committee. Choose b2b_committee, or add a `committee:` "
        "section to the scenario (roles, and the order each channel asks them)."
    )
    title = _("B2B deals · {name}")
    if widgets.heading(title, scenario, needs=committee, otherwise=missing) is None:
        return
    result = runs.run(scenario, choice.reps, seed)
    if result is None:
        return
    roles, channels, deals = result.role_summary(), result.channel_summary(), result.deals
    summary = hg.analysis.deal_summary(deals, result.reps)
    shown = (
        (_("Deals at the committee, per run"), written(summary["deals_per_run"], "{:,.1f}")),
        (_("Win rate"), written(summary["win_rate"], "{:.1%}")),
        (
            _("Median cycle of won deals"),
            written(summary["won_cycle_p50_days"], _("{:,.0f} days")),
        ),
        (_("People asked per deal"), written(summary["people_asked"], "{:.1f}")),
    )
    for column, (label, value) in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(label, value)
    st.caption(
        _(
            "{reps} runs (seed {seed}). Deals reach the committee when they pass {stage}; its "
            "roles are asked one after another, in the order the deal's channel sets. A "
            "refusal ends the deal with the role's weight as its chance."
        ).format(reps=result.reps, seed=seed, stage=LABELS[choice.labels][committee.stage])
    )
    widgets.chart(hg.plots.role_figure(roles), "deal-roles")
    widgets.chart(hg.plots.cycle_figure(deals, channels), "deal-channels")
    st.dataframe(
        channels.assign(channel=channels["channel"].map(channel_label)),
        hide_index=True,
        column_config=channel_columns(),
    )
    headers = csv_headers()
    widgets.csv_button(roles.rename(columns=headers), _("Roles (CSV)"), "deal-roles")
    widgets.csv_button(channels.rename(columns=headers), _("Channels (CSV)"), "deal-channels")
    widgets.csv_button(deals.rename(columns=headers), _("Every deal (CSV)"), "deals")


def channel_columns() -> dict:
    """The channel table's columns: means per run, shares and days, named for the reader."""
    headers = csv_headers()
    formats = {
        **dict.fromkeys(("deals", "won", "lost", "open"), "%.1f"),
        **dict.fromkeys(("win_rate", "win_rate_low", "win_rate_high"), "percent"),
        **dict.fromkeys(("cycle_mean_days", "cycle_p50_days", "cycle_p90_days"), "%.0f"),
    }
    columns = {
        column: st.column_config.NumberColumn(headers[column], format=fmt)
        for column, fmt in formats.items()
    }
    return {"channel": st.column_config.TextColumn(headers["channel"]), **columns}


def csv_headers() -> dict[str, str]:
    """The deal, role and channel tables' headers in the reader's language."""
    return {
        "channel": _("channel"),
        "deals": _("deals"),
        "won": _("won"),
        "lost": _("lost"),
        "open": _("open"),
        "win_rate": _("win rate"),
        "win_rate_low": _("win rate, low"),
        "win_rate_high": _("win rate, high"),
        "cycle_mean_days": _("mean cycle, days"),
        "cycle_p50_days": _("median cycle, days"),
        "cycle_p90_days": _("p90 cycle, days"),
        "role": _("role"),
        "deals_reached": _("deals reached"),
        "asked": _("asked"),
        "agreed": _("agreed"),
        "overruled": _("overruled"),
        "ended": _("ended"),
        "share_of_ended": _("share of ended"),
        "let_through": _("let through"),
        "rep": _("run"),
        "deal": _("deal"),
        "arrival": _("arrival day"),
        "entered": _("entered"),
        "closed": _("closed"),
        "outcome": _("outcome"),
        "reason": _("reason"),
        "ended_by": _("ended by"),
        "cycle_days": _("cycle, days"),
        "people_asked": _("people asked"),
    }


def written(value: float, fmt: str) -> str:
    """A number in its format, or the registry's mark for a missing one."""
    return fmt.format(value) if math.isfinite(value) else MISSING


if __name__ == "__main__":
    show(state.choice())
