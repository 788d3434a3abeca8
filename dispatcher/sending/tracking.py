"""Knowing what happened to each message after the provider took it.

Polling is the primary path: a district office is usually behind NAT, where no callback can reach
it. :func:`poll_statuses` asks the provider about every delivery that has a provider id and no final
status yet, in bounded batches. Status callbacks (:func:`handle_status_callback`, served by
:mod:`dispatcher.web.service`) are the fast path where Twilio can reach ``dispatcher serve``. Both
go through ``Repository.apply``, which only moves a status forward and logs every change: a late
``sent`` never overwrites ``delivered`` and a repeated report changes nothing.

In Vietnam ``delivered`` is only the SMS centre's acknowledgement, not the handset's receipt.

An ``unknown`` outcome (the request may or may not have created a message) that stays unresolved
past ``sending.unknown_max_age_minutes`` becomes ``failed`` with ``unknown-outcome``: it is
reported, never silently resent (:func:`expire_unknown`).

Only the gateway that took a message can report on it (``deliveries.gateway``). A poll never asks
about messages sent through another one: the built-in simulator of a command that has ended, or
another Twilio account or API. Past the same age those become ``failed`` with ``gateway-gone`` or
``gateway-changed``, saying why (:func:`expire_elsewhere`). Rows sent before gateways were
recorded (``legacy``) are polled as they always were. What a poll could not learn is summed up in
one log line per pass, never one per delivery.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatcher.audience.phones import InvalidPhone, mask, normalize
from dispatcher.bootstrap import Runtime, gateway
from dispatcher.core.errors import (
    BadInput,
    ConfigError,
    GatewayError,
    GatewayHalt,
    Problem,
    ProviderNotFound,
)
from dispatcher.core.outbox import Outcome
from dispatcher.core.status import Status, from_twilio
from dispatcher.gateways.base import LEGACY, Gateway, ProviderStatus, describe, is_simulator_run
from dispatcher.sms.encoding import fold_vietnamese
from dispatcher.store.tracking import Awaiting
from dispatcher.store.uow import UnitOfWork

log = logging.getLogger(__name__)

POLL_CONCURRENCY = 8  # fetches in flight: polling must leave Twilio's concurrency cap to sends
UNKNOWN_OUTCOME = "unknown-outcome"
GATEWAY_GONE = "gateway-gone"  # the built-in simulator of a command that has ended
GATEWAY_CHANGED = "gateway-changed"  # another Twilio account or API than the configured one
EXPIRE_BATCH = 1_000
EXAMPLES = 3  # deliveries named in a poll's summary line: enough to look one up, never a flood
_SEPARATORS = re.compile(r"[\s.,;:!?]+")


@dataclass
class PollResult:
    """One polling pass: how many deliveries were asked about and what became of them."""

    checked: int = 0
    moved: dict[Status, int] = field(default_factory=dict)  # moved forward, by new status
    not_found: int = 0  # the provider has no such message: left as they are
    errors: int = 0  # the provider could not be asked this time: asked again next pass
    elsewhere: int = 0  # not asked: sent through a gateway that cannot be asked (see module doc)
    examples: dict[str, list[str]] = field(default_factory=dict)  # a few, by what went wrong

    def count(self, applied: Sequence[Outcome]) -> None:
        for outcome in applied:
            self.moved[outcome.status] = self.moved.get(outcome.status, 0) + 1

    def note(self, kind: str, example: str) -> None:
        named = self.examples.setdefault(kind, [])
        if len(named) < EXAMPLES:
            named.append(example)


@dataclass(frozen=True)
class ReconcileResult:
    poll: PollResult
    expired: int  # unknown outcomes that became failed (unknown-outcome)
    gone: int = 0  # awaiting a report from a gateway that cannot be asked: failed (gateway-…)
    max_age_minutes: int = 0  # sending.unknown_max_age_minutes, after which both happen


def require_provider_gateway(rt: Runtime, command: str) -> None:
    """Polling and callbacks need a gateway that outlives one command.

    The built-in simulator runs inside each command and forgets its messages when it ends, so
    there is nothing for ``reconcile`` or ``serve`` to ask about and no token to check callbacks
    with: a standalone ``dispatcher simulator`` used as ``gateway: twilio`` works.
    """
    if rt.settings.gateway == "twilio":
        return
    message = (
        f"`dispatcher {command}` needs gateway: twilio. The built-in simulator lives only as "
        "long as one command; to try it locally run `dispatcher simulator` and set "
        "DISPATCHER_GATEWAY=twilio TWILIO_API_BASE_URL=<its URL> and the same credentials"
    )
    raise ConfigError(Problem(message, field="gateway"))


def reconcile(rt: Runtime) -> ReconcileResult:
    """One pass of :func:`poll_statuses` and :func:`expire_unknown` (``dispatcher reconcile``)."""
    require_provider_gateway(rt, "reconcile")
    return asyncio.run(_reconcile(rt))


async def _reconcile(rt: Runtime) -> ReconcileResult:
    with gateway(rt) as gw:
        try:
            polled = await poll_statuses(rt, gw)
        finally:
            await gw.aclose()
    minutes = rt.settings.sending.unknown_max_age_minutes
    gone = expire_elsewhere(rt, gw.identity)
    return ReconcileResult(polled, expire_unknown(rt), gone, minutes)


# -- polling -----------------------------------------------------------------------------------
async def poll_statuses(
    rt: Runtime, gw: Gateway, stopping: Callable[[], bool] = lambda: False
) -> PollResult:
    """Ask the gateway about every delivery it took that has no final status yet.

    Batches of ``status.poll_batch`` (id order), fetched a few at a time and applied per batch;
    ``stopping`` is checked between batches. A refused account (:class:`GatewayHalt`) ends the
    pass after what was learned in its batch is recorded. Deliveries sent through another
    gateway are only counted; what could not be learned is logged in one line at the end.
    """
    result = PollResult()
    ours = reachable(gw.identity)
    try:
        result.elsewhere = await asyncio.to_thread(_elsewhere, rt, ours)
        await _poll_pages(rt, gw, ours, stopping, result)
    finally:
        _log_unlearned(result)
    return result


def reachable(identity: str) -> tuple[str, ...]:
    """The recorded gateways whose messages ``identity`` can report on: its own, and those sent
    before gateways were recorded (as before; NULL counts as those too)."""
    return (identity, LEGACY)


async def _poll_pages(
    rt: Runtime,
    gw: Gateway,
    ours: tuple[str, ...],
    stopping: Callable[[], bool],
    result: PollResult,
) -> None:
    limit = asyncio.Semaphore(POLL_CONCURRENCY)
    batch, after = rt.settings.status.poll_batch, 0
    while not stopping():
        page = await asyncio.to_thread(_awaiting, rt, batch, after, ours)
        if not page:
            break
        after = page[-1].delivery_id
        answers = await asyncio.gather(
            *(_fetch(gw, row.provider_id, limit) for row in page), return_exceptions=True
        )
        outcomes, halt = _triage(page, answers, result)
        result.count(await asyncio.to_thread(_apply, rt, outcomes))
        if halt is not None:
            raise halt
        if len(page) < batch:
            break


def _awaiting(rt: Runtime, limit: int, after: int, ours: tuple[str, ...]) -> list[Awaiting]:
    with rt.uow() as uow:
        return uow.tracking.awaiting_status(limit, after, ours)


def _elsewhere(rt: Runtime, ours: tuple[str, ...]) -> int:
    with rt.uow() as uow:
        return uow.tracking.elsewhere(ours)


async def _fetch(gw: Gateway, provider_id: str, limit: asyncio.Semaphore) -> ProviderStatus:
    async with limit:
        return await gw.fetch(provider_id)


def _triage(
    page: list[Awaiting],
    answers: Sequence[ProviderStatus | BaseException],
    result: PollResult,
) -> tuple[list[Outcome], GatewayHalt | None]:
    outcomes: list[Outcome] = []
    halt = None
    for row, answer in zip(page, answers, strict=True):
        result.checked += 1
        if isinstance(answer, ProviderStatus):
            outcomes.append(_polled(row.delivery_id, answer))
        elif isinstance(answer, ProviderNotFound):
            result.not_found += 1
            result.note("not_found", f"#{row.delivery_id} to {mask(row.phone)} ({row.provider_id})")
        elif isinstance(answer, GatewayError):
            result.errors += 1
            result.note("errors", f"#{row.delivery_id}: {answer.message}")
        elif isinstance(answer, GatewayHalt):
            result.errors += 1
            halt = answer
        else:
            raise answer  # a bug, not an answer
    return outcomes, halt


def _log_unlearned(result: PollResult) -> None:
    """One warning for the whole pass, however many deliveries it could not learn about: the
    same few hundred every minute would bury everything else in the log."""
    parts = []
    if result.not_found:
        named = ", ".join(result.examples["not_found"])
        parts.append(f"the provider has no message for {result.not_found} of {result.checked} "
                     f"asked, left as they are (e.g. {named})")  # fmt: skip
    if result.examples.get("errors"):
        named = "; ".join(result.examples["errors"])
        parts.append(f"{result.errors} could not be asked, asked again next pass (e.g. {named})")
    if parts:
        log.warning("status poll: %s", "; ".join(parts))


def _polled(delivery_id: int, found: ProviderStatus) -> Outcome:
    extras = [f"segments={found.num_segments}"] if found.num_segments else []
    extras += [f"price={found.price}"] if found.price else []
    detail = f"polled: {found.provider_status}" + (f" ({', '.join(extras)})" if extras else "")
    return Outcome(
        delivery_id, found.status, found.provider_id, error_code=found.error_code, detail=detail
    )


def _apply(rt: Runtime, outcomes: list[Outcome]) -> list[Outcome]:
    if not outcomes:
        return []
    with rt.uow() as uow:
        applied = uow.repo.apply(outcomes, rt.clock.now())
        uow.commit()
    return applied


# -- unknown outcomes --------------------------------------------------------------------------
def expire_unknown(rt: Runtime) -> int:
    """Fail the deliveries ``unknown`` for longer than ``sending.unknown_max_age_minutes``.

    They become ``failed`` with ``unknown-outcome`` (logged), never resent: the message may have
    gone out, and a second one would be a double send. Returns how many.
    """
    minutes = rt.settings.sending.unknown_max_age_minutes
    detail = f"{UNKNOWN_OUTCOME}: unresolved for more than {minutes} minutes; not resent"

    def stale(uow: UnitOfWork, older_than: datetime) -> list[Outcome]:
        found = uow.tracking.stale_unknown(older_than, limit=EXPIRE_BATCH)
        return [
            Outcome(i, Status.FAILED, error_message=UNKNOWN_OUTCOME, detail=detail) for i in found
        ]

    return _expire(rt, stale)


def expire_elsewhere(rt: Runtime, identity: str) -> int:
    """Fail the deliveries awaiting a report from a gateway other than ``identity`` and unchanged
    for longer than ``sending.unknown_max_age_minutes``: no poll through ``identity`` can learn
    anything about them, and the built-in simulator of an ended command never will. The error
    (``gateway-gone``, ``gateway-changed``) and the logged detail say so. Returns how many."""
    minutes = rt.settings.sending.unknown_max_age_minutes
    ours = reachable(identity)

    def stale(uow: UnitOfWork, older_than: datetime) -> list[Outcome]:
        found = uow.tracking.stale_elsewhere(ours, older_than, limit=EXPIRE_BATCH)
        return [_gone(i, gateway, minutes) for i, gateway in found]

    return _expire(rt, stale)


def _gone(delivery_id: int, gateway: str, minutes: int) -> Outcome:
    if is_simulator_run(gateway):
        error = GATEWAY_GONE
        why = f"sent through {describe(gateway)}, which has ended; no delivery report can come"
    else:
        error = GATEWAY_CHANGED
        why = (f"sent through {describe(gateway)}, not the configured gateway; its delivery "
               "report cannot be asked for")  # fmt: skip
    detail = f"{error}: {why} (no final status for more than {minutes} minutes)"
    return Outcome(delivery_id, Status.FAILED, error_message=error, detail=detail)


def _expire(rt: Runtime, stale: Callable[[UnitOfWork, datetime], list[Outcome]]) -> int:
    """Apply ``stale``'s failures in batches until a batch comes back short."""
    minutes = rt.settings.sending.unknown_max_age_minutes
    expired = 0
    while True:
        now = rt.clock.now()
        with rt.uow() as uow:
            fail = stale(uow, now - timedelta(minutes=minutes))
            expired += len(uow.repo.apply(fail, now))
            uow.commit()
        if len(fail) < EXPIRE_BATCH:
            return expired


# -- callbacks and inbound messages (signatures are checked by the HTTP layer) -----------------
def handle_status_callback(rt: Runtime, delivery_id: int, params: Mapping[str, str]) -> bool:
    """Apply one Twilio status callback for our delivery ``delivery_id`` (from its URL).

    Ties the provider's SID to the delivery when we did not know it (the create response was
    lost). Returns whether anything changed: an unknown delivery, a stale or repeated report, or
    a report about another message than the one we know change nothing. Missing fields are
    :class:`BadInput`.
    """
    sid = params.get("MessageSid") or params.get("SmsSid")
    reported = params.get("MessageStatus") or params.get("SmsStatus")
    if not sid or not reported:
        raise BadInput("a status callback needs MessageSid and MessageStatus")
    outcome = Outcome(
        delivery_id,
        from_twilio(reported),
        sid,
        error_code=_int_or_none(params.get("ErrorCode")),
        detail=f"callback: {reported}",
    )
    with rt.uow() as uow:
        known = uow.tracking.delivery_by_id(delivery_id)
        if known is None:
            log.warning("status callback for delivery %d, which does not exist", delivery_id)
            return False
        if known.provider_id not in (None, sid):
            log.warning("status callback for delivery %d names %s, not %s: ignored",
                        delivery_id, sid, known.provider_id)  # fmt: skip
            return False
        changed = bool(uow.repo.apply([outcome], rt.clock.now()))
        uow.commit()
    return changed


def handle_inbound(rt: Runtime, params: Mapping[str, str]) -> bool:
    """Put the sender of an inbound opt-out keyword (``settings.optout.keywords``) on the list.

    Returns whether the list changed. The whole message must be the keyword, so that "Huy đây"
    (Huy is a common name) does not opt anyone out. Missing fields are :class:`BadInput`.
    """
    sender, body = params.get("From"), params.get("Body")
    if not sender or body is None:
        raise BadInput("an inbound message needs From and Body")
    keyword = opt_out_keyword(body, rt.settings.optout.keywords)
    if keyword is None:
        return False
    try:
        phone = normalize(sender)
    except InvalidPhone as exc:
        log.warning("opt-out keyword %s from a number we cannot use: %s", keyword, exc.reason)
        return False
    with rt.uow() as uow:
        reason, source = f"inbound keyword {keyword}", f"inbound:{keyword}"
        changed = uow.optouts.add(phone, reason=reason, source=source, now=rt.clock.now())
        uow.commit()
    log.info("opt-out keyword %s from %s (new: %s)", keyword, mask(phone), changed)
    return changed


def opt_out_keyword(body: str, keywords: Collection[str]) -> str | None:
    """The keyword the whole message is (case, diacritics and punctuation ignored), or None."""
    wanted = {fold_vietnamese(k).upper() for k in keywords}
    word = _SEPARATORS.sub(" ", fold_vietnamese(body)).strip().upper()
    return word if word in wanted else None


def _int_or_none(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None
