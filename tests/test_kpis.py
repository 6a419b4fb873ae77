"""The KPI registry: every KPI a run reports is defined once, and changes read by kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hourglass.i18n import language
from hourglass.kpis import KPIS, Better, Kind

GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_every_reported_kpi_is_registered(golden: Path) -> None:
    """Each KPI in a shipped scenario's output has a label in both languages and a format."""
    for name, value in json.loads(golden.read_text())["kpis"].items():
        kpi = KPIS[name]
        assert (kpi.label("en") and kpi.label("ru") != kpi.label("en")) or name == "roi"
        assert kpi.format(value)


def test_shares_change_in_points_and_counts_in_percent() -> None:
    """ROI from 0.50 to 0.55 is +5.0 pp; buyers from 200 to 210 is +5.0%."""
    assert KPIS["roi"].kind is Kind.SHARE
    assert KPIS["roi"].format_delta(0.05, 0.50) == "+5.0 pp"
    assert KPIS["buyers"].format_delta(10.0, 200.0) == "+5.0%"
    assert KPIS["k_factor"].format_delta(0.014, 0.136) == "+0.014"


def test_direction_of_better() -> None:
    """Lower CAC is better, more buyers are better, utilisation is neither."""
    assert KPIS["cac"].better is Better.DOWN and KPIS["cac"].is_improvement(-1.0)
    assert KPIS["buyers"].is_improvement(3.0)
    assert KPIS["seller_utilization"].is_improvement(0.1) is None


def test_per_channel_kpis_follow_their_family() -> None:
    """cac_ads reads as CAC (ads), money, lower is better."""
    kpi = KPIS["cac_ads"]
    assert (kpi.label("en"), kpi.kind, kpi.better) == ("CAC (ads)", Kind.MONEY, Better.DOWN)
    assert "cac_ads" in KPIS and "nonsense" not in KPIS


def test_intervals_stop_at_what_a_kpi_can_reach_and_points_are_russian() -> None:
    """A count cannot fall by more than all of it; ROI cannot fall below -100%."""
    assert KPIS["buyers"].format_interval(-206.0, -190.0, 200.0) == "-100.0% to -95.0%"
    assert KPIS["roi"].format_interval(-1.8, -1.2, 0.5) == "-150.0 pp to -120.0 pp"
    assert KPIS["profit"].format_interval(-300.0, -100.0, 100.0) == "-300.0% to -100.0%"
    with language("ru"):
        assert KPIS["referral_share"].format_delta(0.012, 0.07) == "+1,2 п. п."
