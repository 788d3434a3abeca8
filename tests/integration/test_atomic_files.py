"""Reports and exports are written whole or not at all, with the mode any new file gets."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from dispatcher.cli import present_log
from dispatcher.core.errors import BadInput
from dispatcher.core.files import replace_file, replace_with


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("umask")
def test_a_report_gets_the_mode_of_any_new_file_not_a_temporary_one(tmp_path: Path) -> None:
    written = replace_file(tmp_path / "bao-cao.docx", b"PK")
    assert stat.S_IMODE(written.stat().st_mode) == 0o644  # 0666 less the umask, not 0600
    os.umask(0o077)
    assert stat.S_IMODE(replace_file(tmp_path / "rieng.csv", b"x").stat().st_mode) == 0o600


def test_a_failure_halfway_leaves_the_old_file_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "giao-nhan.csv"
    target.write_bytes(b"old\n")

    def chunks() -> Iterator[str]:
        yield "to,status\n"
        raise ConnectionError("the database went away")

    with pytest.raises(ConnectionError):
        present_log.write_out(target, chunks())
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["giao-nhan.csv"]  # no temporary file left


def test_an_unwritable_place_is_bad_input_naming_the_file(tmp_path: Path) -> None:
    def write(out: BinaryIO) -> None:
        out.write(b"x")

    with pytest.raises(BadInput) as caught:
        replace_with(tmp_path / "khong-co" / "x.csv", write, "the export")
    assert str(caught.value).startswith(
        f"{tmp_path / 'khong-co' / 'x.csv'}: cannot write the export"
    )


def test_a_full_disk_is_bad_input_and_leaves_nothing(tmp_path: Path) -> None:
    def write(out: BinaryIO) -> None:
        out.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(BadInput) as caught:
        replace_with(tmp_path / "bao-cao.xlsx", write)
    assert str(caught.value).endswith(
        "bao-cao.xlsx: cannot write the report: No space left on device"
    )
    assert list(tmp_path.iterdir()) == []
