"""The opt-out list on real databases (SQLite and PostgreSQL): repository, use cases, the log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError

from dispatcher.audience.lists import Subscriber
from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput
from dispatcher.safety import optouts
from dispatcher.safety.optouts import Change, OptOutFilter
from dispatcher.settings.config import Settings
from dispatcher.store.models import OptOutEventRow
from dispatcher.store.optouts import IN_CHUNK, INSERT_CHUNK, NewOptOut, OptOut
from dispatcher.store.uow import unit_of_work_factory
from tests.fakes import FakeClock

T0 = datetime(2024, 10, 1, 1, 0, tzinfo=UTC)
LAN = "+84912345678"
BINH = "+84381234567"


@pytest.fixture
def rt(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.chdir(tmp_path)  # imports name their file relative to the working directory
    uow = unit_of_work_factory(engine)
    return Runtime(Settings(), engine, uow, FakeClock(T0), environ={"USER": "lan.nguyen"})


def _log(engine: Engine) -> list[tuple[str, str, str, str, str | None]]:
    query = select(
        OptOutEventRow.phone,
        OptOutEventRow.action,
        OptOutEventRow.reason,
        OptOutEventRow.source,
        OptOutEventRow.created_by,
    ).order_by(OptOutEventRow.id)
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]  # type: ignore[misc]


# -- the repository ----------------------------------------------------------------------------
def test_add_and_remove_are_idempotent_and_logged(engine: Engine) -> None:
    uow = unit_of_work_factory(engine)
    later = T0 + timedelta(days=1)
    with uow() as u:
        assert u.optouts.add(LAN, "called the commune", "cli", T0) is True
        assert u.optouts.add(LAN, "again", "twilio-21610", later) is False
        u.commit()
    with uow() as u:
        assert list(u.optouts.all()) == [OptOut(LAN, "called the commune", "cli", T0, None)]
        assert u.optouts.remove(LAN, "wants notices", "cli", later) is True
        assert u.optouts.remove(LAN, "wants notices", "cli", later) is False
        assert u.optouts.remove(BINH, "never on it", "cli", later) is False
        u.commit()
    with uow() as u:
        assert u.optouts.contains([LAN, BINH]) == set()
    assert _log(engine) == [
        (LAN, "add", "called the commune", "cli", None),
        (LAN, "remove", "wants notices", "cli", None),
    ]


def test_nothing_is_kept_unless_committed(engine: Engine) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        u.optouts.add(LAN, "", "cli", T0)
    with uow() as u:
        assert list(u.optouts.all()) == []
    assert _log(engine) == []


@pytest.mark.parametrize(
    "statement", ["UPDATE optout_log SET reason = 'x'", "DELETE FROM optout_log"]
)
def test_the_optout_log_refuses_updates_and_deletes(engine: Engine, statement: str) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        u.optouts.add(LAN, "called", "cli", T0)
        u.commit()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    assert _log(engine) == [(LAN, "add", "called", "cli", None)]


def test_the_optout_log_accepts_only_add_and_remove(engine: Engine) -> None:
    insert = (
        "INSERT INTO optout_log (at, phone, action, reason, source) "
        "VALUES (CURRENT_TIMESTAMP, '+84912345678', 'update', '', 'cli')"
    )
    with pytest.raises(DBAPIError, match="ck_optout_log_action"), engine.begin() as connection:
        connection.execute(text(insert))


def _numbers(count: int) -> list[str]:
    return [f"+8491{n:07d}" for n in range(count)]


@pytest.fixture
def selects(engine: Engine) -> Iterator[list[str]]:
    """The SELECT statements the engine runs while the test does."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):
            seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_contains_answers_for_10k_numbers_in_few_queries(
    engine: Engine, selects: list[str]
) -> None:
    numbers = _numbers(10_000)
    opted_out = set(numbers[::3])
    uow = unit_of_work_factory(engine)
    with uow() as u:
        u.optouts.add_many([NewOptOut(p, "", "test") for p in sorted(opted_out)], T0)
        u.commit()
    selects.clear()
    with uow() as u:
        found = u.optouts.contains(numbers + numbers[:100])  # repeats are asked once
    assert found == opted_out
    # Chunked IN lists, not one query a number nor one list beyond SQLite's oldest limit (999).
    assert IN_CHUNK <= 999
    assert len(selects) == -(-10_000 // IN_CHUNK) <= 20


def test_add_many_adds_only_new_numbers_and_the_first_row_wins(engine: Engine) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        u.optouts.add(LAN, "by phone", "cli", T0)
        entries = [
            NewOptOut(LAN, "dnc", "import:a.csv:2"),
            NewOptOut(BINH, "first", "import:a.csv:3"),
            NewOptOut(BINH, "second", "import:a.csv:4"),
        ]
        assert u.optouts.add_many(entries, T0, "lan.nguyen") == {BINH}
        u.commit()
    with uow() as u:
        assert {e.phone: e.reason for e in u.optouts.all()} == {LAN: "by phone", BINH: "first"}
    assert _log(engine)[1:] == [(BINH, "add", "first", "import:a.csv:3", "lan.nguyen")]


# -- the use cases -----------------------------------------------------------------------------
def test_add_takes_a_number_in_any_written_form(rt: Runtime, engine: Engine) -> None:
    assert optouts.add(rt, "0912 345 678", "gọi điện lên xã") == Change(LAN, True)
    assert optouts.add(rt, "(+84) 91 234 5678") == Change(LAN, False)
    assert optouts.add(rt, "0168 123 4567") == Change("+84381234567", True)  # pre-2018 number
    assert list(optouts.entries(rt)) == [
        OptOut(BINH, "", "cli", T0, "lan.nguyen"),
        OptOut(LAN, "gọi điện lên xã", "cli", T0, "lan.nguyen"),
    ]
    assert optouts.remove(rt, "84912345678", "muốn nhận lại") == Change(LAN, True)
    assert [e.phone for e in optouts.entries(rt)] == [BINH]
    assert _log(engine)[-1] == (LAN, "remove", "muốn nhận lại", "cli", "lan.nguyen")


@pytest.mark.parametrize("command", [optouts.add, optouts.remove])
def test_a_bad_number_is_bad_input_naming_the_argument(rt: Runtime, command: Any) -> None:
    with pytest.raises(BadInput) as caught:
        command(rt, "0205 3830 018")  # a landline
    (problem,) = caught.value.problems
    assert problem.field == "PHONE"
    assert str(problem) == "PHONE: '0205 3830 018': landline: cannot receive SMS"
    assert list(optouts.entries(rt)) == []


def test_import_keeps_each_rows_reason_and_reports_invalid_rows(
    rt: Runtime, tmp_path: Path, engine: Engine
) -> None:
    optouts.add(rt, LAN, "by phone")
    (tmp_path / "dnc.csv").write_text(
        "phone,note\n"
        "0381 234 567,Nhắn DK DNC tới 5656\n"  # 2
        "không có số,\n"  # 3
        "0912345678,already on the list\n"  # 4
        ",a row with a note and no number\n"  # 5
        "0701234567,\n"  # 6: no note, takes --reason
        "038.123.4567,repeated\n",  # 7
        encoding="utf-8",
    )
    result = optouts.import_file(rt, tmp_path / "dnc.csv", "DNC list, October")
    assert (result.file, result.added, result.already, result.invalid) == ("dnc.csv", 2, 2, 2)
    assert [str(p) for p in result.problems] == [
        "dnc.csv:3: 'không có số': not a phone number",
        "dnc.csv:5: '': empty",
    ]
    assert {(e.phone, e.reason, e.source) for e in optouts.entries(rt)} == {
        (LAN, "by phone", "cli"),
        (BINH, "Nhắn DK DNC tới 5656", "import:dnc.csv:2"),
        ("+84701234567", "DNC list, October", "import:dnc.csv:6"),
    }
    assert [row[:2] for row in _log(engine)] == [
        (LAN, "add"), (BINH, "add"), ("+84701234567", "add"),
    ]  # fmt: skip


def test_import_reads_xlsx_lists(rt: Runtime, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Phone", "Reason"])
    sheet.append([912345678, "xin không nhận"])  # Excel keeps numbers as numbers
    workbook.save(tmp_path / "dnc.xlsx")
    result = optouts.import_file(rt, tmp_path / "dnc.xlsx")
    assert (result.added, result.already, result.invalid) == (1, 0, 0)
    assert [(e.phone, e.reason) for e in optouts.entries(rt)] == [(LAN, "xin không nhận")]


def test_an_unreadable_import_adds_nothing(rt: Runtime, tmp_path: Path) -> None:
    # Line 3 is broken (a separator shifted it): found after line 2 was read, nothing is kept.
    (tmp_path / "bad.csv").write_text("phone,note\n0912345678,ok\n0381234567,a,b\n")
    with pytest.raises(BadInput, match=r"bad\.csv:3: 3 cells but the header has 2 columns"):
        optouts.import_file(rt, tmp_path / "bad.csv")
    assert list(optouts.entries(rt)) == []


@pytest.mark.parametrize("preload", [0, 100], ids=["queried-in-batches", "read-at-once"])
def test_the_filter_leaves_out_opted_out_subscribers_and_counts_them(
    engine: Engine, preload: int
) -> None:
    numbers = _numbers(25)
    subscribers = [Subscriber(p, "l.csv", i + 2, {}) for i, p in enumerate(numbers)]
    uow = unit_of_work_factory(engine)
    with uow() as u:
        u.optouts.add_many([NewOptOut(p, "", "test") for p in numbers[::4]], T0)
        # 7 on the list: above preload=0 (several batches, the last one short), below 100.
        allowed = OptOutFilter(u.optouts, batch=10, preload=preload)
        kept = list(allowed(subscribers))
    assert [s.phone for s in kept] == [p for i, p in enumerate(numbers) if i % 4]
    assert allowed.excluded == 7


def test_add_many_logs_every_number_across_insert_chunks(engine: Engine) -> None:
    numbers = _numbers(2_500)
    assert len(numbers) > 2 * INSERT_CHUNK
    uow = unit_of_work_factory(engine)
    with uow() as u:
        added = u.optouts.add_many([NewOptOut(p, "", "test") for p in numbers], T0)
        u.commit()
    assert added == set(numbers)
    with engine.connect() as connection:
        logged = connection.execute(select(func.count()).select_from(OptOutEventRow)).scalar()
    assert logged == 2_500
