"""The streaming audience: same decisions as reading everything in memory, bounded memory."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import threading
import tracemalloc
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.audience.lists import (
    DuplicateRow,
    ExcludedRow,
    RejectedRow,
    Subscriber,
    display_path,
    read_list,
)
from dispatcher.audience.phones import InvalidPhone, normalize
from dispatcher.audience.scan import AudienceScan, scan_audience
from dispatcher.core.errors import BadInput
from tests.audiences import Audience

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "campaigns" / "lists" / "2g-only.csv"
OPTED_OUT = ROOT / "campaigns" / "lists" / "opted-out.csv"


def reference(recipients: Sequence[Path], excludes: Sequence[Path], base: Path) -> Audience:
    """The all-in-memory algorithm the scan replaced (dicts of E.164 strings): the oracle."""
    result = Audience()
    opted_out: dict[str, tuple[str, int]] = {}
    for path in excludes:
        display = display_path(path, base)
        for row in read_list(path, display):
            try:
                opted_out.setdefault(normalize(row.phone), (display, row.line))
            except InvalidPhone as exc:
                result.exclude_invalid.append(RejectedRow(display, row.line, row.phone, exc.reason))
    first_seen: dict[str, tuple[str, int]] = {}
    for path in recipients:
        display = display_path(path, base)
        for row in read_list(path, display):
            try:
                phone = normalize(row.phone)
            except InvalidPhone as exc:
                result.invalid.append(RejectedRow(display, row.line, row.phone, exc.reason))
                continue
            if phone in first_seen:
                result.duplicates.append(DuplicateRow(display, row.line, phone, *first_seen[phone]))
                continue
            first_seen[phone] = (display, row.line)
            if phone in opted_out:
                result.excluded.append(ExcludedRow(display, row.line, phone, *opted_out[phone]))
            else:
                result.valid.append(Subscriber(phone, display, row.line, row.fields))
    return result


def assert_same(scan: AudienceScan, valid: list[Subscriber], expected: Audience) -> None:
    found = scan.summary
    assert valid == expected.valid
    assert found.valid == len(expected.valid)
    assert found.invalid.rows == expected.invalid
    assert found.duplicates.rows == expected.duplicates
    assert found.excluded.rows == expected.excluded
    assert found.exclude_invalid.rows == expected.exclude_invalid


@pytest.fixture(scope="module")
def split_lists(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    """3,000 generated rows in two recipient files (repeats across them) and an opt-out list."""
    folder = tmp_path_factory.mktemp("lists")
    generator = ROOT / "bench" / "make_sample_list.py"
    args = [
        "--rows",
        "3000",
        "--out",
        str(folder / "all.csv"),
        "--opted-out",
        str(folder / "o.csv"),
    ]
    subprocess.run([sys.executable, str(generator), *args], check=True, capture_output=True)
    header, *rows = (folder / "all.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "a.csv").write_text(header + "".join(rows[:1700]), encoding="utf-8")
    (folder / "b.csv").write_text(header + "".join(rows[1700:]), encoding="utf-8")
    return [folder / "a.csv", folder / "b.csv"], folder / "o.csv"


# --- the same decisions -------------------------------------------------------------------------


def test_sample_gives_the_rows_of_the_in_memory_algorithm() -> None:
    scan = scan_audience([SAMPLE], [OPTED_OUT], display_base=ROOT)
    assert_same(scan, list(scan), reference([SAMPLE], [OPTED_OUT], ROOT))
    assert (scan.summary.valid, scan.summary.total_rows) == (272, 300)


@pytest.mark.parametrize("first_rows", [False, True], ids=["found-again", "remembered"])
@pytest.mark.parametrize("batch_rows", [1, 7, 5_000])
def test_rows_split_over_files_and_batches(
    split_lists: tuple[list[Path], Path], batch_rows: int, first_rows: bool
) -> None:
    recipients, opted_out = split_lists
    base = recipients[0].parent
    scan = scan_audience(
        recipients, [opted_out], display_base=base, keep=None, workers=0, batch_rows=batch_rows,
        first_rows=first_rows,
    )  # fmt: skip
    expected = reference(recipients, [opted_out], base)
    assert_same(scan, list(scan), expected)
    # Repeats of a.csv's numbers in b.csv name their first row in a.csv.
    assert {(d.file, d.first_file) for d in expected.duplicates} >= {("b.csv", "a.csv")}


def test_can_be_iterated_again_with_the_same_result(split_lists: tuple[list[Path], Path]) -> None:
    recipients, opted_out = split_lists
    scan = scan_audience(recipients, [opted_out], keep=None, workers=0)
    first, first_summary = list(scan), scan.summary
    again = list(scan)
    assert again == first
    assert scan.summary == first_summary
    assert scan.summary is not first_summary  # counted afresh, from the files


def test_summary_needs_a_complete_pass() -> None:
    scan = scan_audience([SAMPLE], [OPTED_OUT])
    with pytest.raises(RuntimeError, match="iterate"):
        _ = scan.summary
    next(iter(scan))
    with pytest.raises(RuntimeError, match="iterate"):
        _ = scan.summary


def test_kept_rows_are_capped_and_counts_stay_exact() -> None:
    expected = reference([SAMPLE], [OPTED_OUT], ROOT)
    scan = scan_audience([SAMPLE], [OPTED_OUT], display_base=ROOT, keep=3)
    assert sum(1 for _ in scan) == 272
    found = scan.summary
    assert found.invalid.rows == expected.invalid[:3]
    assert (found.invalid.total, found.invalid.omitted) == (16, 13)
    assert found.duplicates.rows == expected.duplicates[:3]
    assert (found.duplicates.total, found.duplicates.omitted) == (10, 7)
    assert found.excluded.rows == expected.excluded
    assert (found.excluded.total, found.excluded.omitted) == (2, 0)
    assert found.total_rows == 300


def test_earlier_rows_are_found_across_files_and_a_list_changed_meanwhile_is_refused(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("phone\n0912000001\n0912000002\n", encoding="utf-8")
    second.write_text("phone\n0912000003\n+84912000002\n", encoding="utf-8")
    scan = scan_audience([first, second], [], display_base=tmp_path)
    assert len(list(scan)) == 3
    assert scan.summary.duplicates.rows == [DuplicateRow("b.csv", 3, "+84912000002", "a.csv", 3)]

    assert len(list(scan)) == 3  # the earlier rows are looked up when they are first shown
    first.write_text("phone\n0912000001\n", encoding="utf-8")
    with pytest.raises(BadInput, match="changed while they were read") as caught:
        _ = scan.summary.duplicates.rows
    assert (caught.value.problems[0].file, caught.value.problems[0].line) == ("b.csv", 3)


def test_columns_limit_the_fields(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("phone,name,commune\n0912345678,An,Xã Tri Lễ\n", encoding="utf-8")
    assert [s.fields for s in scan_audience([path], [], columns={"commune"})] == [
        {"commune": "Xã Tri Lễ"}
    ]
    assert [s.fields for s in scan_audience([path], [], columns=())] == [{}]


PHONE_CELLS = st.sampled_from(
    ["0912345678", "0912 345 678", "+84912345678", "0987654321", "0168 123 4567", "0381234567",
     "84 86 999 0001", "abc", "", "0205 3830 018", "0521234567", "+1 415 555 2671",
     "912345678.0", "9.12345678E8", "091.234.5678", "'0912345678", "(+84) 98-765-4321"]
)  # fmt: skip
FILE_ROWS = st.lists(PHONE_CELLS, max_size=15)


@settings(max_examples=40, deadline=None)
@given(st.lists(FILE_ROWS, min_size=1, max_size=3), FILE_ROWS, st.integers(1, 4), st.booleans())
def test_any_lists_get_the_decisions_of_the_in_memory_algorithm(
    files: list[list[str]], excluded: list[str], batch_rows: int, first_rows: bool
) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        recipients = [_write(folder, f"r{i}.csv", cells) for i, cells in enumerate(files)]
        opt_out = _write(folder, "opt.csv", excluded)
        scan = scan_audience(
            recipients, [opt_out], display_base=folder, keep=None, batch_rows=batch_rows,
            first_rows=first_rows,
        )  # fmt: skip
        assert_same(scan, list(scan), reference(recipients, [opt_out], folder))


def _write(folder: Path, name: str, cells: list[str]) -> Path:
    path = folder / name
    path.write_text("phone,n\n" + "".join(f"{c},{i}\n" for i, c in enumerate(cells)), "utf-8")
    return path


# --- worker processes ---------------------------------------------------------------------------

_IN_WORKERS = """
import json, sys
from pathlib import Path
from dispatcher.audience.scan import scan_audience

*recipients, opted_out, base = map(Path, sys.argv[1:])
scan = scan_audience(recipients, [opted_out], display_base=base, keep=None, workers=2,
                     batch_rows=37, first_rows=True)
valid = [[s.phone, s.file, s.line, s.fields] for s in scan]
found = scan.summary
print(json.dumps({
    "workers": found.workers,
    "valid": valid,
    "duplicates": [[d.file, d.line, d.phone, d.first_file, d.first_line]
                   for d in found.duplicates.rows],
    "excluded": [[e.file, e.line, e.phone, e.excluded_by_file, e.excluded_by_line]
                 for e in found.excluded.rows],
    "invalid": [[r.file, r.line, r.raw, r.reason] for r in found.invalid.rows],
}))
"""


def test_worker_processes_resolve_repeats_to_the_first_row(
    split_lists: tuple[list[Path], Path],
) -> None:
    # A fresh process: worker processes are only forked from a single-threaded one.
    recipients, opted_out = split_lists
    base = recipients[0].parent
    args = [*map(str, recipients), str(opted_out), str(base)]
    done = subprocess.run(
        [sys.executable, "-c", _IN_WORKERS, *args], check=True, capture_output=True, text=True
    )
    found = json.loads(done.stdout)
    expected = reference(recipients, [opted_out], base)
    assert found["workers"] == 2
    assert found["valid"] == [[s.phone, s.file, s.line, s.fields] for s in expected.valid]
    assert found["duplicates"] == [
        [d.file, d.line, d.phone, d.first_file, d.first_line] for d in expected.duplicates
    ]
    assert found["excluded"] == [
        [e.file, e.line, e.phone, e.excluded_by_file, e.excluded_by_line] for e in expected.excluded
    ]
    assert found["invalid"] == [[r.file, r.line, r.raw, r.reason] for r in expected.invalid]


def test_a_threaded_process_normalizes_in_place(split_lists: tuple[list[Path], Path]) -> None:
    recipients, opted_out = split_lists
    with _another_thread():
        scan = scan_audience(recipients, [opted_out], keep=None, workers=2, batch_rows=37)
        valid = list(scan)
    assert scan.summary.workers == 0
    assert valid == reference(recipients, [opted_out], Path.cwd()).valid


@contextlib.contextmanager
def _another_thread() -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# --- memory -------------------------------------------------------------------------------------

SUBSCRIBER_BYTES = 500  # a Subscriber with a two-column fields dict, as the old audience kept


def test_memory_grows_by_a_few_bytes_per_valid_row(tmp_path: Path) -> None:
    small, large = _peak_bytes(tmp_path, 10_000), _peak_bytes(tmp_path, 60_000)
    per_row = (large - small) / 50_000
    # What stays is the number table, sized once from the list's lines (4-byte slots at a load
    # of 0.7: ~6 bytes a number), never the rows.
    assert per_row < 12, f"{per_row:.0f} bytes per valid row"
    assert per_row < SUBSCRIBER_BYTES / 8
    assert large < 3 * small, (small, large)


def _peak_bytes(folder: Path, rows: int) -> int:
    path = folder / f"{rows}.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("phone,name,commune\n")
        out.writelines(f"091{i:07d},Hoàng Văn Sáng,Xã Tân Đoàn\n" for i in range(rows))
    scan = scan_audience([path], [], workers=0, batch_rows=1_000)
    tracemalloc.start()
    try:
        count = sum(1 for _ in scan)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows == scan.summary.valid
    return peak
