"""The commune's page on a phone (issue 16): in headless Chromium, 412 px wide, the "Đã phát"
button sits under the airing's time and title, above its audio and long script; on a wide
screen it stays after the script. CSS only: the page is the one `dispatcher serve` renders."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from dispatcher.broadcast.confirmations import CommuneAiring
from dispatcher.broadcast.scripts import AiringScript
from dispatcher.web import pages

VN = ZoneInfo("Asia/Ho_Chi_Minh")
LONG_SCRIPT = "Kính thưa bà con Xã Tân Đoàn. " + "Bà con chú ý: ngày 16/10/2024 mạng 2G tắt. " * 60


def _page(tmp_path: Path) -> str:
    at = datetime(2024, 10, 14, 6, tzinfo=VN)
    script = AiringScript(
        campaign_id="2g", title="Dừng công nghệ di động 2G", commune="Xã Tân Đoàn", at=at,
        text=LONG_SCRIPT, spoken=LONG_SCRIPT, reading_seconds=600, stem=None,
    )  # fmt: skip
    airing = CommuneAiring(
        campaign_id="2g", title=script.title, commune="Xã Tân Đoàn", at=at, scripts=(script,),
        confirmation=None, in_plan=True, confirmable=True,
    )  # fmt: skip
    html = pages.commune_page("Xã Tân Đoàn", [airing], date(2024, 10, 14), str, "CSRF")
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    return path.as_uri()


def _tops(browser: WebDriver) -> tuple[int, int, int]:
    """Where the title, the button and the script start, from the top of the page."""

    def top(selector: str) -> int:
        return int(browser.find_element(By.CSS_SELECTOR, selector).rect["y"])

    return top(".airing .head"), top(".airing form.confirm button"), top(".airing details")


def test_on_a_phone_the_button_is_under_the_title_above_the_script(
    browser: WebDriver, tmp_path: Path
) -> None:
    url = _page(tmp_path)
    browser.set_window_size(412, 915)
    browser.get(url)
    title, button, script = _tops(browser)
    assert title < button < script
    assert button < 915 - 100  # on the first screen, without scrolling
    browser.set_window_size(1280, 900)
    browser.get(url)
    title, button, script = _tops(browser)
    assert title < script < button  # a wide screen: the card as written
