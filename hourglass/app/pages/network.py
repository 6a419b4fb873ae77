"""Network: people by state on a day, clustering, adoption against well mixed, referral chains."""

from __future__ import annotations

import math

import streamlit as st

import hourglass as hg
from hourglass.app import cache, runs, state, widgets
from hourglass.config.network import SocialSelling
from hourglass.i18n import _
from hourglass.kpis import written


def show(choice: state.Choice) -> None:
    """For a scenario with a social graph: one run's picture and clustering, then bands."""
    scenario, seed, reps = choice.scenario, choice.seed, choice.reps
    network = scenario.network
    missing = _(
        "'{name}' has no social graph. Choose social_network, or add a `network:` section "
        "to the scenario (`small_world`, `scale_free`, `complete` or `edge_list`)."
    )
    if widgets.heading(_("Network · {name}"), scenario, needs=network, otherwise=missing) is None:
        return
    if network.social_selling is not None:
        st.caption(
            _("Social selling: {label}.").format(
                label=widgets.escape(social_selling_label(network.social_selling))
            )
        )
    single = widgets.logged_run(scenario, seed, _("Simulating one run of the network…"))
    if single is None:
        return
    text = scenario.to_yaml()
    picture(scenario, text, seed, choice.labels)
    clustering(cache.clustering_of(text, seed))
    mixed = hg.config.well_mixed(scenario)
    result, baseline = runs.run(scenario, reps, seed), runs.run(mixed, reps, seed)
    if result is None or baseline is None:
        return
    bands = {
        _("social graph"): hg.analysis.adoption_bands(result.daily),
        _("well mixed"): hg.analysis.adoption_bands(baseline.daily),
    }
    widgets.chart(hg.plots.adoption_figure(bands), "adoption")
    caption = _(
        "{reps} runs of each (seed {seed}): the same market, once in its graph and once "
        "well mixed, where anyone may meet anyone."
    ).format(reps=reps, seed=seed)
    if network.social_selling:
        caption += " " + _("The well-mixed market has no social selling, which needs the graph.")
    st.caption(caption)
    generations = hg.analysis.generation_table(single)
    widgets.chart(
        hg.plots.referral_chain_figure(generations, hg.analysis.cascades(single)),
        "referral-chains",
    )
    widgets.csv_button(
        generations.rename(columns=generation_headers()),
        _("Referral generations (CSV)"),
        "referral-generations",
    )


def social_selling_label(social: SocialSelling) -> str:
    """Where social selling's lift comes from, in the reader's language."""
    if social.preset == "linkedin_ssi_claim":
        return _(
            "LinkedIn's claim: sellers with a high Social Selling Index create {lift} more "
            "opportunities; a vendor's marketing figure, not a measured effect"
        ).format(lift=written(social.lift, "{:.0%}"))
    return _("Your assumption: social selling brings {lift} more opportunities").format(
        lift=written(social.lift, "{:.0%}")
    )


def generation_headers() -> dict[str, str]:
    """The referral generation table's headers in the reader's language."""
    return {"generation": _("generation"), "prospects": _("prospects"), "buyers": _("buyers")}


def picture(scenario: hg.Scenario, text: str, seed: int, labels: str) -> None:
    """The network coloured by state on the day a slider chooses (the last one at first)."""
    last = max(0, math.ceil(scenario.horizon_days) - 1)
    day = last
    if last > 0:
        day = st.slider(
            _("Day"),
            min_value=0,
            max_value=last,
            value=last,
            step=7,
            key=f"network-day-{state.version_tag(scenario)}",
        )
    with st.spinner(_("Laying out the network…")):
        widgets.chart(cache.network_picture(text, seed, day, labels), "network")
    st.caption(
        _(
            "The largest referral trees: a diamond rings each person who came from outside, "
            "and lines lead to the people their referrals brought, and on to those they "
            "brought in turn; the colour is where each one was that day."
        )
    )


def clustering(measured: dict[str, float]) -> None:
    """Customers' clustering in four numbers, each with what it means."""
    shown = (
        (
            _("Customers"),
            written(measured["customer_share"], "{:.1%}"),
            _("Share of all people who bought."),
        ),
        (
            _("Their contacts who bought"),
            written(measured["neighbour_customer_share"], "{:.1%}"),
            _("Share of customers' contacts who are customers too."),
        ),
        (
            _("Homophily"),
            _("{times} times").format(times=written(measured["homophily"], "{:.1f}")),
            _("Their contacts' share over the customer share: 1 means no clustering."),
        ),
        (
            _("Clustering coefficient"),
            f"{measured['clustering_customers']:.2f}",
            _(
                "Among customers, against {whole:.2f} for the whole graph (a sample of people)."
            ).format(whole=measured["clustering_graph"]),
        ),
    )
    for column, (label, value, help_text) in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(label, value, help=help_text)


if __name__ == "__main__":
    show(state.choice())
