"""Output of the ``broadcast`` commands: what was written, and one commune's airings.

Tables for people (dates dd/mm/yyyy, reading times in seconds), JSON for machines (ISO 8601).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dispatcher.broadcast_pull import SUFFIXES, PullResult
from dispatcher.broadcast_service import AiringScript, ScriptsResult
from dispatcher.schedule import format_date_vi, format_time_vi


def scripts_summary(result: ScriptsResult) -> str:
    """``broadcast scripts``: how many, for whom, where, and how long a reading takes."""
    communes = ", ".join(result.communes)
    lines = [
        f"Wrote {len(result.files)} scripts ({result.airings} airings) for {communes}",
        f"  under {result.out_dir / result.campaign} (.txt, .spoken.txt, .docx)",
    ]
    seconds = sorted({s.reading_seconds for s in result.scripts if s.language is None})
    if seconds:
        span = f"{seconds[0]} s" if len(seconds) == 1 else f"{seconds[0]}–{seconds[-1]} s"
        lines.append(f"  estimated reading time per airing: {span}")
    return "\n".join(lines)


def scripts_json(result: ScriptsResult) -> str:
    """``broadcast scripts --json``: every script written, with its reading time."""
    data = {
        "campaign": result.campaign,
        "communes": result.communes,
        "airings": result.airings,
        "out_dir": str(result.out_dir),
        "scripts": [_script(s, _stem_files(s)) for s in result.scripts],
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
        rows = [_row(p.script, p.files, result.out_dir) for p in result.airings]
        lines += _aligned([("date", "time", "campaign", "reading", "files"), *rows])
    lines += [f"warning: campaign skipped: {reason}" for reason in result.skipped]
    return "\n".join(lines)


def pull_json(result: PullResult) -> str:
    """``broadcast pull --json``: the same, with ISO 8601 times and full paths."""
    data = {
        "commune": result.commune,
        "from": result.start.isoformat() if result.start else None,
        "to": result.end.isoformat() if result.end else None,
        "out_dir": str(result.out_dir),
        "airings": [_script(p.script, p.files) for p in result.airings],
        "skipped": result.skipped,
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def _days(result: PullResult) -> str:
    if result.start is None or result.end is None:
        return "today"
    if result.start == result.end:
        return f"on {format_date_vi(result.start)}"
    return f"from {format_date_vi(result.start)} to {format_date_vi(result.end)}"


def _row(script: AiringScript, files: Sequence[Path], out_dir: Path) -> tuple[str, ...]:
    campaign = script.campaign_id + (f" ({script.language_name})" if script.language else "")
    return (
        format_date_vi(script.at.date()),
        format_time_vi(script.at),
        campaign,
        f"{script.reading_seconds} s",
        _files_of(script, files, out_dir),
    )


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


def _script(script: AiringScript, files: Sequence[Path]) -> dict[str, Any]:
    return {
        "campaign": script.campaign_id,
        "title": script.title,
        "commune": script.commune,
        "at": script.at.isoformat(),
        "language": script.language,
        "reading_seconds": script.reading_seconds,
        "files": [str(path) for path in files],
    }
