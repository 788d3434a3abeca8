"""What ``dispatcher plan`` prints: a table for people (dd/mm/yyyy, numbers masked) and JSON for
machines (ISO 8601, numbers complete). Only the CLI calls these, through :mod:`presenters`."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from dispatcher.audience.phones import mask, mask_digits
from dispatcher.audience.scan import MAX_KEPT_ROWS
from dispatcher.cli.present_preview import preview_data, preview_lines
from dispatcher.cli.present_safety import approval_text
from dispatcher.core import schedule
from dispatcher.safety.budgets import money

if TYPE_CHECKING:  # annotations only: `validate` prints through here too, without planning
    from dispatcher.audience.scan import AudienceSummary
    from dispatcher.campaigns.registry import Changes
    from dispatcher.sending.planning import Plan
    from dispatcher.sms.quiet import SendTiming

MAX_ROWS_SHOWN = 20
QUEUE_ADVICE = "longer than Twilio will queue: add senders or split the list"
CHANGES_ADVICE = "applies to future occurrences; what was sent is not resent."


def plan_data(plan: Plan) -> dict[str, Any]:
    prepared = plan.prepared
    tz = prepared.campaign.tz
    audience, composition = prepared.audience, prepared.composition
    data: dict[str, Any] = {"campaign": prepared.campaign.id}
    if audience is not None and composition is not None:
        longest = composition.longest
        found = audience.summary
        data["recipients"] = {
            "valid": found.valid,
            "invalid": found.invalid.total,
            "duplicates": found.duplicates.total,
            "excluded": found.excluded.total,
        }
        data["sms"] = {
            "encoding": composition.encoding,
            "segments": longest.segments if longest else 0,
            "characters": longest.characters if longest else 0,
            "units": longest.units if longest else 0,
        }
        data["total_segments"] = composition.total_segments
        data |= preview_data(composition)
        data["rejected"] = _rejected(found)
        # Big lists keep only the first rows of each kind; the counts above are complete.
        data["rejected_not_listed"] = {
            "invalid": found.invalid.omitted,
            "duplicates": found.duplicates.omitted,
            "excluded": found.excluded.omitted,
        }
        data["sending"] = _sending(plan)
        data["quiet_hours"] = None if plan.quiet_hours is None else str(plan.quiet_hours)
        data["urgent"] = plan.urgent
        data["frequency_cap"] = _cap(plan)
        data["cost"] = _cost(plan)
        data["approval"] = _approval(plan)
    data["occurrences"] = [at.isoformat() for at in plan.occurrences]
    data["sends"] = [_send_record(timing) for timing in plan.sends]
    data["schedule_ended"] = plan.schedule_ended.isoformat() if plan.schedule_ended else None
    data["warnings"] = _warnings(plan)
    data["changes"] = None if plan.changes is None else plan.changes.paths
    registered = plan.changes.registered_at if plan.changes else None
    data["registered_at"] = registered.astimezone(tz).isoformat() if registered else None
    return data


def _sending(plan: Plan) -> dict[str, Any]:
    seconds = plan.sending_s
    return {
        "senders": [{"sender": s, "segments_per_second": rate} for s, rate in plan.senders],
        "seconds": None if seconds is None or math.isinf(seconds) else round(seconds, 1),
        "queue_limit_hours": plan.queue_limit_hours,
        "over_queue_limit": plan.over_queue_limit,
    }


def _cap(plan: Plan) -> dict[str, Any] | None:
    cap = plan.frequency_cap
    if cap is None:
        return None
    return {
        "max_messages": cap.max_messages,
        "window_hours": cap.window_hours,
        "capped_now": plan.capped_now,
    }


def _cost(plan: Plan) -> dict[str, Any]:
    composition = plan.prepared.composition
    segments = composition.total_segments if composition else 0
    total = None if plan.price is None else round(plan.price * segments, 4)
    return {"price_per_segment": plan.price, "currency": plan.currency, "total": total,
            "budget": plan.budget}  # fmt: skip


def _approval(plan: Plan) -> dict[str, Any] | None:
    state = plan.approval
    if state is None:
        return None
    at = state.at.isoformat() if state.at else None
    return {"needed": state.needed, "approver": state.approver, "at": at, "void_by": state.void_by}


def _send_record(timing: SendTiming) -> dict[str, Any]:
    return {
        "at": timing.at.isoformat(),
        "starts": timing.starts.isoformat(),
        "finishes": timing.finishes.isoformat(timespec="seconds"),
        "waits_for_quiet_hours": timing.waits,
        "pauses_for_quiet_hours": timing.pauses,
    }


def _warnings(plan: Plan) -> list[str]:
    notes = [str(note) for note in plan.prepared.notes]  # e.g. a commune merged mid-campaign
    if not plan.over_queue_limit or plan.sending_s is None:
        return notes
    took = duration_text(plan.sending_s)
    return [
        *notes,
        f"one send takes about {took}, {QUEUE_ADVICE} (about {plan.queue_limit_hours:g} h)",
    ]


def _rejected(found: AudienceSummary) -> list[dict[str, Any]]:
    return [
        {"file": r.file, "line": r.line, "value": r.raw, "reason": r.reason}
        for r in found.invalid.rows
    ] + [
        {"file": d.file, "line": d.line, "value": d.phone,
         "reason": f"duplicate of {d.first_file}:{d.first_line}"}
        for d in found.duplicates.rows
    ] + [
        {"file": e.file, "line": e.line, "value": e.phone,
         "reason": f"excluded by {e.excluded_by_file}:{e.excluded_by_line}"}
        for e in found.excluded.rows
    ]  # fmt: skip


def plan_json(plan: Plan, _tz: ZoneInfo) -> str:
    return json.dumps(plan_data(plan), ensure_ascii=False, indent=2)


def plan_table(plan: Plan, _tz: ZoneInfo, full: bool = False) -> str:
    """For people: the rejected rows' numbers masked unless ``full``."""
    data = plan_data(plan)
    campaign = plan.prepared.campaign
    lines = [f"Campaign {data['campaign']}: {campaign.spec.title}"]
    if plan.changes is not None and plan.changes.paths:
        lines.append(changes_note(plan.changes, campaign.tz))
    if "recipients" in data:
        r, s = data["recipients"], data["sms"]
        lines += [
            f"Recipients:  {r['valid']} valid, {r['invalid']} invalid, "
            f"{r['duplicates']} duplicates, {r['excluded']} excluded",
            f"SMS:         {s['encoding']}, longest message {s['characters']} characters = "
            f"{s['segments']} segment(s)",
            f"Total:       {data['total_segments']} segments over all messages",
        ]
        if plan.prepared.composition is not None:
            lines += preview_lines(plan.prepared.composition, full)
        not_listed = sum(data["rejected_not_listed"].values())
        lines += _rejected_rows(data["rejected"], not_listed, full)
        lines += _pace_lines(plan)
    lines += _occurrence_lines(plan)
    lines += [f"warning: {w}" for w in data["warnings"]]
    return "\n".join(lines)


def changes_note(changes: Changes, tz: ZoneInfo) -> str:
    """``Changed since last registered (24/10/2024 08:00): sms.text — applies to ...``."""
    when = date_time_vi(changes.registered_at.astimezone(tz))
    return f"Changed since last registered ({when}): {', '.join(changes.paths)} — {CHANGES_ADVICE}"


def _pace_lines(plan: Plan) -> list[str]:
    lines = []
    if plan.sending_s is not None and plan.senders:
        pool = ", ".join(f"{s or 'default sender'} at {rate:g}" for s, rate in plan.senders)
        noun = "sender" if len(plan.senders) == 1 else "senders"
        lines.append(
            f"Sending:     about {duration_text(plan.sending_s)} per send "
            f"({len(plan.senders)} {noun}: {pool} segments/s)"
        )
    if plan.urgent:
        lines.append("Quiet hours: ignored — urgent campaign (emergency notice); the log says so")
    elif plan.quiet_hours is not None and not plan.quiet_hours.off:
        where = "the campaign's" if plan.quiet_hours.source == "sms.quiet_hours" else "settings"
        lines.append(f"Quiet hours: {plan.quiet_hours} ({where}): nothing is sent inside them")
    elif plan.quiet_hours is not None:
        lines.append("Quiet hours: off")
    return lines + _cap_lines(plan) + _cost_lines(plan)


def _cost_lines(plan: Plan) -> list[str]:
    composition = plan.prepared.composition
    segments = composition.total_segments if composition else 0
    if plan.price is None:
        lines = [f"Cost:        unknown — set pricing.per_segment for this gateway ({segments:,} "
                 "segments)"]  # fmt: skip
    else:
        total = money(plan.price * segments, plan.currency)
        lines = [f"Cost:        {total} per send ({segments:,} segments × {plan.price:g})"]
    if plan.budget is not None:
        lines.append(f"Budget:      {money(plan.budget, plan.currency)} for the whole campaign")
    if plan.approval is not None:
        lines.append(f"Approval:    {approval_text(plan.approval, plan.prepared.campaign.tz)}")
    return lines


def _cap_lines(plan: Plan) -> list[str]:
    cap = plan.frequency_cap
    if cap is None:
        return ["Frequency cap: none" + (" (urgent campaign)" if plan.urgent else "")]
    rule = f"at most {cap.max_messages} per subscriber in {cap.window_hours:g} h, all campaigns"
    if plan.capped_now is None:
        return [f"Frequency cap: {rule} (no database yet: nobody capped)"]
    return [f"Frequency cap: {rule}: {plan.capped_now} would be skipped if sent now"]


def _rejected_rows(rejected: list[dict[str, Any]], not_listed: int, full: bool) -> list[str]:
    if not rejected:
        return []
    lines = ["Not sent to:"]
    for row in rejected[:MAX_ROWS_SHOWN]:
        value = str(row["value"]) if full else mask_if_phone(str(row["value"]))
        lines.append(f"  {row['file']}:{row['line']}: {value}: {row['reason']}")
    more = len(rejected) - MAX_ROWS_SHOWN + not_listed
    if more > 0 and not_listed:
        listed = f"--json lists the first {MAX_KEPT_ROWS:,} of each kind"
        lines.append(f"  ... and {more} more ({listed})")
    elif more > 0:
        lines.append(f"  ... and {more} more (all of them: --json)")
    return lines


def mask_if_phone(value: str) -> str:
    """A normalized number masked; a raw cell (an invalid row's value, maybe a landline or a
    mistyped mobile number: personal data too) with its middle digits hidden."""
    return mask(value) if value.startswith("+") else mask_digits(value)


def _occurrence_lines(plan: Plan) -> list[str]:
    if plan.sends:
        return ["Next sends:", *(_send_row(t) for t in plan.sends)]
    if plan.occurrences:  # no sms timing known (no sms section): the moments alone
        return ["Next sends:", *(f"  {_when(at)}" for at in plan.occurrences)]
    if plan.schedule_ended:
        return [f"Schedule:    ended {schedule.format_datetime_vi(plan.schedule_ended)}"]
    sms = plan.prepared.campaign.spec.sms
    if sms is not None and sms.schedule is None:
        return ["Schedule:    none — one send, when you run `dispatcher send`"]
    return []


def _send_row(timing: SendTiming) -> str:
    """``  Thứ Năm  08/08/2024 23:00 → chờ đến 07:00 09/08/2024 (quiet hours), done by 07:01``."""
    row = f"  {_when(timing.at)}"
    if timing.waits:
        row += f" → chờ đến {_later(timing.starts, timing.at)} (quiet hours)"
    pause = ", pauses for quiet hours" if timing.pauses else ""
    return f"{row}{pause}, done by {_later(_minute_up(timing.finishes), timing.starts)}"


def _minute_up(moment: datetime) -> datetime:
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


def _when(at: datetime) -> str:
    return f"{schedule.weekday_vi(at.date()):<8} {date_time_vi(at)}"


def _later(moment: datetime, since: datetime) -> str:
    """The time alone on the same day as ``since``, else time and date."""
    local = moment.astimezone(since.tzinfo)
    if local.date() == since.date():
        return schedule.format_time_vi(local)
    return schedule.format_datetime_vi(local)


def date_time_vi(moment: datetime) -> str:
    """``24/10/2024 08:00``: date first, for tables that read down by date."""
    return f"{schedule.format_date_vi(moment.date())} {schedule.format_time_vi(moment)}"


def duration_text(seconds: float) -> str:
    """``27 s``, ``4 min 32 s``, ``12 h 30 min``: whole units, rounded up."""
    if math.isinf(seconds):
        return "forever (no sender has a rate)"
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    minutes = math.ceil(whole / 60)
    return f"{minutes // 60} h {minutes % 60} min"
