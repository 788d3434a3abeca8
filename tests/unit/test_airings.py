"""Confirmations, tokens, the commune page and the report's airing rows, as pure logic."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dispatcher.auth.tokens import new_token, page_url, token_digest
from dispatcher.broadcast.confirmations import CommuneAiring, field_name, parse_at
from dispatcher.broadcast.scripts import AiringScript
from dispatcher.cli import present_report
from dispatcher.core.errors import BadInput
from dispatcher.reports.monthly import FORM_LOUDSPEAKER, AiringResult, MonthlyReport, ReportRow
from dispatcher.store.airings import Confirmation
from dispatcher.web import pages

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")


# -- --at: dd/mm/yyyy HH:MM or ISO 8601, naive in the campaign's zone ------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16/10/2024 06:00", datetime(2024, 10, 16, 6, 0, tzinfo=VN)),
        ("6/9/2024 17:30", datetime(2024, 9, 6, 17, 30, tzinfo=VN)),
        ("  16/10/2024   06:00 ", datetime(2024, 10, 16, 6, 0, tzinfo=VN)),
        ("2024-10-16T06:00", datetime(2024, 10, 16, 6, 0, tzinfo=VN)),
        ("2024-10-16 06:00", datetime(2024, 10, 16, 6, 0, tzinfo=VN)),
        ("2024-10-15T23:00Z", datetime(2024, 10, 16, 6, 0, tzinfo=VN)),
        ("2024-10-16T06:00+07:00", datetime(2024, 10, 16, 6, 0, tzinfo=VN)),
        ("2024-10-16T01:00+02:00", datetime(2024, 10, 16, 6, 0, tzinfo=VN)),
    ],
)
def test_airing_times_are_read_in_the_campaigns_zone(text: str, expected: datetime) -> None:
    parsed = parse_at(text, VN, "--at")
    assert parsed.utcoffset() is not None
    assert parsed == expected


def test_a_naive_time_in_a_spring_forward_gap_moves_forward_as_schedules_do() -> None:
    parsed = parse_at("31/03/2024 02:30", BERLIN, "--at")
    assert parsed.astimezone(UTC) == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)  # 03:30+02:00


@pytest.mark.parametrize("text", ["16/13/2024 06:00", "2024-10-16T25:00", "hôm nay", "", "16/10"])
def test_a_bad_time_names_the_field(text: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_at(text, VN, "--at")
    assert str(caught.value.problems[0]).startswith("--at: ")
    assert "16/10/2024 06:00 or 2024-10-16T06:00" in caught.value.message


def test_field_names_follow_the_caller() -> None:
    assert [field_name("at", s) for s in ("cli", "web", "http")] == ["--at", "at", "at"]
    assert field_name("duration_s", "cli") == "--duration"
    assert field_name("aired_at", "cli") == "--aired-at"


# -- tokens ---------------------------------------------------------------------------------------
def test_a_token_is_random_and_only_its_digest_is_kept() -> None:
    # Issue 13.8: one link told an attacker the secret behind every commune's token. Tokens are
    # now independent random values; the database keeps a digest that cannot be turned back.
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", token) for token in tokens)
    token = next(iter(tokens))
    digest = token_digest(token)
    assert digest is not None and re.fullmatch(r"[0-9a-f]{64}", digest)
    assert token not in digest and digest == token_digest(token)
    assert token_digest(token[:-1]) is None  # not one of ours: never looked up
    assert token_digest(token + "=") is None
    assert token_digest("") is None
    assert token_digest("ä" * 32) is None


def test_the_link_carries_the_unit_code_and_the_token() -> None:
    token = new_token()
    assert page_url("https://loa.example.vn/", "06307", token) == (
        f"https://loa.example.vn/c/06307?t={token}"
    )
    # Without a units registry the key is the commune's name exactly, encoded.
    assert page_url("http://127.0.0.1:8080", "Xã Tân Thạnh", token).startswith(
        "http://127.0.0.1:8080/c/X%C3%A3%20T%C3%A2n%20Th%E1%BA%A1nh?t="
    )


# -- the page -------------------------------------------------------------------------------------
def _airing(
    at: datetime,
    *,
    title: str = "Dừng công nghệ di động 2G",
    text: str = "Kính thưa bà con Xã Tân Đoàn.",
    confirmation: Confirmation | None = None,
    confirmable: bool = True,
    in_plan: bool = True,
) -> CommuneAiring:
    script = AiringScript(
        campaign_id="2g", title=title, commune="Xã Tân Đoàn", at=at, text=text, spoken=text,
        reading_seconds=217, stem=None,
    )  # fmt: skip
    return CommuneAiring(
        campaign_id="2g", title=title, commune="Xã Tân Đoàn", at=at, scripts=(script,),
        confirmation=confirmation, in_plan=in_plan, confirmable=confirmable,
    )  # fmt: skip


def _link(relative: str) -> str:
    return f"/c/xa-tan-doan/{relative}?t=TOKEN"


def test_the_page_shows_todays_scripts_and_a_button_per_airing_to_confirm() -> None:
    today = date(2024, 10, 14)
    morning = datetime(2024, 10, 14, 6, tzinfo=VN)
    at, noted = morning.astimezone(UTC), datetime(2024, 10, 14, 0, 12, tzinfo=UTC)
    aired = Confirmation(
        campaign_id="2g", commune="Xã Tân Đoàn", scheduled_at=at, aired_at=at, duration_s=420,
        confirmed_by="web:xa-tan-doan", source="web", created_at=noted,
    )  # fmt: skip
    airings = [
        _airing(datetime(2024, 10, 11, 17, 30, tzinfo=VN)),  # an earlier day, not confirmed
        _airing(morning, confirmation=aired, confirmable=False),
        _airing(datetime(2024, 10, 14, 17, 30, tzinfo=VN), confirmable=False),  # not yet
        _airing(datetime(2024, 10, 16, 6, tzinfo=VN), confirmable=False),
    ]
    html = pages.commune_page("Xã Tân Đoàn", airings, today, _link, "TOKEN")
    assert "<title>Lịch phát thanh — Xã Tân Đoàn</title>" in html
    assert "Hôm nay: Thứ Hai, 14/10/2024" in html
    assert "Những ngày trước, chưa xác nhận" in html and "Thứ Sáu, 11/10/2024" in html
    assert "Thứ Tư, 16/10/2024" in html  # the coming days
    assert html.count('<button type="submit">Đã phát</button>') == 1  # 11/10 only
    assert '<input type="hidden" name="k" value="2024-10-11T1730">' in html  # the step's
    # "Đã phát" opens the step page (a GET: nothing changes, no token needed); signed in by a
    # cookie, the page itself never carries the commune's token.
    assert f'<form class="confirm" method="get" action="{_link("confirm")}">' in html
    assert 'name="t"' not in html
    assert (
        "Đã phát lúc 06:00 14/10/2024, 7 phút (xác nhận 07:12 14/10/2024 qua trang của xã)" in html
    )
    assert html.count("Chưa đến giờ phát.") == 2
    assert html.count("<details open>") == 2  # today's scripts are open to read
    assert 'href="/c/xa-tan-doan/script/2g/2024-10-14T0600.txt?t=TOKEN"' in html
    assert "<audio" not in html  # no audio made yet
    assert "<script" not in html  # no JavaScript at all


def test_everything_on_the_page_is_escaped() -> None:
    evil = '<script>alert("x")</script>'
    airing = _airing(datetime(2024, 10, 14, 6, tzinfo=VN), title=evil, text=evil)
    html = pages.commune_page('Xã <b>"Lạ"</b>', [airing], date(2024, 10, 14), _link, 'T"><')
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    # The button opens the step page (a GET, no CSRF token); its form posts with the token.
    step = pages.confirm_step_page('Xã <b>"Lạ"</b>', airing, _link, 'T"><', "/c/x")
    assert "<script" not in step and "<b>" not in step
    assert 'value="T&#34;&gt;&lt;"' in step


def test_the_script_is_reflowed_for_a_phone_keeping_sentences_and_paragraphs() -> None:
    text = (
        "Đây là Đài truyền thanh xã Tân Đoàn.\nKính thưa bà con nhân dân!\n"
        "Thực hiện chỉ đạo của Ủy ban nhân dân huyện Văn Quan về lộ trình dừng\n"
        "công nghệ di động 2G, Đài xin thông báo.\n\nĐài xin đọc thông báo lần thứ nhất.\n"
    )
    assert pages.for_screen(text) == (
        "Đây là Đài truyền thanh xã Tân Đoàn.\nKính thưa bà con nhân dân!\n"
        "Thực hiện chỉ đạo của Ủy ban nhân dân huyện Văn Quan về lộ trình dừng công nghệ di "
        "động 2G, Đài xin thông báo.\n\nĐài xin đọc thông báo lần thứ nhất.\n"
    )


def test_an_airing_outside_the_plan_cannot_be_confirmed() -> None:
    airing = _airing(datetime(2024, 10, 14, 6, tzinfo=VN), in_plan=False, confirmable=False)
    html = pages.commune_page("Xã Tân Đoàn", [airing], date(2024, 10, 14), _link, "T")
    assert "Đã phát</button>" not in html
    assert "không có trong kế hoạch đã đăng ký" in html


# -- the report's loudspeaker rows ----------------------------------------------------------------
def _report() -> MonthlyReport:
    unit, station = "UBND huyện Văn Quan", "Đài truyền thanh xã Tân Đoàn"
    times = tuple(datetime(2024, 10, d, 6, tzinfo=VN) for d in (2, 4, 7, 9, 11, 14, 16, 18))
    return MonthlyReport(
        "2024-10", datetime(2024, 10, 1, tzinfo=VN), datetime(2024, 11, 1, tzinfo=VN),
        [ReportRow(unit, FORM_LOUDSPEAKER, station, 3, "lượt", "aired", content="Dừng 2G",
                   airing=AiringResult(seconds=1230, timed=2, unconfirmed=8))],
        [ReportRow(unit, FORM_LOUDSPEAKER, station, 8, "lượt", "unconfirmed", times=times)],
    )  # fmt: skip


def test_the_table_counts_aired_airings_and_lists_unconfirmed_ones_apart() -> None:
    lines = present_report.monthly(_report(), "table").splitlines()
    assert lines[:4] == [
        "Báo cáo kết quả tuyên truyền tháng 10/2024",
        "STT  Đơn vị               Hình thức truyền thông                  Nội dung  Số lượt  "
        "Phương tiện                   Kết quả                                        Ghi chú",
        "1    UBND huyện Văn Quan  Phát thanh trên loa truyền thanh cơ sở  Dừng 2G   3 lượt   "
        "Đài truyền thanh xã Tân Đoàn  Đã phát 21 phút (1 lượt không ghi thời lượng)  "
        "Đã được xã xác nhận; 8 lượt chưa xác nhận (không tính)",
        "     Tổng cộng                                                              3",
    ]  # 1,230 s over the 2 timed airings: 20.5 minutes, rounded half up
    assert lines[4] == ""
    assert lines[5].startswith("Chưa xác nhận")
    assert lines[6] == (
        "  - UBND huyện Văn Quan | Đài truyền thanh xã Tân Đoàn: 8 lượt (06:00 02/10/2024, "
        "06:00 04/10/2024, 06:00 07/10/2024, 06:00 09/10/2024, 06:00 11/10/2024, "
        "06:00 14/10/2024 và 2 lượt khác)"
    )


def test_csv_and_json_keep_the_unconfirmed_airings_apart_and_complete() -> None:
    text = present_report.monthly(_report(), "csv")
    assert text.startswith("\ufeffSTT,")  # for Excel; --no-bom leaves it out
    assert present_report.monthly(_report(), "csv", bom=False) == text.removeprefix("\ufeff")
    rows = text.splitlines()
    assert rows[1].startswith(
        "1,UBND huyện Văn Quan,Phát thanh trên loa truyền thanh cơ sở,Dừng 2G,3,lượt,"
    )
    assert rows[2] == ",Tổng cộng,,,3,,,,"
    assert rows[3].startswith(",UBND huyện Văn Quan,Phát thanh trên loa truyền thanh cơ sở,,8,")
    assert "Chưa xác nhận (không tính): 06:00 02/10/2024" in rows[3]
    assert "06:00 18/10/2024" in rows[3]
    data = json.loads(present_report.monthly(_report(), "json"))
    assert [r["status"] for r in data["rows"]] == ["aired"]
    assert data["rows"][0]["airing"] == {"seconds": 1230, "timed": 2, "unconfirmed": 8}
    assert data["rows"][0]["result"] == "Đã phát 21 phút (1 lượt không ghi thời lượng)"
    (missing,) = data["unconfirmed"]
    assert missing["count"] == 8 and missing["status"] == "unconfirmed"
    assert missing["planned"][0] == "2024-10-02T06:00:00+07:00"


def test_a_month_with_only_unconfirmed_airings_says_nothing_is_counted() -> None:
    report = _report()
    only = MonthlyReport(report.month, report.start, report.end, [], report.unconfirmed)
    lines = present_report.monthly(only, "table").splitlines()
    assert lines[1] == "(chưa có hoạt động nào được tính trong tháng)"
