"""Loading campaign files: errors at `file:line` and field, and the YAML forms operators write."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time
from pathlib import Path

import pytest

from dispatcher.broadcast import service as broadcast_service
from dispatcher.broadcast import tidy
from dispatcher.campaigns.folder import NOT_A_CAMPAIGN
from dispatcher.campaigns.spec import load_campaign
from dispatcher.core.errors import BadInput
from dispatcher.sending.send import prepare_campaign, validate

REPO = Path(__file__).resolve().parents[2]
HEAD = ["id: thu-nghiem", "title: Thử nghiệm", "unit: UBND xã Tân Đoàn"]  # lines 1-3
SMALL_LIST = "phone,name\n0912345678,An\n0987654321,Bình\n"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with a small list, like an operator's: errors name paths relative to it."""
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "small.csv").write_text(SMALL_LIST, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _write(folder: Path, *lines: str) -> Path:
    """A campaign file whose line N is ``lines[N - 1]``."""
    path = folder / "campaign.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _problems(path: Path, *, prepare: bool = False) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(BadInput) as caught:
        prepare_campaign(path) if prepare else load_campaign(path)
    assert {p.file for p in caught.value.problems} == {"campaign.yaml"}
    return [(p.line, p.field, p.message) for p in caught.value.problems]


SMS = ["sms:", "  text: Xin chào {{ name }}", "  recipients: [lists/small.csv]"]  # lines 4-6


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            [*HEAD, "sms:", "  text: Xin chào", "  txet: Xin chào",
             "  recipients: [lists/small.csv]"],
            [(6, "sms.txet", "unknown key")],
            id="nested unknown key",
        ),
        pytest.param(
            [*HEAD, *SMS, "  schedule:", "    start: 2024-08-01", "    end: 2024-09-01",
             "    times: ['08:00']", "    days: [mon, thu, caturday]"],
            [(11, "sms.schedule.days[2]",
              "Input should be 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'")],
            id="item of a flow list",
        ),
        pytest.param(
            [*HEAD, "sms:", "  text: Xin chào", "  recipients:", "    - lists/small.csv",
             "    - lists/khong-co.csv", "  exclude:", "    - lists/small.csv",
             "    - lists/da-tu-choi.csv"],
            [(8, "sms.recipients[1]", "file not found: lists/khong-co.csv"),
             (11, "sms.exclude[1]", "file not found: lists/da-tu-choi.csv")],
            id="items of block lists",
        ),
        pytest.param(
            [*HEAD, *SMS, "  schedule:", "    start: 2024-09-01", "    end: 2024-08-01",
             "    times: ['08:00']"],
            [(9, "sms.schedule.end", "end 2024-08-01 is before start 2024-09-01")],
            id="end before start",
        ),
        pytest.param(
            [*HEAD, *SMS, "  max_segments: 11"],
            [(7, "sms.max_segments", "Input should be less than or equal to 10")],
            id="out of range",
        ),
        pytest.param(
            ["id: chiến dịch 2G", *HEAD[1:], *SMS],
            [(1, "id", "'chiến dịch 2G' is not a campaign id: use up to 64 ASCII letters, "
                       "digits and '-' (no spaces or diacritics), like 2g-shutdown-2024")],
            id="campaign id",
        ),
        pytest.param(
            [*HEAD, "broadcast:", "  communes: [Xã Tân Đoàn]", "  times: [25:00]",
             "  start: 2024-08-01", "  end: 2024-08-31", "  script: Bà con chú ý."],
            [(6, "broadcast.times[0]", "'25:00' is not a time of day like \"08:00\"")],
            id="unquoted 25:00 is not 00:25",
        ),
        pytest.param(
            [*HEAD, "broadcast:", "  communes: [Xã Tân Đoàn]", "  times: ['06:00']",
             "  start: 2024-08-01", "  script: Bà con chú ý."],
            [(1, None, "broadcast needs `start` and `end` when there is no sms schedule")],
            id="broadcast without end",
        ),
        pytest.param(
            [*HEAD, *SMS, "  schedule:", "    start: 2024-08-01", "    end: 2024-10-15",
             "    times: ['08:00']", "broadcast:", "  communes: [Xã Tân Đoàn]",
             "  times: ['06:00']", "  start: 2024-11-01", "  script: Bà con chú ý."],
            [(1, None, "the broadcast would end (2024-10-15) before it starts (2024-11-01)")],
            id="broadcast starting after the sms schedule's end",
        ),
        pytest.param(
            [*HEAD, "broadcast:", "  communes: [Xã Tân Đoàn, '  ']", "  times: ['06:00']",
             "  start: 2024-08-01", "  end: 2024-08-31", "  script: Bà con chú ý."],
            [(5, "broadcast", "a name in `communes` is empty")],
            id="blank commune",
        ),
        pytest.param(
            [*HEAD, "broadcast:", "  communes: [Xã Tân Đoàn]", "  times: ['06:00']",
             "  start: 2024-08-01", "  end: 2024-08-31", "  script: Bà con chú ý.",
             "  vars:", "    hotline: 1800 8098", "    commune: Xã khác"],
            [(11, "broadcast.vars", "cannot redefine built-in variables: commune")],
            id="vars shadowing a built-in",
        ),
        pytest.param(
            [*HEAD, "broadcast:", "  communes: [Xã Tân Đoàn]", "  times: ['06:00']",
             "  start: 2024-08-01", "  end: 2024-08-31", "  script: Bà con chú ý.",
             "  recordings:", "    - {file: ghi-am.mp3, language: tay}"],
            [(11, "broadcast.recordings[0].language",
              "'tay' is neither vi nor a code of `variants` (none)")],
            id="recording in a language without a variant",
        ),
        pytest.param(
            [*HEAD, "broadcast:", "  communes: [Xã Tân Đoàn]", "  times: ['06:00']",
             "  start: 2024-08-01", "  end: 2024-08-31", "  script: Bà con chú ý.",
             "  recordings:", "    - {file: ghi-am.mp3, when: '2024-08-01 06:00'}",
             "    - {file: ghi-am.mp3, at: 2024-08-01 06:00:30}"],
            [(11, "broadcast.recordings[0].when", "unknown key"),
             (12, "broadcast.recordings[1].at",
              "'2024-08-01 06:00:30': give the time to the minute, like 08:00")],
            id="recording with an unknown key and a time in seconds",
        ),
    ],
)  # fmt: skip
def test_errors_point_at_the_line_and_field(
    folder: Path, lines: list[str], expected: list[tuple[int, str, str]]
) -> None:
    assert _problems(_write(folder, *lines)) == expected


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param(["  text: Xin chào {{ name }"], 5, id="plain"),
        pytest.param(["  text: 'Xin chào {{ name }'"], 5, id="quoted"),
        pytest.param(["  text: |", "    Xin chào {{ name }},", "    hạn chót {{ han_chot }",
                      "    nhé."], 7, id="literal block"),
        pytest.param(["  text: >-", "    Xin chào {{ name }},", "    hạn chót {{ han_chot }",
                      "    nhé."], 7, id="folded block"),
        pytest.param(["  text:", "    Xin chào {{ name }},", "    hạn chót", "    {{ han_chot }"],
                     8, id="plain over lines"),
    ],
)  # fmt: skip
def test_a_template_syntax_error_is_at_its_line_in_the_campaign_file(
    folder: Path, text: list[str], line: int
) -> None:
    path = _write(folder, *HEAD, "sms:", *text, "  recipients: [lists/small.csv]")
    assert _problems(path, prepare=True) == [(line, "sms.text", "template error: unexpected '}'")]


def test_a_missing_column_is_reported_once_at_the_text_with_the_lists_columns(
    folder: Path,
) -> None:
    (folder / "lists" / "other.csv").write_text("SĐT,nmae\n0911111111,An\n", encoding="utf-8")
    path = _write(
        folder, *HEAD, "sms:", "  text: Chào {{ nmae }}",
        "  recipients: [lists/small.csv, lists/other.csv]",
    )  # fmt: skip
    # small.csv has two rows without `nmae`: one problem for the list, none for other.csv.
    assert _problems(path, prepare=True) == [
        (5, "sms.text", "`nmae` is not a column of lists/small.csv: phone, name")
    ]


def test_two_misspelt_variables_are_named_together(folder: Path) -> None:
    path = _write(
        folder, *HEAD, "sms:", "  text: >-", "    Chào {{ nmae }}", "    ở {{ xa }}",
        "  recipients: [lists/small.csv]",
    )  # fmt: skip
    assert _problems(path, prepare=True) == [
        (5, "sms.text", "`nmae`, `xa` are not columns of lists/small.csv: phone, name")
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("[17:30, 6:00]", [time(6, 0), time(17, 30)]),  # YAML 1.1 reads these as 1050 and 360
        ("['17:30', '06:00']", [time(6, 0), time(17, 30)]),
        ("['8:05']", [time(8, 5)]),
        ("[0:30]", [time(0, 30)]),  # a string for YAML: no leading 1-9, so not base 60
    ],
)
def test_times_of_day_in_every_way_yaml_writes_them(
    folder: Path, written: str, expected: list[time]
) -> None:
    path = _write(
        folder, *HEAD, "broadcast:", "  communes: [Xã Tân Đoàn]", f"  times: {written}",
        "  start: 2024-08-01", "  end: 2024-08-31", "  script: Bà con chú ý.",
    )  # fmt: skip
    broadcast = load_campaign(path).spec.broadcast
    assert broadcast is not None and broadcast.times == expected


def test_communes_can_come_from_a_csv_with_a_name_column(folder: Path) -> None:
    (folder / "lists" / "xa.csv").write_text(
        "\ufeffmã,Name,dân số\n1,Thị trấn Văn Quan,5000\n2, Xã Tân Đoàn ,3000\n\n", encoding="utf-8"
    )
    path = _write(
        folder, *HEAD, "broadcast:", "  communes: lists/xa.csv", "  times: ['06:00', '17:30']",
        "  days: [mon]", "  start: 2024-08-05", "  end: 2024-08-12", "  script: Bà con chú ý.",
    )  # fmt: skip
    campaign = prepare_campaign(path).campaign
    assert broadcast_service.communes(campaign) == ["Thị trấn Văn Quan", "Xã Tân Đoàn"]
    planned = broadcast_service.planned_airings(campaign, None)  # no units registry here
    assert [(c, at.isoformat()) for c, at in planned] == [
        (commune, f"2024-08-{day}T{hour}:00+07:00")
        for day in ("05", "12")
        for hour in ("06:00", "17:30")
        for commune in ("Thị trấn Văn Quan", "Xã Tân Đoàn")
    ]


def test_a_missing_commune_list_is_at_its_line(folder: Path) -> None:
    path = _write(
        folder, *HEAD, "broadcast:", "  times: ['06:00']", "  communes: lists/xa.csv",
        "  start: 2024-08-05", "  end: 2024-08-12", "  script: Bà con chú ý.",
    )  # fmt: skip
    assert _problems(path) == [(6, "broadcast.communes", "file not found: lists/xa.csv")]


def test_an_inline_script_is_framed_by_the_default_opening_and_closing(folder: Path) -> None:
    path = _write(
        folder, *HEAD, "broadcast:", "  communes: [Xã Tân Đoàn]", "  times: ['06:00']",
        "  start: 2024-08-05", "  end: 2024-08-05", "  repeat: 2", "  vars:",
        "    hotline: 1800 8098", "  script: |", "    Bà con {{ commune|in_sentence }} chú ý:",
        "    gọi {{ hotline }} khi cần.",
    )  # fmt: skip
    campaign = prepare_campaign(path).campaign
    (airing,) = broadcast_service.campaign_airings(campaign, None)
    (rendered,) = broadcast_service.CampaignScripts(campaign, None).for_airing(airing)
    script = tidy([rendered.text])
    content = "Bà con xã Tân Đoàn chú ý:\ngọi 1800 8098 khi cần.\n\n"
    assert script == (
        "Đây là Đài truyền thanh xã Tân Đoàn.\nKính thưa bà con nhân dân!\n"
        "Sau đây là thông báo của UBND xã Tân Đoàn: Thử nghiệm.\n\n"
        f"Đài xin đọc thông báo lần thứ nhất.\n\n{content}"
        f"Đài xin đọc lại thông báo lần thứ hai.\n\n{content}"
        "Trên đây là thông báo của UBND xã Tân Đoàn, đề nghị bà con lưu ý thực\nhiện.\n"
        "Xin trân trọng cảm ơn!\n"
    )


def test_the_fingerprint_follows_the_files_content(folder: Path) -> None:
    path = _write(folder, *HEAD, *SMS)
    first = load_campaign(path).fingerprint
    assert load_campaign(path).fingerprint == first
    _write(folder, *HEAD, *SMS, "  max_segments: 2")
    changed = load_campaign(path).fingerprint
    assert changed != first and len(changed) == 64
    _write(folder, *HEAD, *SMS)
    assert load_campaign(path).fingerprint == first


def test_the_sample_campaign_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "campaigns", tmp_path / "campaigns")
    shutil.copytree(REPO / "audio" / "templates", tmp_path / "audio" / "templates")
    monkeypatch.chdir(tmp_path)
    prepared = prepare_campaign(Path("campaigns/2g-shutdown-2024.yaml"))
    spec = prepared.campaign.spec
    assert spec.sms is not None and spec.sms.schedule is not None and spec.broadcast is not None
    assert spec.sms.schedule.times == [time(8, 0)]
    assert spec.broadcast.times == [time(6, 0), time(17, 30)]
    assert prepared.campaign.broadcast_window() == (date(2024, 8, 1), date(2024, 10, 15))
    assert prepared.composition is not None
    assert (prepared.composition.encoding, prepared.composition.total_segments) == ("GSM-7", 272)


# -- schedule forms, quiet hours, urgent -----------------------------------------------------------
SCHEDULE = [*HEAD, *SMS, "  schedule:"]  # line 7; its keys from line 8 (a missing key: 8)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        pytest.param(
            ["    start: 2024-08-01", "    cron: '0 8 * * mon'"],
            [(8, "sms.schedule.end", "required key is missing: a cron schedule without an end "
                                     "would send forever")],
            id="cron without end",
        ),
        pytest.param(
            ["    end: 2024-08-01", "    cron: '0 8 * * mon'"],
            [(8, "sms.schedule.start",
              "required key is missing (with `cron`, the first day it may send)")],
            id="cron without start",
        ),
        pytest.param(
            ["    start: 2024-08-01", "    end: 2024-09-01", "    cron: '0 8 * * mon'",
             "    times: ['08:00']", "    days: [mon]"],
            [(11, "sms.schedule.times", "not with `cron`: the cron expression says the days and "
                                        "times"),
             (12, "sms.schedule.days", "not with `cron`: the cron expression says the days and "
                                       "times")],
            id="cron with times and days",
        ),
        pytest.param(
            ["    start: 2024-08-01", "    end: 2024-09-01", "    cron: 0 8 * *"],
            [(10, "sms.schedule.cron", "'0 8 * *' is not a cron expression: write five fields, "
              'minute hour day-of-month month day-of-week, like "0 8 * * mon,thu"')],
            id="cron with four fields",
        ),
        pytest.param(
            ["    start: 2024-08-01", "    end: 2024-09-01", "    cron: '0 8 * * caturday'"],
            [(10, "sms.schedule.cron",
              "'0 8 * * caturday' is not a valid cron expression: [0 8 * * caturday] is not "
              "acceptable")],
            id="cron with a wrong day name",
        ),
        pytest.param(
            ["    at: [2024-08-01 08:00]", "    start: 2024-08-01"],
            [(9, "sms.schedule.start", "not with `at`: one-off sends are whole local date-times, "
                                       "like 2024-08-01 08:00")],
            id="at with start",
        ),
        pytest.param(
            ["    at: [2024-08-01 08:00]", "    cron: '0 8 * * *'"],
            [(9, "sms.schedule.cron", "give one form: `cron` or `at`, not both")],
            id="at and cron",
        ),
        pytest.param(
            ["    at:", "      - 2024-08-01 08:00", "      - 2024-08-01",
             "      - 2024-08-01 25:00",
             "      - 2024-08-01T08:00:00+07:00", "      - 2024-08-01 08:00:30",
             "      - 2024-02-30 08:00"],
            [(10, "sms.schedule.at[1]", "'2024-08-01' is not a local date and time like "
                                        "2024-08-01 08:00"),
             (11, "sms.schedule.at[2]", "'25:00' is not a time of day like \"08:00\""),
             (12, "sms.schedule.at[3]", "'2024-08-01 08:00:00+07:00' has a UTC offset: write the "
              "local time without one, like 2024-08-01 08:00 (it is read in the campaign's time "
              "zone)"),
             (13, "sms.schedule.at[4]", "'2024-08-01 08:00:30': give the time to the minute, "
                                        "like 08:00"),
             (14, "sms.schedule.at[5]", "'2024-02-30 08:00': 2024-02-30 is not a date")],
            id="at items",
        ),
        pytest.param(
            ["    at: [2024-08-01 08:00, '2024-08-01T08:00']"],
            [(8, "sms.schedule.at", "the same time is listed twice")],
            id="the same at twice",
        ),
        pytest.param(
            ["    at: []"],
            [(8, "sms.schedule.at", "List should have at least 1 item after validation, not 0")],
            id="empty at",
        ),
        pytest.param(
            ["    start: 2024-08-01", "    end: 2024-09-01"],
            [(8, "sms.schedule.times", "required key is missing: the times of day to send (or a "
                                       "`cron` expression, or `at`)")],
            id="simple without times",
        ),
        pytest.param(
            ["    times: ['08:00']"],
            [(8, "sms.schedule.start", "required key is missing"),
             (8, "sms.schedule.end", "required key is missing")],
            id="simple without dates",
        ),
    ],
)  # fmt: skip
def test_schedule_form_errors_name_the_key_and_its_line(
    folder: Path, keys: list[str], expected: list[tuple[int, str, str]]
) -> None:
    assert _problems(_write(folder, *SCHEDULE, *keys)) == expected


def test_a_cron_schedule_loads(folder: Path) -> None:
    path = _write(
        folder, *SCHEDULE, "    start: 2024-08-01", "    end: 2024-09-30",
        "    cron: '0   8 1,15 * *'",
    )  # fmt: skip
    schedule = load_campaign(path).spec.sms_schedule
    assert schedule is not None
    assert (schedule.form, schedule.cron, schedule.bounds) == (
        "cron", "0 8 1,15 * *", (date(2024, 8, 1), date(2024, 9, 30))
    )  # fmt: skip


def test_one_off_times_in_every_way_yaml_writes_them(folder: Path) -> None:
    path = _write(
        folder, *SCHEDULE, "    at:", "      - 2024-08-15 17:30", "      - '2024-08-01 08:00'",
        "      - 2024-08-02T09:00", "      - 2024-08-03 06:00:00",
        "broadcast:", "  communes: [Xã Tân Đoàn]", "  times: ['06:00']", "  script: Chú ý.",
    )  # fmt: skip
    campaign = load_campaign(path)
    schedule = campaign.spec.sms_schedule
    assert schedule is not None and schedule.form == "at"
    assert schedule.at == [datetime(2024, 8, 1, 8), datetime(2024, 8, 2, 9),
                           datetime(2024, 8, 3, 6), datetime(2024, 8, 15, 17, 30)]  # fmt: skip
    # A broadcast without dates takes the first and last day of the one-off sends.
    assert campaign.broadcast_window() == (date(2024, 8, 1), date(2024, 8, 15))


@pytest.mark.parametrize(
    ("written", "stored"),
    [("'21:00-06:00'", "21:00-06:00"), ("21:00 - 6:00", "21:00-06:00"), ("off", "off"),
     ("'off'", "off"), ("null", None)],
)  # fmt: skip
def test_a_campaign_can_set_its_quiet_hours(folder: Path, written: str, stored: str) -> None:
    path = _write(folder, *HEAD, *SMS, f"  quiet_hours: {written}")
    sms = load_campaign(path).spec.sms
    assert sms is not None and sms.quiet_hours == stored and sms.urgent is False


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("  quiet_hours: '22h-7h'",
         (7, "sms.quiet_hours", "'22h-7h' is not a quiet-hours window: write it like "
                                "22:00-07:00, or off")),
        ("  urgent: 'yes'", (7, "sms.urgent", "Input should be a valid boolean")),
        ("urgent: true", (7, "urgent", "unknown key")),  # it belongs in `sms`
    ],
)  # fmt: skip
def test_quiet_hours_and_urgent_errors(
    folder: Path, line: str, expected: tuple[int, str, str]
) -> None:
    assert _problems(_write(folder, *HEAD, *SMS, line)) == [expected]


def test_urgent_is_a_yaml_boolean(folder: Path) -> None:
    sms = load_campaign(_write(folder, *HEAD, *SMS, "  urgent: yes")).spec.sms
    assert sms is not None and sms.urgent is True


def test_two_communes_whose_names_fold_alike_are_refused_at_their_line(folder: Path) -> None:
    # Issue 13.4: their pages and links are apart (keyed on unit codes: test_commune_links),
    # but one campaign would write both communes' scripts into one folder.
    path = _write(
        folder, *HEAD, "broadcast:", "  communes: [Xã Tân Thành, Xã Tân Thạnh]",
        "  times: ['06:00']", "  start: 2024-08-05", "  end: 2024-08-05", "  script: Bà con chú ý.",
    )  # fmt: skip
    assert _problems(path, prepare=True) == [
        (5, "broadcast.communes[1]",
         "Xã Tân Thạnh and Xã Tân Thành would share one scripts folder ('xa-tan-thanh'): "
         "put one of the two communes in a campaign of its own"),
    ]  # fmt: skip


def test_validate_of_two_files_with_one_id_names_both(folder: Path) -> None:
    first = _write(folder, *HEAD, *SMS)
    second = folder / "ban-sao.yaml"
    second.write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
    other = folder / "khac.yaml"
    other.write_text(first.read_text(encoding="utf-8").replace("thu-nghiem", "khac"), "utf-8")
    results = validate([first, second, other])
    assert [[str(p) for p in r.problems] for r in results] == [
        ["campaign.yaml:1: id: 'thu-nghiem' is also the id of ban-sao.yaml: give each campaign "
         "its own id"],
        ["ban-sao.yaml:1: id: 'thu-nghiem' is also the id of campaign.yaml: give each campaign "
         "its own id"],
        [],
    ]  # fmt: skip
    assert [r.problems for r in validate([first, Path("campaign.yaml")])] == [[], []]  # one file


def test_validate_skips_a_yaml_file_that_is_no_campaign(folder: Path) -> None:
    units = folder / "units.yaml"
    units.write_text("source: GSO\nunits:\n  - {code: '20', name: Tỉnh Lạng Sơn}\n", "utf-8")
    broken = _write(folder, "id: thu-nghiem", "sms: {}")
    results = validate([units, broken])
    assert (results[0].problems, results[0].skipped) == ([], NOT_A_CAMPAIGN)
    assert results[1].skipped is None and results[1].problems  # a broken campaign is an error
