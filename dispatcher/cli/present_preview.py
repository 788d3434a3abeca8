"""The part of ``dispatcher plan`` that shows messages before they are sent: the first few as
rendered (numbers masked unless ``--full``), and the columns some rows leave empty."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from dispatcher.audience.phones import mask
from dispatcher.campaigns.compose import Composition
from dispatcher.campaigns.preview import Gap, Sample

BODY_INDENT = "    "


def preview_data(composition: Composition) -> dict[str, Any]:
    """The JSON of the samples and of the empty columns (numbers complete, as all of --json)."""
    preview = composition.preview
    return {
        "preview": [_sample_record(s) for s in preview.samples],
        "empty_columns": [
            {"column": column, "rows": gap.rows,
             "first": [{"file": file, "line": line} for file, line in gap.first]}
            for column, gap in preview.gaps.items()
        ],
    }  # fmt: skip


def _sample_record(sample: Sample) -> dict[str, Any]:
    info = sample.info
    return {
        "phone": sample.phone, "file": sample.file, "line": sample.line, "body": sample.body,
        "encoding": info.encoding, "segments": info.segments, "characters": info.characters,
    }  # fmt: skip


def preview_lines(composition: Composition, full: bool) -> list[str]:
    """``Preview:`` with each sample's number, row, encoding and segments, then its body."""
    samples = composition.preview.samples
    lines = _gap_lines(composition.preview.gaps)
    if not samples:
        return lines
    shown = f"the first {len(samples)}" if len(samples) > 1 else "the first"
    lines.append(
        f"Preview:     {shown} of {composition.messages:,} messages as sent "
        "(--preview N for more, 0 for none)"
    )
    for sample in samples:
        info, phone = sample.info, sample.phone if full else mask(sample.phone)
        noun = "segment" if info.segments == 1 else "segments"
        lines.append(
            f"  {phone} ({sample.file}:{sample.line}): {info.encoding}, {info.segments} {noun}, "
            f"{info.characters} characters"
        )
        lines += [BODY_INDENT + line for line in sample.body.splitlines()]
    return lines


def _gap_lines(gaps: dict[str, Gap]) -> list[str]:
    """``Empty:       12 rows leave {{ ten }} empty: campaigns/lists/x.csv lines 4, 9, …``."""
    lines = []
    for column, gap in gaps.items():
        rows = "1 row leaves" if gap.rows == 1 else f"{gap.rows:,} rows leave"
        where = "; ".join(
            _lines_of(file, [line for _, line in group])
            for file, group in groupby(gap.first, key=lambda at: at[0])
        )
        more = ", …" if gap.rows > len(gap.first) else ""
        lines.append(f"Empty:       {rows} {{{{ {column} }}}} empty: {where}{more}")
    return lines


def _lines_of(file: str, lines: list[int]) -> str:
    noun = "line" if len(lines) == 1 else "lines"
    return f"{file} {noun} {', '.join(map(str, lines))}"
