"""Loudspeaker audio: offline Vietnamese speech or a human recording, between jingles.

- :func:`render_airing_audio` writes one airing's ``.wav`` and ``.mp3`` (:class:`AudioFiles`);
- :func:`audio_available` says why synthesis cannot work here, if it cannot;
- :func:`find_recording` picks the recording an airing uses (:class:`RecordingSpec`);
- :class:`SpeechEngine` is the protocol a TTS engine implements; :class:`EspeakEngine` the default.
"""

from dispatcher.broadcast.audio.engine import EspeakEngine, SpeechEngine, make_engine
from dispatcher.broadcast.audio.recordings import RecordingSpec, find_recording
from dispatcher.broadcast.audio.render import (
    AudioFiles,
    audio_available,
    audio_paths,
    render_airing_audio,
)

__all__ = [
    "AudioFiles",
    "EspeakEngine",
    "RecordingSpec",
    "SpeechEngine",
    "audio_available",
    "audio_paths",
    "find_recording",
    "make_engine",
    "render_airing_audio",
]
