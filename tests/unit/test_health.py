"""The health rules, pure: counts in, findings out, with a fake clock."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatcher.core.status import Status
from dispatcher.ops import health
from dispatcher.ops.health import Finding, HealthReport, Rules
from dispatcher.settings.config import Settings
from dispatcher.store.health import (
    FailureCount,
    OpenWork,
    SilentWorker,
    Snapshot,
    StuckRows,
)
from dispatcher.store.workers import HaltState
from tests.fakes import FakeClock

START = datetime(2024, 10, 16, 1, 0, tzinfo=UTC)  # 08:00 in Văn Quan
RULES = Rules()  # 15 min stuck, 30 min no progress, 5 min silent, 120 min grace, 50% of ≥ 20
EMPTY = Snapshot([], [], [], [], [])


def _snapshot(**parts: Any) -> Snapshot:
    return replace(EMPTY, **parts)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def test_nothing_to_judge_is_healthy(clock: FakeClock) -> None:
    report = HealthReport(clock.now(), health.findings(EMPTY, clock.now(), RULES))
    assert report.healthy
    assert report.as_json() == {"status": "ok"}


def test_rules_come_from_the_settings() -> None:
    settings = Settings.model_validate(
        {
            "health": {"stuck_after_minutes": 7, "error_dominance": 0.8, "error_window": 50},
            "sending": {"grace_period_minutes": 30},
        }
    )
    rules = Rules.from_settings(settings)
    assert rules.stuck_after == timedelta(minutes=7)
    assert rules.grace == timedelta(minutes=30)
    assert (rules.error_dominance, rules.error_window) == (0.8, 50)
    assert Rules.from_settings(Settings()) == RULES


def test_cutoffs_are_the_thresholds_before_now(clock: FakeClock) -> None:
    cut = health.cutoffs(RULES, clock.now())
    assert cut.stuck_before == START - timedelta(minutes=15)
    assert cut.silent_before == START - timedelta(minutes=5)
    assert cut.failures_since == START - timedelta(minutes=60)


# -- stuck rows ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "rule"), [(Status.SENDING, health.STUCK_SENDING), (Status.UNKNOWN, "stuck-unknown")]
)
def test_rows_stuck_longer_than_the_threshold_are_a_finding(
    clock: FakeClock, status: Status, rule: str
) -> None:
    rows = StuckRows("2g", status, 12, START)
    clock.advance(timedelta(minutes=15))
    assert health.stuck_finding(rows, clock.now(), RULES) is None  # exactly the threshold
    clock.advance(timedelta(minutes=32))
    finding = health.stuck_finding(rows, clock.now(), RULES)
    assert finding is not None
    assert (finding.rule, finding.campaign_id) == (rule, "2g")
    assert finding.numbers == {"rows": 12, "oldest_minutes": 47, "since": START.isoformat()}
    assert "12 deliveries" in finding.message and "47 min" in finding.message


def test_stuck_sending_and_unknown_are_separate_findings(clock: FakeClock) -> None:
    clock.advance(timedelta(hours=2, minutes=5))
    snapshot = _snapshot(
        stuck_sending=[StuckRows("b", Status.SENDING, 3, START)],
        stuck_unknown=[StuckRows("a", Status.UNKNOWN, 4, START)],
    )
    found = health.findings(snapshot, clock.now(), RULES)
    assert [(f.campaign_id, f.rule) for f in found] == [
        ("a", "stuck-unknown"),
        ("b", "stuck-sending"),
    ]
    assert "2 h 05 min" in found[0].message


# -- no progress ---------------------------------------------------------------------------------
def _work(
    state: str = "active", last_claim: datetime | None = None, pending: int = 100
) -> OpenWork:
    return OpenWork("2g", state, "2024-10-16T08:00+07:00", START, START, pending, last_claim)


def test_an_occurrence_being_sent_is_not_stuck_however_long_it_takes(clock: FakeClock) -> None:
    clock.advance(timedelta(hours=5))  # long past its grace period...
    work = _work(last_claim=clock.now() - timedelta(minutes=2))  # ...but claimed from just now
    assert health.progress_finding(work, clock.now(), RULES) is None


def test_pending_rows_nobody_claims_are_a_finding(clock: FakeClock) -> None:
    clock.advance(timedelta(minutes=30))
    assert health.progress_finding(_work(), clock.now(), RULES) is None
    clock.advance(timedelta(minutes=15))
    finding = health.progress_finding(_work(), clock.now(), RULES)
    assert finding is not None
    assert (finding.rule, finding.campaign_id) == ("no-progress", "2g")
    assert finding.occurrence == "2024-10-16T08:00+07:00"
    assert finding.numbers["idle_minutes"] == 45 and finding.numbers["past_grace"] == 0
    assert "100 deliveries pending" in finding.message and "`dispatcher send`" in finding.message


def test_idle_time_counts_from_the_last_claim(clock: FakeClock) -> None:
    clock.advance(timedelta(hours=3))
    last = clock.now() - timedelta(minutes=40)
    finding = health.progress_finding(_work(last_claim=last), clock.now(), RULES)
    assert finding is not None
    assert finding.numbers["idle_minutes"] == 40
    assert finding.numbers["last_progress"] == last.isoformat()
    # Past its grace period, plain `send` no longer picks it up: the message says how to.
    assert finding.numbers["past_grace"] == 1
    assert "--occurrence 2024-10-16T08:00+07:00" in finding.message


def test_a_paused_campaign_is_expected_to_make_no_progress(clock: FakeClock) -> None:
    clock.advance(timedelta(days=2))
    assert health.progress_finding(_work("paused"), clock.now(), RULES) is None


def test_pending_rows_of_a_canceled_campaign_are_a_finding_at_once(clock: FakeClock) -> None:
    finding = health.progress_finding(_work("canceled", pending=3), clock.now(), RULES)
    assert finding is not None
    assert "canceled" in finding.message and "dispatcher cancel 2g" in finding.message


# -- error dominance -----------------------------------------------------------------------------
def test_one_error_code_dominating_recent_failures(clock: FakeClock) -> None:
    failures = [
        FailureCount("2g", 21614, 15),
        FailureCount("2g", 21211, 4),
        FailureCount("2g", None, 1),
    ]
    (finding,) = health.dominance_findings(failures, RULES)
    assert (finding.rule, finding.campaign_id) == ("error-dominance", "2g")
    assert finding.numbers == {"error_code": 21614, "count": 15, "failures": 20, "share": 0.75}
    assert "error 21614 in 15 of the last 20 failures" in finding.message
    assert "75%" in finding.message


@pytest.mark.parametrize(
    "failures",
    [
        [FailureCount("2g", 21614, 10), FailureCount("2g", 21211, 10)],  # exactly half: no
        [FailureCount("2g", 21614, 19)],  # all one code, but too few to prove anything
        [FailureCount("2g", None, 30)],  # no code at all: nothing to blame
    ],
)
def test_no_dominance(failures: list[FailureCount]) -> None:
    assert health.dominance_findings(failures, RULES) == []


def test_dominance_is_judged_per_campaign() -> None:
    failures = [
        FailureCount("a", 30008, 12),
        FailureCount("b", 30008, 12),
        FailureCount("b", 21211, 12),
    ]
    # a: 12 failures (too few); b: 24 failures, half each (not more than half).
    assert health.dominance_findings(failures, RULES) == []
    rules = Rules(error_min_failures=10)
    assert [f.campaign_id for f in health.dominance_findings(failures, rules)] == ["a"]


# -- silent workers ------------------------------------------------------------------------------
def test_a_silent_worker_holding_rows_is_a_finding_per_campaign(clock: FakeClock) -> None:
    worker = SilentWorker("w-1", "vanquan-pc", 4242, "send", START, {"b": 100, "a": 5})
    clock.advance(timedelta(minutes=5))
    assert health.silent_worker_findings(worker, clock.now(), RULES) == []
    clock.advance(timedelta(minutes=7))
    found = health.silent_worker_findings(worker, clock.now(), RULES)
    assert [(f.campaign_id, f.numbers["rows"]) for f in found] == [("a", 5), ("b", 100)]
    assert found[0].numbers["silent_minutes"] == 12
    assert "w-1" in found[0].message and "vanquan-pc" in found[0].message


# -- the report ----------------------------------------------------------------------------------
def test_findings_are_ordered_by_campaign_and_the_report_is_json(clock: FakeClock) -> None:
    clock.advance(timedelta(hours=1))
    snapshot = _snapshot(
        stuck_sending=[StuckRows("b", Status.SENDING, 1, START)],
        open_work=[_work()],
        failures=[FailureCount("2g", 21614, 25)],
    )
    found = health.findings(snapshot, clock.now(), RULES)
    assert [(f.campaign_id, f.rule) for f in found] == [
        ("2g", "error-dominance"),
        ("2g", "no-progress"),
        ("b", "stuck-sending"),
    ]
    data = HealthReport(clock.now(), found).as_json()
    assert data["status"] == "unhealthy"
    assert data["findings"][1] == {
        "campaign": "2g",
        "occurrence": "2024-10-16T08:00+07:00",
        "rule": "no-progress",
        "message": found[1].message,
        "numbers": dict(found[1].numbers),
    }
    json.dumps(data)  # serializable as it is


def test_an_unreadable_database_is_unhealthy(clock: FakeClock) -> None:
    report = health.unreadable(clock.now())
    assert not report.healthy
    assert report.findings == [Finding("database", None, "database unavailable", {})]


def test_a_halt_is_the_first_finding_and_silences_no_progress(clock: FakeClock) -> None:
    clock.advance(timedelta(hours=1))
    snapshot = _snapshot(
        stuck_sending=[StuckRows("b", Status.SENDING, 1, START)], open_work=[_work()]
    )
    halt = HaltState("sai số hotline", "lan", START + timedelta(minutes=50))
    found = health.findings(snapshot, clock.now(), RULES, halt)
    # The halt is why nothing moves: no-progress is not judged; stuck work still is.
    assert [(f.campaign_id, f.rule) for f in found] == [(None, "halted"), ("b", "stuck-sending")]
    assert found[0].message.startswith("sending is halted, for 10 min, by lan: sai số hotline;")
    assert found[0].numbers == {"by": "lan", "since": halt.since.isoformat(), "minutes": 10}
    without_reason = health.halt_finding(HaltState(None, "dispatcher", START), clock.now())
    assert "by dispatcher; no worker sends until `dispatcher unhalt`" in without_reason.message
    assert [f.rule for f in health.findings(snapshot, clock.now(), RULES)] == [
        "no-progress",
        "stuck-sending",
    ]
