"""The three roles end to end in headless Chromium (issue 16): a real `dispatcher serve` on SQLite
with its built-in simulator (latency on), tokens made by `dispatcher token create` processes.

Each role signs in (the form, or the commune's link) and lands on its page; an auditor filters
the log, pages through it, downloads the CSV and reads the monthly report; an operator pauses a
campaign that sends slowly, sees the sending stop and resumes it to the end; a commune presses
"Đã phát" and the auditor's report counts one airing more; and each role is refused what it may
not do (the Vietnamese 403 page, nothing changed).

One service for the module: the tests share it, each one reading what it changes afresh (before
and after), so any of them can run alone.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import Engine, func, select

from dispatcher.store.db import make_engine
from dispatcher.store.models import (
    AiringConfirmationRow,
    CampaignRow,
    DeliveryEventRow,
    DeliveryRow,
)
from tests.acceptance.conftest import DISPATCHER, REPO, Workspace, _base_env
from tests.acceptance.test_commune_page import SCRIPT_TEXT
from tests.acceptance.test_serve import _free_port

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SAMPLE = "campaigns/2g-shutdown-2024.yaml"
SAMPLE_ID, SAMPLE_RECIPIENTS = "2g-shutdown-2024", 272
OTHER_ID, OTHER_RECIPIENTS = "thu-nhanh", 30  # a second campaign in the log, filtered out
SLOW_ID, SLOW_RECIPIENTS, SLOW_RATE = "thu-cham", 80, 5  # 16 s of sending at 5 a second
PAGE_ROWS = 100  # the log's rows per page
HOME_CODE, OTHER_CODE = "06307", "06313"  # Xã Tân Đoàn, whose token we make; Xã Tri Lễ
WAIT_S = 15  # explicit waits for a page or a download
REFUSED_TITLE = "Không mở được trang"
SIGNED_OUT = "Chưa đăng nhập hoặc phiên đăng nhập đã hết."
NOT_YOURS = "Tài khoản này không có quyền dùng trang này."
WRONG_UNIT = "Đường dẫn không đúng hoặc không có quyền xem trang này."
AIRED_FORM = "Phát thanh trên loa truyền thanh cơ sở"
T = TypeVar("T")


@dataclass
class Site:
    """The running service, its workspace and the tokens of each role."""

    ws: Workspace
    base: str
    engine: Engine
    operator: str
    auditor: str
    commune: str  # Xã Tân Đoàn's

    def url(self, path: str) -> str:
        return self.base + path


# -- the service ---------------------------------------------------------------------------------
def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _numbers(prefix: str, n: int) -> str:
    return "phone\n" + "".join(f"{prefix}{i:05d}\n" for i in range(n))


def _sms_campaign(ws: Workspace, campaign_id: str, n: int, prefix: str, extra: str = "") -> str:
    ws.write(f"campaigns/lists/{campaign_id}.csv", _numbers(prefix, n))  # 10 digits
    path = ws.write(
        f"campaigns/{campaign_id}.yaml",
        f"id: {campaign_id}\ntitle: Thử {campaign_id}\nunit: UBND huyện Văn Quan\n"
        "sms:\n  text: Xin chao\n  encoding: ascii\n  sender: VANQUAN\n"
        f"  recipients: [lists/{campaign_id}.csv]\n{extra}",
    )
    return str(path)


def _workspace(root: Path, port: int) -> Workspace:
    shutil.copytree(REPO / "campaigns", root / "campaigns")
    shutil.copy(REPO / "units.yaml", root / "units.yaml")
    shutil.copytree(REPO / "audio" / "templates", root / "audio" / "templates")
    config = {
        "database_url": f"sqlite:///{root / 'dispatcher.sqlite3'}", "gateway": "simulator",
        "output_dir": "out", "carriers": {"registered_senders": ["VANQUAN"]},
        # Fast for the campaigns sent before the service starts; the slow one sets its own
        # rate. Small batches: a pause finds most of the slow campaign still unclaimed.
        "sending": {"rate_per_sender": 100_000, "burst_segments": 1000, "batch_size": 4,
                    "quiet_hours": "off", "unknown_settle_seconds": 0},
        "simulator": {"latency_ms": 100},  # every request in flight a while, as a carrier's
        "scheduler": {"interval_s": 1},  # a campaign file written now is sent within a second
        "http": {"port": port},
    }  # fmt: skip
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return Workspace(root, _base_env() | {"DISPATCHER_CONFIG": str(path)})


def _airing_today(ws: Workspace) -> str:
    """A broadcast in Xã Tân Đoàn at 00:01 today: past, so it can be confirmed."""
    today = datetime.now(VN).date().isoformat()
    path = ws.write(
        "campaigns/loa-hom-nay.yaml",
        "id: loa-hom-nay\ntitle: Thử loa hôm nay\nunit: UBND huyện Văn Quan\nbroadcast:\n"
        "  communes: [Xã Tân Đoàn]\n  times: ['00:01']\n"
        f"  start: {today}\n  end: {today}\n  script: '{SCRIPT_TEXT}'\n",
    )
    return str(path)


def _token(ws: Workspace, role: str, name: str, *more: str) -> str:
    """`dispatcher token create` as a process; its token."""
    out = _ok(ws.run_process("token", "create", "--role", role, "--name", name, *more))
    (token,) = [line.removeprefix("Token: ") for line in out.splitlines() if "Token: " in line]
    return token


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("roles")
    port = _free_port()
    ws = _workspace(root, port)
    _ok(ws.run("send", SAMPLE, "--occurrence", "demo"))  # the built-in simulator, before serve
    _ok(ws.run("send", _sms_campaign(ws, OTHER_ID, OTHER_RECIPIENTS, "09140"), "--occurrence",
               "demo"))  # fmt: skip
    _ok(ws.run("broadcast", "scripts", _airing_today(ws)))
    tokens = (
        _token(ws, "operator", "Anh Minh"),
        _token(ws, "auditor", "Chị Lan"),
        _token(ws, "commune", "Anh Tú", "--commune", "Tân Đoàn"),
    )
    log = (root / "serve.log").open("w", encoding="utf-8")
    serve = subprocess.Popen(
        [DISPATCHER, "serve"], cwd=root, env=ws.env, stdout=subprocess.PIPE, stderr=log,
        text=True,
    )  # fmt: skip
    engine = make_engine(f"sqlite:///{root / 'dispatcher.sqlite3'}")
    try:
        assert serve.stdout is not None
        first = serve.stdout.readline()
        assert first.startswith(f"Listening on http://127.0.0.1:{port}"), first + _log(ws)[-5000:]
        yield Site(ws, f"http://127.0.0.1:{port}", engine, *tokens)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=30) == 0, _log(ws)[-5000:]
        assert "Traceback" not in _log(ws)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait(timeout=10)
        if serve.stdout:
            serve.stdout.close()
        log.close()
        engine.dispose()


def _log(ws: Workspace) -> str:
    return (ws.root / "serve.log").read_text(encoding="utf-8")


# -- the browser ---------------------------------------------------------------------------------
def _wait(browser: WebDriver, until: Callable[[WebDriver], T], timeout_s: float = WAIT_S) -> T:
    return WebDriverWait(browser, timeout_s).until(until)


def _at(browser: WebDriver, path: str) -> None:
    """Wait for the page at ``path`` (a click's answer may come after click() returns)."""
    _wait(browser, lambda b: b.current_url.split("?")[0].endswith(path))


def _body(browser: WebDriver) -> str:
    return browser.find_element(By.TAG_NAME, "body").text


def _button(browser: WebDriver, label: str) -> WebElement:
    return browser.find_element(By.XPATH, f"//button[normalize-space()='{label}']")


def _paste_token(browser: WebDriver, site: Site, token: str) -> None:
    """Sign out, then paste ``token`` into the sign-in form and send it."""
    browser.delete_all_cookies()
    browser.get(site.url("/login"))
    assert browser.title == "Đăng nhập"
    browser.find_element(By.ID, "token").send_keys(token)
    _button(browser, "Đăng nhập").click()


def _sign_in_with_form(browser: WebDriver, site: Site, token: str) -> None:
    _paste_token(browser, site, token)
    _wait(browser, lambda b: "/login" not in b.current_url)


def _sign_in_with_link(browser: WebDriver, site: Site, token: str) -> None:
    browser.delete_all_cookies()
    browser.get(site.url(f"/login?token={token}"))
    _wait(browser, lambda b: "token=" not in b.current_url)


def _status(browser: WebDriver, url: str, data: bytes | None = None) -> int:
    """The HTTP status of ``url`` asked with the browser's cookies (Selenium does not say)."""
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    request = urllib.request.Request(url, data, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=WAIT_S) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def _refused(browser: WebDriver, message: str) -> None:
    """The Vietnamese 403 page, saying ``message``."""
    assert browser.title == REFUSED_TITLE, browser.title
    assert browser.find_element(By.CSS_SELECTOR, "p.error").text.startswith(message)


def _csrf(browser: WebDriver) -> str:
    """The session's CSRF token, as every signed-in page carries it (the sign-out form)."""
    return (
        browser.find_element(By.CSS_SELECTOR, "form.nav input[name=csrf]").get_attribute("value")
        or ""
    )


def _post_by_hand(browser: WebDriver, action: str, fields: dict[str, str]) -> None:
    """Post a form the page does not offer, built in the page, with the session's CSRF token:
    what someone would try when the button is not there."""
    browser.execute_script(
        "const form = document.createElement('form');"
        "form.method = 'post'; form.action = arguments[0];"
        "for (const [name, value] of Object.entries(arguments[1])) {"
        "  const input = document.createElement('input');"
        "  input.type = 'hidden'; input.name = name; input.value = value; form.append(input); }"
        "document.body.append(form); form.submit();",
        action,
        {"csrf": _csrf(browser), **fields},
    )
    _at(browser, action)


# -- the database, as the service leaves it ------------------------------------------------------
def _deliveries(site: Site, campaign_id: str) -> Counter[str]:
    query = select(DeliveryRow.status, func.count()).where(DeliveryRow.campaign_id == campaign_id)
    with site.engine.connect() as connection:
        rows = connection.execute(query.group_by(DeliveryRow.status))
        return Counter({status: int(n) for status, n in rows})


def _claims_made(site: Site, campaign_id: str) -> int:
    """`sending` events in the delivery log: one each time a sender claimed a delivery."""
    query = select(func.count()).where(
        DeliveryEventRow.campaign_id == campaign_id, DeliveryEventRow.status == "sending"
    )
    with site.engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def _state(site: Site, campaign_id: str) -> str | None:
    with site.engine.connect() as connection:
        query = select(CampaignRow.state).where(CampaignRow.id == campaign_id)
        return connection.scalar(query)


def _confirmations(site: Site) -> int:
    with site.engine.connect() as connection:
        return int(connection.scalar(select(func.count(AiringConfirmationRow.id))) or 0)


def _until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


# -- signing in ----------------------------------------------------------------------------------
def test_each_role_signs_in_and_lands_on_its_page(site: Site, browser: WebDriver) -> None:
    browser.set_window_size(1200, 900)
    _sign_in_with_form(browser, site, site.operator)
    _at(browser, "/")
    assert browser.title == "Điều phối phát thanh — Anh Minh"
    assert "Anh Minh (cán bộ vận hành)" in _body(browser)
    browser.find_element(By.LINK_TEXT, "Bảng điều khiển chiến dịch").click()
    _at(browser, "/ops")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Bảng điều khiển chiến dịch"
    assert browser.find_element(By.LINK_TEXT, SAMPLE_ID)

    _sign_in_with_form(browser, site, site.auditor)
    _at(browser, "/")
    assert "Tài khoản kiểm tra: chỉ xem, không thay đổi được gì." in _body(browser)
    assert browser.find_elements(By.LINK_TEXT, "Bảng điều khiển chiến dịch") == []
    browser.find_element(By.PARTIAL_LINK_TEXT, "Nhật ký, báo cáo tháng").click()
    _at(browser, "/audit")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Kiểm tra nhật ký và báo cáo"

    _sign_in_with_link(browser, site, site.commune)
    _at(browser, f"/c/{HOME_CODE}")
    assert browser.title == "Lịch phát thanh — Xã Tân Đoàn"
    assert SCRIPT_TEXT in _body(browser)

    _paste_token(browser, site, site.commune[::-1])  # not a token: refused, signed in as nobody
    _wait(browser, lambda b: b.title == REFUSED_TITLE)
    _refused(browser, WRONG_UNIT)
    assert _status(browser, site.url("/ops")) == 403


# -- the auditor ---------------------------------------------------------------------------------
def _table(browser: WebDriver, rows: str = "table.log tbody tr") -> list[list[str]]:
    """The cells' text of the table's ``rows``, in one call (not one per cell)."""
    script = (
        "return [...document.querySelectorAll(arguments[0])]"
        ".map(row => [...row.cells].map(cell => cell.innerText.trim()));"
    )
    return list(browser.execute_script(script, rows))


def _downloaded(folder: Path, suffix: str) -> Callable[[WebDriver], Path | None]:
    """A wait's condition: the file Chromium downloaded into ``folder``, once complete."""

    def done(_: WebDriver) -> Path | None:
        found = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size]
        return found[0] if found and not list(folder.glob("*.crdownload")) else None

    return done


def test_an_auditor_filters_the_log_pages_it_downloads_the_csv_and_reads_the_report(
    site: Site, browser: WebDriver, tmp_path: Path
) -> None:
    browser.set_window_size(1200, 900)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    _sign_in_with_form(browser, site, site.auditor)
    browser.get(site.url("/audit"))
    browser.find_element(By.LINK_TEXT, "Nhật ký giao nhận tin nhắn").click()
    _at(browser, "/audit/log")
    browser.find_element(By.NAME, "campaign").send_keys(SAMPLE_ID)
    Select(browser.find_element(By.NAME, "status")).select_by_value("accepted")
    _button(browser, "Lọc").click()
    _wait(browser, lambda b: "campaign=" in b.current_url)

    seen: list[list[str]] = []
    for page in range(1, 10):
        rows = _table(browser)
        assert rows, f"page {page} is empty"
        assert {(r[1], r[4].rsplit(" ", 1)[-1]) for r in rows} == {(SAMPLE_ID, "(accepted)")}
        seen += rows
        following = browser.find_elements(By.CSS_SELECTOR, "a[rel=next]")
        if not following:
            break
        assert len(rows) == PAGE_ROWS
        following[0].click()
        _wait(browser, staleness_of(following[0]))  # the next page has replaced this one
        assert "after=" in browser.current_url
    assert page == 3 and len(seen) == SAMPLE_RECIPIENTS  # 100 + 100 + 72, none twice
    assert len({tuple(r) for r in seen}) >= 2 * PAGE_ROWS  # pages differ (masked numbers repeat)
    assert "Hết danh sách." in _body(browser)

    browser.find_element(By.LINK_TEXT, "Tải về .csv").click()
    csv_file = _wait(browser, _downloaded(downloads, ".csv"))
    assert csv_file is not None
    data = csv_file.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfcampaign,occurrence,to,status,")  # Excel reads UTF-8
    lines = data.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + SAMPLE_RECIPIENTS, lines[:3]
    assert all(line.startswith(f"{SAMPLE_ID},demo,+84") for line in lines[1:]), lines[1]
    assert len({line.split(",")[2] for line in lines[1:]}) == SAMPLE_RECIPIENTS  # full numbers
    assert all(",accepted," in line for line in lines[1:])

    browser.find_element(By.LINK_TEXT, "Báo cáo tháng").click()
    _at(browser, "/audit/report")
    month = datetime.now(VN).strftime("%m/%Y")
    assert browser.find_element(By.TAG_NAME, "h1").text.endswith(f"tháng {month}")
    ((content, count),) = [(c, n) for (form, c), n in _report_counts(browser).items()
                           if form == "Tin nhắn SMS"]  # fmt: skip
    assert content.startswith(f"Dừng công nghệ di động 2G; Thử {OTHER_ID}"), content
    slow = _deliveries(site, SLOW_ID)["accepted"]  # when the operator's test ran first
    assert count == f"{SAMPLE_RECIPIENTS + OTHER_RECIPIENTS + slow} tin"  # every SMS of the month


def _report_counts(browser: WebDriver) -> dict[tuple[str, str], str]:
    """The report's rows as (form, content) → their count ("272 tin")."""
    return {(r[1], r[2]): r[3] for r in _table(browser, "table.log tbody tr:not(.total)")}


# -- the operator --------------------------------------------------------------------------------
def _dashboard_line(browser: WebDriver, campaign_id: str) -> tuple[str, str]:
    """The campaign's state and progress ("Đã gửi 12 / tổng 80") on the dashboard, reloaded."""
    browser.get(browser.current_url)
    row = browser.find_element(By.XPATH, f"//table[@class='ops']//tr[.//a[.='{campaign_id}']]")
    state = row.find_element(By.CSS_SELECTOR, "td[data-label='Trạng thái']").text
    return state, row.find_element(By.CSS_SELECTOR, "td[data-label='Tiến độ'] .muted").text


def _act(browser: WebDriver, link: str, heading: str, reason: str, button: str) -> str:
    """Follow an action's link, give the reason on its confirmation step, confirm: the notice."""
    browser.find_element(By.LINK_TEXT, link).click()
    _wait(browser, lambda b: b.find_element(By.TAG_NAME, "h1").text == heading)
    browser.find_element(By.ID, "reason").send_keys(reason)
    _button(browser, button).click()
    return _wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, "p.notice")).text


def test_an_operator_pauses_a_slow_campaign_sees_sending_stop_and_resumes_it(
    site: Site, browser: WebDriver
) -> None:
    browser.set_window_size(1200, 900)
    _sign_in_with_form(browser, site, site.operator)
    at = (datetime.now(VN) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    _sms_campaign(site.ws, SLOW_ID, SLOW_RECIPIENTS, "09130",
                  f"  rate: {SLOW_RATE}\n  schedule:\n    at: ['{at}']\n")  # fmt: skip
    _until(lambda: _deliveries(site, SLOW_ID)["accepted"] >= 3, 30, "the slow campaign to start")
    browser.get(site.url("/ops"))
    row = f"//tr[.//a[.='{SLOW_ID}']]"
    browser.find_element(By.XPATH, f"{row}//a[.='Tạm dừng…']").click()
    _wait(browser, lambda b: b.find_element(By.TAG_NAME, "h1").text == "Tạm dừng chiến dịch")
    assert SLOW_ID in _body(browser)
    browser.find_element(By.ID, "reason").send_keys("sai số đường dây nóng")
    _button(browser, "Tạm dừng").click()
    notice = _wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, "p.notice")).text
    assert notice.startswith(f"Đã tạm dừng chiến dịch {SLOW_ID}")
    _at(browser, "/ops")

    # The sender's run ends within seconds (its claims finished or back to pending); then
    # nothing moves.
    stopped = f"sending stops: campaign {SLOW_ID} is paused"
    _until(lambda: stopped in _log(site.ws), 10, "the sender to stop")
    _until(lambda: _deliveries(site, SLOW_ID)["sending"] == 0, 5, "its requests in flight")
    claims, statuses = _claims_made(site, SLOW_ID), _deliveries(site, SLOW_ID)
    state, progress = _dashboard_line(browser, SLOW_ID)
    assert state == "tạm dừng"
    time.sleep(3)  # the senders read the state about once a second: three looks
    assert _claims_made(site, SLOW_ID) == claims
    assert _deliveries(site, SLOW_ID) == statuses
    assert statuses["pending"] > 0, statuses  # paused mid-way, not after the end
    assert _dashboard_line(browser, SLOW_ID) == (state, progress)

    browser.find_element(By.LINK_TEXT, SLOW_ID).click()
    _at(browser, f"/ops/c/{SLOW_ID}")
    activity = browser.find_element(By.XPATH, "//h2[.='Hoạt động gần đây']/following-sibling::ul")
    assert "Tạm dừng" in activity.text and "operator:Anh Minh" in activity.text, activity.text
    assert "sai số đường dây nóng" in activity.text

    notice = _act(browser, "Tiếp tục…", "Tiếp tục chiến dịch", "đã sửa số", "Tiếp tục gửi")
    assert notice.startswith(f"Đã cho chiến dịch {SLOW_ID} tiếp tục")
    # A paused occurrence rests up to 15 s before a sender looks at it again, then ~12 s more.
    _until(lambda: _deliveries(site, SLOW_ID) == Counter(accepted=SLOW_RECIPIENTS), 60,
           "the rest to be sent")  # fmt: skip
    assert _dashboard_line(browser, SLOW_ID) == (
        "đang chạy",
        f"Đã gửi {SLOW_RECIPIENTS} / tổng {SLOW_RECIPIENTS}",
    )


# -- the commune ---------------------------------------------------------------------------------
def _aired_on_the_report(browser: WebDriver, site: Site) -> int:
    """The auditor's monthly report: confirmed airings of this month (0 when there is no row)."""
    _sign_in_with_form(browser, site, site.auditor)
    browser.get(site.url("/audit/report"))
    counts = _report_counts(browser)
    aired = [n for (form, _), n in counts.items() if form == AIRED_FORM]
    return sum(int(n.split()[0]) for n in aired)


def test_a_commune_confirms_an_airing_and_the_report_counts_it(
    site: Site, browser: WebDriver
) -> None:
    browser.set_window_size(412, 915)
    before = _aired_on_the_report(browser, site)
    _sign_in_with_link(browser, site, site.commune)
    _at(browser, f"/c/{HOME_CODE}")
    _button(browser, "Đã phát").click()
    sure = _wait(browser, lambda b: _button(b, "Có, đã phát"))
    assert browser.title == "Xác nhận đã phát — Xã Tân Đoàn"
    sure.click()
    notice = _wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, "p.notice")).text
    assert notice.startswith("Đã ghi nhận: lượt phát 00:01 ")
    assert browser.find_elements(By.XPATH, "//button[normalize-space()='Đã phát']") == []
    assert _aired_on_the_report(browser, site) == before + 1


# -- refusals ------------------------------------------------------------------------------------
def test_each_role_is_refused_what_it_may_not_do(site: Site, browser: WebDriver) -> None:
    browser.set_window_size(1200, 900)
    browser.delete_all_cookies()
    for path in ("/ops", "/audit/log", f"/c/{HOME_CODE}"):
        browser.get(site.url(path))
        _refused(browser, SIGNED_OUT)
        assert browser.find_element(By.LINK_TEXT, "Đăng nhập bằng mã truy cập")
        assert _status(browser, site.url(path)) == 403

    _sign_in_with_link(browser, site, site.commune)
    for path, message in [("/ops", NOT_YOURS), (f"/ops/c/{SAMPLE_ID}/pause", NOT_YOURS),
                          ("/audit", NOT_YOURS), ("/audit/log.csv", NOT_YOURS),
                          (f"/c/{OTHER_CODE}", WRONG_UNIT)]:  # fmt: skip
        browser.get(site.url(path))
        _refused(browser, message)
        assert _status(browser, site.url(path)) == 403, path
    assert "Xã Tri Lễ" not in _body(browser)  # nothing said about the other commune

    _sign_in_with_form(browser, site, site.auditor)
    browser.get(site.url("/ops"))
    _refused(browser, NOT_YOURS)
    browser.get(site.url(f"/c/{HOME_CODE}"))  # an auditor sees a commune's page, no button
    assert browser.title == "Lịch phát thanh — Xã Tân Đoàn"
    assert browser.find_elements(By.XPATH, "//button[normalize-space()='Đã phát']") == []
    assert browser.find_elements(By.CSS_SELECTOR, "form.confirm, form.undo") == []
    confirmed = _confirmations(site)
    _post_by_hand(browser, f"/ops/c/{SAMPLE_ID}/pause", {"reason": "thử"})
    _refused(browser, NOT_YOURS)
    browser.get(site.url(f"/c/{HOME_CODE}"))
    today = datetime.now(VN).date().isoformat()
    _post_by_hand(browser, f"/c/{HOME_CODE}/confirm",
                  {"campaign": "loa-hom-nay", "at": f"{today}T00:01:00+07:00"})  # fmt: skip
    _refused(browser, NOT_YOURS)
    assert _state(site, SAMPLE_ID) == "active"  # nothing paused
    assert _confirmations(site) == confirmed  # nothing confirmed
