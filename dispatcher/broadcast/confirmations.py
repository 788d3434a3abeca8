"""Communes confirm airings: ``broadcast confirm``, the "Đã phát" button, and the same over HTTP.

A confirmation names one airing of the plan (campaign, commune, scheduled time: the ``airings``
table that registering a campaign fills) and is recorded once, in the append-only
``airing_confirmations``; confirming it again changes nothing and says when it was confirmed.
The monthly report counts aired broadcasts from these records.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from dispatcher.bootstrap import Runtime
from dispatcher.broadcast import served_audio
from dispatcher.broadcast.commune_keys import matching_names, names_for_key
from dispatcher.broadcast.scripts import AiringScript
from dispatcher.broadcast.service import HALTED_VI, commune_airings
from dispatcher.broadcast.units import units_registry
from dispatcher.core.errors import BadInput, DispatcherError, Problem
from dispatcher.core.operator import operator
from dispatcher.core.schedule import format_datetime_vi, instant, localize, occurrence_key
from dispatcher.store.airings import AiringRepository, Confirmation, Correction, PlannedAiring

SOURCES = ("cli", "web", "http")
EARLY_CONFIRM = timedelta(hours=1)  # an airing may be confirmed this long before its time
MAX_DURATION_S = 4 * 3600  # longer than any loudspeaker programme: a typing mistake
NEAREST = 3  # planned airings suggested when the one named is not in the plan
_VIETNAMESE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})[ T]+(\d{1,2}):(\d{2})")
# Field names as each caller shows them: options on the command line, keys in forms and JSON.
_CLI_FIELDS = {"commune": "--commune", "campaign": "--campaign", "at": "--at",
               "aired_at": "--aired-at", "duration_s": "--duration"}  # fmt: skip


class AiringConflict(DispatcherError):
    """The airing's state forbids the change (the pages answer 409): see the subclasses."""


class CampaignHalted(AiringConflict):
    """The campaign is paused or canceled: its airings cannot be confirmed (the pages: 409)."""


@dataclass(frozen=True)
class ConfirmResult:
    """What a confirmation did: ``created`` False means the airing was confirmed already, and
    ``confirmation`` is that earlier record."""

    confirmation: Confirmation
    created: bool
    tz: ZoneInfo  # the campaign's, to show the times in


def field_name(name: str, source: str) -> str:
    """``at`` as the caller knows it: ``--at`` on the command line, ``at`` in a form."""
    return _CLI_FIELDS.get(name, name) if source == "cli" else name


def parse_at(text: str, tz: tzinfo, field: str) -> datetime:
    """``16/10/2024 06:00`` or ISO 8601 (``2024-10-16T06:00``, ``…+07:00``); a time without an
    offset is read in ``tz`` (the campaign's). Returns an aware datetime."""
    written = text.strip()
    try:
        if match := _VIETNAMESE.fullmatch(written):
            day, month, year, hour, minute = (int(g) for g in match.groups())
            moment = datetime(year, month, day, hour, minute)
        else:
            moment = datetime.fromisoformat(written)
    except ValueError as exc:
        message = f"'{text}' is not a date and time like 16/10/2024 06:00 or 2024-10-16T06:00"
        raise BadInput(Problem(message, field=field)) from exc
    if moment.tzinfo is None:
        return localize(moment.date(), time(moment.hour, moment.minute, moment.second), tz)
    return moment


def confirm(
    rt: Runtime,
    commune: str,
    campaign_id: str,
    at: str,
    *,
    duration_s: int | None = None,
    aired_at: str | None = None,
    source: str = "cli",
    by: str | None = None,
    by_key: bool = False,
) -> ConfirmResult:
    """Record that ``commune`` aired ``campaign_id``'s airing planned ``at``; idempotent.

    ``commune`` is a name (any case, with or without "Xã"), a GSO code or a folder slug; with
    ``by_key``, a page's unit key, matched exactly (the pages' confirmations). An
    airing not in the plan is :class:`BadInput` naming the field and the nearest planned
    airings; so is one more than :data:`EARLY_CONFIRM` ahead, or an ``aired_at`` in the future.
    A paused or canceled campaign's airing is :class:`CampaignHalted`.
    ``aired_at`` defaults to the scheduled time (to now, for an airing confirmed early).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown confirmation source {source!r}")
    _check_duration(duration_s, source)
    now = instant(rt.clock.now())  # UTC, as the database gives times back
    with rt.uow() as uow:
        repo = uow.repo.airings
        if (state := repo.halted_campaigns().get(campaign_id)) is not None:
            why = HALTED_VI.get(state, state)
            raise CampaignHalted(f"Không thể xác nhận: {why} ({campaign_id}).")
        planned, tz = find_planned(rt, repo, commune, campaign_id, at, source, by_key)
        new = Confirmation(
            campaign_id=campaign_id, commune=planned.commune,
            scheduled_at=planned.scheduled_at,
            aired_at=_aired_at(planned, aired_at, now, tz, source), duration_s=duration_s,
            confirmed_by=by or _who(rt, source), source=source, created_at=now,
        )  # fmt: skip
        created = repo.add_confirmation(new)
        if created:
            detail = _activity_detail(new, tz)
            key = occurrence_key(planned.scheduled_at.astimezone(tz))
            uow.repo.record_activity("airing-confirmed", now, campaign_id, key, detail)
            made = repo.confirmation(campaign_id, planned.commune, planned.scheduled_at)
            uow.commit()
            assert made is not None  # as read back later: with its id
            return ConfirmResult(made, True, tz)
        earlier = repo.confirmation(campaign_id, planned.commune, planned.scheduled_at)
        assert earlier is not None and earlier.id is not None  # confirmations are never deleted
        if earlier.undone:  # undone by the commune: pressing again redoes it, as first recorded
            redo = Correction(
                confirmation_id=earlier.id, kind="redo", corrects=earlier.last_correction,
                recorded_by=new.confirmed_by, source=source, created_at=now,
            )  # fmt: skip
            if repo.add_correction(redo):
                key = occurrence_key(planned.scheduled_at.astimezone(tz))
                detail = f"{earlier.commune}: confirmed again by {new.confirmed_by} ({source})"
                uow.repo.record_activity("airing-reconfirmed", now, campaign_id, key, detail)
                uow.commit()
                redone = repo.confirmation(campaign_id, planned.commune, planned.scheduled_at)
                assert redone is not None
                return ConfirmResult(redone, True, tz)
    return ConfirmResult(earlier, False, tz)


def find_planned(
    rt: Runtime,
    repo: AiringRepository,
    commune: str,
    campaign_id: str,
    at: str,
    source: str,
    by_key: bool,
) -> tuple[PlannedAiring, ZoneInfo]:
    """The planned airing named, and its campaign's time zone; else BadInput naming why."""
    tz = _campaign_zone(repo.campaign_zones(), campaign_id, source)
    field = field_name("commune", source)
    if by_key:
        names = names_for_key(commune, units_registry(rt.settings), repo.communes())
    else:
        names = commune_names(rt, commune, repo.communes(), field)
    plan = repo.planned(campaign_id, names) if names else []
    if not plan:
        listed = ", ".join(repo.communes(campaign_id))
        message = f"'{commune}' has no planned airing in campaign {campaign_id} ({listed})"
        raise BadInput(Problem(message, field=field))
    moment = parse_at(at, tz, field_name("at", source))
    return _planned_airing(plan, moment, campaign_id, tz, source), tz


def _check_duration(duration_s: int | None, source: str) -> None:
    if duration_s is not None and not 1 <= duration_s <= MAX_DURATION_S:
        message = f"{duration_s} is not a duration in seconds from 1 to {MAX_DURATION_S}"
        raise BadInput(Problem(message, field=field_name("duration_s", source)))


def _campaign_zone(zones: dict[str, str], campaign_id: str, source: str) -> ZoneInfo:
    if campaign_id not in zones:
        known = ", ".join(zones) or "none: register one with `dispatcher broadcast scripts`"
        message = f"unknown campaign '{campaign_id}' (campaigns: {known})"
        raise BadInput(Problem(message, field=field_name("campaign", source)))
    return ZoneInfo(zones[campaign_id])


def commune_names(rt: Runtime, written: str, known: Sequence[str], field: str) -> list[str]:
    """The names in ``known`` (the airing plan's communes) that ``written`` stands for
    (:func:`dispatcher.broadcast.commune_keys.matching_names`)."""
    listed = ", ".join(known) or "none: register a campaign with `dispatcher broadcast scripts`"
    unknown = f"'{written}' is not a commune with planned airings (communes: {listed})"
    return matching_names(written, units_registry(rt.settings), known, field, unknown)


def _planned_airing(
    plan: list[PlannedAiring], at: datetime, campaign_id: str, tz: ZoneInfo, source: str
) -> PlannedAiring:
    """The airing of ``plan`` (the commune's, in the campaign) at ``at``; else BadInput."""
    moment = instant(at)
    found = next((p for p in plan if p.scheduled_at == moment), None)
    if found is not None:
        return found
    nearest = sorted(plan, key=lambda p: abs(p.scheduled_at - moment))[:NEAREST]
    nearest.sort(key=lambda p: p.scheduled_at)
    times = ", ".join(format_datetime_vi(p.scheduled_at.astimezone(tz)) for p in nearest)
    message = (
        f"{plan[0].commune} has no airing of {campaign_id} at "
        f"{format_datetime_vi(at.astimezone(tz))}; the nearest planned: {times}"
    )
    raise BadInput(Problem(message, field=field_name("at", source)))


def _aired_at(
    planned: PlannedAiring, written: str | None, now: datetime, tz: ZoneInfo, source: str
) -> datetime:
    """When it aired: as written, else the scheduled time (now, if confirmed early)."""
    scheduled = planned.scheduled_at
    if scheduled - now > EARLY_CONFIRM:
        message = (
            f"the airing of {format_datetime_vi(scheduled.astimezone(tz))} has not come yet: "
            "confirm it once it has aired"
        )
        raise BadInput(Problem(message, field=field_name("at", source)))
    if written is None:
        return min(scheduled, now)
    field = field_name("aired_at", source)
    aired = instant(parse_at(written, tz, field))
    if aired > now:
        raise BadInput(Problem(f"{written} is in the future", field=field))
    if aired < scheduled - EARLY_CONFIRM:
        message = f"{written} is long before the airing it confirms"
        raise BadInput(Problem(message, field=field))
    return aired


def _who(rt: Runtime, source: str) -> str:
    """``cli:<operator>`` (:func:`dispatcher.core.operator.operator`)."""
    return f"{source}:{operator(rt.environ)}"


def _activity_detail(new: Confirmation, tz: ZoneInfo) -> str:
    aired = format_datetime_vi(new.aired_at.astimezone(tz))
    length = f", {new.duration_s} s" if new.duration_s is not None else ""
    return f"{new.commune}: aired at {aired}{length}; by {new.confirmed_by} ({new.source})"


# -- one commune's airings with their confirmations: the page and its JSON -----------------------

_KEY = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})")


@dataclass(frozen=True, kw_only=True)
class CommuneAiring:
    """One airing on a commune's page: its scripts (Vietnamese first), audio, confirmation."""

    campaign_id: str
    title: str
    commune: str
    at: datetime  # aware, in the campaign's time zone
    scripts: tuple[AiringScript, ...]
    confirmation: Confirmation | None
    in_plan: bool  # registered in the airing plan: only such airings can be confirmed
    confirmable: bool  # in the plan, not confirmed, and due (or at most EARLY_CONFIRM ahead)
    undo_until: datetime | None = None  # confirmed, and may be undone until then (UTC)
    # The file each script's audio link names, by language (None: Vietnamese): made, pulled,
    # or to be made when asked (dispatcher.broadcast.served_audio.audio_link).
    audio_files: Mapping[str | None, Path] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``2024-10-16T0600``: the local time in URLs."""
        return self.at.strftime("%Y-%m-%dT%H%M")

    @property
    def reading_seconds(self) -> int:
        return self.scripts[0].reading_seconds

    def audio(self, script: AiringScript | None = None) -> Path | None:
        """The audio file the page links for ``script`` (default: the Vietnamese one), if any."""
        return self.audio_files.get((script or self.scripts[0]).language)

    def script(self, language: str | None) -> AiringScript | None:
        """The script in ``language`` (None: Vietnamese), if the airing has one."""
        return next((s for s in self.scripts if s.language == language), None)


def commune_schedule(
    rt: Runtime, commune: str, start: date, end: date, *, by_key: bool = False
) -> list[CommuneAiring]:
    """The commune's airings from ``start`` to ``end`` (days included), by time, each with its
    scripts and its confirmation; :class:`BadInput` (field ``commune``) for an unknown one.
    With ``by_key``, ``commune`` is a page's unit key, matched exactly."""
    scripts = commune_airings(rt, commune, start, end, by_key=by_key)
    grouped: dict[tuple[str, datetime], list[AiringScript]] = {}
    for script in scripts:
        grouped.setdefault((script.campaign_id, script.at), []).append(script)
    if not grouped:
        return []
    moments = [instant(at) for _, at in grouped]
    first, last = min(moments), max(moments) + timedelta(minutes=1)
    communes = {s.commune for s in scripts}
    with rt.uow() as uow:
        confirmed = uow.repo.airings.confirmations(communes, first, last)
        plan = uow.repo.airings.planned(None, communes, first, last)
        pulled = uow.repo.airings.pulled.pulled_in(communes, first, last)
    done = {(c.campaign_id, c.commune, c.scheduled_at): c for c in confirmed}
    planned = {(p.campaign_id, p.commune, p.scheduled_at) for p in plan}
    now = rt.clock.now()
    found = []
    for (campaign_id, at), group in grouped.items():
        group.sort(key=lambda s: s.language is not None)  # Vietnamese first
        key = (campaign_id, group[0].commune, instant(at))
        confirmation = done.get(key)
        if confirmation is not None and confirmation.undone:  # taken back: as if never pressed
            confirmation = None
        in_plan = key in planned
        due = instant(at) - now <= EARLY_CONFIRM
        confirmable = in_plan and confirmation is None and due
        until = undo_until(rt, confirmation) if confirmation is not None and in_plan else None
        found.append(
            CommuneAiring(
                campaign_id=campaign_id,
                title=group[0].title,
                commune=group[0].commune,
                at=at,
                scripts=tuple(group),
                confirmation=confirmation,
                in_plan=in_plan,
                confirmable=confirmable,
                undo_until=until,
                audio_files=_audio_links(rt, group, pulled),
            )
        )
    return found


def _audio_links(
    rt: Runtime, scripts: Sequence[AiringScript], pulled: Collection[served_audio.PulledKey]
) -> dict[str | None, Path]:
    links = {s.language: served_audio.audio_link(rt, s, pulled) for s in scripts}
    return {language: path for language, path in links.items() if path is not None}


def undo_until(rt: Runtime, confirmation: Confirmation) -> datetime | None:
    """Until when ``confirmation`` may be undone (UTC): ``broadcast.undo_minutes`` after it was
    made or last redone; None when it cannot be (any more)."""
    since = confirmation.stands_since or confirmation.created_at
    until = instant(since) + timedelta(minutes=rt.settings.broadcast.undo_minutes)
    return until if not confirmation.undone and instant(rt.clock.now()) < until else None


def find_airing(
    rt: Runtime, commune: str, campaign_id: str, key: str, *, by_key: bool = False
) -> CommuneAiring | None:
    """The commune's airing of ``campaign_id`` at ``key`` (``2024-10-16T0600``, the campaign's
    local time), if there is one; :class:`BadInput` (field ``time``) for a malformed key."""
    match = _KEY.fullmatch(key)
    try:
        day = date(int(match[1]), int(match[2]), int(match[3])) if match else None
    except ValueError:
        day = None
    if match is None or day is None:
        raise BadInput(Problem(f"'{key}' is not a time like 2024-10-16T0600", field="time"))
    found = commune_schedule(rt, commune, day, day, by_key=by_key)
    return next((a for a in found if a.campaign_id == campaign_id and a.key == key), None)


def today(rt: Runtime) -> date:
    """Today in the configured time zone (the pages' "today")."""
    return rt.clock.now().astimezone(rt.settings.tz).date()


def commune_name(rt: Runtime, key: str) -> str:
    """The commune's name in the airing plan, or ``key`` when it has no planned airing."""
    with rt.uow() as uow:
        known = uow.repo.airings.communes()
    units = units_registry(rt.settings)
    names = names_for_key(key, units, known)
    if not names and units is not None:  # a commune with a link but no airing now
        with suppress(LookupError):
            names = [unit.name for unit in units.find(key) if unit.code == key]
    return names[-1] if names else key
