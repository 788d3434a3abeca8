"""The store on real databases: schema from migrations, append-only logs, monotonic statuses."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from dispatcher.core.outbox import NewDelivery, Outcome
from dispatcher.core.status import Status
from dispatcher.store.bulk import BULK_CACHE_KIB, insert_rows
from dispatcher.store.db import (
    SQLITE_CACHE_KIB,
    _alembic_config,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
)
from dispatcher.store.models import Base, CampaignRow, DeliveryEventRow
from dispatcher.store.reports import SmsTotals
from dispatcher.store.uow import UnitOfWork, unit_of_work_factory

T0 = datetime(2024, 10, 1, 1, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


def test_migrations_produce_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision(engine)
    assert upgrade(engine) is False  # a second upgrade has nothing to do


def test_partial_indexes_have_the_models_predicates(engine: Engine) -> None:
    """compare_metadata does not look at ``WHERE`` clauses of partial indexes: check them here."""

    def predicate(where: object) -> str | None:
        return None if where is None else re.sub(r"[()\s]", "", str(where)).lower()

    option = f"{engine.dialect.name}_where"
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        found = {i["name"]: i for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            wanted = predicate(index.dialect_options[engine.dialect.name]["where"])
            actual = predicate(found[index.name]["dialect_options"].get(option))
            assert actual == wanted, index.name


def _seed(uow: UnitOfWork, phones: list[str]) -> int:
    campaign = CampaignRow(
        id="c1", title="T", unit="UBND huyện Văn Quan", timezone="Asia/Ho_Chi_Minh",
        source_path="c1.yaml", fingerprint="0" * 64,
    )  # fmt: skip
    uow.repo.save_campaign(campaign, T0)
    occurrence = uow.repo.add_occurrence("c1", "once", T0, "open", T0)
    new = [
        NewDelivery(p, f"l.csv:{i}", "Xin chào", "UCS-2", 1, "VANQUAN")
        for i, p in enumerate(phones)
    ]
    uow.repo.add_deliveries(occurrence, new, T0)
    uow.commit()
    return occurrence.id


PHONES = ["+84912345678", "+84381234567", "+84701234567"]


def test_new_deliveries_are_pending_and_logged(engine: Engine) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        occurrence_id = _seed(u, PHONES)
    with uow() as u:
        assert u.repo.status_counts(occurrence_id) == {Status.PENDING: 3}
        events = u.repo.session.scalars(select(DeliveryEventRow).order_by(DeliveryEventRow.id))
        logged = [(e.phone, e.status, e.occurrence_key, e.at) for e in events]
    assert logged == [(p, "pending", "once", T0) for p in PHONES]


def test_a_big_insert_has_a_bigger_sqlite_cache_only_while_it_runs(sqlite_url: str) -> None:
    # SQLite only: PostgreSQL takes COPY, and has no per-connection page cache to size.
    engine = make_engine(sqlite_url)
    upgrade(engine)
    seen: list[int] = []

    def rows() -> Iterator[tuple[object, ...]]:
        seen.append(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
        yield ("bulk-cache", "Bulk", "UBND", "UTC", "c.yaml", "x", "2024-10-01", "2024-10-01")

    with unit_of_work_factory(engine)() as u:
        connection = u.repo.session.connection()
        columns = ["id", "title", "unit", "timezone", "source_path", "fingerprint",
                   "created_at", "updated_at"]  # fmt: skip
        assert insert_rows(u.repo.session, "campaigns", columns, rows()) == 1
        after = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    engine.dispose()
    assert seen == [-BULK_CACHE_KIB]
    assert after == -SQLITE_CACHE_KIB


@pytest.mark.parametrize(
    "statement", ["UPDATE delivery_log SET status = 'x'", "DELETE FROM delivery_log"]
)
def test_the_delivery_log_refuses_updates_and_deletes(engine: Engine, statement: str) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        _seed(u, PHONES)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(DeliveryEventRow)).scalar() == 3


def test_claim_marks_sending_and_never_claims_twice(engine: Engine) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        occurrence_id = _seed(u, PHONES)
    with uow() as u:
        first = u.repo.claim(occurrence_id, 2, T0, T0).messages
        u.commit()
    with uow() as u:
        second = u.repo.claim(occurrence_id, 2, T0, T0).messages
        u.commit()
    assert [m.to for m in first] == PHONES[:2]
    assert [m.to for m in second] == PHONES[2:]
    assert all(m.attempt == 1 for m in first + second)
    with uow() as u:
        assert u.repo.status_counts(occurrence_id) == {Status.SENDING: 3}


def test_statuses_only_move_forward(engine: Engine) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        occurrence_id = _seed(u, PHONES[:1])
        (message,) = u.repo.claim(occurrence_id, 10, T0, T0).messages
        u.commit()
    later = T0 + timedelta(minutes=1)
    steps = [
        (Status.ACCEPTED, True),
        (Status.DELIVERED, True),
        (Status.SENT, False),  # a late `sent` never overwrites `delivered`
        (Status.DELIVERED, False),  # a repeated report changes nothing
        (Status.FAILED, False),  # final is final
    ]
    for status, moves in steps:
        with uow() as u:
            applied = u.repo.apply([Outcome(message.delivery_id, status, "SM1")], later)
            u.commit()
        assert bool(applied) is moves, status
    with uow() as u:
        statuses = u.repo.session.scalars(
            select(DeliveryEventRow.status).order_by(DeliveryEventRow.id)
        ).all()
    assert statuses == ["pending", "sending", "accepted", "delivered"]


def test_release_returns_only_claimed_or_unknown_rows_to_pending(engine: Engine) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        occurrence_id = _seed(u, PHONES)
        claimed = u.repo.claim(occurrence_id, 10, T0, T0).messages
        u.repo.apply([Outcome(claimed[0].delivery_id, Status.ACCEPTED, "SM1")], T0)
        u.repo.apply([Outcome(claimed[1].delivery_id, Status.UNKNOWN)], T0)
        ids = [m.delivery_id for m in claimed]
        # each release moves only the rows still in the status it expects
        assert u.repo.release(ids, "test", T0, Status.SENDING) == 1
        assert u.repo.release(ids, "test", T0, Status.UNKNOWN) == 1
        u.commit()
    with uow() as u:
        assert u.repo.status_counts(occurrence_id) == {Status.ACCEPTED: 1, Status.PENDING: 2}
        # rows tried in this run are not claimed again in the same run...
        assert u.repo.claim(occurrence_id, 10, T0, T0).messages == []
        # ...but are by the next one
        again = u.repo.claim(
            occurrence_id, 10, T0 + timedelta(seconds=1), T0 + timedelta(seconds=1)
        ).messages
    assert sorted(m.attempt for m in again) == [2, 2]


def test_sms_counted_in_the_month_they_first_reached_the_provider(engine: Engine) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        occurrence_id = _seed(u, PHONES)
        claimed = u.repo.claim(occurrence_id, 10, T0, T0).messages
        u.repo.apply(
            [Outcome(m.delivery_id, Status.ACCEPTED, f"SM{i}") for i, m in enumerate(claimed[:2])],
            T0,
        )
        u.repo.apply([Outcome(claimed[2].delivery_id, Status.FAILED, error_code=21211)], T0)
        u.commit()
    with uow() as u:
        u.repo.apply(
            [Outcome(claimed[0].delivery_id, Status.DELIVERED)], datetime(2024, 11, 2, tzinfo=UTC)
        )
        u.commit()
    with uow() as u:
        october, _ = u.reports.sms_month(
            datetime(2024, 10, 1, tzinfo=UTC), datetime(2024, 11, 1, tzinfo=UTC), UTC_ZONE
        )
        november, _ = u.reports.sms_month(
            datetime(2024, 11, 1, tzinfo=UTC), datetime(2024, 12, 1, tzinfo=UTC), UTC_ZONE
        )
    # sent: the two accepted; delivered: one (in November, but it counts with its sending);
    # failed: the refused one, in October, when it failed
    expected = SmsTotals("UBND huyện Văn Quan", "VANQUAN", sent=2, segments=2, delivered=1,
                         failed=1, reached=1, numbers=2, titles=("T",))  # fmt: skip
    assert october == [expected]
    assert november == []


def test_sms_are_counted_per_day_of_the_configured_zone(engine: Engine) -> None:
    # 16:59 UTC on 31/10 is 23:59 in Vietnam (October); 17:00 UTC is 00:00 on 01/11 there.
    uow = unit_of_work_factory(engine)
    late, midnight = (
        datetime(2024, 10, 31, 16, 59, tzinfo=UTC),
        datetime(2024, 10, 31, 17, 0, tzinfo=UTC),
    )
    with uow() as u:
        occurrence_id = _seed(u, PHONES)
        claimed = u.repo.claim(occurrence_id, 10, T0, T0).messages
        u.repo.apply([Outcome(claimed[0].delivery_id, Status.ACCEPTED, "SM0")], T0)
        u.repo.apply([Outcome(claimed[1].delivery_id, Status.ACCEPTED, "SM1")], late)
        u.repo.apply([Outcome(claimed[2].delivery_id, Status.ACCEPTED, "SM2")], midnight)
        u.commit()
    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    october = (datetime(2024, 10, 1, tzinfo=vn), datetime(2024, 11, 1, tzinfo=vn))
    with uow() as u:
        _, daily = u.reports.sms_month(*october, vn)
        _, next_month = u.reports.sms_month(datetime(2024, 11, 1, tzinfo=vn),
                                            datetime(2024, 12, 1, tzinfo=vn), vn)  # fmt: skip
    unit = "UBND huyện Văn Quan"
    assert daily == {(unit, date(2024, 10, 1)): 1, (unit, date(2024, 10, 31)): 1}
    assert next_month == {(unit, date(2024, 11, 1)): 1}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migration_0006_keeps_the_delivery_log_and_its_guard_both_ways(
    kind: str, request: pytest.FixtureRequest
) -> None:
    # 0006 drops the log's foreign key; SQLite rebuilds the table for that, which must keep the
    # rows and bring the append-only triggers back (downgrade too).
    url = str(request.getfixturevalue("sqlite_url" if kind == "sqlite" else "empty_pg_url"))
    engine = make_engine(url)
    try:
        _migrate(engine, command.upgrade, "0005")
        with engine.begin() as connection:
            for statement in SEED_0005:
                connection.execute(text(statement))
        steps = [(command.upgrade, "head"), (command.downgrade, "0005"), (command.upgrade, "head")]
        for step, (move, target) in enumerate(steps):
            _migrate(engine, move, target)
            with engine.connect() as connection:
                assert connection.scalar(text("SELECT count(*) FROM delivery_log")) == 1
                assert _log_keys_outbox(connection) is (target == "0005"), step
            for statement in ["UPDATE delivery_log SET status = 'x'", "DELETE FROM delivery_log"]:
                with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                    connection.execute(text(statement))
    finally:
        engine.dispose()


SEED_0005 = [
    "INSERT INTO campaigns (id, title, unit, timezone, source_path, fingerprint, created_at, "
    "updated_at) VALUES ('c', 't', 'u', 'Asia/Ho_Chi_Minh', 'c.yaml', 'f', '2026-01-01', "
    "'2026-01-01')",
    "INSERT INTO occurrences (campaign_id, key, scheduled_at, state, recipients, created_at) "
    "VALUES ('c', 'once', '2026-01-01', 'open', 1, '2026-01-01')",
    "INSERT INTO deliveries (occurrence_id, campaign_id, phone, source, body, encoding, segments, "
    "status, attempts, updated_at) VALUES (1, 'c', '+84912345678', 'l.csv:2', 'Xin chào', "
    "'UCS-2', 1, 'pending', 0, '2026-01-01')",
    "INSERT INTO delivery_log (at, delivery_id, campaign_id, occurrence_key, phone, status, "
    "attempt, segments) VALUES ('2026-01-01', 1, 'c', 'once', '+84912345678', 'pending', 0, 1)",
]


def _migrate(engine: Engine, move: Callable[[Config, str], None], target: str) -> None:
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        move(config, target)


def _log_keys_outbox(connection: Connection) -> bool:
    keys = inspect(connection).get_foreign_keys("delivery_log")
    return any(key["referred_table"] == "deliveries" for key in keys)
