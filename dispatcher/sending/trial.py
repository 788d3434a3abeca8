"""`dispatcher send FILE --test`: the rendered message to the staff's own phones first.

The message of the first rows of the list (or of one chosen row, ``--as-row N``: the N-th
recipient in list order) goes to each of ``sending.test_numbers`` and to nobody else, as an
occurrence of its own marked ``test``: in the delivery log like any send, never counted in the
monthly report or by the frequency cap. Test sends cost real money, so budgets apply; they are
not held by quiet hours (they go to staff, not to the public) nor by the two-person rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from itertools import islice
from pathlib import Path

from dispatcher.audience.lists import Subscriber
from dispatcher.audience.scan import AudienceScan
from dispatcher.bootstrap import Runtime
from dispatcher.broadcast.service import airings_to_register
from dispatcher.campaigns.compose import render_deliveries
from dispatcher.campaigns.registry import register_campaign
from dispatcher.core.errors import BadInput, Problem
from dispatcher.safety.budgets import budget_rule
from dispatcher.safety.gates import sending_gate
from dispatcher.sending.pacing import campaign_pacer
from dispatcher.sending.prepare import prepare_campaign
from dispatcher.sending.send import OccurrenceRun, SendReport, run_sender
from dispatcher.sending.sender import Progress

TEST_KEY_FORMAT = "test-%Y%m%dT%H%M%S"


def send_test(
    rt: Runtime,
    path: Path,
    as_row: int | None = None,
    on_progress: Callable[[str, Progress], None] | None = None,
) -> SendReport:
    """Send the campaign's message to the configured test numbers only."""
    numbers = rt.settings.sending.test_numbers
    if not numbers:
        message = "no test numbers: list the staff phones to send tests to in config.yaml"
        raise BadInput(Problem(message, field="sending.test_numbers"))
    if as_row is not None and as_row < 1:
        raise BadInput(Problem(f"{as_row}: rows are counted from 1", field="--as-row"))
    prepared = prepare_campaign(path, rt.settings, rt.environ)
    campaign, audience = prepared.campaign, prepared.audience
    if campaign.spec.sms is None or audience is None:
        raise BadInput(campaign.problem([], "this campaign has no `sms` section: nothing to send"))
    rows = _model_rows(audience, len(numbers), as_row)
    recipients = [replace(rows[i % len(rows)], phone=n) for i, n in enumerate(numbers)]
    now = rt.clock.now()
    key = now.astimezone(campaign.tz).strftime(TEST_KEY_FORMAT)
    with rt.uow() as uow:
        register_campaign(uow.repo, campaign, airings_to_register(campaign, rt.settings), now)
        occurrence = uow.repo.add_occurrence(campaign.id, key, now, "open", now)
        occurrence.test = True
        uow.repo.add_deliveries(occurrence, render_deliveries(campaign, recipients), now)
        detail = f"test send to {len(recipients)} staff number(s), as row {as_row or 1}"
        uow.repo.record_activity("test-send", now, campaign.id, key, detail)
        uow.commit()
        occurrence_id = occurrence.id
    report = (lambda p: on_progress(key, p)) if on_progress else None
    budget = budget_rule(campaign, rt.settings)
    result = asyncio.run(
        run_sender(
            rt, occurrence_id, campaign_pacer(rt.settings, campaign),
            sending_gate(campaign.id), report, budget.room if budget else None,
        )
    )  # fmt: skip
    return SendReport(campaign.id, [OccurrenceRun(key, now, len(recipients), result)], [], None)


def _model_rows(audience: AudienceScan, wanted: int, as_row: int | None) -> list[Subscriber]:
    """The rows whose message the test numbers get: the first ``wanted``, or row ``as_row``."""
    subscribers = iter(audience)
    if as_row is None:
        rows = list(islice(subscribers, wanted))
    else:
        rows = list(islice(subscribers, as_row - 1, as_row))
    if not rows:
        where = f"there is no recipient number {as_row}" if as_row else "the lists are empty"
        raise BadInput(Problem(where, field="--as-row" if as_row else "sms.recipients"))
    return rows
