"""The airing plan and the communes' confirmations: what the report counts as aired.

``airings`` is the plan (filled when campaigns are registered); ``airing_confirmations`` is
append-only, one row per airing, so confirming twice is a no-op that finds the first row.
``airing_corrections`` undoes a confirmation (or redoes it): a confirmation counts unless its
latest correction, the one nothing corrects, is an undo.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.store.chain import note_ids
from dispatcher.store.models import (
    AiringConfirmationRow,
    AiringCorrectionRow,
    AiringRow,
    CampaignRow,
)
from dispatcher.store.pulled_audio import PulledAudioRepository
from dispatcher.store.reports import local_day

PLANNED = "planned"
# campaigns.state: a paused or canceled campaign's airings are off the plan (not listed, pulled,
# confirmed or chased as unconfirmed) until it is resumed; confirmations already made still count.
LIVE = "active"


@dataclass(frozen=True)
class AiredTotals:
    """One commune's confirmed airings in a period."""

    unit: str
    commune: str
    airings: int
    seconds: int  # the durations the communes gave, summed
    timed: int  # how many airings came with a duration
    titles: tuple[str, ...] = ()  # the campaigns' titles


@dataclass(frozen=True)
class PlannedAiring:
    """One airing of the plan: a campaign's script on a commune's loudspeakers at a time."""

    campaign_id: str
    commune: str  # the commune's name on that day, as planned
    scheduled_at: datetime  # aware, UTC
    unit: str  # the reporting unit of the campaign


@dataclass(frozen=True, kw_only=True)
class Confirmation:
    """A commune's word that a planned airing went out."""

    campaign_id: str
    commune: str
    scheduled_at: datetime  # aware, UTC
    aired_at: datetime  # aware, UTC
    duration_s: int | None
    confirmed_by: str
    source: str  # cli | web | http
    created_at: datetime
    id: int | None = None
    undone: bool = False  # its latest correction is an undo: it does not count
    stands_since: datetime | None = None  # when it was made, or last redone
    last_correction: int | None = None  # the id of its latest correction, if any


@dataclass(frozen=True, kw_only=True)
class Correction:
    """An undo of a confirmation, or a redo of an undo (``corrects``)."""

    confirmation_id: int
    kind: str  # undo | redo
    corrects: int | None
    recorded_by: str
    source: str
    created_at: datetime


class AiringRepository:
    """Queries on the airing plan and its confirmations (one session, the caller's)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def pulled(self) -> PulledAudioRepository:
        """Where ``broadcast pull`` wrote each airing's audio (``store.pulled_audio``)."""
        return PulledAudioRepository(self.session)

    def campaign_zones(self) -> dict[str, str]:
        """Every registered campaign's time zone, by id."""
        query = select(CampaignRow.id, CampaignRow.timezone).order_by(CampaignRow.id)
        return {cid: zone for cid, zone in self.session.execute(query)}

    def halted_campaigns(self) -> dict[str, str]:
        """The state (``paused``, ``canceled``) of every campaign that is not active, by id."""
        query = select(CampaignRow.id, CampaignRow.state).where(CampaignRow.state != LIVE)
        return {cid: state for cid, state in self.session.execute(query)}

    def planned(
        self,
        campaign_id: str | None = None,
        communes: Collection[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[PlannedAiring]:
        """The planned (not canceled) airings of active campaigns, by time: of one campaign or
        all, of some communes or all, scheduled in [start, end) or at any time."""
        query = _live(select(AiringRow).where(AiringRow.state == PLANNED))
        if campaign_id is not None:
            query = query.where(AiringRow.campaign_id == campaign_id)
        if communes is not None:
            query = query.where(AiringRow.commune.in_(list(communes)))
        if start is not None:
            query = query.where(AiringRow.scheduled_at >= start)
        if end is not None:
            query = query.where(AiringRow.scheduled_at < end)
        rows = self.session.scalars(query.order_by(AiringRow.scheduled_at, AiringRow.commune))
        return [PlannedAiring(r.campaign_id, r.commune, r.scheduled_at, r.unit) for r in rows]

    def communes(self, campaign_id: str | None = None) -> list[str]:
        """The name of every commune with a planned airing (of one campaign, or any), sorted."""
        query = select(AiringRow.commune).where(AiringRow.state == PLANNED).distinct()
        if campaign_id is not None:
            query = query.where(AiringRow.campaign_id == campaign_id)
        return sorted(self.session.scalars(query))

    def add_confirmation(self, new: Confirmation) -> bool:
        """Record ``new`` unless its airing is confirmed already; True when it was recorded.

        One statement (``ON CONFLICT DO NOTHING``): of two confirmations racing for an airing,
        exactly one is written, and the other waits for it and then writes nothing.
        """
        values = {
            "campaign_id": new.campaign_id,
            "commune": new.commune,
            "scheduled_at": new.scheduled_at,
            "aired_at": new.aired_at,
            "duration_s": new.duration_s,
            "confirmed_by": new.confirmed_by,
            "source": new.source,
            "created_at": new.created_at,
        }
        dialect = self.session.get_bind().dialect.name
        insert_into = pg_insert if dialect == "postgresql" else sqlite_insert
        query = insert_into(AiringConfirmationRow).values(values).on_conflict_do_nothing()
        new_id = self.session.execute(query.returning(AiringConfirmationRow.id)).scalar()
        if new_id is not None:
            note_ids(self.session, "airing_confirmations", [new_id])
        return new_id is not None

    def confirmation(
        self, campaign_id: str, commune: str, scheduled_at: datetime
    ) -> Confirmation | None:
        query = select(AiringConfirmationRow).filter_by(
            campaign_id=campaign_id, commune=commune, scheduled_at=scheduled_at
        )
        row = self.session.scalars(query).one_or_none()
        return None if row is None else self._with_corrections([row])[0]

    def add_correction(self, new: Correction) -> bool:
        """Record ``new`` unless the correction it corrects has been corrected already (one
        statement, as :meth:`add_confirmation`); True when it was recorded."""
        values = {
            "confirmation_id": new.confirmation_id, "kind": new.kind,
            "corrects_id": new.corrects, "recorded_by": new.recorded_by, "source": new.source,
            "created_at": new.created_at,
        }  # fmt: skip
        dialect = self.session.get_bind().dialect.name
        insert_into = pg_insert if dialect == "postgresql" else sqlite_insert
        query = insert_into(AiringCorrectionRow).values(values).on_conflict_do_nothing()
        new_id = self.session.execute(query.returning(AiringCorrectionRow.id)).scalar()
        if new_id is not None:
            note_ids(self.session, "airing_corrections", [new_id])
        return new_id is not None

    def _with_corrections(self, rows: list[AiringConfirmationRow]) -> list[Confirmation]:
        """The confirmations of ``rows``, each with its latest correction's effect."""
        fix = AiringCorrectionRow
        successor = _successor()
        query = select(fix).where(fix.confirmation_id.in_([r.id for r in rows]))
        query = query.where(~exists(select(successor.id).where(successor.corrects_id == fix.id)))
        latest = {c.confirmation_id: c for c in self.session.scalars(query)} if rows else {}
        found = []
        for row in rows:
            last = latest.get(row.id)
            since = last.created_at if last is not None and last.kind == "redo" else row.created_at
            found.append(_confirmation(row, last, since))
        return found

    def confirmations(
        self, communes: Collection[str], start: datetime, end: datetime
    ) -> list[Confirmation]:
        """The confirmations of ``communes``' airings scheduled in [start, end), by time."""
        row = AiringConfirmationRow
        query = (
            select(row)
            .where(row.commune.in_(list(communes)))
            .where(row.scheduled_at >= start, row.scheduled_at < end)
            .order_by(row.scheduled_at, row.campaign_id)
        )
        return self._with_corrections(list(self.session.scalars(query)))

    def aired_between(self, start: datetime, end: datetime) -> list[AiredTotals]:
        """Per unit and commune, by unit then commune: the airings that aired in [start, end)."""
        row = AiringConfirmationRow
        query = (
            _aired_in(select(AiringRow.unit, row.commune, func.count(), func.sum(row.duration_s),
                             func.count(row.duration_s)), start, end)
            .group_by(AiringRow.unit, row.commune)
            .order_by(AiringRow.unit, row.commune)
        )  # fmt: skip
        titles: dict[tuple[str, str], set[str]] = {}
        for unit, commune, title in self.session.execute(_aired_titles(start, end)):
            titles.setdefault((unit, commune), set()).add(title)
        return [
            AiredTotals(u, c, int(n), int(s or 0), int(t), tuple(sorted(titles.get((u, c), ()))))
            for u, c, n, s, t in self.session.execute(query)
        ]

    def aired_daily(
        self, start: datetime, end: datetime, tz: ZoneInfo
    ) -> Counter[tuple[str, date]]:
        """Confirmed airings per unit and day they aired (in ``tz``)."""
        row = AiringConfirmationRow
        bucket, day_of = local_day(self.session, row.aired_at, tz)
        query = _aired_in(select(AiringRow.unit, bucket, func.count()), start, end)
        query = query.group_by(AiringRow.unit, bucket)
        daily: Counter[tuple[str, date]] = Counter()
        for unit, value, n in self.session.execute(query):
            daily[(unit, day_of(value))] += int(n)
        return daily

    def unconfirmed_between(self, start: datetime, end: datetime) -> list[PlannedAiring]:
        """Planned airings of active campaigns scheduled in [start, end) that no commune has
        confirmed, by time."""
        query = (
            _live(select(AiringRow))
            .outerjoin(AiringConfirmationRow, _same_airing())
            .where(or_(AiringConfirmationRow.id.is_(None), AiringConfirmationRow.id.in_(_undone())))
            .where(AiringRow.state == PLANNED)
            .where(AiringRow.scheduled_at >= start, AiringRow.scheduled_at < end)
            .order_by(AiringRow.unit, AiringRow.commune, AiringRow.scheduled_at)
        )
        rows = self.session.scalars(query)
        return [PlannedAiring(r.campaign_id, r.commune, r.scheduled_at, r.unit) for r in rows]


def _live(query: Select[AiringRow]) -> Select[AiringRow]:
    """``query`` over airings, kept to those of active campaigns (:data:`LIVE`)."""
    query = query.join(CampaignRow, CampaignRow.id == AiringRow.campaign_id)
    return query.where(CampaignRow.state == LIVE)


def _aired_titles(start: datetime, end: datetime) -> Select[str, str, str]:
    query = select(AiringRow.unit, AiringConfirmationRow.commune, CampaignRow.title)
    query = _aired_in(query, start, end)
    return query.join(CampaignRow, CampaignRow.id == AiringConfirmationRow.campaign_id).distinct()


def _aired_in(query: Any, start: datetime, end: datetime) -> Any:
    """``query`` over the confirmations of airings that aired in [start, end), each joined to
    its planned airing."""
    row = AiringConfirmationRow
    query = query.select_from(row).join(AiringRow, _same_airing())
    query = query.where(row.id.not_in(_undone()))
    return query.where(row.aired_at >= start, row.aired_at < end)


def _successor() -> type[AiringCorrectionRow]:
    """Another correction: the one that corrects a given one, if any."""
    return aliased(AiringCorrectionRow)


def _undone() -> Select[int]:
    """The ids of the confirmations undone: their latest correction is an undo."""
    fix, successor = AiringCorrectionRow, _successor()
    latest = ~exists(select(successor.id).where(successor.corrects_id == fix.id))
    return select(fix.confirmation_id).where(fix.kind == "undo", latest)


def _same_airing() -> ColumnElement[bool]:
    confirmed = AiringConfirmationRow
    return and_(
        confirmed.campaign_id == AiringRow.campaign_id,
        confirmed.commune == AiringRow.commune,
        confirmed.scheduled_at == AiringRow.scheduled_at,
    )


def _confirmation(
    row: AiringConfirmationRow, last: AiringCorrectionRow | None, since: datetime
) -> Confirmation:
    return Confirmation(
        id=row.id,
        undone=last is not None and last.kind == "undo",
        stands_since=since,
        last_correction=None if last is None else last.id,
        campaign_id=row.campaign_id,
        commune=row.commune,
        scheduled_at=row.scheduled_at,
        aired_at=row.aired_at,
        duration_s=row.duration_s,
        confirmed_by=row.confirmed_by,
        source=row.source,
        created_at=row.created_at,
    )
