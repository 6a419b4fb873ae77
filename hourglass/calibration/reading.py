"""The user's data files read safely: a size limit before reading, the encoding found, a table.

The command line and the dashboard read exports the same way: bytes (at most MAX_CSV_BYTES),
decoded in the encoding they were written in, then split into a table of strings.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import pandas as pd

from hourglass.calibration.mapping import DataError
from hourglass.config.reasons import os_reason
from hourglass.i18n import _, grouped

MAX_CSV_BYTES = 500_000_000
"""Larger CSV files are refused before they are read."""

ENCODINGS = ("cp1251", "cp1252", "utf_16_le", "utf_16_be")
"""What a file that is not UTF-8 may be in: Windows Cyrillic (Bitrix24 and other Russian
exports), Windows Western (Excel), and UTF-16 without a byte order mark."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SAMPLE = 1_000_000
"""Bytes the encoding is guessed from."""


@dataclass(frozen=True)
class Table:
    """A CSV file as strings, and the encoding its bytes were read in."""

    frame: pd.DataFrame
    encoding: str


def read_bytes(path: Path, limit: int = MAX_CSV_BYTES) -> bytes:
    """A data file's bytes: a regular file of at most `limit` bytes, else DataError."""
    try:
        if not path.exists():
            raise DataError(_("{source}: no such file").format(source=path))
        if path.is_dir():
            raise DataError(_("{path}: is a folder, not a file").format(path=path))
        if not path.is_file():
            raise DataError(
                _("{path}: not a regular file (a device or a pipe); give a CSV file").format(
                    path=path
                )
            )
        size = path.stat().st_size
        if size > limit:
            raise DataError(_too_big(path, size, limit))
        with path.open("rb") as handle:
            data = handle.read(limit + 1)  # a file that grows while read stops at the limit
    except OSError as e:
        raise DataError(
            _("{source}: cannot read: {reason}").format(source=path, reason=os_reason(e))
        ) from None
    if len(data) > limit:
        raise DataError(_too_big(path, len(data), limit))
    return data


def _too_big(path: Path | str, size: int, limit: int) -> str:
    return _(
        "{path}: {size} bytes; the limit is {limit} bytes ({megabytes} MB): export a shorter "
        "period, or split the file"
    ).format(
        path=path, size=grouped(size), limit=grouped(limit), megabytes=grouped(limit // 1_000_000)
    )


def decode(data: bytes, name: str) -> tuple[str, str]:
    """The text of a file's bytes and the encoding used: by byte order mark, UTF-8, or guessed."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _decoded(data, codec, name), codec
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = charset_normalizer.from_bytes(data[:_SAMPLE], cp_isolation=list(ENCODINGS)).best()
    if guess is None:
        tried = ", ".join(("utf-8", *ENCODINGS))
        raise DataError(
            _("{file}: not text in any encoding tried ({tried}); save it as UTF-8 CSV").format(
                file=name, tried=tried
            )
        )
    codec = codecs.lookup(guess.encoding).name
    return _decoded(data, codec, name), codec


def _decoded(data: bytes, codec: str, name: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as e:
        raise DataError(
            _(
                "{file}: read as {codec}, but byte {byte} is not {codec}; save it as UTF-8 CSV"
            ).format(file=name, codec=codec, byte=grouped(e.start))
        ) from None


def read_table(data: str | bytes, name: str) -> Table:
    """CSV text or bytes as a table of strings, split at the header's commonest of , ; tab."""
    if isinstance(data, bytes):
        if len(data) > MAX_CSV_BYTES:
            raise DataError(_too_big(name, len(data), MAX_CSV_BYTES))
        text, encoding = decode(data, name)
    else:
        text, encoding = data, "text"
    text = text.removeprefix("\ufeff")
    header = text.split("\n", 1)[0]
    sep = max((",", ";", "\t"), key=header.count)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(
            _("{file}: not a readable CSV table: {problem}").format(file=name, problem=err)
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return Table(frame, encoding)
