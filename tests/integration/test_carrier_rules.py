"""What carriers will deliver, through `services.validate` and `plan` on real files: registered
senders (an error with a real gateway, a warning otherwise), registered templates checked over
every rendered message, and the advertising rules — each problem at its `file:line`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dispatcher.cli import presenters
from dispatcher.sending import planning
from dispatcher.sending import send as services
from dispatcher.settings.config import Settings

REAL: dict[str, str] = {}  # the twilio gateway with no TWILIO_API_BASE_URL: api.twilio.com
TEST_SERVER = {"TWILIO_API_BASE_URL": "http://127.0.0.1:8089"}
HEAD = ["id: thu", "title: Thử", "unit: UBND xã Tân Đoàn", "sms:"]  # lines 1-4
AD_TEXT = "'[QC] Gói 4G cho {{ name }}. Từ chối QC soạn TC gửi 1091'"  # quoted: [ opens a YAML list


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    people = "".join(f"09123456{i:02d},Người {i}\n" for i in range(30))
    (tmp_path / "people.csv").write_text("phone,name\n" + people, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _campaign(folder: Path, *sms: str) -> Path:
    """A campaign whose sms section starts at line 5 with ``sms`` (then recipients)."""
    path = folder / "c.yaml"
    lines = [*HEAD, *sms, "  recipients: [people.csv]"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _settings(folder: Path, gateway: str = "simulator", **config: Any) -> Settings:
    url = f"sqlite:///{folder / 'none.sqlite3'}"  # never created: validate only reads
    return Settings.model_validate({"database_url": url, "gateway": gateway, **config})


def _validate(
    path: Path, settings: Settings, environ: dict[str, str] | None = None
) -> tuple[list[str], list[str]]:
    (result,) = services.validate([path], settings, environ or {})
    return [str(p) for p in result.problems], [str(w) for w in result.warnings]


VANQUAN = {"carriers": {"registered_senders": ["VANQUAN", "UBND-VQ"]}}


# -- senders -------------------------------------------------------------------------------------
def test_an_unregistered_sender_is_a_warning_with_the_simulator(folder: Path) -> None:
    path = _campaign(folder, "  text: Xin chào", "  sender: VANQAN")
    problems, warnings = _validate(path, _settings(folder, **VANQUAN))
    assert problems == []
    assert warnings == [
        "c.yaml:6: sms.sender: 'VANQAN' is not a registered sender (carriers.registered_senders: "
        "VANQUAN, UBND-VQ); a real gateway would refuse this campaign"
    ]
    # plan shows it too, before anyone goes live.
    plan = planning.plan(
        path, datetime(2030, 1, 1, tzinfo=ZoneInfo("UTC")), _settings(folder, **VANQUAN)
    )
    assert presenters.plan_data(plan)["warnings"] == warnings


def test_an_unregistered_sender_is_an_error_with_a_real_gateway(folder: Path) -> None:
    path = _campaign(folder, "  text: Xin chào", "  sender: VANQAN")
    problems, _ = _validate(path, _settings(folder, "twilio", **VANQUAN), REAL)
    assert problems == [
        "c.yaml:6: sms.sender: 'VANQAN' is not a registered sender (carriers.registered_senders: "
        "VANQUAN, UBND-VQ); Vietnamese operators deliver only registered sender names"
    ]


def test_a_test_server_is_not_real_unless_config_says_so(folder: Path) -> None:
    path = _campaign(folder, "  text: Xin chào", "  sender: VANQAN")
    problems, warnings = _validate(path, _settings(folder, "twilio", **VANQUAN), TEST_SERVER)
    assert (problems, len(warnings)) == ([], 1)
    marked = _settings(folder, "twilio", gateway_is_real=True, **VANQUAN)
    problems, warnings = _validate(path, marked, TEST_SERVER)
    assert [p.split(": ")[0] for p in problems] == ["c.yaml:6"] and warnings == []


def test_every_sender_of_a_pool_and_the_default_sender_are_checked(folder: Path) -> None:
    settings = _settings(folder, "twilio", **VANQUAN)
    pool = _campaign(folder, "  text: Xin chào", "  senders:", "    - VANQUAN", "    - VQ2")
    problems, _ = _validate(pool, settings, REAL)
    assert [p.split("'")[0] for p in problems] == ["c.yaml:8: sms.senders[1]: "]
    unnamed = _campaign(folder, "  text: Xin chào")
    problems, _ = _validate(unnamed, settings, {"TWILIO_FROM": "+15005550006"})
    assert [p.split(" is ")[0] for p in problems] == ["$TWILIO_FROM: '+15005550006'"]
    assert _validate(unnamed, settings, {"TWILIO_FROM": "UBND-VQ"}) == ([], [])


def test_with_no_registered_senders_the_simulator_is_quiet_and_a_real_gateway_refuses(
    folder: Path,
) -> None:
    path = _campaign(folder, "  text: Xin chào", "  sender: VANQUAN")
    assert _validate(path, _settings(folder)) == ([], [])
    (problem,), _ = _validate(path, _settings(folder, "twilio"), REAL)
    assert "carriers.registered_senders: none: list the names the operators registered" in problem


# -- templates -----------------------------------------------------------------------------------
TEMPLATES = {"carriers": {"templates": {"HOP01": "UBND xã mời {ten} họp lúc 8h.", "X": "{a}"}}}


def test_every_rendered_message_must_match_its_template(folder: Path) -> None:
    # Rows 2-6 say 8h, the other 25 say 9h: the first ten are named, then a count.
    rows = [f"09123456{i:02d},Người {i},{'8h' if i < 5 else '9h'}\n" for i in range(30)]
    (folder / "people.csv").write_text("phone,name,gio\n" + "".join(rows), encoding="utf-8")
    text = "  text: UBND xã mời {{ name }} họp lúc {{ gio }}."
    path = _campaign(folder, text, "  template_id: HOP01")
    problems, _ = _validate(path, _settings(folder, **TEMPLATES))
    mismatch = (
        "the message for this row does not match the carriers' template HOP01 ('UBND xã mời "
        "{ten} họp lúc 8h.'): operators filter it"
    )
    assert problems == [
        *(f"people.csv:{line}: {mismatch}" for line in range(7, 17)),
        "... and 15 more messages with the same problem",
    ]


def test_a_fixed_text_that_does_not_match_is_reported_at_sms_text(folder: Path) -> None:
    path = _campaign(folder, "  text: UBND xã mời bà con họp lúc 9h.", "  template_id: HOP01")
    problems, _ = _validate(path, _settings(folder, **TEMPLATES))
    assert [p.split(" does not")[0] for p in problems] == ["c.yaml:5: sms.text: the message"]


def test_an_ascii_campaign_matches_the_template_as_sent(folder: Path) -> None:
    text = "  text: UBND xã mời {{ name }} họp lúc 8h."
    folded = _campaign(folder, text, "  encoding: ascii", "  template_id: HOP01")
    assert _validate(folded, _settings(folder, **TEMPLATES)) == ([], [])


def test_an_unknown_template_is_an_error_at_its_line(folder: Path) -> None:
    path = _campaign(folder, "  text: Xin chào", "  template_id: HOP02")
    problems, _ = _validate(path, _settings(folder, **TEMPLATES))
    assert problems == [
        "c.yaml:6: sms.template_id: unknown template 'HOP02' (carriers.templates: HOP01, X)"
    ]


# -- advertising ---------------------------------------------------------------------------------
def test_advertising_starts_with_qc_and_ends_with_an_opt_out(folder: Path) -> None:
    settings = _settings(folder)
    good = _campaign(folder, f"  text: {AD_TEXT}", "  category: advertising")
    assert _validate(good, settings) == ([], [])
    bad = _campaign(folder, "  text: Gói 4G cho {{ name }}.", "  category: advertising")
    problems, _ = _validate(bad, settings)
    assert problems[:2] == [
        "people.csv:2: the message for this row is advertising and does not start with [QC]",
        "people.csv:2: the message for this row is advertising and does not end with an opt-out "
        "instruction: its last sentence has none of carriers.opt_out_phrases (từ chối, TC gửi, "
        "HUY gửi, hủy đăng ký, ngừng nhận)",
    ]
    good = _campaign(folder, f"  text: {AD_TEXT}", "  category: advertising")
    own = _settings(folder, carriers={"opt_out_phrases": ["gửi KHONG"]})
    problems, _ = _validate(good, own)
    assert len(problems) == 10 + 1 and "(gửi KHONG)" in problems[0]  # ten rows, then a count


def test_advertising_never_takes_quiet_hours_narrower_than_the_night(folder: Path) -> None:
    path = _campaign(folder, f"  text: {AD_TEXT}", "  category: advertising")
    problems, _ = _validate(path, _settings(folder, sending={"quiet_hours": "23:00-06:00"}))
    assert problems == [
        "c.yaml:6: sms.category: advertising is never sent between 22:00 and 07:00 (Decree "
        "91/2020), but the quiet hours from sending.quiet_hours are 23:00-06:00: write "
        'quiet_hours: "22:00-07:00" in the campaign (it wins over the settings)'
    ]
    own = _campaign(
        folder, f"  text: {AD_TEXT}", "  category: advertising", "  quiet_hours: 22:00-07:00"
    )
    assert _validate(own, _settings(folder, sending={"quiet_hours": "off"})) == ([], [])
    urgent = _campaign(folder, f"  text: {AD_TEXT}", "  category: advertising", "  urgent: true")
    problems, _ = _validate(urgent, _settings(folder))
    assert [p.split(": advertising")[0] for p in problems] == ["c.yaml:7: sms.urgent"]
