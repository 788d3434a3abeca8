"""Advertising gets at most 3 messages per subscriber per 24 h, whatever the config or the
campaign says (Decree 91/2020): dispatcher.safety.caps.cap_for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dispatcher.campaigns.spec import Campaign, CampaignSpec
from dispatcher.core.yamlfile import YamlDocument
from dispatcher.safety.caps import cap_for
from dispatcher.settings.config import FrequencyCap, Settings


def _campaign(**sms: Any) -> Campaign:
    spec = CampaignSpec.model_validate(
        {"id": "t", "title": "t", "unit": "u", "sms": {"text": "x", "recipients": ["a.csv"]} | sms}
    )
    return Campaign(spec, Path("t.yaml"), YamlDocument({}, None, "t.yaml"), "")


def _settings(cap: dict[str, float] | None) -> Settings:
    return Settings.model_validate({"sending": {"frequency_cap": cap}})


def _cap(cap: FrequencyCap | None) -> tuple[int, float] | None:
    return None if cap is None else (cap.max_messages, cap.window_hours)


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        (None, (3, 24)),  # no cap configured: advertising still has the decree's
        ({"max_messages": 5, "window_hours": 24}, (3, 24)),
        ({"max_messages": 1, "window_hours": 24}, (1, 24)),  # the stricter config stays
        ({"max_messages": 2, "window_hours": 48}, (2, 48)),
        ({"max_messages": 1, "window_hours": 12}, (1, 24)),  # keeps 1 per 12 h and 3 per 24 h
        ({"max_messages": 10, "window_hours": 72}, (3, 72)),
    ],
)
def test_advertising_is_capped_at_three_per_day_at_most(
    configured: dict[str, float] | None, expected: tuple[int, float]
) -> None:
    assert _cap(cap_for(_campaign(category="advertising"), _settings(configured))) == expected


def test_other_categories_keep_the_configured_cap_and_urgent_none() -> None:
    loose = _settings({"max_messages": 5, "window_hours": 24})
    assert _cap(cap_for(_campaign(), loose)) == (5, 24)
    assert _cap(cap_for(_campaign(category="customer-care"), loose)) == (5, 24)
    assert cap_for(_campaign(category="notice", urgent=True), loose) is None
    assert cap_for(_campaign(), _settings(None)) is None


def test_an_urgent_advertising_campaign_is_capped_all_the_same() -> None:
    # validate refuses it; a spec built without that check still gets the cap.
    spec = _campaign(category="advertising").spec
    assert spec.sms is not None
    urgent = spec.model_copy(update={"sms": spec.sms.model_copy(update={"urgent": True})})
    campaign = Campaign(urgent, Path("t.yaml"), YamlDocument({}, None, "t.yaml"), "")
    assert _cap(cap_for(campaign, _settings(None))) == (3, 24)
