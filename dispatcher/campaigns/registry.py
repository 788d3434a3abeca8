"""What the database knows of a campaign: its identity, its spec as last registered, and its
planned loudspeaker airings; and what an edit of the file changed since then."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from dispatcher.campaigns.spec import Campaign, CampaignSpec
from dispatcher.core.errors import DispatcherError
from dispatcher.settings.config import Settings
from dispatcher.store.uow import UnitOfWork, existing_unit_of_work

if TYPE_CHECKING:  # the SQL models load with the database (`validate` and `plan` may have none)
    from dispatcher.store.repository import Repository

_ABSENT = object()  # a key that is not there differs even from one that is null


def register_campaign(
    repo: Repository, campaign: Campaign, airings: list[tuple[str, datetime]], now: datetime
) -> int:
    """Save the campaign and its planned airings; returns how many airings were new."""
    from dispatcher.store.models import CampaignRow

    row = CampaignRow(
        id=campaign.id,
        title=campaign.spec.title,
        unit=campaign.spec.unit,
        timezone=campaign.spec.timezone,
        source_path=str(campaign.path),
        fingerprint=campaign.fingerprint,
        spec=canonical_spec(campaign.spec),
    )
    repo.save_campaign(row, now)
    return repo.save_airings(campaign.id, campaign.spec.unit, airings, now)


def canonical_spec(spec: CampaignSpec) -> str:
    """The validated campaign as JSON written one way only: the same campaign, the same text.

    Defaults are included, so writing ``encoding: auto`` or leaving it out is no change.
    """
    data = spec.model_dump(mode="json")
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def spec_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], prefix: str = ""
) -> list[str]:
    """The field paths whose values differ, e.g. ``["sms.schedule.times", "sms.text"]``.

    Mappings are compared key by key, anything else (lists included) as a whole value, so a
    changed list is one path. Sorted, for stable output.
    """
    changed: list[str] = []
    for key in sorted(before.keys() | after.keys()):
        path = f"{prefix}.{key}" if prefix else str(key)
        old, new = before.get(key, _ABSENT), after.get(key, _ABSENT)
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            changed += spec_changes(old, new, path)
        elif old != new:
            changed.append(path)
    return changed


@dataclass(frozen=True)
class Changes:
    """How a campaign file differs from the campaign as last registered (by ``send``)."""

    registered_at: datetime
    paths: list[str]


def changes_in_database(settings: Settings, campaigns: Iterable[Campaign]) -> dict[str, Changes]:
    """:func:`registered_changes` in the configured database, if there is one to read (read
    only and optional: without one, or when it cannot be read, the answer is empty)."""
    try:
        with existing_unit_of_work(settings.resolved_database_url) as uow:
            return registered_changes(uow, campaigns)
    except DispatcherError:
        return {}


def registered_changes(uow: UnitOfWork | None, campaigns: Iterable[Campaign]) -> dict[str, Changes]:
    """For each campaign already in the database: what its file changed since registration
    (empty without a database: ``plan`` and ``validate`` work without one)."""
    if uow is None:
        return {}
    wanted = {c.id: c for c in campaigns}
    stored = {cid: uow.repo.registered_spec(cid) for cid in wanted}
    found = {}
    for cid, row in stored.items():
        if row is not None and row[0] is not None:
            before = as_current(json.loads(row[0]))
            after = json.loads(canonical_spec(wanted[cid].spec))
            found[cid] = Changes(row[1], spec_changes(before, after))
    return found


def as_current(stored: dict[str, Any]) -> dict[str, Any]:
    """A spec registered by an older version, with the defaults of the keys added since (the
    YAML shape is extended, e.g. ``sms.category``): an extension is not an edit of the file.
    As stored when today's model refuses it (then every difference shows)."""
    try:
        spec = CampaignSpec.model_validate(_without_nulls(stored))
    except (ValidationError, ValueError, TypeError):
        return stored
    return dict(json.loads(canonical_spec(spec)))


def _without_nulls(data: Any) -> Any:
    # A null in the dump is a key the file left out: validators only see keys that were written.
    if isinstance(data, dict):
        return {k: _without_nulls(v) for k, v in data.items() if v is not None}
    return data
