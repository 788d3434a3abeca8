"""Lists written as Excel and LibreOffice on Windows save them, read from disk: every encoding
with every separator, the phone column's Vietnamese names, and numbers stored as numbers."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import openpyxl
import pytest

from dispatcher.audience.lists import RejectedRow, Subscriber, read_list
from dispatcher.audience.phones import REASON_FRACTION, REASON_ROUNDED
from dispatcher.core.errors import BadInput
from tests.audiences import Audience, build_audience
from tests.office_files import ENCODINGS, cp1258, encode

# Names Windows-1252 cannot hold would be "?" in a real Windows-1252 export: its rows hold the
# Vietnamese letters it has, and "Bình"/"Hòa", which only Windows-1252 reads as Vietnamese.
ROWS = {
    "vi": [("Số điện thoại", "Tên", "Xã"), ("0912345678", "Nguyễn Văn Hùng", "Hữu Lễ"),
           ("0987654321", "Trương Thị Đào", "Tân Đoàn")],
    "cp1252": [("So dien thoai", "Tên", "Xã"), ("0912345678", "Lê Bình", "Hòa An"),
               ("0987654321", "Võ Thi Lý", "Tân Thành")],
}  # fmt: skip
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}


def write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def audience(folder: Path, *paths: Path) -> Audience:
    return build_audience(list(paths), [], display_base=folder)


def bad_input(folder: Path, path: Path) -> BadInput:
    with pytest.raises(BadInput) as caught:
        audience(folder, path)
    return caught.value


def table(rows: list[tuple[str, ...]], separator: str) -> str:
    # Excel ends lines with CR LF.
    return "".join(separator.join(row) + "\r\n" for row in rows)


# --- every encoding, every separator ------------------------------------------------------------


@pytest.mark.parametrize("separator", SEPARATORS, ids=SEPARATORS.get)
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_encoding_with_each_separator(tmp_path: Path, encoding: str, separator: str) -> None:
    rows = ROWS["cp1252" if encoding == "cp1252" else "vi"]
    suffix = ".txt" if encoding.startswith("utf-16") else ".csv"
    path = write(tmp_path, f"ds{suffix}", encode(table(rows, separator), encoding))
    valid = audience(tmp_path, path).valid
    assert [(s.phone[3:], s.line, s.fields) for s in valid] == [
        (phone[1:], line, {"tên": name, "xã": commune})
        for line, (phone, name, commune) in enumerate(rows[1:], start=2)
    ]
    for subscriber in valid:
        assert all(unicodedata.is_normalized("NFC", value) for value in subscriber.fields.values())


def test_windows_1258_tone_marks_are_composed(tmp_path: Path) -> None:
    content = cp1258("SĐT;Tên\r\n0912345678;Nguyễn Thị Ánh Hồng\r\n")
    assert b"\xea\xde" in content  # ễ was written as ê + a combining tilde
    (row,) = read_list(write(tmp_path, "a.csv", content))
    assert row.fields == {"tên": "Nguyễn Thị Ánh Hồng"}
    assert len(row.fields["tên"]) == len("Nguyễn Thị Ánh Hồng")


def test_a_windows_1258_list_that_windows_1252_reads_without_a_foreign_letter(
    tmp_path: Path,
) -> None:
    # "Trương" is "Trýõng" in Windows-1252: letters Vietnamese has, but two tones in one word.
    path = write(tmp_path, "a.csv", cp1258("phone,name\n0912345678,Trương Vương\n"))
    assert [row.fields for row in read_list(path)] == [{"name": "Trương Vương"}]


def test_utf16_without_an_excel_suffix_is_read_as_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", encode("phone,tên\n0912345678,Đào\n", "utf-16-le-bom"))
    assert [row.fields for row in read_list(path)] == [{"tên": "Đào"}]


def test_a_damaged_utf16_file_names_the_byte(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", encode("phone\n0912345678\n", "utf-16-le-bom") + b"\x00")
    assert "not UTF-16 text (byte 37 of the file)" in str(bad_input(tmp_path, path))


# --- encodings that cannot be told apart --------------------------------------------------------


def test_two_windows_encodings_that_both_read_as_vietnamese_are_refused(tmp_path: Path) -> None:
    # Byte F5 is "õ" in Windows-1252 and "ơ" in Windows-1258: "Võ" and "Vơ" are both Vietnamese.
    path = write(tmp_path, "xa.csv", b"phone;name\n0912345678;An\n0987654321;V\xf5 Thi\n")
    error = bad_input(tmp_path, path)
    assert str(error) == (
        "xa.csv:3: the encoding cannot be told: 'Vơ' in Windows-1258 or 'Võ' in Windows-1252, "
        "both Vietnamese: save it as 'CSV UTF-8'"
    )


def test_bytes_no_windows_encoding_reads_as_vietnamese_are_refused(tmp_path: Path) -> None:
    # TCVN3 (the ABC fonts), which older offices still use: "Nguyễn Văn" is "Nguy\xd6n V\xa8n".
    path = write(tmp_path, "abc.csv", b"phone,name\n0912345678,An\n0987654321,Nguy\xd6n V\xa8n\n")
    assert str(bad_input(tmp_path, path)) == (
        "abc.csv:3: not UTF-8, and no Windows encoding reads it as Vietnamese (Windows-1258 reads "
        "'NguyÖn' at line 3; Windows-1252 reads 'NguyÖn' at line 3): save it as 'CSV UTF-8'"
    )


def test_a_byte_windows_1258_lacks_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", b"phone,name\n0912345678,\x8aim\n")
    message = str(bad_input(tmp_path, path))
    assert "Windows-1258 cannot read byte 0x8A at line 2" in message
    assert "Windows-1252 reads 'Šim' at line 2" in message


def test_the_same_text_in_both_windows_encodings_is_read(tmp_path: Path) -> None:
    # à, á, ê, ô, â are the same bytes in both: there is nothing to choose.
    path = write(tmp_path, "a.csv", "phone;name\n0912345678;Lê Toàn Ánh\n".encode("cp1258"))
    assert [row.fields for row in read_list(path)] == [{"name": "Lê Toàn Ánh"}]


# --- the phone column's names -------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Số điện thoại", "SĐT", "Điện thoại", "So dien thoai", "phone"])
@pytest.mark.parametrize("encoding", ["utf-8-bom", "cp1258"])
def test_phone_header_variants(tmp_path: Path, header: str, encoding: str) -> None:
    content = encode(f"Họ tên;{header};Ghi chú\r\nAn;0912345678;mới\r\n", encoding)
    (subscriber,) = audience(tmp_path, write(tmp_path, "a.csv", content)).valid
    assert subscriber == Subscriber("+84912345678", "a.csv", 2, {"họ tên": "An", "ghi chú": "mới"})


def test_phone_header_variant_in_xlsx(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["STT", "Họ và tên", "SỐ ĐIỆN THOẠI"])
    sheet.append([1, "Hoàng Văn Sáng", "0912 345 678"])
    workbook.save(tmp_path / "a.xlsx")
    (subscriber,) = audience(tmp_path, tmp_path / "a.xlsx").valid
    assert subscriber.fields == {"stt": "1", "họ và tên": "Hoàng Văn Sáng"}


def test_two_phone_columns_are_refused_at_the_header_line(tmp_path: Path) -> None:
    content = cp1258("\r\nSĐT;Họ tên;Điện thoại\r\n0912345678;An;0987654321\r\n")
    error = bad_input(tmp_path, write(tmp_path, "xa.csv", content))
    assert str(error) == (
        "xa.csv:2: 2 columns could hold the phone numbers: 'SĐT' and 'Điện thoại': keep one, "
        "or rename the others"
    )


# --- numbers stored as numbers ------------------------------------------------------------------

NUMBER_CELLS = ["912345678", "9.87654321E8", "84981234567.0", "91234567.8", "8.49123E+10"]
EXPECTED_VALID = ["+84912345678", "+84987654321", "+84981234567"]


def _expected_rejected(file: str) -> list[RejectedRow]:
    return [
        RejectedRow(file, 5, "91234567.8", REASON_FRACTION),
        RejectedRow(file, 6, "8.49123E+10", REASON_ROUNDED),
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "cp1258"])
def test_csv_numbers_excel_wrote_as_floats(tmp_path: Path, encoding: str) -> None:
    rows = [("SĐT", "Tên"), *((cell, "Đào") for cell in NUMBER_CELLS)]
    path = write(tmp_path, "a.csv", encode(table(rows, ";"), encoding))
    result = audience(tmp_path, path)
    assert [s.phone for s in result.valid] == EXPECTED_VALID
    assert result.invalid == _expected_rejected("a.csv")


def test_vietnamese_decimal_comma_in_a_semicolon_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", cp1258("SĐT;Tên\r\n9,12345678E+08;Đào\r\n"))
    assert [s.phone for s in audience(tmp_path, path).valid] == ["+84912345678"]


def test_xlsx_numeric_phone_cells(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Số điện thoại", "Tên"])
    for value in (912345678, 9.87654321e8, 84981234567.0, 91234567.8, 84912300000.0):
        sheet.append([value, "Đào"])
    workbook.save(tmp_path / "a.xlsx")
    saved = openpyxl.load_workbook(tmp_path / "a.xlsx").active
    assert saved is not None
    assert {saved.cell(row, 1).data_type for row in range(2, 7)} == {"n"}  # numbers, not text
    result = audience(tmp_path, tmp_path / "a.xlsx")
    assert [s.phone for s in result.valid] == [*EXPECTED_VALID, "+84912300000"]
    assert result.invalid == [RejectedRow("a.xlsx", 5, "91234567.8", REASON_FRACTION)]
