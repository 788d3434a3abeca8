"""What an operator sees before sending: the first messages as they will go out, and the
columns a template uses that some rows leave empty (``Chào {{ ten }}`` reads "Chào ," there).

Both are gathered during the one pass :func:`~dispatcher.campaigns.compose.compose_sms` makes
over the lists, so they cost no second read of a million-row list: the samples are the first
``limit`` messages, and of each gap only the count and the first few rows are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dispatcher.audience.lists import Subscriber
from dispatcher.sms.encoding import SmsInfo

DEFAULT_PREVIEW = 3  # messages `plan` shows unless told otherwise
GAP_LINES_KEPT = 10  # rows named per empty column; the count is exact


@dataclass(frozen=True)
class Sample:
    """One rendered message as it will be sent (the body after ``encoding: ascii``)."""

    phone: str
    file: str
    line: int
    body: str
    info: SmsInfo


@dataclass
class Gap:
    """Rows where a column the template uses is empty (or only spaces)."""

    rows: int = 0
    first: list[tuple[str, int]] = field(default_factory=list)  # (file, line)


@dataclass
class Preview:
    """The samples and gaps of one pass; ``limit`` is how many samples to keep."""

    limit: int = 0
    samples: list[Sample] = field(default_factory=list)
    gaps: dict[str, Gap] = field(default_factory=dict)  # by column, the first found first

    def sample(self, subscriber: Subscriber, body: str, info: SmsInfo) -> None:
        """Keep this message if fewer than ``limit`` are kept."""
        if len(self.samples) < self.limit:
            where = (subscriber.file, subscriber.line)
            self.samples.append(Sample(subscriber.phone, *where, body, info))

    def check_empty(self, subscriber: Subscriber, columns: Sequence[str]) -> None:
        """Count the row under each of ``columns`` it has but leaves empty. A column the row
        lacks altogether is a template error reported elsewhere, not a gap."""
        fields = subscriber.fields
        for column in columns:
            value = fields.get(column)
            if value is not None and not value.strip():
                gap = self.gaps.setdefault(column, Gap())
                gap.rows += 1
                if len(gap.first) < GAP_LINES_KEPT:
                    gap.first.append((subscriber.file, subscriber.line))
