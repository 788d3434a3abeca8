"""`dispatcher serve` and `dispatcher reconcile` as subprocesses, with a simulator process."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tests.acceptance.conftest import DISPATCHER, SimulatorProcess, Workspace

RECIPIENTS = 272  # the sample list's valid numbers, less the opted-out ones
DELIVERED_NOTE = "In Vietnam 'delivered' is only the SMS centre's acknowledgement."


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _configure(ws: Workspace, **sections: dict[str, Any]) -> None:
    """Merge ``sections`` into the workspace's config.yaml."""
    path = Path(ws.env["DISPATCHER_CONFIG"])
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, values in sections.items():
        config.setdefault(key, {}).update(values)
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def _statuses(ws: Workspace) -> Counter[str]:
    result = ws.run("log", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return Counter(json.loads(line)["status"] for line in result.stdout.splitlines())


def _wait_for(check: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


@contextmanager
def _serving(ws: Workspace, env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[str]]:
    """`dispatcher serve ARGS` running until the block ends (then it must have been stopped)."""
    log = (ws.root / "serve.log").open("w", encoding="utf-8")  # its access log is long
    process = subprocess.Popen(
        [DISPATCHER, "serve", *args], cwd=ws.root, env={**ws.env, **env}, stdout=subprocess.PIPE,
        stderr=log, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Listening on http://127.0.0.1:"), first + _read(ws)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()
        log.close()


def _read(ws: Workspace) -> str:
    return (ws.root / "serve.log").read_text(encoding="utf-8")


def _request(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_receives_signed_callbacks_until_every_delivery_is_delivered(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    sim = start_simulator("--sent-at", "0.3", "--final-at", "1.0")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # One poll at start-up and none after: what moves the statuses here is the callbacks.
    _configure(
        workspace,
        http={"port": port, "public_base_url": base},
        status={"poll_interval_s": 86_400},
    )
    with _serving(workspace, sim.env) as serve:
        status, body = _request(f"{base}/health")
        assert status == 200
        assert json.loads(body) == {"status": "ok"}
        forged = b"MessageSid=SMx&MessageStatus=delivered"
        assert _request(f"{base}/twilio/status?d=1", forged)[0] == 403  # not signed
        sent = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=sim.env)
        assert sent.returncode == 0, sent.stdout + sent.stderr
        _wait_for(lambda: _statuses(workspace) == Counter({"delivered": RECIPIENTS}))
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=30)
        assert serve.returncode == 0, out + _read(workspace)
    # Two callbacks per message (sent, delivered). On a loaded machine a `sent` may arrive after
    # its `delivered`: it then changes nothing (statuses only move forward), so between one and
    # two per message changed a delivery.
    found = re.search(r"status callbacks: (\d+) \((\d+) changed a delivery\)", out)
    assert found is not None, out
    received, changed = int(found[1]), int(found[2])
    assert received == 2 * RECIPIENTS and RECIPIENTS <= changed <= received, out
    assert "requests refused (no or bad signature): 1" in out
    assert DELIVERED_NOTE in out
    assert "Traceback" not in _read(workspace)
    # Every SID came with its delivery: the log holds the simulator's SIDs.
    result = workspace.run("log", "--format", "jsonl")
    sids = {json.loads(line)["provider_id"] for line in result.stdout.splitlines()}
    assert sids == {m["sid"] for m in sim.accepted()}


def test_reconcile_moves_statuses_forward_without_serve(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    sim = start_simulator("--sent-at", "0.3", "--final-at", "1.0")
    sent = workspace.run("send", str(workspace.campaign), "--occurrence", "x", env=sim.env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert _statuses(workspace) == Counter({"accepted": RECIPIENTS})  # no callback URL given
    time.sleep(1.5)  # every message is delivered at the simulator by now
    result = workspace.run("reconcile", env=sim.env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Asked the provider about {RECIPIENTS} deliveries" in result.stdout
    assert f"moved forward: {RECIPIENTS} delivered" in result.stdout
    assert DELIVERED_NOTE in result.stdout
    assert _statuses(workspace) == Counter({"delivered": RECIPIENTS})
    again = workspace.run("reconcile", env=sim.env)
    assert "Asked the provider about 0 deliveries" in again.stdout


def test_reconcile_after_a_send_through_the_built_in_simulator_asks_nothing_and_warns_not(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    # `make demo` then `reconcile` (issue 15): the demo's messages went to a simulator that
    # ended with its command, so nobody can report on them, and nothing is asked about them.
    sent = workspace.run("send", str(workspace.campaign), "--occurrence", "demo")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    sim = start_simulator()
    result = workspace.run("reconcile", env=sim.env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Asked the provider about 0 deliveries" in result.stdout
    assert f"another account): {RECIPIENTS}" in result.stdout
    assert "failed as gateway-gone/gateway-changed after 1440 minutes" in result.stdout
    assert "no message" not in result.stderr
    assert _statuses(workspace) == Counter({"accepted": RECIPIENTS})  # final a day later


def test_reconcile_refuses_the_built_in_simulator(workspace: Workspace) -> None:
    # `serve` runs it in process instead (test_serve_access.py): it lives as long as serve.
    result = workspace.run("reconcile")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "`dispatcher reconcile` needs gateway: twilio" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_on_a_taken_port_is_a_configuration_error(workspace: Workspace) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _configure(workspace, http={"port": port})
        credentials = {"DISPATCHER_GATEWAY": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
                       "TWILIO_AUTH_TOKEN": "made-up"}  # fmt: skip
        result = workspace.run("serve", env=credentials)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_stops_serve_within_seconds_even_when_the_scheduler_is_stuck(
    workspace: Workspace, start_simulator: Callable[..., SimulatorProcess]
) -> None:
    sim = start_simulator()
    port = _free_port()
    # A campaign "file" whose read never ends: a named pipe nobody writes to (a hung network
    # share does the same). The scheduler's pass blocks on it for good.
    stuck = workspace.root / "campaigns" / "zz-stuck.yaml"
    os.mkfifo(stuck)
    _configure(workspace, http={"port": port}, status={"poll_interval_s": 86_400})
    with _serving(workspace, sim.env) as serve:
        status, _ = _request(f"http://127.0.0.1:{port}/health")
        assert status == 200  # stuck for seconds only: not yet unhealthy (after 120 s)
        time.sleep(1)  # the pass has reached the pipe by now
        started = time.monotonic()
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=30)
        assert serve.returncode == 0, out + _read(workspace)
        assert time.monotonic() - started < 10
    assert "stopping during a scheduling pass (at " in _read(workspace)
    assert "zz-stuck.yaml" in _read(workspace)
