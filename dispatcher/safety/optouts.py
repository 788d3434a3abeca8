"""The opt-out list: the use cases behind ``dispatcher optout`` and the filter every send uses.

Twilio has no two-way SMS in Vietnam, so nobody can answer STOP: people opt out by phone, at the
commune office or through the national Do-Not-Call list (5656), and an operator records it here.
Twilio's error 21610 (the number blocked us) adds to the same list. Numbers are stored in E.164.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from dispatcher.audience.lists import ListRow, Subscriber, display_path, read_list
from dispatcher.audience.phones import InvalidPhone, normalize
from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.operator import operator
from dispatcher.store.optouts import NewOptOut, OptOut, OptOutRepository

__all__ = [
    "Change",
    "ImportResult",
    "OptOut",
    "OptOutFilter",
    "add",
    "entries",
    "import_file",
    "remove",
]

SOURCE_CLI = "cli"
REASON_COLUMNS = ("reason", "note")  # an imported row's own reason, first non-empty wins
MAX_REPORTED_ROWS = 1_000  # invalid import rows listed; all are counted
FILTER_BATCH = 5_000  # subscribers checked per opt-out query when an occurrence starts
PRELOAD_MAX = 50_000  # a list this short is read into memory at once (a few MiB)


@dataclass(frozen=True)
class Change:
    """The outcome of ``add`` or ``remove``: the number in E.164 and whether the list changed."""

    phone: str
    changed: bool


@dataclass
class ImportResult:
    """Counts of one import; ``problems`` are the first invalid rows, as ``file:line``."""

    file: str
    added: int = 0
    already: int = 0  # on the list before, or earlier in the same file
    invalid: int = 0
    problems: list[Problem] = field(default_factory=list)
    valid_rows: int = 0

    def reject(self, problem: Problem) -> None:
        self.invalid += 1
        if len(self.problems) < MAX_REPORTED_ROWS:
            self.problems.append(problem)


def add(rt: Runtime, phone: str, reason: str | None = None) -> Change:
    """Put a number, written in any usual form, on the list; adding it twice changes nothing.

    Raises :class:`BadInput` (field ``PHONE``) when it is not a Vietnamese mobile number.
    """
    number = _parse(phone)
    with rt.uow() as uow:
        changed = uow.optouts.add(number, reason or "", SOURCE_CLI, rt.clock.now(), _who(rt))
        uow.commit()
    return Change(number, changed)


def remove(rt: Runtime, phone: str, reason: str | None = None) -> Change:
    """Take a number off the list (the person asked to get messages again); logged."""
    number = _parse(phone)
    with rt.uow() as uow:
        changed = uow.optouts.remove(number, reason or "", SOURCE_CLI, rt.clock.now(), _who(rt))
        uow.commit()
    return Change(number, changed)


def import_file(rt: Runtime, path: Path, reason: str | None = None) -> ImportResult:
    """Add every number of a ``.csv``/``.xlsx`` list (a ``phone`` column), in one transaction.

    Each row keeps its own reason (a ``reason`` or ``note`` column), else ``reason``. Rows whose
    number is unusable are counted and reported with ``file:line``; they do not stop the import.
    A file that cannot be read at all raises :class:`BadInput` and adds nothing.
    """
    display = display_path(path, Path.cwd())
    result = ImportResult(display)
    with rt.uow() as uow:
        entries = _entries(read_list(path, display), path.name, reason or "", result)
        added = uow.optouts.add_many(entries, rt.clock.now(), _who(rt))
        uow.commit()
    result.added = len(added)
    result.already = result.valid_rows - result.added
    return result


def _entries(
    rows: Iterable[ListRow], name: str, reason: str, result: ImportResult
) -> Iterator[NewOptOut]:
    """The usable rows as entries (source ``import:<name>:<line>``); the others go to ``result``."""
    for row in rows:
        try:
            number = normalize(row.phone)
        except InvalidPhone as exc:
            result.reject(Problem(f"'{row.phone}': {exc.reason}", result.file, row.line))
            continue
        result.valid_rows += 1
        own = next((row.fields[c] for c in REASON_COLUMNS if row.fields.get(c)), reason)
        yield NewOptOut(number, own, f"import:{name}:{row.line}")


def entries(rt: Runtime) -> Iterator[OptOut]:
    """The whole list, oldest first, streamed."""
    with rt.uow() as uow:
        yield from uow.optouts.all()


class OptOutFilter:
    """Leaves out the subscribers on the opt-out list and counts them.

    Used while an occurrence's outbox is written, in the same transaction, so a number is either
    on the list when the occurrence starts or is checked again by the sender before each send.
    A short list (the usual case: people opt out one by one) is read once; a long one is asked
    about a batch of subscribers at a time.
    """

    def __init__(
        self, optouts: OptOutRepository, batch: int = FILTER_BATCH, preload: int = PRELOAD_MAX
    ) -> None:
        self._optouts = optouts
        self._batch = batch
        self._preload = preload
        self.excluded = 0

    def __call__(self, subscribers: Iterable[Subscriber]) -> Iterator[Subscriber]:
        if self._optouts.count() <= self._preload:
            return self._against(self._optouts.phones(), subscribers)
        return self._in_batches(subscribers)

    def _against(
        self, opted_out: set[str], subscribers: Iterable[Subscriber]
    ) -> Iterator[Subscriber]:
        for subscriber in subscribers:
            if subscriber.phone in opted_out:
                self.excluded += 1
            else:
                yield subscriber

    def _in_batches(self, subscribers: Iterable[Subscriber]) -> Iterator[Subscriber]:
        rows = iter(subscribers)
        while chunk := list(islice(rows, self._batch)):
            yield from self._against(self._optouts.contains([s.phone for s in chunk]), chunk)


def _parse(phone: str) -> str:
    try:
        return normalize(phone)
    except InvalidPhone as exc:
        raise BadInput(Problem(f"'{phone}': {exc.reason}", field="PHONE")) from exc


def _who(rt: Runtime) -> str:
    """The operator, recorded with each change."""
    return operator(rt.environ)
