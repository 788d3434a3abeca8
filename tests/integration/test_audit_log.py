"""`dispatcher log` and `log events` as an auditor queries them (issue 14, part 3), on SQLite and
PostgreSQL: a period in the configured zone, occurrence, number in any form, status, unknown
campaigns named, the per-transition history, and the exports."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import Engine

from dispatcher.bootstrap import Runtime
from dispatcher.cli import present_log
from dispatcher.core.errors import BadInput
from dispatcher.reports import audit_log
from dispatcher.reports.spreadsheet import write_records
from dispatcher.sending import send as services
from tests.fakes import FakeClock
from tests.integration.sending_setup import simulator_runtime, vn, write_campaign, write_list

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SENDING = {"frequency_cap": {"max_messages": 1, "window_hours": 24}, "quiet_hours": "off"}
REASON = "frequency-cap: already 1 message(s) within 24 h"


@pytest.fixture
def rt(tmp_path: Path, engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """Campaign a sent on 01/08/2030 at 05:30 in Vietnam (still 31/07 in UTC), b the next day
    at 05:00, where two of its three are at the frequency cap and skipped."""
    write_list(tmp_path, "first.csv", ["0912345678", "0987654321", "0905111222"])
    write_list(tmp_path, "second.csv", ["0912345678", "0987654321", "0977000111"])
    monkeypatch.chdir(tmp_path)
    clock = FakeClock(vn(1, 5, 30))
    rt = simulator_runtime(engine, db_url, clock, **SENDING)
    services.send(rt, write_campaign(tmp_path, "a", "first.csv"))
    clock.set(vn(2, 5))
    services.send(rt, write_campaign(tmp_path, "b", "second.csv"))
    return rt


def _log(rt: Runtime, **options: str) -> list[tuple[str, str, str]]:
    wanted = audit_log.log_filter(VN, **options)
    return [(v.campaign, v.to, v.status) for v in audit_log.delivery_log(rt, wanted)]


def test_a_period_is_read_in_the_configured_zone(rt: Runtime) -> None:
    # 05:30 on the 1st in Vietnam is 22:30 on 31/07 in UTC: the day is Vietnam's.
    assert {c for c, _, _ in _log(rt, first="01/08/2030", last="01/08/2030")} == {"a"}
    assert {c for c, _, _ in _log(rt, first="2030-08-02")} == {"b"}
    assert len(_log(rt, month="08/2030")) == 6 and _log(rt, month="2030-07") == []
    assert _log(rt, last="31/07/2030") == []


def test_filters_by_campaign_occurrence_number_and_status(rt: Runtime) -> None:
    assert _log(rt, phone="0912 345 678") == [("a", "+84912345678", "accepted"),
                                              ("b", "+84912345678", "skipped")]  # fmt: skip
    assert [t for _, t, _ in _log(rt, status="skipped")] == ["+84912345678", "+84987654321"]
    views = list(audit_log.delivery_log(rt, audit_log.log_filter(VN, campaign="b")))
    assert len(_log(rt, occurrence=views[0].occurrence, campaign="b")) == 3
    assert _log(rt, occurrence="2000-01-01T00:00+07:00") == []


def test_filters_by_the_unit_running_the_campaigns_and_by_form(rt: Runtime, tmp_path: Path) -> None:
    district = write_campaign(tmp_path, "c", "first.csv")
    district.write_text(district.read_text().replace("UBND xã Tân Đoàn", "UBND huyện Văn Quan"))
    services.send(rt, district)  # all three at the frequency cap: skipped, but in the log
    assert {c for c, _, _ in _log(rt)} == {"a", "b", "c"}
    for written in ("Tân Đoàn", "tan doan", "Xã Tân Đoàn", "UBND xã Tân Đoàn"):
        assert {c for c, _, _ in _log(rt, unit=written)} == {"a", "b"}, written
    assert {c for c, _, _ in _log(rt, commune="tân đoàn")} == {"a", "b"}
    assert {c for c, _, _ in _log(rt, unit="huyen Van Quan")} == {"c"}
    assert _log(rt, unit="Tân Đoàn", campaign="c") == []  # both filters hold
    assert len(_log(rt, unit="Văn Quan", form="SMS")) == 3  # the log is SMS: the form keeps all
    wanted = audit_log.log_filter(VN, unit="Văn Quan")
    assert {e.campaign for e in audit_log.delivery_events(rt, wanted)} == {"c"}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"campaign": "z"}, "--campaign: unknown campaign 'z' (campaigns: a, b)"),
        ({"unit": "Tân Đòan x"}, "--unit: no campaign is run by 'Tân Đòan x' (did you mean "
                                 "'UBND xã Tân Đoàn'? units with campaigns: UBND xã Tân Đoàn)"),
        ({"unit": "Tân Đoàn", "commune": "Tân Đoàn"},
         "--commune: give --unit or --commune, not both"),
        ({"form": "loa"}, "--form: the delivery log holds SMS only; Phát thanh trên loa truyền "
                          "thanh cơ sở is in `dispatcher report monthly`"),
        ({"form": "zalo"}, "--form: the delivery log holds SMS only; Mạng xã hội (Zalo, "
                           "Facebook) is in `dispatcher activity list --form social`"),
        ({"form": "fax"}, "--form: 'fax' is not a form of communication"),
        ({"first": "32/08/2030"}, "--from: '32/08/2030' is not a day like 05/12/2024"),
        ({"first": "02/08/2030", "last": "01/08/2030"}, "--to: --to is before --from"),
        ({"month": "08/2030", "first": "01/08/2030"},
         "--month: give --month or --from/--to, not both"),
        ({"status": "lost"}, "--status: unknown status 'lost' (one of "),
    ],
)  # fmt: skip
def test_bad_filters_are_named(rt: Runtime, options: dict[str, str], expected: str) -> None:
    with pytest.raises(BadInput) as caught:
        list(audit_log.delivery_log(rt, audit_log.log_filter(VN, **options)))
    assert str(caught.value.problems[0]).startswith(expected)


def test_events_are_each_delivery_s_history(rt: Runtime) -> None:
    wanted = audit_log.log_filter(VN, phone="+84912345678")
    events = list(audit_log.delivery_events(rt, wanted))
    assert [(e.campaign, e.status, e.attempt) for e in events] == [
        ("a", "pending", 0), ("a", "sending", 1), ("a", "accepted", 1),
        ("b", "pending", 0), ("b", "skipped", 0),
    ]  # fmt: skip
    assert events[-1].detail == REASON
    assert [e.id for e in events] == sorted(e.id for e in events)
    day_two = audit_log.log_filter(VN, phone="0912345678", first="02/08/2030")
    assert [e.campaign for e in audit_log.delivery_events(rt, day_two)] == ["b", "b"]


def test_the_table_shows_local_times_and_reasons_and_exports_keep_everything(
    rt: Runtime, tmp_path: Path
) -> None:
    views = list(audit_log.delivery_log(rt, audit_log.log_filter(VN, status="skipped")))
    table = "".join(present_log.delivery_log(views, "table", VN)).splitlines()
    assert table[1].startswith("05:00 02/08/2030  b ")
    assert table[1].endswith(REASON) and "+84 91x xxx 678" in table[1]
    csv_text = "".join(present_log.delivery_log(views, "csv", VN))
    assert csv_text.startswith("\ufeffcampaign,") and "+84912345678" in csv_text
    assert "\ufeff" not in "".join(present_log.delivery_log(views, "csv", VN, bom=False))
    record = json.loads(next(iter(present_log.delivery_log(views, "jsonl", VN))))
    assert record["updated_at"] == "2030-08-02T05:00:00+07:00"
    assert record["error_message"] == REASON
    path = tmp_path / "log.xlsx"
    records = (present_log.log_record(v, VN) for v in views)
    assert write_records(path, "Giao nhận", present_log.LOG_FIELDS, records) == 2
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == present_log.LOG_FIELDS and rows[1][2] == "+84912345678"
