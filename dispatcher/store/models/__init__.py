"""Tables. Alembic owns the schema; these models must match the migrations (a test checks it).

Two tables carry the sending: ``deliveries`` is the mutable outbox (one row per occurrence and
recipient, its current status) and ``delivery_log`` is the append-only history that audits and
reports read. Database triggers (created by the migrations) refuse UPDATE and DELETE on the logs.

The tables are in three modules (the sending's, the loudspeakers', the other records), all on
one ``Base``; importing this package registers every one of them in ``Base.metadata``.
"""

from dispatcher.store.models.base import NAMING, Base, BigId, UTCDateTime
from dispatcher.store.models.broadcast import (
    AiringConfirmationRow,
    AiringCorrectionRow,
    AiringRow,
    PulledAudioRow,
)
from dispatcher.store.models.records import (
    AccessTokenRow,
    ActivityRow,
    ChainRow,
    OutreachActivityRow,
    WebSessionRow,
)
from dispatcher.store.models.sending import (
    ApprovalRow,
    CampaignRow,
    ControlRow,
    DeliveryEventRow,
    DeliveryRow,
    OccurrenceRow,
    OptOutEventRow,
    OptOutRow,
    RateLimitRow,
    WorkerRow,
)

# The logs: append-only (triggers), and each of their records is in the audit chain.
APPEND_ONLY_TABLES = (
    "delivery_log",
    "activity_log",
    "optout_log",
    "airing_confirmations",
    "approvals",
    "outreach_activities",
    "airing_corrections",
)

__all__ = [
    "APPEND_ONLY_TABLES",
    "NAMING",
    "AccessTokenRow",
    "ActivityRow",
    "AiringConfirmationRow",
    "AiringCorrectionRow",
    "AiringRow",
    "ApprovalRow",
    "Base",
    "BigId",
    "CampaignRow",
    "ChainRow",
    "ControlRow",
    "DeliveryEventRow",
    "DeliveryRow",
    "OccurrenceRow",
    "OptOutEventRow",
    "OptOutRow",
    "OutreachActivityRow",
    "PulledAudioRow",
    "RateLimitRow",
    "UTCDateTime",
    "WebSessionRow",
    "WorkerRow",
]
