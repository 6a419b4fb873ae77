"""Network mode: referrals over links, the trust boost, social selling and bad graphs.

The complete graph is the well-mixed market, referrals follow links, customers among a
prospect's contacts ease Like and Trust by the stated factor, social selling adds its lift,
and bad graphs are refused with the file and the line.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from hourglass import ScenarioError, load_scenario, simulate
from hourglass.analysis import (
    cascades,
    customer_clustering,
    generation_table,
    node_states,
    referral_generations,
)
from hourglass.config import parse_scenario_text, well_mixed
from hourglass.config.graph import build_graph
from hourglass.config.network import MAX_EDGES, SocialSelling
from hourglass.plots import network_figure
from tests.helpers import INSTANT, ROOT, make_scenario

DATA = ROOT / "tests" / "data" / "network"
WORD_OF_MOUTH = {
    "referral__contacts_per_month": {"one_time": 3.0},
    "referral__win_prob": 0.5,
    "referral__delay": {"exponential": {"mean_days": 2.0}},
}


def _network_scenario(network: dict, **changes):
    return make_scenario(network=network, **{**WORD_OF_MOUTH, **changes})


def _binomial_close(hits: int, n: int, p: float) -> None:
    assert n > 0
    assert abs(hits / n - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-12, (hits / n, p, n)


def _first_buyers(run) -> np.ndarray:
    p = run.log.purchases
    return p["customer"][p["kind"] == 0]


def _counts(scenario, reps: int) -> np.ndarray:
    """Per replication: buyers and referred buyers."""
    rows = []
    for rep in range(reps):
        run = simulate(scenario, np.random.SeedSequence(11, spawn_key=(rep,)))
        buyers = _first_buyers(run)
        rows.append((len(buyers), int((run.log.prospects["referrer"][buyers] >= 0).sum())))
    return np.array(rows, dtype=float)


@pytest.mark.slow
def test_complete_graph_is_the_well_mixed_market():
    """On the complete graph a referral reaches a random other person, as in a well-mixed market.

    Mean buyers and referred buyers agree within 4 combined standard errors.
    """
    network = _network_scenario(
        {"complete": {"nodes": 2000}},
        horizon_days=120.0,
        channels={"organic": {"prospects_per_day": 2.0}},
        stages__like={"pass_prob": 0.7, "duration": {"exponential": {"mean_days": 2.0}}},
    )
    mixed = well_mixed(network)
    assert mixed.network is None and mixed.market.size == 2000
    a, b = _counts(network, 30), _counts(mixed, 30)
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    assert (a[:, 1].mean() > 100) and (b[:, 1].mean() > 100)  # referrals do matter here
    assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) < 4 * se), (a.mean(0), b.mean(0), se)


def test_referrals_reach_only_neighbours():
    """Every referred prospect is a contact of its referrer."""
    scenario = _network_scenario({"small_world": {"nodes": 5000, "neighbours": 6, "rewire": 0.1}})
    run = simulate(scenario)
    graph, p = run.log.graph, run.log.prospects
    referred = np.flatnonzero(p["referrer"] >= 0)
    assert len(referred) > 200
    for pid in referred.tolist():
        v = p["node"][p["referrer"][pid]]
        assert p["node"][pid] in graph.indices[graph.indptr[v] : graph.indptr[v + 1]]


def test_people_without_contacts_refer_no_one(tmp_path: Path):
    """Half the people know no one: customers there talk, but bring no one.

    In a well-mixed market of the same size they would.
    """
    people = tmp_path / "people.csv"
    people.write_text("id\n" + "\n".join(map(str, range(400))) + "\n")
    ring = [f"{i},{(i + 1) % 200}" for i in range(200)]
    (tmp_path / "links.csv").write_text("a,b\n" + "\n".join(ring) + "\n")
    scenario = _network_scenario(
        {"edge_list": {"edges": str(tmp_path / "links.csv"), "nodes": str(people)}},
        channels={"organic": {"prospects_per_day": 1.0}},
    )
    assert scenario.market.size == 400
    run = simulate(scenario)
    p, c = run.log.prospects, run.log.contacts
    alone = p["node"] >= 200
    assert np.isin(c["referrer"], np.flatnonzero(alone)).sum() > 20  # the lonely did talk
    assert not (alone & (p["referrer"] >= 0)).any()
    assert (~alone & (p["referrer"] >= 0)).sum() > 20
    referred_mixed = (simulate(well_mixed(scenario)).log.prospects["referrer"] >= 0).sum()
    assert referred_mixed > (p["referrer"] >= 0).sum()


def _like_by_customers_known(run) -> tuple[np.ndarray, np.ndarray]:
    """Per Like visit that ended: customers among the prospect's contacts, and whether it passed.

    Customers are counted as the prospect entered.
    """
    graph, p, v = run.log.graph, run.log.prospects, run.log.visits
    first = np.full(graph.nodes, np.inf)
    buyers = _first_buyers(run)
    bought = run.log.purchases["time"][run.log.purchases["kind"] == 0]
    first[p["node"][buyers]] = bought
    like = np.flatnonzero((v["stage"] == 1) & np.isfinite(v["exit"]))
    m = np.empty(len(like), dtype=np.int64)
    for i, (pid, t) in enumerate(zip(v["prospect"][like], v["enter"][like], strict=True)):
        node = p["node"][pid]
        m[i] = (first[graph.indices[graph.indptr[node] : graph.indptr[node + 1]]] < t).sum()
    return m, v["outcome"][like] == 0


@pytest.mark.parametrize("boost", [0.0, 0.6])
def test_customers_known_ease_like_by_the_boost(boost: float):
    """Like's pass probability with m customers among the contacts is min(1, p (1 + boost)^m).

    Within 4 binomial standard errors for each m seen often.
    """
    p_like = 0.4
    scenario = _network_scenario(
        {"small_world": {"nodes": 3000, "neighbours": 6, "rewire": 0.05}, "trust_boost": boost},
        horizon_days=150.0,
        channels={"organic": {"prospects_per_day": 8.0}},
        stages__like={"pass_prob": p_like, "duration": {"exponential": {"mean_days": 3.0}}},
    )
    m, passed = _like_by_customers_known(simulate(scenario, 4))
    checked = 0
    for k in range(7):
        n = int((m == k).sum())
        if n >= 100:
            _binomial_close(int(passed[m == k].sum()), n, min(1.0, p_like * (1 + boost) ** k))
            checked += 1
    assert checked >= 2


def test_social_selling_adds_its_lift_and_the_preset_says_whose_claim():
    """With no customers yet, social selling lands on random people.

    Its arrivals are lift x the organic rate x days, within 4 Poisson standard errors.
    """
    preset = SocialSelling(preset="linkedin_ssi_claim")
    assert preset.lift == 0.45
    assert "LinkedIn's claim" in preset.label and "not a measured effect" in preset.label
    rate, days = 20.0, 30.0
    scenario = make_scenario(
        network={
            "small_world": {"nodes": 100_000, "neighbours": 2, "rewire": 0.0},
            "social_selling": {"preset": "linkedin_ssi_claim"},
        },
        horizon_days=days,
        channels={"organic": {"prospects_per_day": rate}},
        stages__buy={"pass_prob": 0.0, "duration": INSTANT},
        sales={"sellers": 5},
    )
    run = simulate(scenario)
    social = run.log.channels.index("social_selling")
    arrivals = int((run.log.prospects["channel"] == social).sum())
    expected = 0.45 * rate * days
    assert abs(arrivals - expected) < 4 * math.sqrt(expected), (arrivals, expected)


def test_social_selling_lands_among_customers_contacts():
    """Once there are customers, each social-selling contact is a contact of an earlier buyer.

    The buyer had bought before the contact arrived.
    """
    scenario = make_scenario(
        network={
            "small_world": {"nodes": 20_000, "neighbours": 4, "rewire": 0.1},
            "social_selling": {"opportunities_lift": 1.0},
        },
        horizon_days=40.0,
        channels={"organic": {"prospects_per_day": 20.0}},
        sales={"sellers": 50},
    )
    run = simulate(scenario, seed=3)
    log, graph = run.log, run.log.graph
    first = log.purchases["kind"] == 0
    nodes = log.prospects["node"][log.purchases["customer"][first]]
    bought_at = dict(zip(nodes.tolist(), log.purchases["time"][first].tolist(), strict=True))
    social = np.flatnonzero(log.prospects["channel"] == log.channels.index("social_selling"))
    opened = min(bought_at.values())
    later = [p for p in social if log.prospects["arrival"][p] > opened + 1.0]  # next batch on
    assert len(later) > 200
    for p in later:
        node, when = log.prospects["node"][p], log.prospects["arrival"][p]
        contacts = graph.indices[graph.indptr[node] : graph.indptr[node + 1]]
        assert any(bought_at.get(c, math.inf) < when for c in contacts), p


def test_social_selling_needs_sellers():
    with pytest.raises(ScenarioError, match="sellers do it; add a sales section"):
        make_scenario(
            network={
                "complete": {"nodes": 10},
                "social_selling": {"opportunities_lift": 0.2},
            }
        )


def test_edge_list_loads_beside_its_scenario():
    scenario = load_scenario(DATA / "small_town.yaml")
    graph = build_graph(scenario.network.spec, scenario.network.seed)
    assert scenario.market.size == 6
    assert graph.names == ("ann", "bob", "cat", "dan", "eve", "fay")
    assert graph.edges == 5  # a self-link and a repeated link dropped
    assert sorted(graph.indices[graph.indptr[2] : graph.indptr[3]]) == [0, 1, 3]
    assert parse_scenario_text(scenario.to_yaml()) == scenario
    run = simulate(scenario)
    assert run.log.graph is graph


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("unknown_node.yaml", "friends_unknown.csv: line 4: unknown node 'zed' (not in people"),
        ("missing_file.yaml", "nobody.csv: cannot read"),
        ("too_large.yaml", f"10,000,000 links; at most {MAX_EDGES:,} fit in memory"),
    ],
)
def test_bad_graphs_are_refused_with_the_reason(name: str, words: str):
    with pytest.raises(ScenarioError) as err:
        load_scenario(DATA / name)
    assert str(err.value).startswith(f"{DATA / name}: line ")
    assert words in str(err.value)
    assert "finite market" not in str(err.value)  # no follow-on error


def test_uploaded_scenario_cannot_find_its_edge_list():
    text = (DATA / "small_town.yaml").read_text()
    with pytest.raises(ScenarioError, match="an edge list must sit beside a scenario file"):
        parse_scenario_text(text, "upload.yaml")


def test_market_size_must_match_the_graph():
    with pytest.raises(ScenarioError, match="differs from the network's 50 people"):
        make_scenario(network={"complete": {"nodes": 50}}, market={"size": 40})


@pytest.mark.parametrize("name", ["unknown_node.yaml", "too_large.yaml"])
def test_cli_exits_2_without_traceback(name: str):
    proc = subprocess.run(
        [sys.executable, "-m", "hourglass.cli", "run", str(DATA / name)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "error:" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout


def test_cohort_has_no_place_in_a_network():
    scenario = make_scenario(network={"complete": {"nodes": 10}})
    with pytest.raises(ValueError, match="known customers have no place in the network"):
        simulate(scenario, cohort=[1.0])


def test_chains_and_cascades_add_up():
    """Generations follow referrers; the seeds' cascades hold every referred buyer."""
    scenario = _network_scenario({"small_world": {"nodes": 5000, "neighbours": 6, "rewire": 0.1}})
    run = simulate(scenario)
    referrer = run.log.prospects["referrer"]
    generation = referral_generations(run)
    referred = referrer >= 0
    assert np.all(generation[~referred] == 0)
    assert np.all(generation[referred] == generation[referrer[referred]] + 1)
    table, seeds = generation_table(run), cascades(run)
    buyers = _first_buyers(run)
    assert table["buyers"].sum() == len(buyers)
    assert seeds["size"].sum() == (referrer[buyers] >= 0).sum()
    assert len(seeds) == (referrer[buyers] < 0).sum()


def test_clustering_matches_networkx_and_states_count_people():
    scenario = _network_scenario({"small_world": {"nodes": 600, "neighbours": 6, "rewire": 0.2}})
    run = simulate(scenario)
    graph = run.log.graph
    g = nx.Graph()
    g.add_edges_from(
        (v, int(u))
        for v in range(graph.nodes)
        for u in graph.indices[graph.indptr[v] : graph.indptr[v + 1]]
    )
    clustering = customer_clustering(run, sample=graph.nodes)
    assert clustering["clustering_graph"] == pytest.approx(nx.average_clustering(g))
    customers = {int(v) for v in run.log.prospects["node"][_first_buyers(run)]}
    assert clustering["clustering_customers"] == pytest.approx(
        nx.average_clustering(g.subgraph(customers))
    )
    states = node_states(run, run.log.horizon_days)
    assert (states == 6).sum() == len(customers)
    assert (states > 0).sum() == len(np.unique(run.log.prospects["node"]))


def test_network_figure_draws_a_sample_coloured_by_state():
    scenario = _network_scenario({"small_world": {"nodes": 3000, "neighbours": 6, "rewire": 0.1}})
    run = simulate(scenario)
    fig = network_figure(run, 50, max_nodes=300)
    names = {t.name for t in fig.data if t.name}
    assert "customer" in names
    assert sum(len(t.x) for t in fig.data[1:-1]) == 300  # the last rings the roots
    with pytest.raises(ValueError, match="max_nodes"):
        network_figure(run, 50, max_nodes=5000)
