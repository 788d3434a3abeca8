"""The unit of work: one session, one transaction, rolled back unless committed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import unquote

from dispatcher.core.errors import StoreError

if TYPE_CHECKING:  # SQLAlchemy and the repositories load with the first unit of work, so that
    # the commands that only glance at a database (`validate`, `plan`) load none without one.
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session


class UnitOfWork:
    """``with uow: uow.repo...; uow.commit()`` — anything not committed is rolled back."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None

    def __enter__(self) -> UnitOfWork:
        from dispatcher.store import repositories as r

        self._session = self._session_factory()
        self.repo = r.Repository(self._session)
        self.optouts = r.OptOutRepository(self._session)
        self.workers = r.WorkerRepository(self._session)
        self.caps = r.CapRepository(self._session)
        self.budgets = r.BudgetRepository(self._session)
        self.approvals = r.ApprovalRepository(self._session)
        self.tracking = r.TrackingRepository(self._session)
        self.reports = r.ReportRepository(self._session)
        self.access = r.AccessTokenRepository(self._session)
        self.outreach = r.OutreachRepository(self._session)
        self.audit = r.AuditRepository(self._session)
        self.chain = r.ChainRepository(self._session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        from sqlalchemy.exc import OperationalError, SQLAlchemyError

        assert self._session is not None
        try:
            self._session.rollback()
        finally:
            self._session.close()
            self._session = None
        if isinstance(exc, OperationalError):
            raise StoreError(f"database error: {exc.orig}") from exc
        if isinstance(exc, SQLAlchemyError):
            raise StoreError(f"database error: {exc}") from exc

    def rollback(self) -> None:
        assert self._session is not None
        self._session.rollback()

    def commit(self) -> None:
        """Commit, the logs' new records linked into the audit chain first."""
        from sqlalchemy.exc import SQLAlchemyError

        from dispatcher.store.chain import seal

        assert self._session is not None
        try:
            self._session.flush()
            seal(self._session)
            self._session.commit()
        except SQLAlchemyError as exc:
            self._session.rollback()
            raise StoreError(f"database error: {exc}") from exc


def unit_of_work_factory(engine: Engine) -> Callable[[], UnitOfWork]:
    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker

    from dispatcher.store.chain import forget_pending

    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "after_flush", _note_flushed)
    event.listen(factory, "after_rollback", forget_pending)
    return lambda: UnitOfWork(factory)


def _note_flushed(session: Session, _context: object) -> None:
    from dispatcher.store.chain import note_flushed

    note_flushed(session, session.new)


CONNECT_TIMEOUT_S = 5  # `plan` and `validate` only glance at the database: never hang on it


@contextmanager
def existing_unit_of_work(url: str) -> Iterator[UnitOfWork | None]:
    """A unit of work on the database at ``url`` when it exists at this version's schema; None
    when there is none, it is at another schema, or it cannot be reached. Never creates or
    migrates one: for the commands that read the database only if there is one (``plan``,
    ``validate``), each opening it once. Errors inside are :class:`StoreError`, as ever.

    Without a database file SQLAlchemy is not imported; with one at the newest schema, Alembic
    is not (:func:`dispatcher.store.db.is_current`)."""
    if _no_sqlite_file(url):
        yield None
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from dispatcher.store.db import current_revision, head_revision, is_current, make_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            yield None
            return
        if not Path(parsed.database).is_file():
            yield None
            return
    elif "connect_timeout" not in parsed.query:
        parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_S)})
    engine = make_engine(parsed.render_as_string(hide_password=False))
    try:
        try:
            current = is_current(engine) or current_revision(engine) == head_revision(engine)
        except SQLAlchemyError:
            current = False  # cannot be reached: as if there were none
        if not current:
            yield None
            return
        with unit_of_work_factory(engine)() as uow:
            yield uow
    finally:
        engine.dispose()


def _no_sqlite_file(url: str) -> bool:
    """True for a SQLite URL whose file does not exist (read without SQLAlchemy: only the form
    its parser reads the same way; anything else is left to it)."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            database = unquote(url.removeprefix(prefix).partition("?")[0])  # as SQLAlchemy
            return not database or database == ":memory:" or not Path(database).is_file()
    return False
