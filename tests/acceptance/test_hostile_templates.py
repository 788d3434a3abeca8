"""Issue 13, point 1: a campaign file's templates (``sms.text``, ``broadcast.script``,
``broadcast.template``) render sandboxed and bounded: ``validate`` and ``plan`` (the approver's
review) never run a command nor show a secret, and a huge computation is refused at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.acceptance.conftest import Workspace

CAMPAIGN = "campaigns/2g-shutdown-2024.yaml"
SECRET = "auth-token-that-must-stay-secret"
RUN_A_COMMAND = "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}"
READ_THE_ENVIRONMENT = "{{ lipsum.__globals__['os'].environ['TWILIO_AUTH_TOKEN'] }}"
HUGE = "{{ 'A' * 300000000 }}{{ 7 ** 99999999 }}"

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _with_sms_text(ws: Workspace, text: str) -> None:
    sample = (ws.root / CAMPAIGN).read_text(encoding="utf-8")
    start = sample.index("  text: >-\n")
    end = sample.index("  # The audience is 2G-only")
    ws.write(CAMPAIGN, sample[:start] + f'  text: "{text}"\n' + sample[end:])


def _with_script_template(ws: Workspace, text: str) -> None:
    path = ws.root / "audio" / "templates" / "2g-shutdown.txt.j2"
    path.write_text(f"{{% block content %}}{text}{{% endblock %}}\n", encoding="utf-8")


def _refused(ws: Workspace, command: str, where: str) -> str:
    result = ws.run(command, CAMPAIGN, env={"TWILIO_AUTH_TOKEN": SECRET})
    assert result.returncode == 2, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert where in output and "Traceback" not in output
    assert SECRET not in output
    assert not (ws.root / "PWNED").exists()
    return output


ATTACKS = [
    (RUN_A_COMMAND, "access to attribute '__init__' of 'type' object is unsafe"),
    (READ_THE_ENVIRONMENT, "access to attribute '__globals__' of 'function' object is unsafe"),
    (HUGE, "the text would be longer than 1,000,000 characters"),
]


@SQLITE_ONLY
@pytest.mark.parametrize("command", ["validate", "plan"])
@pytest.mark.parametrize(("attack", "why"), ATTACKS)
def test_an_sms_text_cannot_run_code_read_secrets_or_exhaust_the_machine(
    workspace: Workspace, command: str, attack: str, why: str
) -> None:
    _with_sms_text(workspace, attack)
    output = _refused(workspace, command, f"{CAMPAIGN}:11: sms.text: template error")
    assert why in output


@SQLITE_ONLY
@pytest.mark.parametrize("command", ["validate", "plan"])
@pytest.mark.parametrize("attack", [RUN_A_COMMAND, READ_THE_ENVIRONMENT, HUGE])
def test_a_broadcast_template_cannot_either(
    workspace: Workspace, command: str, attack: str
) -> None:
    _with_script_template(workspace, attack)
    _refused(workspace, command, "audio/templates/2g-shutdown.txt.j2:1: template error")


@SQLITE_ONLY
def test_the_sample_still_validates(workspace: Workspace) -> None:
    result = workspace.run("validate", CAMPAIGN)
    assert result.returncode == 0, result.stderr
    assert Path(workspace.root / CAMPAIGN).is_file()
