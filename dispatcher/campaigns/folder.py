"""Campaigns read together: the campaign folder ``serve`` schedules from, ``validate`` of several
files, ``broadcast pull --campaign`` given more than once.

Two files with the same ``id`` are one campaign to the database (its occurrences, approvals and
log are keyed by the id), so neither is used until one is renamed: the error names both files.
A YAML file that is no campaign at all (no ``id``, ``sms`` or ``broadcast`` at the top, such as
settings left in the folder) is skipped with one line, not reported as a broken campaign.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dispatcher.audience.lists import display_path
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.yamlfile import YamlDocument, read_yaml

CAMPAIGN_PATTERNS = ("*.yaml", "*.yml")
CAMPAIGN_KEYS = ("id", "sms", "broadcast")  # a campaign has an id and sends something
NOT_A_CAMPAIGN = "not a campaign (no id, sms or broadcast at the top): skipped"


def campaign_files(folder: Path) -> list[Path]:
    """The YAML files directly in ``folder``, sorted."""
    return sorted({p for pattern in CAMPAIGN_PATTERNS for p in folder.glob(pattern)})


@dataclass(frozen=True)
class IdAt:
    """Where a file declares its campaign id."""

    file: str  # as shown
    id: str
    line: int | None


@dataclass
class Survey:
    """What a first look at several campaign files found, before any is used."""

    skipped: dict[Path, str] = field(default_factory=dict)  # not campaigns: why
    clashes: dict[Path, Problem] = field(default_factory=dict)  # an id another file has too


def survey(paths: Sequence[Path], reading: Callable[[Path], None] | None = None) -> Survey:
    """Which files are no campaigns, and which share an id. A file that does not even parse is
    neither: loading it reports its own problems. ``reading(path)`` is told of each file before
    it is read (a read can hang, on a dead network share: the caller can say where)."""
    found, ids, seen = Survey(), [], set()
    for path in paths:
        if reading is not None:
            reading(path)
        if path.resolve() in seen:  # the same file named twice is one campaign
            continue
        seen.add(path.resolve())
        try:
            doc = read_yaml(path, display_path(path, Path.cwd()))
        except BadInput:
            continue
        if not is_campaign(doc.data):
            found.skipped[path] = NOT_A_CAMPAIGN
        elif (at := _id_at(doc)) is not None:
            ids.append((path, at))
    by_file = id_clashes(at for _, at in ids)
    found.clashes = {path: by_file[at.file] for path, at in ids if at.file in by_file}
    return found


def is_campaign(data: Any) -> bool:
    """Whether parsed YAML is meant as a campaign (it may still be a broken one)."""
    return isinstance(data, dict) and any(key in data for key in CAMPAIGN_KEYS)


def id_clashes(found: Iterable[IdAt]) -> dict[str, Problem]:
    """A problem for each file whose id another file has too, at its ``id`` line, naming them."""
    files: defaultdict[str, list[IdAt]] = defaultdict(list)
    for at in found:
        files[at.id].append(at)
    problems = {}
    for same in files.values():
        for at in same if len(same) > 1 else ():
            others = ", ".join(other.file for other in same if other is not at)
            message = f"{at.id!r} is also the id of {others}: give each campaign its own id"
            problems[at.file] = Problem(message, at.file, at.line, "id")
    return problems


def _id_at(doc: YamlDocument) -> IdAt | None:
    value = doc.data.get("id")
    if not isinstance(value, str):
        return None  # a missing or wrong id is the full load's to report
    return IdAt(doc.display_path, value, doc.line_of(["id"]))
