"""The user's own data files: encodings, date orders, far-off dates, small samples, limits."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hourglass.calibration import (
    DataError,
    calibrate,
    load_mapping,
    read_bytes,
    read_deals,
    report_markdown,
)
from hourglass.calibration.crm import read_transactions
from hourglass.cli import app
from tests.helpers import exits_2_saying
from tests.test_dashboard import open_page

TODAY = pd.Timestamp("2026-06-01")
"""A fixed today, so that no result depends on the day the tests run."""

runner = CliRunner()
SOURCES = ("Яндекс Директ", "Сарафанное радио", "ads")


def _deals(n: int = 300, seed: int = 1, date_format: str = "%Y-%m-%d") -> pd.DataFrame:
    """A 2024-2025 deal history: every deal enters know, half go on to like and are won."""
    rng = np.random.default_rng(seed)
    rows = []
    for deal in range(n):
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 700)))
        out = day + pd.Timedelta(days=float(rng.exponential(4.0)))
        won = deal % 2 == 1
        base = {"deal_id": deal, "source": SOURCES[deal % 3]}
        rows.append(
            base
            | {
                "stage": "know",
                "entered_at": day,
                "left_at": out,
                "outcome": "won" if won else "lost",
            }
        )
        if won:
            done = out + pd.Timedelta(days=float(rng.exponential(2.0)))
            rows.append(
                base | {"stage": "like", "entered_at": out, "left_at": done, "outcome": "won"}
            )
    frame = pd.DataFrame(rows)
    for col in ("entered_at", "left_at"):
        frame[col] = frame[col].dt.strftime(date_format)
    return frame


def _per_day(cal) -> dict[str, float]:
    return {c.channel: c.per_day.value for c in cal.channels}


# -- far-off dates --------------------------------------------------------------------------


def test_a_row_dated_2099_does_not_change_the_arrival_rates():
    clean = _deals()
    typo = pd.concat(
        [
            clean,
            pd.DataFrame(
                [
                    {
                        "deal_id": 999,
                        "stage": "know",
                        "entered_at": "2099-01-05",
                        "left_at": "",
                        "outcome": "",
                        "source": "ads",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    expected = _per_day(calibrate(read_deals(clean.to_csv(index=False), today=TODAY)))
    read = read_deals(typo.to_csv(index=False), today=TODAY)
    assert _per_day(calibrate(read)) == pytest.approx(expected, rel=0.01)
    assert read.until < 720
    assert read.warnings == [
        f"deals: 1 row dated after {read.origin + pd.Timedelta(days=read.until):%Y-%m-%d}, long "
        f"after the rest of the file or after today (rows {len(typo) + 1}): left out so that they "
        "do not stretch the calibration period; --until DATE sets the end of the calibration period"
    ]


def test_rows_after_today_are_left_out_and_the_cli_names_them(tmp_path):
    frame = _deals()
    frame.loc[5, ["entered_at", "left_at"]] = ["2027-03-01", "2027-03-02"]
    deals = tmp_path / "deals.csv"
    frame.to_csv(deals, index=False)
    report = tmp_path / "report.md"
    result = runner.invoke(
        app,
        [
            "calibrate",
            "--deals",
            str(deals),
            "-o",
            str(tmp_path / "s.yaml"),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "(rows 7)" in result.output
    assert "--until DATE sets the end" in result.output
    assert "## Warnings" in report.read_text() and "(rows 7)" in report.read_text()


def test_a_transaction_dated_2099_is_left_out():
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "date": ["2025-01-01", "2025-01-03", "2025-02-01", "2025-03-01", "2099-01-01"],
            "amount": 10,
        }
    )
    read = read_transactions(tx.to_csv(index=False), today=TODAY)
    assert read.rows["date"].max() == pd.Timestamp("2025-03-01")
    assert "(rows 6)" in read.warnings[0]


@pytest.mark.parametrize("without", [[], ["left_at"]], ids=["with left_at", "without"])
@pytest.mark.parametrize("year", ["1500", "3000"])
def test_years_1500_and_3000_are_left_out_with_a_warning(year, without):
    frame = _deals().drop(columns=without)
    frame.loc[3, "entered_at"] = f"{year}-01-01"
    if "left_at" in frame:
        frame.loc[3, "left_at"] = ""
    cal = calibrate(read_deals(frame.to_csv(index=False), today=TODAY))
    assert cal.origin.year == 2024 and cal.until_days < 720
    assert any("(rows 5)" in w for w in cal.warnings)


# -- encodings ------------------------------------------------------------------------------


def test_a_cp1251_export_calibrates_with_its_cyrillic_channel_names(tmp_path):
    deals = tmp_path / "bitrix.csv"
    _deals().to_csv(deals, index=False, encoding="cp1251")
    result = runner.invoke(
        app, ["calibrate", "--deals", str(deals), "-o", str(tmp_path / "s.yaml"), "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc["channels"]) == {"yandeks_direkt", "sarafannoe_radio", "ads"}
    assert doc["encodings"] == {str(deals): "cp1251"}


@pytest.mark.parametrize(
    ("encoding", "named"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1251", "cp1251")],
)
def test_each_encoding_reads_the_same_deals(encoding, named):
    frame = _deals(30)
    text = frame.to_csv(index=False)
    read = read_deals(text.encode(encoding), today=TODAY)
    assert read.skipped.encoding == named
    pd.testing.assert_frame_equal(read.visits, read_deals(text, today=TODAY).visits)
    assert set(read.visits["source"]) == set(SOURCES)


# -- day/month order ------------------------------------------------------------------------


def test_day_first_dates_are_read_day_first_in_every_row():
    frame = _deals(60, date_format="%d/%m/%Y")
    read = read_deals(frame.to_csv(index=False), today=TODAY)
    assert read.skipped.count == 0
    iso = read_deals(_deals(60).to_csv(index=False), today=TODAY)
    pd.testing.assert_frame_equal(read.visits, iso.visits)


def test_dates_that_fit_both_orders_are_refused_naming_dayfirst():
    text = "deal_id,stage,entered_at\n1,know,01/02/2026\n2,know,03/04/2026\n"
    with pytest.raises(DataError, match="read both as day/month and as month/day") as err:
        read_deals(text, today=TODAY)
    assert "'dayfirst: true'" in str(err.value) and "'date_format'" in str(err.value)
    mapping = load_mapping("dayfirst: true")
    read = read_deals(text, mapping, today=TODAY)
    assert read.origin == pd.Timestamp("2026-02-01")


def test_a_column_mixing_both_orders_is_refused():
    text = "deal_id,stage,entered_at\n1,know,13/02/2026\n2,know,02/14/2026\n"
    with pytest.raises(DataError, match="no one day/month order fits every date") as err:
        read_deals(text, today=TODAY)
    assert "13/02/2026 (row 2)" in str(err.value) and "02/14/2026 (row 3)" in str(err.value)


# -- small samples --------------------------------------------------------------------------


def test_three_won_deals_do_not_get_a_point_interval():
    text = "deal_id,stage,entered_at,left_at,outcome\n" + "".join(
        f"{d},know,2026-01-0{d},2026-01-0{d + 3},won\n" for d in (1, 2, 3)
    )
    cal = calibrate(read_deals(text, today=TODAY))
    know = cal.stages[0]
    assert know.pass_prob.value == 1.0
    assert know.pass_prob.low == pytest.approx(0.4385, abs=1e-3)
    mean = know.duration.mean_days
    assert mean.value == pytest.approx(3.0, rel=1e-3)
    assert mean.low < 1.5 and mean.high > 8.0
    assert "know: only 3 decided visits (fewer than 20)" in cal.warnings[0]


# -- calibrate's edge cases -----------------------------------------------------------------


def test_only_won_and_lost_rows_are_refused(tmp_path):
    deals = tmp_path / "closed.csv"
    deals.write_text("deal_id,stage,entered_at\n1,won,2025-01-01\n2,lost,2025-01-02\n")
    exits_2_saying(
        ["calibrate", "--deals", str(deals), "-o", str(tmp_path / "s.yaml")],
        "every usable row closes a deal (won or lost)",
    )


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ('date_format: "%"\n', "date_format: '%' is not a date format (stray % in format '%')"),
        ("preset: [a]\n", "preset: '['a']' is not one of hourglass, bitrix24"),
    ],
)
def test_bad_mapping_values_are_named(tmp_path, mapping, words):
    deals, spec = tmp_path / "deals.csv", tmp_path / "map.yaml"
    _deals(10).to_csv(deals, index=False)
    spec.write_text(mapping)
    exits_2_saying(
        [
            "calibrate",
            "--deals",
            str(deals),
            "--mapping",
            str(spec),
            "-o",
            str(tmp_path / "s.yaml"),
        ],
        words,
    )


def test_until_far_after_the_data_names_until(tmp_path):
    deals = tmp_path / "deals.csv"
    _deals(10).to_csv(deals, index=False)
    exits_2_saying(
        [
            "calibrate",
            "--deals",
            str(deals),
            "--until",
            "9999-01-01",
            "-o",
            str(tmp_path / "s.yaml"),
        ],
        "the end of the calibration period (--until) 9999-01-01 is more than 366 days after",
    )


def test_until_with_a_time_zone_is_the_same_instant_in_utc():
    text = _deals(60).to_csv(index=False)
    zoned = calibrate(read_deals(text, until=pd.Timestamp("2025-06-01T03:00+03:00"), today=TODAY))
    plain = calibrate(read_deals(text, until=pd.Timestamp("2025-06-01"), today=TODAY))
    assert zoned.until_days == plain.until_days
    assert _per_day(zoned) == _per_day(plain)


def test_one_transaction_gives_a_fixed_order_value():
    cal = calibrate(
        read_deals(_deals(30).to_csv(index=False), today=TODAY),
        "customer_id,date,amount\n1,2024-05-01,10\n",
    )
    assert cal.scenario.after_sale.order_value.model_dump(exclude_none=True)["fixed"] == {
        "value": 10.0
    }


def test_an_amount_of_1e300_is_skipped_by_name():
    tx = "customer_id,date,amount\n" + "".join(f"{c},2024-05-01,10\n" for c in range(20))
    read = read_transactions(tx + "99,2024-05-02,1e300\n", today=TODAY)
    assert read.skipped.lines() == [
        "transactions: 1 row skipped: column 'amount': amount above 1,000,000,000,000,000 (rows 22)"
    ]


# -- limits ---------------------------------------------------------------------------------


def test_a_2_gb_file_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:
        handle.truncate(2_000_000_000)  # sparse: no disk used, nothing to read
    exits_2_saying(
        ["calibrate", "--deals", str(big), "-o", str(tmp_path / "s.yaml")],
        "2,000,000,000 bytes; the limit is 500,000,000 bytes (500 MB)",
    )


def test_devices_are_refused_unread():
    with pytest.raises(DataError, match="not a regular file"):
        read_bytes(Path("/dev/zero"))


def test_the_dashboard_reads_a_cp1251_upload_and_skips_an_absurd_amount():
    at = open_page("import")
    deals = _deals(60).to_csv(index=False).encode("cp1251")
    tx = "customer_id,date,amount\n" + "".join(f"{c},2024-05-01,10\n" for c in range(20))
    at.file_uploader(key="deals").upload("deals.csv", deals, "text/csv")
    at.file_uploader(key="transactions").upload("tx.csv", (tx + "7,2024-05-03,1e300\n").encode())
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    report = next(c.value for c in at.code if c.value.startswith("# Calibration report"))
    assert "- deals (read as cp1251): 90 rows" in report
    assert "| yandeks_direkt | paid | 20 |" in report
    assert "amount above 1,000,000,000,000,000 (rows 22)" in report


def test_a_seller_named_like_a_markdown_image_is_shown_as_text():
    frame = _deals(30)
    frame["seller"] = "![](http://example.com/pixel.png)"
    report = report_markdown(calibrate(read_deals(frame.to_csv(index=False), today=TODAY)))
    assert "| !\\[\\](http://example.com/pixel.png) |" in report
    assert "![](" not in report


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    days=st.lists(st.dates(date(2000, 1, 1), date(2030, 12, 31)), min_size=1, max_size=8),
    order=st.sampled_from(["%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%y"]),
)
def test_numeric_dates_are_read_right_or_refused_never_swapped(days, order):
    text = "deal_id,stage,entered_at\n" + "".join(
        f"{k},know,{d.strftime(order)}\n" for k, d in enumerate(days)
    )
    try:
        read = read_deals(text, today=pd.Timestamp("2031-01-01"))
    except DataError as err:
        assert "dayfirst" in str(err) or "date_format" in str(err)
        return
    origin = read.origin
    got = sorted((origin + pd.to_timedelta(read.visits["entered"], unit="D")).dt.date)
    kept = read.skipped.count == 0
    assert got == sorted(days) if kept else set(got) <= set(days)


def test_an_until_that_could_be_two_days_is_refused(tmp_path):
    exits_2_saying(
        [
            "calibrate",
            "--deals",
            "tests/data/crm/hourglass.csv",
            "-o",
            str(tmp_path / "s.yaml"),
            "--until",
            "01/02/2026",
        ],
        "--until 01/02/2026: not a date written year first, e.g. 2026-03-31",
    )


def test_a_fit_from_a_small_part_of_the_file_warns_first():
    text = "deal_id,stage,entered_at,left_at,outcome\n" + "".join(
        f"{d},know,{'junk' if d % 4 else '2026-01-05'},2026-01-09,won\n" for d in range(1, 41)
    )
    cal = calibrate(read_deals(text, today=TODAY))
    assert cal.warnings[0] == (
        "deals: 30 of 40 rows skipped, most for column 'entered_at': unparseable date; "
        "the fit rests on the other 10"
    )


def test_a_stage_missing_from_the_mapping_warns_that_the_stage_before_reads_low():
    text = "deal_id,stage,entered_at,left_at,outcome\n" + "".join(
        f"{d},know,2026-01-01,2026-01-03,\n{d},demo,2026-01-03,2026-01-05,won\n"
        for d in range(1, 31)
    )
    warnings = calibrate(read_deals(text, today=TODAY)).warnings
    assert any("rows of stages not in the mapping were skipped" in w for w in warnings)


@pytest.mark.parametrize(
    ("columns", "words"),
    [
        (["deal=stage"], "--column deal=stage: the column 'stage' is already read as stage"),
        (["deal=deal_id", "deal=stage"], "--column deal=stage: deal is given twice"),
    ],
)
def test_a_column_given_twice_or_for_two_fields_is_refused(tmp_path, columns, words):
    flags = [flag for column in columns for flag in ("--column", column)]
    deals = "tests/data/crm/hourglass.csv"
    exits_2_saying(["calibrate", "--deals", deals, "-o", str(tmp_path / "s.yaml"), *flags], words)


# -- deals and transactions from different years ---------------------------------------------


def _purchases(first: str, days: int, n: int = 200) -> pd.DataFrame:
    """Purchases (n) by 40 customers spread over `days` days from `first`."""
    rng = np.random.default_rng(3)
    dates = pd.Timestamp(first) + pd.to_timedelta(np.sort(rng.integers(0, days, n)), unit="D")
    return pd.DataFrame(
        {"customer_id": rng.integers(0, 40, n), "date": dates.strftime("%Y-%m-%d"), "amount": 10}
    )


def test_transactions_that_mostly_miss_the_deals_years_are_named_in_the_warnings(tmp_path):
    """Deals of 2024-2025 and a log of mid-2023 to February 2024: both ranges in the warnings.

    Before, the two were fitted together without a word.
    """
    deals, tx = tmp_path / "deals.csv", tmp_path / "tx.csv"
    _deals().to_csv(deals, index=False)
    _purchases("2023-06-01", 260).to_csv(tx, index=False)
    args = ["calibrate", "--deals", str(deals), "--transactions", str(tx)]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "s.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    warning = next(w for w in json.loads(result.stdout)["warnings"] if "share only" in w)
    assert warning.startswith(f"{tx}: the transactions run from 2023-06-01 to 2024-02-")
    assert f"and the deals ({deals}) from 2024-01-0" in warning
    assert "of the shorter period; check the years in both files" in warning
    old = _write(_purchases("2019-01-01", 300), tmp_path / "old.csv")
    exits_2_saying(
        [*args[:-1], str(old), "-o", str(tmp_path / "s.yaml")],
        "old.csv: the transactions run from 2019-01-0",
    )


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_sources_that_read_alike_are_merged_with_a_warning_naming_both(tmp_path):
    """'Yandex Direct' and 'yandex-direct' make one channel, yandex_direct, and the CLI says so.

    Before, their deals were added together without a word.
    """
    frame = _deals()
    frame["source"] = np.where(frame["deal_id"] % 2 == 0, "Yandex Direct", "yandex-direct")
    deals = _write(frame, tmp_path / "deals.csv")
    result = runner.invoke(
        app, ["calibrate", "--deals", str(deals), "-o", str(tmp_path / "s.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert (
        "warning: sources 'Yandex Direct', 'yandex-direct' read alike and are counted as one "
        "paid channel, yandex_direct; if they are different channels, name them apart in the export"
    ) in result.output
    assert (
        json.loads(
            runner.invoke(
                app, ["calibrate", "--deals", str(deals), "-o", str(tmp_path / "s.yaml"), "--json"]
            ).stdout
        )["channels"]["yandex_direct"]["deals"]
        == 300
    )
