"""What carriers will deliver, as an operator meets it: `dispatcher validate` and `plan` as a
subprocess — `file:line: field: message` and exit 2 when the gateway is real (here a test server
that config marks as real), a warning and exit 0 with the simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.acceptance.conftest import Workspace

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SAMPLE = "campaigns/2g-shutdown-2024.yaml"
# Validate asks no server: a URL nobody listens on is enough to make the gateway a test server.
TEST_SERVER = {"DISPATCHER_GATEWAY": "twilio", "TWILIO_API_BASE_URL": "http://127.0.0.1:9"}
UNREGISTERED = (
    "campaigns/other-sender.yaml:18: sms.sender: 'VANQUAN-2' is not a registered sender "
    "(carriers.registered_senders: VANQUAN)"
)


def _config(ws: Workspace, **keys: Any) -> None:
    path = Path(ws.env["DISPATCHER_CONFIG"])
    data = yaml.safe_load(path.read_text(encoding="utf-8")) | keys
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _variant(ws: Workspace, name: str, old: str, new: str) -> str:
    """The sample campaign with one line changed, beside it (its lists resolve the same), under
    an id of its own."""
    text = ws.campaign.read_text(encoding="utf-8")
    assert old in text and "id: 2g-shutdown-2024\n" in text
    text = text.replace("id: 2g-shutdown-2024\n", f"id: {name}\n")  # two files, one id: refused
    ws.write(f"campaigns/{name}.yaml", text.replace(old, new))
    return f"campaigns/{name}.yaml"


@SQLITE_ONLY
def test_an_unregistered_sender_fails_validate_only_when_the_gateway_is_real(
    workspace: Workspace,
) -> None:
    _config(workspace, carriers={"registered_senders": ["VANQUAN"]})
    path = _variant(workspace, "other-sender", "sender: VANQUAN", "sender: VANQUAN-2")

    test_server = workspace.run("validate", SAMPLE, path, env=TEST_SERVER)
    assert test_server.returncode == 0, test_server.stdout + test_server.stderr
    assert test_server.stdout.splitlines() == [
        f"{SAMPLE}: ok",
        f"warning: {UNREGISTERED}; a real gateway would refuse this campaign",
        f"{path}: ok",
    ]
    plan = workspace.run("plan", path)  # the simulator: the same warning, before going live
    assert plan.returncode == 0, plan.stderr
    assert f"warning: {UNREGISTERED}; a real gateway would refuse this campaign" in plan.stdout

    _config(workspace, gateway_is_real=True)  # the test server now stands for api.twilio.com
    real = workspace.run("validate", SAMPLE, path, env=TEST_SERVER)
    assert real.returncode == 2, real.stdout + real.stderr
    assert real.stdout.splitlines() == [
        f"{SAMPLE}: ok",
        f"{UNREGISTERED}; Vietnamese operators deliver only registered sender names",
    ]
    refused = workspace.run("plan", path, env=TEST_SERVER)
    assert refused.returncode == 2 and UNREGISTERED in refused.stderr


@SQLITE_ONLY
def test_a_sender_carriers_cannot_show_is_refused_with_the_simulator_too(
    workspace: Workspace,
) -> None:
    path = _variant(workspace, "phone-sender", "sender: VANQUAN", "sender: '0912345678'")
    result = workspace.run("validate", path)
    assert result.returncode == 2
    assert result.stdout.startswith(
        f"{path}:18: sms.sender: '0912345678' is not a sender name: at most 11 ASCII letters"
    )


@SQLITE_ONLY
def test_templates_and_advertising_are_checked_in_every_message(workspace: Workspace) -> None:
    # The template: the sample's text with its date as a placeholder, written with diacritics
    # (the campaign sends it folded: `encoding: ascii`).
    sample = yaml.safe_load(workspace.campaign.read_text(encoding="utf-8"))["sms"]["text"]
    _config(workspace, carriers={"templates": {"TB2G": sample.replace("16/10/2024", "{ngay}")}})
    sender = "  sender: VANQUAN\n"
    fits = _variant(workspace, "fits", sender, f"{sender}  template_id: TB2G\n")
    other = _variant(workspace, "other", sender, f"{sender}  template_id: TB01\n")
    ad = _variant(
        workspace, "ad", sender,
        f"{sender}  template_id: TB2G\n  category: advertising\n  quiet_hours: '21:00-07:00'\n",
    )  # fmt: skip
    late = _variant(
        workspace,
        "late",
        sender,
        f"{sender}  category: advertising\n  quiet_hours: '23:00-07:00'\n",
    )
    result = workspace.run("validate", fits, other, ad, late)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"{fits}: ok",
        f"{other}:19: sms.template_id: unknown template 'TB01' (carriers.templates: TB2G)",
        f"{ad}:11: sms.text: the message is advertising and does not start with [QC]",
        f"{ad}:11: sms.text: the message is advertising and does not end with an opt-out "
        "instruction: its last sentence has none of carriers.opt_out_phrases (từ chối, TC gửi, "
        "HUY gửi, hủy đăng ký, ngừng nhận)",
        f"{late}:20: sms.quiet_hours: '23:00-07:00' lets advertising out between 22:00 and 07:00, "
        "which Decree 91/2020 forbids: write 22:00-07:00 or wider",
    ]
