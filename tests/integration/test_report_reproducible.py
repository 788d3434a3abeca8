"""Every number of the monthly report can be made again from the logs (issue 14, part 4), on
SQLite and PostgreSQL.

A month of mixed outreach is built through the product's own write paths, drawn at random from
a fixed seed: SMS accepted, delivered, undelivered, refused, left pending, in a test send, on
both sides of the month's edges (in Vietnam's time); airings confirmed with and without their
duration, one aired past midnight into the month, others never confirmed; activities recorded,
corrected and voided. The expected figures are then counted here from the raw log tables alone,
by a different method (Python over every row: a delivery's status is its last logged event, not
the outbox's), and compared with each cell of the report and of its CSV.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from dispatcher.bootstrap import Runtime, runtime
from dispatcher.broadcast import confirmations as airings
from dispatcher.broadcast import service as broadcast_service
from dispatcher.cli import present_report
from dispatcher.core.outbox import NewDelivery, Outcome
from dispatcher.core.status import Status
from dispatcher.reports import activities
from dispatcher.reports import monthly as reports
from dispatcher.reports.activity_fields import ActivityFields
from dispatcher.reports.forms import form_by_code
from dispatcher.store.models import CampaignRow
from tests.fakes import FakeClock
from tests.integration.test_airings import CAMPAIGN, settings, write_campaign
from tests.script_cache import ScriptCache

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 10, 14, 10, 0, tzinfo=VN)
OCTOBER = (datetime(2024, 10, 1, tzinfo=VN), datetime(2024, 11, 1, tzinfo=VN))
REACHED = {"accepted", "sent", "delivered", "undelivered"}
SMS_CAMPAIGNS = [
    ("sms-huyen", "UBND huyện Văn Quan", "VANQUAN"),
    ("sms-xa", "UBND xã Tân Đoàn", None),
]
PLANNED_AIRINGS = ("loa-thu", "Xã Tân Đoàn"), ("loa-thu", "Xã Tràng Các")


@pytest.fixture
def rt(
    tmp_path: Path, db_url: str, script_cache: ScriptCache, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    (tmp_path / "campaigns").mkdir()
    units = Path(__file__).resolve().parents[2] / "units.yaml"
    (tmp_path / "units.yaml").write_bytes(units.read_bytes())
    monkeypatch.chdir(tmp_path)
    with runtime(settings(tmp_path, db_url), clock=FakeClock(NOW), environ={"USER": "thu"}) as rt:
        path = write_campaign(tmp_path)
        with script_cache.reused(rt.settings.resolved_output_dir, path):
            broadcast_service.write_campaign_scripts(rt, path, None, None)
        yield rt


def _moment(rng: random.Random) -> datetime:
    """A time from 28/09 to 13/10 (Vietnam), often near the edge of October."""
    if rng.random() < 0.25:  # the last hours of September and the first of October
        return datetime(2024, 10, 1, tzinfo=VN) + timedelta(minutes=rng.randint(-300, 300))
    return datetime(2024, 9, 28, tzinfo=VN) + timedelta(minutes=rng.randint(0, 15 * 24 * 60))


def _send_sms(rt: Runtime, rng: random.Random) -> None:
    phones = [f"+8491{n:07d}" for n in range(40)]
    for campaign_id, unit, sender in SMS_CAMPAIGNS:
        with rt.uow() as uow:
            row = CampaignRow(id=campaign_id, title=f"Tắt 2G ({campaign_id})", unit=unit,
                              timezone="Asia/Ho_Chi_Minh", source_path=f"{campaign_id}.yaml",
                              fingerprint="0" * 64)  # fmt: skip
            uow.repo.save_campaign(row, NOW)
            uow.commit()
        for key in ("lan-1", "lan-2", "thu"):  # two rounds to overlapping numbers, and a test
            _one_occurrence(rt, rng, campaign_id, key, rng.sample(phones, 25), sender)


def _one_occurrence(
    rt: Runtime, rng: random.Random, campaign_id: str, key: str, phones: list[str],
    sender: str | None,
) -> None:  # fmt: skip
    start = datetime(2024, 9, 27, tzinfo=VN)
    with rt.uow() as uow:
        occurrence = uow.repo.add_occurrence(campaign_id, key, start, "open", start)
        occurrence.test = key == "thu"
        new = [NewDelivery(p, f"l.csv:{i}", "Xin chào", "GSM-7", rng.choice([1, 2]), sender)
               for i, p in enumerate(phones)]  # fmt: skip
        uow.repo.add_deliveries(occurrence, new, start)
        uow.commit()
        claimed = uow.repo.claim(occurrence.id, 100, start, start).messages
        uow.commit()
    for message in claimed:
        _fate(rt, rng, message.delivery_id)


def _fate(rt: Runtime, rng: random.Random, delivery_id: int) -> None:
    """Accepted (then perhaps delivered, undelivered or failed), refused, or no answer."""
    first = _moment(rng)
    fate = rng.choices(["delivered", "undelivered", "failed", "accepted", "refused", "silent"],
                       weights=[5, 1, 1, 2, 1, 1])[0]  # fmt: skip
    steps: list[tuple[Status, datetime]] = []
    if fate == "refused":
        steps.append((Status.FAILED, first))
    elif fate != "silent":
        steps.append((Status.ACCEPTED, first))
        if fate in ("delivered", "undelivered", "failed"):
            steps.append((Status(fate), first + timedelta(hours=rng.choice([0, 1, 30]))))
    for status, at in steps:
        with rt.uow() as uow:
            provider_id = f"SM{delivery_id:032d}" if status == Status.ACCEPTED else None
            uow.repo.apply([Outcome(delivery_id, status, provider_id, error_code=None)], at)
            uow.commit()


def _confirm_airings(rt: Runtime, rng: random.Random) -> None:
    # 30/09 17:30 aired at 00:10 on 01/10: it counts in October.
    airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, "30/09/2024 17:30", aired_at="01/10/2024 00:10",
                    duration_s=600)  # fmt: skip
    days = [date(2024, 9, 30), *(date(2024, 10, d) for d in (2, 4, 7, 9, 11))]
    for commune in ("Xã Tân Đoàn", "Xã Tràng Các"):
        for day in days:
            for clock in ("06:00", "17:30"):
                if rng.random() < 0.4 and (commune, day, clock) != (
                    "Xã Tân Đoàn",
                    days[0],
                    "17:30",
                ):
                    duration = rng.choice([None, 300, 420, 615])
                    airings.confirm(rt, commune, CAMPAIGN, f"{day:%d/%m/%Y} {clock}",
                                    duration_s=duration)  # fmt: skip


def _record_activities(rt: Runtime, rng: random.Random) -> None:
    made = []
    for _ in range(10):
        unit = rng.choice(["Tân Đoàn", "Tràng Các", "Khánh Khê"])
        form = rng.choice(["meeting", "banner", "social", "door_to_door"])
        day = date(2024, 9, 25) + timedelta(days=rng.randint(0, 18))
        fields = ActivityFields(unit=unit, form=form, count=str(rng.randint(1, 9)),
                                date=f"{day:%d/%m/%Y}", means=rng.choice(["", "Zalo", "Thôn"]),
                                content=rng.choice(["Tắt sóng 2G", "Đổi máy 4G"]))  # fmt: skip
        made.append(activities.add(rt, fields).id)
    activities.correct(rt, made[0], ActivityFields(count="12"), "đếm lại")
    corrected = activities.correct(rt, made[1], ActivityFields(date="02/10/2024"), "sai ngày")
    activities.void(rt, corrected.id, "trùng")  # a correction, voided in turn
    activities.void(rt, made[2], "nhập nhầm")


# -- counted here, from the raw tables ------------------------------------------------------------
def _rows(rt: Runtime, query: str) -> list[Any]:
    with rt.uow() as uow:
        return list(uow.repo.session.execute(text(query)))


def _utc(value: datetime | str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _in_october(moment: datetime) -> bool:
    return OCTOBER[0] <= moment < OCTOBER[1]


def _expected_sms(rt: Runtime) -> dict[tuple[str, str], dict[str, Any]]:
    deliveries = {
        d.id: d for d in _rows(rt, "SELECT d.id, d.phone, d.segments, d.sender, c.unit, o.test "
                                   "FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id "
                                   "JOIN occurrences o ON o.id = d.occurrence_id")
    }  # fmt: skip
    events: dict[int, list[tuple[int, datetime, str]]] = defaultdict(list)
    for e in _rows(rt, "SELECT id, delivery_id, at, status FROM delivery_log"):
        events[e.delivery_id].append((e.id, _utc(e.at), e.status))
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for delivery_id, history in events.items():
        d = deliveries[delivery_id]
        if d.test:
            continue
        last = max(history)[2]  # the latest event: the delivery's status now
        reached = [at for _, at, status in history if status in REACHED]
        failed = [at for _, at, status in history if status == "failed"]
        group = expected.setdefault((d.unit, f"Tin nhắn qua tổng đài, tên định danh {d.sender}"
                                     if d.sender else "Tin nhắn qua tổng đài"),
                                    _new_sms_group())  # fmt: skip
        if reached and _in_october(min(reached)):
            group["sent"] += 1
            group["segments"] += d.segments
            group["numbers"].add(d.phone)
            group["days"][min(reached).astimezone(VN).date()] += 1
            group["delivered"] += last == "delivered"
            group["failed"] += last in ("undelivered", "failed")
            if last == "delivered":
                group["reached"].add(d.phone)
        elif not reached and failed and _in_october(failed[0]):
            group["failed"] += 1
    return {k: v for k, v in expected.items() if v["sent"] or v["failed"]}


def _new_sms_group() -> dict[str, Any]:
    return {"sent": 0, "segments": 0, "delivered": 0, "failed": 0, "reached": set(),
            "numbers": set(), "days": Counter()}  # fmt: skip


def _expected_airings(rt: Runtime) -> dict[str, dict[str, Any]]:
    expected: dict[str, dict[str, Any]] = {}
    for c in _rows(rt, "SELECT commune, aired_at, duration_s FROM airing_confirmations"):
        if _in_october(_utc(c.aired_at)):
            station = "Đài truyền thanh " + c.commune.replace("Xã ", "xã ")
            group = expected.setdefault(station, {"count": 0, "seconds": 0, "timed": 0,
                                                  "days": Counter(), "waiting": 0})  # fmt: skip
            group["count"] += 1
            group["seconds"] += c.duration_s or 0
            group["timed"] += c.duration_s is not None
            group["days"][_utc(c.aired_at).astimezone(VN).date()] += 1
    confirmed = {(c.commune, _utc(c.scheduled_at)) for c in
                 _rows(rt, "SELECT commune, scheduled_at FROM airing_confirmations")}  # fmt: skip
    today = datetime(2024, 10, 14, tzinfo=VN)  # today's airings may still be confirmed today
    for a in _rows(rt, "SELECT commune, scheduled_at FROM airings WHERE state = 'planned'"):
        at = _utc(a.scheduled_at)
        if OCTOBER[0] <= at < today and (a.commune, at) not in confirmed:
            station = "Đài truyền thanh " + a.commune.replace("Xã ", "xã ")
            expected.setdefault(station, {"count": 0, "waiting": 0})["waiting"] += 1
    return expected


def _expected_activities(rt: Runtime) -> dict[tuple[str, str, str], dict[str, Any]]:
    rows = _rows(rt, "SELECT id, kind, corrects_id, unit_name, form, count, day, means, content "
                     "FROM outreach_activities")  # fmt: skip
    replaced = {r.corrects_id for r in rows if r.corrects_id is not None}
    expected: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in rows:
        day = r.day if isinstance(r.day, date) else date.fromisoformat(r.day)
        if (
            r.kind == "void"
            or r.id in replaced
            or not (date(2024, 10, 1) <= day <= date(2024, 10, 31))
        ):
            continue
        label = form_by_code(r.form).label
        group = expected.setdefault((r.unit_name, label, r.means or ""),
                                    {"count": 0, "contents": set(), "days": Counter()})  # fmt: skip
        group["count"] += r.count
        group["contents"] |= {r.content} if r.content else set()
        group["days"][day] += r.count
    return expected


# -- the test -------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [14, 2024])
def test_every_cell_of_the_report_is_counted_again_from_the_logs(rt: Runtime, seed: int) -> None:
    rng = random.Random(seed)
    _send_sms(rt, rng)
    _confirm_airings(rt, rng)
    _record_activities(rt, rng)
    report = reports.monthly(rt, "2024-10")
    sms, aired, recorded = _expected_sms(rt), _expected_airings(rt), _expected_activities(rt)
    assert sms and aired and recorded  # the draw covers every source
    got_daily: Counter[tuple[str, str, date]] = Counter(report.daily)
    want_daily: Counter[tuple[str, str, date]] = Counter()
    for row in report.rows:
        if row.status == "sent":
            want = sms.pop((row.unit, row.means))
            assert row.sms is not None
            assert (row.count, row.segments, row.sms.delivered, row.sms.failed) == (
                want["sent"],
                want["segments"],
                want["delivered"],
                want["failed"],
            )
            assert (row.sms.reached, row.sms.numbers) == (
                len(want["reached"]),
                len(want["numbers"]),
            )
            want_daily.update({(row.unit, row.form, d): n for d, n in want["days"].items()})
        elif row.status == "aired":
            want = aired.pop(row.means)
            assert row.airing is not None
            assert (row.count, row.airing.seconds, row.airing.timed, row.airing.unconfirmed) == (
                want["count"],
                want["seconds"],
                want["timed"],
                want["waiting"],
            )
            want_daily.update({(row.unit, row.form, d): n for d, n in want["days"].items()})
        else:
            want = recorded.pop((row.unit, row.form, row.means))
            assert row.count == want["count"]
            assert sorted(row.content.split("; ")) == sorted(want["contents"])
            want_daily.update({(row.unit, row.form, d): n for d, n in want["days"].items()})
    assert sms == {} and recorded == {}  # every expected row is in the report
    assert all(group["count"] == 0 for group in aired.values())  # only unconfirmed ones left
    assert {r.means: r.count for r in report.unconfirmed} == {
        station: group["waiting"]
        for station, group in _expected_airings(rt).items()
        if group["waiting"]
    }
    assert got_daily == want_daily
    _check_csv(report)


def _check_csv(report: reports.MonthlyReport) -> None:
    """The CSV carries the same cells, and its Tổng cộng is their sum."""
    lines = list(csv.reader(io.StringIO(present_report.monthly(report, "csv", bom=False))))
    counted = lines[1 : 1 + len(report.rows)]
    assert [(int(c[0]), c[1], c[2], c[3], int(c[4]), c[6], c[7], c[8]) for c in counted] == [
        (i, r.unit, r.form, r.content, r.count, r.means, r.result, r.note)
        for i, r in enumerate(report.rows, start=1)
    ]
    total = lines[1 + len(report.rows)]
    assert total[1] == "Tổng cộng" and int(total[4]) == sum(r.count for r in report.rows)
