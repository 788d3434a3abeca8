"""Offline text-to-speech behind a small protocol; espeak-ng's Vietnamese voice by default.

An engine turns spoken text (already through :func:`dispatcher.broadcast.speech.spoken`) into a WAV
file at whatever sample rate it likes; resampling, loudness and jingles are the renderer's job, so a
better engine only has to implement :class:`SpeechEngine`.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Protocol

from dispatcher.core.errors import AudioError
from dispatcher.settings.config import AudioSettings

__all__ = ["INSTALL_HINT", "EspeakEngine", "SpeechEngine", "make_engine", "summarize_stderr"]

INSTALL_HINT = "sudo apt-get install espeak-ng"
_STDERR_CHARS = 300  # what an error message keeps of the engine's complaints
# espeak-ng reads faster than real time by far; this only stops a hung process.
_TIMEOUT_BASE_S = 60.0
_TIMEOUT_PER_CHAR_S = 0.05


class SpeechEngine(Protocol):
    """A text-to-speech engine that works without a network."""

    @property
    def source(self) -> str:
        """What made the audio, for people and for the cache: ``"espeak-ng:vi"``."""
        ...

    def unavailable_reason(self) -> str | None:
        """``None`` when :meth:`synthesize` can work here, else what is missing and what to do."""
        ...

    def fingerprint(self) -> str:
        """Changes whenever the same text would sound different (engine version, voice, speed)."""
        ...

    def synthesize(self, text: str, wav: Path) -> None:
        """Write ``text`` read aloud to the WAV file ``wav``; :class:`AudioError` on failure."""
        ...


class EspeakEngine:
    """espeak-ng as a subprocess: UTF-8 text on stdin, a WAV file out."""

    def __init__(self, voice: str = "vi", speed: int = 105, executable: str = "espeak-ng") -> None:
        self.voice = voice
        self.speed = speed
        self.executable = executable

    @property
    def source(self) -> str:
        return f"espeak-ng:{self.voice}"

    def unavailable_reason(self) -> str | None:
        if shutil.which(self.executable) is None:
            return (
                f"{self.executable} is not installed: {INSTALL_HINT}; "
                "scripts are written without audio"
            )
        # -q: synthesize nothing audible, only check that the voice loads.
        probe = self._run(["-q", "-v", self.voice, "a"], text="", timeout_s=_TIMEOUT_BASE_S)
        if probe.returncode != 0:
            complaint = summarize_stderr(probe.stderr)
            return (
                f"espeak-ng cannot use the voice {self.voice!r} ({complaint}); "
                "Vietnamese voices: vi (Northern), vi-vn-x-central, vi-vn-x-south"
            )
        return None

    def fingerprint(self) -> str:
        return f"{_espeak_version(self.executable)}|{self.voice}|{self.speed}"

    def synthesize(self, text: str, wav: Path) -> None:
        # -b 1: the input is UTF-8; --stdin: no argument-length limit, no option injection.
        args = ["-v", self.voice, "-s", str(self.speed), "-b", "1", "-w", str(wav), "--stdin"]
        timeout_s = _TIMEOUT_BASE_S + _TIMEOUT_PER_CHAR_S * len(text)
        done = self._run(args, text=text, timeout_s=timeout_s)
        # espeak-ng exits 0 even when it could not write the file, so the file is checked too.
        if done.returncode != 0 or not wav.is_file() or wav.stat().st_size == 0:
            raise AudioError(
                f"espeak-ng failed (exit {done.returncode}, voice {self.voice!r}): "
                f"{summarize_stderr(done.stderr) or 'no audio was written'}"
            )

    def _run(
        self, args: list[str], text: str, timeout_s: float
    ) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self.executable, *args],
                input=text,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=timeout_s,
                check=False,
            )
        except FileNotFoundError as exc:
            raise AudioError(f"{self.executable} is not installed: {INSTALL_HINT}") from exc
        except subprocess.TimeoutExpired as exc:
            raise AudioError(f"espeak-ng did not finish within {timeout_s:.0f} s") from exc


def make_engine(settings: AudioSettings) -> SpeechEngine:
    """The engine the settings name (today only espeak-ng)."""
    return EspeakEngine(voice=settings.voice, speed=settings.speed)


def summarize_stderr(stderr: str) -> str:
    """An engine's stderr on one line, shortened: enough to tell what went wrong."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    text = "; ".join(lines)
    return text if len(text) <= _STDERR_CHARS else text[: _STDERR_CHARS - 1] + "…"


@functools.cache
def _espeak_version(executable: str) -> str:
    """``"eSpeak NG text-to-speech: 1.51"``: an upgrade changes the cache key, audio is redone."""
    try:
        done = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.split("Data at:")[0].strip() or "unknown"
