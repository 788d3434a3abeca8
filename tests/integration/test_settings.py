"""`load_settings`: config.yaml plus DISPATCHER_* overrides, and errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatcher.core.errors import ConfigError
from dispatcher.settings.config import Settings, load_settings

PG = "postgresql://dispatch:s3cret@db.example:5432/dispatcher"


def _config(folder: Path, *lines: str) -> Path:
    """A config file whose line N is ``lines[N - 1]``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _problems(environ: dict[str, str], cwd: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ, cwd)
    return [str(p) for p in caught.value.problems]


def test_without_a_file_the_defaults_apply_relative_to_the_working_folder(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path)
    assert settings.model_dump(exclude={"base_dir"}) == Settings().model_dump(exclude={"base_dir"})
    assert (settings.gateway, settings.timezone) == ("simulator", "Asia/Ho_Chi_Minh")
    assert settings.base_dir == tmp_path.resolve()
    assert (
        settings.resolved_database_url == f"sqlite:///{tmp_path.resolve()}/var/dispatcher.sqlite3"
    )
    assert settings.resolved_output_dir == tmp_path.resolve() / "audio" / "out"


def test_config_yaml_in_the_working_folder_is_read(tmp_path: Path) -> None:
    _config(tmp_path, "gateway: twilio", "sending:", "  batch_size: 7")
    settings = load_settings({}, tmp_path)
    assert (settings.gateway, settings.sending.batch_size) == ("twilio", 7)
    assert settings.sending.concurrency == 32  # what the file leaves out keeps its default


def test_relative_paths_are_resolved_against_the_config_files_folder(tmp_path: Path) -> None:
    config = _config(
        tmp_path / "etc", "database_url: sqlite:///data/dispatcher.sqlite3", "output_dir: out"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    settings = load_settings({"DISPATCHER_CONFIG": str(config)}, elsewhere)
    folder = (tmp_path / "etc").resolve()
    assert settings.base_dir == folder
    assert settings.resolved_database_url == f"sqlite:///{folder}/data/dispatcher.sqlite3"
    assert settings.resolved_output_dir == folder / "out"


@pytest.mark.parametrize(
    "url", ["sqlite:////srv/dispatcher.sqlite3", "sqlite:///:memory:", PG], ids=str
)
def test_absolute_and_server_urls_are_kept_as_written(tmp_path: Path, url: str) -> None:
    _config(tmp_path, f'database_url: "{url}"')
    assert load_settings({}, tmp_path).resolved_database_url == url


def test_environment_overrides_win_over_the_file(tmp_path: Path) -> None:
    _config(tmp_path, "database_url: sqlite:///file.sqlite3", "gateway: twilio")
    env = {"DISPATCHER_DB_URL": PG, "DISPATCHER_GATEWAY": "simulator"}
    settings = load_settings(env, tmp_path)
    assert (settings.database_url, settings.gateway) == (PG, "simulator")


def test_an_empty_environment_variable_does_not_override(tmp_path: Path) -> None:
    _config(tmp_path, "gateway: twilio")
    assert load_settings({"DISPATCHER_GATEWAY": ""}, tmp_path).gateway == "twilio"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DISPATCHER_GATEWAY", "foo", "Input should be 'twilio' or 'simulator'"),
        (
            "DISPATCHER_DB_URL",
            "mysql://root:s3cret@localhost/dispatcher",
            "unsupported database 'mysql'; use one like sqlite:///var/dispatcher.sqlite3 or "
            "postgresql://user@host:5432/dispatcher",
        ),
        (
            "DISPATCHER_DB_URL",
            "s3cret",
            "not a database URL; write one like sqlite:///var/dispatcher.sqlite3 or "
            "postgresql://user@host:5432/dispatcher",
        ),
    ],
)
def test_a_bad_environment_value_names_the_variable(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    _config(tmp_path, "database_url: sqlite:///file.sqlite3", "gateway: twilio")
    assert _problems({variable: value}, tmp_path) == [f"${variable}: {message}"]


def test_a_database_url_is_never_repeated_in_errors(tmp_path: Path) -> None:
    (problem,) = _problems({"DISPATCHER_DB_URL": "mysql://root:s3cret@localhost/x"}, tmp_path)
    assert "s3cret" not in problem


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["gateway: simulator", "sending:", "  batchsize: 5"],
         "{file}:3: sending.batchsize: unknown key"),
        (["colour: blue"], "{file}:1: colour: unknown key"),
        (["timezone: Asia/Hanoi"], "{file}:1: timezone: unknown time zone 'Asia/Hanoi'"),
        (["gateway: sms"], "{file}:1: gateway: Input should be 'twilio' or 'simulator'"),
        (["sending:", "  concurrency: 0"],
         "{file}:2: sending.concurrency: Input should be greater than or equal to 1"),
        (["output_dir: out", "database_url: nosuchdb://host/db"],
         "{file}:2: database_url: unsupported database 'nosuchdb'; use one like "
         "sqlite:///var/dispatcher.sqlite3 or postgresql://user@host:5432/dispatcher"),
        (["gateway: [twilio"],
         "{file}:2: malformed YAML: expected ',' or ']', but got '<stream end>' "
         "(while parsing a flow sequence at line 1)"),
        (["gateway: twilio", "gateway: simulator"], "{file}:2: duplicate key 'gateway'"),
        (["- simulator"], "{file}:1: expected a mapping of keys to values"),
    ],
)  # fmt: skip
def test_a_bad_file_value_names_the_file_line_and_key(
    tmp_path: Path, lines: list[str], expected: str
) -> None:
    config = _config(tmp_path, *lines)
    assert _problems({}, tmp_path) == [expected.format(file=config)]


def test_file_and_environment_errors_are_reported_together(tmp_path: Path) -> None:
    config = _config(tmp_path, "gateway: simulator", "timezone: Mars/Olympus")
    problems = _problems({"DISPATCHER_GATEWAY": "carrier-pigeon"}, tmp_path)
    assert problems == [
        "$DISPATCHER_GATEWAY: Input should be 'twilio' or 'simulator'",
        f"{config}:2: timezone: unknown time zone 'Mars/Olympus'",
    ]


def test_a_missing_config_named_by_the_environment_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "config.yaml"
    problems = _problems({"DISPATCHER_CONFIG": str(missing)}, tmp_path)
    assert problems == [f"{missing}: config file not found (from $DISPATCHER_CONFIG)"]
