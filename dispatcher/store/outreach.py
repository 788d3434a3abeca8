"""Outreach activities (``outreach_activities``): appended, never edited; the current state is
the rows no later row replaces (a correction or a void names the row it replaces)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from dispatcher.store.models import OutreachActivityRow

Row = OutreachActivityRow


class OutreachRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, rows: Sequence[Row]) -> list[int]:
        """Append ``rows`` (in order); their ids."""
        self.session.add_all(rows)
        self.session.flush()
        return [row.id for row in rows]

    def by_id(self, activity_id: int) -> Row | None:
        return self.session.get(Row, activity_id)

    def replaced_by(self, activity_id: int) -> Row | None:
        """The correction or void that replaces the row, if any."""
        return self.session.scalars(select(Row).where(Row.corrects_id == activity_id)).first()

    def listed(
        self,
        *,
        first: date | None = None,
        last: date | None = None,
        unit_codes: Sequence[str] | None = None,
        form: str | None = None,
        campaign_id: str | None = None,
    ) -> list[tuple[Row, int | None]]:
        """Every row in the filters (voids and replaced rows too), by day then id, each with
        the id of the row that replaces it (None: it counts)."""
        successor = aliased(Row)
        query = select(Row, successor.id).outerjoin(successor, successor.corrects_id == Row.id)
        query = _filtered(query, first, last, unit_codes, form, campaign_id)
        rows = self.session.execute(query.order_by(Row.day, Row.id))
        return [(row, replaced) for row, replaced in rows]

    def counted_between(self, first: date, last: date) -> list[tuple[str, str, str, str, int]]:
        """(unit name, form code, means, content, sum of counts) of the rows that count, days
        included, by unit, form, means and content."""
        means, content = func.coalesce(Row.means, ""), func.coalesce(Row.content, "")
        query = (
            select(Row.unit_name, Row.form, means, content, func.sum(Row.count))
            .where(*_counting(first, last))
            .group_by(Row.unit_name, Row.form, means, content)
            .order_by(Row.unit_name, Row.form, means, content)
        )
        return [(u, f, m, c, int(n)) for u, f, m, c, n in self.session.execute(query)]

    def counted_daily(self, first: date, last: date) -> list[tuple[str, date, str, int]]:
        """(unit name, day, form code, sum of counts) of the rows that count, days included."""
        query = (
            select(Row.unit_name, Row.day, Row.form, func.sum(Row.count))
            .where(*_counting(first, last))
            .group_by(Row.unit_name, Row.day, Row.form)
        )
        return [(u, d, f, int(n)) for u, d, f, n in self.session.execute(query)]

    def counted_codes_between(self, first: date, last: date) -> list[tuple[str]]:
        """The unit codes with a record that counts, days included."""
        query = select(Row.unit_code).where(*_counting(first, last)).distinct()
        return [(code,) for code in self.session.scalars(query)]


def _counting(first: date, last: date) -> tuple[ColumnElement[bool], ...]:
    """The rows that count for days [first, last]: no void, nothing replaces them."""
    successor = aliased(Row)
    replaced = exists(select(successor.id).where(successor.corrects_id == Row.id))
    return Row.day >= first, Row.day <= last, Row.kind != "void", ~replaced


def _filtered(
    query: Select[Row, int],
    first: date | None,
    last: date | None,
    unit_codes: Sequence[str] | None,
    form: str | None,
    campaign_id: str | None,
) -> Select[Row, int]:
    if first is not None:
        query = query.where(Row.day >= first)
    if last is not None:
        query = query.where(Row.day <= last)
    if unit_codes is not None:
        query = query.where(Row.unit_code.in_(unit_codes))
    if form is not None:
        query = query.where(Row.form == form)
    if campaign_id is not None:
        query = query.where(Row.campaign_id == campaign_id)
    return query
