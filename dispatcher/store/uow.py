"""The unit of work: one session, one transaction, rolled back unless committed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dispatcher.core.errors import StoreError
from dispatcher.store.access import AccessTokenRepository
from dispatcher.store.approvals import ApprovalRepository
from dispatcher.store.audit import AuditRepository
from dispatcher.store.budgets import BudgetRepository
from dispatcher.store.caps import CapRepository
from dispatcher.store.chain import forget_pending, note_flushed, seal
from dispatcher.store.chain_walk import ChainRepository
from dispatcher.store.db import current_revision, head_revision, make_engine
from dispatcher.store.optouts import OptOutRepository
from dispatcher.store.outreach import OutreachRepository
from dispatcher.store.reports import ReportRepository
from dispatcher.store.repository import Repository
from dispatcher.store.tracking import TrackingRepository
from dispatcher.store.workers import WorkerRepository


class UnitOfWork:
    """``with uow: uow.repo...; uow.commit()`` — anything not committed is rolled back."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None

    def __enter__(self) -> UnitOfWork:
        self._session = self._session_factory()
        self.repo = Repository(self._session)
        self.optouts = OptOutRepository(self._session)
        self.workers = WorkerRepository(self._session)
        self.caps = CapRepository(self._session)
        self.budgets = BudgetRepository(self._session)
        self.approvals = ApprovalRepository(self._session)
        self.tracking = TrackingRepository(self._session)
        self.reports = ReportRepository(self._session)
        self.access = AccessTokenRepository(self._session)
        self.outreach = OutreachRepository(self._session)
        self.audit = AuditRepository(self._session)
        self.chain = ChainRepository(self._session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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
        assert self._session is not None
        try:
            self._session.flush()
            seal(self._session)
            self._session.commit()
        except SQLAlchemyError as exc:
            self._session.rollback()
            raise StoreError(f"database error: {exc}") from exc


def unit_of_work_factory(engine: Engine) -> Callable[[], UnitOfWork]:
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "after_flush", _note_flushed)
    event.listen(factory, "after_rollback", forget_pending)
    return lambda: UnitOfWork(factory)


def _note_flushed(session: Session, _context: object) -> None:
    note_flushed(session, session.new)


CONNECT_TIMEOUT_S = 5  # `plan` and `validate` only glance at the database: never hang on it


@contextmanager
def existing_unit_of_work(url: str) -> Iterator[UnitOfWork | None]:
    """A unit of work on the database at ``url`` when it exists at this version's schema; None
    when there is none, it is at another schema, or it cannot be reached. Never creates or
    migrates one: for the commands that read the database only if there is one (``plan``,
    ``validate``), each opening it once. Errors inside are :class:`StoreError`, as ever."""
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
            current = current_revision(engine) == head_revision(engine)
        except SQLAlchemyError:
            current = False  # cannot be reached: as if there were none
        if not current:
            yield None
            return
        with unit_of_work_factory(engine)() as uow:
            yield uow
    finally:
        engine.dispose()
