"""Access tokens (``access_tokens``): made, looked up by digest, listed, revoked; never deleted.
Browser sessions (``web_sessions``): opened with a token, looked up with it, ended."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatcher.store.models import AccessTokenRow, WebSessionRow


class AccessTokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        digest: str,
        role: str,
        unit_key: str | None,
        label: str,
        by: str,
        now: datetime,
        expires_at: datetime,
        holder: str | None = None,
    ) -> AccessTokenRow:
        row = AccessTokenRow(
            digest=digest, role=role, unit_key=unit_key, label=label, holder=holder,
            created_at=now, created_by=by, expires_at=expires_at,
        )  # fmt: skip
        self.session.add(row)
        self.session.flush()  # its id, to show
        return row

    def by_digest(self, digest: str) -> AccessTokenRow | None:
        query = select(AccessTokenRow).where(AccessTokenRow.digest == digest)
        return self.session.scalars(query).first()

    def listed(
        self, role: str | None, unit_keys: Collection[str] | None, active_at: datetime | None
    ) -> list[AccessTokenRow]:
        """The role's tokens (every role's with None; for ``unit_keys``, if given), oldest
        first; with ``active_at``, only those neither revoked nor expired then."""
        query = select(AccessTokenRow)
        if role is not None:
            query = query.where(AccessTokenRow.role == role)
        if unit_keys is not None:
            query = query.where(AccessTokenRow.unit_key.in_(unit_keys))
        if active_at is not None:
            query = query.where(
                AccessTokenRow.revoked_at.is_(None), AccessTokenRow.expires_at > active_at
            )
        return list(self.session.scalars(query.order_by(AccessTokenRow.id)))

    def by_ids(self, ids: Collection[int]) -> list[AccessTokenRow]:
        query = select(AccessTokenRow).where(AccessTokenRow.id.in_(ids))
        return list(self.session.scalars(query.order_by(AccessTokenRow.id)))

    def revoke(self, ids: Collection[int], by: str, now: datetime) -> int:
        """Revoke the tokens of ``ids`` not revoked yet; how many were."""
        statement = (
            update(AccessTokenRow)
            .where(AccessTokenRow.id.in_(ids), AccessTokenRow.revoked_at.is_(None))
            .values(revoked_at=now, revoked_by=by)
        )
        return int(getattr(self.session.execute(statement), "rowcount", 0) or 0)

    # -- sessions --------------------------------------------------------------------------------
    def open_session(
        self, digest: str, token_id: int, now: datetime, expires_at: datetime
    ) -> WebSessionRow:
        row = WebSessionRow(digest=digest, token_id=token_id, created_at=now, expires_at=expires_at)
        self.session.add(row)
        self.session.flush()
        return row

    def session_by_digest(self, digest: str) -> tuple[WebSessionRow, AccessTokenRow] | None:
        """The session of ``digest`` with its token, whatever their state."""
        query = (
            select(WebSessionRow, AccessTokenRow)
            .join(AccessTokenRow, AccessTokenRow.id == WebSessionRow.token_id)
            .where(WebSessionRow.digest == digest)
        )
        found = self.session.execute(query).first()
        return None if found is None else (found[0], found[1])

    def end_session(self, session_id: int, now: datetime) -> int:
        """End the session (logout) unless it has ended already; how many were."""
        statement = (
            update(WebSessionRow)
            .where(WebSessionRow.id == session_id, WebSessionRow.ended_at.is_(None))
            .values(ended_at=now)
        )
        return int(getattr(self.session.execute(statement), "rowcount", 0) or 0)
