"""The communes' pages on ``dispatcher serve``: each commune's airings, scripts and audio, and
the "Đã phát" button, behind a per-commune token.

- :mod:`~dispatcher.auth.tokens`: the tokens (HMAC of the commune's slug, keyed by
  ``$DISPATCHER_SECRET_KEY``; none is stored anywhere) and the page links;
- :mod:`~dispatcher.web.routes`: the aiohttp routes, added to the app of ``serve``;
- :mod:`~dispatcher.web.pages`: the HTML (Jinja2 templates in ``templates/``, autoescaped).

Importing the package loads neither aiohttp nor Jinja2: the CLI's ``broadcast link`` only needs
the tokens.
"""
