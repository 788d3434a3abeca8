"""The commune's page as HTML: Jinja2 templates shipped in ``templates/``, every value escaped.

Plain HTML and a little CSS, no JavaScript: it must work on any phone's browser, and the one
action (the "Đã phát" button) is an ordinary form post.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING
from urllib.parse import quote

import jinja2

from dispatcher.auth.sessions import AUDITOR, OPERATOR, ROLE_NAMES_VI
from dispatcher.auth.tokens import page_path
from dispatcher.broadcast import duration_vi
from dispatcher.broadcast.confirmations import CommuneAiring
from dispatcher.broadcast.scripts import AiringScript
from dispatcher.core import templating
from dispatcher.core.schedule import format_date_vi, format_datetime_vi, format_time_vi, weekday_vi
from dispatcher.store.airings import Confirmation

if TYPE_CHECKING:
    from dispatcher.web.access import Principal

SOURCE_NAMES = {"cli": "dòng lệnh", "web": "trang của xã", "http": "HTTP"}
AUDIO_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav"}
_SENTENCE_ENDS = (".", "!", "?", ":", "…", ";")
Link = Callable[[str], str]  # a path under the commune's page → its URL with the token


@functools.cache
def environment() -> jinja2.Environment:
    """The templates of every page of ``serve`` (communes', operators', auditors'). Our own
    templates, but they show campaign text: the same sandbox as every template."""
    return templating.environment(
        loader=jinja2.PackageLoader("dispatcher.web", "templates"),
        autoescape=True,  # every template here is HTML
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True, kw_only=True)
class AiringView:
    """What the page shows of one airing."""

    time: str  # 06:00
    title: str
    campaign_id: str
    at_iso: str  # the form's `at`: the scheduled time, ISO 8601 with its offset
    reading: str  # "3 phút 37 giây"
    script_url: str
    script_text: str
    variants: list[tuple[str, str, str | None]]  # (language name, script URL, audio URL)
    audio_url: str | None
    audio_type: str | None
    audio_name: str | None
    confirmed: str | None  # "Đã phát lúc …" when confirmed
    confirmable: bool
    note: str | None  # why it cannot be confirmed (yet)
    key: str = ""  # 2024-10-16T0600: the airing in URLs and the confirm step's form
    undo_until: str | None = None  # "06:15": the confirmation may be undone until then


@dataclass(frozen=True)
class DayView:
    label: str  # "Thứ Tư, 16/10/2024"
    airings: list[AiringView]


def script_href(airing: CommuneAiring, script: AiringScript) -> str:
    """``script/<campaign>/<2024-10-16T0600>[.tay].txt``: the script, under the page."""
    language = f".{script.language}" if script.language else ""
    return f"script/{quote(airing.campaign_id, safe='')}/{airing.key}{language}.txt"


def audio_href(airing: CommuneAiring, script: AiringScript) -> str | None:
    """``audio/<campaign>/<2024-10-16T0600>[.tay].mp3``, when the script can have audio (made,
    pulled, or made when asked: :func:`dispatcher.broadcast.served_audio.audio_link`)."""
    path = airing.audio(script)
    if path is None:
        return None
    language = f".{script.language}" if script.language else ""
    return f"audio/{quote(airing.campaign_id, safe='')}/{airing.key}{language}{path.suffix}"


def _view(airing: CommuneAiring, link: Link) -> AiringView:
    main = airing.scripts[0]
    audio, path = audio_href(airing, main), airing.audio(main)
    variants = []
    for script in airing.scripts[1:]:
        variant_audio = audio_href(airing, script)
        name = script.language_name or script.language or ""
        audio_url = link(variant_audio) if variant_audio else None
        variants.append((name, link(script_href(airing, script)), audio_url))
    note = None
    if not airing.in_plan:
        note = "Lượt phát này không có trong kế hoạch đã đăng ký: không xác nhận được."
    elif airing.confirmation is None and not airing.confirmable:
        note = "Chưa đến giờ phát."
    return AiringView(
        time=format_time_vi(airing.at), title=airing.title, campaign_id=airing.campaign_id,
        at_iso=airing.at.isoformat(), reading=duration_vi(airing.reading_seconds),
        script_url=link(script_href(airing, main)), script_text=for_screen(main.text),
        variants=variants, audio_url=link(audio) if audio else None,
        audio_type=AUDIO_TYPES.get(path.suffix) if path else None,
        audio_name=path.name if path else None,
        confirmed=confirmed_text(airing.confirmation, airing), confirmable=airing.confirmable,
        note=note, key=airing.key,
        undo_until=format_time_vi(airing.undo_until.astimezone(airing.at.tzinfo))
        if airing.undo_until else None,
    )  # fmt: skip


def for_screen(text: str) -> str:
    """The script reflowed for a phone's width: the lines the page layout wrapped at 72
    characters are joined again; sentences, headings and paragraphs keep their breaks."""
    paragraphs = []
    for paragraph in text.strip("\n").split("\n\n"):
        lines: list[str] = []
        for line in paragraph.split("\n"):
            if lines and not lines[-1].rstrip().endswith(_SENTENCE_ENDS):
                lines[-1] = f"{lines[-1].rstrip()} {line.lstrip()}"
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs) + "\n"


def confirmed_text(confirmation: Confirmation | None, airing: CommuneAiring) -> str | None:
    if confirmation is None:
        return None
    tz = airing.at.tzinfo
    aired = format_datetime_vi(confirmation.aired_at.astimezone(tz))
    when = format_datetime_vi(confirmation.created_at.astimezone(tz))
    length = f", {duration_vi(confirmation.duration_s)}" if confirmation.duration_s else ""
    source = SOURCE_NAMES.get(confirmation.source, confirmation.source)
    return f"Đã phát lúc {aired}{length} (xác nhận {when} qua {source})"


def _days(airings: Sequence[CommuneAiring], link: Link) -> list[DayView]:
    by_day: dict[date, list[AiringView]] = {}
    for airing in airings:
        by_day.setdefault(airing.at.date(), []).append(_view(airing, link))
    return [
        DayView(f"{weekday_vi(day)}, {format_date_vi(day)}", views)
        for day, views in sorted(by_day.items())
    ]


def commune_page(
    commune: str,
    airings: Sequence[CommuneAiring],
    today: date,
    link: Link,
    csrf: str | None,
    notice: str | None = None,
    *,
    viewer: str | None = None,
    read_only: bool = False,
) -> str:
    """The page: today's airings, those of past days still to confirm, then the coming days'."""
    earlier = [a for a in airings if a.at.date() < today and a.confirmable]
    todays = [a for a in airings if a.at.date() == today]
    coming = [a for a in airings if a.at.date() > today]
    template = environment().get_template("commune.html.j2")
    with templating.time_limit():
        return template.render(
        commune=commune, today=f"{weekday_vi(today)}, {format_date_vi(today)}",
        earlier=_days(earlier, link), today_airings=[_view(a, link) for a in todays],
        coming=_days(coming, link), confirm_url=link("confirm"), csrf=csrf, notice=notice,
        viewer=viewer, read_only=read_only, undo_url=link("undo"),
    )  # fmt: skip


def confirm_step_page(
    commune: str, airing: CommuneAiring, link: Link, csrf: str | None, back: str
) -> str:
    """The step between "Đã phát" and the record: which airing, and a second button that posts."""
    template = environment().get_template("confirm_step.html.j2")
    with templating.time_limit():
        return template.render(
        commune=commune, a=_view(airing, link), day=format_date_vi(airing.at.date()),
        weekday=weekday_vi(airing.at.date()), confirm_url=link("confirm"), csrf=csrf, back=back,
    )  # fmt: skip


def notice_text(airing: CommuneAiring, created: bool, undone: bool = False) -> str | None:
    """The line shown after the button (the page the post redirects to): recorded just now,
    or confirmed before, or undone; None when the airing has no confirmation (and was not
    just undone)."""
    confirmation = airing.confirmation
    planned = f"{format_datetime_vi(airing.at)} ({airing.title})"
    if undone:
        return None if confirmation else f"Đã hoàn tác: lượt phát {planned} chưa được xác nhận."
    if confirmation is None:
        return None
    if created:
        return f"Đã ghi nhận: lượt phát {planned} đã được phát."
    when = format_datetime_vi(confirmation.created_at.astimezone(airing.at.tzinfo))
    return f"Lượt phát {planned} đã được xác nhận trước đó, lúc {when}."


def error_page(commune: str, message: str, back: str | None) -> str:
    """A page for a refused confirmation: the reason, and the way back."""
    template = environment().get_template("error.html.j2")
    return template.render(commune=commune, message=message, back=back)


# The answers a browser may meet besides a page, in Vietnamese: (heading, what to do).
STATUS_TEXTS = {
    403: ("Không có quyền truy cập", "Tài khoản hoặc đường dẫn này không được mở trang này."),
    404: ("Không tìm thấy trang", "Trang hoặc tệp này không có: đường dẫn có thể bị sai, hoặc "
          "lượt phát không còn trong lịch."),
    405: ("Không thực hiện được", "Trang này không nhận yêu cầu như vậy."),
    409: ("Không thực hiện được", "Yêu cầu không còn phù hợp với trạng thái hiện tại: xin tải "
          "lại trang rồi thử lại."),
    500: ("Lỗi hệ thống", "Đã có lỗi trong hệ thống và lỗi đã được ghi lại. Xin thử lại sau ít "
          "phút; nếu vẫn lỗi, xin báo huyện."),
    503: ("Tạm thời không dùng được", "Cơ sở dữ liệu tạm thời không dùng được. Xin thử lại sau "
          "ít phút."),
}  # fmt: skip


def status_page(status: int) -> str:
    """The page for an error answer (:data:`STATUS_TEXTS`) a browser gets instead of text."""
    heading, message = STATUS_TEXTS[status]
    template = environment().get_template("status.html.j2")
    return template.render(status=status, heading=heading, message=message)


_REFUSALS = {
    "expired": "Đường dẫn này đã hết hạn{until}. Xin liên hệ huyện để được cấp đường dẫn mới.",
    "revoked": "Đường dẫn này đã bị thu hồi. Xin liên hệ huyện để được cấp đường dẫn mới.",
    "unknown": "Đường dẫn không đúng hoặc không có quyền xem trang này.",
    "signed-out": "Chưa đăng nhập hoặc phiên đăng nhập đã hết. Xin mở lại đường dẫn huyện đã "
    "gửi, hoặc đăng nhập bằng mã truy cập.",
    "csrf": "Biểu mẫu không hợp lệ hoặc đã hết hạn: không có gì thay đổi. Xin tải lại trang rồi "
    "thử lại.",
    "read-only": "Tài khoản kiểm tra chỉ được xem, không được thay đổi gì.",
    "role": "Tài khoản này không có quyền dùng trang này.",
}


def refused_page(reason: str, expires_at: datetime | None, tz: tzinfo) -> str:
    """The 403 page for a link that opens nothing, in Vietnamese: expired (since when),
    revoked, or not a link to this page."""
    until = f" từ {format_datetime_vi(expires_at.astimezone(tz))}" if expires_at else ""
    message = _REFUSALS.get(reason, _REFUSALS["unknown"]).format(until=until)
    login = reason in ("signed-out", "expired", "revoked")
    return environment().get_template("refused.html.j2").render(message=message, login=login)


def forbidden_page(reason: str) -> str:
    """The 403 page for a refused post: no valid CSRF token, or an auditor's."""
    message = _REFUSALS[reason]
    return environment().get_template("refused.html.j2").render(message=message, login=False)


def login_page(csrf: str, error: str | None) -> str:
    """The form for signing in with a token (pasted), and why the last try failed."""
    return environment().get_template("login.html.j2").render(csrf=csrf, error=error)


def home_page(principal: Principal, communes: Sequence[tuple[str, str]]) -> str:
    """An operator's or auditor's start page: who is signed in, and the communes' pages."""
    pages = [(name, page_path(key)) for key, name in communes]
    return environment().get_template("home.html.j2").render(
        name=principal.name, role=ROLE_NAMES_VI.get(principal.role, principal.role),
        read_only=not principal.can_change, pages=pages, csrf=principal.csrf,
        audit=principal.role in (OPERATOR, AUDITOR), ops=principal.role == OPERATOR,
    )  # fmt: skip
