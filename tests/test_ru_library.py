"""The library speaks Russian too: scenario errors, warnings, the command line's own words.

Numbers are written as a Russian reader writes them; machine output keeps one format.
"""

from __future__ import annotations

import pandas as pd
import pytest

from hourglass import ScenarioError, calibrate, load_scenario
from hourglass.analysis.changes import change_table, number_table
from hourglass.config import parse_scenario_text
from hourglass.i18n import language
from hourglass.kpis import KPIS
from tests.helpers import ROOT, exits_2_saying, invoke_cli, run_cli

BAD = ROOT / "tests" / "data" / "bad"
BAD_CRM = ROOT / "tests" / "data" / "bad_crm"
NBSP = "\N{NO-BREAK SPACE}"


def refusal(path, lang: str) -> str:
    with language(lang), pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return str(caught.value)


def test_a_bad_scenario_loaded_in_russian_names_the_file_line_and_field_in_russian():
    path = BAD / "out_of_range.yaml"
    english = refusal(path, "en")
    assert (
        english == f"{path}: line 5: stages.know.pass_prob: Input should be less than or equal to 1"
    )
    russian = refusal(path, "ru")
    assert russian == f"{path}: строка 5: stages.know.pass_prob: значение должно быть не больше 1"


def test_a_misspelt_key_in_russian_keeps_its_did_you_mean():
    russian = refusal(BAD / "unknown_key.yaml", "ru")
    assert "stages.know.pas_prob: неизвестный ключ 'pas_prob'; возможно, имелось в виду " in russian
    assert "'pass_prob'? (допустимые: pass_prob, duration, loss_reasons, budget)" in russian


def test_a_model_check_in_russian_still_points_at_the_field_it_names():
    """A validator's message starts with the path it is about, which joins the error's place."""
    russian = refusal(BAD / "committee_unknown_role.yaml", "ru")
    assert (
        ": строка 17: committee.order.default: роли 'big_bos' нет; возможно, имелось в " in russian
    )


def test_an_uploaded_scenario_refused_in_russian_says_which_field():
    """The dashboard parses uploads under the reader's language: a missing field, in Russian."""
    text = "name: upload\nhorizon_days: 30\n"
    with language("ru"), pytest.raises(ScenarioError) as caught:
        parse_scenario_text(text, "upload.yaml", files=False)
    assert "upload.yaml: строка 1: stages: обязательное поле не задано" in str(caught.value)


def test_the_command_line_in_russian_names_the_field_of_a_bad_scenario():
    exits_2_saying(
        ["--lang", "ru", "run", "tests/data/bad/wrong_type.yaml"],
        "строка 2: horizon_days: значение должно быть числом, а эту строку",  # noqa: RUF001
    )


def test_a_calibration_warning_in_russian():
    text = (BAD_CRM / "unknown_outcome.csv").read_text(encoding="utf-8")
    with language("ru"):
        warnings = calibrate(text).warnings
    assert warnings[0] == (
        "deals: пропущено строк: 1 из 8, больше всего — столбец 'outcome': исход не из списка "
        "won, lost, open; оценка опирается на остальные 7"
    )
    assert warnings[1].startswith("Знать: всего 1 завершённое прохождение (меньше 20)")
    assert warnings[2].startswith("Нравиться: всего 2 завершённых прохождения (меньше 20)")


def test_rows_of_unmapped_stages_are_still_explained_in_russian():
    """The note on unmapped stages is found by its reason, which is now in Russian too."""
    text = (BAD_CRM / "unknown_stage.csv").read_text(encoding="utf-8")
    with language("ru"):
        warnings = calibrate(text).warnings
    assert warnings[1].startswith("deals: строки стадий, которых нет в сопоставлении, пропущены")


def test_the_help_of_the_command_line_speaks_russian_in_its_own_words_too():
    english = run_cli(["--help"])
    assert "Usage:" in english.stdout and "Show this message and exit." in english.stdout
    russian = run_cli(["--lang", "ru", "--help"])
    assert russian.returncode == 0, russian.stderr
    for words in (
        "Использование:",
        "─ Параметры ─",
        "─ Команды ─",
        "Показать эту справку и выйти.",
    ):
        assert words in russian.stdout
    for words in ("Usage", "Options", "Commands", "Show this message"):
        assert words not in russian.stdout


def test_an_unknown_option_is_refused_in_russian():
    exits_2_saying(
        ["--lang", "ru", "run", "--nonsense"],
        "Нет такого параметра: --nonsense (есть такие: --seed)",
    )
    refused = run_cli(["--lang", "ru", "run", "--nonsense"])
    assert "─ Ошибка ─" in refused.stderr
    assert "Справка: 'python -m hourglass.cli run --help'" in refused.stderr
    assert "Использование: python -m hourglass.cli run [ПАРАМЕТРЫ]" in refused.stderr


def test_a_number_out_of_its_range_is_refused_in_russian_inside_and_out():
    exits_2_saying(
        ["--lang", "ru", "run", "--reps", "0"],
        "Недопустимое значение '--reps': значение должно быть не меньше 1",
    )


def test_a_missing_argument_is_refused_in_russian():
    missing = "Не задан параметр '--output' / '-o'."  # noqa: RUF001
    exits_2_saying(["--lang", "ru", "calibrate"], missing)


def test_kpis_are_written_the_russian_way_and_the_english_way_is_unchanged():
    revenue, roi, cac, share = KPIS["revenue"], KPIS["roi"], KPIS["cac"], KPIS["referral_share"]
    assert revenue.format(1_234_567.8) == "1,234,568"
    assert revenue.format(12_345_678.9, compact=True) == "12.35M"
    assert roi.format(0.1234) == "+12.3%" and cac.format(1234.5) == "1,234.50"
    assert KPIS["buyers"].format_delta(12.0, 100.0) == "+12.0%"
    with language("ru"):
        assert revenue.format(1_234_567.8) == f"1{NBSP}234{NBSP}568"
        assert revenue.format(12_345_678.9, compact=True) == "12,35 млн"
        assert roi.format(0.1234) == f"+12,3{NBSP}%"
        assert cac.format(1234.5) == f"1{NBSP}234,50"
        assert KPIS["buyers"].format_delta(12.0, 100.0) == f"+12,0{NBSP}%"
        assert share.format_delta(0.012, 0.07) == "+1,2 п. п."


def test_the_command_line_tables_write_numbers_the_russian_way():
    run = invoke_cli(["--lang", "ru", "run", "baseline", "--seed", "1", "--backend", "serial"])
    assert run.returncode == 0, run.stderr
    assert f"90{NBSP}239" in run.stdout  # prospects who entered know, as in the golden
    assert f"61,0{NBSP}%" in run.stdout  # know's conversion


def comparison() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "scenario": "other",
                "kpi": "revenue",
                "mean": 1_234_567.5,
                "base": 1_000_000.25,
                "delta": 234_567.25,
                "delta_pct": 23.456725,
                "ci_low": 200_000.5,
                "ci_high": 269_134.0,
                "clear": True,
                "improvement": True,
            }
        ]
    )


def test_a_csv_export_keeps_machine_numbers_with_a_point_in_russian():
    """The table on screen is written for the reader; the CSV of it is numbers, with a point."""
    with language("ru"):
        shown = change_table(comparison()).iloc[0]
        exported = number_table(comparison()).to_csv(index=False)
    assert shown["Значение"] == f"1{NBSP}234{NBSP}568"
    assert "1234567.5,1000000.25,234567.25,23.456725,200000.5,269134.0" in exported
    assert NBSP not in exported


def test_calibration_notes_name_stages_in_russian():
    """A Russian reader's calibration notes name the stages in Russian, not by their keys."""
    with language("ru"):
        cal = calibrate((ROOT / "tests/data/crm/hourglass.csv").read_text(encoding="utf-8"))
    stage_notes = [note for note in cal.notes if "время на этапе" in note]
    assert [note.split(":")[0] for note in stage_notes] == ["Доверять", "Попробовать", "Купить"]
