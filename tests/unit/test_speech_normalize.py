"""Written Vietnamese → spoken form for the TTS voice (dispatcher.broadcast.speech.normalize).

The sentences are the kind the 2G-shutdown notices and loudspeaker scripts contain; each
expected reading was written by hand from the rules (Northern forms, phone numbers digit by
digit with a pause between groups, abbreviations as whole words).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.broadcast.speech import (
    DEFAULT_SYLLABLES_PER_MINUTE,
    date_words,
    default_abbreviations,
    digits_words,
    number_words,
    reading_seconds,
    spoken,
    syllables,
    time_words,
)
from dispatcher.broadcast.speech.numbers import MAX_NUMBER

Y2024 = "năm hai nghìn không trăm hai mươi tư"
Y2025 = "năm hai nghìn không trăm hai mươi lăm"
HOTLINE_VIETTEL = "một tám không không, tám không chín tám"

SENTENCES = [
    # --- the notice itself: dates, times, 2G, small numbers
    (
        "UBND huyện Văn Quan thông báo: từ 0h ngày 16/10/2024, điện thoại chỉ dùng 2G sẽ bị "
        "khóa 2 chiều.",
        "Ủy ban nhân dân huyện Văn Quan thông báo: từ không giờ ngày mười sáu tháng mười "
        f"{Y2024}, điện thoại chỉ dùng hai G sẽ bị khóa hai chiều.",
    ),
    (
        "Kính thưa bà con nhân dân, từ ngày 16/9/2024 các thuê bao 2G only sẽ ngừng được phục vụ.",
        "Kính thưa bà con nhân dân, từ ngày mười sáu tháng chín "
        f"{Y2024} các thuê bao hai G only sẽ ngừng được phục vụ.",
    ),
    (
        "Thời hạn được lùi đến hết ngày 15/10/2024.",
        f"Thời hạn được lùi đến hết ngày mười lăm tháng mười {Y2024}.",
    ),
    (
        "Mạng GSM sẽ hoạt động đến hết ngày 15/9/2026.",
        "Mạng GSM sẽ hoạt động đến hết ngày mười lăm tháng chín "
        "năm hai nghìn không trăm hai mươi sáu.",
    ),
    (
        "Ngày 16/10/2024 có khoảng 234.000 thuê bao bị khóa 2 chiều.",
        f"Ngày mười sáu tháng mười {Y2024} có khoảng hai trăm ba mươi tư nghìn thuê bao "
        "bị khóa hai chiều.",
    ),
    (
        "Cả nước còn 18,2 triệu thuê bao 2G only vào tháng 1/2024.",
        f"Cả nước còn mười tám phẩy hai triệu thuê bao hai G only vào tháng một {Y2024}.",
    ),
    (
        "Năm 2024, toàn tỉnh có 771.000 thuê bao 2G only.",
        "Năm hai nghìn không trăm hai mươi tư, toàn tỉnh có bảy trăm bảy mươi mốt nghìn "
        "thuê bao hai G only.",
    ),
    (
        "Từ 16/10, thuê bao 2G sẽ bị khóa 2 chiều (không gọi, không nhận).",
        "Từ ngày mười sáu tháng mười, thuê bao hai G sẽ bị khóa hai chiều (không gọi, không nhận).",
    ),
    (
        "Hạn chót: 17h ngày 31/12/2024.",
        f"Hạn chót: mười bảy giờ ngày ba mươi mốt tháng mười hai {Y2024}.",
    ),
    (
        "Hội nghị lúc 14h00 ngày 10/10/2024 tại hội trường UBND xã.",
        f"Hội nghị lúc mười bốn giờ ngày mồng mười tháng mười {Y2024} "
        "tại hội trường Ủy ban nhân dân xã.",
    ),
    (
        "Từ ngày 1/3/2025, Sở TT&TT hợp nhất vào Sở KH&CN.",
        f"Từ ngày mồng một tháng ba {Y2025}, Sở Thông tin và Truyền thông hợp nhất "
        "vào Sở Khoa học và Công nghệ.",
    ),
    (
        "Ngày 5 tháng 4 năm 2024, Bộ TT&TT ban hành thông tư.",
        "Ngày mồng năm tháng tư năm hai nghìn không trăm hai mươi tư, "
        "Bộ Thông tin và Truyền thông ban hành thông tư.",
    ),
    (
        "Chương trình kéo dài đến hết tháng 4/2025.",
        f"Chương trình kéo dài đến hết tháng tư {Y2025}.",
    ),
    (
        "Hỗ trợ tại nhà từ ngày 16-20/10/2024.",
        f"Hỗ trợ tại nhà từ ngày mười sáu đến ngày hai mươi tháng mười {Y2024}.",
    ),
    (
        "Thông báo dán ngày 02.10.2024 và 05-10-2024.",
        "Thông báo dán ngày mồng hai tháng mười năm hai nghìn không trăm hai mươi tư "
        f"và ngày mồng năm tháng mười {Y2024}.",
    ),
    # --- times
    (
        "Đài truyền thanh xã phát lúc 7h30 sáng và 17h chiều.",
        "Đài truyền thanh xã phát lúc bảy giờ ba mươi phút sáng và mười bảy giờ chiều.",
    ),
    (
        "Cửa hàng mở cửa từ 7h30-11h30 và 13h30-17h.",
        "Cửa hàng mở cửa từ bảy giờ ba mươi phút đến mười một giờ ba mươi phút "
        "và mười ba giờ ba mươi phút đến mười bảy giờ.",
    ),
    (
        "Thời gian hỗ trợ từ 07:00 đến 17:00 các ngày trong tuần.",
        "Thời gian hỗ trợ từ bảy giờ đến mười bảy giờ các ngày trong tuần.",
    ),
    (
        "Bản tin phát lúc 6h15 và 16h45.",
        "Bản tin phát lúc sáu giờ mười lăm phút và mười sáu giờ bốn mươi lăm phút.",
    ),
    # --- phone numbers, hotlines, short codes
    (
        "Mọi thắc mắc xin gọi tổng đài miễn phí 1800 8098.",
        f"Mọi thắc mắc xin gọi tổng đài miễn phí {HOTLINE_VIETTEL}.",
    ),
    (
        "VinaPhone hỗ trợ qua tổng đài 18001091, MobiFone qua 18001090.",
        "VinaPhone hỗ trợ qua tổng đài một tám không không, một không chín một, "
        "MobiFone qua một tám không không, một không chín không.",
    ),
    (
        "Bà con có thể gọi số 0205 3830 018 của UBND huyện.",
        "Bà con có thể gọi số không hai không năm, ba tám ba không, không một tám "
        "của Ủy ban nhân dân huyện.",
    ),
    (
        "Liên hệ cán bộ xã qua số 0912 345 678 hoặc 0987654321.",
        "Liên hệ cán bộ xã qua số không chín một hai, ba bốn năm, sáu bảy tám "
        "hoặc không chín tám bảy, sáu năm bốn, ba hai một.",
    ),
    (
        "Người ở xa gọi +84 912 345 678.",
        "Người ở xa gọi cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám.",
    ),
    (
        "Hotline: 0912.345.678",
        "Hotline: không chín một hai, ba bốn năm, sáu bảy tám",
    ),
    (
        "Đường dây nóng: 024 3825 1234.",
        "Đường dây nóng: không hai bốn, ba tám hai năm, một hai ba bốn.",
    ),
    (
        "Điện thoại huyện: 02053830018.",
        "Điện thoại huyện: không hai không năm, ba tám ba không, không một tám.",
    ),
    (
        "Để không nhận tin quảng cáo, soạn DK DNC gửi 5656.",
        "Để không nhận tin quảng cáo, soạn DK DNC gửi năm sáu năm sáu.",
    ),
    (
        "Tin nhắn SMS từ đầu số 5656 là tin thật.",
        "Tin nhắn từ đầu số năm sáu năm sáu là tin thật.",
    ),
    (
        "Trường hợp khẩn cấp gọi 113, 114 hoặc 115.",
        "Trường hợp khẩn cấp gọi một một ba, một một bốn hoặc một một năm.",
    ),
    (
        "Bấm *101# để kiểm tra tài khoản.",
        "Bấm sao một không một thăng để kiểm tra tài khoản.",
    ),
    # --- money, percentages, counts
    (
        "Các cửa hàng giảm 50% giá máy 4G cho thuê bao 2G.",
        "Các cửa hàng giảm năm mươi phần trăm giá máy bốn G cho thuê bao hai G.",
    ),
    (
        "Khoảng 12,5% hộ dân còn dùng điện thoại 2G.",
        "Khoảng mười hai phẩy năm phần trăm hộ dân còn dùng điện thoại hai G.",
    ),
    (
        "Toàn huyện có 1.234 thuê bao cần chuyển đổi, đạt 85%.",
        "Toàn huyện có một nghìn hai trăm ba mươi tư thuê bao cần chuyển đổi, "
        "đạt tám mươi lăm phần trăm.",
    ),
    (
        "Thuê bao được hỗ trợ 100.000 đồng khi đổi sang máy 4G.",
        "Thuê bao được hỗ trợ một trăm nghìn đồng khi đổi sang máy bốn G.",
    ),
    (
        "Máy 4G giá từ 500.000đ đến 1.200.000đ.",
        "Máy bốn G giá từ năm trăm nghìn đồng đến một triệu hai trăm nghìn đồng.",
    ),
    (
        "Gửi 500 nghìn đồng cho hộ nghèo.",
        "Gửi năm trăm nghìn đồng cho hộ nghèo.",
    ),
    (
        "Viettel còn khoảng 360.000 thuê bao 2G, VinaPhone 150.000, MobiFone khoảng 48.000.",
        "Viettel còn khoảng ba trăm sáu mươi nghìn thuê bao hai G, VinaPhone một trăm năm mươi "
        "nghìn, MobiFone khoảng bốn mươi tám nghìn.",
    ),
    (
        "Trong tháng 10, các xã đã phát 105 lượt tin trên loa.",
        "Trong tháng mười, các xã đã phát một trăm linh năm lượt tin trên loa.",
    ),
    (
        "Có 21 xã, thị trấn tham gia, với 1.005 lượt tuyên truyền.",
        "Có hai mươi mốt xã, thị trấn tham gia, với một nghìn không trăm linh năm lượt "
        "tuyên truyền.",
    ),
    (
        "Mỗi hộ được tặng 01 máy điện thoại 4G.",
        "Mỗi hộ được tặng một máy điện thoại bốn G.",
    ),
    (
        "Dự kiến chuyển đổi 10-15% mỗi tuần, trong 3-5 ngày đầu tăng 10%-15%.",
        "Dự kiến chuyển đổi mười đến mười lăm phần trăm mỗi tuần, trong ba đến năm ngày đầu "
        "tăng mười phần trăm đến mười lăm phần trăm.",
    ),
    # --- ordinals, repeats
    (
        "Đây là lần thứ 2 thông báo.",
        "Đây là lần thứ hai thông báo.",
    ),
    (
        "Buổi tiếp dân vào thứ 4 hằng tuần.",
        "Buổi tiếp dân vào thứ tư hằng tuần.",
    ),
    (
        "Loa phát ngày 2 lần, sáng và chiều.",
        "Loa phát ngày hai lần, sáng và chiều.",
    ),
    # --- abbreviations and units
    (
        "Sở TT&TT tỉnh Lạng Sơn đề nghị UBND các xã tuyên truyền trên hệ thống loa.",
        "Sở Thông tin và Truyền thông tỉnh Lạng Sơn đề nghị Ủy ban nhân dân các xã tuyên truyền "
        "trên hệ thống loa.",
    ),
    (
        "HĐND và UBND xã Tân Đoàn phối hợp với MTTQ.",
        "Hội đồng nhân dân và Ủy ban nhân dân xã Tân Đoàn phối hợp với Mặt trận Tổ quốc.",
    ),
    (
        "Đ/c Chủ tịch UBND xã chủ trì.",
        "Đồng chí Chủ tịch Ủy ban nhân dân xã chủ trì.",
    ),
    (
        "Mang theo CCCD và SIM đến cửa hàng Viettel gần nhất.",
        "Mang theo căn cước công dân và sim đến cửa hàng Viettel gần nhất.",
    ),
    (
        "Điện thoại hỗ trợ 3G hoặc 4G vẫn dùng bình thường.",
        "Điện thoại hỗ trợ ba G hoặc bốn G vẫn dùng bình thường.",
    ),
    (
        "Sóng 2G trên băng tần 900 MHz và 1800 MHz.",
        "Sóng hai G trên băng tần chín trăm mê ga héc và một nghìn tám trăm mê ga héc.",
    ),
    (
        "Xe tuyên truyền lưu động đi 25km mỗi ngày, cách trung tâm xã 2,5 km.",
        "Xe tuyên truyền lưu động đi hai mươi lăm ki lô mét mỗi ngày, cách trung tâm xã "
        "hai phẩy năm ki lô mét.",
    ),
    (
        "Nhiệt độ đêm nay xuống 5°C, bà con chú ý giữ ấm.",
        "Nhiệt độ đêm nay xuống năm độ xê, bà con chú ý giữ ấm.",
    ),
    # --- nothing to do
    (
        "Đây là Đài truyền thanh xã Tri Lễ, huyện Văn Quan.",
        "Đây là Đài truyền thanh xã Tri Lễ, huyện Văn Quan.",
    ),
    (
        "…đề nghị bà con lưu ý thực hiện. Xin cảm ơn!",
        "…đề nghị bà con lưu ý thực hiện. Xin cảm ơn!",
    ),
]


@pytest.mark.parametrize(("written", "expected"), SENTENCES)
def test_spoken(written: str, expected: str) -> None:
    assert spoken(written) == expected


def test_the_table_is_big_enough() -> None:
    assert len(SENTENCES) >= 40


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        # a written "ngày"/"tháng"/"mồng" is not said twice, and keeps its case
        ("ngày 16/10", "ngày mười sáu tháng mười"),
        ("Ngày 16/10", "Ngày mười sáu tháng mười"),
        ("mùng 1/10", "mùng một tháng mười"),
        ("ngày 2 tháng 9", "ngày mồng hai tháng chín"),
        ("tháng 10/2024", f"tháng mười {Y2024}"),
        ("10/2024", f"tháng mười {Y2024}"),
        ("Tháng 4", "Tháng tư"),
        ("Thứ 7", "Thứ bảy"),
        ("thứ 1", "thứ nhất"),
        # what is not a date
        ("31/2", "ba mươi mốt trên hai"),
        ("50/100 hộ", "năm mươi trên một trăm hộ"),
        ("tháng 13", "tháng mười ba"),
        ("16-20 tuổi", "mười sáu đến hai mươi tuổi"),
        # document numbers are not dates (03/2024 before /TT)
        (
            "Thông tư 03/2024/TT-BTTTT",
            "Thông tư ba/hai nghìn không trăm hai mươi tư/TT-Bộ Thông tin và Truyền thông",
        ),
        # times
        ("0h", "không giờ"),
        ("7h", "bảy giờ"),
        ("7h05", "bảy giờ năm phút"),
        ("trong 24h", "trong hai mươi tư giờ"),
        ("25:00", "hai mươi lăm:không"),
        ("7h75", "bảy h bảy mươi lăm"),
        # numbers
        ("05 ngày", "năm ngày"),
        ("mã vùng 0205", "mã vùng không hai không năm"),
        ("công nghệ 4.0", "công nghệ bốn chấm không"),
        ("1.234.567", "một triệu hai trăm ba mươi tư nghìn năm trăm sáu mươi bảy"),
        ("1.234,5", "một nghìn hai trăm ba mươi tư phẩy năm"),
        ("-5 độ", "âm năm độ"),
        ("14G", "mười bốn G"),
        ("1000000000000", "một " + " ".join(["không"] * 12)),  # beyond "tỷ": digit by digit
        (
            "84.912.345.678",  # dots group thousands: a number, not +84 912 345 678
            "tám mươi tư tỷ chín trăm mười hai triệu ba trăm bốn mươi lăm nghìn "
            "sáu trăm bảy mươi tám",
        ),
        # phone shapes
        ("(+84) 91 234 5678", "cộng tám bốn, chín một, hai ba bốn, năm sáu bảy tám"),
        ("+84912345678", "cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám"),
        ("84912345678", "tám bốn, chín một hai, ba bốn năm, sáu bảy tám"),
        ("0912-345-678", "không chín một hai, ba bốn năm, sáu bảy tám"),
        ("01621234567", "không một sáu hai một, hai ba bốn, năm sáu bảy"),
        ("1900 1234 56", "một chín không không, một hai ba bốn, năm sáu"),
        ("ĐT: 3830.018", "ĐT: ba tám ba không, không một tám"),
        # units and symbols
        ("60km/h", "sáu mươi ki lô mét trên giờ"),
        ("50 ha", "năm mươi héc ta"),
        ("Văn hóa & Thông tin", "Văn hóa và Thông tin"),
        ("TP.HCM và TP. Lạng Sơn", "Thành phố Hồ Chí Minh và thành phố Lạng Sơn"),
    ],
)
def test_spoken_details(written: str, expected: str) -> None:
    assert spoken(written) == expected


@pytest.mark.parametrize(
    "kept",
    [
        "TT Văn Quan",  # thị trấn? thông tư? trung tâm? not guessed
        "ĐT huyện",
        "ubnd",  # case-sensitive
        "UBNDs",  # whole words only
        "kmh",
        "Hà Nội",  # not "ha"
        "Nha Trang",  # nor the end of a word
        "ASIM",  # an operator, not "A" + "SIM"
        "đồng",
    ],
)
def test_ambiguous_or_partial_words_are_kept(kept: str) -> None:
    assert spoken(kept) == kept


def test_a_campaign_table_replaces_the_default() -> None:
    table = {**default_abbreviations(), "TT": "thị trấn"}
    assert spoken("UBND TT Văn Quan", table) == "Ủy ban nhân dân thị trấn Văn Quan"
    assert spoken("UBND TT Văn Quan", {"TT": "thị trấn"}) == "UBND thị trấn Văn Quan"
    assert spoken("UBND 2G", {}) == "UBND hai G"  # no table: numbers still read


def test_campaign_keys_and_values_are_nfc_normalized() -> None:
    nfd = unicodedata.normalize("NFD", "ĐTDĐ")
    assert spoken("ĐTDĐ cũ", {nfd: unicodedata.normalize("NFD", "điện thoại")}) == "điện thoại cũ"


def test_decomposed_input_gives_composed_output() -> None:
    written = unicodedata.normalize("NFD", "Thông báo của UBND xã Điềm He ngày 16/10")
    assert spoken(written) == "Thông báo của Ủy ban nhân dân xã Điềm He ngày mười sáu tháng mười"


def test_a_combining_mark_after_a_replacement_still_gives_nfc() -> None:
    # "D" + acute has no precomposed form, "n" + acute has: the stray mark lands on "dân".
    assert unicodedata.is_normalized("NFC", spoken("UBND\u0301"))


def test_default_table() -> None:
    table = default_abbreviations()
    assert table["UBND"] == "Ủy ban nhân dân"
    assert table["4G"] == "bốn G"
    assert table["SMS"] == "tin nhắn"
    for ambiguous in ("TT", "ĐT", "CA", "QĐ", "m", "h"):
        assert ambiguous not in table
    for key, value in table.items():
        assert key and value.strip()
        assert unicodedata.is_normalized("NFC", key) and unicodedata.is_normalized("NFC", value)
        assert not re.search("[0-9]", value), key  # a spoken form is words
    with pytest.raises(TypeError):
        table["UBND"] = "x"  # type: ignore[index]


def test_the_table_ships_as_package_data() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]["dispatcher"]
    assert "broadcast/speech/*.yaml" in package_data


# --- reading time --------------------------------------------------------------------------------

NOTICE = (
    "UBND huyện Văn Quan thông báo: từ 0h ngày 16/10/2024, điện thoại chỉ dùng 2G sẽ bị "
    "khóa 2 chiều."
)
# Ủy ban nhân dân (4) huyện Văn Quan (3) thông báo (2) từ không giờ (3)
# ngày mười sáu tháng mười năm hai nghìn không trăm hai mươi tư (13) điện thoại chỉ dùng (4)
# hai G (2) sẽ bị khóa hai chiều (5)
NOTICE_SYLLABLES = 36


def test_syllables_of_a_notice() -> None:
    assert syllables(NOTICE) == NOTICE_SYLLABLES


def test_reading_time_of_a_notice() -> None:
    assert DEFAULT_SYLLABLES_PER_MINUTE == 140
    assert reading_seconds(NOTICE) == pytest.approx(36 * 60 / 140)
    assert reading_seconds(NOTICE, syllables_per_minute=120) == pytest.approx(18.0)


def test_a_400_syllable_bulletin_takes_about_three_minutes() -> None:
    bulletin = "Kính thưa bà con, " * 100  # 4 syllables each
    assert syllables(bulletin) == 400
    assert reading_seconds(bulletin) == pytest.approx(171.43, abs=0.01)


def test_syllables_ignore_punctuation_and_count_the_spoken_form() -> None:
    assert syllables("…, . ! ?") == 0
    assert syllables("") == 0
    assert syllables("Gọi 1800 8098!") == 9
    assert syllables("UBND") == 4
    assert syllables("UBND", {}) == 1


@pytest.mark.parametrize("rate", [0, -140, float("nan"), float("inf")])
def test_reading_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        reading_seconds(NOTICE, syllables_per_minute=rate)


# --- properties ----------------------------------------------------------------------------------

VIETNAMESE_LETTERS = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)
WRITTEN = st.text(
    alphabet=VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper() + "0123456789 .,:;/-–%()*#+h\n"
)


def dotted(n: int) -> str:
    return f"{n:,}".replace(",", ".")


@given(WRITTEN)
def test_every_digit_is_read(text: str) -> None:
    assert not re.search("[0-9]", spoken(text))


@given(st.text())
def test_output_is_nfc(text: str) -> None:
    assert unicodedata.is_normalized("NFC", spoken(text))


@given(st.text().filter(lambda t: not re.search("[0-9]", t)))
def test_text_without_digits_passes_unchanged(text: str) -> None:
    assert spoken(text, {}) == unicodedata.normalize("NFC", text)


@given(st.integers(min_value=0, max_value=MAX_NUMBER))
def test_written_numbers_read_as_number_words(n: int) -> None:
    assert spoken(f"có {dotted(n)} hộ") == f"có {number_words(n)} hộ"


@given(st.sampled_from("35789"), st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_mobile_numbers_read_in_4_3_3_groups(second: str, rest: str) -> None:
    number = "0" + second + rest
    groups = [number[:4], number[4:7], number[7:]]
    expected = ", ".join(digits_words(group) for group in groups)
    assert spoken(f"gọi {number} ngay") == f"gọi {expected} ngay"
    assert spoken(f"gọi {' '.join(groups)} ngay") == f"gọi {expected} ngay"


@given(st.dates(min_value=dt.date(1000, 1, 1)), st.booleans())
def test_written_dates_read_as_date_words(date: dt.date, padded: bool) -> None:
    written = f"{date:%d/%m/%Y}" if padded else f"{date.day}/{date.month}/{date.year}"
    assert spoken(f"từ {written} trở đi") == f"từ {date_words(date)} trở đi"


@given(st.integers(0, 23), st.integers(0, 59))
def test_written_times_read_as_time_words(hour: int, minute: int) -> None:
    assert spoken(f"lúc {hour}h{minute:02d}.") == f"lúc {time_words(hour, minute)}."
    assert spoken(f"lúc {hour:02d}:{minute:02d}.") == f"lúc {time_words(hour, minute)}."


@given(st.lists(st.sampled_from(["bà", "con", "xã", "Văn", "Quan", "loa", "thông", "báo"])))
def test_syllables_of_plain_words(words: list[str]) -> None:
    assert syllables(", ".join(words)) == len(words)


@given(WRITTEN, st.floats(min_value=1, max_value=1000))
def test_reading_time_is_syllables_over_rate(text: str, rate: float) -> None:
    assert reading_seconds(text, rate) == pytest.approx(syllables(text) * 60 / rate)
