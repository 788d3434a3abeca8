"""The CLI against a standalone simulator process and a real database.

``Workspace.run`` runs a command in this process through click's test runner, with the
workspace's environment and folder exactly as a subprocess would have them (nothing else of the
test's environment shows through): the same output, exit code and traceback-or-not, without the
second or two each process spends starting. ``Workspace.run_process`` runs the installed
``dispatcher`` as a real process: the tests of start-up, signals, kills, workers and the service
use it, and a few others keep it so the entry point itself stays tested.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

REPO = Path(__file__).resolve().parents[2]
DISPATCHER = str(Path(sys.executable).parent / "dispatcher")
TIMEOUT_S = 120


@dataclass
class Workspace:
    """A folder with a config file, a copy of the sample campaign and an environment."""

    root: Path
    env: dict[str, str]

    @property
    def campaign(self) -> Path:
        return self.root / "campaigns" / "2g-shutdown-2024.yaml"

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The command in this process (see the module's docstring)."""
        return run_in_process(list(args), self.root, {**self.env, **(env or {})})

    def run_process(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The command as a real process of the installed entry point."""
        return subprocess.run(
            [DISPATCHER, *args], cwd=self.root, env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT_S,
            check=False,
        )  # fmt: skip

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


def run_in_process(
    args: list[str], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """``dispatcher ARGS`` run by click's CliRunner with exactly ``env`` and ``cwd``; an
    exception that escapes is written to stderr as the interpreter would, exit code 1."""
    from click.testing import CliRunner

    import cli

    # The environment, folder and logging are the process's: one command at a time.
    assert threading.current_thread() is threading.main_thread(), "run commands one at a time"
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli.main, args, prog_name="dispatcher")
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        root.handlers[:] = saved_handlers  # the command's handler wrote to the runner's stream
        root.setLevel(saved_level)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess([DISPATCHER, *args], result.exit_code, result.stdout, stderr)


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep} | {"PYTHONUNBUFFERED": "1"}


@pytest.fixture
def workspace(tmp_path: Path, db_url: str) -> Workspace:
    shutil.copytree(REPO / "campaigns", tmp_path / "campaigns")
    shutil.copy(REPO / "units.yaml", tmp_path / "units.yaml")
    shutil.copytree(REPO / "audio" / "templates", tmp_path / "audio" / "templates")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database_url: {db_url}\ngateway: simulator\noutput_dir: out\n"
        # Fast pacing: these tests are about correctness; pacing has its own tests and bench.
        # Quiet hours off: these tests run at any hour; quiet hours have tests on a fake clock.
        # The sample campaign's sender, registered as in the shipped config.yaml.
        "carriers:\n  registered_senders: [VANQUAN]\n"
        "sending:\n  rate_per_sender: 100000\n  burst_segments: 1000\n  quiet_hours: 'off'\n"
        "  retry:\n    max_attempts: 10\n    initial_backoff_s: 0.01\n"
        "    max_backoff_s: 0.05\n    jitter_s: 0\n",
        encoding="utf-8",
    )
    return Workspace(tmp_path, _base_env() | {"DISPATCHER_CONFIG": str(config)})


@dataclass
class SimulatorProcess:
    url: str
    record: Path
    env: dict[str, str]

    def accepted(self) -> list[dict[str, str]]:
        from dispatcher.gateways.simulator_state import read_record

        return [{"to": m.to, "body": m.body, "sid": m.sid} for m in read_record(self.record)]


@pytest.fixture
def start_simulator(tmp_path: Path) -> Iterator[Callable[..., SimulatorProcess]]:
    """Start a standalone simulator (with fault options); the dispatcher uses it as `twilio`."""
    processes: list[subprocess.Popen[str]] = []

    def start(*options: str) -> SimulatorProcess:
        record = tmp_path / f"accepted-{len(processes)}.jsonl"
        credentials = {"TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
                       "TWILIO_AUTH_TOKEN": secrets.token_hex(16)}  # fmt: skip
        process = subprocess.Popen(
            [DISPATCHER, "simulator", "--port", "0", "--record", str(record), *options],
            env=_base_env() | credentials, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        processes.append(process)
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        env = credentials | {"DISPATCHER_GATEWAY": "twilio", "TWILIO_API_BASE_URL": url}
        return SimulatorProcess(url, record, env)

    yield start
    for process in processes:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        if process.stdout:
            process.stdout.close()


# -- headless Chromium, for the pages' tests -------------------------------------------------------
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    """Headless Chromium from Debian's packages; nothing is downloaded (no selenium-manager)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        assert os.access(path, os.X_OK), f"{path} missing: apt-get install chromium chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--window-size=412,915",
                     f"--user-data-dir={tmp_path / 'chromium-profile'}"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
