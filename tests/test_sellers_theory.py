"""A sales team of people agrees with queueing theory and with hand-computed cases."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from hourglass import analysis, load_scenario, parse_scenario, simulate, theory
from hourglass.stages import FUNNEL
from tests.helpers import INSTANT, ROOT, exits_2_saying, exponential, make_scenario, stat_close

SEEDS = np.random.SeedSequence(2026).spawn(40)
WARMUP = 50.0


def _queues(lam: float, sales: dict, stays: dict[str, float], horizon: float = 400.0):
    """Poisson leads at `lam` a day meeting the team; each stage in `stays` is exponential.

    The last stage in `stays` ends the journey (pass probability 0).
    """
    last = list(stays)[-1]
    stages = {
        name: {
            "pass_prob": 0.0 if name == last else 1.0,
            "duration": exponential(stays[name]) if name in stays else INSTANT,
        }
        for name in FUNNEL
    }
    return make_scenario(
        channels={"organic": {"prospects_per_day": lam}},
        stages=stages,
        sales=sales,
        horizon_days=horizon,
        warmup_days=WARMUP,
    )


def _mean_wait(run, stage: str) -> float:
    """Mean wait for a seller at `stage` of the leads that met one after the warm-up."""
    v = run.log.visits
    served = (v["stage"] == FUNNEL.index(stage)) & (v["enter"] >= WARMUP)
    return float(v["wait"][served & np.isfinite(v["wait"])].mean())


# -- one role is the old team -----------------------------------------------------------------


def test_one_role_of_alike_sellers_gives_the_old_forms_numbers():
    """seller_bottleneck's team written as one role: every visit and purchase the same."""
    old = load_scenario("seller_bottleneck")
    data = old.to_dict()
    sales = data["sales"]
    data["sales"] = {
        "patience": sales["patience"],
        "skill": {"measure": sales["skill"]["measure"]},
        "roles": {
            "seller": {
                "headcount": sales["sellers"],
                "stages": sales["stages"],
                "skill": {"define": sales["skill"]["define"]},
                "cost_per_month": sales["cost_per_seller_per_month"],
            }
        },
    }
    new = parse_scenario(data, source="roles")
    assert new.sales.pay_per_month == old.sales.pay_per_month == 10_000.0
    before, after = simulate(old, 3).log, simulate(new, 3).log
    for table in ("visits", "purchases", "moves"):
        for column, values in getattr(before, table).items():
            np.testing.assert_array_equal(getattr(after, table)[column], values)
    assert [role for _, role in after.sellers] == ["seller"] * 4
    assert [name for name, _ in after.sellers] == ["seller 1", "seller 2", "seller 3", "seller 4"]


@pytest.mark.slow
def test_one_role_waits_match_erlang_c_and_losses_erlang_a():
    """M/M/c as one role: Erlang C's mean wait; with patience, Erlang A's share gone cold."""
    lam, mu, c = 16.0, 5.0, 4
    role = {"headcount": c, "stages": ["explore"]}
    plain = _queues(lam, {"roles": {"sdr": role}}, {"know": 1.0 / mu})
    waits = [_mean_wait(simulate(plain, seq), "know") for seq in SEEDS[:20]]
    stat_close(waits, theory.erlang_c_wait(lam, mu, c))
    patience, c = 0.5, 3
    impatient = _queues(
        lam,
        {"patience": exponential(patience), "roles": {"sdr": {**role, "headcount": c}}},
        {"know": 1.0 / mu},
        horizon=800.0,
    )
    shares = []
    for seq in SEEDS:  # 40 replications: 4 standard errors are 1.3% of the share
        k = analysis.kpis(simulate(impatient, seq))
        shares.append(k["lost_waiting"] / k["leads_to_sellers"])
    stat_close(shares, theory.erlang_a_abandon(lam, mu, c, 1.0 / patience))


# -- roles in tandem ----------------------------------------------------------------------------


@pytest.mark.slow
def test_two_roles_in_tandem_wait_as_independent_mm_c_queues():
    """SDRs at Know hand every lead to AEs at Like: each role waits as its own M/M/c (Burke).

    The SDRs' output is Poisson at the same rate, so the AEs see an M/M/c queue of their own.
    """
    lam, mu_sdr, c_sdr, mu_ae, c_ae = 12.0, 5.0, 3, 4.0, 4
    sales = {
        "roles": {
            "sdr": {"headcount": c_sdr, "stages": ["explore"]},
            "ae": {"headcount": c_ae, "stages": ["collaborate"]},
        }
    }
    scenario = _queues(lam, sales, {"know": 1.0 / mu_sdr, "like": 1.0 / mu_ae})
    sdr, ae = [], []
    for seq in SEEDS[:20]:
        run = simulate(scenario, seq)
        sdr.append(_mean_wait(run, "know"))
        ae.append(_mean_wait(run, "like"))
        roles = {run.log.sellers[s][1] for s in np.unique(run.log.visits["seller"]) if s >= 0}
        assert roles == {"sdr", "ae"}
    stat_close(sdr, theory.erlang_c_wait(lam, mu_sdr, c_sdr))
    stat_close(ae, theory.erlang_c_wait(lam, mu_ae, c_ae))


# -- speed to lead ------------------------------------------------------------------------------


def test_erlang_c_decay_at_its_limits():
    """No decay keeps all; a queue that never waits keeps all; M/M/1 by hand."""
    assert theory.erlang_c_decay(3.0, 4.0, 1, 0.0) == pytest.approx(1.0)
    assert theory.erlang_c_decay(1e-9, 4.0, 2, 5.0) == pytest.approx(1.0)
    # M/M/1, rho 0.75: 0.25 + 0.75 * 1 / (1 + 2)
    assert theory.erlang_c_decay(3.0, 4.0, 1, 2.0) == pytest.approx(0.5)


@pytest.mark.slow
def test_speed_to_lead_decay_matches_the_erlang_c_closed_form():
    """Chance e^(-k w) in the wait w: Know converts p E[e^(-k W)] under M/M/c waits."""
    lam, mu, c, p, half_life_hours = 16.0, 5.0, 4, 0.6, 3.0
    k = math.log(2.0) * 24.0 / half_life_hours
    sales = {
        "speed_to_lead": {"exponential": {"half_life_hours": half_life_hours}},
        "roles": {"sdr": {"headcount": c, "stages": ["explore"]}},
    }
    scenario = _queues(lam, sales, {"know": 1.0 / mu, "like": 1.0})
    scenario = scenario.with_overrides({"stages.know.pass_prob": p})
    shares = []
    for seq in SEEDS[:20]:
        v = simulate(scenario, seq).log.visits
        done = (v["stage"] == 0) & (v["enter"] >= WARMUP) & np.isfinite(v["exit"])
        shares.append(float((v["outcome"][done] == 0).mean()))
    expected = p * theory.erlang_c_decay(lam, mu, c, k)
    assert expected < 0.8 * p  # the decay shows
    stat_close(shares, expected)


def test_speed_to_lead_table_holds_each_factor_from_its_hours_on():
    """A table is a step: 1 below an hour, 1/7 from an hour, 1/60 from a day."""
    sales = make_scenario(
        sales={"sellers": 1, "speed_to_lead": {"table": [[0, 1.0], [1, 1 / 7], [24, 1 / 60]]}}
    ).sales
    curve = sales.speed_to_lead
    assert [curve.factor(h / 24) for h in (0, 0.99, 1, 23.9, 24, 100)] == pytest.approx(
        [1.0, 1.0, 1 / 7, 1 / 7, 1 / 60, 1 / 60]
    )


# -- routing --------------------------------------------------------------------------------


def _two_sellers(routing: str):
    """Boris (index 0, skill 0.5) and Anna (index 1, skill 1.5) at Know, base chance 0.4.

    Work is instant, so both are always free: by skill every lead goes to Anna (0.6); first
    free and least loaded give it to the first, Boris (0.2); round robin alternates (0.4).
    """
    sales = {
        "routing": routing,
        "roles": {
            "ae": {
                "headcount": 2,
                "stages": ["explore"],
                "sellers": [
                    {"name": "Boris", "skill": {"explore": 0.5}},
                    {"name": "Anna", "skill": {"explore": 1.5}},
                ],
            }
        },
    }
    scenario = make_scenario(sales=sales, horizon_days=200.0)
    return scenario.with_overrides({"stages.know.pass_prob": 0.4})


@pytest.mark.parametrize(
    ("routing", "chance"),
    [("by_skill", 0.6), ("first_free", 0.2), ("least_loaded", 0.2), ("round_robin", 0.4)],
)
def test_routing_by_skill_beats_first_free_by_the_hand_computed_amount(routing, chance):
    """Know's conversion is the chosen seller's chance: 0.6 by skill against 0.2 first free."""
    v = simulate(_two_sellers(routing), 5).log.visits
    know = v["stage"] == 0
    n = int(know.sum())
    passed = float((v["outcome"][know] == 0).mean())
    assert n > 9000
    assert abs(passed - chance) < 4 * math.sqrt(chance * (1 - chance) / n), passed
    if routing == "round_robin":
        assert abs(np.mean(v["seller"][know] == 1) - 0.5) < 1e-3


# -- bad input ------------------------------------------------------------------------------


def _write(tmp_path: Path, sales: dict) -> str:
    data = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text())
    data["sales"] = sales
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def test_a_stage_worked_by_two_roles_is_refused(tmp_path):
    sales = {
        "roles": {
            "sdr": {"headcount": 2, "stages": ["design"]},
            "ae": {"headcount": 2, "stages": ["design", "define"]},
        }
    }
    exits_2_saying(
        ["check", _write(tmp_path, sales)],
        "sales.roles.ae.stages: 'design' is worked by role 'sdr' already; each stage has one role",
    )


def test_a_role_listing_a_stage_twice_is_refused(tmp_path):
    sales = {"roles": {"ae": {"headcount": 1, "stages": ["define", "define"]}}}
    exits_2_saying(
        ["check", _write(tmp_path, sales)], "sales.roles.ae.stages: 'define' is listed twice"
    )


def test_unknown_routing_says_did_you_mean(tmp_path):
    sales = {"routing": "by_skil", "roles": {"ae": {"headcount": 2, "stages": ["define"]}}}
    exits_2_saying(
        ["check", _write(tmp_path, sales)],
        "sales.routing: 'by_skil' is not one of first_free, round_robin, least_loaded, "
        "by_skill, weighted; did you mean 'by_skill'?",
    )


def test_named_sellers_over_headcount_are_refused(tmp_path):
    named = [{"name": "Anna"}, {"name": "Boris"}]
    sales = {"roles": {"ae": {"headcount": 1, "stages": ["define"], "sellers": named}}}
    exits_2_saying(
        ["check", _write(tmp_path, sales)],
        "sales.roles.ae.sellers: 2 named, but the headcount is 1",
    )


def test_the_old_forms_fields_beside_roles_are_refused(tmp_path):
    sales = {"sellers": 3, "roles": {"ae": {"headcount": 1, "stages": ["define"]}}}
    exits_2_saying(
        ["check", _write(tmp_path, sales)],
        "sales.sellers: set it on each role under sales.roles, not beside them",
    )


def test_roles_survive_a_round_trip_through_overrides():
    """A roles scenario written out and read back, one headcount changed."""
    scenario = make_scenario(sales={"roles": {"ae": {"headcount": 2, "stages": ["define"]}}})
    more = scenario.with_overrides({"sales.roles.ae.headcount": 5})
    assert (more.sales.headcount, more.sales.seats) == (5, 5)
    assert more.sales.sellers is None and more.worked == {"try": "define"}
