"""Subscriber lists: read ``.csv`` / ``.txt`` / ``.xlsx`` files and build a campaign's audience.

A list is a table with a header row and a phone column (``phone``, ``Số điện thoại``, ``SĐT``…:
see :mod:`dispatcher.audience.list_headers`); every other column is kept as text for message
templates. Text files are read in the encoding their bytes show
(:mod:`dispatcher.audience.list_encoding`). Problems that make a whole file unusable raise
:class:`BadInput`; problems with single rows (a bad number, a repeat, an opted-out number) are
sorted into the :class:`Audience` so they can be reported without stopping the campaign.
"""

from __future__ import annotations

import csv
import itertools
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

from dispatcher.audience.list_encoding import decode_problem, detect_encoding, open_bytes
from dispatcher.audience.list_headers import MAX_COLUMNS, PHONE_COLUMN, column_names
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.text import control_character

__all__ = [
    "MAX_COLUMNS",
    "PHONE_COLUMN",
    "DuplicateRow",
    "ExcludedRow",
    "ListRow",
    "RejectedRow",
    "Subscriber",
    "display_path",
    "read_list",
    "read_rows",
    "read_table",
]

_DELIMITERS = (",", ";", "\t")
# Excel's "Unicode text" is a .txt; a CSV from elsewhere is sometimes named so too.
TEXT_SUFFIXES = (".csv", ".txt")


@dataclass(frozen=True, slots=True)
class ListRow:
    """One non-blank data row of a list, before its number is checked."""

    line: int
    phone: str
    fields: dict[str, str] = field(hash=False)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A recipient: E.164 number, where it came from, and the other columns for templates."""

    phone: str
    file: str
    line: int
    fields: dict[str, str] = field(hash=False)


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row whose phone cell is not a usable mobile number; ``reason`` says why."""

    file: str
    line: int
    raw: str
    reason: str


@dataclass(frozen=True, slots=True)
class DuplicateRow:
    """A row repeating a number already seen at ``first_file:first_line``."""

    file: str
    line: int
    phone: str
    first_file: str
    first_line: int


@dataclass(frozen=True, slots=True)
class ExcludedRow:
    """A row whose number is on an exclusion (opt-out) list at ``excluded_by_file:…_line``."""

    file: str
    line: int
    phone: str
    excluded_by_file: str
    excluded_by_line: int


def display_path(path: Path, base: Path | None = None) -> str:
    """``path`` as shown to people: relative to ``base`` when it lies under it, with ``/``."""
    if base is not None:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def read_list(
    path: Path, display: str | None = None, columns: Collection[str] | None = None
) -> Iterator[ListRow]:
    """Yield the non-blank data rows of a ``.csv``, ``.txt`` or ``.xlsx`` list, streaming.

    The same as :func:`read_rows`, as :class:`ListRow` objects.
    """
    return itertools.starmap(ListRow, read_rows(path, display, columns))


def read_rows(
    path: Path, display: str | None = None, columns: Collection[str] | None = None
) -> Iterator[tuple[int, str, dict[str, str]]]:
    """Yield ``(line, phone, fields)`` for each non-blank data row of a list, streaming.

    Plain tuples: no object per row to build, which counts on a million-row list.

    ``display`` names the file in errors (default: ``path``). ``columns`` limits the fields kept
    besides the phone (default: all of them; a message template needs only its own). Line
    numbers are 1-based file lines (the header is line 1) or sheet row numbers. Raises
    :class:`BadInput` for a file that cannot be used: missing, unreadable, in no encoding that
    can be told (see :func:`~dispatcher.audience.list_encoding.detect_encoding`), unknown type,
    empty, or without a phone column (an unknown type at once, the others while the rows are
    iterated).
    """
    display = display or path.as_posix()
    return _table_rows(_rows_of(path, display, "list"), display, columns)


def read_table(path: Path, display: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """``(line, cells)`` of a ``.csv``, ``.txt`` or ``.xlsx`` table, header included, with the
    same checks as a list (encoding, size, width, damaged files: :class:`BadInput` naming it)."""
    display = display or path.as_posix()
    return _rows_of(path, display, "file")


def _rows_of(path: Path, display: str, kind: str) -> Iterator[tuple[int, list[str]]]:
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return _csv_rows(path, display)
    if suffix == ".xlsx":
        return _xlsx_rows(path, display)
    message = f"unknown {kind} type {suffix or '(none)'!r}: use .csv, .txt or .xlsx"
    raise BadInput(Problem(message, file=display))


def _table_rows(
    rows: Iterator[tuple[int, list[str]]], display: str, columns: Collection[str] | None = None
) -> Iterator[tuple[int, str, dict[str, str]]]:
    """Turn ``(line, cells)`` pairs into rows, taking the first non-blank row as the header."""
    header_line, header = next(((line, cells) for line, cells in rows if any(cells)), (0, []))
    if not header:
        message = "the file is empty: a header row with a phone column is needed"
        raise BadInput(Problem(message, file=display))
    names, phone_at = column_names(header, header_line, display)
    others = [
        (at, name)
        for at, name in enumerate(names)
        if name and at != phone_at and (columns is None or name in columns)
    ]
    for line, cells in rows:
        if not any(cells):
            continue
        if (found := control_character("\t".join(cells))) is not None:
            raise BadInput(Problem(_control_message(cells, names, found), display, line))
        if len(cells) < len(names):
            # Missing trailing cells read as "" so templates always find every column.
            cells = cells + [""] * (len(names) - len(cells))
        fields = {name: cells[at] for at, name in others} if others else {}
        yield line, cells[phone_at], fields


def _control_message(cells: list[str], names: list[str], found: str) -> str:
    column = next(
        (names[at] if at < len(names) else f"column {at + 1}")
        for at, cell in enumerate(cells)
        if control_character(cell)
    )
    return (
        f"{column!r}: the control character {found} is not text (a damaged file, or saved in "
        "another encoding): fix the cell"
    )


# --- CSV ----------------------------------------------------------------------------------------


def _csv_rows(path: Path, display: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(first line of the record, stripped cells)``; blank lines come out as ``[]``."""
    codec = detect_encoding(path, display)
    with _open_text(path, display, codec) as stream:
        try:
            yield from _csv_records(map(_nfc, stream), display)
        except UnicodeDecodeError as exc:
            raise decode_problem(path, display, codec) from exc


def _nfc(line: str) -> str:
    # Windows-1258 writes most tone marks as separate characters (and a Mac may too, in UTF-8):
    # composed, a name compares, counts and renders as the same name typed elsewhere.
    return line if line.isascii() else unicodedata.normalize("NFC", line)


def _csv_records(lines: Iterator[str], display: str) -> Iterator[tuple[int, list[str]]]:
    lead = _leading_blank_lines(lines)
    if not _has_content(lead[-1]):
        return  # only blank lines: _table_rows reports the file as empty
    reader = csv.reader(itertools.chain(lead, lines), delimiter=_sniff(lead[-1]))
    width = end = 0
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            cells = [cell.strip() for cell in record]
            if not width:
                width = len(cells) if any(cells) else 0
            elif len(cells) > width:
                _check_width(cells, width, display, start)
            yield start, cells
    except csv.Error as exc:
        raise BadInput(Problem(f"not a readable CSV file: {exc}", display, end + 1)) from exc


def _leading_blank_lines(lines: Iterator[str]) -> list[str]:
    """Consume lines up to and including the first one with content (the header), if any."""
    lead: list[str] = []
    for text in lines:
        lead.append(text)
        if _has_content(text):
            break
    return lead or [""]


def _has_content(line: str) -> bool:
    # Spreadsheets export empty rows as a run of separators.
    return bool(line.strip(" \r\n" + "".join(_DELIMITERS)))


def _open_text(path: Path, display: str, codec: str) -> IO[str]:
    """Open for reading as ``codec`` text; failures become BadInput."""
    try:
        # The codecs drop a BOM (utf-8-sig, utf-16); newline="" is what the csv module expects.
        return path.open("r", encoding=codec, newline="")
    except OSError as exc:
        raise BadInput(Problem(f"cannot read the file ({exc.strerror})", file=display)) from exc


def _sniff(header: str) -> str:
    # The header holds only column names, so the separator is simply its most frequent candidate;
    # csv.Sniffer guesses wrongly on one line and on Vietnamese text.
    counts = {delimiter: header.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _check_width(cells: list[str], width: int, display: str, line: int) -> None:
    # Trailing empty cells (a stray separator) are harmless; a value beyond the last named column
    # usually means an unquoted separator shifted the row, so the row cannot be trusted.
    if width and len(cells) > width and any(cells[width:]):
        message = f"{len(cells)} cells but the header has {width} columns (unquoted separator?)"
        raise BadInput(Problem(message, file=display, line=line))


# --- XLSX ---------------------------------------------------------------------------------------


# An .xlsx is a zip of XML. What it may unpack to is checked before openpyxl reads it: a zip bomb
# (310 KB that unpacks to gigabytes) or a sheet no office list needs would take the machine.
MAX_XLSX_UNPACKED = 400_000_000  # bytes of XML in all; a million-row list is ~150 MB
MAX_XLSX_RATIO = 200  # unpacked / packed, per member; sheet XML packs ~10-30 times
# What openpyxl raises on a damaged workbook while reading it (the XML parser's own errors).
_XLSX_ERRORS = (ElementTree.ParseError, ValueError, KeyError, TypeError, EOFError, zlib.error)


def _xlsx_rows(path: Path, display: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(row number, cells as text)`` from the first sheet; empty rows come out blank."""
    if not path.is_file():
        with open_bytes(path, display):  # the same errors as for a CSV file
            pass
    _check_unpacked_size(path, display)
    try:
        yield from _sheet_rows(path, display)
    except (*_XLSX_ERRORS, zipfile.BadZipFile) as exc:
        raise BadInput(Problem(f"not a readable .xlsx file ({exc})", file=display)) from exc


def _check_unpacked_size(path: Path, display: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadInput(Problem(f"not a readable .xlsx file ({exc})", file=display)) from exc
    unpacked = sum(m.file_size for m in members)
    ratio = max((m.file_size / max(m.compress_size, 1) for m in members), default=0)
    if unpacked > MAX_XLSX_UNPACKED or (ratio > MAX_XLSX_RATIO and unpacked > 10_000_000):
        message = (
            f"refused: it unpacks to {unpacked / 1e6:,.0f} MB ({ratio:,.0f} times its size); "
            f"a list is at most {MAX_XLSX_UNPACKED / 1e6:,.0f} MB of sheet data: save it as CSV"
        )
        raise BadInput(Problem(message, file=display))


def _sheet_rows(path: Path, display: str) -> Iterator[tuple[int, list[str]]]:
    # Imported here: openpyxl (and numpy, which it loads) is a third of `validate`'s start-up,
    # and most lists are CSV.
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    # The file is ours to close: openpyxl leaves it open when a damaged workbook stops it.
    with open_bytes(path, display) as handle:
        try:
            with warnings.catch_warnings():
                # openpyxl warns about Excel features it does not keep (styles, data
                # validation); only cell values are read here, so those are noise for the user.
                warnings.simplefilter("ignore", UserWarning)
                workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, OSError, *_XLSX_ERRORS) as exc:
            raise BadInput(Problem(f"not a readable .xlsx file ({exc})", file=display)) from exc
        try:
            sheet = workbook.worksheets[0]
            # Some exporters write a wrong <dimension> (e.g. "A1"), which read-only mode
            # trusts and would cut the sheet short; forgetting it reads every stored row.
            sheet.reset_dimensions()
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, _cell_texts(values)
        finally:
            workbook.close()


def _cell_texts(values: Iterable[Any]) -> list[str]:
    return [_cell_text(value) for value in values]


def _cell_text(value: Any) -> str:
    """A cell value as the text a person sees (no ``.0`` on whole numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()
