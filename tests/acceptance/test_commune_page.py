"""Communes confirm airings: `broadcast confirm` and `broadcast link` as subprocesses, and the
commune's page of a real `dispatcher serve` in headless Chromium (Debian's chromium and
chromium-driver; `make test` installs them): open the link, read the script, press "Đã phát"."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.acceptance.conftest import SimulatorProcess, Workspace
from tests.acceptance.test_serve import _configure, _free_port, _read, _serving

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
VN = ZoneInfo("Asia/Ho_Chi_Minh")
SAMPLE = "campaigns/2g-shutdown-2024.yaml"
SCRIPT_TEXT = "Bà con chú ý: hôm nay thử loa truyền thanh lúc nửa đêm."


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def _token_commands(workspace: Workspace, url: str) -> None:
    """Issue 13.8: links are listed (never their tokens), revoked alone or per commune."""
    _ok(workspace.run("broadcast", "link", "--commune", "06301", "--days", "7"))
    listing = _ok(workspace.run("token", "list"))
    assert url.split("t=")[1] not in listing
    header, tan_doan, trang_cac = listing.splitlines()
    assert header.split() == ["ID", "ROLE", "NAME", "COMMUNE", "CODE", "STATE", "MADE", "BY",
                              "EXPIRES", "REVOKED", "BY"]  # fmt: skip
    assert tan_doan.split()[:8] == ["1", "commune", "-", "Xã", "Tân", "Đoàn", "06307", "active"]
    assert " thu " in tan_doan and "Tràng Các" in trang_cac
    assert _refused(workspace.run("token", "revoke", "9")) == (
        "Error: ID: no such token: 9 (see `dispatcher token list`)\n"
    )
    assert _refused(workspace.run("broadcast", "link", "--commune", "06307", "--days", "0")) == (
        "Error: --days: 0 is not a number of days from 1 to 3650\n"
    )
    done = _ok(workspace.run("token", "revoke", "--commune", "Tràng Các", "--reason", "lost"))
    assert done == (
        "Revoked 1 token(s): 2 (Xã Tràng Các). They open nothing from now on, and the browsers "
        "signed in with them are signed out.\n"
    )
    assert [line.split()[0] for line in _ok(workspace.run("token", "list")).splitlines()] == [
        "ID",
        "1",
    ]
    every = _ok(workspace.run("token", "list", "--all", "--commune", "06301")).splitlines()
    assert len(every) == 2 and " revoked " in every[1]


# -- the command line ------------------------------------------------------------------------------
def test_confirm_link_and_the_report_from_the_command_line(workspace: Workspace) -> None:
    _ok(workspace.run("broadcast", "scripts", SAMPLE))
    confirm = ("broadcast", "confirm", "--campaign", "2g-shutdown-2024")
    first = _ok(workspace.run(*confirm, "--commune", "Tân Đoàn", "--at", "02/10/2024 06:00",
                              "--duration", "420", env={"USER": "can-bo"}))  # fmt: skip
    assert first == (
        "Confirmed: Xã Tân Đoàn, 2g-shutdown-2024 of 06:00 02/10/2024 aired at 06:00 02/10/2024 "
        "(7 phút); recorded as cli:can-bo.\n"
    )
    again = _ok(workspace.run(*confirm, "--commune", "06307", "--at", "2024-10-02T06:00+07:00"))
    assert again.startswith("Already confirmed at ") and again.endswith(". Nothing changed.\n")
    assert "by cli:can-bo (cli): Xã Tân Đoàn, 2g-shutdown-2024 of 06:00 02/10/2024" in again
    wrong = _refused(workspace.run(*confirm, "--commune", "Tân Đoàn", "--at", "03/10/2024 06:00"))
    assert wrong == (
        "Error: --at: Xã Tân Đoàn has no airing of 2g-shutdown-2024 at 06:00 03/10/2024; the "
        "nearest planned: 06:00 02/10/2024, 17:30 02/10/2024, 06:00 04/10/2024\n"
    )
    link = _ok(workspace.run("broadcast", "link", "--commune", "Tân Đoàn", env={"USER": "thu"}))
    name, url, validity = link.splitlines()
    assert name == "Xã Tân Đoàn (06307):"  # the unit code keys the page, never a folded name
    assert url.startswith("http://127.0.0.1:8080/c/06307?t=") and len(url) == 32 + 32
    until = (datetime.now(VN) + timedelta(days=180)).strftime("%d/%m/%Y")
    assert validity == (f"Link 1, valid until {until}; shown once, give it to the commune only.")
    _token_commands(workspace, url)
    report = json.loads(_ok(workspace.run("report", "monthly", "--month", "2024-10",
                                          "--format", "json")))  # fmt: skip
    # 7 minutes aired; the commune's 11 other airings of October wait for its word
    assert report["rows"] == [
        {"unit": "UBND huyện Văn Quan", "form": "Phát thanh trên loa truyền thanh cơ sở",
         "content": "Dừng công nghệ di động 2G", "means": "Đài truyền thanh xã Tân Đoàn",
         "count": 1, "count_unit": "lượt", "status": "aired", "result": "Đã phát 7 phút",
         "note": "Đã được xã xác nhận; 11 lượt chưa xác nhận (không tính)", "segments": None,
         "airing": {"seconds": 420, "timed": 1, "unconfirmed": 11}},
    ]  # fmt: skip
    unconfirmed = {r["means"]: r["count"] for r in report["unconfirmed"]}
    assert unconfirmed == {"Đài truyền thanh thị trấn Văn Quan": 12,
                           "Đài truyền thanh xã Tràng Các": 12,
                           "Đài truyền thanh xã Tân Đoàn": 11}  # fmt: skip


# -- the commune's page in a browser -----------------------------------------------------------
def _campaign_airing_today(ws: Workspace) -> str:
    """A campaign airing in Xã Tân Đoàn at 00:01 today (past: it can be confirmed)."""
    today = datetime.now(VN).date().isoformat()
    ws.write(
        "campaigns/loa-hom-nay.yaml",
        "id: loa-hom-nay\ntitle: Thử loa hôm nay\nunit: UBND huyện Văn Quan\nbroadcast:\n"
        "  communes: [Xã Tân Đoàn]\n  times: ['00:01']\n"
        f"  start: {today}\n  end: {today}\n  script: '{SCRIPT_TEXT}'\n",
    )
    return "campaigns/loa-hom-nay.yaml"


@SQLITE_ONLY
def test_the_commune_opens_its_link_reads_the_script_and_presses_da_phat(
    workspace: Workspace,
    start_simulator: Callable[..., SimulatorProcess],
    browser: WebDriver,
) -> None:
    port = _free_port()
    _configure(workspace, http={"port": port}, status={"poll_interval_s": 86_400})
    _ok(workspace.run("broadcast", "scripts", _campaign_airing_today(workspace)))
    link = _ok(workspace.run("broadcast", "link", "--commune", "Xã Tân Đoàn"))
    url = link.splitlines()[1]
    assert url.startswith(f"http://127.0.0.1:{port}/c/06307?t=")
    sim = start_simulator()
    with _serving(workspace, sim.env):
        browser.get(url)
        assert browser.title == "Lịch phát thanh — Xã Tân Đoàn"
        body = browser.find_element(By.TAG_NAME, "body").text
        assert SCRIPT_TEXT in body  # today's script, open to read
        assert "Thử loa hôm nay" in body and "00:01" in body
        (button,) = browser.find_elements(By.XPATH, "//button[normalize-space()='Đã phát']")
        button.click()  # the step page asks first: nothing is recorded yet
        sure = WebDriverWait(browser, 10).until(
            expected_conditions.presence_of_element_located(
                (By.XPATH, "//button[normalize-space()='Có, đã phát']")
            )
        )
        assert browser.title == "Xác nhận đã phát — Xã Tân Đoàn"
        sure.click()
        # The click posts a form; the answer page may not be loaded yet when click() returns.
        notice = (
            WebDriverWait(browser, 10)
            .until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "p.notice")))
            .text
        )
        assert notice.startswith("Đã ghi nhận: lượt phát 00:01 ")
        assert "done=new" in browser.current_url and "/confirm" not in browser.current_url
        assert browser.find_elements(By.XPATH, "//button[normalize-space()='Đã phát']") == []
        assert "Đã phát lúc 00:01" in browser.find_element(By.CSS_SELECTOR, "p.done").text
        assert browser.find_elements(By.XPATH, "//button[starts-with(., 'Hoàn tác (đến ')]")
        browser.refresh()  # a reload shows the page again: it does not post again
        assert "/confirm" not in browser.current_url
        browser.save_screenshot(str(workspace.root / "commune-page.png"))
    assert "Traceback" not in _read(workspace)
    month = datetime.now(VN).strftime("%Y-%m")
    report = json.loads(_ok(workspace.run("report", "monthly", "--month", month,
                                          "--format", "json")))  # fmt: skip
    aired = [r for r in report["rows"] if r["status"] == "aired"]
    assert [(r["means"], r["count"]) for r in aired] == [("Đài truyền thanh xã Tân Đoàn", 1)]
    log = _ok(workspace.run("status", "loa-hom-nay"))
    assert "airing-confirmed" in log
