"""What Vietnamese carriers will deliver (dispatcher.sms.carriers): sender names, registered
templates, the advertising rules, and which gateway is real (dispatcher.settings.config)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from pydantic import ValidationError

from dispatcher.campaigns.registry import as_current, canonical_spec
from dispatcher.campaigns.spec import CampaignSpec
from dispatcher.settings.config import Settings, gateway_is_real
from dispatcher.sms.carriers import (
    DEFAULT_OPT_OUT_PHRASES,
    covers_legal_night,
    ends_with_opt_out,
    last_sentence,
    opt_out_pattern,
    sender_name,
    template_pattern,
    template_text,
)
from dispatcher.sms.quiet import parse_window


# -- sender names --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["VANQUAN", "UBND-VQ", "UBND_VQ", "H.VANQUAN", "UBND VQ", "1234567890A", "A"]
)
def test_a_sender_name_carriers_accept(name: str) -> None:
    assert sender_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "VANQUAN12345",  # 12 characters
        "0912345678",  # all digits: read as a phone number
        "+84912345678",  # a phone number
        "VĂNQUAN",  # not ASCII
        "UBND/VQ",  # not one of - _ . or space
        " VANQUAN",  # a space first or last would not be the registered name
        "VANQUAN ",
        "",
    ],
)
def test_a_sender_name_carriers_refuse(name: str) -> None:
    with pytest.raises(ValueError, match="is not a sender name"):
        sender_name(name)


def _sms(**sms: Any) -> dict[str, Any]:
    base = {"text": "Xin chào", "recipients": ["a.csv"]}
    return {"id": "t", "title": "t", "unit": "u", "sms": base | sms}


def _errors(data: dict[str, Any]) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        CampaignSpec.model_validate(data)
    return [(e["loc"], e["msg"]) for e in caught.value.errors()]


def test_the_campaign_model_checks_the_sender_format_in_both_forms() -> None:
    assert [loc for loc, _ in _errors(_sms(sender="0912345678"))] == [("sms", "sender")]
    pool = _errors(_sms(senders=["VANQUAN", "TOO-LONG-NAME"]))
    assert [loc for loc, _ in pool] == [("sms", "senders", 1)]


def test_registered_senders_in_config_are_checked_one_by_one() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings.model_validate({"carriers": {"registered_senders": ["VANQUAN", "091234"]}})
    (error,) = caught.value.errors()
    assert error["loc"] == ("carriers", "registered_senders", 1)
    assert "'091234' is not a sender name" in error["msg"]


# -- templates -----------------------------------------------------------------------------------
def _fits(template: str, message: str, encoding: Any = "auto") -> bool:
    return template_pattern(template_text(template), encoding).fullmatch(message) is not None


@pytest.mark.parametrize(
    ("message", "fits"),
    [
        ("UBND xã Tân Đoàn: họp dân lúc 08:00.", True),
        ("UBND xã Tân Đoàn, Tràng Các: họp dân lúc 08:00 ngày 5/9.", True),  # any text
        ("UBND xã : họp dân lúc 08:00.", False),  # not the "xã " then text, but a bare space
        ("UBND xã Tân Đoàn: họp dân lúc .", False),  # a placeholder is never empty
        ("UBND xã Tân Đoàn: họp dân lúc 08:00", False),  # the final literal "." is missing
        ("Kính gửi: UBND xã Tân Đoàn: họp dân lúc 08:00.", False),  # text before the template
        ("UBND xã Tân Đoàn: họp dân lúc 08:00. Xin cảm ơn", False),  # text after it
    ],
)
def test_a_message_fits_when_each_placeholder_is_some_text(message: str, fits: bool) -> None:
    assert _fits("UBND xã {xa}: họp dân lúc {gio}.", message) is fits


def test_regex_characters_in_a_template_are_literal() -> None:
    template = "Gọi (0205) 3830.018 [24/7] + hỏi *{ai}*? $5^ | ok"
    assert _fits(template, "Gọi (0205) 3830.018 [24/7] + hỏi *An*? $5^ | ok")
    assert not _fits(template, "Gọi (0205) 3830x018 [24/7] + hỏi *An*? $5^ | ok")  # "." is a dot
    assert not _fits(template, "Gọi 0205 3830.018 [24/7] + hỏi *An*? $5^ | ok")
    assert not _fits("A.B {x}", "AxB y")


def test_placeholders_side_by_side_and_spanning_lines() -> None:
    assert _fits("{a}{b}", "xy")
    assert not _fits("{a}{b}", "x")  # two placeholders, each at least one character
    assert _fits("Nội dung: {noi_dung}", "Nội dung: dòng một\ndòng hai")
    assert _fits("{a}, {b}, {c}", "1, 2, 3, 4")  # a placeholder may hold the separator too


def test_an_ascii_campaign_is_compared_after_folding_the_template_like_the_message() -> None:
    template = "UBND xã {xa}: đổi sang máy 4G trước 16/10."
    folded = "UBND xa Tan Doan: doi sang may 4G truoc 16/10."  # what `encoding: ascii` sends
    assert _fits(template, folded, "ascii")
    assert not _fits(template, folded, "auto")  # with diacritics kept, the text differs
    # A template typed in Unikey's "tổ hợp" mode (decomposed) is NFC-normalized like messages.
    decomposed = "UBND xa\u0303 {xa}: \u0111o\u0302\u0309i sang máy 4G trước 16/10."
    assert _fits(decomposed, "UBND xã Tân Đoàn: đổi sang máy 4G trước 16/10.", "unicode")


def test_a_message_that_does_not_fit_is_refused_in_linear_time() -> None:
    # A naive (.+) (.+) ... regex tries every way to split 800 spaces: it would never end.
    pattern = template_pattern("{a} {b} {c} {d} {e} {f}.")
    started = time.perf_counter()
    assert pattern.fullmatch(" ".join(["x"] * 800)) is None
    assert time.perf_counter() - started < 0.5
    assert pattern.fullmatch("a b c d e f g.") is not None


@pytest.mark.parametrize("text", ["{{ name }} ơi", "Chào {name", "Chào {1name}", "Chào {}", "  "])
def test_a_template_with_a_stray_brace_or_nothing_is_a_config_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"placeholder|empty"):
        template_text(text)


def test_template_ids_may_be_numbers_in_yaml() -> None:
    settings = Settings.model_validate({"carriers": {"templates": {1024: "Mã {ma}"}}})
    assert settings.carriers.templates == {"1024": "Mã {ma}"}
    spec = CampaignSpec.model_validate(_sms(template_id=1024))
    assert spec.sms is not None and spec.sms.template_id == "1024"


# -- advertising ---------------------------------------------------------------------------------
PHRASES = opt_out_pattern(list(DEFAULT_OPT_OUT_PHRASES))


@pytest.mark.parametrize(
    ("body", "has_opt_out"),
    [
        ("[QC] Gói 4G giá rẻ. Từ chối QC soạn TC gửi 1091", True),
        ("[QC] Goi 4G gia re. Tu choi QC soan TC gui 1091.", True),  # folded, any case
        ("[QC] Goi 4G. Chi tiet 1800.1091! Soan HUY gui 1091", True),
        ("[QC] Goi 4G.\nDe ngung nhan tin, soan TC gui 1091", True),
        ("[QC] Từ chối QC soạn TC gửi 1091. Gói 4G giá rẻ.", False),  # not in the last sentence
        ("[QC] Gói 4G giá rẻ. Liên hệ anh Huy: 0912 345 678", False),  # a name, not HUY gửi
        ("[QC] Ưu đãi huyện Văn Quan. Gọi 1800.1091", False),  # huyện is not HUY
        ("[QC] Gói 4G giá rẻ", False),
    ],
)
def test_the_opt_out_instruction_is_the_last_sentence(body: str, has_opt_out: bool) -> None:
    assert ends_with_opt_out(body, PHRASES) is has_opt_out


def test_a_dot_inside_a_number_or_a_name_does_not_end_a_sentence() -> None:
    assert last_sentence("UBND H.Văn Quan. Gọi 1900.1234 để hỏi.") == "Gọi 1900.1234 để hỏi."
    assert last_sentence("Một câu. ") == "Một câu."


def test_opt_out_phrases_are_settable() -> None:
    own = opt_out_pattern(["nhắn KHONG"])
    assert ends_with_opt_out("[QC] Ưu đãi. Không nhận nữa: nhắn KHONG tới 1091", own)
    assert not ends_with_opt_out("[QC] Ưu đãi. Từ chối: soạn TC gửi 1091", own)
    with pytest.raises(ValidationError):
        Settings.model_validate({"carriers": {"opt_out_phrases": []}})


@pytest.mark.parametrize(
    ("window", "covers"),
    [
        ("22:00-07:00", True),
        ("21:00-08:00", True),
        ("08:00-07:30", True),  # quiet almost all day: the night too
        ("23:00-07:00", False),  # 22:00-23:00 open
        ("22:00-06:30", False),
        ("06:00-05:00", False),  # 05:00-06:00 open
        ("00:00-23:59", False),  # 23:59-00:00 open
        ("off", False),
        ("07:00-07:00", False),  # empty
    ],
)
def test_advertising_quiet_hours_must_cover_the_night(window: str, covers: bool) -> None:
    assert covers_legal_night(parse_window(window)) is covers


def test_advertising_is_never_urgent_nor_out_at_night_whatever_the_campaign_says() -> None:
    errors = _errors(_sms(category="advertising", urgent=True, quiet_hours="off"))
    assert [loc for loc, _ in errors] == [("sms", "urgent"), ("sms", "quiet_hours")]
    assert "never urgent" in errors[0][1]
    assert "'off' lets advertising out between 22:00 and 07:00" in errors[1][1]
    assert _errors(_sms(category="advertising", quiet_hours="23:00-06:00"))[0][0] == (
        "sms", "quiet_hours",
    )  # fmt: skip
    # The same settings are fine for a notice, and advertising with a wider window.
    CampaignSpec.model_validate(_sms(category="notice", urgent=True, quiet_hours="off"))
    CampaignSpec.model_validate(_sms(category="advertising", quiet_hours="21:00-07:30"))
    assert _errors(_sms(category="quang-cao"))[0][0] == ("sms", "category")


# -- the real gateway ----------------------------------------------------------------------------
LOCAL = {"TWILIO_API_BASE_URL": "http://127.0.0.1:8089"}  # a test server


@pytest.mark.parametrize(
    ("config", "environ", "real"),
    [
        ({"gateway": "simulator"}, {}, False),
        ({"gateway": "simulator", "gateway_is_real": True}, {}, False),  # built in: never real
        ({"gateway": "twilio"}, {}, True),
        ({"gateway": "twilio"}, {"TWILIO_API_BASE_URL": ""}, True),
        ({"gateway": "twilio"}, {"TWILIO_API_BASE_URL": "https://api.twilio.com"}, True),
        ({"gateway": "twilio"}, {"TWILIO_API_BASE_URL": "https://api.dublin.ie1.twilio.com"}, True),
        ({"gateway": "twilio"}, {"TWILIO_API_BASE_URL": "api.twilio.com"}, True),
        ({"gateway": "twilio"}, LOCAL, False),
        ({"gateway": "twilio"}, {"TWILIO_API_BASE_URL": "http://api.twilio.com.test:80"}, False),
        ({"gateway": "twilio"}, {"TWILIO_API_BASE_URL": "http://[::1"}, True),  # unreadable
        ({"gateway": "twilio", "gateway_is_real": True}, LOCAL, True),  # marked real in config
        ({"gateway": "twilio", "gateway_is_real": "auto"}, LOCAL, False),
    ],
)
def test_which_gateway_is_real(config: dict[str, Any], environ: dict[str, str], real: bool) -> None:
    assert gateway_is_real(Settings.model_validate(config), environ) is real


def test_no_config_makes_twilio_itself_a_test() -> None:
    with pytest.raises(ValidationError, match="false is not accepted"):
        Settings.model_validate({"gateway_is_real": False})


# -- campaigns registered before these fields existed --------------------------------------------
def test_a_campaign_registered_before_category_existed_has_not_changed() -> None:
    spec = CampaignSpec.model_validate(_sms(sender="VANQUAN"))
    current = json.loads(canonical_spec(spec))
    older = json.loads(canonical_spec(spec))
    del older["sms"]["category"], older["sms"]["template_id"]
    assert as_current(older) == current
    edited = json.loads(canonical_spec(CampaignSpec.model_validate(_sms(category="advertising"))))
    assert as_current(older) != edited
    refused = older | {"id": "not an id"}  # today's model refuses it: compared as stored
    assert as_current(refused) == refused
