"""Human recordings attached to a campaign, a commune or one airing: which one an airing uses.

A recording beats the robot voice, and it is the only audio for languages no offline voice
speaks (Tày, Nùng). Pure logic: the campaign loader declares the :class:`RecordingSpec` items,
the renderer decodes the file :func:`find_recording` picks.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dispatcher.campaigns.vocabulary import DEFAULT_LANGUAGE
from dispatcher.core.errors import BadInput

__all__ = ["DEFAULT_LANGUAGE", "RecordingSpec", "find_recording"]


@dataclass(frozen=True)
class RecordingSpec:
    """A recorded MP3/WAV for every airing (``commune`` and ``at`` None), a commune's airings,
    or one airing (``at``); ``language`` None means Vietnamese, like ``"vi"``."""

    file: Path
    commune: str | None = None
    at: datetime | None = None
    language: str | None = None

    @property
    def specificity(self) -> int:
        """Airing (3 with a commune, 2 for all communes) > commune (1) > campaign (0)."""
        return 2 * (self.at is not None) + (self.commune is not None)


def find_recording(
    recordings: Sequence[RecordingSpec], commune: str, at: datetime, language: str | None
) -> Path | None:
    """The file of the most specific recording that fits this airing, or ``None``.

    A recording fits when each of its commune (names compared ignoring case and Unicode form),
    airing time (the same instant) and language that is set is the airing's. Raises
    :class:`BadInput` when two different files fit equally well: which one to play is the
    operator's call, not ours.
    """
    fitting = [spec for spec in recordings if _fits(spec, commune, at, language)]
    if not fitting:
        return None
    best = max(spec.specificity for spec in fitting)
    files = list(dict.fromkeys(spec.file for spec in fitting if spec.specificity == best))
    if len(files) > 1:
        listed = ", ".join(str(file) for file in files)
        raise BadInput(f"{len(files)} recordings fit {commune} at {at.isoformat()}: {listed}")
    return files[0]


def _fits(spec: RecordingSpec, commune: str, at: datetime, language: str | None) -> bool:
    if spec.commune is not None and _name_key(spec.commune) != _name_key(commune):
        return False
    if spec.at is not None and not _same_instant(spec.at, at):
        return False
    return _language_key(spec.language) == _language_key(language)


def _same_instant(a: datetime, b: datetime) -> bool:
    # A naive time never equals an aware one in Python: that would drop a recording silently.
    if (a.tzinfo is None) != (b.tzinfo is None):
        raise ValueError(f"cannot compare {a.isoformat()} with {b.isoformat()}: give both a zone")
    return a == b


def _name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _language_key(language: str | None) -> str:
    return (language or DEFAULT_LANGUAGE).strip().lower()
