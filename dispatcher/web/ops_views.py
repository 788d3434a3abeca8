"""The operators' dashboard as HTML: Vietnamese words, dd/mm/yyyy HH:MM local times, Vietnamese
number formats; templates ``ops*.html.j2``, every value escaped. No JavaScript: the progress
bar is CSS widths, the actions are links to a confirmation page whose form posts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import quote

from dispatcher.core import templating
from dispatcher.core.schedule import format_date_vi, format_time_vi
from dispatcher.ops.dashboard import (
    RATE_WINDOW_MINUTES,
    CampaignDetail,
    CampaignLine,
    Overview,
    Progress,
)
from dispatcher.store.dashboard import ErrorCount
from dispatcher.store.health import ACTIVE, CANCELED, PAUSED, ActivityEvent, OccurrenceSummary
from dispatcher.store.workers import HaltState
from dispatcher.web import pages
from dispatcher.web.ops_words import (
    ACTIONS,
    ACTIVITY_NAMES,
    PART_NAMES,
    STATE_NAMES,
    Action,
    detail_vi,
    error_meaning,
    number,
)

DASHBOARD = "/ops"


def _render(template: str, **values: Any) -> str:
    with templating.time_limit():
        return pages.environment().get_template(template).render(**values)


def campaign_path(campaign_id: str, action: str | None = None) -> str:
    """``/ops/c/<id>``, or the page of one of its actions: ``/ops/c/<id>/pause``."""
    path = f"{DASHBOARD}/c/{quote(campaign_id, safe='')}"
    return f"{path}/{action}" if action else path


# -- numbers and times, as Vietnamese write them ------------------------------------------------
def rate(per_minute: float) -> str:
    """``12,5 tin/phút``: a decimal comma."""
    return f"{per_minute:.1f}".replace(".", ",") + " tin/phút"


def moment(at: datetime | None, tz: tzinfo) -> str:
    """``16/10/2024 08:05`` in ``tz``; ``—`` for none."""
    if at is None:
        return "—"
    local = at.astimezone(tz)
    return f"{format_date_vi(local.date())} {format_time_vi(local)}"


# -- what the templates show ---------------------------------------------------------------------
@dataclass(frozen=True)
class BarView:
    parts: list[tuple[str, str, int, float]]  # (css class, name, count, share in %)
    total: int

    @property
    def text(self) -> str:
        shown = [f"{name} {number(n)}" for _, name, n, _ in self.parts if n]
        return " · ".join(shown) + f" / tổng {number(self.total)}" if shown else "Chưa có tin"


def bar(progress: Progress) -> BarView:
    parts = [(part, PART_NAMES[part], n, round(progress.share(part), 2))
             for part, n in progress.parts.items()]  # fmt: skip
    return BarView(parts, progress.total)


@dataclass(frozen=True)
class LineView:
    id: str
    title: str
    state: str
    state_name: str
    bar: BarView
    rate: str
    next_at: str
    page: str
    actions: list[tuple[str, str]]  # (label, confirmation page)


def _line(line: CampaignLine, tz: tzinfo) -> LineView:
    s = line.summary
    return LineView(
        id=s.id, title=s.title, state=s.state, state_name=STATE_NAMES.get(s.state, s.state),
        bar=bar(line.progress), rate=rate(line.per_minute), next_at=moment(line.next_at, tz),
        page=campaign_path(s.id), actions=[(a.label, campaign_path(s.id, a.name))
                                           for a in possible_actions(line)],
    )  # fmt: skip


def possible_actions(line: CampaignLine) -> list[Action]:
    """What may be done to the campaign now: pause an active one, resume a paused one, cancel
    one not canceled (or canceled with deliveries still pending: an outbox written meanwhile)."""
    state, pending = line.summary.state, line.progress.parts["pending"]
    wanted = {"pause": state == ACTIVE, "resume": state == PAUSED,
              "cancel": state != CANCELED or pending > 0}  # fmt: skip
    return [ACTIONS[name] for name, ok in wanted.items() if ok]


@dataclass(frozen=True)
class HaltView:
    since: str
    by: str
    reason: str | None


def _halt(halt: HaltState | None, tz: tzinfo) -> HaltView | None:
    return HaltView(moment(halt.since, tz), halt.by, halt.reason) if halt else None


def _events(events: Sequence[ActivityEvent], tz: tzinfo) -> list[tuple[str, str, str]]:
    """(when, what, detail: who and why, as the log has it)."""
    return [(moment(e.at, tz), ACTIVITY_NAMES.get(e.kind, e.kind), detail_vi(e.detail or ""))
            for e in events]  # fmt: skip


def occurrence_state(occurrence: OccurrenceSummary, campaign_state: str = ACTIVE) -> str:
    """An occurrence in words; one not done is sending only while its campaign is active."""
    if occurrence.state == "skipped":
        return "bỏ lỡ: quá thời hạn gửi, không gửi"
    if occurrence.done:
        return "đã xong"
    return {PAUSED: "tạm dừng", CANCELED: "đã huỷ"}.get(campaign_state, "đang gửi")


def _failures(failures: Sequence[ErrorCount]) -> list[tuple[str, str, str]]:
    """(code or label, count, meaning)."""
    return [(str(f.code) if f.code is not None else (f.label or "không có mã"),
             number(f.count), error_meaning(f.code, f.label) or "—")
            for f in failures]  # fmt: skip


# -- the pages -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Viewer:
    """Who is signed in, for the page's corner, and the form's CSRF token."""

    name: str
    csrf: str | None


def dashboard_page(overview: Overview, tz: tzinfo, viewer: Viewer, notice: str | None) -> str:
    return _render(
        "ops.html.j2", lines=[_line(c, tz) for c in overview.campaigns],
        halt=_halt(overview.halt, tz), halts=_events(overview.halts, tz),
        checked=moment(overview.checked_at, tz), window=RATE_WINDOW_MINUTES,
        viewer=viewer.name, csrf=viewer.csrf, notice=notice,
    )  # fmt: skip


def campaign_page(detail: CampaignDetail, tz: tzinfo, viewer: Viewer) -> str:
    summary = detail.line.summary
    occurrences = [(o.key, moment(o.scheduled_at, tz), occurrence_state(o, summary.state),
                    bar(progress)) for o, progress in detail.occurrences]  # fmt: skip
    return _render(
        "ops_campaign.html.j2", c=_line(detail.line, tz), occurrences=occurrences,
        done=summary.occurrences_done, recipients=number(summary.recipients),
        failures=_failures(detail.failures), activity=_events(detail.activity, tz),
        halt=_halt(detail.halt, tz), checked=moment(detail.checked_at, tz),
        window=RATE_WINDOW_MINUTES, viewer=viewer.name, csrf=viewer.csrf, back=DASHBOARD,
    )  # fmt: skip


def confirm_page(action: Action, what: str, consequence: str, target: str, viewer: Viewer) -> str:
    """The step before an action: what it will do, a reason to give, and the button."""
    return _render(
        "ops_confirm.html.j2", action=action, what=what, consequence=consequence,
        target=target, viewer=viewer.name, csrf=viewer.csrf, back=DASHBOARD,
    )  # fmt: skip


def error_page(heading: str, message: str) -> str:
    """A refused action or an unknown campaign: why, and nothing changed."""
    return _render("ops_error.html.j2", heading=heading, message=message, back=DASHBOARD)
