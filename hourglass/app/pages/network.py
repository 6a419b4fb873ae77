"""Network: people by state on a day, clustering, adoption against well mixed, referral chains."""

from __future__ import annotations

import math

import streamlit as st

import hourglass as hg
from hourglass.app import cache, runs, state, widgets


def show(choice: state.Choice) -> None:
    """For a scenario with a social graph: one run's picture and clustering, then bands."""
    scenario, seed, reps = choice.scenario, choice.seed, choice.reps
    st.header(f"Network · {widgets.escape(scenario.name)}")
    network = scenario.network
    if network is None:
        st.info(
            f"'{widgets.escape(scenario.name)}' has no social graph. Choose social_network, "
            "or add a network: section to the scenario (small_world, scale_free, complete or "
            "edge_list)."
        )
        return
    if network.social_selling is not None:
        st.caption(f"Social selling: {widgets.escape(network.social_selling.label)}.")
    text = scenario.to_yaml()
    try:  # the one run with its event log is held in the server's budgets while it runs
        with (
            runs.ledger().admitted(state.session_key(), runs.estimate(scenario, 1)),
            st.spinner("Simulating one run of the network…"),
        ):
            single = cache.one_run(text, seed)
    except runs.TooBig as err:
        st.error(f"'{widgets.escape(scenario.name)}' is not simulated: {widgets.escape(err)}")
        return
    picture(scenario, text, seed, choice.labels)
    clustering(cache.clustering_of(text, seed))
    mixed = hg.config.well_mixed(scenario)
    result, baseline = runs.run(scenario, reps, seed), runs.run(mixed, reps, seed)
    if result is None or baseline is None:
        return
    bands = {
        "social graph": hg.analysis.adoption_bands(result.daily),
        "well mixed": hg.analysis.adoption_bands(baseline.daily),
    }
    widgets.chart(hg.plots.adoption_figure(bands), "adoption")
    st.caption(
        f"{reps} runs of each (seed {seed}): the same market, once in its graph and once "
        "well mixed, where anyone may meet anyone"
        + (" (without social selling, which needs the graph)." if network.social_selling else ".")
    )
    generations = hg.analysis.generation_table(single)
    widgets.chart(
        hg.plots.referral_chain_figure(generations, hg.analysis.cascades(single)),
        "referral-chains",
    )
    widgets.csv_button(generations, "Referral generations (CSV)", "referral-generations")


def picture(scenario: hg.Scenario, text: str, seed: int, labels: str) -> None:
    """The network coloured by state on the day a slider chooses (the last one at first)."""
    last = max(0, math.ceil(scenario.horizon_days) - 1)
    day = last
    if last > 0:
        day = st.slider(
            "Day",
            min_value=0,
            max_value=last,
            value=last,
            step=7,
            key=f"network-day-{state.version_tag(scenario)}",
        )
    with st.spinner("Laying out the network…"):
        widgets.chart(cache.network_picture(text, seed, day, labels), "network")
    st.caption(
        "A sample of the people (customers and those they know first), placed so that "
        "people who know each other sit close; the colour is where each one was that day."
    )


def clustering(measured: dict[str, float]) -> None:
    """Customers' clustering in four numbers, each with what it means."""
    shown = (
        ("Customers", f"{measured['customer_share']:.1%}", "Share of all people who bought."),
        (
            "Their contacts who bought",
            f"{measured['neighbour_customer_share']:.1%}",
            "Share of customers' contacts who are customers too.",
        ),
        (
            "Homophily",
            f"{measured['homophily']:.1f} times",
            "Their contacts' share over the customer share: 1 means no clustering.",
        ),
        (
            "Clustering coefficient",
            f"{measured['clustering_customers']:.2f}",
            "Among customers, against "
            f"{measured['clustering_graph']:.2f} for the whole graph (a sample of people).",
        ),
    )
    for column, (label, value, help_text) in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(label, value, help=help_text)


if __name__ == "__main__":
    show(state.choice())
