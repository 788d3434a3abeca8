"""Bad input anywhere: a message that names the file and line (or the option), exit 2, no
traceback, and nothing sent.

Bad campaign files need no database, so they are all checked by one `dispatcher validate` run
over every case (a process costs most of a second); each case then looks for its own lines.
Options and configuration errors run a command each, on SQLite; only `send` on a bad campaign
runs on both databases.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, inspect, select

from dispatcher.store.db import make_engine
from dispatcher.store.models import DeliveryRow
from tests.acceptance.conftest import REPO, Workspace, _base_env

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SAMPLE = "campaigns/2g-shutdown-2024.yaml"
MISSING = "campaigns/khong-co.yaml"
HEAD = ("id: bad-input", "title: Thử nghiệm", "unit: UBND xã Tân Đoàn")  # lines 1-3
SMALL_LIST = "phone,name\n0912345678,An\n0987654321,Bình\n"
LONG_TEXT = (  # 150 characters with diacritics: UCS-2, 3 segments of 67
    "Bà con lưu ý: từ 16/10/2024 máy chỉ dùng 2G sẽ bị khóa. Hãy đổi sang máy 4G, giữ nguyên "
    "số. Hỏi UBND xã hoặc cửa hàng nhà mạng để được hỗ trợ đổi máy."
)
BROADCAST = (  # lines 4-8 after HEAD
    "broadcast:",
    "  communes: [Xã Tân Đoàn]",
    "  start: 2024-08-01",
    "  end: 2024-08-31",
    "  times: ['06:00']",
)
TEMPLATE_BLOCKS = (
    "{% block opening %}\nĐây là Đài truyền thanh {{ commune }}.\n{% endblock %}\n"
    "{% block content %}\nNội dung: {} \n{% endblock %}\n"
    "{% block closing %}\nXin cảm ơn!\n{% endblock %}\n"
)  # the content's line is line 5


def _yaml(*lines: str) -> str:
    """YAML whose line N is ``lines[N - 1]``."""
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    """A campaign file (``campaigns/<name>.yaml``), the files it needs, and the lines expected.

    Each expected string must appear in one line of the output: the whole ``file:line: field:
    message`` where it is stable, so the line number and the wording are both checked.
    """

    name: str
    campaign: str
    expected: tuple[str, ...]
    files: dict[str, str | bytes] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"campaigns/{self.name}.yaml"


CASES = [
    Case(
        "bad-indentation",
        _yaml("id: bad-input", "title: Thử nghiệm", " unit: UBND xã", "sms:", "  text: Chào"),
        ("campaigns/bad-indentation.yaml:3: malformed YAML: mapping values are not allowed here",),
    ),
    Case(
        "unclosed-bracket",
        _yaml(*HEAD, "sms:", "  text: Xin chào", "  recipients: [lists/2g-only.csv",
              "  exclude: []"),
        ("campaigns/unclosed-bracket.yaml:7: malformed YAML: expected ',' or ']', but got ':' "
         "(while parsing a flow sequence at line 6)",),
    ),
    Case(
        "nested-too-deeply",  # PyYAML recurses per level: a RecursionError, not a traceback
        "a: " + "[" * 3000 + "]" * 3000 + "\n",
        ("campaigns/nested-too-deeply.yaml: malformed YAML: nested too deeply",),
    ),
    Case(
        "unknown-key",
        _yaml(*HEAD, "sms:", "  text: Xin chào", "  recipients: [lists/2g-only.csv]",
              "colour: đỏ"),
        ("campaigns/unknown-key.yaml:7: colour: unknown key",),
    ),
    Case(
        "unknown-nested-key",
        _yaml(*HEAD, "sms:", "  txet: Xin chào", "  recipients: [lists/2g-only.csv]"),
        ("campaigns/unknown-nested-key.yaml:5: sms.txet: unknown key",
         "campaigns/unknown-nested-key.yaml:5: sms.text: required key is missing"),
    ),
    Case(
        "duplicate-key",
        _yaml(*HEAD, "title: Lặp lại", "sms:", "  text: Chào", "  recipients: [lists/2g-only.csv]"),
        ("campaigns/duplicate-key.yaml:4: duplicate key 'title'",),
    ),
    Case(
        "repeat-in-words",
        _yaml(*HEAD, *BROADCAST, "  script: Bà con chú ý.", "  repeat: two"),
        ("campaigns/repeat-in-words.yaml:10: broadcast.repeat: Input should be a valid integer, "
         "unable to parse string as an integer",),
    ),
    Case(
        "unknown-day",
        _yaml(*HEAD, *BROADCAST, "  script: Bà con chú ý.", "  days: [mon, funday]"),
        ("campaigns/unknown-day.yaml:10: broadcast.days[1]: Input should be 'mon', 'tue', "
         "'wed', 'thu', 'fri', 'sat' or 'sun'",),
    ),
    Case(
        "hour-25",
        _yaml(*HEAD, *BROADCAST[:-1], "  times: ['06:00', '25:00']", "  script: Bà con chú ý."),
        ("campaigns/hour-25.yaml:8: broadcast.times[1]: '25:00' is not a time of day like "
         '"08:00"',),
    ),
    Case(
        "hour-25-unquoted",  # YAML 1.1 reads 25:00 as 1500, which must not become 00:25
        _yaml(*HEAD, *BROADCAST[:-1], "  times: [25:00]", "  script: Bà con chú ý."),
        ("campaigns/hour-25-unquoted.yaml:8: broadcast.times[0]: '25:00' is not a time of day "
         'like "08:00"',),
    ),
    Case(
        "end-before-start",
        _yaml(*HEAD, "sms:", "  text: Chào", "  recipients: [lists/2g-only.csv]", "  schedule:",
              "    start: 2024-10-15", "    end: 2024-08-01", "    times: ['08:00']"),
        ("campaigns/end-before-start.yaml:9: sms.schedule.end: end 2024-08-01 is before start "
         "2024-10-15",),
    ),
    Case(
        "broadcast-without-end",
        _yaml(*HEAD, *BROADCAST[:3], BROADCAST[4], "  script: Bà con chú ý."),
        ("campaigns/broadcast-without-end.yaml:1: broadcast needs `start` and `end` when there "
         "is no sms schedule",),
    ),
    Case(
        "bad-id",
        _yaml("id: Chiến dịch 2G", *HEAD[1:], "sms:", "  text: Chào",
              "  recipients: [lists/2g-only.csv]"),
        ("campaigns/bad-id.yaml:1: id: 'Chiến dịch 2G' is not a campaign id: use up to 64 ASCII "
         "letters, digits and '-' (no spaces or diacritics), like 2g-shutdown-2024",),
    ),
    Case(
        "unknown-timezone",
        _yaml(*HEAD, "timezone: Asia/Hanoi", "sms:", "  text: Chào",
              "  recipients: [lists/2g-only.csv]"),
        ("campaigns/unknown-timezone.yaml:4: timezone: unknown time zone 'Asia/Hanoi'",),
    ),
    Case(
        "nothing-to-do",
        _yaml(*HEAD),
        ("campaigns/nothing-to-do.yaml:1: a campaign needs an `sms` section, a `broadcast` "
         "section, or both",),
    ),
    Case(
        "missing-list",
        _yaml(*HEAD, "sms:", "  text: Chào", "  recipients:", "    - lists/2g-only.csv",
              "    - lists/khong-co.csv"),
        ("campaigns/missing-list.yaml:8: sms.recipients[1]: file not found: lists/khong-co.csv",),
    ),
    Case(
        "no-phone-column",
        _yaml(*HEAD, "sms:", "  text: Chào", "  recipients: [lists/no-phone.csv]"),
        ("campaigns/lists/no-phone.csv:1: no phone column: name it one of 'phone', "
         "'Số điện thoại', 'SĐT', 'Điện thoại' (columns found: 'so may', 'ten')",),
        {"campaigns/lists/no-phone.csv": "so may,ten\n0912345678,An\n"},
    ),
    Case(
        "latin-1-list",
        _yaml(*HEAD, "sms:", "  text: Chào", "  recipients: [lists/latin-1.csv]"),
        ("campaigns/lists/latin-1.csv:3: not UTF-8 text (byte 44 of the file): save it as "
         "'CSV UTF-8'",),
        # UTF-8 names, then one Latin-1 byte: a damaged UTF-8 file, not a Windows code page.
        {"campaigns/lists/latin-1.csv": "phone,name\n0912345678,Bình\n".encode()
         + b"0987654321,Nguy\xe1n\n"},
    ),
    Case(
        "template-syntax-literal",
        _yaml(*HEAD, "sms:", "  text: |", "    Xin chào {{ name }},", "    hạn chót {{ han }",
              "  recipients: [lists/2g-only.csv]"),
        ("campaigns/template-syntax-literal.yaml:7: sms.text: template error: unexpected '}'",),
    ),
    Case(
        "template-syntax-folded",
        _yaml(*HEAD, "sms:", "  text: >-", "    Xin chào {{ name }},", "    hạn chót {{ han }",
              "    nhé.", "  recipients: [lists/2g-only.csv]"),
        ("campaigns/template-syntax-folded.yaml:7: sms.text: template error: unexpected '}'",),
    ),
    Case(
        "undefined-variable",
        _yaml(*HEAD, "sms:", "  text: Xin chào {{ nmae }}", "  recipients: [lists/undefined.csv]"),
        ("campaigns/undefined-variable.yaml:5: sms.text: `nmae` is not a column of "
         "campaigns/lists/undefined.csv: phone, name",),
        {"campaigns/lists/undefined.csv": SMALL_LIST},
    ),
    Case(
        "too-many-segments",
        _yaml(*HEAD, "sms:", f"  text: '{LONG_TEXT}'", "  max_segments: 2",
              "  recipients: [lists/2g-only.csv]"),
        ("campaigns/too-many-segments.yaml:5: sms.text: the message is 3 segments (UCS-2, 150 "
         "units); max_segments is 2",),
    ),
    Case(
        "not-gsm-7",
        _yaml(*HEAD, "sms:", "  text: Thông báo 中 cho bà con", "  encoding: ascii",
              "  recipients: [lists/2g-only.csv]"),
        ("campaigns/not-gsm-7.yaml:5: sms.text: the message is not GSM-7 even without "
         "diacritics: characters not in the GSM-7 alphabet: '中' (U+4E2D)",),
    ),
    Case(
        "missing-template",
        _yaml(*HEAD, *BROADCAST, "  template: ../audio/templates/khong-co.txt.j2"),
        ("campaigns/missing-template.yaml:9: broadcast.template: file not found: "
         "../audio/templates/khong-co.txt.j2",),
    ),
    Case(  # the template file is named as a path ending like this, relative or not
        "template-syntax-error",
        _yaml(*HEAD, *BROADCAST, "  template: ../audio/templates/broken.txt.j2"),
        ("audio/templates/broken.txt.j2:5: template syntax error: expected token 'name', got "
         "'end of print statement'",),
        {"audio/templates/broken.txt.j2": TEMPLATE_BLOCKS.replace("{}", "{{ commune | }}")},
    ),
    Case(
        "template-undefined",
        _yaml(*HEAD, *BROADCAST, "  template: ../audio/templates/misspelt.txt.j2"),
        ("audio/templates/misspelt.txt.j2:5: 'comune' is undefined; the variables are: airing, "
         "campaign, commune, date, repeat, time, title, unit, weekday",),
        {"audio/templates/misspelt.txt.j2": TEMPLATE_BLOCKS.replace("{}", "{{ comune }}")},
    ),
    Case(  # inline script: its lines are lines of the campaign file (10 and 11 here)
        "inline-script-syntax",
        _yaml(*HEAD, *BROADCAST, "  script: |", "    Bà con {{ commune }} chú ý.",
              "    Nội dung {{ x"),
        ("campaigns/inline-script-syntax.yaml:11:", "unexpected end of template"),
    ),
]  # fmt: skip


def _lines_with(output: str, expected: str) -> list[str]:
    return [line for line in output.splitlines() if expected in line]


def assert_bad_input(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    """Exit 2, no traceback, and every expected text on some line of the output."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    for text in expected:
        assert _lines_with(output, text), f"{text!r} not in:\n{output}"


def assert_nothing_sent(db_url: str) -> None:
    """Not one delivery queued, let alone sent (read in the database: a process costs ~1 s)."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            if inspect(connection).has_table(DeliveryRow.__tablename__):
                count = select(func.count()).select_from(DeliveryRow)
                assert connection.execute(count).scalar_one() == 0
    finally:
        engine.dispose()


# -- campaign files, all in one `validate` ------------------------------------------------------
@dataclass(frozen=True)
class Validated:
    result: subprocess.CompletedProcess[str]

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Validated]:
    """`dispatcher validate` over every case at once (validate touches no database)."""
    root = tmp_path_factory.mktemp("bad-campaigns")
    shutil.copytree(REPO / "campaigns", root / "campaigns")
    shutil.copy(REPO / "units.yaml", root / "units.yaml")
    shutil.copytree(REPO / "audio" / "templates", root / "audio" / "templates")
    ws = Workspace(root, _base_env())
    for case in CASES:
        # Each its own id, as campaigns validated together must have (a test of its own below).
        ws.write(case.path, case.campaign.replace(f"{HEAD[0]}\n", f"id: {case.name}\n", 1))
        for relative, content in case.files.items():
            if isinstance(content, bytes):
                (root / relative).write_bytes(content)
            else:
                ws.write(relative, content)
    paths = [SAMPLE, *(case.path for case in CASES), MISSING]
    yield Validated(ws.run("validate", *paths))


def test_validate_reports_the_good_file_and_every_bad_one_and_exits_2(
    validated: Validated,
) -> None:
    assert validated.result.returncode == 2, validated.output
    assert "Traceback" not in validated.output
    assert validated.result.stderr == ""
    lines = validated.result.stdout.splitlines()
    assert lines[0] == f"{SAMPLE}: ok"
    assert lines[-1] == f"{MISSING}: file not found"
    assert sum(line.endswith(": ok") for line in lines) == 1


@SQLITE_ONLY
def test_validate_of_two_files_with_one_id_names_both_and_exits_2(workspace: Workspace) -> None:
    workspace.write("campaigns/ban-sao.yaml", workspace.campaign.read_text(encoding="utf-8"))
    result = workspace.run("validate", SAMPLE, "campaigns/ban-sao.yaml")
    assert (result.returncode, result.stderr) == (2, "")
    assert result.stdout.splitlines() == [
        f"{SAMPLE}:4: id: '2g-shutdown-2024' is also the id of campaigns/ban-sao.yaml: give each "
        "campaign its own id",
        "campaigns/ban-sao.yaml:4: id: '2g-shutdown-2024' is also the id of "
        f"{SAMPLE}: give each campaign its own id",
    ]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_bad_campaign_file_is_reported_at_its_line(validated: Validated, case: Case) -> None:
    assert f"{case.path}: ok" not in validated.output.splitlines()
    for text in case.expected:
        assert len(_lines_with(validated.output, text)) == 1, (
            f"{text!r} not once in:\n{validated.output}"
        )


# -- the same problems through the other commands -----------------------------------------------
BAD = next(case for case in CASES if case.name == "unknown-nested-key")


@SQLITE_ONLY
def test_plan_refuses_a_bad_campaign(workspace: Workspace) -> None:
    workspace.write(BAD.path, BAD.campaign)
    result = workspace.run("plan", BAD.path)
    assert_bad_input(result, *BAD.expected)
    assert result.stderr.splitlines() == [
        f"Error: {BAD.path}:5: sms.text: required key is missing",
        f"{BAD.path}:5: sms.txet: unknown key",
    ]
    assert result.stdout == ""


def test_send_refuses_a_bad_campaign_and_sends_nothing(workspace: Workspace, db_url: str) -> None:
    workspace.write(BAD.path, BAD.campaign)
    result = workspace.run_process("send", BAD.path, "--occurrence", "demo")  # a real process
    assert_bad_input(result, *BAD.expected)
    assert_nothing_sent(db_url)


@SQLITE_ONLY
def test_send_of_a_campaign_file_that_does_not_exist(workspace: Workspace, db_url: str) -> None:
    result = workspace.run("send", MISSING, "--occurrence", "demo")
    assert_bad_input(result, f"Error: {MISSING}: file not found")
    assert_nothing_sent(db_url)


# -- options -------------------------------------------------------------------------------------
OPTION_CASES = [
    pytest.param(
        ["send", SAMPLE, "--occurrence", "bad key!"],
        "Error: --occurrence: use letters, digits and - _ . : + (at most 64 characters)",
        id="occurrence",
    ),
    pytest.param(
        ["log", "--status", "nonsense"],
        "Error: --status: unknown status 'nonsense' (one of pending, sending, unknown, accepted, "
        "sent, delivered, undelivered, failed, skipped, canceled)",
        id="log-status",
    ),
    pytest.param(
        ["log", "--phone", "abc"], "Error: --phone: 'abc': not a phone number", id="log-phone"
    ),
    pytest.param(
        ["log", "events", "--form", "họp dân"],
        "Error: --form: the delivery log holds SMS only; Hội nghị, họp dân is in "
        "`dispatcher activity list --form meeting`",
        id="log-form",
    ),
    pytest.param(
        ["log", "--unit", "Lạng Sơn", "--format", "csv"],
        "Error: --unit: no campaign is run by 'Lạng Sơn' (no campaign is registered yet)",
        id="log-unit",
    ),
    pytest.param(
        ["report", "monthly", "--month", "2024-13"],
        "Error: --month: '2024-13' is not a month like 2024-10 or 10/2024",
        id="month-13",
    ),
    pytest.param(
        ["report", "monthly", "--month", "oct"],
        "Error: --month: 'oct' is not a month like 2024-10 or 10/2024",
        id="month-word",
    ),
    pytest.param(
        ["report", "monthly", "--month", "0000-10"],
        "Error: --month: '0000-10' is not a month like 2024-10 or 10/2024",
        id="month-year-0",
    ),
    pytest.param(
        ["broadcast", "scripts", SAMPLE, "--commune", "Xã Không Có"],
        "Error: --commune: 'Xã Không Có' is not in this campaign (communes: Thị trấn Văn Quan, "
        "Xã Tân Đoàn, Xã Tràng Các)",
        id="commune",
    ),
]


@SQLITE_ONLY
@pytest.mark.parametrize(("args", "expected"), OPTION_CASES)
def test_a_bad_option_is_named(
    workspace: Workspace, db_url: str, args: list[str], expected: str
) -> None:
    result = workspace.run(*args)
    assert_bad_input(result, expected)
    assert result.stderr.splitlines() == [expected]
    assert not (workspace.root / "out").exists()  # no broadcast scripts either
    assert_nothing_sent(db_url)


# -- configuration -------------------------------------------------------------------------------
@SQLITE_ONLY
def test_a_bad_gateway_variable_is_named_and_nothing_is_sent(
    workspace: Workspace, db_url: str
) -> None:
    result = workspace.run(
        "send", SAMPLE, "--occurrence", "demo", env={"DISPATCHER_GATEWAY": "foo"}
    )
    assert_bad_input(result, "Error: $DISPATCHER_GATEWAY: Input should be 'twilio' or 'simulator'")
    assert_nothing_sent(db_url)


@SQLITE_ONLY
def test_a_missing_config_file_is_named(workspace: Workspace) -> None:
    missing = workspace.root / "khong-co" / "config.yaml"
    result = workspace.run("log", env={"DISPATCHER_CONFIG": str(missing)})
    assert_bad_input(result, f"Error: {missing}: config file not found (from $DISPATCHER_CONFIG)")


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            ["gateway: simulator", "sending:", "  batch_size: 10", "  batchsize: 5"],
            "{config}:4: sending.batchsize: unknown key",
            id="unknown-key",
        ),
        pytest.param(
            ["gateway: simulator", "database_url: mysql://root:s3cret@localhost/dispatcher"],
            "{config}:2: database_url: unsupported database 'mysql'; use one like "
            "sqlite:///var/dispatcher.sqlite3 or postgresql://user@host:5432/dispatcher",
            id="database-url",
        ),
    ],
)
def test_a_bad_config_file_is_named_with_its_line(
    workspace: Workspace, lines: list[str], expected: str
) -> None:
    config = workspace.write("other-config.yaml", _yaml(*lines))
    result = workspace.run("log", env={"DISPATCHER_CONFIG": str(config)})
    assert_bad_input(result, "Error: " + expected.format(config=config))
    assert "s3cret" not in result.stdout + result.stderr


# -- control characters: refused the same on SQLite and PostgreSQL (issue 13, point 11) --------
def test_a_nul_byte_in_a_list_is_exit_2_at_its_line_and_nothing_is_sent(
    workspace: Workspace, db_url: str
) -> None:
    lists = workspace.root / "campaigns" / "lists" / "2g-only.csv"
    rows = lists.read_text(encoding="utf-8").splitlines(keepends=True)
    phone, _, rest = rows[3].partition(",")
    rows[3] = f"{phone},Nguyễn\x00 Văn {rest}"  # line 4: the name carries a NUL
    lists.write_text("".join(rows), encoding="utf-8")
    result = workspace.run("send", SAMPLE, "--occurrence", "demo")
    assert_bad_input(
        result, "campaigns/lists/2g-only.csv:4: 'name': the control character U+0000 is not text"
    )
    assert_nothing_sent(db_url)


@SQLITE_ONLY
def test_a_control_character_in_a_campaign_text_is_exit_2_at_its_line(
    workspace: Workspace,
) -> None:
    text = (workspace.root / SAMPLE).read_text(encoding="utf-8")
    workspace.write(SAMPLE, text.replace("title: Dừng công nghệ di động 2G", 'title: "Dừng\\0 2G"'))
    result = workspace.run("validate", SAMPLE)
    assert_bad_input(result, f"{SAMPLE}:5: title: contains the control character U+0000")


@SQLITE_ONLY
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_damaged_xlsx_list_is_exit_2_naming_it(workspace: Workspace, command: str) -> None:
    (workspace.root / "campaigns" / "lists" / "hong.xlsx").write_bytes(b"PK\x03\x04 not a zip")
    text = (workspace.root / SAMPLE).read_text(encoding="utf-8")
    workspace.write(SAMPLE, text.replace("lists/2g-only.csv", "lists/hong.xlsx"))
    result = workspace.run(command, SAMPLE)
    assert_bad_input(result, "campaigns/lists/hong.xlsx: not a readable .xlsx file")
