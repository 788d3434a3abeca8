"""Words a campaign file shares with the broadcast code below it: kept here so that the campaign
model can check a file without importing the code that renders scripts and audio."""

from __future__ import annotations

# Variables every script template gets; a campaign's own ``variables`` may not reuse them.
BUILTIN_VARIABLES = frozenset(
    ["commune", "campaign", "title", "unit", "date", "time", "weekday", "repeat", "airing"]
)
DEFAULT_LANGUAGE = "vi"  # a recording or an airing without a language is in Vietnamese
