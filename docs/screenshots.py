"""Screenshots of the pages of `dispatcher serve`, for the README: `python docs/screenshots.py`.

In a temporary folder it sends the sample campaign through the built-in simulator, plans a
week of loudspeaker airings for Xã Tân Đoàn, starts a second campaign that sends slowly and
pauses it half-way; then starts `dispatcher serve`, makes a token per role with `dispatcher
token create` and photographs every page in headless Chromium (Debian's chromium and
chromium-driver) at 1200 and 400 px wide, the whole page's height (up to a limit), into
docs/screenshots/NAME-WIDTH.png, as 256-colour PNGs. Needs the project's virtualenv (`make
demo` makes it); nothing outside the temporary folder and docs/screenshots/ is touched.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
DISPATCHER = str(Path(sys.executable).parent / "dispatcher")
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WIDTHS = (1200, 400)  # px: a desk's screen, a phone's
MAX_HEIGHT = {1200: 2400, 400: 3600}  # px: a longer page is cut there (its top is what counts)
VN = ZoneInfo("Asia/Ho_Chi_Minh")
SAMPLE, SAMPLE_ID = "campaigns/2g-shutdown-2024.yaml", "2g-shutdown-2024"
SLOW_ID = "mat-song-2g"
COMMUNE = "06307"  # Xã Tân Đoàn


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dispatcher-screenshots-") as folder:
        root = Path(folder)
        port = _free_port()
        env = _workspace(root, port)
        print(f"preparing a workspace in {root} …", flush=True)
        _prepare(root, env)
        tokens = {role: _token(root, env, role, name, *more) for role, name, *more in (
            ("operator", "Anh Minh"), ("auditor", "Chị Lan"),
            ("commune", "Anh Tú", "--commune", "Tân Đoàn"))}  # fmt: skip
        with _serving(root, env) as base, _browser(root) as browser:
            _pause_half_way(root, env)
            OUT.mkdir(parents=True, exist_ok=True)
            _photograph(browser, base, tokens)
    total = sum(p.stat().st_size for p in OUT.glob("*.png"))
    print(f"{len(list(OUT.glob('*.png')))} screenshots in {OUT}, {total / 1e6:.1f} MB")


# -- the workspace -------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _workspace(root: Path, port: int) -> dict[str, str]:
    shutil.copytree(REPO / "campaigns", root / "campaigns")
    shutil.copy(REPO / "units.yaml", root / "units.yaml")
    shutil.copytree(REPO / "audio" / "templates", root / "audio" / "templates")
    config = {
        "database_url": f"sqlite:///{root / 'dispatcher.sqlite3'}", "gateway": "simulator",
        "output_dir": "out", "carriers": {"registered_senders": ["VANQUAN"]},
        "sending": {"rate_per_sender": 1000, "burst_segments": 5, "batch_size": 5,
                    "quiet_hours": "off"},
        "simulator": {"latency_ms": 50}, "scheduler": {"interval_s": 1}, "http": {"port": port},
    }  # fmt: skip
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep} | {"DISPATCHER_CONFIG": str(path)}


def _run(root: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([DISPATCHER, *args], cwd=root, env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    if done.returncode:
        sys.exit(f"dispatcher {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    return done.stdout


def _prepare(root: Path, env: dict[str, str]) -> None:
    """The sample sent (today), a week of airings in Xã Tân Đoàn around today, and a campaign
    due a minute ago that `serve` will send slowly."""
    _run(root, env, "send", SAMPLE, "--occurrence", "demo")
    today = datetime.now(VN).date()
    (root / "campaigns" / "loa-tuan-nay.yaml").write_text(
        "id: loa-tuan-nay\ntitle: 'Tắt sóng 2G: nhắc bà con đổi máy'\nunit: UBND huyện Văn Quan\n"
        "broadcast:\n  communes: [Xã Tân Đoàn]\n  times: ['00:01', '17:30']\n"
        f"  start: {today - timedelta(days=1)}\n  end: {today + timedelta(days=2)}\n"
        "  script: 'Kính thưa bà con. Từ ngày 16 tháng 10, mạng 2G ngừng hoạt động. Máy chỉ có "
        "2G sẽ không gọi, không nhắn tin được. Bà con đến bưu điện xã để được hỗ trợ đổi máy "
        "miễn phí.'\n",
        encoding="utf-8",
    )
    _run(root, env, "broadcast", "scripts", "campaigns/loa-tuan-nay.yaml")
    at = (datetime.now(VN) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    numbers = "".join(f"09150{i:05d}\n" for i in range(120))
    (root / "campaigns" / "lists" / f"{SLOW_ID}.csv").write_text("phone\n" + numbers)
    (root / "campaigns" / f"{SLOW_ID}.yaml").write_text(
        f"id: {SLOW_ID}\ntitle: 'Nhắc lần 2: tắt sóng 2G'\nunit: UBND huyện Văn Quan\n"
        "sms:\n  text: 'UBND huyen Van Quan nhac: tu 16/10 mang 2G ngung hoat dong.'\n"
        f"  encoding: ascii\n  sender: VANQUAN\n  recipients: [lists/{SLOW_ID}.csv]\n"
        f"  rate: 10\n  schedule:\n    at: ['{at}']\n",
        encoding="utf-8",
    )


def _token(root: Path, env: dict[str, str], role: str, name: str, *more: str) -> str:
    out = _run(root, env, "token", "create", "--role", role, "--name", name, *more)
    return next(line.removeprefix("Token: ") for line in out.splitlines() if "Token: " in line)


@contextmanager
def _serving(root: Path, env: dict[str, str]) -> Iterator[str]:
    log = (root / "serve.log").open("w", encoding="utf-8")
    serve = subprocess.Popen([DISPATCHER, "serve"], cwd=root, env=env, stdout=subprocess.PIPE,
                             stderr=log, text=True)  # fmt: skip
    try:
        assert serve.stdout is not None
        first = serve.stdout.readline()
        if not first.startswith("Listening on "):
            sys.exit(f"dispatcher serve did not start: {first}")
        yield first.split()[2]
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
        if serve.stdout:
            serve.stdout.close()
        log.close()


def _pause_half_way(root: Path, env: dict[str, str]) -> None:
    """Let the slow campaign send about half its list, then pause it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sent = _run(root, env, "log", "--campaign", SLOW_ID, "--status", "accepted", "--format",
                    "jsonl")  # fmt: skip
        if len(sent.splitlines()) >= 55:
            break
        time.sleep(0.5)
    _run(root, env, "pause", SLOW_ID, "--reason", "sai số đường dây nóng trong tin nhắn")


# -- the browser ---------------------------------------------------------------------------------
@contextmanager
def _browser(root: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--force-device-scale-factor=1",
                     f"--user-data-dir={root / 'chromium-profile'}"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _sign_in(browser: WebDriver, base: str, token: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{base}/login?token={token}")


def _shoot(browser: WebDriver, name: str, url: str | None = None) -> None:
    """The page (at ``url``, else the current one) at each width, its whole height."""
    if url is not None:
        browser.get(url)
    for width in WIDTHS:
        metrics = {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600}
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        browser.refresh()  # laid out afresh for this width (a phone's viewport meta too)
        height = browser.execute_script("return document.body.getBoundingClientRect().bottom")
        height = min(int(height) + 16, MAX_HEIGHT[width])
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics | {"height": height})
        shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        _save(shot["data"], OUT / f"{name}-{width}.png")
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _save(base64_png: str, path: Path) -> None:
    """A 256-colour PNG: text and flat colours lose nothing visible, the file a fifth."""
    image = Image.open(io.BytesIO(base64.b64decode(base64_png))).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"  {path.relative_to(REPO)} ({image.width}×{image.height})", flush=True)


def _wait_for(browser: WebDriver, check: Callable[[WebDriver], object]) -> None:
    WebDriverWait(browser, 30).until(check)


def _photograph(browser: WebDriver, base: str, tokens: dict[str, str]) -> None:
    browser.delete_all_cookies()
    _shoot(browser, "login", f"{base}/login")

    _sign_in(browser, base, tokens["commune"])
    _shoot(browser, "commune", f"{base}/c/{COMMUNE}")
    browser.find_element(By.XPATH, "//button[normalize-space()='Đã phát']").click()
    _wait_for(browser, lambda b: "/confirm" in b.current_url)
    _shoot(browser, "commune-confirm")
    browser.find_element(By.XPATH, "//button[normalize-space()='Có, đã phát']").click()
    _wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "p.notice"))
    _shoot(browser, "commune-confirmed")
    _shoot(browser, "refused", f"{base}/ops")  # a commune on the operators' pages: 403

    _sign_in(browser, base, tokens["operator"])
    _shoot(browser, "home-operator", f"{base}/")
    _shoot(browser, "ops", f"{base}/ops")
    _shoot(browser, "ops-campaign", f"{base}/ops/c/{SLOW_ID}")
    _shoot(browser, "ops-pause", f"{base}/ops/c/{SAMPLE_ID}/pause")

    month = datetime.now(VN).strftime("%Y-%m")
    _sign_in(browser, base, tokens["auditor"])
    _shoot(browser, "audit", f"{base}/audit")
    _shoot(browser, "audit-log", f"{base}/audit/log?campaign={SAMPLE_ID}&n=10")
    _shoot(browser, "audit-report", f"{base}/audit/report?month={month}")
    browser.get(f"{base}/audit/verify")
    browser.find_element(By.XPATH, "//button[normalize-space()='Kiểm tra ngay']").click()
    _wait_for(browser, lambda b: "Nhật ký nguyên vẹn" in b.page_source)
    _shoot(browser, "audit-verify")


if __name__ == "__main__":
    main()
