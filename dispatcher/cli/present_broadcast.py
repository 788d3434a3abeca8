"""Output of the ``broadcast`` commands: what was written, and one commune's airings.

Tables for people (dates dd/mm/yyyy, reading times and audio lengths in seconds), JSON for
machines (ISO 8601). An airing without audio says why, once per reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dispatcher.broadcast.airing_audio import AiringAudio, AudioReport
from dispatcher.broadcast.pull import SUFFIXES, PullResult
from dispatcher.broadcast.scripts import AiringScript
from dispatcher.broadcast.service import ScriptsResult
from dispatcher.core.schedule import format_date_vi, format_time_vi


def scripts_summary(result: ScriptsResult) -> str:
    """``broadcast scripts``: how many, for whom, where, and how long a reading takes."""
    communes = ", ".join(result.communes)
    lines = [
        f"Wrote {len(result.files)} scripts ({result.airings} airings) for {communes}",
        f"  under {result.out_dir / result.campaign} (.txt, .spoken.txt, .docx)",
    ]
    seconds = [s.reading_seconds for s in result.scripts if s.language is None]
    if seconds:
        lines.append(f"  estimated reading time per airing: {_span(seconds)}")
    if result.audio is None:
        lines.append("  audio: not made (--audio makes it: a few seconds per airing)")
    else:
        made = result.audio.made
        if made:
            span = _span([round(files.duration_s) for files in made])
            lines.append(f"  audio: {_count(len(made))} (.wav, .mp3 beside the scripts), {span}")
        lines += _missing_audio(result.audio, indent="  ")
    return "\n".join(lines)


def _span(seconds: Sequence[int]) -> str:
    low, high = min(seconds), max(seconds)
    return f"{low} s" if low == high else f"{low}–{high} s"


def _count(airings: int) -> str:
    return f"{airings} airing" + ("" if airings == 1 else "s")


def _missing_audio(report: AudioReport, indent: str = "") -> list[str]:
    """One line per reason some airings have no audio (the voice's reason is said once)."""
    return [f"{indent}no audio for {_count(n)}: {why}" for why, n in report.missing().items()]


def scripts_json(result: ScriptsResult) -> str:
    """``broadcast scripts --json``: every script written, with its reading time."""
    data = {
        "campaign": result.campaign,
        "communes": result.communes,
        "airings": result.airings,
        "out_dir": str(result.out_dir),
        "scripts": [
            _script(s, _stem_files(s), _nth(result.audio, i)) for i, s in enumerate(result.scripts)
        ],
        "audio_unavailable": result.audio.unavailable if result.audio else None,
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def pull_table(result: PullResult) -> str:
    """``broadcast pull``: one line per script: date, time, campaign, reading time, files."""
    when = _days(result)
    if not result.airings:
        lines = [f"No airings for {result.commune} {when}."]
    else:
        communes = ", ".join(dict.fromkeys(p.script.commune for p in result.airings))
        lines = [f"{communes}: {len(result.airings)} scripts {when}, under {result.out_dir}"]
        audio = result.audio is not None  # the column only when the audio was rendered
        rows = [_row(p.script, p.files, result.out_dir, p.audio, audio) for p in result.airings]
        header = ("date", "time", "campaign", "reading", *(("audio",) if audio else ()), "files")
        lines += _aligned([header, *rows])
        lines += _missing_audio(result.audio) if result.audio else []
    lines += [f"warning: campaign skipped: {reason}" for reason in result.skipped]
    return "\n".join(lines)


def pull_json(result: PullResult) -> str:
    """``broadcast pull --json``: the same, with ISO 8601 times and full paths."""
    data = {
        "commune": result.commune,
        "from": result.start.isoformat() if result.start else None,
        "to": result.end.isoformat() if result.end else None,
        "out_dir": str(result.out_dir),
        "airings": [_script(p.script, p.files, p.audio) for p in result.airings],
        "skipped": result.skipped,
        "audio_unavailable": result.audio.unavailable if result.audio else None,
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def _days(result: PullResult) -> str:
    if result.start is None or result.end is None:
        return "today"
    if result.start == result.end:
        return f"on {format_date_vi(result.start)}"
    return f"from {format_date_vi(result.start)} to {format_date_vi(result.end)}"


def _row(
    script: AiringScript,
    files: Sequence[Path],
    out_dir: Path,
    audio: AiringAudio | None,
    audio_column: bool,
) -> tuple[str, ...]:
    campaign = script.campaign_id + (f" ({script.language_name})" if script.language else "")
    return (
        format_date_vi(script.at.date()),
        format_time_vi(script.at),
        campaign,
        f"{script.reading_seconds} s",
        *((_audio_cell(audio),) if audio_column else ()),
        _files_of(script, files, out_dir),
    )


def _audio_cell(audio: AiringAudio | None) -> str:
    """``241 s``, ``35 s recorded``; ``-`` without audio (the reason is under the table)."""
    if audio is None or audio.files is None:
        return "-"
    return f"{round(audio.files.duration_s)} s" + (" recorded" if audio.recorded else "")


def _files_of(script: AiringScript, files: Sequence[Path], out_dir: Path) -> str:
    """``2g-shutdown-2024/xa-tan-doan/2024-08-02_0600 .txt .spoken.txt .docx``."""
    if script.stem is None or not files:
        return "-"
    try:
        stem = str(script.stem.relative_to(out_dir))
    except ValueError:
        stem = str(script.stem)
    suffixes = [path.name.removeprefix(script.stem.name) for path in files]
    return " ".join([stem, *suffixes])


def _aligned(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]]) for r in rows
    ]


def _stem_files(script: AiringScript) -> list[Path]:
    return [p for s in SUFFIXES if (p := script.file(s)) is not None and p.is_file()]


def _nth(report: AudioReport | None, index: int) -> AiringAudio | None:
    return report.airings[index] if report is not None else None


def _script(
    script: AiringScript, files: Sequence[Path], audio: AiringAudio | None = None
) -> dict[str, Any]:
    made = audio.files if audio else None
    return {
        "campaign": script.campaign_id,
        "title": script.title,
        "commune": script.commune,
        "at": script.at.isoformat(),
        "language": script.language,
        "reading_seconds": script.reading_seconds,
        "files": [str(path) for path in files],
        # Where it was made (output_dir/scripts for `pull`); `files` has the copies in --out.
        "audio": None if made is None else {
            "wav": str(made.wav), "mp3": str(made.mp3),
            "duration_s": round(made.duration_s, 2), "source": made.source,
        },
        "no_audio": audio.reason if audio and made is None else None,
    }  # fmt: skip
