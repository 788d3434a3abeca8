"""`db upgrade` on SQLite is all-or-nothing (issue 13.5): a crash half-way leaves the database
as it was, and one left half-built by an older version is named as such, with the way out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect, text

from dispatcher.core.errors import StoreError
from dispatcher.store.db import current_revision, head_revision, make_engine, upgrade


class Crash(Exception):
    """Stands for the process dying here (a kill -9 leaves a journal SQLite rolls back)."""


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'dispatcher.sqlite3'}")
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def test_an_upgrade_that_dies_half_way_leaves_nothing_behind(sqlite: Engine) -> None:
    created: list[str] = []

    def crash_on_the_fourth_table(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("CREATE TABLE"):
            created.append(statement)
            if len(created) == 4:
                raise Crash

    event.listen(Engine, "before_cursor_execute", crash_on_the_fourth_table)
    try:
        with pytest.raises((Crash, StoreError)):
            upgrade(sqlite)
    finally:
        event.remove(Engine, "before_cursor_execute", crash_on_the_fourth_table)
    assert len(created) == 4  # three tables were made before the crash...
    assert _tables(sqlite) == set()  # ...and none of them stayed
    assert upgrade(sqlite) is True  # the next upgrade starts from scratch and finishes
    assert current_revision(sqlite) == head_revision(sqlite)


def test_a_database_left_half_built_is_named_with_the_way_out(sqlite: Engine) -> None:
    upgrade(sqlite)
    with sqlite.begin() as connection:  # as an interrupted upgrade of an older version left it
        connection.execute(text("DELETE FROM alembic_version"))
    with pytest.raises(StoreError) as caught:
        upgrade(sqlite)
    message = caught.value.message
    assert "is half-upgraded: an earlier `db upgrade` was interrupted" in message
    assert "already exists" in message
    assert "move the file away and run `dispatcher db upgrade` again" in message
