"""Twilio's rules for the Messages API, as the simulator applies them: pure functions.

Create requests are checked in the order Twilio checks them and refused with its codes and
JSON error body; list requests are filtered and paged the way twilio-python expects (newest
first, ``next_page_uri`` until the last page).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import urlencode

import phonenumbers
from aiohttp import web
from phonenumbers import NumberParseException, PhoneNumberType

from dispatcher.gateways import simulator_state as st
from dispatcher.sms import encoding as sms

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
LIST_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")

REJECTION_MESSAGES = {
    21211: "The 'To' number is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region of the 'To' number",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}


class ApiError(Exception):
    """A refusal, answered as Twilio's JSON error body."""

    def __init__(self, status: int, code: int, message: str | None = None) -> None:
        super().__init__(message or REJECTION_MESSAGES.get(code, f"Error {code}"))
        self.status = status
        self.code = code

    def response(self, headers: Mapping[str, str] | None = None) -> web.Response:
        body = {
            "code": self.code,
            "message": str(self),
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        return web.json_response(body, status=self.status, headers=headers)


@dataclass(frozen=True)
class CreateRequest:
    """A create request that passed validation."""

    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    segments: int
    status_callback: str | None


@lru_cache(maxsize=65536)
def to_number_error(to: str) -> int | None:
    """The code Twilio refuses this To with (21211, 21614), or None; cached: it is the hot path."""
    if not (to.startswith("+") and to[1:].isdigit() and 2 <= len(to) <= 16):
        return 21211
    try:
        number = phonenumbers.parse(to, None)
    except NumberParseException:
        return 21211
    if not phonenumbers.is_valid_number(number):
        return 21211
    if phonenumbers.number_type(number) == PhoneNumberType.FIXED_LINE:
        return 21614
    return None


@lru_cache(maxsize=4096)
def _analyze(body: str) -> sms.SmsInfo:
    return sms.analyze(body)  # campaign bodies repeat: don't count the same text thousands of times


def validate_create(form: Mapping[str, str], fail_to: Mapping[str, int]) -> CreateRequest:
    """Check a create request in Twilio's order; raise :class:`ApiError` for the first problem."""
    to = form.get("To", "").strip()
    if not to:
        raise ApiError(400, 21604)
    if (code := to_number_error(to)) == 21211:
        raise ApiError(400, code, f"The 'To' number {to} is not a valid phone number.")
    from_ = form.get("From") or None
    service = form.get("MessagingServiceSid") or None
    if from_ is None and service is None:
        raise ApiError(400, 21603)
    body = form.get("Body", "")
    if not body:
        raise ApiError(400, 21602)
    info = _analyze(body)
    if info.characters > sms.MAX_BODY_CHARACTERS:
        raise ApiError(400, 21617)
    if code is not None:
        raise ApiError(400, code)
    if to in fail_to:
        raise ApiError(400, fail_to[to])
    callback = form.get("StatusCallback") or None
    return CreateRequest(to, from_, service, body, info.segments, callback)


def list_filter(query: Mapping[str, str]) -> st.ListFilter:
    """The filters of a list request (twilio-python sends ``DateSent<`` and ``DateSent>``)."""
    lows: list[int] = []
    highs: list[int] = []
    ops: tuple[tuple[str, Literal["=", "<", ">"]], ...] = (
        ("DateSent", "="),
        ("DateSent<", "<"),
        ("DateSent>", ">"),
    )
    for name, op in ops:
        if value := query.get(name):
            try:
                low, high = st.parse_date_bound(value, op)
            except ValueError:
                raise ApiError(400, 20001, f"Invalid {name}: {value}") from None
            lows.extend([low] if low is not None else [])
            highs.extend([high] if high is not None else [])
    return st.ListFilter(
        query.get("To") or None,
        query.get("From") or None,
        max(lows, default=None),
        min(highs, default=None),
    )


def _int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, 20001, f"Invalid {name}: {raw}") from None
    if not low <= value <= high:
        raise ApiError(400, 20001, f"{name} must be between {low} and {high}")
    return value


def list_page(
    store: st.MessageStore, path: str, query: Mapping[str, str], account_sid: str, now: float
) -> dict[str, object]:
    """The list response for ``query`` on ``path``, shaped as the spec's ListMessageResponse."""
    wanted = list_filter(query)
    size = _int_param(query, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    number = _int_param(query, "Page", 0, 0, 10**9)
    token = query.get("PageToken") or None
    items, has_more = _select(store, token, number * size, size, wanted, now)
    base = {k: v for k, v in query.items() if k in LIST_FILTERS}

    def uri(page: int, token: str | None) -> str:
        params = {**base, "PageSize": str(size), "Page": str(page)}
        if token:
            params["PageToken"] = token
        return f"{path}?{urlencode(params)}"

    first, last = (items[0].record.sid, items[-1].record.sid) if items else (None, None)
    return {
        "messages": [st.message_json(m, account_sid, now) for m in items],
        "end": number * size + max(len(items) - 1, 0),
        "first_page_uri": uri(0, None),
        "next_page_uri": uri(number + 1, f"PA{last}") if has_more else None,
        "page": number,
        "page_size": size,
        "previous_page_uri": uri(number - 1, f"PB{first}") if number > 0 and first else None,
        "start": number * size,
        "uri": uri(number, token),
    }


def _select(
    store: st.MessageStore,
    token: str | None,
    offset: int,
    size: int,
    wanted: st.ListFilter,
    now: float,
) -> tuple[list[st.StoredMessage], bool]:
    """One page, newest first, and whether older matches remain.

    ``PA<sid>`` continues after (older than) that message and ``PB<sid>`` ends before (newer
    than) it, so pages stay stable while new messages arrive; with no token, ``Page`` ×
    ``PageSize`` matches are skipped from the newest.
    """
    if not token:
        matches = store.older(len(store), wanted, now)
        for _ in zip(range(offset), matches, strict=False):
            pass
        return _take(matches, size)
    position = store.position(token[2:])
    if position is None or token[:2] not in ("PA", "PB"):
        raise ApiError(400, 20001, f"Invalid PageToken: {token}")
    if token[:2] == "PA":
        return _take(store.older(position, wanted, now), size)
    newer, _ = _take(store.newer(position, wanted, now), size)
    return newer[::-1], True


def _take(matches: Iterator[st.StoredMessage], size: int) -> tuple[list[st.StoredMessage], bool]:
    # zip draws from range first, so the iterator is not advanced past the page.
    items = [m for _, m in zip(range(size), matches, strict=False)]
    return items, next(matches, None) is not None
