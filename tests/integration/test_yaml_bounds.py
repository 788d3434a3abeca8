"""YAML files that would take the machine are refused at once, naming the file (issue 13.3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatcher.core.errors import BadInput
from dispatcher.core.yamlfile import MAX_YAML_BYTES, read_yaml

# The 549-byte "billion laughs": nine levels of ten aliases, 10**9 values once expanded.
LAUGHS = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def test_an_alias_bomb_is_refused_before_it_is_expanded(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(LAUGHS, encoding="utf-8")
    assert len(LAUGHS.encode()) < 1_000
    with pytest.raises(BadInput) as caught:
        read_yaml(path, "campaigns/bomb.yaml")
    (problem,) = caught.value.problems
    assert problem.file == "campaigns/bomb.yaml"
    assert "more than 100,000 values once its aliases (*name) are expanded" in problem.message


def test_a_few_anchors_are_still_fine(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("times: &t ['06:00', '17:30']\nagain: *t\n", encoding="utf-8")
    assert read_yaml(path).data == {"times": ["06:00", "17:30"], "again": ["06:00", "17:30"]}


def test_a_huge_file_is_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("# " + "x" * MAX_YAML_BYTES + "\n", encoding="utf-8")
    with pytest.raises(BadInput, match="larger than 5 MB"):
        read_yaml(path, "huge.yaml")
