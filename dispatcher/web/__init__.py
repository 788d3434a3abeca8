"""The communes' pages on ``dispatcher serve``: each commune's airings, scripts and audio, and
the "Đã phát" button, behind a per-commune link.

- :mod:`~dispatcher.auth.tokens` and :mod:`~dispatcher.broadcast.links`: the links (random
  tokens stored as digests, keyed on the commune's unit code, each with its expiry, revocable);
- :mod:`~dispatcher.web.routes`: the aiohttp routes, added to the app of ``serve``;
- :mod:`~dispatcher.web.pages`: the HTML (Jinja2 templates in ``templates/``, autoescaped).

Importing the package loads neither aiohttp nor Jinja2.
"""
