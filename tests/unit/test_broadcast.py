"""Airing calendars and broadcast script rendering (dispatcher.broadcast)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dispatcher.broadcast import (
    WRAP_WIDTH,
    Airing,
    ScriptTemplate,
    airing_stem,
    airings,
    commune_slug,
    duration_vi,
    in_sentence,
    ordinal_vi,
    render_script,
    script_path,
    script_variables,
    tidy,
    with_suffix,
)
from dispatcher.broadcast.pull import days_asked, parse_day
from dispatcher.core.errors import BadInput

VN = ZoneInfo("Asia/Ho_Chi_Minh")
REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "audio" / "templates" / "2g-shutdown.txt.j2"
COMMUNES = ["Thị trấn Văn Quan", "Xã Tân Đoàn", "Xã Tràng Các"]
AIRING = Airing("Xã Tân Đoàn", datetime(2024, 8, 5, 6, 0, tzinfo=VN))  # a Monday
TEMPLATE = """\
{% block opening %}MỞ ĐẦU {{ commune }}.{% endblock %}
{% block content %}NỘI DUNG {{ date }} {{ time }} {{ weekday }}.{% endblock %}
{% block closing %}KẾT THÚC {{ unit }}.{% endblock %}
"""


def flat(text: str) -> str:
    """The words of ``text`` with line breaks as spaces, so phrases survive wrapping."""
    return " ".join(text.split())


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def render(
    template: ScriptTemplate, repeat: int = 1, extra: dict[str, object] | None = None
) -> str:
    return render_script(
        template, AIRING, campaign_id="2g-shutdown-2024", title="Chuyển đổi 2G sang 4G",
        unit="UBND", repeat=repeat, extra_vars=extra,
    )  # fmt: skip


def bad_input(template: ScriptTemplate) -> BadInput:
    with pytest.raises(BadInput) as caught:
        render(template)
    return caught.value


# --- the calendar --------------------------------------------------------------------------


def test_airings_of_the_sample_calendar() -> None:
    start, end, days = date(2024, 8, 1), date(2024, 10, 15), {0, 2, 4}
    times = [time(17, 30), time(6)]
    found = airings(COMMUNES, start, end, times, days, VN)

    # Counted independently: Mondays, Wednesdays and Fridays in the window.
    matching = sum((start + timedelta(i)).weekday() in days for i in range((end - start).days + 1))
    assert matching == 32
    assert len(found) == matching * len(times) * len(COMMUNES) == 192

    first_friday = datetime(2024, 8, 2, 6, tzinfo=VN)
    assert found[:3] == [Airing(name, first_friday) for name in COMMUNES]
    assert found[3].at == datetime(2024, 8, 2, 17, 30, tzinfo=VN)
    assert found[-1] == Airing("Xã Tràng Các", datetime(2024, 10, 14, 17, 30, tzinfo=VN))
    assert [a.at for a in found] == sorted(a.at for a in found)


def test_airings_name_each_commune_once_in_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Xã Tân Đoàn")
    found = airings(
        ["Xã Tân Đoàn", decomposed, "  Xã  Tân Đoàn ", "Xã Tri Lễ"],
        date(2024, 8, 5), date(2024, 8, 5), [time(6)], None, VN,
    )  # fmt: skip
    assert [a.commune for a in found] == ["Xã Tân Đoàn", "Xã Tri Lễ"]
    assert all(unicodedata.is_normalized("NFC", a.commune) for a in found)


def test_airings_refuse_an_empty_commune_name() -> None:
    with pytest.raises(BadInput, match="empty"):
        airings(["Xã Tân Đoàn", " "], date(2024, 8, 5), date(2024, 8, 5), [time(6)], None, VN)


def test_airing_key_and_awareness() -> None:
    assert AIRING.key == "2024-08-05T06:00+07:00"
    with pytest.raises(ValueError, match="timezone-aware"):
        Airing("Xã Tân Đoàn", datetime(2024, 8, 5, 6))


# --- the sample template -------------------------------------------------------------------


@pytest.mark.parametrize("repeat", [1, 2, 3])
def test_sample_script_reads_the_content_repeat_times(repeat: int) -> None:
    script = flat(render(ScriptTemplate.from_file(SAMPLE), repeat=repeat))
    assert script.count("Viettel số 1800 8098") == repeat
    assert script.count("Kính thưa bà con nhân dân!") == 1
    assert script.count("Xin trân trọng cảm ơn!") == 1


def test_sample_script_is_opening_then_content_then_closing() -> None:
    script = flat(render(ScriptTemplate.from_file(SAMPLE), repeat=2))
    opening = script.index("Đây là Đài truyền thanh xã Tân Đoàn.")
    first = script.index("Từ 0 giờ ngày 16 tháng 10 năm 2024")
    second = script.index("Từ 0 giờ ngày 16 tháng 10 năm 2024", first + 1)
    closing = script.index("bà con lưu ý thực hiện", second)
    assert opening < script.index("lần thứ nhất") < first < script.index("lần thứ hai") < second
    assert second < closing


def test_sample_script_keeps_its_diacritics_in_nfc() -> None:
    script = render(ScriptTemplate.from_file(SAMPLE))
    assert unicodedata.is_normalized("NFC", script)
    for phrase in ["Tổ công nghệ số cộng đồng", "Ủy ban nhân dân", "người cao tuổi", "đổi sang"]:
        assert phrase in flat(script)
    assert script.endswith("\n") and not script.endswith("\n\n")


def test_sample_content_is_one_to_two_minutes_at_140_syllables_a_minute() -> None:
    source = SAMPLE.read_text(encoding="utf-8")
    content = source.split("{% block content %}")[1].split("{% endblock %}")[0]
    syllables = len(re.findall(r"\w+", content))
    assert 150 <= syllables <= 250


def test_sample_script_lines_fit_the_page() -> None:
    lines = render(ScriptTemplate.from_file(SAMPLE), repeat=2).splitlines()
    assert max(len(line) for line in lines) <= WRAP_WIDTH
    assert all(line == line.rstrip() for line in lines)
    assert "\n\n\n" not in "\n".join(lines)


# --- inline scripts and the default frame --------------------------------------------------


def test_inline_script_gets_the_default_opening_and_closing() -> None:
    inline = ScriptTemplate.from_text("Bà con {{ commune }} lưu ý {{ hotline }}.")
    script = flat(render(inline, 2, {"hotline": "1800 8098"}))
    assert script.startswith("Đây là Đài truyền thanh xã Tân Đoàn. Kính thưa bà con nhân dân!")
    assert script.endswith("đề nghị bà con lưu ý thực hiện. Xin trân trọng cảm ơn!")
    assert script.count("Bà con Xã Tân Đoàn lưu ý 1800 8098.") == 2
    assert "Đài xin đọc lại thông báo lần thứ hai." in script


def test_variables_available_to_templates() -> None:
    names = ["commune", "campaign", "title", "unit", "date", "time", "weekday", "repeat"]
    body = " ".join(f"{n}=[{{{{ {n} }}}}]" for n in names) + " airing=[{{ airing.hour }}]"
    script = flat(render(ScriptTemplate.from_text(body), repeat=2))
    for expected in [
        "commune=[Xã Tân Đoàn]", "campaign=[2g-shutdown-2024]", "title=[Chuyển đổi 2G sang 4G]",
        "unit=[UBND]", "date=[05/08/2024]", "time=[06:00]", "weekday=[Thứ Hai]", "repeat=[2]",
        "airing=[6]",
    ]:  # fmt: skip
        assert expected in script


def test_extra_vars_cannot_redefine_built_in_ones() -> None:
    with pytest.raises(BadInput, match="commune"):
        render(ScriptTemplate.from_text("{{ commune }}"), extra={"commune": "Xã Khác"})


def test_script_variables_merge_extra_vars() -> None:
    variables = script_variables(
        AIRING, campaign_id="c", title="t", unit="u", repeat=1, extra_vars={"hotline": "1"}
    )
    assert variables["hotline"] == "1" and variables["weekday"] == "Thứ Hai"


def test_empty_content_is_refused() -> None:
    with pytest.raises(BadInput, match="empty"):
        render(ScriptTemplate.from_text("{# nothing #}  \n"))


def test_repeat_must_be_positive() -> None:
    with pytest.raises(ValueError, match="repeat"):
        render(ScriptTemplate.from_text("x"), repeat=0)


# --- template files: inheritance, includes, markers ----------------------------------------


def test_file_template_blocks_and_nfc(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", TEMPLATE)
    template = ScriptTemplate.from_file(write(tmp_path, "t.txt.j2", decomposed))
    script = render(template)
    assert script == (
        "MỞ ĐẦU Xã Tân Đoàn.\n\nNỘI DUNG 05/08/2024 06:00 Thứ Hai.\n\nKẾT THÚC UBND.\n"
    )
    assert unicodedata.is_normalized("NFC", script)


def test_extends_include_and_top_level_set(tmp_path: Path) -> None:
    write(tmp_path, "base.txt.j2", TEMPLATE)
    write(tmp_path, "hotlines.txt.j2", "Gọi {{ hotline }}.")
    child = write(
        tmp_path,
        "child.txt.j2",
        '{% extends "base.txt.j2" %}{% set hotline = "1800 8098" %}'
        '{% block content %}{{ super() }} {% include "hotlines.txt.j2" %}{% endblock %}',
    )
    script = render(ScriptTemplate.from_file(child))
    assert script == (
        "MỞ ĐẦU Xã Tân Đoàn.\n\nNỘI DUNG 05/08/2024 06:00 Thứ Hai. Gọi 1800 8098.\n\n"
        "KẾT THÚC UBND.\n"
    )


def test_template_may_define_its_own_marker(tmp_path: Path) -> None:
    source = (
        TEMPLATE + "{% macro marker(reading) %}(Đọc lần {{ reading }}/{{ repeat }}){% endmacro %}"
    )
    script = render(ScriptTemplate.from_file(write(tmp_path, "t.txt.j2", source)), repeat=2)
    assert "(Đọc lần 1/2)\n\nNỘI DUNG" in script
    assert "(Đọc lần 2/2)\n\nNỘI DUNG" in script
    assert "Đài xin đọc" not in script


def test_missing_block_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "t.txt.j2", "{% block content %}x{% endblock %}")
    problem = bad_input(ScriptTemplate.from_file(path, display="audio/t.txt.j2")).problems[0]
    assert problem.file == "audio/t.txt.j2"
    assert "{% block opening %}" in problem.message and "{% block closing %}" in problem.message
    assert "content" not in problem.message


# --- template errors become BadInput at file:line ------------------------------------------


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    source = TEMPLATE.replace("{% block closing %}", "{% if %}{% block closing %}")
    path = write(tmp_path, "broken.txt.j2", source)
    with pytest.raises(BadInput) as caught:
        ScriptTemplate.from_file(path, display="audio/broken.txt.j2")
    problem = caught.value.problems[0]
    assert (problem.file, problem.line) == ("audio/broken.txt.j2", 3)
    assert problem.message.startswith("template syntax error")
    assert str(caught.value).startswith("audio/broken.txt.j2:3: ")


def test_undefined_variable_names_variable_file_and_line(tmp_path: Path) -> None:
    source = TEMPLATE.replace("{{ date }}", "{{ date }}\ngọi {{ hotline }}")
    path = write(tmp_path, "t.txt.j2", source)
    problem = bad_input(ScriptTemplate.from_file(path, display="t.txt.j2")).problems[0]
    assert (problem.file, problem.line) == ("t.txt.j2", 3)
    assert "'hotline' is undefined" in problem.message
    assert "commune" in problem.message  # lists what is available


def test_undefined_variable_in_inline_script() -> None:
    inline = ScriptTemplate.from_text("Dòng một.\n{{ hotlne }}", origin="campaigns/x.yaml")
    problem = bad_input(inline).problems[0]
    assert (problem.file, problem.line) == ("campaigns/x.yaml", 2)
    assert "'hotlne' is undefined" in problem.message


def test_syntax_error_in_inline_script() -> None:
    with pytest.raises(BadInput) as caught:
        ScriptTemplate.from_text("Dòng một.\n{{ commune ", origin="campaigns/x.yaml")
    assert caught.value.problems[0].file == "campaigns/x.yaml"
    assert caught.value.problems[0].line == 2


def test_error_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    write(tmp_path, "part.txt.j2", "một\nhai {{ nowhere }}")
    main = write(
        tmp_path, "t.txt.j2", TEMPLATE.replace("{{ date }}", '{% include "part.txt.j2" %}')
    )
    problem = bad_input(ScriptTemplate.from_file(main)).problems[0]
    assert Path(problem.file or "").name == "part.txt.j2"
    assert problem.line == 2


def test_missing_include_is_bad_input(tmp_path: Path) -> None:
    source = TEMPLATE.replace("{{ date }}", '{% include "nowhere.txt.j2" %}')
    problem = bad_input(ScriptTemplate.from_file(write(tmp_path, "t.txt.j2", source))).problems[0]
    assert "nowhere.txt.j2" in problem.message and problem.line == 2


def test_runtime_error_is_bad_input(tmp_path: Path) -> None:
    path = write(tmp_path, "t.txt.j2", TEMPLATE.replace("{{ time }}", "{{ 1 // 0 }}"))
    problem = bad_input(ScriptTemplate.from_file(path, display="t.txt.j2")).problems[0]
    assert (problem.file, problem.line) == ("t.txt.j2", 2)
    assert "ZeroDivisionError" in problem.message


def test_missing_or_undecodable_template_file(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="not found"):
        ScriptTemplate.from_file(tmp_path / "nowhere.txt.j2")
    latin1 = tmp_path / "latin1.txt.j2"
    latin1.write_bytes("Đà".encode("cp1258"))  # saved by an old Windows editor
    with pytest.raises(BadInput, match="UTF-8"):
        ScriptTemplate.from_file(latin1)


# --- text layout ---------------------------------------------------------------------------


def test_tidy_rejoins_editor_wrapped_sentences_and_keeps_deliberate_breaks() -> None:
    pieces = [
        "Kính thưa bà con!\nTừ ngày 16/10/2024, điện thoại chỉ dùng\n2G bị khóa.",
        "Liên hệ:\n- Viettel 1800 8098\n- VinaPhone 1800 1091",
    ]
    assert tidy(pieces) == (
        "Kính thưa bà con!\nTừ ngày 16/10/2024, điện thoại chỉ dùng 2G bị khóa.\n\n"
        "Liên hệ:\n- Viettel 1800 8098\n- VinaPhone 1800 1091\n"
    )


def test_tidy_wraps_long_lines_with_a_hanging_indent() -> None:
    item = "- " + "Tổ công nghệ số cộng đồng hỗ trợ bà con " * 4 + "1800\u00a08098"
    lines = tidy([item], width=40).splitlines()
    assert len(lines) > 1 and all(len(line) <= 40 for line in lines)
    assert all(line.startswith("  ") for line in lines[1:])
    assert lines[-1].endswith("1800\u00a08098")  # a non-breaking space is not a break


def test_tidy_without_width_keeps_long_lines() -> None:
    line = "chữ " * 40
    assert tidy([line], width=None) == line.strip() + "\n"


# --- Vietnamese helpers and file names -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Xã Tân Đoàn", "xã Tân Đoàn"),
        ("Thị trấn Văn Quan", "thị trấn Văn Quan"),
        ("THỊ TRẤN Văn Quan", "thị trấn Văn Quan"),
        ("Tân Đoàn", "Tân Đoàn"),
        ("Xãi Tân", "Xãi Tân"),  # a word that merely starts like a unit kind
        (unicodedata.normalize("NFD", "Xã Hữu Lễ"), "xã Hữu Lễ"),
    ],
)
def test_in_sentence(name: str, expected: str) -> None:
    assert in_sentence(name) == expected


@pytest.mark.parametrize(
    ("number", "words"), [(1, "thứ nhất"), (2, "thứ hai"), (4, "thứ tư"), (5, "thứ năm")]
)
def test_ordinal_vi(number: int, words: str) -> None:
    assert ordinal_vi(number) == words


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Xã Tân Đoàn", "xa-tan-doan"),
        ("Thị trấn Văn Quan", "thi-tran-van-quan"),
        ("Xã Điềm He", "xa-diem-he"),
        ("Xã Hữu Lễ", "xa-huu-le"),
        ("Xã Tràng Các", "xa-trang-cac"),
        (unicodedata.normalize("NFD", "Xã Hòa Bình"), "xa-hoa-binh"),
        ("  Xã  Tú Xuyên (cũ) ", "xa-tu-xuyen-cu"),
    ],
)
def test_commune_slug(name: str, slug: str) -> None:
    assert commune_slug(name) == slug


def test_commune_slug_needs_a_letter() -> None:
    with pytest.raises(BadInput, match="folder"):
        commune_slug(" – ")


def test_script_path_layout(tmp_path: Path) -> None:
    evening = Airing("Xã Tân Đoàn", datetime(2024, 8, 5, 17, 30, tzinfo=VN))
    expected = tmp_path / "2g-shutdown-2024" / "xa-tan-doan" / "2024-08-05_1730.txt"
    assert script_path(tmp_path, "2g-shutdown-2024", evening) == expected


@pytest.mark.parametrize("campaign_id", ["", "..", "../x", "a/b", ".hidden"])
def test_script_path_refuses_unsafe_campaign_ids(tmp_path: Path, campaign_id: str) -> None:
    with pytest.raises(ValueError, match="folder"):
        script_path(tmp_path, campaign_id, AIRING)


def test_airing_stem_and_its_files(tmp_path: Path) -> None:
    evening = Airing("Xã Tân Đoàn", datetime(2024, 8, 5, 17, 30, tzinfo=VN))
    stem = airing_stem(tmp_path, "2g-shutdown-2024", evening)
    assert stem == tmp_path / "2g-shutdown-2024" / "xa-tan-doan" / "2024-08-05_1730"
    tay = airing_stem(tmp_path, "2g-shutdown-2024", evening, "tay")
    assert tay.name == "2024-08-05_1730.tay"
    assert with_suffix(tay, ".mp3").name == "2024-08-05_1730.tay.mp3"  # the code stays
    assert script_path(tmp_path, "2g-shutdown-2024", evening, "tay") == with_suffix(tay, ".txt")


@pytest.mark.parametrize("language", ["", "TAY", "t", "tay/../x", "tày"])
def test_airing_stem_refuses_odd_language_codes(tmp_path: Path, language: str) -> None:
    with pytest.raises(ValueError, match="language"):
        airing_stem(tmp_path, "c", AIRING, language)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(85, "1 phút 25 giây"), (85.4, "1 phút 25 giây"), (60, "1 phút"), (45, "45 giây"),
     (0, "0 giây"), (3725, "1 giờ 2 phút 5 giây"), (3600, "1 giờ")],
)  # fmt: skip
def test_duration_vi(seconds: float, words: str) -> None:
    assert duration_vi(seconds) == words


def test_an_unframed_text_is_the_whole_script_read_once() -> None:
    template = ScriptTemplate.from_text("Bản tiếng Tày cho {{ commune }}.", framed=False)
    script = render_script(
        template, AIRING, campaign_id="c", title="T", unit="UBND huyện Văn Quan", repeat=2
    )
    assert script == f"Bản tiếng Tày cho {AIRING.commune}.\n"


@pytest.mark.parametrize(
    ("written", "day"),
    [("16/10/2024", date(2024, 10, 16)), ("1/2/2025", date(2025, 2, 1)),
     (" 2024-10-16 ", date(2024, 10, 16))],
)  # fmt: skip
def test_days_are_written_the_vietnamese_way_or_iso(written: str, day: date) -> None:
    assert parse_day(written, "--date") == day


@pytest.mark.parametrize(
    ("written", "message"),
    [("32/08/2024", "--date: '32/08/2024' is not a date: day is out of range for month"),
     ("08/16/2024", "--date: '08/16/2024' is not a date: month must be in 1..12"),
     ("16.10.2024", "--date: '16.10.2024' is not a date like 16/10/2024 or 2024-10-16"),
     ("hôm nay", "--date: 'hôm nay' is not a date like 16/10/2024 or 2024-10-16")],
)  # fmt: skip
def test_a_bad_day_names_the_option(written: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_day(written, "--date")
    assert str(caught.value.problems[0]) == message


@pytest.mark.parametrize(
    ("day", "start", "end", "expected"),
    [(None, None, None, (None, None)),  # today, in each campaign's time zone
     ("16/10/2024", None, None, (date(2024, 10, 16), date(2024, 10, 16))),
     (None, "2024-10-01", "31/10/2024", (date(2024, 10, 1), date(2024, 10, 31)))],
)  # fmt: skip
def test_days_asked(
    day: str | None, start: str | None, end: str | None, expected: tuple[date, date]
) -> None:
    assert days_asked(day, start, end) == expected


@pytest.mark.parametrize(
    ("day", "start", "end", "message"),
    [("16/10/2024", "16/10/2024", None, "--date: give --date, or --from and --to, not both"),
     (None, "16/10/2024", None, "--to: --from and --to go together"),
     (None, None, "16/10/2024", "--from: --from and --to go together"),
     (None, "16/10/2024", "15/10/2024", "--to: 15/10/2024 is before --from 16/10/2024"),
     (None, "01/01/2024", "01/01/2025", "--to: at most 366 days at once")],
)  # fmt: skip
def test_days_asked_refuses_what_makes_no_sense(
    day: str | None, start: str | None, end: str | None, message: str
) -> None:
    with pytest.raises(BadInput) as caught:
        days_asked(day, start, end)
    assert str(caught.value.problems[0]) == message
