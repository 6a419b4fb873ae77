"""Key accounts: where the profit really is, by kind of client and along the whale curve."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import streamlit as st

import hourglass as hg
from hourglass.app import runs, state, widgets
from hourglass.i18n import _, ngettext
from hourglass.kpis import written

if TYPE_CHECKING:
    import pandas as pd


def show(choice: state.Choice) -> None:
    """One run's customers on the two axes, the four kinds, the whale curve and the answer.

    The chosen replications give the whale curve and the top accounts' shares their bands.
    """
    scenario, seed = choice.scenario, choice.seed
    name = widgets.heading(_("Key accounts · {name}"), scenario)
    single = widgets.logged_run(scenario, seed, _("Simulating one run…"))
    if single is None:
        return
    customers = hg.analysis.customer_table(single)
    if customers.empty:
        st.info(
            _("'{name}' won no customers in this run: there are no accounts to weigh.").format(
                name=name
            )
        )
        return
    kinds = hg.analysis.kind_table(customers)
    curve = hg.analysis.whale_curve(customers)
    st.subheader(headline(customers, hg.analysis.whale_summary(curve)))
    widgets.chart(hg.plots.account_map_figure(customers), "account-map")
    st.dataframe(
        kinds.assign(kind=kinds["kind"].map(hg.analysis.kind_label)),
        hide_index=True,
        column_config=kind_columns(),
    )
    result = runs.run(scenario, choice.reps, seed)  # says why itself when it is refused
    summaries = result.accounts if result is not None else None
    band = hg.analysis.whale_band(summaries) if summaries is not None else None
    widgets.chart(hg.plots.whale_figure(curve, band=band), "whale-curve")
    if summaries is not None:
        shares = hg.analysis.share_bands(summaries)
        st.markdown(band_sentence(shares, result.reps))
        st.dataframe(share_rows(shares), hide_index=True, column_config=share_columns())
        st.caption(band_meaning(result.reps))
    st.caption(definitions(scenario, seed))
    headers = customer_headers()
    shown = customers.assign(
        kind=customers["kind"].map(hg.analysis.kind_label),
        loyalty=customers["loyalty"].map(hg.analysis.loyalty_label),
    )
    widgets.csv_button(
        shown[list(headers)].rename(columns=headers), _("Every customer (CSV)"), "customers"
    )


def headline(customers: pd.DataFrame, summary: dict[str, float]) -> str:
    """The answer first: the top fifth's share of the profit, and what key clients lose."""
    top = summary["top20_share"]
    first = (
        _("The top 20% of customers earn {share} of the profit").format(
            share=written(top, "{:.0%}")
        )
        if not math.isnan(top)  # NaN when the customers' total profit is not positive
        else _("The customers together make no profit")
    )
    key = customers[customers["kind"] == "key"]
    losing = key[key["profit"] < 0]
    if len(losing):
        second = ngettext(
            "{n} key client loses {money} after cost to serve",
            "{n} key clients lose {money} after cost to serve",
            len(losing),
        ).format(n=len(losing), money=written(-losing["profit"].sum(), "{:,.0f}"))
    else:
        second = _("no key client loses money after cost to serve")
    return f"{first}; {second}."


def band_sentence(shares: pd.DataFrame, reps: int) -> str:
    """The top 20%'s share and the peak across the replications, each with its p5-p95."""
    row = shares.set_index("number")
    if math.isnan(row.loc["top20_share", "mean"]):
        return _("In none of the {reps} runs did the customers together make a profit.").format(
            reps=reps
        )

    def share(name: str) -> dict[str, str]:
        return {k: written(row.loc[name, k], "{:.0%}") for k in ("mean", "p5", "p95")}

    top, peak = share("top20_share"), share("peak_share")
    return _(
        "Across {reps} runs the top 20% of customers earn {top} of the profit (p5-p95: "
        "{top_p5} to {top_p95}), and the whale curve peaks at {peak} ({peak_p5} to {peak_p95})."
    ).format(
        reps=reps,
        top=top["mean"],
        top_p5=top["p5"],
        top_p95=top["p95"],
        peak=peak["mean"],
        peak_p5=peak["p5"],
        peak_p95=peak["p95"],
    )


def band_meaning(reps: int) -> str:
    """What the shaded band and the p5-p95 columns mean."""
    return _(
        "The shaded band and the p5-p95 columns hold the middle 90% of {reps} runs of the same "
        "scenario with other random draws: how far chance alone moves the whale curve. The "
        "line, the map and the kinds are one run's."
    ).format(reps=reps)


def share_rows(shares: pd.DataFrame) -> pd.DataFrame:
    """The share bands as the page shows them: each number named, in percent."""
    names = {
        "top20_share": _("the top 20%'s share of the profit"),
        "peak_share": _("the whale curve's peak"),
        "peak_at": _("customers up to the peak"),
    }
    return shares.assign(number=shares["number"].map(names)).assign(
        **{k: shares[k] * 100.0 for k in ("mean", "p5", "p95")}
    )


def share_columns() -> dict:
    """The share table's columns, in percent."""
    return {
        "number": st.column_config.TextColumn(_("across runs")),
        **{
            k: st.column_config.NumberColumn(v, format="%.0f%%")
            for k, v in (("mean", _("mean")), ("p5", "p5"), ("p95", "p95"))
        },
    }


def definitions(scenario: hg.Scenario, seed: int) -> str:
    """What the axes and the kinds mean, in one caption."""
    wallet = (
        _("the service level held at the end over the top level, with the loyalty class")
        if scenario.after_sale.service_ladder
        else _("the loyalty class (this scenario has no service ladder to measure a wallet by)")
    )
    return _(
        "One run (seed {seed}). Their attractiveness to us: the mean rank of revenue, profit "
        "after cost to serve and growth. Our attractiveness to them: {wallet}. Both split at "
        "the middle: key (high, high), developing key (high, low), maintained (low, high), "
        "occasional (low, low)."
    ).format(seed=seed, wallet=wallet)


def kind_columns() -> dict:
    """The kinds table's columns, named for the reader, money without decimals."""
    money = {
        "revenue": _("revenue"),
        "cost_to_serve": _("cost to serve"),
        "profit": _("profit"),
    }
    return {
        "kind": st.column_config.TextColumn(_("kind of client")),
        "customers": st.column_config.NumberColumn(_("customers"), format="%d"),
        **{k: st.column_config.NumberColumn(v, format="%,.0f") for k, v in money.items()},
    }


def customer_headers() -> dict[str, str]:
    """The exported customer table's columns and their headers in the reader's language."""
    return {
        "customer": _("customer"),
        "first_day": _("first purchase (day)"),
        "revenue": _("revenue"),
        "cost_to_serve": _("cost to serve"),
        "profit": _("profit"),
        "growth": _("growth per month"),
        "loyalty": _("loyalty class"),
        "share_of_wallet": _("share of wallet"),
        "attractiveness_to_us": _("their attractiveness to us"),
        "attractiveness_to_them": _("our attractiveness to them"),
        "kind": _("kind of client"),
    }


if __name__ == "__main__":
    show(state.choice())
