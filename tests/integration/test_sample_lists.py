"""The committed sample lists: the loader sorts their rows exactly as their generator wrote them."""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from tests.audiences import build_audience

ROOT = Path(__file__).resolve().parents[2]
LISTS = ROOT / "campaigns" / "lists"
SAMPLE = LISTS / "2g-only.csv"
OPTED_OUT = LISTS / "opted-out.csv"
COMMUNES = {
    "Thị trấn Văn Quan", "Xã An Sơn", "Xã Bình Phúc", "Xã Điềm He", "Xã Đồng Giáp",
    "Xã Hòa Bình", "Xã Hữu Lễ", "Xã Khánh Khê", "Xã Liên Hội", "Xã Lương Năng", "Xã Tân Đoàn",
    "Xã Trấn Ninh", "Xã Tràng Các", "Xã Tràng Phái", "Xã Tri Lễ", "Xã Tú Xuyên", "Xã Yên Phúc",
}  # fmt: skip
OLD_PREFIXES = "120 121 122 126 128 123 124 125 127 129 162 163 164 165 166 167 168 169 186 188 199"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    """bench/make_sample_list.py, loaded from its path (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "make_sample_list", ROOT / "bench" / "make_sample_list.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


def _sample_rows() -> list[dict[str, str]]:
    with SAMPLE.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_composition_matches_the_generator_header() -> None:
    audience = build_audience([SAMPLE], [OPTED_OUT], display_base=ROOT)
    assert len(_sample_rows()) == 300
    assert len(audience.valid) == 272
    assert len(audience.invalid) == 16
    assert len(audience.duplicates) == 10
    assert len(audience.excluded) == 2
    assert audience.exclude_invalid == []
    assert audience.total_rows == 300


def test_invalid_rows_are_the_planned_kinds() -> None:
    audience = build_audience([SAMPLE], [OPTED_OUT])
    reasons = Counter(row.reason for row in audience.invalid)
    assert reasons == {
        "landline: cannot receive SMS": 4,
        "not a valid Vietnamese number": 6,  # 3 too short + 3 non-existent prefixes
        "not a phone number": 3,
        "empty": 3,
    }


def test_an_opted_out_number_is_also_repeated() -> None:
    audience = build_audience([SAMPLE], [OPTED_OUT])
    excluded = {row.phone for row in audience.excluded}
    assert excluded & {row.phone for row in audience.duplicates}


def test_opted_out_list_has_numbers_in_and_out_of_the_sample() -> None:
    audience = build_audience([OPTED_OUT], [])
    in_sample = {s.phone for s in build_audience([SAMPLE], []).valid}
    opted_out = {s.phone for s in audience.valid}
    assert opted_out & in_sample
    assert opted_out - in_sample
    with OPTED_OUT.open(encoding="utf-8") as stream:
        written = {row["phone"] for row in csv.DictReader(stream)}
    assert not written & {row["phone"] for row in _sample_rows()}  # always another format


def test_every_old_prefix_appears_several_times() -> None:
    digits = [re.sub(r"\D", "", row["phone"]).removeprefix("84") for row in _sample_rows()]
    old = Counter(d.removeprefix("0")[:3] for d in digits if len(d.removeprefix("0")) == 10)
    assert all(old[prefix] >= 2 for prefix in OLD_PREFIXES.split()), old


def test_text_is_nfc_utf8_without_bom() -> None:
    for path in (SAMPLE, OPTED_OUT):
        text = path.read_bytes().decode("utf-8")
        assert not text.startswith("\ufeff")
        assert unicodedata.normalize("NFC", text) == text
    rows = _sample_rows()
    assert list(rows[0]) == ["phone", "name", "commune", "carrier"]
    assert {row["commune"] for row in rows} == COMMUNES


def test_committed_files_are_what_the_generator_writes(
    generator: ModuleType, tmp_path: Path
) -> None:
    generator.main(["--out", str(tmp_path / "list.csv"), "--opted-out", str(tmp_path / "opt.csv")])
    assert (tmp_path / "list.csv").read_bytes() == SAMPLE.read_bytes()
    assert (tmp_path / "opt.csv").read_bytes() == OPTED_OUT.read_bytes()


@pytest.mark.parametrize(("rows", "with_opt_out"), [(1_000, True), (2_345, False)])
def test_loader_agrees_with_the_generator_at_other_sizes(
    generator: ModuleType, tmp_path: Path, rows: int, with_opt_out: bool
) -> None:
    args = ["--rows", str(rows), "--out", str(tmp_path / "big.csv")]
    if with_opt_out:
        args += ["--opted-out", str(tmp_path / "opt.csv")]
    generator.main(args)
    plan = generator.SAMPLE.scaled(rows, with_opt_out=with_opt_out)
    excludes = [tmp_path / "opt.csv"] if with_opt_out else []
    audience = build_audience([tmp_path / "big.csv"], excludes)
    assert len(audience.valid) == plan.valid_new + plan.valid_old
    assert (
        len(audience.invalid)
        == plan.landline + plan.too_short + plan.letters + plan.empty + plan.bad_prefix
    )
    assert len(audience.duplicates) == plan.duplicates
    assert len(audience.excluded) == plan.excluded
    assert audience.total_rows == rows
