"""Outreach activities (issue 14, part 1) on SQLite and PostgreSQL: recorded against the units
registry, corrected and voided by new records, imported all or nothing, counted in the report."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from dispatcher.bootstrap import Runtime, runtime
from dispatcher.broadcast import service as broadcast_service
from dispatcher.cli import present_report
from dispatcher.core.errors import BadInput
from dispatcher.reports import activities, activity_import, due
from dispatcher.reports import monthly as reports
from dispatcher.reports.activity_fields import ActivityFields
from dispatcher.reports.spreadsheet import write_xlsx
from dispatcher.store.models import ActivityRow, OutreachActivityRow
from tests.fakes import FakeClock
from tests.integration.test_airings import REPO, settings, write_campaign

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 12, 20, 9, 0, tzinfo=VN)


@pytest.fixture
def rt(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    (tmp_path / "campaigns").mkdir()
    shutil.copy(REPO / "units.yaml", tmp_path / "units.yaml")
    monkeypatch.chdir(tmp_path)
    environ = {"USER": "can-bo-xa"}
    with runtime(settings(tmp_path, db_url), clock=FakeClock(NOW), environ=environ) as rt:
        yield rt


def _meeting(**changes: str) -> ActivityFields:
    fields = {"unit": "Xã Tân Đoàn", "form": "meeting", "count": "2", "date": "05/12/2024",
              "means": "Hội trường thôn Bản Chắt", "content": "Tắt sóng 2G"}  # fmt: skip
    return ActivityFields(**(fields | changes))


def _problems(caught: pytest.ExceptionInfo[BadInput]) -> list[str]:
    return [str(p) for p in caught.value.problems]


def _stored(rt: Runtime) -> int:
    with rt.uow() as uow:
        return int(uow.repo.session.scalar(select(func.count(OutreachActivityRow.id))) or 0)


def _counted(rt: Runtime, month: str) -> list[tuple[str, str, str, int, str]]:
    report = reports.monthly(rt, month)
    return [(r.unit, r.form, r.means, r.count, r.status) for r in report.rows]


def test_an_activity_is_recorded_logged_and_counted(rt: Runtime) -> None:
    made = activities.add(rt, _meeting())
    assert (made.id, made.unit_code, made.unit_name, made.form) == (1, "06307", "Xã Tân Đoàn",
                                                                     "meeting")  # fmt: skip
    assert (made.recorded_by, made.source, made.state) == ("can-bo-xa", "cli", "counts")
    with rt.uow() as uow:
        logged = uow.repo.session.scalars(
            select(ActivityRow.detail).where(ActivityRow.kind == "activity-recorded")
        ).all()
    assert logged == [
        "activity 1: Xã Tân Đoàn, Hội nghị, họp dân, 2 buổi, 05/12/2024; by can-bo-xa"
    ]
    assert _counted(rt, "2024-12") == [
        ("Xã Tân Đoàn", "Hội nghị, họp dân", "Hội trường thôn Bản Chắt", 2, "recorded")
    ]
    assert _counted(rt, "2024-11") == []


def test_every_problem_is_named_at_once_and_nothing_is_written(rt: Runtime) -> None:
    with pytest.raises(BadInput) as caught:
        activities.add(rt, _meeting(unit="Tan Doann", form="hopdan", count="0",
                                    date="31/02/2024", note="x\x00"))  # fmt: skip
    assert _problems(caught) == [
        "--date: '31/02/2024' is not a day like 05/12/2024 or 2024-12-05",
        "--unit: 'Tan Doann' is not a unit in the units registry units.yaml "
        "(did you mean Xã Tân Đoàn?)",
        "--form: 'hopdan' is not a form of communication (did you mean meeting? forms: sms, "
        "loudspeaker, web, social, press, banner, leaflet, door_to_door, meeting, other)",
        "--count: '0' is not a whole number from 1 to 1,000,000",
        "--note: contains the control character U+0000: retype the text",
    ]
    assert _stored(rt) == 0


@pytest.mark.parametrize(
    ("unit", "day", "expected"),
    [
        ("tan doan", "05/12/2024", "Xã Tân Đoàn"),  # without tone marks, without its kind
        ("06307", "2024-12-05", "Xã Tân Đoàn"),
        ("Huyện Văn Quan", "05/12/2024", "Huyện Văn Quan"),  # a district reports too
        ("Tràng Các", "30/11/2024", "Xã Tràng Các"),  # its last day
    ],
)
def test_units_are_found_as_people_write_them(
    rt: Runtime, unit: str, day: str, expected: str
) -> None:
    assert activities.add(rt, _meeting(unit=unit, date=day)).unit_name == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"unit": "Tràng Các"}, "--unit: Xã Tràng Các did not exist on 05/12/2024 (it existed "
                                "until 30/11/2024, merged into Xã Khánh Khê)"),
        ({"unit": "Văn Quan"}, "--unit: 'Văn Quan' could be Huyện Văn Quan (184) or Thị trấn "
                               "Văn Quan (06253) or Xã Văn Quan (06253): write the full name "
                               "or the code"),
        ({"date": "21/12/2024"}, "--date: 21/12/2024 is in the future"),
        ({"campaign": "khong-co"}, "--campaign: unknown campaign 'khong-co' (campaigns: none "
                                   "registered yet)"),
        ({"count": "2.5"}, "--count: '2.5' is not a whole number from 1 to 1,000,000"),
    ],
)  # fmt: skip
def test_activities_a_unit_could_not_have_had_are_refused(
    rt: Runtime, changes: dict[str, str], expected: str
) -> None:
    with pytest.raises(BadInput) as caught:
        activities.add(rt, _meeting(**changes))
    assert _problems(caught) == [expected]
    assert _stored(rt) == 0


def test_a_campaign_is_named_among_those_registered(rt: Runtime, tmp_path: Path) -> None:
    path = write_campaign(tmp_path)
    broadcast_service.write_campaign_scripts(rt, path, None, None)
    assert activities.add(rt, _meeting(campaign="loa-thu")).campaign_id == "loa-thu"
    with pytest.raises(BadInput) as caught:
        activities.add(rt, _meeting(campaign="loa-thuu"))
    assert _problems(caught) == ["--campaign: unknown campaign 'loa-thuu' (campaigns: loa-thu)"]


def test_a_correction_replaces_a_record_and_a_void_removes_it_from_the_count(
    rt: Runtime,
) -> None:
    first = activities.add(rt, _meeting())
    fixed = activities.correct(rt, first.id, ActivityFields(count="3"), "đếm lại")
    assert (fixed.kind, fixed.corrects_id, fixed.count, fixed.reason) == (
        "correction",
        1,
        3,
        "đếm lại",
    )
    assert fixed.means == "Hội trường thôn Bản Chắt"  # what was not given is kept
    assert [r[3] for r in _counted(rt, "2024-12")] == [3]
    with pytest.raises(BadInput) as caught:
        activities.correct(rt, first.id, ActivityFields(count="4"), None)
    assert _problems(caught) == [
        "ID: activity 1 was already replaced by 2 (correction): correct or void 2 instead"
    ]
    with pytest.raises(BadInput) as caught:
        activities.correct(rt, fixed.id, ActivityFields(count="3"), None)
    assert _problems(caught) == ["ID: nothing to correct: give the fields that change"]
    with pytest.raises(BadInput) as caught:
        activities.void(rt, fixed.id, "  ")
    assert _problems(caught) == ["--reason: say why the record no longer counts"]
    voided = activities.void(rt, fixed.id, "nhập trùng với báo cáo của huyện")
    assert (voided.kind, voided.corrects_id) == ("void", 2)
    assert _counted(rt, "2024-12") == []
    with pytest.raises(BadInput) as caught:
        activities.void(rt, voided.id, "again")
    assert _problems(caught) == ["ID: activity 3 is a void of 2; it cannot change"]
    with pytest.raises(BadInput) as caught:
        activities.void(rt, 99, "?")
    assert _problems(caught) == ["ID: no activity 99 (see `dispatcher activity list`)"]
    states = [(a.id, a.state) for a in activities.listing(rt, activities.ActivityFilter())]
    assert states == [(1, "replaced by 2"), (2, "replaced by 3"), (3, "voids 2")]


def test_records_cannot_be_changed_or_deleted(rt: Runtime, db_url: str) -> None:
    activities.add(rt, _meeting())
    for statement in ("UPDATE outreach_activities SET count = 20",
                      "DELETE FROM outreach_activities"):  # fmt: skip
        with rt.uow() as uow, pytest.raises(DBAPIError, match="append-only"):
            uow.repo.session.execute(text(statement))
    assert [r[3] for r in _counted(rt, "2024-12")] == [2]


def test_the_list_filters_by_month_unit_and_form(rt: Runtime) -> None:
    activities.add(rt, _meeting())
    activities.add(rt, _meeting(unit="Khánh Khê", form="banner", count="5", date="2024-11-20"))
    activities.add(rt, _meeting(form="zalo", count="4", date="01/12/2024"))

    def ids(**options: str) -> list[int]:
        wanted = activities.make_filter(**options)
        return [a.id for a in activities.listing(rt, wanted)]

    assert ids() == [2, 3, 1]  # by day
    assert ids(month="12/2024") == [3, 1] and ids(month="2024-11") == [2]
    assert ids(first="02/12/2024") == [1] and ids(last="2024-11-30") == [2]
    assert ids(unit="khanh khe") == [2] and ids(form="Mạng xã hội") == [3]
    with pytest.raises(BadInput) as caught:
        ids(month="13/2024")
    assert _problems(caught) == ["--month: '13/2024' is not a month like 2024-12 or 12/2024"]


# -- import ---------------------------------------------------------------------------------------
HEADER = ["STT", "Đơn vị", "Hình thức", "Số lượt", "Ngày", "Phương tiện", "Nội dung", "Ghi chú"]
ROWS = [
    ["1", "Tân Đoàn", "Zalo", "3", "01/12/2024", "Nhóm Zalo xã", "Tắt sóng 2G", ""],
    ["2", "Khánh Khê", "Băng rôn", "5", "02/12/2024", "", "", "Treo ở chợ"],
    ["3", "Tân Đoàn", "tổ công nghệ số", "40", "2024-12-03", "", "", ""],
]


def _csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")  # as Excel saves "CSV UTF-8"
    return path


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *rows]:
        sheet.append(row)
    book.save(path)
    return path


def test_a_csv_or_xlsx_table_is_recorded_whole(rt: Runtime, tmp_path: Path) -> None:
    result = activity_import.import_file(rt, _csv(tmp_path / "bao-cao.csv", ROWS))
    assert (result.file, result.ids) == ("bao-cao.csv", [1, 2, 3])
    excel_rows: list[list[object]] = [
        [1, "Xã Tân Đoàn", "meeting", 2, datetime(2024, 12, 5), "", "", ""],  # a date cell
        [2, "06286", "leaflet", 300.0, "06/12/2024", "", "", ""],  # a number stored as 300.0
    ]
    assert activity_import.import_file(rt, _xlsx(tmp_path / "bc.xlsx", excel_rows)).ids == [4, 5]
    found = activities.listing(rt, activities.ActivityFilter())
    assert [(a.unit_name, a.form, a.count, a.day, a.source) for a in found] == [
        ("Xã Tân Đoàn", "social", 3, date(2024, 12, 1), "import bao-cao.csv:2"),
        ("Xã Khánh Khê", "banner", 5, date(2024, 12, 2), "import bao-cao.csv:3"),
        ("Xã Tân Đoàn", "door_to_door", 40, date(2024, 12, 3), "import bao-cao.csv:4"),
        ("Xã Tân Đoàn", "meeting", 2, date(2024, 12, 5), "import bc.xlsx:2"),
        ("Xã Khánh Khê", "leaflet", 300, date(2024, 12, 6), "import bc.xlsx:3"),
    ]


def test_a_table_with_a_bad_row_records_nothing_and_names_every_cell(
    rt: Runtime, tmp_path: Path
) -> None:
    bad = [*ROWS, ["4", "Đồng Giáp", "loa", "1", "03/12/2024", "", "", ""],
           ["5", "Tân Đoàn", "hội nghị", "nhiều", "3/12", "", "", ""]]  # fmt: skip
    with pytest.raises(BadInput) as caught:
        activity_import.import_file(rt, _csv(tmp_path / "bc.csv", bad))
    assert _problems(caught) == [
        "bc.csv:5: Đơn vị: Xã Đồng Giáp did not exist on 03/12/2024 (it existed until "
        "30/11/2024, merged into Xã Khánh Khê)",
        "bc.csv:6: Ngày: '3/12' is not a day like 05/12/2024 or 2024-12-05",
        "bc.csv:6: Số lượt: 'nhiều' is not a whole number from 1 to 1,000,000",
    ]
    assert _stored(rt) == 0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["Đơn vị", "Hình thức", "Ngày", "Kết quả"],
         ["bc.csv:1: unknown column 'Kết quả' (columns: Đơn vị, Hình thức, Số lượt, Ngày, "
          "Phương tiện, Nội dung, Ghi chú, Chiến dịch)",
          "bc.csv:1: missing column(s): Số lượt"]),
        (["don vi", "HINH THUC", "so luot", "ngay", "Đơn vị"],
         ["bc.csv:1: column 'Đơn vị' repeats another one"]),
    ],
)  # fmt: skip
def test_columns_are_named_as_offices_write_them_or_refused(
    rt: Runtime, tmp_path: Path, header: list[str], expected: list[str]
) -> None:
    with pytest.raises(BadInput) as caught:
        activity_import.import_file(rt, _csv(tmp_path / "bc.csv", [], header))
    assert _problems(caught) == expected


def test_a_header_alone_records_nothing(rt: Runtime, tmp_path: Path) -> None:
    with pytest.raises(BadInput) as caught:
        activity_import.import_file(rt, _csv(tmp_path / "bc.csv", []))
    assert _problems(caught) == ["bc.csv: no activity in the file: only its header"]


# -- the report counts what an auditor would count ------------------------------------------------
def test_the_report_counts_each_cell_as_the_log_does(rt: Runtime) -> None:
    """A month of mixed records, corrections and voids: each report cell against a count made
    independently from the stored rows."""
    made = [
        activities.add(rt, _meeting(unit=u, form=f, count=str(n), date=d, means=m))
        for u, f, n, d, m in [
            ("Tân Đoàn", "meeting", 2, "01/12/2024", "Hội trường"),
            ("Tân Đoàn", "meeting", 1, "10/12/2024", "Hội trường"),
            ("Tân Đoàn", "social", 4, "02/12/2024", "Zalo"),
            ("Khánh Khê", "banner", 6, "03/12/2024", ""),
            ("Khánh Khê", "banner", 2, "30/11/2024", ""),  # another month
            ("Khánh Khê", "leaflet", 100, "04/12/2024", ""),
        ]
    ]
    activities.correct(rt, made[0].id, ActivityFields(count="3"), "đếm lại")
    activities.void(rt, made[5].id, "nhập nhầm")
    moved = activities.correct(rt, made[1].id, ActivityFields(date="30/11/2024"), "sai ngày")
    activities.correct(rt, moved.id, ActivityFields(count="5"), None)
    with rt.uow() as uow:
        rows = uow.repo.session.scalars(select(OutreachActivityRow)).all()
        replaced = {r.corrects_id for r in rows if r.corrects_id is not None}
        expected: Counter[tuple[str, str, str]] = Counter()
        for r in rows:
            if r.kind != "void" and r.id not in replaced and r.day.month == 12:
                expected[(r.unit_name, r.form, r.means or "")] += r.count
    labels = {"meeting": "Hội nghị, họp dân", "social": "Mạng xã hội (Zalo, Facebook)",
              "banner": "Băng rôn, pa-nô, áp phích"}  # fmt: skip
    assert sorted(_counted(rt, "2024-12")) == sorted(
        (unit, labels[form], means, n, "recorded") for (unit, form, means), n in expected.items()
    )
    assert expected == {("Xã Tân Đoàn", "meeting", "Hội trường"): 3,
                        ("Xã Tân Đoàn", "social", "Zalo"): 4,
                        ("Xã Khánh Khê", "banner", ""): 6}  # fmt: skip
    november = {(u, n) for u, _, _, n, _ in _counted(rt, "2024-11")}
    assert november == {("Xã Khánh Khê", 2), ("Xã Tân Đoàn", 5)}


def test_one_row_per_unit_form_and_means_lists_each_content_once(rt: Runtime) -> None:
    activities.add(rt, _meeting())
    activities.add(rt, _meeting(count="3", date="19/12/2024", content="Hỗ trợ đổi máy 4G"))
    activities.add(rt, _meeting(count="1", date="20/12/2024"))
    (row,) = reports.monthly(rt, "12/2024").rows
    assert (row.count, row.content, row.result) == (6, "Hỗ trợ đổi máy 4G; Tắt sóng 2G", "")
    assert reports.monthly(rt, "12/2024").daily == {
        ("Xã Tân Đoàn", "Hội nghị, họp dân", date(2024, 12, 5)): 2,
        ("Xã Tân Đoàn", "Hội nghị, họp dân", date(2024, 12, 19)): 3,
        ("Xã Tân Đoàn", "Hội nghị, họp dân", date(2024, 12, 20)): 1,
    }


def test_the_report_as_a_workbook_to_file(rt: Runtime, tmp_path: Path) -> None:
    activities.add(rt, _meeting())
    activities.add(rt, _meeting(unit="Khánh Khê", form="banner", count="4", means="=1+1"))
    path = write_xlsx(reports.monthly(rt, "12/2024"), tmp_path / "bao-cao.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Tổng hợp", "Xã Khánh Khê", "Xã Tân Đoàn"]
    summary = book["Tổng hợp"]
    rows = [list(row) for row in summary.iter_rows(values_only=True)]
    assert rows[0][0] == "BÁO CÁO KẾT QUẢ TUYÊN TRUYỀN THÁNG 12/2024"
    assert rows[1][0] == "Từ ngày 01/12/2024 đến ngày 31/12/2024"
    assert rows[3] == ["STT", "Đơn vị", "Hình thức truyền thông", "Nội dung", "Số lượt",
                       "Đơn vị tính", "Phương tiện", "Kết quả (người/thuê bao đã tiếp cận)",
                       "Ghi chú"]  # fmt: skip
    with rt.uow() as uow:
        at, head = uow.chain.head()
    assert at > 0 and rows[-1][0].startswith(f"Sổ nhật ký đến bản ghi {at}, mã {head} ")
    assert rows[4:-2] == [
        [1, "Xã Khánh Khê", "Băng rôn, pa-nô, áp phích", "Tắt sóng 2G", 4, "chiếc", "'=1+1",
         None, "Đơn vị ghi nhận"],
        [2, "Xã Tân Đoàn", "Hội nghị, họp dân", "Tắt sóng 2G", 2, "buổi",
         "Hội trường thôn Bản Chắt", None, "Đơn vị ghi nhận"],
        [None, "Tổng cộng", None, None, 6, None, None, None, None],
    ]  # fmt: skip
    assert summary.freeze_panes == "A5" and summary["A4"].font.bold
    unit_rows = list(book["Xã Tân Đoàn"].iter_rows(min_row=5, values_only=True))
    assert [r[4] for r in unit_rows] == [2, 2]  # its row, its total


def test_a_period_cut_off_on_the_15th_counts_from_the_15th_of_the_month_before(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "campaigns").mkdir()
    shutil.copy(REPO / "units.yaml", tmp_path / "units.yaml")
    monkeypatch.chdir(tmp_path)
    cut = settings(tmp_path, db_url, report={"period_start_day": 15})
    with runtime(cut, clock=FakeClock(NOW), environ={}) as rt:
        for day, count in (("14/11/2024", "1"), ("15/11/2024", "2"), ("14/12/2024", "4"),
                           ("15/12/2024", "8")):  # fmt: skip
            activities.add(rt, _meeting(date=day, count=count))
        december = reports.monthly(rt, "2024-12")
        assert [r.count for r in december.rows] == [2 + 4]  # 15/11 to 14/12
        assert [r.count for r in reports.monthly(rt, "2024-11").rows] == [1]
        title = present_report.monthly(december, "table").splitlines()[0]
        assert title == ("Báo cáo kết quả tuyên truyền tháng 12/2024 "
                         "(từ 15/11/2024 đến 14/12/2024)")  # fmt: skip


def test_report_due_names_the_communes_that_recorded_nothing(rt: Runtime) -> None:
    activities.add(rt, _meeting(date="05/11/2024"))
    activities.add(rt, _meeting(unit="Khánh Khê", date="06/11/2024"))
    voided = activities.add(rt, _meeting(unit="Tri Lễ", date="07/11/2024"))
    activities.void(rt, voided.id, "nhập nhầm xã")
    found = due.due(rt, "11/2024")
    names = [u.name for u in found.due]
    # November 2024: 17 communes existed (Đồng Giáp and Tràng Các until the 30th); two recorded.
    assert (found.reporting, len(names)) == (2, 15)
    assert "Xã Tân Đoàn" not in names and "Xã Khánh Khê" not in names
    assert "Xã Tri Lễ" in names  # its only record was voided
    assert names[:5] == ["Thị trấn Văn Quan", "Xã An Sơn", "Xã Bình Phúc", "Xã Điềm He",
                         "Xã Đồng Giáp"]  # by name, đ with d  # fmt: skip
    december = {u.name for u in due.due(rt, "12/2024").due}
    assert "Xã Tràng Các" not in december and "Xã Tân Đoàn" in december  # merged away by then
    text = present_report.due(found)
    assert text.startswith("15 commune(s) have recorded nothing for 01/11/2024–30/11/2024 "
                           "(2 have):\n  06253  Thị trấn Văn Quan\n")  # fmt: skip


def test_the_report_of_one_unit(rt: Runtime) -> None:
    activities.add(rt, _meeting())
    activities.add(rt, _meeting(unit="Khánh Khê", form="banner", count="4"))
    for written in ("Xã Khánh Khê", "khanh khe", "UBND xã Khánh Khê"):
        only = reports.monthly(rt, "2024-12", written)
        assert [(r.unit, r.count) for r in only.rows] == [("Xã Khánh Khê", 4)]
    assert reports.monthly(rt, "2024-12", "Tràng Phái").rows == []
