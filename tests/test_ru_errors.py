"""PyYAML's and the operating system's reasons, said in the reader's language."""

# ruff: noqa: RUF001  (Russian words hold Cyrillic letters that look Latin)

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest

from hourglass.config.reasons import os_reason
from hourglass.i18n import language
from tests.helpers import exits_2_saying, make_scenario

# fmt: off
YAML_CASES = {
    "colon": (
        "name: a\ndescription: one: two\n",
        "line 2: not valid YAML: a colon at column 17 is not allowed here; put text that "
        "holds ': ' in quotes",
        "строка 2: ошибка в YAML: двоеточие в столбце 17 здесь недопустимо; текст с «: » "
        "возьмите в кавычки",
    ),
    "no colon": (
        "name: a\nhorizon_days\nseed: 1\n",
        "line 3: not valid YAML: the text at line 2, column 1 has no ':' after it",
        "строка 3: ошибка в YAML: после текста в строке 2, столбце 1 нет «:»",
    ),
    "tab": (
        "name: a\n\thorizon_days: 30\n",
        "line 2: not valid YAML: a tab at column 1; indent with spaces, not tabs",
        "строка 2: ошибка в YAML: табуляция в столбце 1; делайте отступы пробелами",
    ),
    "character": (
        "name: a\ndescription: @home\n",
        "line 2: not valid YAML: the character '@' at column 14 cannot start a value",
        "строка 2: ошибка в YAML: с символа «@» в столбце 14 значение начинаться не может",
    ),
    "mapping indent": (
        "name: a\nstages:\n  know: {}\n like: {}\n",
        "line 4: not valid YAML: the line starting at column 2 is indented unlike the keys "
        "above it",
        "строка 4: ошибка в YAML: отступ строки, начинающейся в столбце 2, не совпадает с "
        "отступом ключей выше",
    ),
    "list indent": (
        "name: a\nchannels:\n  - one\n  two: 2\n",
        "line 4: not valid YAML: the line starting at column 3 is indented unlike the list "
        "items above it",
        "строка 4: ошибка в YAML: отступ строки, начинающейся в столбце 3, не совпадает с "
        "отступом элементов списка выше",
    ),
    "list open": (
        "name: a\nhorizon_days: [30\nseed: 1\n",
        "line 3: not valid YAML: the list opened with '[' at line 2, column 15 is never "
        "closed with ']', or a comma is missing",
        "строка 3: ошибка в YAML: список, открытый «[» в строке 2, столбце 15, не закрыт «]», "
        "или пропущена запятая",
    ),
    "mapping open": (
        "name: a\nstages: {know: 1\n",
        "line 3: not valid YAML: the mapping opened with a curly brace at line 2, column 9 "
        "is never closed",
        "строка 3: ошибка в YAML: словарь, открытый фигурной скобкой в строке 2, столбце 9, "
        "не закрыт",
    ),
    "quote": (
        "name: 'a\nseed: 1\n",
        "line 3: not valid YAML: the quote at line 1, column 7 is never closed",
        "строка 3: ошибка в YAML: кавычка в строке 1, столбце 7 не закрыта",
    ),
    "escape": (
        'name: "a\\q"\n',
        "line 1: not valid YAML: \\q at column 10 is no escape YAML knows in double quotes; "
        "write a backslash as \\\\ or put the text in single quotes",
        "строка 1: ошибка в YAML: в YAML нет управляющей последовательности \\q (столбец 10); "
        "обратную косую черту в двойных кавычках пишите как \\\\",
    ),
    "tag": (
        "name: !!python/object:os.system a\n",
        "line 1: not valid YAML: the tag tag:yaml.org,2002:python/object:os.system at "
        "column 7 is not allowed",
        "строка 1: ошибка в YAML: тег tag:yaml.org,2002:python/object:os.system в столбце 7 "
        "недопустим",
    ),
    "alias": (
        "name: *nothing\n",
        "line 1: not valid YAML: the alias *nothing at column 7 names no anchor &nothing",
        "строка 1: ошибка в YAML: псевдоним *nothing в столбце 7 не ссылается ни на один "
        "якорь &nothing",
    ),
    "anchor": (
        "name: &x a\ndescription: &x b\n",
        "line 2: not valid YAML: the anchor &x at column 14 is already set above",
        "строка 2: ошибка в YAML: якорь &x в столбце 14 уже задан выше",
    ),
    "document": (
        "name: a\n---\nname: b\n",
        "line 2: not valid YAML: a second document ('---') starts here",
        "строка 2: ошибка в YAML: здесь начинается второй документ («---»)",
    ),
}
# fmt: on


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("case", sorted(YAML_CASES))
def test_yaml_problem_is_said_in_the_readers_language(tmp_path: Path, case: str, lang: str):
    text, english, russian = YAML_CASES[case]
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    words = f"{path}: " + (english if lang == "en" else russian)
    exits_2_saying(["--lang", lang, "check", str(path)], words)


def test_an_unknown_yaml_problem_keeps_pyyamls_words_after_the_russian_lead(tmp_path: Path):
    path = tmp_path / "scenario.yaml"
    path.write_bytes(b"name: a\x07\n")
    exits_2_saying(
        ["--lang", "ru", "check", str(path)],
        f"{path}: строка 1: ошибка в YAML: unacceptable character #x0007",
    )


OS_CASES = {
    errno.ENOENT: ("No such file or directory", "нет такого файла или папки"),
    errno.EACCES: ("Permission denied", "нет прав доступа"),
    errno.EISDIR: ("Is a directory", "это папка, а не файл"),
    errno.ENOTDIR: ("Not a directory", "часть пути — не папка"),
    errno.ENOSPC: ("No space left on device", "на диске не осталось места"),
    errno.EROFS: ("Read-only file system", "диск доступен только для чтения"),
}


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("code", sorted(OS_CASES))
def test_out_folder_that_cannot_be_written_says_why_in_the_readers_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, lang: str
):
    def refused(*_args: object, **_kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(make_scenario(horizon_days=5.0).to_yaml(), encoding="utf-8")
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refused)
    out = tmp_path / "out"
    english, russian = OS_CASES[code]
    lead = "cannot write there" if lang == "en" else "туда нельзя записать"
    words = f"--out {out}: {lead}: {english if lang == 'en' else russian}"
    args = ["--lang", lang, "sweep", str(tiny), "--vary", "horizon_days=3,4", "--out", str(out)]
    exits_2_saying(args, words)


def test_out_folder_under_a_file_names_it_in_russian(tmp_path: Path):
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(make_scenario(horizon_days=5.0).to_yaml(), encoding="utf-8")
    out = tiny / "out"
    args = ["--lang", "ru", "sweep", str(tiny), "--vary", "horizon_days=3,4", "--out", str(out)]
    exits_2_saying(args, f"--out {out}: не удалось создать папку: часть пути — не папка")


def test_an_unknown_os_reason_keeps_the_systems_words():
    with language("ru"):
        assert os_reason(OSError(errno.ELOOP, "Too many levels of symbolic links")) == (
            "Too many levels of symbolic links"
        )
        assert os_reason(OSError("no number")) == "no number"


def test_a_sweeps_manifest_that_is_a_folder_is_named_in_russian(tmp_path: Path):
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(make_scenario(horizon_days=5.0).to_yaml(), encoding="utf-8")
    out = tmp_path / "out"
    (out / "manifest.json").mkdir(parents=True)
    args = [
        "--lang",
        "ru",
        "sweep",
        str(tiny),
        "--vary",
        "horizon_days=3,4",
        "--out",
        str(out),
        "--resume",
    ]
    exits_2_saying(
        args,
        f"{out / 'manifest.json'}: не удаётся прочитать манифест перебора: это папка, а не файл",
    )
