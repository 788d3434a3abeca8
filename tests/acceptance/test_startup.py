"""The command line answers `--help`, `validate` and `plan` without loading the heavy parts.

Not a timing test (bench/startup.py times them): each case runs a command in a fresh interpreter
and lists the modules it imported, so a top-level import that drags SQLAlchemy or the audio
stack back onto the path of a light command fails here, whatever the machine's speed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = "campaigns/2g-shutdown-2024.yaml"
# Never needed to read a campaign: the database, the gateways, spreadsheets, documents, audio.
HEAVY = ("sqlalchemy", "alembic", "aiohttp", "twilio", "openpyxl", "numpy", "docx", "lxml",
         "matplotlib", "PIL", "pedalboard", "soundfile", "asyncio", "multiprocessing",
         "croniter")  # fmt: skip
JINJA = ("jinja2",)  # templates: `validate` and `plan` render them, `--help` does not


def _loaded_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True,
        env=env,
    )  # fmt: skip
    return set(done.stdout.split())


def _heavy(loaded: set[str], heavy: tuple[str, ...] = HEAVY) -> set[str]:
    return {m for m in loaded if m.split(".")[0] in heavy}


def _command(args: list[str]) -> str:
    """Code that runs ``dispatcher ARGS`` in-process and checks it succeeded."""
    return (
        "import cli\nfrom click.testing import CliRunner\n"
        f"out = CliRunner().invoke(cli.main, {args!r})\n"
        "assert out.exit_code == 0, (out.output, out.exception)"
    )


def _environment(database: Path) -> dict[str, str]:
    import os

    return dict(os.environ, DISPATCHER_DB_URL=f"sqlite:///{database}")


def test_importing_the_command_line_loads_none_of_the_heavy_libraries() -> None:
    loaded = _loaded_after("import cli")
    assert not _heavy(loaded, HEAVY + JINJA)


def test_help_lists_every_command_without_loading_them() -> None:
    code = _command(["--help"])
    loaded = _loaded_after(code)
    assert not _heavy(loaded, HEAVY + JINJA)


@pytest.mark.parametrize(
    "args", [["validate", SAMPLE], ["plan", SAMPLE], ["plan", SAMPLE, "--json"]]
)
def test_validate_and_plan_without_a_database_load_none_of_the_heavy_libraries(
    tmp_path: Path, args: list[str]
) -> None:
    env = _environment(tmp_path / "none.sqlite3")  # not there: nothing to read, none created
    loaded = _loaded_after(_command(args), env)
    assert not _heavy(loaded)
    assert not (tmp_path / "none.sqlite3").exists()


def test_plan_reads_a_current_database_without_alembic(tmp_path: Path) -> None:
    database = tmp_path / "d.sqlite3"
    env = _environment(database)
    subprocess.run(
        [sys.executable, "cli.py", "db", "upgrade"], cwd=REPO, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    code = _command(["plan", SAMPLE, "--json"]) + "\nimport json\njson.loads(out.output)"
    loaded = _loaded_after(code, env)
    assert "sqlalchemy" in loaded  # it did open the database
    assert not _heavy(loaded, ("alembic", "aiohttp", "twilio", "docx", "openpyxl", "numpy"))


def test_a_command_still_loads_what_it_uses(tmp_path: Path) -> None:
    code = (
        "import cli\nfrom dispatcher.settings.config import load_settings\n"
        "with cli.bootstrap.runtime(load_settings()) as rt:\n    pass"
    )
    loaded = _loaded_after(code, _environment(tmp_path / "d.sqlite3"))
    assert {"sqlalchemy", "alembic"} <= {m.split(".")[0] for m in loaded}  # created, migrated


def test_a_lazy_module_is_an_attribute_of_its_package_like_an_imported_one() -> None:
    code = (
        "import cli, dispatcher.sending\n"
        "assert dispatcher.sending.send is cli.services\n"
        "assert callable(dispatcher.sending.send.prepare_campaign)"
    )
    assert "dispatcher.sending.send" in _loaded_after(code)


def test_a_command_freezes_the_collector_s_objects_before_the_interpreter_tears_down() -> None:
    """At exit the cyclic collector would walk every object the imports made (0.3 s of a
    command over a database: bench/startup.py): the command freezes them first. The probe's
    own exit hook, registered before the command ran, runs after the command's."""
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen:', gc.get_freeze_count() > 0))\n"
        "import cli\nsys.argv = ['dispatcher', 'validate', " + repr(SAMPLE) + "]\n"
        "cli.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "frozen: True"
