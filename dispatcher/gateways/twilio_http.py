"""The twilio client's own async HTTP client, with two per-request costs taken out.

The official client (``Client`` → ``MessageList.create_async`` → ``http_client.request``) is used
as it is; only its transport, which Twilio documents as replaceable, is this subclass of its own
``AsyncTwilioHttpClient``. Thousands of times a second those two costs were a quarter of the
request's CPU in the client (``bench/profile_send.py``):

- the form body: handed a dict, aiohttp builds a ``FormData`` and, inside it, a multipart writer
  with a fresh ``uuid4`` boundary for every request, to end with the same urlencoded bytes.
  Here the dict is urlencoded as aiohttp would (UTF-8, repeated keys for lists) and passed as
  bytes; the twilio client has already set ``Content-Type: application/x-www-form-urlencoded``;
- the request and response logging formats its lines (headers included) before the logger
  decides to drop them: here it runs only when the ``twilio`` logger is enabled for INFO.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response


class FormEncodingHttpClient(AsyncTwilioHttpClient):
    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        body: Any = form_body(data) if isinstance(data, dict) else data
        return await super().request(
            method, url, params, body, headers, auth, timeout, allow_redirects
        )

    def log_request(self, kwargs: dict[str, Any]) -> None:
        if self.logger.isEnabledFor(logging.INFO):
            super().log_request(kwargs)

    def log_response(self, status_code: int, response: Any) -> None:
        if self.logger.isEnabledFor(logging.INFO):
            super().log_response(status_code, response)


def form_body(data: dict[str, object]) -> bytes:
    """The urlencoded body aiohttp's ``FormData`` makes of ``data`` (UTF-8, a list's items as
    repeated keys), without the multipart machinery it builds on the way."""
    return urlencode(data, doseq=True, encoding="utf-8").encode()
