"""The audit chain on SQLite and PostgreSQL (issue 14.2): every log record the service appends
is chained in commit order; `log verify` finds any edit, deletion, insertion or reordering,
even after the append-only triggers were dropped and recreated; a printed head catches a
rewrite of the whole chain; several workers appending at once keep one gapless chain."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import Engine, func, select, text

from dispatcher.core.chain import GENESIS, canonical, link
from dispatcher.reports.log_verify import (
    Anchor,
    Verdict,
    split,
    verify_chain,
    verify_in_parallel,
)
from dispatcher.store import chain as chain_store
from dispatcher.store import chain_walk
from dispatcher.store.airings import Confirmation, Correction
from dispatcher.store.chain import CHAINED
from dispatcher.store.db import make_engine
from dispatcher.store.models import ChainRow, OutreachActivityRow
from dispatcher.store.uow import unit_of_work_factory
from tests.fakes import FakeGateway
from tests.integration.test_sender import PHONES, _occurrence, _run
from tests.integration.test_store import _migrate

NOW = datetime(2024, 10, 2, 6, 0, tzinfo=UTC)


def _history(engine: Engine) -> None:
    """A bit of everything the service logs: a send, an opt-out and its removal, an approval,
    a halt, an airing confirmed and undone, an outreach activity."""
    occurrence_id = _occurrence(engine, PHONES[:5])
    _run(engine, FakeGateway(), occurrence_id)
    with unit_of_work_factory(engine)() as uow:
        uow.optouts.add("+84912340099", "asked", "cli", NOW, "can-bo")
        uow.approvals.add("c", "f" * 64, 5, "truong-phong", NOW)
        uow.repo.record_activity("halt", NOW, detail="test")
        uow.repo.airings.add_confirmation(Confirmation(
            campaign_id="c", commune="Xã Tân Đoàn", scheduled_at=NOW, aired_at=NOW,
            duration_s=300, confirmed_by="cli:can-bo", source="cli", created_at=NOW))  # fmt: skip
        confirmed = uow.repo.airings.confirmation("c", "Xã Tân Đoàn", NOW)
        assert confirmed is not None and confirmed.id is not None
        uow.repo.airings.add_correction(Correction(
            confirmation_id=confirmed.id, kind="undo", corrects=None, recorded_by="web:06307",
            source="web", created_at=NOW))  # fmt: skip
        uow.repo.session.add(OutreachActivityRow(
            kind="record", unit_code="xa-tan-doan", unit_name="Xã Tân Đoàn", form="meeting",
            count=2, day=date(2024, 10, 1), source="cli", recorded_by="can-bo",
            recorded_at=NOW))  # fmt: skip
        uow.commit()
    with unit_of_work_factory(engine)() as uow:
        uow.optouts.remove("+84912340099", "by mistake", "cli", NOW, "can-bo")
        uow.commit()


def _verify(engine: Engine, expected: Anchor | None = None) -> Verdict:
    """The walk in one process, and in several processes of a few positions each (as `log
    verify --jobs` walks a long chain): both give the same verdict, whatever was done."""
    with unit_of_work_factory(engine)() as uow:
        whole = verify_chain(uow, expected)
        last, _ = uow.chain.head()
    segments = split(last, jobs=3, smallest=1)
    url = engine.url.render_as_string(hide_password=False)
    assert verify_in_parallel(url, segments, expected) == whole, segments
    return whole


def _sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _without_triggers(engine: Engine, table: str, *statements: str) -> None:
    """What someone with the database's credentials does: drop the append-only trigger,
    change the log, put the trigger back."""
    if engine.dialect.name == "sqlite":
        _sql(engine, f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete",
             *statements,
             f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
             f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
             f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
             f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")  # fmt: skip
    else:
        _sql(engine, f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only", *statements,
             f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")  # fmt: skip


def test_every_record_of_every_log_is_chained_and_verifies(engine: Engine) -> None:
    _history(engine)
    verdict = _verify(engine)
    assert verdict.broken is None
    with engine.connect() as conn:
        chained = dict(
            conn.execute(select(ChainRow.source, func.count()).group_by(ChainRow.source)).all()
        )
        for table in CHAINED:
            assert chained.get(table) == conn.scalar(text(f"SELECT count(*) FROM {table}")) > 0
        assert verdict.records == sum(chained.values())
        last = conn.execute(select(ChainRow.seq, ChainRow.hash).order_by(ChainRow.seq.desc()))
        assert verdict.head == tuple(last.first())


def test_the_chain_is_the_hashes_of_the_records_in_order(engine: Engine) -> None:
    """Recomputed here from the rows themselves, independently of the walk."""
    _history(engine)
    with engine.connect() as conn:
        entries = conn.execute(select(ChainRow).order_by(ChainRow.seq)).all()
    previous = GENESIS
    with unit_of_work_factory(engine)() as uow:
        for position, entry in enumerate(entries, start=1):
            assert entry.seq == position
            model, names = CHAINED[entry.source]
            record = uow.repo.session.get(model, entry.record_id)
            previous = link(previous, entry.source, [getattr(record, n) for n in names])
            assert entry.hash == previous


def test_an_edit_is_named_even_with_the_trigger_dropped_and_recreated(engine: Engine) -> None:
    _history(engine)
    with engine.connect() as conn:
        target = conn.scalar(text("SELECT max(id) FROM delivery_log WHERE status = 'accepted'"))
    _without_triggers(engine, "delivery_log",
                      f"UPDATE delivery_log SET status = 'failed' WHERE id = {target}")  # fmt: skip
    broken = _verify(engine).broken
    assert broken is not None
    assert (broken.table, broken.record_id) == ("delivery_log", target)
    assert "edited" in broken.what


def test_a_deleted_record_is_named(engine: Engine) -> None:
    _history(engine)
    _without_triggers(engine, "optout_log", "DELETE FROM optout_log WHERE action = 'remove'")
    broken = _verify(engine).broken
    assert broken is not None and broken.table == "optout_log"
    assert "deleted" in broken.what


def test_a_record_and_its_chain_entry_deleted_leave_a_gap(engine: Engine) -> None:
    _history(engine)
    with engine.connect() as conn:
        seq, record = conn.execute(text(
            "SELECT seq, record_id FROM audit_chain WHERE source = 'approvals'")).one()  # fmt: skip
    _without_triggers(engine, "approvals", f"DELETE FROM approvals WHERE id = {record}")
    _without_triggers(engine, "audit_chain", f"DELETE FROM audit_chain WHERE seq = {seq}")
    broken = _verify(engine).broken
    assert broken is not None and broken.position == seq
    assert "missing" in broken.what


def test_an_inserted_record_is_named(engine: Engine) -> None:
    _history(engine)  # an INSERT needs no trigger dropped: the logs accept appends
    _sql(engine, "INSERT INTO activity_log (at, kind, detail) "
                 "VALUES ('2024-10-02 07:00:00', 'unhalt', 'forged')")  # fmt: skip
    with engine.connect() as conn:
        forged = conn.scalar(text("SELECT max(id) FROM activity_log"))
    broken = _verify(engine).broken
    assert broken is not None
    assert (broken.table, broken.record_id) == ("activity_log", forged)
    assert "added outside" in broken.what


def test_two_records_swapped_in_the_chain_are_named(engine: Engine) -> None:
    _history(engine)
    _without_triggers(engine, "audit_chain", "UPDATE audit_chain SET seq = -1 WHERE seq = 3",
                      "UPDATE audit_chain SET seq = 3 WHERE seq = 4",
                      "UPDATE audit_chain SET seq = 4 WHERE seq = -1")  # fmt: skip
    broken = _verify(engine).broken
    assert broken is not None and broken.position == 3
    assert "moved" in broken.what


def test_a_printed_head_catches_a_rewrite_of_the_whole_chain(engine: Engine) -> None:
    _history(engine)
    printed = _verify(engine).head
    anchor = Anchor(printed[0], printed[1])
    assert _verify(engine, anchor).broken is None
    # Someone edits a record, then recomputes every hash after it: the walk alone passes...
    _without_triggers(engine, "approvals", "UPDATE approvals SET approver = 'nguoi-khac'")
    _rechain(engine)
    assert _verify(engine).broken is None
    # ...but not against the head a report printed before.
    broken = _verify(engine, anchor).broken
    assert broken is not None and broken.position == printed[0]
    assert "rewritten" in broken.what


def test_a_head_past_the_end_means_records_deleted_at_the_end(engine: Engine) -> None:
    _history(engine)
    at, head = _verify(engine).head
    _without_triggers(engine, "audit_chain", f"DELETE FROM audit_chain WHERE seq = {at}")
    _without_triggers(engine, "optout_log", "DELETE FROM optout_log WHERE action = 'remove'")
    assert _verify(engine).broken is None  # a cut at the end leaves a shorter, valid chain
    broken = _verify(engine, Anchor(at, head)).broken
    assert broken is not None and "deleted at its end" in broken.what


def _rechain(engine: Engine) -> None:
    with engine.connect() as conn:
        entries = conn.execute(select(ChainRow).order_by(ChainRow.seq)).all()
    with unit_of_work_factory(engine)() as uow:
        previous, fixed = GENESIS, []
        for entry in entries:
            model, names = CHAINED[entry.source]
            record = uow.repo.session.get(model, entry.record_id)
            previous = link(previous, entry.source, [getattr(record, n) for n in names])
            fixed.append((entry.seq, previous))
    statements = [f"UPDATE audit_chain SET hash = '{h}' WHERE seq = {s}" for s, h in fixed]
    _without_triggers(engine, "audit_chain", *statements)


def test_a_rolled_back_transaction_leaves_nothing_to_chain(engine: Engine) -> None:
    with unit_of_work_factory(engine)() as uow:
        uow.repo.record_activity("halt", NOW)
        uow.repo.session.flush()
        uow.rollback()
        uow.repo.record_activity("unhalt", NOW)
        uow.commit()
    verdict = _verify(engine)
    assert verdict.broken is None and verdict.records == 1


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_several_workers_appending_at_once_keep_one_gapless_chain(engine: Engine) -> None:
    writers, commits = 8, 25
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            start.wait()
            for n in range(commits):
                with unit_of_work_factory(engine)() as uow:
                    at = NOW + timedelta(seconds=n)
                    uow.repo.record_activity("pause", at, detail=f"worker {worker}")
                    uow.optouts.add(f"+849123{worker:02d}{n:03d}", "asked", "cli", at)
                    uow.commit()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    verdict = _verify(engine)
    assert verdict.broken is None
    assert verdict.records == writers * commits * 2


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_migration_chains_the_history_already_there(
    request: pytest.FixtureRequest, kind: str
) -> None:
    url = str(request.getfixturevalue("sqlite_url" if kind == "sqlite" else "empty_pg_url"))
    engine = make_engine(url)
    try:
        _migrate(engine, command.upgrade, "0008")
        _sql(engine, *[
            "INSERT INTO activity_log (at, kind, detail) VALUES ('2024-09-01 01:00:00+00', "
            "'halt', 'trước khi có chuỗi')",
            "INSERT INTO optout_log (at, phone, action, reason, source) VALUES "
            "('2024-09-02 01:00:00+00', '+84912345678', 'add', 'STOP', 'inbound:STOP')",
            "INSERT INTO delivery_log (at, delivery_id, campaign_id, occurrence_key, phone, "
            "status, attempt, segments) VALUES ('2024-09-03 01:00:00.250000+00', 7, 'c', "
            "'once', '+84912345678', 'accepted', 1, 2)",
        ])  # fmt: skip
        _migrate(engine, command.upgrade, "head")
        verdict = _verify(engine)
        assert verdict.broken is None and verdict.records == 3
        _without_triggers(engine, "activity_log", "UPDATE activity_log SET detail = 'khác'")
        assert _verify(engine).broken is not None
    finally:
        engine.dispose()


def test_the_walk_is_the_same_in_pages_of_any_size(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(engine)
    whole = _verify(engine)
    monkeypatch.setattr(chain_walk, "PAGE", 2)  # every page boundary
    assert _verify(engine) == whole and whole.broken is None and whole.records > 20
    with engine.connect() as conn:
        last = conn.scalar(text("SELECT max(id) FROM delivery_log"))
    _without_triggers(engine, "delivery_log",
                      f"UPDATE delivery_log SET detail = 'x' WHERE id = {last}")  # fmt: skip
    broken = _verify(engine).broken
    assert broken is not None and (broken.table, broken.record_id) == ("delivery_log", last)


def test_times_read_as_stored_hash_as_the_writer_hashed_them(engine: Engine) -> None:
    """The walk reads times and days as the database keeps them (no datetime made): for
    every record, what it hashes is what the typed read gives, on both databases, for a
    time with and without a fraction, one given in another zone, and one SQL wrote itself."""
    _history(engine)
    with unit_of_work_factory(engine)() as uow:
        for at in (datetime(2024, 10, 2, 6, 0, 0, 1, tzinfo=UTC),
                   datetime(2024, 10, 2, 13, 0, 0, 500000, tzinfo=timezone(timedelta(hours=7))),
                   datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)):  # fmt: skip
            uow.repo.record_activity("pause", at, detail="giờ")
        uow.commit()
    _sql(engine, "INSERT INTO activity_log (at, kind, detail) "
                 "VALUES ('2024-10-02 07:00:00', 'unhalt', 'viết bằng SQL')")  # fmt: skip
    with unit_of_work_factory(engine)() as uow:
        last, _ = uow.chain.head()
        walked = [chain_walk.ChainEntry(*e) for page in uow.chain.pages(0, last) for e in page]
        typed = {}
        for table in CHAINED:
            for row in uow.repo.session.execute(select(*chain_store.chained_columns(table))):
                typed[(table, row[0])] = canonical(table, tuple(row))
    assert len(walked) == last > 20
    for entry in walked:
        assert entry.values is not None
        assert canonical(entry.source, entry.values) == typed[(entry.source, entry.record_id)]
    forged = typed[("activity_log", max(k[1] for k in typed if k[0] == "activity_log"))]
    assert b'"2024-10-02T07:00:00+00:00"' in forged
