"""Text and JSON for the operations commands: ``campaigns``, ``status``, ``pause``, ``resume``,
``cancel``, ``halt``, ``unhalt``. Times for people are local dd/mm/yyyy HH:MM; JSON carries ISO
8601. Nothing here shows a phone number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dispatcher.cli.presenters import DELIVERED_NOTE
from dispatcher.core import schedule
from dispatcher.core.status import RANK, Status
from dispatcher.ops.controls import (
    ActivityEvent,
    CampaignStatus,
    CampaignSummary,
    OccurrenceSummary,
    StateChange,
)
from dispatcher.ops.health import Finding, HealthReport
from dispatcher.safety.halting import HaltChange, HaltState

# The table's columns, each the statuses it adds up (the JSON has every status on its own).
COLUMNS: dict[str, tuple[Status, ...]] = {
    "delivered": (Status.DELIVERED,),
    "sent": (Status.SENT,),
    "accepted": (Status.ACCEPTED,),
    "failed": (Status.FAILED, Status.UNDELIVERED),
    "pending": (Status.PENDING, Status.SENDING),
    "unknown": (Status.UNKNOWN,),
}
TABLE_NOTE = (
    "failed counts undelivered too; pending counts sending (claimed, in flight).\n"
    "Canceled and skipped deliveries, per occurrence: `dispatcher status ID`."
)


def when(moment: datetime | None, tz: ZoneInfo) -> str:
    """``16/10/2024 08:05`` in ``tz``; ``-`` for never."""
    if moment is None:
        return "-"
    local = moment.astimezone(tz)
    return f"{schedule.format_date_vi(local.date())} {schedule.format_time_vi(local)}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _counts_json(counts: dict[Status, int]) -> dict[str, int]:
    return {s.value: counts.get(s, 0) for s in sorted(Status, key=lambda s: (RANK[s], s.value))}


# -- dispatcher campaigns ------------------------------------------------------------------------
def campaigns_table(summaries: Sequence[CampaignSummary], tz: ZoneInfo) -> str:
    if not summaries:
        return "No campaigns yet: `dispatcher send FILE` registers a campaign.\n"
    header = ["id", "state", "occurrences", "recipients", *COLUMNS, "last activity"]
    rows = [_campaign_row(s, tz) for s in summaries]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [_row(header, widths)]
    for summary, row in zip(summaries, rows, strict=True):
        lines += [_row(row, widths), f"  {summary.title}"]
    lines.append(TABLE_NOTE)
    return "\n".join(lines) + "\n"


def _campaign_row(summary: CampaignSummary, tz: ZoneInfo) -> list[str]:
    counts = summary.counts
    totals = [sum(counts.get(s, 0) for s in statuses) for statuses in COLUMNS.values()]
    done = f"{summary.occurrences_done}/{len(summary.occurrences)}"
    return [summary.id, summary.state, done, f"{summary.recipients:,}",
            *(f"{n:,}" for n in totals), when(summary.last_activity, tz)]  # fmt: skip


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    """Text columns left-aligned (id, state, time), numbers right-aligned."""
    left = {0, 1, len(cells) - 1}
    padded = [c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in
              enumerate(zip(cells, widths, strict=True))]  # fmt: skip
    return "  ".join(padded).rstrip()


def summary_json(summary: CampaignSummary) -> dict[str, Any]:
    return {
        "id": summary.id, "title": summary.title, "unit": summary.unit, "state": summary.state,
        "source_path": summary.source_path,
        "occurrences": {"done": summary.occurrences_done, "total": len(summary.occurrences)},
        "recipients": summary.recipients, "messages": sum(summary.counts.values()),
        "counts": _counts_json(summary.counts), "last_activity": _iso(summary.last_activity),
    }  # fmt: skip


def campaigns_json(summaries: Sequence[CampaignSummary]) -> str:
    return json.dumps([summary_json(s) for s in summaries], ensure_ascii=False, indent=2) + "\n"


# -- dispatcher status ID ------------------------------------------------------------------------
def campaign_status(status: CampaignStatus, tz: ZoneInfo) -> str:
    c = status.campaign
    lines = [
        f"Campaign {c.id}: {c.title}",
        f"  state {c.state}; unit {c.unit}; file {c.source_path}",
        f"  occurrences {c.occurrences_done}/{len(c.occurrences)} done; {c.recipients:,} "
        f"recipients; last activity {when(c.last_activity, tz)}",
        "Occurrences:" if c.occurrences else "Occurrences: none yet",
        *(_occurrence_line(o, tz) for o in c.occurrences),
        *_findings_lines(status.health.findings, with_campaign=False),
        "Recent activity:" if status.activity else "Recent activity: none",
        *(_activity_line(a, tz) for a in status.activity),
        DELIVERED_NOTE,
    ]
    return "\n".join(lines) + "\n"


def _occurrence_line(occurrence: OccurrenceSummary, tz: ZoneInfo) -> str:
    ordered = sorted(occurrence.counts.items(), key=lambda item: (RANK[item[0]], item[0].value))
    counts = ", ".join(f"{n:,} {s.value}" for s, n in ordered if n) or "no deliveries"
    done = "done" if occurrence.done else "in progress"
    if occurrence.state == "skipped":
        done = "skipped: missed its sending window"
    return (
        f"  {occurrence.key}  {when(occurrence.scheduled_at, tz)}  {occurrence.recipients:,} "
        f"recipients: {counts} ({done})"
    )


def _activity_line(event: ActivityEvent, tz: ZoneInfo) -> str:
    occurrence = f" [{event.occurrence_key}]" if event.occurrence_key else ""
    detail = f": {event.detail}" if event.detail else ""
    return f"  {when(event.at, tz)}  {event.kind}{occurrence}{detail}"


def campaign_status_json(status: CampaignStatus) -> str:
    data = {
        "campaign": summary_json(status.campaign),
        "occurrences": [_occurrence_json(o) for o in status.campaign.occurrences],
        "health": status.health.as_json(),
        "activity": [
            {"at": a.at.isoformat(), "kind": a.kind, "occurrence": a.occurrence_key,
             "detail": a.detail}
            for a in status.activity
        ],
    }  # fmt: skip
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _occurrence_json(occurrence: OccurrenceSummary) -> dict[str, Any]:
    return {
        "key": occurrence.key, "scheduled_at": occurrence.scheduled_at.isoformat(),
        "state": occurrence.state, "recipients": occurrence.recipients,
        "done": occurrence.done, "finished_at": _iso(occurrence.finished_at),
        "counts": _counts_json(occurrence.counts),
    }  # fmt: skip


# -- dispatcher status (health) ------------------------------------------------------------------
def health_text(report: HealthReport, tz: ZoneInfo) -> str:
    checked = when(report.checked_at, tz)
    if report.healthy:
        return f"Healthy: no work stuck (checked {checked}).\n"
    lines = _findings_lines(report.findings, with_campaign=True)
    return "\n".join([*lines, f"(checked {checked})"]) + "\n"


def _findings_lines(findings: Sequence[Finding], with_campaign: bool) -> list[str]:
    if not findings:
        return ["Health: ok"]
    lines = [f"UNHEALTHY: {len(findings)} finding{'s' if len(findings) > 1 else ''}"]
    for finding in findings:
        where = [finding.campaign_id or "(all campaigns)"] if with_campaign else []
        if finding.occurrence:
            where.append(f"occurrence {finding.occurrence}")
        prefix = f"{' '.join(where)}: " if where else ""
        lines.append(f"  [{finding.rule}] {prefix}{finding.message}")
    return lines


def health_json(report: HealthReport) -> str:
    return json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n"


# -- pause, resume, cancel -----------------------------------------------------------------------
def state_change(change: StateChange | None) -> str:
    if change is None:
        return "Nothing changed."
    if not change.changed:
        return f"{change.campaign_id}: already {change.after}; nothing changed."
    head = f"{change.campaign_id}: {change.after} (was {change.before}), by {change.by}."
    if change.after == "paused":
        return (
            head + " Workers stop claiming its deliveries within seconds; those in flight finish."
        )
    if change.after == "active":
        return head + " Workers take its pending deliveries again."
    return (
        f"{head}\n  {change.canceled:,} pending deliveries canceled (never sent); "
        f"{change.in_flight:,} in flight left to finish or be reconciled."
    )


def cancel_question(summary: CampaignSummary) -> str:
    pending = summary.counts.get(Status.PENDING, 0)
    return (
        f"Cancel campaign {summary.id} ({summary.title})? Its {pending:,} pending deliveries "
        "will never be sent, nor any later occurrence. This is final."
    )


# -- halt, unhalt --------------------------------------------------------------------------------
HALT_NEXT = (
    "  Every worker stops claiming within seconds; claimed work finishes, or goes back to pending"
    "\n  (or, held by a worker that dies, is reconciled as unknown). Nothing is lost, nothing is"
    "\n  sent until `dispatcher unhalt`."
)


def halt_change(change: HaltChange, tz: ZoneInfo) -> str:
    if change.halted and not change.changed and change.state is not None:
        return (
            f"Already halted {_halt_text(change.state, tz)}; nothing changed.\n"
            "  `dispatcher unhalt` resumes sending."
        )
    if change.halted:
        return f"Sending halted {_by(change.by, change.reason)}.\n{HALT_NEXT}"
    if not change.changed or change.lifted is None:
        return "Sending is not halted; nothing changed."
    return (
        f"Sending resumed {_by(change.by, change.reason)} (halted "
        f"{_halt_text(change.lifted, tz)}).\n  Workers claim pending deliveries again within "
        "seconds; run `dispatcher send` again for what was being sent by hand."
    )


def _halt_text(state: HaltState, tz: ZoneInfo) -> str:
    """``since 16/10/2024 08:05 by alice: wrong text``."""
    return f"since {when(state.since, tz)} {_by(state.by, state.reason)}"


def _by(who: str, reason: str | None) -> str:
    return f"by {who}: {reason}" if reason else f"by {who}"
