"""The gateway's form body is byte for byte what aiohttp's own FormData would have sent."""

from __future__ import annotations

from aiohttp import FormData
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.gateways.twilio_http import form_body

keys = st.sampled_from(["To", "From", "Body", "StatusCallback", "MediaUrl"])
# Any text a UTF-8 file can hold (lone surrogates cannot be encoded, by either side).
text = st.text(st.characters(codec="utf-8"))
values = text | st.lists(text, min_size=1, max_size=3)


def aiohttp_body(data: dict[str, object]) -> bytes:
    payload = FormData(data)()
    assert payload.content_type == "application/x-www-form-urlencoded"
    return bytes(payload._value)


@given(st.dictionaries(keys, values, max_size=5))
def test_the_body_is_the_one_aiohttp_would_encode(data: dict[str, object]) -> None:
    assert form_body(data) == aiohttp_body(data)


def test_vietnamese_text_is_utf8_percent_encoded() -> None:
    body = form_body({"Body": "Tắt sóng 2G & đổi máy", "To": "+84912345678"})
    assert body == b"Body=T%E1%BA%AFt+s%C3%B3ng+2G+%26+%C4%91%E1%BB%95i+m%C3%A1y&To=%2B84912345678"
