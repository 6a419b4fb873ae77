"""CRM exports: the default mappings read alike, bad rows are counted by reason, never dropped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hourglass import calibrate, simulate
from hourglass.calibration import (
    DataError,
    export_deals,
    export_transactions,
    load_mapping,
    read_deals,
    read_transactions,
)
from tests.helpers import ROOT, make_scenario

BAD = ROOT / "tests" / "data" / "bad_crm"
CRM = ROOT / "tests" / "data" / "crm"
HOURGLASS, BITRIX24, HUBSPOT, SALESFORCE = (
    (CRM / f"{name}.csv").read_text() for name in ("hourglass", "bitrix24", "hubspot", "salesforce")
)


def _shape(text: str | bytes) -> pd.DataFrame:
    """Stage visits: stage, days in stage, status and the deal's outcome."""
    v = read_deals(text).visits
    return v.assign(days=v["left"] - v["entered"])[["stage", "days", "status", "outcome"]]


@pytest.mark.parametrize(
    "text", [BITRIX24, HUBSPOT, SALESFORCE], ids=["bitrix24", "hubspot", "salesforce"]
)
def test_default_mappings_read_each_crm_alike(text: str):
    """The same three deals exported by each CRM give the same stage visits."""
    expected = _shape(HOURGLASS)
    assert expected["status"].tolist() == ["passed"] * 5 + ["passed", "lost", "open"]
    pd.testing.assert_frame_equal(_shape(text), expected)


def test_sources_sellers_and_reasons_come_through():
    deals = read_deals(HUBSPOT)
    per_deal = deals.visits.groupby("deal").last()
    assert per_deal["source"].tolist() == ["PAID_SEARCH", "ORGANIC_SEARCH", "PAID_SEARCH"]
    assert per_deal["seller"].tolist() == ["Ann", "Bob", "Ann"]
    assert per_deal["loss_reason"].tolist() == ["", "Price", ""]
    assert deals.skipped.count == 0


def test_until_keeps_later_rows_out_and_reopens_deals():
    """Rows after --until are set aside; a stage left after it is open at --until."""
    deals = read_deals(HOURGLASS, until=pd.Timestamp("2026-01-07"))
    assert deals.set_aside == 2  # deal 1's try and buy
    v = deals.visits
    trust = v[(v["deal"] == "1") & (v["stage"] == 2)].iloc[0]
    assert trust["status"] == "open" and pd.isna(trust["left"])
    assert deals.until == 6.0


# file -> (fatal, the words the user must see)
EXPECTED = {
    "missing_column.csv": (True, "missing column(s) 'stage' (stage); the file has 'deal_id'"),
    "nothing_usable.csv": (True, "column 'entered_at': unparseable date (rows 2, 3, 4"),
    "unparseable_date.csv": (
        False,
        "1 row skipped: column 'entered_at': unparseable date (rows 3)",
    ),
    "duplicate_rows.csv": (False, "1 row skipped: duplicate of an earlier row (rows 5)"),
    "stages_out_of_order.csv": (
        False,
        "2 rows skipped: column 'stage': stages out of order within the deal (rows 7, 8)",
    ),
    "unknown_stage.csv": (False, "column 'stage': stage not in the mapping (negotiation) (rows 4)"),
    "left_before_entered.csv": (
        False,
        "column 'left_at': leaves the stage before entering it (rows 2)",
    ),
    "unknown_outcome.csv": (
        False,
        "column 'outcome': outcome is not one of won, lost, open (rows 7)",
    ),
    "negative_amount.csv": (False, "1 row skipped: column 'amount': negative amount (rows 3)"),
    "amount_not_number.csv": (False, "1 row skipped: column 'amount': not a number (rows 4)"),
    "missing_amount_column.csv": (True, "missing column(s) 'amount' (amount)"),
    "unknown_mapping_key.yaml": (True, "deals: unknown key 'stag'; did you mean 'stage'?"),
}


def test_every_bad_file_has_an_expectation():
    assert sorted(p.name for p in BAD.iterdir()) == sorted(EXPECTED)


def _read(path: Path):
    text = path.read_text()
    if path.suffix == ".yaml":
        return load_mapping(text, path.name)
    if "amount" in path.name:
        return read_transactions(text, name=path.name)
    return read_deals(text, name=path.name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_says_which_rows_column_and_why(name: str):
    fatal, words = EXPECTED[name]
    if fatal:
        with pytest.raises(DataError) as err:
            _read(BAD / name)
        message = str(err.value)
    else:
        message = "\n".join(_read(BAD / name).skipped.lines())
    assert message.startswith(f"{name}: "), message
    assert words in message, message


def test_every_row_is_accounted_for():
    """Rows read = rows kept + rows skipped, reason by reason."""
    deals = read_deals((BAD / "unknown_stage.csv").read_text())
    assert deals.skipped.rows == 8
    assert deals.skipped.count + 7 == 8
    assert len(deals.visits) == 7


def test_export_writes_a_run_as_a_deal_history(tmp_path):
    """Every visit becomes a row; a buyer's deal is won, a lost one carries its reason."""
    scenario = make_scenario(
        horizon_days=20.0,
        stages={
            name: {"pass_prob": 0.7, "duration": {"exponential": {"mean_days": 1.0}}}
            for name in ("know", "like", "trust", "try", "buy")
        },
    )
    run = simulate(scenario, 2)
    deals = export_deals(run)
    assert len(deals) == len(run.log.visits["stage"])
    won = deals.groupby("deal_id")["outcome"].first() == "won"
    assert won.sum() == (run.log.purchases["kind"] == 0).sum()
    lost = deals[deals["outcome"] == "lost"]
    assert (lost["loss_reason"] != "").all()
    back = read_deals(deals.to_csv(index=False))
    assert back.skipped.count == 0 and len(back.visits) == len(deals)
    tx = export_transactions(run)
    assert len(tx) == len(run.log.purchases["time"])
    assert read_transactions(tx.to_csv(index=False)).skipped.count == 0


def test_bytes_with_a_byte_order_mark_read_like_text():
    """The dashboard hands over uploaded bytes: a BOM and ';' separators are fine."""
    upload = ("\ufeff" + BITRIX24).encode("utf-8")
    pd.testing.assert_frame_equal(_shape(upload), _shape(BITRIX24))


def test_a_column_per_stage_keeps_the_file_lines():
    """HubSpot's one row per deal: a bad date in a stage column names the deal's line."""
    broken = HUBSPOT.replace("2026-01-04 00:00,2026-01-05 00:00", "2026-01-04 00:00,soon", 1)
    deals = read_deals(broken)
    assert deals.skipped.lines() == [
        "deals: 1 row skipped: column 'Date exited': unparseable date (rows 3)"
    ]


def _export_with_an_unmapped_stage(n: int, seed: int) -> str:
    """Deals know -> like -> demo (not in the mapping) -> trust -> won, with losses at each.

    Like passes 60% of its decided deals; half the deals that reach demo are lost there, a
    few are still in it, and one in ten deals is still open at like.
    """
    rng = np.random.default_rng(seed)
    lines = ["deal_id,stage,entered_at,left_at,outcome"]
    start = pd.Timestamp("2025-01-01")
    for deal in range(n):
        day = start + pd.Timedelta(days=float(rng.uniform(0, 300)))
        path, outcome = ["know"], "lost"
        if rng.random() < 0.7:
            path.append("like")
            fate = rng.random()
            if fate < 0.1:
                outcome = "open"
            elif fate < 0.1 + 0.9 * 0.6:
                path.append("demo")
                step = rng.random()
                outcome = "won" if step < 0.45 else ("open" if step < 0.55 else "lost")
                if outcome == "won":
                    path.append("trust")
        stamps = [day + pd.Timedelta(days=float(d)) for d in np.cumsum(rng.exponential(3, 5))]
        for k, stage in enumerate(path):
            still = outcome == "open" and k == len(path) - 1
            left = "" if still else f"{stamps[k + 1]:%Y-%m-%d %H:%M}"
            lines.append(f"{deal},{stage},{stamps[k]:%Y-%m-%d %H:%M},{left},{outcome}")
    return "\n".join(lines) + "\n"


def test_a_stage_left_out_of_the_mapping_does_not_bias_the_stage_before():
    """Deals that went on to an unmapped stage passed like: its pass probability stays 0.6.

    Before, those lost in the unmapped stage counted as lost at like (about 0.43).
    """
    text = _export_with_an_unmapped_stage(2000, seed=5)
    cal = calibrate(read_deals(text, today=pd.Timestamp("2026-06-01")))
    like = next(s for s in cal.stages if s.stage == "like")
    se = (0.6 * 0.4 / (like.passed + like.lost)) ** 0.5
    assert abs(like.pass_prob.value - 0.6) < 4 * se
    assert any(
        "moved on from their last mapped stage to stages the mapping leaves out (demo)" in note
        for note in cal.notes
    )
