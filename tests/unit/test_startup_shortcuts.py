"""The shortcuts that keep `validate` and `plan` light give the answers of the libraries they
avoid: the schema's newest revision (Alembic), a SQLite URL (SQLAlchemy), YAML (PyYAML)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from dispatcher.core import yamlfile
from dispatcher.settings.config import PLAIN_SQLITE_URL
from dispatcher.store import uow
from dispatcher.store.db import MIGRATIONS, is_current, newest_revision

REPO = Path(__file__).resolve().parents[2]


def test_the_newest_revision_read_from_the_files_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    assert newest_revision() == ScriptDirectory.from_config(config).get_current_head()
    assert newest_revision() is not None


@pytest.mark.parametrize(
    ("rows", "current"),
    [([], False), (["0001"], False), ([None], False), (["newest"], True),
     (["newest", "0001"], False)],
)  # fmt: skip
def test_only_one_row_at_the_newest_revision_is_current(
    tmp_path: Path, rows: list[str | None], current: bool
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'd.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        for row in rows:
            value = newest_revision() if row == "newest" else row
            connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": value})
    assert is_current(engine) is current


def test_a_database_without_the_version_table_is_not_current(tmp_path: Path) -> None:
    assert not is_current(create_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}"))


def test_a_database_that_cannot_be_reached_raises_once_as_alembic_would(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'd.sqlite3'}")
    with pytest.raises(OperationalError):
        is_current(engine)


@pytest.mark.parametrize(
    "url",
    ["sqlite:///var/dispatcher.sqlite3", "sqlite:////abs/path/d.sqlite3", "sqlite:///:memory:",
     "sqlite+pysqlite:///d.sqlite3?timeout=5", "sqlite:///with space/ünicode.db"],
)  # fmt: skip
def test_a_plain_sqlite_url_is_one_sqlalchemy_reads_as_sqlite(url: str) -> None:
    assert PLAIN_SQLITE_URL.fullmatch(url)
    assert make_url(url).get_backend_name() == "sqlite"


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite://host:1/x", "postgresql://u@h/db", "mysql:///x", "sqlite3:///x"]
)
def test_any_other_url_is_left_to_sqlalchemy(url: str) -> None:
    assert not PLAIN_SQLITE_URL.fullmatch(url)


def test_a_missing_sqlite_file_is_known_without_sqlalchemy(tmp_path: Path) -> None:
    there = tmp_path / "there.sqlite3"
    there.touch()
    (tmp_path / "with space.db").touch()
    # SQLAlchemy unquotes the path: so does the shortcut
    assert not uow._no_sqlite_file(f"sqlite:///{tmp_path}/with%20space.db")
    assert make_url(f"sqlite:///{tmp_path}/with%20space.db").database == f"{tmp_path}/with space.db"
    assert uow._no_sqlite_file(f"sqlite:///{tmp_path / 'absent.sqlite3'}")
    assert uow._no_sqlite_file("sqlite:///:memory:")
    assert not uow._no_sqlite_file(f"sqlite:///{there}")
    assert not uow._no_sqlite_file(f"sqlite:///{there}?mode=ro")
    assert not uow._no_sqlite_file("postgresql://u@h/db")  # asked for real


def _yaml_files() -> list[Path]:
    skip = {".venv", "node_modules", ".git"}
    found = [p for p in REPO.rglob("*.y*ml") if not skip & set(p.relative_to(REPO).parts)]
    return sorted(p for p in found if p.suffix in {".yaml", ".yml"})


def _lines(node: yaml.Node | None) -> list[tuple[str, int, int, int, int]]:
    """Every node's tag and where it starts and ends, in document order."""
    if node is None:
        return []
    here = [(node.tag, node.start_mark.line, node.start_mark.column, node.end_mark.line,
             node.end_mark.column)]  # fmt: skip
    if isinstance(node, yaml.MappingNode):
        return here + [line for pair in node.value for part in pair for line in _lines(part)]
    if isinstance(node, yaml.SequenceNode):
        return here + [line for item in node.value for line in _lines(item)]
    return here


def _outcome(loader: type[yaml.SafeLoader | yaml.CSafeLoader], source: str) -> object:
    """The data and every node's place, or that the loader refused the text."""
    try:
        root, data = yamlfile._parse_with(loader, source, "f.yaml")
    except yaml.YAMLError:
        return "refused"
    return data, _lines(root)


def _read(source: str) -> object:
    """What read_yaml's parse gives (libyaml where it can), or that it refused the text."""
    try:
        root, data = yamlfile._parse(source, "f.yaml")
    except yaml.YAMLError:
        return "refused"
    return data, _lines(root)


@pytest.mark.skipif(not yamlfile._FAST_LOADER, reason="PyYAML built without libyaml")
def test_libyaml_and_pyyaml_read_every_yaml_file_of_the_project_alike() -> None:
    assert yamlfile._FAST_LOADER is not None
    files = _yaml_files()
    assert len(files) >= 3  # config.yaml, units.yaml, the sample campaign at least
    for path in files:
        source = path.read_text(encoding="utf-8")
        assert _read(source) == _outcome(yaml.SafeLoader, source), path
        if not yamlfile._LIBYAML_DIFFERS.search(source):  # as read at start: by libyaml
            assert _outcome(yamlfile._FAST_LOADER, source) == _outcome(yaml.SafeLoader, source)


@pytest.mark.parametrize(
    "source",
    ["a: 1\nb: [1, 2, {c: d}]\n", "x: 2024-08-01\nt: 17:30\ny: yes\nz: ~\n", "- &a [1]\n- *a\n",
     "k: |\n  two\n  lines\n", "k: >\n  folded\n  text\n", "'q': \"é\\u00e9\"\n", "",
     "a: [1\n", "a: 1\n a: 2\n", "---\na: Dừng công nghệ\n...\n",
     # where libyaml reads otherwise, PyYAML is asked
     "a: x\ty\n", "k: [a?b]\n", "- !\n", "k: >#\n  t\n", "- - 1", "a: é"],
)  # fmt: skip
def test_a_text_reads_as_pyyaml_reads_it(source: str) -> None:
    assert _read(source) == _outcome(yaml.SafeLoader, source)
