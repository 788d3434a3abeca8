"""`dispatcher validate` and the first step of `plan` and `send`: a campaign file loaded and
checked completely (lists, templates, the carriers' rules, the broadcast's communes).

Light on purpose: `validate` and `plan` start here, so this module imports neither the sender
(asyncio, the gateways) nor the database; the broadcast stack (script templates, .docx, audio)
loads only for a campaign with a `broadcast` section.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from dispatcher.audience.scan import AudienceScan, scan_audience
from dispatcher.campaigns.compose import Composition, compose_sms, template_columns
from dispatcher.campaigns.folder import survey
from dispatcher.campaigns.registry import Changes, changes_in_database
from dispatcher.campaigns.spec import Campaign, load_campaign
from dispatcher.core.errors import BadInput, Problem
from dispatcher.safety.carrier_checks import CarrierReview, review
from dispatcher.settings.config import Settings

if TYPE_CHECKING:
    from dispatcher.audience.units import UnitsRegistry


@dataclass
class Prepared:
    """A checked campaign: its audience (read again to send) and what the messages cost."""

    campaign: Campaign
    audience: AudienceScan | None
    composition: Composition | None
    warnings: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # about the campaign, for validate and plan


def prepare_campaign(
    path: Path,
    settings: Settings | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    preview: int = 0,
    first_rows: bool = False,
) -> Prepared:
    """Load and check a campaign completely; raises :class:`BadInput` listing every problem.

    With ``settings``, also what the carriers will deliver (:mod:`dispatcher.safety.carrier_checks`:
    registered senders and templates, advertising), checked in the same pass over the lists;
    ``environ`` (default: the process's) says whether the gateway is real. The first
    ``preview`` messages are kept in the composition, and with ``first_rows`` the audience names
    the earlier row of each kept duplicate and exclusion without reading the lists again (both for
    ``plan``; ``send`` needs neither, and saves the memory).
    """
    campaign = load_campaign(path)
    units = broadcast_units(campaign, settings)
    carriers, problems = checked_without_lists(campaign, settings, environ, units)
    audience = sms_audience(campaign, first_rows)
    composition = None
    if audience is not None:  # one pass: counts, costs
        check, columns_of = carriers.check, audience.columns_of
        composition = compose_sms(campaign, audience, check, columns_of=columns_of, preview=preview)
        problems += composition.problems
    if problems:
        raise BadInput(problems)
    warnings = _list_warnings(audience)
    notes = _broadcast_notes(campaign, units)
    return Prepared(campaign, audience, composition, warnings, carriers.notes + notes)


def broadcast_units(campaign: Campaign, settings: Settings | None) -> UnitsRegistry | None:
    """The units registry a broadcast is checked against (read only for a broadcast)."""
    if campaign.spec.broadcast is None or settings is None:
        return None
    from dispatcher.broadcast.units import units_registry

    return units_registry(settings)


def checked_without_lists(
    campaign: Campaign,
    settings: Settings | None,
    environ: Mapping[str, str] | None,
    units: UnitsRegistry | None,
) -> tuple[CarrierReview, list[Problem]]:
    """The carriers' review and every problem found before the lists are read."""
    carriers = CarrierReview()
    if settings is not None:
        carriers = review(campaign, settings, os.environ if environ is None else environ)
    problems: list[Problem] = list(carriers.problems)
    if campaign.spec.broadcast is not None:
        from dispatcher.broadcast.service import check_broadcast

        problems += check_broadcast(campaign, units)
    return carriers, problems


def sms_audience(campaign: Campaign, first_rows: bool = False) -> AudienceScan | None:
    """The SMS audience, not read yet (None: the campaign sends no SMS); ``first_rows``: see
    :func:`~dispatcher.audience.scan.scan_audience`."""
    sms = campaign.spec.sms
    if sms is None:
        return None
    return scan_audience(
        [campaign.resolve(p) for p in sms.recipients],
        [campaign.resolve(p) for p in sms.exclude],
        display_base=Path.cwd(),
        columns=template_columns(campaign),
        first_rows=first_rows,
    )


def _broadcast_notes(campaign: Campaign, units: UnitsRegistry | None) -> list[Problem]:
    """Communes merged away (or created) mid-campaign air only part of it: a note, no error."""
    if campaign.spec.broadcast is None:
        return []
    from dispatcher.broadcast.service import broadcast_notes

    return broadcast_notes(campaign, units)


def _list_warnings(audience: AudienceScan | None) -> list[Problem]:
    if audience is None:
        return []
    unusable = audience.summary.exclude_invalid
    rows = [Problem(f"{r.reason}: '{r.raw}'", r.file, r.line) for r in unusable.rows]
    if unusable.omitted:
        rows.append(Problem(f"... and {unusable.omitted} more unusable numbers in exclusion lists"))
    return rows


@dataclass(frozen=True)
class ValidationResult:
    path: str
    problems: list[Problem]
    warnings: list[Problem]
    changes: Changes | None = None  # None: not registered yet (or no database to ask)
    skipped: str | None = None  # why the file is no campaign (then it is not checked)


def validate(
    paths: list[Path], settings: Settings | None = None, environ: Mapping[str, str] | None = None
) -> list[ValidationResult]:
    """Check each campaign file fully (lists, templates, limits); never raises for bad input.

    With ``settings``, also what the carriers will deliver (see :func:`prepare_campaign`), and
    a valid campaign already in the database says what its file changed since it was last
    registered (only when the database exists; it is never created here).
    """
    results, campaigns, found = [], [], survey(paths)
    for path in paths:
        if path in found.skipped:  # settings or notes among `campaigns/*.yaml`: not an error
            results.append(ValidationResult(str(path), [], [], skipped=found.skipped[path]))
            continue
        clash = [found.clashes[path]] if path in found.clashes else []
        try:
            prepared = prepare_campaign(path, settings, environ)
            if not clash:
                campaigns.append(prepared.campaign)
            warnings = prepared.warnings + prepared.notes
            results.append(ValidationResult(str(path), clash, warnings))
        except BadInput as exc:
            results.append(ValidationResult(str(path), clash + exc.problems, []))
    changed = changes_in_database(settings, campaigns) if settings and campaigns else {}
    by_path = {str(c.path): changed.get(c.id) for c in campaigns}
    return [replace(r, changes=by_path.get(str(Path(r.path).resolve()))) for r in results]
