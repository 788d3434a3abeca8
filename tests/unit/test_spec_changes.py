"""What an edit of a campaign file changed (dispatcher.campaigns.registry.spec_changes,
canonical_spec)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dispatcher.campaigns.registry import canonical_spec, spec_changes
from dispatcher.campaigns.spec import CampaignSpec

BASE: dict[str, Any] = {
    "id": "t",
    "title": "Thử",
    "unit": "UBND xã",
    "sms": {
        "text": "Xin chào",
        "recipients": ["a.csv"],
        "schedule": {"start": "2024-08-01", "end": "2024-10-15", "times": ["08:00"]},
    },
}


def _with(path: str, value: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(BASE))
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    node[last] = value
    return data


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({"a": 1}, {"a": 1}, []),
        ({"a": 1}, {"a": 2}, ["a"]),
        ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}}, ["a.c"]),
        ({"a": {"b": 1}}, {"a": {"b": 1, "d": None}}, ["a.d"]),  # added (even as null)
        ({"a": {"b": 1}}, {"a": {}}, ["a.b"]),  # removed
        ({"a": [1, 2]}, {"a": [2, 1]}, ["a"]),  # lists as a whole
        ({"a": {"b": 1}}, {"a": None}, ["a"]),  # a section dropped
        ({"z": 1, "a": 1, "m": {"x": 1}}, {"z": 2, "a": 2, "m": {"x": 2}}, ["a", "m.x", "z"]),
    ],
)
def test_spec_changes(before: dict[str, Any], after: dict[str, Any], expected: list[str]) -> None:
    assert spec_changes(before, after) == expected


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    old = json.loads(canonical_spec(CampaignSpec.model_validate(before)))
    return spec_changes(old, json.loads(canonical_spec(CampaignSpec.model_validate(after))))


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (_with("sms.text", "Xin chào bà con"), ["sms.text"]),
        (_with("sms.schedule", {"start": "2024-08-01", "end": "2024-10-15",
                                "times": ["08:00", "17:00"]}), ["sms.schedule.times"]),
        (_with("sms.schedule", {"start": "2024-08-01", "end": "2024-10-15",
                                "cron": "0 8 * * *"}), ["sms.schedule.cron", "sms.schedule.times"]),
        (_with("sms.quiet_hours", "off"), ["sms.quiet_hours"]),
        (_with("sms.urgent", True), ["sms.urgent"]),
        # Written differently, the same campaign: not a change.
        (_with("sms.encoding", "auto"), []),
        (_with("sms.schedule", {"times": ["8:00"], "end": "2024-10-15", "start": "2024-08-01"}),
         []),
        (_with("sms.quiet_hours", None), []),
    ],
)  # fmt: skip
def test_canonical_specs_differ_only_where_the_campaign_does(
    after: dict[str, Any], expected: list[str]
) -> None:
    assert _diff(BASE, after) == expected


def test_canonical_spec_is_stable_json_with_vietnamese_as_written() -> None:
    text = canonical_spec(CampaignSpec.model_validate(BASE))
    assert text == canonical_spec(CampaignSpec.model_validate(json.loads(json.dumps(BASE))))
    assert '"title":"Thử"' in text and '"times":["08:00:00"]' in text
