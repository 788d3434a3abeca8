"""Confirmations and the monthly report's airing rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from dispatcher.auth.tokens import token_digest
from dispatcher.bootstrap import Runtime, runtime
from dispatcher.broadcast import confirmations as airings
from dispatcher.broadcast import service as broadcast_service
from dispatcher.core.errors import BadInput
from dispatcher.reports import monthly as reports
from dispatcher.reports.monthly import FORM_LOUDSPEAKER, AiringResult
from dispatcher.settings.config import Settings
from dispatcher.store.models import ActivityRow, AiringConfirmationRow
from tests.fakes import FakeClock
from tests.script_cache import ScriptCache

REPO = Path(__file__).resolve().parents[2]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 10, 14, 10, 0, tzinfo=VN)  # a Monday
CAMPAIGN = "loa-thu"
COMMUNES = "[Xã Tân Đoàn, Xã Tràng Các]"
UNIT = "UBND huyện Văn Quan"


def write_campaign(folder: Path, start: str = "2024-09-30", end: str = "2024-10-31") -> Path:
    path = folder / "campaigns" / f"{CAMPAIGN}.yaml"
    path.write_text(
        "\n".join([
            f"id: {CAMPAIGN}", "title: Thử loa", f"unit: {UNIT}", "broadcast:",
            f"  communes: {COMMUNES}", "  times: ['06:00', '17:30']", "  days: [mon, wed, fri]",
            f"  start: {start}", f"  end: {end}",
            "  script: 'Bà con {{ commune|in_sentence }} chú ý: 2G tắt ngày 16/10/2024.'",
        ]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    return path


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "campaigns").mkdir()
    shutil.copy(REPO / "units.yaml", tmp_path / "units.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def settings(folder: Path, db_url: str, **extra: object) -> Settings:
    return Settings.model_validate({"database_url": db_url, "base_dir": folder, **extra})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def rt(folder: Path, db_url: str, clock: FakeClock, script_cache: ScriptCache) -> Iterator[Runtime]:
    """A runtime whose database knows the campaign (its scripts written, its airings planned)."""
    environ = {"USER": "thu"}
    with runtime(settings(folder, db_url), clock=clock, environ=environ) as rt:
        path = write_campaign(folder)
        with script_cache.reused(rt.settings.resolved_output_dir, path):
            broadcast_service.write_campaign_scripts(rt, path, None, None)
        yield rt


def grant_link(rt: Runtime, key: str, token: str, days: int = 30) -> None:
    """A link for ``key``'s page with a token of the test's choosing, as `broadcast link`
    stores one (its digest), valid ``days`` from the runtime's now."""
    digest = token_digest(token)
    assert digest is not None, "a test token is 32 URL-safe characters"
    now = rt.clock.now()
    with rt.uow() as uow:
        uow.access.add(
            digest=digest, role="commune", unit_key=key, label=key, by="test", now=now,
            expires_at=now + timedelta(days=days),
        )  # fmt: skip
        uow.commit()


def _problems(caught: pytest.ExceptionInfo[BadInput]) -> list[str]:
    return [str(p) for p in caught.value.problems]


# -- confirm ---------------------------------------------------------------------------------------
def test_a_confirmation_is_recorded_once_and_logged_once(rt: Runtime, clock: FakeClock) -> None:
    first = airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, "14/10/2024 06:00", duration_s=300)
    assert first.created
    scheduled = datetime(2024, 10, 14, 6, tzinfo=VN)
    c = first.confirmation
    assert (c.campaign_id, c.commune, c.scheduled_at, c.aired_at) == (
        CAMPAIGN, "Xã Tân Đoàn", scheduled, scheduled,
    )  # fmt: skip
    assert (c.duration_s, c.confirmed_by, c.source, c.created_at) == (300, "cli:thu", "cli", NOW)
    clock.advance(timedelta(minutes=5))
    # The same airing, written other ways: the commune's code, its slug, ISO with an offset.
    for commune, at in [("06307", "2024-10-14T06:00"), ("xa-tan-doan", "2024-10-13T23:00Z")]:
        again = airings.confirm(rt, commune, CAMPAIGN, at, source="web", by="web:xa-tan-doan")
        assert not again.created
        assert again.confirmation == first.confirmation  # the earlier record, unchanged
    logged = select(ActivityRow.campaign_id, ActivityRow.occurrence_key, ActivityRow.detail)
    with rt.uow() as uow:
        rows = uow.repo.session.scalars(select(AiringConfirmationRow.id)).all()
        found = uow.repo.session.execute(logged.where(ActivityRow.kind == "airing-confirmed"))
        events = [tuple(e) for e in found]
    assert len(rows) == 1
    assert events == [
        (CAMPAIGN, "2024-10-14T06:00+07:00",
         "Xã Tân Đoàn: aired at 06:00 14/10/2024, 300 s; by cli:thu (cli)"),
    ]  # fmt: skip


def test_confirmations_cannot_be_changed_or_deleted(rt: Runtime, db_url: str) -> None:
    airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, "14/10/2024 06:00")
    for statement in ("UPDATE airing_confirmations SET duration_s = 1",
                      "DELETE FROM airing_confirmations"):  # fmt: skip
        with pytest.raises(DBAPIError, match="append-only"), rt.engine.begin() as connection:
            connection.execute(text(statement))


def test_two_confirmations_racing_record_one(rt: Runtime) -> None:
    barrier, results = threading.Barrier(2), []

    def press() -> None:
        barrier.wait()
        results.append(airings.confirm(rt, "Xã Tràng Các", CAMPAIGN, "14/10/2024 06:00").created)

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]


def test_an_airing_not_in_the_plan_lists_the_nearest_planned(rt: Runtime) -> None:
    with pytest.raises(BadInput) as caught:
        airings.confirm(rt, "Tân Đoàn", CAMPAIGN, "14/10/2024 06:30")
    assert _problems(caught) == [
        f"--at: Xã Tân Đoàn has no airing of {CAMPAIGN} at 06:30 14/10/2024; the nearest "
        "planned: 06:00 14/10/2024, 17:30 14/10/2024, 06:00 16/10/2024"
    ]
    with pytest.raises(BadInput) as caught:
        airings.confirm(rt, "Tân Đoàn", CAMPAIGN, "15/10/2024 06:00", source="web")
    assert _problems(caught)[0].startswith("at: Xã Tân Đoàn has no airing of loa-thu at 06:00 ")


@pytest.mark.parametrize(
    ("commune", "campaign", "expected"),
    [
        ("Xã Lạ", CAMPAIGN, "--commune: 'Xã Lạ' is not a commune with planned airings "
                            "(communes: Xã Tràng Các, Xã Tân Đoàn)"),
        ("Xã Tân Đoàn", "khong-co", f"--campaign: unknown campaign 'khong-co' (campaigns: "
                                    f"{CAMPAIGN})"),
    ],
)  # fmt: skip
def test_unknown_communes_and_campaigns_are_named(
    rt: Runtime, commune: str, campaign: str, expected: str
) -> None:
    with pytest.raises(BadInput) as caught:
        airings.confirm(rt, commune, campaign, "14/10/2024 06:00")
    assert _problems(caught) == [expected]


def test_a_commune_of_another_campaign_is_not_in_this_ones(rt: Runtime, folder: Path) -> None:
    other = folder / "campaigns" / "khac.yaml"
    other.write_text(
        "id: khac\ntitle: Khác\nunit: UBND huyện Văn Quan\nbroadcast:\n"
        "  communes: [Xã Tràng Phái]\n  times: ['06:00']\n  start: 2024-10-14\n"
        "  end: 2024-10-14\n  script: Thông báo.\n",
        encoding="utf-8",
    )
    broadcast_service.write_campaign_scripts(rt, other, None, None)
    with pytest.raises(BadInput) as caught:
        airings.confirm(rt, "Tràng Phái", CAMPAIGN, "14/10/2024 06:00")
    assert _problems(caught) == [
        f"--commune: 'Tràng Phái' has no planned airing in campaign {CAMPAIGN} "
        "(Xã Tràng Các, Xã Tân Đoàn)"
    ]


def test_an_airing_to_come_cannot_be_confirmed_before_its_hour(
    rt: Runtime, clock: FakeClock
) -> None:
    with pytest.raises(BadInput) as caught:
        airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, "14/10/2024 17:30")
    assert _problems(caught) == [
        "--at: the airing of 17:30 14/10/2024 has not come yet: confirm it once it has aired"
    ]
    clock.set(datetime(2024, 10, 14, 17, 0, tzinfo=VN))  # half an hour early: it aired early
    result = airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, "14/10/2024 17:30")
    assert result.confirmation.aired_at == clock.now()


def test_when_it_really_aired_and_for_how_long(rt: Runtime) -> None:
    result = airings.confirm(
        rt, "Xã Tân Đoàn", CAMPAIGN, "11/10/2024 17:30", aired_at="11/10/2024 18:05",
        duration_s=420,
    )  # fmt: skip
    assert result.confirmation.aired_at == datetime(2024, 10, 11, 18, 5, tzinfo=VN)
    cases = [
        ({"aired_at": "14/10/2024 11:00"}, "--aired-at: 14/10/2024 11:00 is in the future"),
        ({"aired_at": "09/10/2024 06:00"}, "--aired-at: 09/10/2024 06:00 is long before the "
                                           "airing it confirms"),
        ({"duration_s": 0}, "--duration: 0 is not a duration in seconds from 1 to 14400"),
        ({"duration_s": 86_400}, "--duration: 86400 is not a duration in seconds from 1 to 14400"),
    ]  # fmt: skip
    for options, expected in cases:
        with pytest.raises(BadInput) as caught:
            airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, "14/10/2024 06:00", **options)  # type: ignore[arg-type]
        assert _problems(caught) == [expected]


# -- the monthly report ---------------------------------------------------------------------------
def test_the_report_counts_what_aired_and_lists_past_airings_not_confirmed(rt: Runtime) -> None:
    # 30/09 17:30 aired past midnight: it counts in October, and is missing from no month.
    airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, "30/09/2024 17:30", aired_at="01/10/2024 00:10",
                    duration_s=600)  # fmt: skip
    airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, "02/10/2024 06:00", duration_s=330)
    airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, "14/10/2024 06:00")
    airings.confirm(rt, "Xã Tràng Các", CAMPAIGN, "11/10/2024 17:30")
    october = reports.monthly(rt, "2024-10")
    tan_doan = october.rows[1]
    # 930 s over two of its three airings; its 9 past airings not confirmed are named beside
    assert tan_doan.airing == AiringResult(seconds=930, timed=2, unconfirmed=9)
    assert tan_doan.result == "Đã phát 16 phút (1 lượt không ghi thời lượng)"
    assert tan_doan.note == "Đã được xã xác nhận; 9 lượt chưa xác nhận (không tính)"
    assert october.daily == {
        (UNIT, FORM_LOUDSPEAKER, date(2024, 10, 1)): 1,  # 00:10 on the 1st, in Vietnam
        (UNIT, FORM_LOUDSPEAKER, date(2024, 10, 2)): 1,
        (UNIT, FORM_LOUDSPEAKER, date(2024, 10, 11)): 1,
        (UNIT, FORM_LOUDSPEAKER, date(2024, 10, 14)): 1,
    }
    assert [(r.unit, r.means, r.count, r.count_unit, r.status) for r in october.rows] == [
        (UNIT, "Đài truyền thanh xã Tràng Các", 1, "lượt", "aired"),
        (UNIT, "Đài truyền thanh xã Tân Đoàn", 3, "lượt", "aired"),
    ]
    # Past days of October: Mon/Wed/Fri 2, 4, 7, 9, 11 at 06:00 and 17:30 = 10 per commune.
    # Today's airings (14/10) may still be confirmed today; the days to come are not counted.
    missing = {r.means: r for r in october.unconfirmed}
    assert {m: (r.count, r.status) for m, r in missing.items()} == {
        "Đài truyền thanh xã Tràng Các": (9, "unconfirmed"),
        "Đài truyền thanh xã Tân Đoàn": (9, "unconfirmed"),
    }
    assert datetime(2024, 10, 2, 6, tzinfo=VN) not in missing["Đài truyền thanh xã Tân Đoàn"].times
    assert missing["Đài truyền thanh xã Tràng Các"].times[-1] == datetime(
        2024, 10, 11, 6, tzinfo=VN
    )
    september = reports.monthly(rt, "2024-09")
    assert september.rows == []
    assert [(r.means, r.count) for r in september.unconfirmed] == [
        ("Đài truyền thanh xã Tràng Các", 2), ("Đài truyền thanh xã Tân Đoàn", 1),
    ]  # fmt: skip
    assert reports.monthly(rt, "2024-11").unconfirmed == []  # not aired yet: nothing to chase
    assert all(t.tzinfo is not None for r in october.unconfirmed for t in r.times)


def test_times_are_stored_in_utc(rt: Runtime) -> None:
    airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, "14/10/2024 06:00")
    with rt.uow() as uow:
        stored = uow.repo.session.scalars(select(AiringConfirmationRow.scheduled_at)).one()
    assert stored == datetime(2024, 10, 13, 23, 0, tzinfo=UTC)


def test_a_folded_name_two_communes_share_is_refused_never_guessed(rt: Runtime) -> None:
    # Issue 13.4: "Xã Tân Thành" and "Xã Tân Thạnh" of two campaigns fold to one slug.
    known = ["Xã Tân Thành", "Xã Tân Thạnh"]
    with pytest.raises(BadInput) as caught:
        airings.commune_names(rt, "xa-tan-thanh", known, "--commune")
    assert caught.value.problems[0].message == (
        "'xa-tan-thanh' could be Xã Tân Thành or Xã Tân Thạnh: write the name with its tone "
        "marks, or the code"
    )
    assert airings.commune_names(rt, "xã tân thạnh", known, "--commune") == ["Xã Tân Thạnh"]
