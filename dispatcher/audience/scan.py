"""A campaign's audience, streamed: valid subscribers one at a time, and what was left out.

A million-row list does not fit in memory as objects (a Subscriber with its columns is ~600
bytes), so :func:`scan_audience` keeps only what deciding needs: the numbers seen so far and
the opted-out numbers (in a :class:`NumberTable`, ~6 bytes a number), and the first
:data:`MAX_KEPT_ROWS` rejected rows of each kind with exact counts. The tables do not say where a
number was first seen unless asked to (``first_rows``: ``plan``, which shows the kept duplicates
and exclusions with their earlier rows, at 8 more bytes a number); without, those earlier rows
are looked up if they are ever shown, by reading the lists again only as far as needed. Each
iteration reads the files again, so the same scan serves ``plan`` (counting) and ``send``
(writing the outbox).

Normalizing a number (phonenumbers, a few µs) is most of the work. On big lists it runs in
worker processes, over batches of phone cells, while this process reads the files and sorts the
rows; results come back in file order, so the first row of a number wins exactly as in one
process.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cached_property, partial
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from dispatcher.audience.list_headers import column_names
from dispatcher.audience.lists import (
    TEXT_SUFFIXES,
    DuplicateRow,
    ExcludedRow,
    RejectedRow,
    Subscriber,
    display_path,
    read_rows,
    read_table,
)
from dispatcher.audience.numbertable import NumberTable
from dispatcher.audience.phones import COUNTRY_CODE, InvalidPhone, normalize
from dispatcher.core.errors import BadInput, Problem

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

__all__ = ["MAX_KEPT_ROWS", "AudienceScan", "AudienceSummary", "Kept", "Named", "scan_audience"]

MAX_KEPT_ROWS = 10_000  # rejected rows kept per kind; real lists have a few, the rest are counted
BATCH_ROWS = 5_000  # phone cells per worker task: big enough to amortize the pickling
PARALLEL_MIN_BYTES = 4_000_000  # ~70,000 CSV rows: below that, starting a worker costs more
_BYTES_PER_XLSX_ROW = 16  # sizes the number table for a workbook (compressed: no lines to count)
_TAIL_MODULUS = 10**6  # a number's last six digits: what a plain cell of it surely ends with
_GROUPING = str.maketrans("", "", " -()+")  # what people group digits with (not ".": Excel)
_COUNT_CHUNK = 1 << 16  # bytes read at a time to count a text list's lines
_E164_PREFIX = f"+{COUNTRY_CODE}"

T = TypeVar("T")
Row = tuple[int, str, dict[str, str]]  # line, phone cell, fields: see read_rows
Verdict = int | str  # the national significant number, or why the cell is not usable
VerdictBatches = Iterator[tuple[list[Row], list[Verdict]]]  # batches of rows, with their verdicts
Batches = Callable[[Iterator[Row]], VerdictBatches]


@dataclass
class Kept(Generic[T]):
    """The first ``limit`` rows of one kind (all of them when ``limit`` is None), and the count."""

    limit: int | None
    rows: list[T] = field(default_factory=list)
    total: int = 0

    @property
    def omitted(self) -> int:
        """Rows counted in :attr:`total` but not kept."""
        return self.total - len(self.rows)

    def add(self, row: T) -> None:
        self.total += 1
        if self.limit is None or len(self.rows) < self.limit:
            self.rows.append(row)


# (file, line, number, mark of the earlier row) of a duplicate or excluded row; the mark is
# the earlier row's (file index << 32 | line) when the tables keep marks, else 0
_Pending = tuple[str, int, int, int]
_LINE_BITS = 32


class Named(Generic[T]):
    """Like :class:`Kept`, for rows that name an earlier row (a duplicate's first row, the
    exclusion list's row), named when :attr:`rows` is first read: from the marks a ``first_rows``
    scan kept (``plan``), else looked up in the lists (``send`` needs only the counts)."""

    def __init__(self, kept: Kept[_Pending], name: Callable[[list[_Pending]], list[T]]) -> None:
        self.limit, self.total, self._kept, self._name = kept.limit, kept.total, kept, name

    @property
    def omitted(self) -> int:
        return self.total - len(self._kept.rows)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Named):
            return NotImplemented
        return (self.limit, self.total, self.rows) == (other.limit, other.total, other.rows)

    __hash__ = None  # type: ignore[assignment]  # compared by value, like Kept

    def __repr__(self) -> str:
        return f"Named(limit={self.limit}, total={self.total}, kept={len(self._kept.rows)})"

    @cached_property
    def rows(self) -> list[T]:
        """The kept rows with their earlier rows; raises :class:`BadInput` when a list changed
        since the pass and the earlier row is not there any more."""
        return self._name(self._kept.rows)


@dataclass(frozen=True)
class AudienceSummary:
    """What one complete pass over the lists found."""

    valid: int
    invalid: Kept[RejectedRow]
    duplicates: Named[DuplicateRow]
    excluded: Named[ExcludedRow]
    exclude_invalid: Kept[RejectedRow]
    workers: int = 0  # processes that normalized the numbers (0: this one)

    @property
    def total_rows(self) -> int:
        """Non-blank data rows read from the recipient files."""
        return self.valid + self.invalid.total + self.duplicates.total + self.excluded.total


def scan_audience(
    recipient_files: Sequence[Path],
    exclude_files: Sequence[Path],
    *,
    display_base: Path | None = None,
    columns: Collection[str] | None = None,
    keep: int | None = MAX_KEPT_ROWS,
    workers: int | None = None,
    batch_rows: int = BATCH_ROWS,
    first_rows: bool = False,
) -> AudienceScan:
    """The audience of these lists, read lazily: iterate it for the valid subscribers.

    Rules, applied to recipient rows in file order:

    1. a phone cell that does not normalize is ``invalid``;
    2. a number seen before in the recipient files is a ``duplicate`` of its first row, whatever
       happened to that first row;
    3. otherwise, a number on an exclusion list is ``excluded``;
    4. otherwise the row is valid and yielded.

    Exclusion lists are read first; their unusable numbers are counted in ``exclude_invalid``.
    Paths are shown relative to ``display_base`` when given. Subscribers carry the ``columns``
    named (default: all of them) in their fields. ``keep`` caps the rejected rows kept per kind
    (None: all). ``workers`` is the number of normalizing processes (0: none; the
    default uses the spare cores for big files). With ``first_rows``, the pass remembers where
    each number was first seen, for callers that show the kept duplicates and exclusions. Nothing
    is read until the scan is iterated; files that cannot be used raise :class:`BadInput` then.
    """
    files = (list(recipient_files), list(exclude_files))
    return AudienceScan(*files, display_base, columns, keep, workers, batch_rows, first_rows)


class AudienceScan:
    """Valid subscribers, streamed; :attr:`summary` describes the last complete pass."""

    def __init__(
        self,
        recipients: list[Path],
        excludes: list[Path],
        display_base: Path | None,
        columns: Collection[str] | None,
        keep: int | None,
        workers: int | None,
        batch_rows: int,
        first_rows: bool,
    ) -> None:
        self._recipients, self._excludes, self._base = recipients, excludes, display_base
        self._columns, self._keep, self._batch_rows = columns, keep, batch_rows
        self._workers, self._marks = workers, first_rows
        self._summary: AudienceSummary | None = None

    @property
    def summary(self) -> AudienceSummary:
        """Counts and kept rejected rows of the last pass that ran to the end."""
        if self._summary is None:
            raise RuntimeError("the audience has not been read yet: iterate the scan first")
        return self._summary

    def columns_of(self, display: str) -> list[str]:
        """The columns of the recipient list shown as ``display``, in the file's order (the phone
        column as ``phone``): read from its header, for a message naming what a list has."""
        path = next(p for p in self._recipients if display_path(p, self._base) == display)
        rows = read_table(path, display)
        line, header = next(((line, cells) for line, cells in rows if any(cells)), (0, []))
        names, _ = column_names(header, line, display)
        return [name for name in names if name]

    def __iter__(self) -> Iterator[Subscriber]:
        """Read the lists (again) and yield the valid subscribers in file order."""
        tally = _Tally(self._keep, NumberTable(_expected_rows(self._recipients), marks=self._marks))
        wanted = _default_workers(self._recipients) if self._workers is None else self._workers
        with _normalizer(wanted, self._batch_rows) as (batches, workers):
            opted_out = self._exclusions(batches, tally)
            for index, path in enumerate(self._recipients):
                yield from self._sort(index, path, batches, tally, opted_out)
        self._summary = AudienceSummary(
            tally.valid,
            tally.invalid,
            Named(tally.duplicates, partial(self._named, self._recipients, DuplicateRow)),
            Named(tally.excluded, partial(self._named, self._excludes, ExcludedRow)),
            tally.exclude_invalid,
            workers,
        )

    def _exclusions(self, batches: Batches, tally: _Tally) -> NumberTable:
        opted_out = NumberTable(_expected_rows(self._excludes), marks=self._marks)
        for index, path in enumerate(self._excludes):
            display, source = display_path(path, self._base), index << _LINE_BITS
            for rows, verdicts in batches(read_rows(path, display, columns=())):
                for (line, phone, _), verdict in zip(rows, verdicts, strict=True):
                    if isinstance(verdict, str):
                        tally.exclude_invalid.add(RejectedRow(display, line, phone, verdict))
                    else:
                        opted_out.add(verdict, source | line)
        return opted_out

    def _sort(
        self, index: int, path: Path, batches: Batches, tally: _Tally, opted_out: NumberTable
    ) -> Iterator[Subscriber]:
        display, source = display_path(path, self._base), index << _LINE_BITS
        seen = tally.seen
        for rows, verdicts in batches(read_rows(path, display, self._columns)):
            for (line, phone, fields), verdict in zip(rows, verdicts, strict=True):
                if isinstance(verdict, str):
                    tally.invalid.add(RejectedRow(display, line, phone, verdict))
                elif (first := seen.add(verdict, source | line)) >= 0:
                    tally.duplicates.add((display, line, verdict, first))
                elif (by := opted_out.mark(verdict)) >= 0:
                    tally.excluded.add((display, line, verdict, by))
                else:
                    tally.valid += 1
                    yield Subscriber(f"{_E164_PREFIX}{verdict}", display, line, fields)

    def _named(
        self, paths: list[Path], kind: Callable[[str, int, str, str, int], T], kept: list[_Pending]
    ) -> list[T]:
        """The ``kept`` rows, each with where its number is first seen in ``paths``: from the
        marks when the pass kept them, else found in the files."""
        if self._marks:
            shown = [display_path(path, self._base) for path in paths]
            line_of = (1 << _LINE_BITS) - 1
            return [
                kind(file, line, _e164(number), shown[mark >> _LINE_BITS], mark & line_of)
                for file, line, number, mark in kept
            ]
        firsts = self._first_rows(paths, {number for _, _, number, _ in kept})
        return [
            kind(file, line, _e164(number), *_earlier(firsts, file, line, number))
            for file, line, number, _ in kept
        ]

    def _first_rows(self, paths: list[Path], wanted: set[int]) -> dict[int, tuple[str, int]]:
        """Where each of the ``wanted`` numbers is first seen in ``paths``: (file, line).

        Read only as far as the last of them (a duplicate's first row comes before it), and
        most cells are told apart without normalizing: digits written with spaces, dashes,
        brackets or a leading plus end with the last six digits of the number they normalize
        to, if any (only prefixes are ever rewritten); other forms are normalized.
        """
        found: dict[int, tuple[str, int]] = {}
        tails = {f"{number % _TAIL_MODULUS:06d}" for number in wanted}
        for path in paths if wanted else []:
            display = display_path(path, self._base)
            for line, phone, _ in read_rows(path, display, columns=()):
                digits = phone.translate(_GROUPING)
                if digits.isdigit() and digits.isascii() and digits[-6:] not in tails:
                    continue
                verdict = _verdicts([phone])[0]
                if isinstance(verdict, int) and verdict in wanted and verdict not in found:
                    found[verdict] = (display, line)
                    if len(found) == len(wanted):
                        return found
        return found


class _Tally:
    """What a pass has found so far."""

    def __init__(self, keep: int | None, seen: NumberTable) -> None:
        self.seen = seen
        self.valid = 0
        self.invalid: Kept[RejectedRow] = Kept(keep)
        self.exclude_invalid: Kept[RejectedRow] = Kept(keep)
        self.duplicates: Kept[_Pending] = Kept(keep)
        self.excluded: Kept[_Pending] = Kept(keep)


def _earlier(
    found: dict[int, tuple[str, int]], file: str, line: int, number: int
) -> tuple[str, int]:
    if found.get(number, (file, line)) == (file, line):  # not seen before it: a file changed
        message = "the lists changed while they were read: run the command again"
        raise BadInput(Problem(message, file, line))
    return found[number]


def _e164(national: int) -> str:
    return f"{_E164_PREFIX}{national}"


def _expected_rows(paths: Iterable[Path]) -> int:
    """At least the data rows of these lists (a text list's lines, counted at C speed: ~10 ms
    for a million), so the number table is sized once."""
    total = 0
    for path in paths:
        with suppress(OSError):  # read_rows reports it, with the file's name
            if path.suffix.lower() in TEXT_SUFFIXES:
                total += _lines(path)
            else:
                total += path.stat().st_size // _BYTES_PER_XLSX_ROW
    return total


def _lines(path: Path) -> int:
    with path.open("rb") as stream:
        return 1 + sum(
            chunk.count(b"\n") for chunk in iter(partial(stream.read, _COUNT_CHUNK), b"")
        )


def _total_bytes(paths: Iterable[Path]) -> int:
    total = 0
    for path in paths:
        with suppress(OSError):  # read_list reports it, with the file's name
            total += path.stat().st_size
    return total


def _default_workers(paths: Iterable[Path]) -> int:
    if _total_bytes(paths) < PARALLEL_MIN_BYTES:
        return 0
    # This process reads the files and sorts the rows, which keeps one core busy.
    return _usable_cores() - 1


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):  # Linux: the cores this process may run on
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# --- normalizing, here or in worker processes ----------------------------------------------------


def _verdicts(cells: list[str]) -> list[Verdict]:
    """For each phone cell: its national significant number, or why it is not usable."""
    result: list[Verdict] = []
    for cell in cells:
        try:
            result.append(int(normalize(cell)[len(_E164_PREFIX) :]))
        except InvalidPhone as exc:
            result.append(exc.reason)
    return result


@contextmanager
def _normalizer(workers: int, batch_rows: int) -> Iterator[tuple[Batches, int]]:
    """The function that normalizes batches of rows, and the worker processes it uses."""
    if workers <= 0 or threading.active_count() > 1 or not _forkable():
        yield partial(_here, batch_rows=batch_rows), 0
        return
    import multiprocessing  # here: a short list (most) is read in this process, without it
    from concurrent.futures import ProcessPoolExecutor

    # fork: the children need nothing but this module, already loaded, and start at once. It is
    # only safe in a single-threaded process (a lock held by another thread stays locked in the
    # child); spawn and forkserver would re-run the main script, i.e. import the whole CLI.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        yield partial(_in_workers, pool=pool, batch_rows=batch_rows, ahead=2 * workers), workers
    finally:
        pool.shutdown(cancel_futures=True)


def _forkable() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _batches(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while batch := list(islice(rows, size)):
        yield batch


def _here(rows: Iterator[Row], batch_rows: int) -> VerdictBatches:
    for batch in _batches(rows, batch_rows):
        yield batch, _verdicts([phone for _, phone, _ in batch])


def _in_workers(
    rows: Iterator[Row], pool: ProcessPoolExecutor, batch_rows: int, ahead: int
) -> VerdictBatches:
    """Like :func:`_here`, with up to ``ahead`` batches being normalized while rows are read."""
    pending: deque[tuple[list[Row], Future[list[Verdict]]]] = deque()
    for batch in _batches(rows, batch_rows):
        pending.append((batch, pool.submit(_verdicts, [phone for _, phone, _ in batch])))
        if len(pending) > ahead:
            done, future = pending.popleft()
            yield done, future.result()
    while pending:
        done, future = pending.popleft()
        yield done, future.result()
