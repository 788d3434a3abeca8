"""Shared fixtures: real databases (an SQLite file, a fresh PostgreSQL database per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine

from dispatcher.store.db import make_engine, upgrade
from tests.script_cache import ScriptCache

# Hypothesis's own timing checks are off for every property test: how fast a machine draws or
# runs an example is not what they check (timings live in bench/). On a loaded 2-core machine the
# first text strategy of a process (Hypothesis working out which code points UTF-8 holds: 1.5 s
# on a fresh clone) failed "input generation is slow", whichever test drew it first.
settings.register_profile("dispatcher", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("dispatcher")

PG_URL = os.environ.get("DISPATCHER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parent.parent


def _pg_admin() -> psycopg.Connection:
    return psycopg.connect(PG_URL, autocommit=True)


def _pg_url(database: str) -> str:
    base = PG_URL.rsplit("/", 1)[0]
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that each test's database is copied from."""
    name = f"dispatcher_tmpl_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(_pg_url(name))
    upgrade(engine)
    engine.dispose()
    yield name
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    name = f"dispatcher_test_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _pg_url(name)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A PostgreSQL database with no schema at all (as before `dispatcher db upgrade`)."""
    name = f"dispatcher_empty_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dispatcher.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs twice: on an SQLite file and on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def script_cache(tmp_path_factory: pytest.TempPathFactory) -> ScriptCache:
    """Broadcast scripts built once per process, reused by tests of the same campaign text."""
    return ScriptCache(tmp_path_factory.mktemp("scripts"))
