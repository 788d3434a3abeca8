"""The units registry file: the shipped data, and every mistake in it at its `file:line`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dispatcher.audience.units import COMMUNE_KINDS, load_units
from dispatcher.broadcast.units import units_registry
from dispatcher.core.errors import BadInput, ConfigError
from dispatcher.settings.config import Settings

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "units.yaml"
HEAD = ["units:", '  - {code: "20", name: Tỉnh Lạng Sơn, kind: tinh}']  # lines 1-2


def communes_on(day: date) -> list[str]:
    registry = load_units(SHIPPED)
    return sorted(u.name for u in registry.units if u.kind in COMMUNE_KINDS and u.valid_on(day))


def test_van_quan_had_17_units_then_15_then_6() -> None:
    before = communes_on(date(2024, 11, 30))
    assert len(before) == 17 and "Thị trấn Văn Quan" in before and "Xã Tràng Các" in before
    after = communes_on(date(2024, 12, 1))
    assert set(before) - set(after) == {"Xã Đồng Giáp", "Xã Tràng Các"}
    assert len(after) == 15
    assert communes_on(date(2025, 7, 1)) == [
        "Xã Khánh Khê", "Xã Tri Lễ", "Xã Tân Đoàn", "Xã Văn Quan", "Xã Yên Phúc", "Xã Điềm He",
    ]  # fmt: skip


def test_the_shipped_registry_knows_where_merged_communes_went() -> None:
    registry = load_units(SHIPPED)
    (trang_cac,) = registry.find("Xã Tràng Các")
    successor = registry.successor(trang_cac)
    assert successor is not None and successor.name == "Xã Khánh Khê"
    district = registry.by_code_on("184", date(2024, 10, 1))
    assert district is not None and district.name == "Huyện Văn Quan"
    assert registry.by_code_on("184", date(2025, 7, 1)) is None  # districts abolished


def _problems(tmp_path: Path, *lines: str) -> list[str]:
    path = tmp_path / "units.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        load_units(path, "units.yaml")
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            ["units:", "  - {code: 20, name: Tỉnh Lạng Sơn, kind: tinh}"],
            ['units.yaml:2: units[0].code: 20 is a number: quote codes, like "06301"'],
            id="unquoted code",
        ),
        pytest.param(
            [*HEAD, '  - {code: "6301x", name: Xã A, kind: xa, parent: "20"}'],
            ["units.yaml:3: units[1].code: '6301x' is not a GSO code: 2 (province) to 5 "
             "(commune) digits"],
            id="not a code",
        ),
        pytest.param(
            [*HEAD, '  - {code: "06301", name: Xã A, kind: xa}'],
            ["units.yaml:3: units[1]: a province has no `parent`; every other unit needs one"],
            id="no parent",
        ),
        pytest.param(
            [*HEAD, '  - {code: "06301", name: Xã A, kind: commune, parent: "20"}'],
            ["units.yaml:3: units[1].kind: Input should be 'tinh', 'huyen', 'xa', 'phuong' or "
             "'thi_tran'"],
            id="unknown kind",
        ),
        pytest.param(
            [*HEAD, '  - {code: "06301", name: Xã A, kind: xa, parent: "20",',
             "     vaild_to: 2024-01-01}"],
            ["units.yaml:4: units[1].vaild_to: unknown key"],
            id="unknown key",
        ),
        pytest.param(
            [*HEAD, '  - {code: "06301", name: Xã A, kind: xa, parent: "20",',
             "     valid_from: 2024-02-01, valid_to: 2024-01-31}"],
            ["units.yaml:3: units[1]: valid_to 2024-01-31 is before valid_from 2024-02-01"],
            id="ends before it starts",
        ),
        pytest.param(
            [*HEAD, '  - {code: "06301", name: Xã A, kind: xa, parent: "20", merged_into: "20"}'],
            ["units.yaml:3: units[1]: `merged_into` needs `valid_to`, the last day before the "
             "merger"],
            id="merged without an end",
        ),
        pytest.param(
            [*HEAD, '  - {code: "06301", name: Xã A, kind: xa, parent: "20"}',
             '  - {code: "06301", name: Xã B, kind: xa, parent: "20"}'],
            ["units.yaml:4: units[2].code: code 06301 is also Xã A (always), same dates"],
            id="one code twice at once",
        ),
        pytest.param(
            [*HEAD, '  - {code: "06301", name: Xã A, kind: xa, parent: "20"}',
             '  - {code: "06302", name: xã  a, kind: xa, parent: "20"}'],
            ["units.yaml:4: units[2].name: xã a is also code 06301 (always), same dates"],
            id="one name twice at once",
        ),
        pytest.param(
            [*HEAD, '  - {code: "06301", name: Xã A, kind: xa, parent: "184"}'],
            ["units.yaml:3: units[1].parent: no unit has code 184"],
            id="unknown parent",
        ),
        pytest.param(
            [*HEAD, '  - {code: "06301", name: Xã A, kind: xa, parent: "20"}',
             '  - {code: "184", name: Huyện B, kind: huyen, parent: "06301"}'],
            ["units.yaml:4: units[2].parent: a commune cannot be above a district"],
            id="upside down",
        ),
        pytest.param(
            [*HEAD, '  - {code: "184", name: Huyện B, kind: huyen, parent: "20", '
             "valid_to: 2025-06-30}", '  - {code: "06301", name: Xã A, kind: xa, parent: "184"}'],
            ["units.yaml:4: units[2].parent: Xã A outlives its parent 184: give valid_to"],
            id="outlives its district",
        ),
        pytest.param(
            [*HEAD, '  - {code: "06301", name: Xã A, kind: xa, parent: "20",',
             '     valid_to: 2024-11-30, merged_into: "06286"}'],
            ["units.yaml:4: units[1].merged_into: no unit 06286 exists on 01/12/2024"],
            id="merged into nothing",
        ),
    ],
)  # fmt: skip
def test_mistakes_are_at_their_line(tmp_path: Path, lines: list[str], expected: list[str]) -> None:
    assert _problems(tmp_path, *lines) == expected


def test_the_configured_registry(tmp_path: Path) -> None:
    base = {"base_dir": tmp_path}
    assert units_registry(Settings.model_validate(base)) is None  # none at the default path
    explicit = Settings.model_validate(base | {"units_file": "gone.yaml"})
    with pytest.raises(ConfigError) as caught:
        units_registry(explicit)
    assert (
        str(caught.value.problems[0])
        == f"{tmp_path}/gone.yaml: units_file: units registry not found"
    )
    (tmp_path / "units.yaml").write_text("\n".join(HEAD) + "\n", encoding="utf-8")
    registry = units_registry(Settings.model_validate(base))
    assert registry is not None and [u.code for u in registry.units] == ["20"]
