"""Taking back a "Đã phát": a commune that pressed it on the wrong airing may undo it for
``broadcast.undo_minutes`` (default 15) after pressing it.

The confirmation itself is never changed: an undo is a record of ``airing_corrections`` naming it
(and the redo it corrects, if the airing was confirmed again). The report counts a confirmation
unless its latest correction is an undo; pressing "Đã phát" again redoes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dispatcher.bootstrap import Runtime
from dispatcher.broadcast.confirmations import (
    SOURCES,
    AiringConflict,
    CampaignHalted,
    find_planned,
    undo_until,
)
from dispatcher.broadcast.service import HALTED_VI
from dispatcher.core.schedule import format_datetime_vi, instant, occurrence_key
from dispatcher.store.airings import Confirmation, Correction


class UndoRefused(AiringConflict):
    """Nothing to undo, or the time to undo it has passed (the pages: 409)."""


@dataclass(frozen=True)
class UndoResult:
    confirmation: Confirmation  # the confirmation undone, as it was
    tz: ZoneInfo  # the campaign's


def undo(
    rt: Runtime, commune: str, campaign_id: str, at: str, *, source: str, by: str,
    by_key: bool = False,
) -> UndoResult:  # fmt: skip
    """Undo the confirmation of ``commune``'s airing of ``campaign_id`` at ``at``
    (:func:`dispatcher.broadcast.confirmations.confirm`'s arguments); :class:`UndoRefused` when
    it is not confirmed, or was confirmed more than ``broadcast.undo_minutes`` ago."""
    if source not in SOURCES:
        raise ValueError(f"unknown confirmation source {source!r}")
    now = instant(rt.clock.now())
    with rt.uow() as uow:
        repo = uow.repo.airings
        if (state := repo.halted_campaigns().get(campaign_id)) is not None:
            why = HALTED_VI.get(state, state)
            raise CampaignHalted(f"Không thể hoàn tác: {why} ({campaign_id}).")
        planned, tz = find_planned(rt, repo, commune, campaign_id, at, source, by_key)
        found = repo.confirmation(campaign_id, planned.commune, planned.scheduled_at)
        when = format_datetime_vi(planned.scheduled_at.astimezone(tz))
        if found is None or found.id is None or found.undone:
            raise UndoRefused(f"Lượt phát {when} chưa được xác nhận: không có gì để hoàn tác.")
        if undo_until(rt, found) is None:
            minutes = rt.settings.broadcast.undo_minutes
            raise UndoRefused(
                f"Lượt phát {when} đã được xác nhận hơn {minutes} phút trước: không hoàn tác "
                "được nữa. Nếu cần sửa, xin báo huyện."
            )
        new = Correction(
            confirmation_id=found.id, kind="undo", corrects=found.last_correction,
            recorded_by=by, source=source, created_at=now,
        )  # fmt: skip
        if not repo.add_correction(new):  # undone (or redone) at this very moment by another
            raise UndoRefused(f"Lượt phát {when} vừa được thay đổi: xin tải lại trang.")
        key = occurrence_key(planned.scheduled_at.astimezone(tz))
        detail = f"{found.commune}: confirmation undone by {by} ({source})"
        uow.repo.record_activity("airing-undone", now, campaign_id, key, detail)
        uow.commit()
    return UndoResult(found, tz)
