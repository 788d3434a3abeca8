"""Each airing's audio beside its script: a recording the campaign declares, else the voice.

For ``broadcast scripts --audio`` and ``broadcast pull``. A recording (``broadcast.recordings``)
beats the offline voice; a language variant (Tày, Nùng) gets audio only from one, since no
offline voice speaks it. Whether the voice works here is asked once, and only when an airing
needs it: where espeak-ng cannot be had the airings that need it get no audio, the reason is
said once, and nothing fails (the scripts are written; recordings still play).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dispatcher.broadcast.audio import (
    AudioFiles,
    RecordingSpec,
    audio_available,
    find_recording,
    render_airing_audio,
)
from dispatcher.broadcast.scripts import AiringScript
from dispatcher.settings.config import AudioSettings, Settings

__all__ = ["AiringAudio", "AudioReport", "render_audio"]


@dataclass(frozen=True)
class AiringAudio:
    """One airing's audio files, or why it has none."""

    files: AudioFiles | None
    reason: str | None = None  # set when ``files`` is None

    @property
    def recorded(self) -> bool:
        return self.files is not None and self.files.source.startswith("recording:")


@dataclass(frozen=True)
class AudioReport:
    """The audio of each script asked for, in the same order."""

    airings: list[AiringAudio]
    # Why the offline voice cannot work here, when an airing needed it; said once, not per airing.
    unavailable: str | None = None

    @property
    def made(self) -> list[AudioFiles]:
        return [a.files for a in self.airings if a.files is not None]

    def missing(self) -> dict[str, int]:
        """Each reason an airing has no audio, with how many airings it stands for."""
        counts: dict[str, int] = {}
        for airing in self.airings:
            if airing.files is None and airing.reason:
                counts[airing.reason] = counts.get(airing.reason, 0) + 1
        return counts


def render_audio(
    settings: Settings,
    scripts: Sequence[AiringScript],
    recordings: Mapping[str, Sequence[RecordingSpec]],
) -> AudioReport:
    """Render ``<stem>.wav`` and ``<stem>.mp3`` for each script, at its ``stem``.

    ``recordings`` are each campaign's (by id), from
    :func:`dispatcher.broadcast.scripts.campaign_recordings`. An airing whose inputs did not
    change since it was last rendered costs a hash (see :func:`render_airing_audio`); one
    takes a few seconds otherwise (about 3 s for 4 minutes, mostly MP3 and loudness). A bad
    recording is :class:`BadInput` naming the file; an engine that fails once it was found
    available is :class:`AudioError`.
    """
    audio = settings.resolved_audio
    voice = _Voice(audio)
    found: list[AiringAudio] = []
    for script in scripts:
        recording = find_recording(
            recordings.get(script.campaign_id, ()), script.commune, script.at, script.language
        )
        if script.stem is None:
            found.append(AiringAudio(None, "its script is not written"))
        elif recording is None and script.language is not None:
            language = script.language_name or script.language
            found.append(
                AiringAudio(None, f"no recording in {language} (no offline voice speaks it)")
            )
        elif recording is None and (reason := voice.unavailable()) is not None:
            found.append(AiringAudio(None, reason))
        else:
            files = render_airing_audio(
                script.spoken, script.stem, audio,
                recording=recording, estimate_s=script.reading_seconds,
            )  # fmt: skip
            found.append(AiringAudio(files))
    return AudioReport(found, voice.reason)


class _Voice:
    """Whether the offline voice works here, asked when an airing first needs it: asking starts
    espeak-ng, which a run that only plays recordings should not need."""

    def __init__(self, settings: AudioSettings) -> None:
        self._settings = settings
        self._asked = False
        self.reason: str | None = None  # why it cannot work, once asked

    def unavailable(self) -> str | None:
        if not self._asked:
            self.reason, self._asked = audio_available(self._settings), True
        return self.reason
