"""`plan` and the schedule at the service layer, on a controllable clock: occurrences as they will
fire (quiet hours), sending time, the queue warning, and what an edit changed since registration."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dispatcher.bootstrap import runtime
from dispatcher.campaigns.registry import register_campaign
from dispatcher.cli import presenters
from dispatcher.sending import planning
from dispatcher.sending import send as services
from dispatcher.settings.config import Settings
from dispatcher.store import db as store_db
from tests.fakes import FakeClock

VN = ZoneInfo("Asia/Ho_Chi_Minh")
LIST = "phone\n0912345678\n0987654321\n0905111222\n"  # 3 recipients, 1 segment each


def vn(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 8, day, hour, minute, tzinfo=VN)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "a.csv").write_text(LIST, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _campaign(folder: Path, *sms: str) -> Path:
    path = folder / "c.yaml"
    lines = ["id: thu", "title: Thử", "unit: UBND xã Tân Đoàn", "sms:", "  text: Xin chào",
             "  recipients: [lists/a.csv]", *sms]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _settings(tmp_path: Path, **sending: Any) -> Settings:
    url = f"sqlite:///{tmp_path / 'var' / 'none.sqlite3'}"  # no database: plan works without
    return Settings.model_validate({"database_url": url, "sending": sending})


AT = ["  schedule:", "    at: [2030-08-01 23:00, 2030-08-02 09:15, 2030-08-03 21:59]"]


def test_plan_shows_when_each_occurrence_really_sends(folder: Path) -> None:
    clock = FakeClock(vn(1, 12))
    settings = _settings(folder, rate_per_sender=0.01)  # 3 segments: 300 s
    result = planning.plan(_campaign(folder, *AT), clock.now(), settings)
    data = presenters.plan_data(result)
    assert data["sends"] == [
        {"at": "2030-08-01T23:00:00+07:00", "starts": "2030-08-02T07:00:00+07:00",
         "finishes": "2030-08-02T07:05:00+07:00", "waits_for_quiet_hours": True,
         "pauses_for_quiet_hours": False},
        {"at": "2030-08-02T09:15:00+07:00", "starts": "2030-08-02T09:15:00+07:00",
         "finishes": "2030-08-02T09:20:00+07:00", "waits_for_quiet_hours": False,
         "pauses_for_quiet_hours": False},
        {"at": "2030-08-03T21:59:00+07:00", "starts": "2030-08-03T21:59:00+07:00",
         "finishes": "2030-08-04T07:04:00+07:00", "waits_for_quiet_hours": False,
         "pauses_for_quiet_hours": True},
    ]  # fmt: skip
    assert (data["quiet_hours"], data["urgent"], data["warnings"]) == ("22:00-07:00", False, [])
    assert data["sending"] == {
        "senders": [{"sender": None, "segments_per_second": 0.01}], "seconds": 300.0,
        "queue_limit_hours": 10.0, "over_queue_limit": False,
    }  # fmt: skip
    table = presenters.plan_table(result, VN).splitlines()
    assert table[-9:] == [
        "Sending:     about 5 min 0 s per send (1 sender: default sender at 0.01 segments/s)",
        "Quiet hours: 22:00-07:00 (settings): nothing is sent inside them",
        "Frequency cap: none",
        "Cost:        0.00 USD per send (3 segments × 0)",
        "Approval:    not needed",
        "Next sends:",
        "  Thứ Năm  01/08/2030 23:00 → chờ đến 07:00 02/08/2030 (quiet hours), done by 07:05",
        "  Thứ Sáu  02/08/2030 09:15, done by 09:20",
        "  Thứ Bảy  03/08/2030 21:59, pauses for quiet hours, done by 07:04 04/08/2030",
    ]


def test_plan_lists_only_what_is_ahead_of_the_clock(folder: Path) -> None:
    clock = FakeClock(vn(2, 9, 15))
    path = _campaign(folder, *AT)
    assert planning.plan(path, clock.now(), _settings(folder)).occurrences == [
        vn(2, 9, 15), vn(3, 21, 59)
    ]  # fmt: skip
    clock.advance(timedelta(days=3))
    result = planning.plan(path, clock.now(), _settings(folder))
    assert (result.occurrences, result.schedule_ended) == ([], vn(3, 21, 59))


def test_plan_shows_at_most_ten_cron_occurrences(folder: Path) -> None:
    cron = ["  schedule:", "    start: 2030-08-01", "    end: 2030-12-31",
            "    cron: '0 8 * * mon,thu'"]  # fmt: skip
    result = planning.plan(_campaign(folder, *cron), vn(1, 8, 1), _settings(folder))
    days = [5, 8, 12, 15, 19, 22, 26, 29, 2, 5]  # into September
    assert [at.day for at in result.occurrences] == days
    assert all(at.hour == 8 and at.weekday() in (0, 3) for at in result.occurrences)


@pytest.mark.parametrize(
    ("sms", "env_window", "quiet_hours", "starts"),
    [
        (["  urgent: true"], "22:00-07:00", None, vn(1, 23)),
        (["  quiet_hours: '23:30-06:00'"], "22:00-07:00", "23:30-06:00", vn(1, 23)),
        (["  quiet_hours: '20:00-08:00'"], "off", "20:00-08:00", vn(2, 8)),
        ([], "off", "off", vn(1, 23)),
    ],
)
def test_urgent_and_campaign_quiet_hours_in_the_plan(
    folder: Path, sms: list[str], env_window: str, quiet_hours: str | None, starts: datetime
) -> None:
    settings = _settings(folder, quiet_hours=env_window)
    result = planning.plan(_campaign(folder, *AT, *sms), vn(1, 12), settings)
    data = presenters.plan_data(result)
    assert data["quiet_hours"] == quiet_hours
    assert result.sends[0].starts == starts


def test_plan_warns_when_a_send_is_longer_than_twilio_queues(folder: Path) -> None:
    settings = _settings(folder, rate_per_sender=0.0001, queue_limit_hours=8)  # 30,000 s
    result = planning.plan(_campaign(folder, *AT), vn(1, 12), settings)
    warning = (
        "one send takes about 8 h 20 min, longer than Twilio will queue: add senders or split "
        "the list (about 8 h)"
    )
    assert presenters.plan_data(result)["warnings"] == [warning]
    assert presenters.plan_table(result, VN).splitlines()[-1] == f"warning: {warning}"
    # A pool of two senders halves it: under the limit, no warning.
    pool = _campaign(folder, *AT, "  senders: [A, B]")
    assert presenters.plan_data(planning.plan(pool, vn(1, 12), settings))["warnings"] == []


def test_plan_never_creates_a_database(folder: Path) -> None:
    result = planning.plan(_campaign(folder, *AT), vn(1, 12), _settings(folder))
    assert result.changes is None
    assert not (folder / "var").exists()


def test_an_unreachable_database_is_no_reason_to_fail(folder: Path) -> None:
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:9/none")  # nothing there
    assert planning.plan(_campaign(folder, *AT), vn(1, 12), settings).changes is None


def test_plan_and_validate_say_what_changed_since_registration(folder: Path, db_url: str) -> None:
    settings = Settings(database_url=db_url)
    path = _campaign(folder, *AT)
    registered = vn(1, 8)
    with runtime(settings) as rt, rt.uow() as uow:
        register_campaign(uow.repo, services.prepare_campaign(path).campaign, [], registered)
        uow.commit()
    assert planning.plan(path, vn(1, 12), settings).changes.paths == []  # type: ignore[union-attr]

    _campaign(folder, "  # an edited comment changes nothing", *AT)
    assert planning.plan(path, vn(1, 12), settings).changes.paths == []  # type: ignore[union-attr]

    _campaign(folder, "  max_segments: 2", "  schedule:", "    at: [2030-08-02 09:15]")
    result = planning.plan(path, vn(1, 12), settings)
    assert result.changes is not None
    assert (result.changes.paths, result.changes.registered_at) == (
        ["sms.max_segments", "sms.schedule.at"], registered
    )  # fmt: skip
    note = ("Changed since last registered (01/08/2030 08:00): sms.max_segments, sms.schedule.at "
            "— applies to future occurrences; what was sent is not resent.")  # fmt: skip
    assert presenters.plan_table(result, VN).splitlines()[1] == note
    assert presenters.plan_data(result)["changes"] == ["sms.max_segments", "sms.schedule.at"]
    assert presenters.plan_data(result)["registered_at"] == "2030-08-01T08:00:00+07:00"

    (checked,) = services.validate([Path("c.yaml")], settings)
    assert presenters.validation([checked], VN) == f"c.yaml: ok\n  {note}\n"
    (unchecked,) = services.validate([Path("c.yaml")])  # without settings: no database asked
    assert unchecked.changes is None


def test_plan_opens_the_database_once_for_changes_cap_and_approval(
    folder: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cap = {"frequency_cap": {"max_messages": 1, "window_hours": 24}}
    settings = Settings.model_validate({"database_url": db_url, "sending": cap})
    path = _campaign(folder, *AT)
    with runtime(settings) as rt, rt.uow() as uow:
        register_campaign(uow.repo, services.prepare_campaign(path).campaign, [], vn(1, 8))
        uow.commit()
    opened: list[str] = []
    create_engine = store_db.create_engine

    def counted(url: Any, **options: Any) -> Any:
        opened.append(str(url))
        return create_engine(url, **options)

    monkeypatch.setattr(store_db, "create_engine", counted)
    result = planning.plan(path, vn(1, 12), settings)
    assert result.changes is not None and result.capped_now == 0 and result.approval is not None
    assert len(opened) == 1


# -- which occurrences `send` finds due: quiet hours delay, they never make one missed ----------
@pytest.mark.parametrize(
    ("now", "sms", "due", "missed", "upcoming"),
    [
        (vn(1, 23, 30), [], [], [], vn(1, 23)),  # quiet: not due before 07:00
        (vn(2, 7), [], [vn(1, 23)], [], vn(2, 9, 15)),  # due when the window opens...
        (vn(2, 8, 59), [], [vn(1, 23)], [], vn(2, 9, 15)),  # ...for the grace period (2 h)
        (vn(2, 9, 1), [], [], [vn(1, 23)], vn(2, 9, 15)),
        (vn(1, 23, 30), ["  urgent: true"], [vn(1, 23)], [], vn(2, 9, 15)),
        (vn(2, 1, 30), ["  urgent: true"], [], [vn(1, 23)], vn(2, 9, 15)),
        (vn(1, 23, 30), ["  quiet_hours: off"], [vn(1, 23)], [], vn(2, 9, 15)),
    ],
)  # fmt: skip
def test_occurrences_due_now_respect_quiet_hours(
    folder: Path, now: datetime, sms: list[str], due: list[datetime],
    missed: list[datetime], upcoming: datetime,
) -> None:  # fmt: skip
    campaign = services.prepare_campaign(_campaign(folder, *AT, *sms)).campaign
    settings = _settings(folder, grace_period_minutes=120)
    found = services._occurrences(campaign, FakeClock(now).now(), None, settings)
    assert [at for _, at in found[0]] == due
    assert [at for _, at in found[1]] == missed
    assert found[2] == upcoming
    assert all(key == at.isoformat(timespec="minutes") for key, at in found[0] + found[1])


GAPPY_LIST = "phone,ten,xa\n0912345678,Bình,Tân Đoàn\n0987654321,,Tân Đoàn\n0905111222,  ,\n"


def _gappy(folder: Path, text: str) -> Path:
    (folder / "lists" / "a.csv").write_text(GAPPY_LIST, encoding="utf-8")
    path = _campaign(folder)
    path.write_text(path.read_text(encoding="utf-8").replace("Xin chào", text), encoding="utf-8")
    return path


@pytest.mark.parametrize("preview", [0, 2, 5])
def test_plan_keeps_the_first_messages_as_sent(folder: Path, preview: int) -> None:
    path = _gappy(folder, "Chào {{ ten }} ở {{ xa }}")
    data = presenters.plan_data(planning.plan(path, vn(1, 12), _settings(folder), preview))
    expected = [
        {"phone": "+84912345678", "file": "lists/a.csv", "line": 2, "body": "Chào Bình ở Tân Đoàn",
         "encoding": "UCS-2", "segments": 1, "characters": 20},
        {"phone": "+84987654321", "file": "lists/a.csv", "line": 3, "body": "Chào  ở Tân Đoàn",
         "encoding": "UCS-2", "segments": 1, "characters": 16},
        {"phone": "+84905111222", "file": "lists/a.csv", "line": 4, "body": "Chào  ở",
         "encoding": "UCS-2", "segments": 1, "characters": 7},
    ]  # fmt: skip
    assert data["preview"] == expected[:preview]


def test_a_text_without_variables_previews_each_recipient_with_the_one_message(
    folder: Path,
) -> None:
    data = presenters.plan_data(planning.plan(_campaign(folder), vn(1, 12), _settings(folder), 2))
    assert [(s["phone"], s["body"], s["encoding"]) for s in data["preview"]] == [
        ("+84912345678", "Xin chào", "GSM-7"), ("+84987654321", "Xin chào", "GSM-7")
    ]  # fmt: skip
    assert data["empty_columns"] == []
    assert data["total_segments"] == 3


def test_plan_points_out_rows_that_leave_a_used_column_empty(folder: Path) -> None:
    path = _gappy(folder, "Chào {{ ten }} ở {{ xa }}")
    result = planning.plan(path, vn(1, 12), _settings(folder), 0)
    assert presenters.plan_data(result)["empty_columns"] == [
        {"column": "ten", "rows": 2,
         "first": [{"file": "lists/a.csv", "line": 3}, {"file": "lists/a.csv", "line": 4}]},
        {"column": "xa", "rows": 1, "first": [{"file": "lists/a.csv", "line": 4}]},
    ]  # fmt: skip
    table = presenters.plan_table(result, VN).splitlines()
    assert "Empty:       2 rows leave {{ ten }} empty: lists/a.csv lines 3, 4" in table
    assert "Empty:       1 row leaves {{ xa }} empty: lists/a.csv line 4" in table
    assert not any(line.startswith("Preview:") for line in table)


def test_a_long_gap_names_the_first_rows_and_counts_all(folder: Path) -> None:
    rows = "".join(f"09123456{n:02},\n" for n in range(25))
    (folder / "lists" / "a.csv").write_text("phone,ten\n" + rows, encoding="utf-8")
    path = _campaign(folder)
    path.write_text(path.read_text(encoding="utf-8").replace("Xin chào", "Chào {{ ten }}"))
    table = presenters.plan_table(planning.plan(path, vn(1, 12), _settings(folder), 0), VN)
    assert (
        "Empty:       25 rows leave {{ ten }} empty: lists/a.csv lines 2, 3, 4, 5, 6, 7, 8, "
        "9, 10, 11, …" in table.splitlines()
    )
