"""`dispatcher log verify` as an auditor uses it: the head a report prints, checked later; a
record changed behind the service's back is named, exit 1; bad options exit 2."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dispatcher.store.db import make_engine
from tests.acceptance.conftest import Workspace
from tests.integration.test_audit_chain import _without_triggers

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ANCHOR = re.compile(r"Sổ nhật ký đến bản ghi (\d+), mã ([0-9a-f]{64}) ")


def _run(workspace: Workspace, code: int, *args: str) -> str:
    result = workspace.run(*args)
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout + result.stderr


def test_a_report_anchors_the_log_and_an_edit_is_named(workspace: Workspace, db_url: str) -> None:
    day = (datetime.now(VN) - timedelta(days=1)).date()
    for count in ("2", "3"):
        _run(workspace, 0, "activity", "add", "--unit", "Tan Doan", "--form", "meeting",
             "--count", count, "--date", day.strftime("%d/%m/%Y"))  # fmt: skip
    report = _run(workspace, 0, "report", "monthly", "--month", day.strftime("%Y-%m"))
    found = ANCHOR.search(report)
    assert found is not None, report
    at, head = found[1], found[2]
    assert int(at) >= 2
    assert _run(workspace, 0, "log", "verify") == (
        f"The logs are intact: {at} records chained.\nChain head: position {at}, hash {head}\n"
    )
    _run(workspace, 0, "log", "verify", "--head", head, "--at", at)

    engine = make_engine(db_url)
    try:
        _without_triggers(engine, "outreach_activities",
                          "UPDATE outreach_activities SET count = 20 WHERE count = 2")  # fmt: skip
    finally:
        engine.dispose()
    out = _run(workspace, 1, "log", "verify")
    assert "The logs were changed: outreach_activities id 1 (chain position" in out
    assert "edited" in out


def test_bad_anchors_are_exit_2(workspace: Workspace) -> None:
    assert "--at" in _run(workspace, 2, "log", "verify", "--head", "ab" * 32)
    assert "64 hex digits" in _run(workspace, 2, "log", "verify", "--head", "xyz", "--at", "3")
    assert "1 or more" in _run(workspace, 2, "log", "verify", "--head", "ab" * 32, "--at", "0")
