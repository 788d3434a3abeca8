"""Reading real list files from disk and sorting their rows into an audience."""

from __future__ import annotations

import contextlib
import re
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.audience.lists import (
    DuplicateRow,
    ExcludedRow,
    RejectedRow,
    Subscriber,
    read_list,
)
from dispatcher.audience.phones import InvalidPhone, normalize
from dispatcher.core.errors import BadInput
from tests.audiences import Audience, build_audience


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def audience(folder: Path, recipients: list[Path], excludes: Sequence[Path] = ()) -> Audience:
    return build_audience(recipients, excludes, display_base=folder)


def bad_input(paths: list[Path], folder: Path) -> BadInput:
    with pytest.raises(BadInput) as caught:
        build_audience(paths, [], display_base=folder)
    return caught.value


# --- formats ------------------------------------------------------------------------------------


def test_csv_with_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", b"\xef\xbb\xbfphone,name\n0912 345 678,An\n")
    result = audience(tmp_path, [path])
    assert result.valid == [Subscriber("+84912345678", "a.csv", 2, {"name": "An"})]


def test_csv_with_semicolons_and_loose_header(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", " Phone ;Tên; XÃ \n0912 345 678;Hoàng Văn Sáng;Hữu Lễ\n")
    (subscriber,) = audience(tmp_path, [path]).valid
    assert subscriber.fields == {"tên": "Hoàng Văn Sáng", "xã": "Hữu Lễ"}


def test_csv_with_tabs_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "name\tphone\r\nAn\t0912345678\r\nBa\t0987654321\r\n")
    result = audience(tmp_path, [path])
    assert [(s.phone, s.line, s.fields) for s in result.valid] == [
        ("+84912345678", 2, {"name": "An"}),
        ("+84987654321", 3, {"name": "Ba"}),
    ]


def test_quoted_separator_in_a_value(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", 'phone,name\n0912345678,"Lương, Văn Hùng"\n')
    assert audience(tmp_path, [path]).valid[0].fields == {"name": "Lương, Văn Hùng"}


def test_short_rows_get_empty_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "phone,name,commune\n0912345678\n")
    assert audience(tmp_path, [path]).valid[0].fields == {"name": "", "commune": ""}


def test_xlsx(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Phone", "Name", "Age"])
    sheet.append([912345678, "An", 42.0])
    sheet.append([None, None, None])
    sheet.append(["0987 654 321", "Ba", 1.5])
    sheet.append([84381234567.0, "Cư", None])
    sheet.append(["0205 3830 018", "UBND", None])
    workbook.save(tmp_path / "a.xlsx")
    result = audience(tmp_path, [tmp_path / "a.xlsx"])
    assert result.valid == [
        Subscriber("+84912345678", "a.xlsx", 2, {"name": "An", "age": "42"}),
        Subscriber("+84987654321", "a.xlsx", 4, {"name": "Ba", "age": "1.5"}),
        Subscriber("+84381234567", "a.xlsx", 5, {"name": "Cư", "age": ""}),
    ]
    assert result.invalid == [
        RejectedRow("a.xlsx", 6, "0205 3830 018", "landline: cannot receive SMS")
    ]


def test_xlsx_reads_only_the_first_sheet(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    first.append(["phone"])
    first.append(["0912345678"])
    workbook.create_sheet("other").append(["phone", "0987654321"])
    workbook.save(tmp_path / "a.xlsx")
    assert [s.phone for s in audience(tmp_path, [tmp_path / "a.xlsx"]).valid] == ["+84912345678"]


def test_xlsx_header_below_empty_rows_keeps_sheet_row_numbers(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["B3"], sheet["C3"] = "phone", "name"
    sheet["B4"], sheet["C4"] = "0912345678", "An"
    sheet["B6"] = "abc"
    workbook.save(tmp_path / "a.xlsx")
    result = audience(tmp_path, [tmp_path / "a.xlsx"])
    assert [(s.line, s.fields) for s in result.valid] == [(4, {"name": "An"})]
    assert [r.line for r in result.invalid] == [6]


def test_xlsx_with_a_wrong_dimension_tag_is_read_whole(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (["phone"], ["0912345678"], ["0987654321"]):
        sheet.append(row)
    workbook.save(tmp_path / "good.xlsx")
    # Rewrite the sheet as some exporters do, claiming it only holds cell A1.
    with (
        zipfile.ZipFile(tmp_path / "good.xlsx") as source,
        zipfile.ZipFile(tmp_path / "a.xlsx", "w") as target,
    ):
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', data)
            target.writestr(item, data)
    assert len(audience(tmp_path, [tmp_path / "a.xlsx"]).valid) == 2


# --- unusable files -----------------------------------------------------------------------------


def test_missing_phone_column_names_the_file_and_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "list.csv", "Name,Số máy\nAn,0912345678\n")
    error = bad_input([path], tmp_path)
    (problem,) = error.problems
    assert (problem.file, problem.line) == ("list.csv", 1)
    assert str(error) == (
        "list.csv:1: no phone column: name it one of 'phone', 'Số điện thoại', 'SĐT', "
        "'Điện thoại' (columns found: 'name', 'số máy')"
    )


def test_missing_phone_column_in_xlsx(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["số di động", "tên"])
    workbook.save(tmp_path / "a.xlsx")
    assert "columns found: 'số di động', 'tên'" in str(bad_input([tmp_path / "a.xlsx"], tmp_path))


def test_missing_file(tmp_path: Path) -> None:
    assert str(bad_input([tmp_path / "nope.csv"], tmp_path)) == "nope.csv: file not found"


def test_missing_xlsx_file(tmp_path: Path) -> None:
    assert str(bad_input([tmp_path / "nope.xlsx"], tmp_path)) == "nope.xlsx: file not found"


def test_missing_exclude_file_is_fatal_too(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "phone\n0912345678\n")
    with pytest.raises(BadInput, match=r"opt\.csv: file not found"):
        build_audience([path], [tmp_path / "opt.csv"], display_base=tmp_path)


def test_damaged_utf8_names_line_and_byte(tmp_path: Path) -> None:
    # UTF-8 names, then one Windows-1258 "à": a damaged UTF-8 file, not a Windows one.
    content = "phone,name\n0912345678,Hoàng Văn Sáng\n".encode() + b"0987654321,Ho\xe0ng\n"
    path = write(tmp_path, "a.csv", content)
    (problem,) = bad_input([path], tmp_path).problems
    assert (problem.file, problem.line) == ("a.csv", 3)
    bad_byte = content.index(b"Ho\xe0") + len("Ho") + 1  # 1-based, the "à"
    assert f"byte {bad_byte} " in problem.message
    assert "CSV UTF-8" in problem.message


def test_utf16_with_a_bom_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "phone\n0912345678\n".encode("utf-16"))
    assert [s.phone for s in audience(tmp_path, [path]).valid] == ["+84912345678"]


def test_directory_is_not_readable(tmp_path: Path) -> None:
    (tmp_path / "dir.csv").mkdir()
    assert str(bad_input([tmp_path / "dir.csv"], tmp_path)).startswith("dir.csv: cannot read")


@pytest.mark.parametrize("name", ["list.xls", "list.ods", "list"])
def test_unknown_extension(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, "phone\n0912345678\n")
    assert "use .csv, .txt or .xlsx" in str(bad_input([path], tmp_path))


@pytest.mark.parametrize("content", ["", "\n\n", " ,, \n;;\n\t\n\r\n", "\ufeff"])
def test_empty_csv(tmp_path: Path, content: str) -> None:
    path = write(tmp_path, "a.csv", content)
    assert str(bad_input([path], tmp_path)).startswith("a.csv: the file is empty")


def test_empty_xlsx(tmp_path: Path) -> None:
    openpyxl.Workbook().save(tmp_path / "a.xlsx")
    assert "the file is empty" in str(bad_input([tmp_path / "a.xlsx"], tmp_path))


def test_broken_xlsx(tmp_path: Path) -> None:
    path = write(tmp_path, "a.xlsx", "phone\n0912345678\n")
    assert "not a readable .xlsx file" in str(bad_input([path], tmp_path))


def test_header_only_is_an_empty_audience(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "phone,name\n")
    assert audience(tmp_path, [path]) == Audience()


def test_row_wider_than_header(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "phone,name\n0912345678,An\n0987654321,Lương, Văn Hùng\n")
    error = bad_input([path], tmp_path)
    assert str(error) == ("a.csv:3: 3 cells but the header has 2 columns (unquoted separator?)")


def test_trailing_empty_cells_are_tolerated(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "phone,name\n0912345678,An,,\n")
    assert len(audience(tmp_path, [path]).valid) == 1


def test_repeated_column(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "phone,Name,name\n")
    assert "column 'name' appears more than once" in str(bad_input([path], tmp_path))


# --- sorting rows -------------------------------------------------------------------------------


def test_line_numbers_count_blank_and_multiline_rows(tmp_path: Path) -> None:
    content = '\nphone,note\n0912345678,ok\n\n,,\nabc,"two\nlines"\n0521234567,x\n'
    path = write(tmp_path, "a.csv", content)
    result = audience(tmp_path, [path])
    assert result.valid[0].line == 3
    assert result.invalid == [
        RejectedRow("a.csv", 6, "abc", "not a phone number"),
        RejectedRow("a.csv", 8, "0521234567", "not a valid Vietnamese number"),
    ]


def test_empty_phone_cell_is_rejected_not_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "phone,name\n,An\n")
    assert audience(tmp_path, [path]).invalid == [RejectedRow("a.csv", 2, "", "empty")]


def test_duplicates_point_at_the_first_occurrence_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.csv", "phone,name\n0168 123 4567,An\n0912345678,Ba\n")
    second = write(tmp_path, "b.csv", "phone,name\n+84381234567,An again\n84912345678,Ba\n")
    result = audience(tmp_path, [first, second])
    assert [(s.file, s.line) for s in result.valid] == [("a.csv", 2), ("a.csv", 3)]
    assert result.duplicates == [
        DuplicateRow("b.csv", 2, "+84381234567", "a.csv", 2),
        DuplicateRow("b.csv", 3, "+84912345678", "a.csv", 3),
    ]


def test_excluded_numbers_never_reach_valid(tmp_path: Path) -> None:
    recipients = write(tmp_path, "a.csv", "phone\n0912345678\n0987654321\n")
    opted_out = write(tmp_path, "opt.csv", "phone,note\nxyz,typo\n+84 98 765 4321,asked\n")
    result = audience(tmp_path, [recipients], [opted_out])
    assert [s.phone for s in result.valid] == ["+84912345678"]
    assert result.excluded == [ExcludedRow("a.csv", 3, "+84987654321", "opt.csv", 3)]
    assert result.exclude_invalid == [RejectedRow("opt.csv", 2, "xyz", "not a phone number")]


def test_excluded_and_duplicated_counts_once_as_excluded(tmp_path: Path) -> None:
    recipients = write(tmp_path, "a.csv", "phone\n0987654321\n0987 654 321\n+84987654321\n")
    opted_out = write(tmp_path, "opt.csv", "phone\n0987654321\n")
    result = audience(tmp_path, [recipients], [opted_out])
    assert result.excluded == [ExcludedRow("a.csv", 2, "+84987654321", "opt.csv", 2)]
    assert result.duplicates == [
        DuplicateRow("a.csv", 3, "+84987654321", "a.csv", 2),
        DuplicateRow("a.csv", 4, "+84987654321", "a.csv", 2),
    ]
    assert result.valid == []


def test_display_path_outside_the_base_is_kept_whole(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "phone\nabc\n")
    result = build_audience([path], [], display_base=tmp_path / "elsewhere")
    assert result.invalid[0].file == path.as_posix()


def test_read_list_streams_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "phone,name\n0912345678,An\n")
    rows = read_list(path)
    assert next(rows).fields == {"name": "An"}


PHONE_CELLS = st.sampled_from(
    ["0912345678", "0912 345 678", "+84912345678", "0987654321", "0168 123 4567", "0381234567",
     "84 86 999 0001", "abc", "", "0205 3830 018", "0521234567", "+1 415 555 2671"]
)  # fmt: skip
FILE_ROWS = st.lists(st.one_of(PHONE_CELLS, st.just(None)), max_size=12)  # None: a blank line


def _write_rows(folder: Path, name: str, cells: list[str | None]) -> tuple[Path, int]:
    lines = ["phone,name"] + [("" if c is None else f"{c},n{i}") for i, c in enumerate(cells)]
    path = write(folder, name, "\n".join(lines) + "\n")
    return path, sum(cell is not None for cell in cells)


@settings(max_examples=60, deadline=None)
@given(st.lists(FILE_ROWS, min_size=1, max_size=3), FILE_ROWS)
def test_every_row_lands_in_exactly_one_bucket(
    files: list[list[str | None]], excluded: list[str | None]
) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        written = [_write_rows(folder, f"r{i}.csv", cells) for i, cells in enumerate(files)]
        opt_out, _ = _write_rows(folder, "opt.csv", excluded)
        result = build_audience([path for path, _ in written], [opt_out], display_base=folder)
    rows = sum(count for _, count in written)
    assert result.total_rows == rows
    located = [(r.file, r.line) for r in result.valid + result.invalid]
    located += [(r.file, r.line) for r in result.duplicates + result.excluded]
    assert len(set(located)) == rows
    valid_phones = [s.phone for s in result.valid]
    assert len(set(valid_phones)) == len(valid_phones)
    assert not set(valid_phones) & _normalized(excluded)


def _normalized(cells: list[str | None]) -> set[str]:
    numbers = set()
    for cell in cells:
        with contextlib.suppress(InvalidPhone):
            numbers.add(normalize(cell or ""))
    return numbers


# --- hostile workbooks (issue 13.2) -------------------------------------------------------------
def _rewritten(tmp_path: Path, name: str, change: dict[str, bytes]) -> Path:
    """A good two-row workbook with some members replaced (or added)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (["phone", "name"], ["0912345678", "An"]):
        sheet.append(row)
    workbook.save(tmp_path / "source.xlsx")
    target_path = tmp_path / name
    with (
        zipfile.ZipFile(tmp_path / "source.xlsx") as source,
        zipfile.ZipFile(target_path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item.filename, change.pop(item.filename, source.read(item)))
        for member, data in change.items():
            target.writestr(member, data)
    return target_path


def test_a_damaged_sheet_is_bad_input_naming_the_file(tmp_path: Path) -> None:
    path = _rewritten(tmp_path, "hong.xlsx", {"xl/worksheets/sheet1.xml": b"<worksheet><sheetD"})
    with pytest.raises(BadInput, match=r"not a readable \.xlsx file") as caught:
        list(read_list(path, "lists/hong.xlsx"))
    assert caught.value.problems[0].file == "lists/hong.xlsx"


def test_a_zip_bomb_is_refused_by_its_unpacked_size_before_it_is_read(tmp_path: Path) -> None:
    padding = b"<!--" + b" " * 60_000_000 + b"-->"  # packs to ~60 KB
    path = _rewritten(tmp_path, "bom.xlsx", {"xl/sharedStrings.xml": padding})
    assert path.stat().st_size < 1_000_000
    with pytest.raises(BadInput, match=r"refused: it unpacks to 60 MB \(\d[\d,]* times its size\)"):
        list(read_list(path, "lists/bom.xlsx"))


def test_a_header_of_too_many_columns_is_refused_at_its_line(tmp_path: Path) -> None:
    header = ",".join(["phone", *(f"c{i}" for i in range(40_000))])
    path = tmp_path / "rong.csv"
    path.write_text(f"{header}\n0912345678\n", encoding="utf-8")
    with pytest.raises(BadInput, match="40,001 columns: a list has at most 1,000") as caught:
        list(read_list(path, "rong.csv"))
    assert caught.value.problems[0].line == 1


def test_a_wide_header_under_the_limit_is_read(tmp_path: Path) -> None:
    header = ",".join(["phone", *(f"c{i}" for i in range(999))])
    path = tmp_path / "rong.csv"
    path.write_text(f"{header}\n0912345678\n", encoding="utf-8")
    (row,) = list(read_list(path, "rong.csv"))
    assert len(row.fields) == 999
