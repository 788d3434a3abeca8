"""Which version of a campaign an approval holds for, and whether a send needs one.

Pure reads (no writes), so both ``plan`` and ``send`` can ask: the fingerprint of a campaign
(text, the lists' bytes, the recipient count) and the state of its approval.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

# The one answer to "is the gateway real?" lives in settings; re-exported for the callers here.
from dispatcher.audience.scan import AudienceScan
from dispatcher.campaigns.spec import Campaign
from dispatcher.settings.config import Settings, gateway_is_real
from dispatcher.store.uow import UnitOfWork


class Prepared(Protocol):
    """What an approval is about: a checked campaign with its audience counted
    (:class:`dispatcher.sending.send.Prepared`)."""

    @property
    def campaign(self) -> Campaign: ...
    @property
    def audience(self) -> AudienceScan | None: ...


__all__ = ["ApprovalState", "approval_state", "fingerprint", "gateway_is_real"]


@dataclass(frozen=True)
class ApprovalState:
    needed: bool  # a real gateway and more recipients than approval.above_recipients
    approver: str | None = None  # of the approval that matches the campaign as it is now
    at: datetime | None = None
    void_by: str | None = None  # an approval exists, but for another version of the campaign

    @property
    def granted(self) -> bool:
        return self.approver is not None


def fingerprint(prepared: Prepared) -> str:
    """The version of a campaign an approval holds for: its text, its lists' bytes, its count."""
    sms, audience = prepared.campaign.spec.sms, prepared.audience
    assert sms is not None and audience is not None
    digest = hashlib.sha256()
    digest.update(f"{sms.encoding}\n{sms.text}\n".encode())
    for role, files in (("recipients", sms.recipients), ("exclude", sms.exclude)):
        for written in files:
            digest.update(f"{role}:{written}\n".encode())
            digest.update(_file_digest(prepared.campaign.resolve(written)))
    digest.update(f"{audience.summary.valid}".encode())
    return digest.hexdigest()


def approval_state(
    uow: UnitOfWork | None, prepared: Prepared, settings: Settings, real: bool
) -> ApprovalState:
    """Whether a send of the campaign as it is now needs an approval, and the one it has
    (``uow`` None: no database yet, so none)."""
    audience = prepared.audience
    assert audience is not None
    if not real or audience.summary.valid <= settings.approval.above_recipients:
        return ApprovalState(needed=False)
    latest = uow.approvals.latest(prepared.campaign.id) if uow is not None else None
    if uow is None or latest is None:
        return ApprovalState(needed=True)
    match = uow.approvals.matching(prepared.campaign.id, fingerprint(prepared))
    if match is not None:
        return ApprovalState(True, match.approver, match.at)
    return ApprovalState(True, void_by=latest.approver)


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        digest.update(b"missing")
    return digest.digest()
