"""The whole audience in memory, for tests: every row sorted into one of four lists.

The package streams audiences (:func:`dispatcher.audience.scan.scan_audience`); tests of the
rules compare whole lists, which this keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dispatcher.audience.lists import DuplicateRow, ExcludedRow, RejectedRow, Subscriber
from dispatcher.audience.scan import scan_audience


@dataclass
class Audience:
    """Every data row of the recipient files, sorted into exactly one of four lists."""

    valid: list[Subscriber] = field(default_factory=list)
    invalid: list[RejectedRow] = field(default_factory=list)
    duplicates: list[DuplicateRow] = field(default_factory=list)
    excluded: list[ExcludedRow] = field(default_factory=list)
    exclude_invalid: list[RejectedRow] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        """Non-blank data rows read from the recipient files."""
        return len(self.valid) + len(self.invalid) + len(self.duplicates) + len(self.excluded)


def build_audience(
    recipient_files: Sequence[Path],
    exclude_files: Sequence[Path],
    *,
    display_base: Path | None = None,
) -> Audience:
    """Read the recipient and exclusion lists and decide, row by row, who gets the message.

    The rules are :func:`dispatcher.audience.scan.scan_audience`'s; this keeps every row in memory,
    which suits small lists and tests. ``exclude_invalid`` holds the exclusion lists' unusable
    numbers. Raises :class:`BadInput` if a file cannot be used at all.
    """
    scan = scan_audience(recipient_files, exclude_files, display_base=display_base, keep=None)
    valid = list(scan)
    found = scan.summary
    return Audience(
        valid,
        found.invalid.rows,
        found.duplicates.rows,
        found.excluded.rows,
        found.exclude_invalid.rows,
    )
