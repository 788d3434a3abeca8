"""Undoing a "Đã phát" (issue 16): within broadcast.undo_minutes, as a correction record; the
report counts the corrected state; pressing again redoes it. On SQLite and PostgreSQL."""
# ruff: noqa: F811 (the fixtures rt, folder and clock are those of test_airings, imported)

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from dispatcher.bootstrap import Runtime
from dispatcher.broadcast import confirmations as airings
from dispatcher.broadcast import undo
from dispatcher.reports import monthly as reports
from dispatcher.store.models import ActivityRow, AiringCorrectionRow
from tests.fakes import FakeClock
from tests.integration.test_airings import (  # noqa: F401
    CAMPAIGN,
    clock,
    folder,
    rt,
)

AT = "11/10/2024 06:00"  # a past day: the report chases it while unconfirmed


def _aired(rt: Runtime) -> tuple[int, int]:
    """(airings counted as aired, past airings unconfirmed) of Xã Tân Đoàn in October."""
    october = reports.monthly(rt, "2024-10")
    aired = sum(r.count for r in october.rows if r.means.endswith("Tân Đoàn"))
    waiting = sum(r.count for r in october.unconfirmed if r.means.endswith("Tân Đoàn"))
    return aired, waiting


def _undo(rt: Runtime) -> undo.UndoResult:
    return undo.undo(rt, "Xã Tân Đoàn", CAMPAIGN, AT, source="cli", by="cli:thu")


def test_an_undo_is_a_record_the_report_follows_and_pressing_again_redoes_it(
    rt: Runtime, clock: FakeClock, db_url: str
) -> None:
    before = _aired(rt)
    assert airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, AT).created
    assert _aired(rt) == (before[0] + 1, before[1] - 1)
    clock.advance(timedelta(minutes=14))
    assert _undo(rt).confirmation.commune == "Xã Tân Đoàn"
    assert _aired(rt) == before
    with pytest.raises(undo.UndoRefused, match="chưa được xác nhận"):
        _undo(rt)
    again = airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, AT)
    assert again.created and not again.confirmation.undone
    assert _aired(rt) == (before[0] + 1, before[1] - 1)
    clock.advance(timedelta(minutes=10))  # the window runs from the redo
    _undo(rt)
    assert _aired(rt) == before
    with rt.uow() as uow:
        kinds = [r.kind for r in uow.repo.session.scalars(select(AiringCorrectionRow))]
        events = list(uow.repo.session.scalars(select(ActivityRow.kind)))
    assert kinds == ["undo", "redo", "undo"]
    assert events.count("airing-undone") == 2 and "airing-reconfirmed" in events
    with rt.uow() as uow, pytest.raises(DBAPIError, match="append-only"):
        uow.repo.session.execute(text("DELETE FROM airing_corrections"))


def test_the_window_is_settable_and_closes(rt: Runtime, clock: FakeClock) -> None:
    airings.confirm(rt, "Xã Tân Đoàn", CAMPAIGN, AT)
    clock.advance(timedelta(minutes=15))
    with pytest.raises(undo.UndoRefused, match="hơn 15 phút"):
        _undo(rt)
    assert rt.settings.broadcast.undo_minutes == 15
