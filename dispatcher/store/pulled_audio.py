"""Where ``broadcast pull`` wrote each airing's audio (``pulled_audio``): one row per file.

A pull may write anywhere (``--out``); the commune's page serves those files, and the recorded
SHA-256 and size tell whether a file is still the one pulled.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dispatcher.store.models import PulledAudioRow


@dataclass(frozen=True, kw_only=True)
class PulledAudio:
    """One audio file a pull wrote, and what it held then."""

    campaign_id: str
    commune: str  # the airing's, as in the plan
    scheduled_at: datetime  # aware
    language: str  # vi, or a variant's code
    suffix: str  # .mp3 | .wav
    path: str  # absolute
    sha256: str
    size_bytes: int
    pulled_at: datetime


class PulledAudioRepository:
    """Records and finds pulled audio files (one session, the caller's)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, files: Sequence[PulledAudio]) -> None:
        """Remember ``files``; a path recorded before now holds what the latest pull wrote."""
        if not files:
            return
        dialect = self.session.get_bind().dialect.name
        insert_into = pg_insert if dialect == "postgresql" else sqlite_insert
        for pulled in files:
            values = asdict(pulled)
            query = insert_into(PulledAudioRow).values(values)
            changed = {k: v for k, v in values.items() if k != "path"}
            self.session.execute(query.on_conflict_do_update(index_elements=["path"], set_=changed))

    def found(
        self, campaign_id: str, commune: str, scheduled_at: datetime, language: str, suffix: str
    ) -> list[PulledAudio]:
        """The files pulled for one airing's audio in ``language`` and ``suffix``, newest first."""
        row = PulledAudioRow
        query = (
            select(row)
            .where(row.campaign_id == campaign_id, row.commune == commune)
            .where(row.scheduled_at == scheduled_at, row.language == language)
            .where(row.suffix == suffix)
            .order_by(row.pulled_at.desc(), row.id.desc())
        )
        return [_pulled(r) for r in self.session.scalars(query)]

    def pulled_in(
        self, communes: Collection[str], start: datetime, end: datetime
    ) -> set[tuple[str, str, datetime, str, str]]:
        """(campaign, commune, time, language, suffix) of every airing of ``communes`` from
        ``start`` to before ``end`` with a pulled file (not checked: the page's links)."""
        row = PulledAudioRow
        query = (
            select(row.campaign_id, row.commune, row.scheduled_at, row.language, row.suffix)
            .where(row.commune.in_(communes))
            .where(row.scheduled_at >= start, row.scheduled_at < end)
            .distinct()
        )
        return {(c, n, at, lang, suffix) for c, n, at, lang, suffix in self.session.execute(query)}


def _pulled(row: PulledAudioRow) -> PulledAudio:
    return PulledAudio(
        campaign_id=row.campaign_id, commune=row.commune, scheduled_at=row.scheduled_at,
        language=row.language, suffix=row.suffix, path=row.path, sha256=row.sha256,
        size_bytes=row.size_bytes, pulled_at=row.pulled_at,
    )  # fmt: skip
