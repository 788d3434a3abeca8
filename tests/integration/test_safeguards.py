"""The safeguards before a blast, on SQLite and PostgreSQL through the real twilio client to the
private simulator: test sends to staff numbers only (never in reports, never capped), the
two-person rule bound to the campaign's version, and the confirmation of a real-gateway send.

Whether the gateway is real is the caller's answer here (``real=True``); which gateways are
real has its own tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from dispatcher.auth.operators import digest
from dispatcher.bootstrap import Runtime
from dispatcher.core.errors import BadInput, Declined
from dispatcher.core.outbox import LogFilter
from dispatcher.core.status import Status
from dispatcher.reports import monthly as reports
from dispatcher.sending import approval, planning
from dispatcher.sending import send as services
from dispatcher.sending import trial as trial_send
from dispatcher.settings.config import Settings
from dispatcher.store.models import DeliveryRow, OccurrenceRow
from tests.fakes import FakeClock
from tests.integration.sending_setup import counts, simulator_runtime, vn, write_list

STAFF = ["0912 000 001", "0912 000 002"]
NUMBERS = [f"0987{i:06d}" for i in range(5)]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_list(tmp_path, "a.csv", NUMBERS)
    rows = "phone,name\n" + "".join(f"{n},Người {i + 1}\n" for i, n in enumerate(NUMBERS))
    (tmp_path / "lists" / "named.csv").write_text(rows, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _campaign(folder: Path, list_name: str = "a.csv", *extra: str) -> Path:
    path = folder / "c.yaml"
    lines = ["id: thu", "title: Thử", "unit: UBND xã Tân Đoàn", *extra, "sms:",
             "  text: 'Xin chào {{ name | default(\"bạn\") }}'",
             f"  recipients: [lists/{list_name}]"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _runtime(
    engine: Engine, db_url: str, operator: str = "lan", clock: FakeClock | None = None, **extra: Any
) -> Runtime:
    clock = clock or FakeClock(vn(1, 10))
    base = simulator_runtime(engine, db_url, clock)
    data = base.settings.model_dump() | extra
    data["sending"] = data["sending"] | {"test_numbers": STAFF}
    data["approval"] = extra.get("approval", {"above_recipients": 2})
    settings = Settings.model_validate(data)
    return Runtime(settings, base.engine, base.uow, clock, {"DISPATCHER_OPERATOR": operator})


def _log(rt: Runtime) -> list[tuple[str, str]]:
    with rt.uow() as uow:
        return [(v.occurrence, v.to) for v in uow.audit.deliveries(LogFilter("thu", None, None))]


# -- test sends ---------------------------------------------------------------------------------
def test_a_test_send_goes_to_the_staff_numbers_only(
    folder: Path, engine: Engine, db_url: str
) -> None:
    clock = FakeClock(vn(1, 10))
    rt = _runtime(engine, db_url, clock=clock)
    report = trial_send.send_test(rt, _campaign(folder, "named.csv"))
    assert counts(report) == {Status.ACCEPTED: 2}
    assert report.runs[0].key == "test-20300801T100000"
    with rt.uow() as uow:
        views = list(uow.audit.deliveries(LogFilter("thu", None, None)))
    assert sorted(v.to for v in views) == ["+84912000001", "+84912000002"]
    bodies = _bodies(rt)
    assert bodies == {"+84912000001": "Xin chào Người 1", "+84912000002": "Xin chào Người 2"}

    clock.advance(timedelta(minutes=1))
    trial_send.send_test(rt, _campaign(folder, "named.csv"), as_row=4)
    assert set(_bodies(rt, "test-20300801T100100").values()) == {"Xin chào Người 4"}

    month = reports.monthly(rt, "2030-08")
    assert [r for r in month.rows if r.form.startswith("Tin")] == []  # tests are not counted


def _bodies(rt: Runtime, key: str = "test-20300801T100000") -> dict[str, str]:
    with rt.uow() as uow:
        query = (
            select(DeliveryRow.phone, DeliveryRow.body)
            .join(OccurrenceRow, OccurrenceRow.id == DeliveryRow.occurrence_id)
            .where(OccurrenceRow.key == key, OccurrenceRow.test.is_(True))
        )
        return {phone: body for phone, body in uow.repo.session.execute(query)}


def test_a_test_send_needs_test_numbers_and_an_existing_row(
    folder: Path, engine: Engine, db_url: str
) -> None:
    rt = _runtime(engine, db_url)
    with pytest.raises(BadInput) as beyond:
        trial_send.send_test(rt, _campaign(folder), as_row=6)
    assert str(beyond.value) == "--as-row: there is no recipient number 6"
    bare = Settings.model_validate(rt.settings.model_dump() | {"sending": {"test_numbers": []}})
    nobody = Runtime(bare, rt.engine, rt.uow, rt.clock, {})
    with pytest.raises(BadInput) as missing:
        trial_send.send_test(nobody, _campaign(folder))
    assert missing.value.problems[0].field == "sending.test_numbers"
    assert _log(rt) == []  # nothing was written


# -- the two-person rule and the confirmation -----------------------------------------------------
def _preflight(rt: Runtime, path: Path, answer: bool | None = True) -> None:
    prepared = services.prepare_campaign(path)
    confirm = None if answer is None else (lambda _preview: answer)
    approval.preflight(rt, prepared, True, confirm)


def test_a_big_real_send_needs_a_second_operators_approval(
    folder: Path, engine: Engine, db_url: str
) -> None:
    lan, minh = _runtime(engine, db_url, "lan"), _runtime(engine, db_url, "minh")
    path = _campaign(folder)
    with pytest.raises(BadInput, match="need approval"):
        _preflight(lan, path)
    approved = approval.approve(minh, path)
    assert (approved.approver, approved.recipients) == ("minh", 5)
    _preflight(lan, path)  # approved by someone else: lan may send
    with pytest.raises(BadInput, match="minh approved this campaign and cannot also send it"):
        _preflight(minh, path)


def test_an_edit_voids_the_approval_and_plan_says_so(
    folder: Path, engine: Engine, db_url: str
) -> None:
    lan, minh = _runtime(engine, db_url, "lan"), _runtime(engine, db_url, "minh")
    path = _campaign(folder)
    approval.approve(minh, path)
    plan = planning.plan(path, lan.clock.now(), lan.settings)
    assert plan.approval is not None and plan.approval.approver is None  # plan: not real here
    write_list(folder, "a.csv", [*NUMBERS, "0987999999"])  # one more recipient
    with pytest.raises(BadInput, match="the approval by minh is void: the campaign changed"):
        _preflight(lan, path)
    write_list(folder, "a.csv", NUMBERS)
    _preflight(lan, path)  # the approved version again
    path.write_text(path.read_text(encoding="utf-8").replace("Xin chào", "Chào"), "utf-8")
    with pytest.raises(BadInput, match="void"):
        _preflight(lan, path)


def test_the_author_cannot_approve_and_operators_must_be_known(
    folder: Path, engine: Engine, db_url: str
) -> None:
    path = _campaign(folder, "a.csv", "author: lan")
    with pytest.raises(BadInput, match="lan wrote this campaign"):
        approval.approve(_runtime(engine, db_url, "lan"), path)
    known = {"approval": {"operators": ["lan", "minh"], "above_recipients": 2}}
    with pytest.raises(BadInput, match="'khach' is not one of the operators"):
        approval.approve(_runtime(engine, db_url, "khach", **known), path)


def test_a_real_send_is_confirmed_or_refused(folder: Path, engine: Engine, db_url: str) -> None:
    small = {"approval": {"above_recipients": 100}}  # no approval needed: only the prompt
    rt = _runtime(engine, db_url, "lan", **small)
    path = _campaign(folder)
    with pytest.raises(BadInput) as refused:
        _preflight(rt, path, answer=None)  # no terminal, no --yes
    assert refused.value.problems[0].field == "--yes"
    with pytest.raises(Declined):
        _preflight(rt, path, answer=False)
    seen: list[approval.SendPreview] = []
    prepared = services.prepare_campaign(path)
    approval.preflight(rt, prepared, True, lambda p: seen.append(p) or True)
    (preview,) = seen
    assert (preview.recipients, preview.segments, preview.first_message) == (5, 5, "Xin chào bạn")
    assert preview.cost == 0.0 and preview.approval.needed is False
    assert _log(rt) == []  # nothing is written before the answer


def test_a_send_through_the_simulator_asks_nothing(
    folder: Path, engine: Engine, db_url: str
) -> None:
    rt = _runtime(engine, db_url)
    report = approval.guarded_send(rt, _campaign(folder), None, None, None)
    assert counts(report) == {Status.ACCEPTED: 5}


def test_a_real_send_from_an_unregistered_sender_is_refused_before_anything_is_written(
    folder: Path, engine: Engine, db_url: str
) -> None:
    rt = _runtime(engine, db_url, gateway="twilio", gateway_is_real=True,
                  carriers={"registered_senders": ["VANQUAN"]})  # fmt: skip
    env = {"DISPATCHER_OPERATOR": "lan", "TWILIO_API_BASE_URL": "http://127.0.0.1:9"}
    real = Runtime(rt.settings, rt.engine, rt.uow, rt.clock, env)
    path = _campaign(folder)
    path.write_text(path.read_text(encoding="utf-8") + "  sender: KHAC\n", encoding="utf-8")
    with pytest.raises(BadInput, match="KHAC"):
        approval.guarded_send(real, path, None, None, lambda _preview: True)
    assert _log(rt) == []


def test_with_operator_keys_the_sender_too_is_who_their_key_says(
    folder: Path, engine: Engine, db_url: str
) -> None:
    keys = {"approval": {"above_recipients": 2, "operator_keys": {
        "lan": digest("lans-own-key"), "minh": digest("minhs-own-key")}}}  # fmt: skip
    path = _campaign(folder)

    def as_(name: str, key: str) -> Runtime:
        rt = _runtime(engine, db_url, name, **keys)
        return replace(rt, environ={**rt.environ, "DISPATCHER_OPERATOR_KEY": key})

    approval.approve(as_("minh", "minhs-own-key"), path)
    # The approver cannot send by calling themselves lan: the name needs lan's key.
    with pytest.raises(BadInput, match="DISPATCHER_OPERATOR_KEY is not lan's key"):
        _preflight(as_("lan", "minhs-own-key"), path)
    _preflight(as_("lan", "lans-own-key"), path)  # lan, really: may send
