"""The auditors' pages of ``dispatcher serve`` (issue 16), on SQLite and PostgreSQL: the log
with the filters of ``dispatcher log``, keyset paging, the exports (the CLI's very bytes), the
monthly report and its files, the log's verification, and who may open them."""

from __future__ import annotations

import asyncio
import html
import io
import logging
import re
import shutil
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import docx
import openpyxl
import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from sqlalchemy import Engine, select, text

import cli
from dispatcher.bootstrap import Runtime
from dispatcher.reports import audit_log, monthly
from dispatcher.reports.log_verify import Anchor, Verdict, verify_log
from dispatcher.sending import send as services
from dispatcher.store.models import DeliveryEventRow
from dispatcher.web import access
from dispatcher.web.audit_verify import VERIFIER
from dispatcher.web.service import build_app
from tests.fakes import FakeClock
from tests.integration.sending_setup import VN, simulator_runtime, vn, write_campaign, write_list
from tests.integration.test_airings import REPO
from tests.integration.test_audit_chain import _without_triggers

T = TypeVar("T")
Client = TestClient[Any, Any]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ROW = re.compile(r'<tr><td data-label="Thời gian">(.*?)</tr>', re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
SENDING = {"frequency_cap": {"max_messages": 1, "window_hours": 24}, "quiet_hours": "off"}
REASON = "frequency-cap: already 1 message(s) within 24 h"
FORMULA = '=HYPERLINK("http://x.example","bấm")'  # what a spreadsheet would run
UNIT = "UBND xã Tân Đoàn"
ROUTES = ["/audit", "/audit/log", "/audit/events", "/audit/log.csv", "/audit/log.xlsx",
          "/audit/events.csv", "/audit/events.xlsx", "/audit/report?month=2030-08",
          "/audit/report.docx?month=2030-08", "/audit/report.xlsx?month=2030-08",
          "/audit/report/chart.png?month=2030-08", "/audit/verify"]  # fmt: skip


@pytest.fixture
def rt(tmp_path: Path, engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """Campaign a sent to five on 01/08/2030 at 05:30 in Vietnam, b the next day at 05:00 to
    four, of whom two are at the frequency cap (skipped, with the reason); one error message
    of a looks like a formula."""
    shutil.copy(REPO / "units.yaml", tmp_path / "units.yaml")  # communes' tokens need it
    write_list(tmp_path, "first.csv", ["0912345678", "0987654321", "0905111222", "0905111333",
                                       "0905111444"])  # fmt: skip
    write_list(tmp_path, "second.csv", ["0912345678", "0987654321", "0977000111", "0977000222"])
    monkeypatch.chdir(tmp_path)
    clock = FakeClock(vn(1, 5, 30))
    rt = simulator_runtime(engine, db_url, clock, **SENDING)
    services.send(rt, write_campaign(tmp_path, "a", "first.csv"))
    clock.set(vn(2, 5))
    services.send(rt, write_campaign(tmp_path, "b", "second.csv"))
    with engine.begin() as conn:  # the outbox is no log: its rows change as they are sent
        conn.execute(text("UPDATE deliveries SET error_message = :m WHERE phone = :p AND "
                          "campaign_id = 'a'"), {"m": FORMULA, "p": "+84905111222"})  # fmt: skip
    clock.set(vn(20, 9))
    return rt


def serve(rt: Runtime, steps: Callable[[Client], Awaitable[T]]) -> T:
    async def main() -> T:
        async with TestClient(TestServer(build_app(rt, "auth-token"))) as client:
            return await steps(client)

    return asyncio.run(main())


def token(rt: Runtime, role: str, commune: str | None = None) -> str:
    return access.create_token(rt, role, f"Chị {role}", commune, None).secret


async def sign_in(client: Client, secret: str) -> str:
    """Open the login link; the session's CSRF token, from the page it leads to."""
    page = await client.get(f"/login?token={secret}")
    assert page.status == 200, await page.text()
    found = CSRF.search(await page.text())
    assert found is not None
    return found[1]


async def page(client: Client, path: str, status: int = 200) -> str:
    answer = await client.get(path)
    body = await answer.text()
    assert answer.status == status, (path, body)
    return html.unescape(body)


def rows(body: str) -> list[list[str]]:
    return [[html.unescape(c).strip() for c in CELL.findall("<td>" + row)]
            for row in ROW.findall(body)]  # fmt: skip


def as_auditor(rt: Runtime, steps: Callable[[Client], Awaitable[T]]) -> T:
    secret = token(rt, "auditor")

    async def signed_in(client: Client) -> T:
        await sign_in(client, secret)
        return await steps(client)

    return serve(rt, signed_in)


# -- the log -------------------------------------------------------------------------------------
def test_filters_narrow_the_log_as_the_command_does(rt: Runtime) -> None:
    async def steps(client: Client) -> dict[str, list[list[str]]]:
        queries = {"all": "", "skipped": "?status=skipped", "a": "?campaign=a",
                   "phone": "?phone=0912+345+678", "day2": "?from=02/08/2030&to=2030-08-02",
                   "month": "?month=07/2030", "unit": "?unit=tan+doan&status=skipped",
                   "events": "?phone=%2B84912345678"}  # fmt: skip
        path = {"events": "/audit/events"}
        return {k: rows(await page(client, path.get(k, "/audit/log") + q))
                for k, q in queries.items()}  # fmt: skip

    found = as_auditor(rt, steps)
    assert len(found["all"]) == 9
    assert [r[:5] for r in found["skipped"]] == [
        ["05:00 02/08/2030", "b", found["skipped"][0][2], "+84 91x xxx 678", "bỏ qua (skipped)"],
        ["05:00 02/08/2030", "b", found["skipped"][0][2], "+84 98x xxx 321", "bỏ qua (skipped)"],
    ]  # fmt: skip
    assert all(r[6] == REASON for r in found["skipped"])
    assert {r[1] for r in found["a"]} == {"a"} and len(found["a"]) == 5
    assert found["a"][0][0] == "05:30 01/08/2030"  # Vietnam's day, though UTC says 31/07
    assert [(r[1], r[4]) for r in found["phone"]] == [("a", "nhà cung cấp đã nhận (accepted)"),
                                                      ("b", "bỏ qua (skipped)")]  # fmt: skip
    assert {r[1] for r in found["day2"]} == {"b"} and len(found["day2"]) == 4
    assert found["month"] == [] and found["unit"] == found["skipped"]
    assert [(r[1], r[4].split(" (")[1]) for r in found["events"]] == [
        ("a", "pending)"), ("a", "sending)"), ("a", "accepted)"), ("b", "pending)"),
        ("b", "skipped)"),
    ]  # fmt: skip
    assert found["events"][-1][6] == REASON


def test_paging_visits_every_row_exactly_once_by_keyset(rt: Runtime) -> None:
    expected = [(v.campaign, v.occurrence, v.status)
                for v in audit_log.delivery_log(rt, audit_log.log_filter(VN))]  # fmt: skip
    events = [e.id for e in audit_log.delivery_events(rt, audit_log.log_filter(VN, campaign="a"))]
    with rt.uow() as uow:
        ids = [key for key, _ in uow.audit.delivery_page(audit_log.log_filter(VN), None, 100)]

    async def walk(client: Client, path: str) -> tuple[list[list[str]], list[str]]:
        seen, links = [], []
        while path:
            body = await page(client, path)
            found = rows(body)
            assert 1 <= len(found) <= 2, path
            seen += found
            following = re.search(r'<a href="([^"]+)" rel="next">', body)
            path = html.unescape(following[1]) if following else ""
            links += [path] if path else []
        return seen, links

    async def steps(client: Client) -> tuple[Any, ...]:
        return await walk(client, "/audit/log?n=2"), await walk(
            client, "/audit/events?campaign=a&n=2"
        )

    (shown, links), (history, event_links) = as_auditor(rt, steps)
    assert [(r[1], r[2], r[4].split("(")[1].rstrip(")")) for r in shown] == expected
    assert len(expected) == 9 and len(links) == 4  # pages of 2, 2, 2, 2, 1
    assert [int(re.findall(r"after=(\d+)", link)[0]) for link in links] == ids[1:9:2]
    assert all("n=2" in link and "offset" not in link for link in links)
    assert len(history) == len(events) == 15 and len(event_links) == 7  # 5 × 3 events
    assert all("campaign=a" in link for link in event_links)  # the filters go along


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?from=32/08/2030", "Từ ngày (from): '32/08/2030' is not a day like 05/12/2024"),
        ("?campaign=z", "Chiến dịch (campaign): unknown campaign 'z' (campaigns: a, b)"),
        ("?status=lost", "Trạng thái (status): unknown status 'lost' (one of pending, "),
        ("?month=08/2030&from=01/08/2030", "Tháng (month): give --month or --from/--to"),
        ("?phone=12", "Số điện thoại (phone): '12': "),
        ("?unit=Hà+Nội", "Đơn vị (unit): no campaign is run by 'Hà Nội'"),
        ("?from=02/08/2030&to=01/08/2030", "Đến ngày (to): --to is before --from"),
        ("?after=x", "Trang sau (after): 'x' is not a row number"),
        ("?n=0", "Số dòng mỗi trang (n): '0' is not a number from 1 to 1000"),
    ],
)  # fmt: skip
def test_bad_filters_are_400_naming_the_field(rt: Runtime, query: str, expected: str) -> None:
    async def steps(client: Client) -> list[str]:
        answers = [await page(client, "/audit/log" + query, 400)]
        if "after" not in query and "n=" not in query:  # the exports check the filters first
            answers += [await page(client, "/audit/events" + query, 400),
                        await page(client, "/audit/log.csv" + query, 400),
                        await page(client, "/audit/events.xlsx" + query, 400)]  # fmt: skip
        return answers

    for body in as_auditor(rt, steps):
        assert "Bộ lọc không hợp lệ" in body and expected in body
        assert "Traceback" not in body and '<form class="filters"' in body  # the page again


# -- exports -------------------------------------------------------------------------------------
def _cli(db_url: str, *args: str) -> bytes:
    """What ``dispatcher ARGS --out FILE`` writes, run by click against the same database."""
    out = Path("cli-export")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        env = {"DISPATCHER_DB_URL": db_url, "DISPATCHER_CONFIG": None}
        result = CliRunner().invoke(cli.main, [*args, "--out", str(out)], env=env)
    finally:  # the command set up logging to the runner's stream, closed now
        root.handlers[:], root.level = handlers, level
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    out.unlink()
    return data


def test_the_csv_is_the_command_s_own_bytes_formulas_neutralised(rt: Runtime, db_url: str) -> None:
    async def steps(client: Client) -> list[tuple[int, dict[str, str], bytes]]:
        answers = []
        for path in ("/audit/log.csv?campaign=a", "/audit/events.csv?status=skipped",
                     "/audit/log.csv"):  # fmt: skip
            answer = await client.get(path)
            answers.append((answer.status, dict(answer.headers), await answer.read()))
        return answers

    (status, headers, deliveries), (_, _, skipped), (_, _, everything) = as_auditor(rt, steps)
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"].startswith('attachment; filename="nhat-ky-giao-nhan.csv"')
    assert deliveries.startswith("\ufeffcampaign,occurrence,to,".encode())
    assert deliveries == _cli(db_url, "log", "--campaign", "a", "--format", "csv")
    assert skipped == _cli(db_url, "log", "events", "--status", "skipped", "--format", "csv")
    assert everything == _cli(db_url, "log", "--format", "csv")
    text_csv = deliveries.decode("utf-8-sig")
    assert "'" + FORMULA.replace('"', '""') in text_csv  # quoted by CSV, defused by the '
    assert ',"=HYPERLINK' not in text_csv and "+84905111222" in text_csv  # numbers whole


def test_the_workbook_opens_and_has_the_rows(rt: Runtime) -> None:
    async def steps(client: Client) -> tuple[int, str, bytes, bytes]:
        answer = await client.get("/audit/log.xlsx?campaign=a")
        events = await client.get("/audit/events.xlsx?status=skipped")
        return (answer.status, answer.headers["Content-Disposition"], await answer.read(),
                await events.read())  # fmt: skip

    status, disposition, data, events = as_auditor(rt, steps)
    assert status == 200 and 'filename="nhat-ky-giao-nhan.xlsx"' in disposition
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["Giao nhận"]
    found = list(sheet.iter_rows(values_only=True))
    assert list(found[0]) == audit_log.LOG_FIELDS and len(found) == 6
    assert {r[0] for r in found[1:]} == {"a"} and found[1][2] == "+84912345678"
    assert "'" + FORMULA in [r[7] for r in found[1:]]  # a text cell, never a formula
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    history = list(
        openpyxl.load_workbook(io.BytesIO(events))["Nhật ký"].iter_rows(values_only=True)
    )
    assert [r[5] for r in history[1:]] == ["skipped", "skipped"] and history[1][9] == REASON


# -- the monthly report --------------------------------------------------------------------------
def test_the_report_shows_each_unit_s_rows_its_chart_head_and_files(rt: Runtime) -> None:
    async def steps(client: Client) -> tuple[Any, ...]:
        expected = monthly.monthly(rt, "2030-08")  # signed in: the chain's head as the page's
        body = await page(client, "/audit/report?month=08/2030")
        files = {}
        for name in ("report.docx", "report.xlsx", "report/chart.png"):
            answer = await client.get(f"/audit/{name}?month=2030-08&unit=T%C3%A2n+%C4%90o%C3%A0n")
            assert answer.status == 200, name
            files[name] = (answer.headers["Content-Disposition"], await answer.read())
        bad = await page(client, "/audit/report?month=13/2030", 400)
        return expected, body, files, bad

    expected, body, files, bad = as_auditor(rt, steps)
    at, head = expected.chain_head
    assert f"<h2>{UNIT}</h2>" in body and "Tin nhắn SMS" in body
    assert f"{expected.rows[0].count} tin" in body and len(expected.rows) == 1
    assert f"bản ghi <strong>{at}</strong>" in body and head in body
    assert 'src="/audit/report/chart.png?month=2030-08"' in body
    assert 'href="/audit/report.docx?month=2030-08"' in body
    disposition, document = files["report.docx"]
    named = unquote(disposition.split("filename*=UTF-8''")[1])
    assert named == f"bao-cao-2030-08 {UNIT}.docx"
    assert 'filename="bao-cao-2030-08-UBND-xa-Tan-Doan.docx"' in disposition
    words = "\n".join(c.text for t in docx.Document(io.BytesIO(document)).tables
                      for r in t.rows for c in r.cells)  # fmt: skip
    assert UNIT in words and "Tin nhắn SMS" in words
    book = openpyxl.load_workbook(io.BytesIO(files["report.xlsx"][1]))
    assert UNIT in [row[1] for row in book["Tổng hợp"].iter_rows(values_only=True)]
    chart_disposition, png = files["report/chart.png"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and chart_disposition.startswith("inline;")
    assert "Tháng (month): '13/2030' is not a month like 2024-10 or 10/2024" in bad


# -- the log's verification ----------------------------------------------------------------------
async def _verified(client: Client, csrf: str, **fields: str) -> str:
    """Press the button, then reload the page until the verification is done."""
    pressed = await client.post("/audit/verify", data={"csrf": csrf, **fields},
                                allow_redirects=False)  # fmt: skip
    assert pressed.status == 303, await pressed.text()
    return await _settled(client)


async def _settled(client: Client) -> str:
    """The page once no verification runs."""
    for _ in range(400):
        body = await page(client, "/audit/verify")
        if "Đang kiểm tra" not in body:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("the verification did not end")


def test_verify_shows_intact_then_the_first_record_tampered(rt: Runtime, engine: Engine) -> None:
    with rt.uow() as uow:
        printed_at, printed = uow.chain.head()  # as a report filed earlier printed it
        target = uow.repo.session.scalar(select(DeliveryEventRow.id).order_by(DeliveryEventRow.id))
    secret = token(rt, "auditor")

    async def steps(client: Client) -> tuple[Any, ...]:
        csrf = await sign_in(client, secret)
        with rt.uow() as uow:
            head = uow.chain.head()  # signing in is in the activity log: chained too
        before = await page(client, "/audit/verify")
        intact = await _verified(client, csrf, head=printed, at=str(printed_at))
        start = await page(client, "/audit")
        _without_triggers(engine, "delivery_log",
                          f"UPDATE delivery_log SET detail = 'x' WHERE id = {target}")  # fmt: skip
        broken = await _verified(client, csrf)
        return head, before, intact, start, broken

    (at, head), before, intact, start, broken = serve(rt, steps)
    assert "Chưa kiểm tra lần nào" in before
    assert f"<strong>Nhật ký nguyên vẹn</strong>: {at} bản ghi" in intact
    assert f'vị trí <strong>{at}</strong>, mã <span class="hash">{head}</span>' in intact
    assert f'vị trí {printed_at}, mã <span class="hash">{printed}</span>' in intact
    assert "— khớp." in intact and "do auditor:Chị auditor (token " in intact
    assert "nhật ký nguyên vẹn" in start
    assert "Nhật ký đã bị thay đổi" in broken and "Nhật ký nguyên vẹn" not in broken
    assert f"<strong>delivery_log</strong>, bản ghi id <strong>{target}</strong>" in broken
    assert "its content does not hash to the chained value" in broken


def test_one_verification_at_a_time_and_the_page_reloads_while_it_runs(rt: Runtime) -> None:
    release, calls = threading.Event(), []

    def held(rt: Runtime, expected: Anchor | None, jobs: int) -> Verdict:
        calls.append(expected)
        assert release.wait(10)
        return verify_log(rt, expected, jobs)

    secret = token(rt, "operator")

    async def steps(client: Client) -> tuple[Any, ...]:
        client.app[VERIFIER].verify = held
        csrf = await sign_in(client, secret)
        first = await client.post("/audit/verify", data={"csrf": csrf}, allow_redirects=False)
        second = await client.post("/audit/verify", data={"csrf": csrf}, allow_redirects=False)
        busy = await page(client, second.headers["Location"])
        release.set()
        return first.headers["Location"], busy, await _settled(client)

    first, busy, done = serve(rt, steps)
    assert first == "/audit/verify" and "Đang kiểm tra…" in busy
    assert '<meta http-equiv="refresh" content="2">' in busy
    assert "đang chạy: không bắt đầu thêm" in busy and "Kiểm tra ngay</button>" not in busy
    assert calls == [None] and "Nhật ký nguyên vẹn" in done  # the second press ran nothing
    assert '<meta http-equiv="refresh"' not in done and "Kiểm tra ngay</button>" in done


def test_a_bad_printed_head_is_400_naming_it(rt: Runtime) -> None:
    async def steps(client: Client) -> list[str]:
        csrf = CSRF.findall(await page(client, "/audit/verify"))[0]
        answers = []
        for fields in ({"head": "abc", "at": "3"}, {"head": "a" * 64, "at": "x"}, {"at": "3"}):
            answer = await client.post("/audit/verify", data={"csrf": csrf, **fields})
            assert answer.status == 400
            answers.append(html.unescape(await answer.text()))
        return answers

    bad_hash, bad_at, alone = as_auditor(rt, steps)
    assert "Mã đầu chuỗi (head): 'abc' is not a SHA-256 hash (64 hex digits)" in bad_hash
    assert "Vị trí (at): 'x' is not a position (a whole number)" in bad_at
    assert "Mã đầu chuỗi (head): give --head and --at together" in alone
    assert 'name="head" value="abc"' in bad_hash  # the form again, as it was filled


# -- who may -------------------------------------------------------------------------------------
def test_communes_get_403_on_every_audit_route_operators_see_them(rt: Runtime) -> None:
    commune, operator = token(rt, "commune", "Tân Đoàn"), token(rt, "operator")

    async def statuses(client: Client, secret: str | None) -> list[int]:
        csrf = await sign_in(client, secret) if secret else ""
        found = [(await client.get(path)).status for path in ROUTES]
        posted = await client.post("/audit/verify", data={"csrf": csrf}, allow_redirects=False)
        return [*found, posted.status]

    async def steps(client: Client) -> tuple[list[int], ...]:
        nobody = await statuses(client, None)
        communes = await statuses(client, commune)
        client.session.cookie_jar.clear()
        return nobody, communes, await statuses(client, operator)

    nobody, communes, operators = serve(rt, steps)
    assert nobody == communes == [403] * (len(ROUTES) + 1)
    assert operators == [200] * len(ROUTES) + [303]


def test_an_auditor_runs_the_check_but_changes_nothing(rt: Runtime) -> None:
    async def steps(client: Client) -> list[int]:
        csrf = CSRF.findall(await page(client, "/audit/verify"))[0]
        form = {"csrf": csrf, "campaign": "a", "at": "2030-08-01T05:30:00+07:00"}
        return [
            (await client.post("/c/06307/confirm", data=form)).status,  # data: refused
            (await client.post("/c/06307/undo", data=form)).status,
            (await client.post("/audit/verify", data={})).status,  # no CSRF token
            (await client.post("/audit/verify", data={"csrf": csrf}, allow_redirects=False)).status,
            (await client.post("/audit/log", data={"csrf": csrf})).status,  # not a POST route
        ]

    assert as_auditor(rt, steps) == [403, 403, 403, 303, 405]
