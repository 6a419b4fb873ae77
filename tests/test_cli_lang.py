"""The command line in English and Russian, at 80 columns, and quick to start."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.helpers import ROOT, exits_2_saying, run_cli

BASELINE = "scenarios/baseline.yaml"
COMMITTEE = "scenarios/b2b_committee.yaml"
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ALLOWED = {"CAC", "LTV", "ROI", "KPI", "CSV", "JSON", "YAML", "Parquet", "K", "kB", "MB", "GB"}
ALLOWED |= {"p5", "p50", "p90", "p95"}
"""English a Russian reader is shown on purpose: acronyms, units and file formats."""
HEAVY = ("pandas", "numpy", "scipy", "simpy", "plotly", "pydantic", "yaml")


def hourglass(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the real command with `env` added to (or, when empty, removed from) the environment."""
    environ = {k: v for k, v in os.environ.items() if k not in env and k != "HOURGLASS_LANG"}
    environ.update({k: v for k, v in env.items() if v})
    return run_cli(list(args), environ)


def english_words(text: str, *scenario_files: str, typed: frozenset[str] = frozenset()) -> set[str]:
    """The Latin-letter words of `text` outside the allowlist and the scenario files' own words.

    A scenario file's names, channels, loss reasons and description are the user's text, and
    flag names and their values (`typed`) are typed as written; neither is translated.
    """
    own = ALLOWED | typed
    for path in scenario_files:
        own |= set(WORD.findall((ROOT / path).read_text(encoding="utf-8")))
        own.add(path)
    flags = {w for w in re.findall(r"--([a-z-]+)", text)}
    text = re.sub(r"scenarios/\S+\.yaml", " ", text)
    return {w for w in WORD.findall(text) if w not in own and w not in flags}


def test_russian_run_check_compare_and_an_error_hold_no_english_words():
    run = hourglass("--lang", "ru", "run", BASELINE, "--seed", "1", "--backend", "serial")
    assert run.returncode == 0, run.stderr
    assert "зерно 1, 1 повтор" in run.stdout and "Этапы" in run.stdout
    assert "Покупатели" in run.stdout and "Знать" in run.stdout
    check = hourglass("--lang", "ru", "check", COMMITTEE)
    assert check.returncode == 0, check.stderr
    assert "в порядке: 'b2b_committee', 730 дн., рынок 4\N{NO-BREAK SPACE}000" in check.stdout
    assert "работа: на прогон около 1\N{NO-BREAK SPACE}705 потенц. клиентов" in check.stdout
    others = ("scenarios/no_referrals.yaml",)
    compare = hourglass(
        "--lang", "ru", "compare", BASELINE, *others, "--reps", "2", "--seed", "1",
        "--backend", "serial",
    )  # fmt: skip
    assert compare.returncode == 0, compare.stderr
    assert "Относительно baseline: парных повторов — 2, зерно 1" in compare.stdout
    assert "no_referrals: покупатели — на " in compare.stdout
    error = hourglass("--lang", "ru", "run", BASELINE, "--backend", "nope")
    assert error.returncode == 2
    assert error.stderr.startswith("ошибка: --backend nope: укажите одно из: serial")
    assert english_words(run.stdout, BASELINE) == set()
    assert english_words(check.stdout, COMMITTEE) == set()
    assert english_words(compare.stdout, BASELINE, *others) == set()
    backends = frozenset({"nope", "serial", "processes", "dask"})
    assert english_words(error.stderr, typed=backends) == set()


def test_machine_output_is_the_same_in_both_languages():
    args = ("run", "scenarios/referral_driven.yaml", "--json", "--seed", "1")
    russian = hourglass("--lang", "ru", *args)
    assert russian.returncode == 0, russian.stderr
    golden = (ROOT / "tests" / "golden" / "referral_driven.json").read_text(encoding="utf-8")
    assert russian.stdout == golden


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HOURGLASS_LANG": "ru", "LC_ALL": "", "LC_MESSAGES": "", "LANG": ""}, "в порядке"),
        ({"LC_ALL": "", "LC_MESSAGES": "", "LANG": "ru_RU.UTF-8"}, "в порядке"),
        ({"LC_ALL": "", "LC_MESSAGES": "ru_RU.UTF-8", "LANG": "en_GB.UTF-8"}, "в порядке"),
        ({"LC_ALL": "C.UTF-8", "LC_MESSAGES": "", "LANG": "ru_RU.UTF-8"}, ": ok: "),
        ({"LC_ALL": "", "LC_MESSAGES": "", "LANG": ""}, ": ok: "),
    ],
)
def test_the_language_comes_from_the_variable_else_the_locale(env, expected):
    result = hourglass("check", BASELINE, **env)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


def test_lang_wins_over_the_variable_and_the_locale():
    result = hourglass("--lang", "en", "check", BASELINE, HOURGLASS_LANG="ru", LANG="ru_RU")
    assert ": ok: " in result.stdout


def test_an_unknown_language_is_refused_naming_the_choices():
    exits_2_saying(
        ["--lang", "de", "check", BASELINE], "--lang de: the language must be one of en, ru"
    )
    result = hourglass("check", BASELINE, HOURGLASS_LANG="fr")
    assert result.returncode == 2
    assert "HOURGLASS_LANG=fr: the language must be one of en, ru" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_is_written_in_the_language_asked_for():
    russian = hourglass("--lang", "ru", "run", "--help", COLUMNS="200")
    assert "Смоделировать сценарий и вывести таблицу этапов и KPI." in russian.stdout
    assert "Зерно генератора (по умолчанию — из файла)." in russian.stdout
    english = hourglass("run", "--help", LANG="C.UTF-8", COLUMNS="200")
    assert "Simulate a scenario and print its stage table and KPIs." in english.stdout


def _fits(text: str, headings: list[str]) -> None:
    """Each line within 80 columns, nothing cut short, and every word of each heading shown."""
    assert all(len(line) <= 80 for line in text.splitlines()), max(text.splitlines(), key=len)
    assert "…" not in text
    shown = set(re.findall(r"\S+", text))
    for heading in headings:
        assert set(heading.split()) <= shown, heading


@pytest.mark.parametrize(
    ("lang", "headings"),
    [
        (
            "en",
            [
                *("stage", "entered", "passed %", "mean days", "p90 days", "main loss", "KPI"),
                *("role", "deals reached", "share of ended", "let through", "win rate [95% CI]"),
                *("cycle p50 days", "cycle p90 days", "Seller utilisation"),
            ],
        ),
        (
            "ru",
            [
                *("этап", "вошли", "прошли, %", "дней, ср.", "дней, p90", "главная потеря"),  # noqa: RUF001
                *("роль", "сделок дошло", "доля сорванных", "доля выигранных [95% ДИ]"),
                *("цикл p90, дн.", "Загрузка продавцов", "Рекомендовать", "Попробовать"),
            ],
        ),
    ],
)
def test_every_run_table_fits_80_columns(lang, headings):
    result = hourglass("--lang", lang, "run", COMMITTEE, "--seed", "1", "--backend", "serial",
                       COLUMNS="80")  # fmt: skip
    assert result.returncode == 0, result.stderr
    _fits(result.stdout, headings)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_sweep_and_banded_tables_fit_80_columns(lang):
    vary = "referral.win_prob=0.2,0.5"
    sweep = hourglass("--lang", lang, "sweep", "scenarios/referral_driven.yaml", "--vary", vary,
                      "--reps", "2", "--backend", "serial", COLUMNS="80")  # fmt: skip
    assert sweep.returncode == 0, sweep.stderr
    _fits(sweep.stdout, ["referral.win_prob"])
    banded = hourglass("--lang", lang, "run", "scenarios/referral_driven.yaml", "--reps", "2",
                       "--backend", "serial", COLUMNS="80")  # fmt: skip
    assert banded.returncode == 0, banded.stderr
    _fits(banded.stdout, [])
    assert "[p5, p95])" in banded.stdout


def test_help_loads_neither_the_simulator_nor_the_data_libraries():
    code = (
        "import sys\n"
        "sys.argv = ['hourglass', '--help']\n"
        "from hourglass.cli import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Commands" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"
