"""The command line answers `--help` without loading the heavy parts (timed in bench/startup.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "alembic", "aiohttp", "twilio", "openpyxl", "numpy", "docx", "jinja2",
         "matplotlib", "PIL")  # fmt: skip


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_importing_the_command_line_loads_none_of_the_heavy_libraries() -> None:
    loaded = _loaded_after("import cli")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_help_lists_every_command_without_loading_them() -> None:
    code = (
        "import cli\nfrom click.testing import CliRunner\n"
        "out = CliRunner().invoke(cli.main, ['--help'])\nassert out.exit_code == 0, out.output\n"
        "assert 'send' in out.output and 'serve' in out.output"
    )
    loaded = _loaded_after(code)
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_a_command_still_loads_what_it_uses() -> None:
    code = "import cli\ncli.bootstrap.runtime"  # first touch of a lazy module imports it
    assert "sqlalchemy" in _loaded_after(code)


def test_a_lazy_module_is_an_attribute_of_its_package_like_an_imported_one() -> None:
    code = (
        "import cli, dispatcher.sending\n"
        "assert dispatcher.sending.send is cli.services\n"
        "assert callable(dispatcher.sending.send.prepare_campaign)"
    )
    assert "dispatcher.sending.send" in _loaded_after(code)
