"""Engines and migrations. Engines are built here, at start-up, never at import time."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import (
    ArgumentError,
    NoSuchModuleError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.pool import NullPool

from dispatcher.core.errors import ConfigError, Problem, StoreError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = "dispatcher.store:migrations"
VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION_LINE = re.compile(r'^(revision|down_revision) = (?:"([^"]+)"|None)$', re.MULTILINE)
LOCK_KEY = 0x64697370  # "disp": the advisory lock that serializes migrations


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    url = _with_driver(url)
    try:
        if url.startswith("sqlite"):
            _ensure_sqlite_dir(url)
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigError(Problem(f"invalid database URL: {exc}", field="database_url")) from exc


def _with_driver(url: str) -> str:
    # Plain postgresql:// would pick psycopg2, which we do not ship; psycopg 3 is the driver.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _ensure_sqlite_dir(url: str) -> None:
    path = url.removeprefix("sqlite:///")
    if path and path != ":memory:" and not url.startswith("sqlite:///:memory:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


# Each connection's page cache. SQLite's default is 2 MiB; pages are allocated as they are used,
# and a cache stays full for the connection's life, so this is memory every pooled connection
# may hold for good: at 32 MiB, `send` of a million recipients held ~50 MiB more than of 100,000
# (the caches filled as the database grew). Writing a big outbox gets more for its duration
# (store/bulk.py: BULK_CACHE_KIB).
SQLITE_CACHE_KIB = 8 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # Alembic loads when a database is opened (~0.2 s)

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@functools.cache
def newest_revision() -> str | None:
    """The head of ``migrations/versions`` read from its files' ``revision =`` and
    ``down_revision =`` lines, without importing Alembic (~0.2 s); None when they do not make
    one line of revisions (then :func:`head_revision` asks Alembic). A test keeps the two equal.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        for key, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (revisions if key == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def is_current(engine: Engine) -> bool:
    """True when the schema is at this version's newest revision, known without Alembic: the
    one row of ``alembic_version`` is :func:`newest_revision`. False tells nothing more (no such
    table, another revision): ask :func:`current_revision` then. A database that cannot be
    reached raises, as :func:`current_revision` would (not tried twice, each with its timeout).
    """
    newest = newest_revision()
    if newest is None:
        return False
    with engine.connect() as connection:
        try:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except (OperationalError, ProgrammingError):  # no such table: empty, or not ours
            return False
    return [row[0] for row in found] == [newest]


def upgrade(engine: Engine) -> bool:
    """Bring the schema to the newest revision; returns True when something was applied.

    On PostgreSQL the migration holds an advisory lock, so two upgrades started together run
    one after the other (the second finds nothing to do) instead of racing."""
    try:
        if is_current(engine) or current_revision(engine) == head_revision(engine):
            return False
        config = _alembic_config(engine)
        migrating = _transactional(engine)
        try:
            with migrating.begin() as connection:  # every revision in one transaction
                if engine.dialect.name == "postgresql":
                    key = {"key": LOCK_KEY}
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)
                config.attributes["connection"] = connection
                from alembic import command

                command.upgrade(config, "head")
        finally:
            if migrating is not engine:
                migrating.dispose()
                # Connections opened before may keep the old schema (SQLite's PRAGMAs do not
                # recheck it): the engine's pool starts afresh.
                engine.dispose()
        return True
    except OperationalError as exc:
        if "already exists" in str(exc.orig):
            raise StoreError(_half_upgraded(engine, exc)) from exc
        raise StoreError(f"cannot reach the database: {exc.orig}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"database migration failed: {exc}") from exc


def _transactional(engine: Engine) -> Engine:
    """``engine`` itself on PostgreSQL, whose DDL is transactional. On SQLite a second engine
    whose transactions really begin (``BEGIN IMMEDIATE``): Python's sqlite3 leaves CREATE and
    ALTER outside any transaction, so a `db upgrade` killed half-way left a half-built schema.
    SQLAlchemy's documented recipe for transactional DDL with pysqlite."""
    if engine.dialect.name != "sqlite":
        return engine
    migrating = create_engine(engine.url, connect_args={"timeout": 30}, poolclass=NullPool)

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, record)
        dbapi_connection.isolation_level = None  # the driver's own BEGIN handling off

    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(migrating, "connect", on_connect)
    event.listen(migrating, "begin", on_begin)
    return migrating


def _half_upgraded(engine: Engine, exc: OperationalError) -> str:
    where = engine.url.database if engine.dialect.name == "sqlite" else "the database"
    return (
        f"{where} is half-upgraded: an earlier `db upgrade` was interrupted after creating some "
        f"tables ({exc.orig}). Upgrades are now all-or-nothing, but this one must be mended "
        "first: restore the copy taken before that upgrade, or, if it holds nothing to keep, "
        "move the file away and run `dispatcher db upgrade` again"
    )


def require_current(engine: Engine) -> None:
    """Refuse to work on a schema older (or newer) than this version's: run `db upgrade`."""
    try:
        if is_current(engine):
            return
        current, head = current_revision(engine), head_revision(engine)
    except OperationalError as exc:
        raise StoreError(f"cannot reach the database: {exc.orig}") from exc
    if current != head:
        found = f"at revision {current}" if current else "empty"
        problem = Problem(
            f"the database schema is {found}; this version needs {head}: run "
            "`dispatcher db upgrade` once (before starting workers)",
            field="database_url",
        )
        raise ConfigError(problem)
