"""Composing a campaign's messages as a stream: totals without the messages, rows on demand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dispatcher.audience.lists import Subscriber
from dispatcher.campaigns import compose
from dispatcher.campaigns.compose import compose_sms, render_deliveries, template_columns
from dispatcher.campaigns.spec import Campaign, load_campaign
from dispatcher.core.errors import BadInput
from dispatcher.core.outbox import NewDelivery
from dispatcher.sms.encoding import prepare


def campaign(folder: Path, text: str, encoding: str = "auto") -> Campaign:
    (folder / "list.csv").write_text("phone,name\n0912345678,An\n", encoding="utf-8")
    path = folder / "campaign.yaml"
    path.write_text(
        "id: thu-nghiem\ntitle: Thử nghiệm\nunit: UBND xã Tân Đoàn\nsms:\n"
        f"  text: {text!r}\n  encoding: {encoding}\n  sender: VANQUAN\n"
        "  recipients: [list.csv]\n",
        encoding="utf-8",
    )
    return load_campaign(path)


def people(names: list[str]) -> Iterator[Subscriber]:
    for line, name in enumerate(names, start=2):
        yield Subscriber(f"+8491234{line:04d}", "list.csv", line, {"name": name})


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The rows rendered by the template, by name (a spy on compose's renderer)."""
    seen: list[str] = []
    real = compose._render

    def spy(*args: Any) -> str | None:
        subscriber: Subscriber = args[1]  # _render(template, subscriber, campaign, limiter)
        seen.append(subscriber.fields.get("name", ""))
        return real(*args)

    monkeypatch.setattr(compose, "_render", spy)
    return seen


def test_a_text_without_variables_is_rendered_once(tmp_path: Path, renders: list[str]) -> None:
    notice = campaign(tmp_path, "UBND xã: từ 16/10 máy 2G không dùng được.", "ascii")
    result = compose_sms(notice, people(["An"] * 1_000))
    assert len(renders) == 1
    assert result.messages == 1_000
    assert result.longest is not None and result.longest.segments == 1
    assert result.total_segments == 1_000
    assert result.encoding == "GSM-7"
    assert template_columns(notice) == frozenset()


def test_totals_cover_every_message(tmp_path: Path) -> None:
    greeting = campaign(tmp_path, "Chào {{ name }}")
    result = compose_sms(greeting, people(["An", "Bình", "An", "Lương " * 30]))
    long = prepare(f"Chào {'Lương ' * 30}".strip()).info  # ư and ơ are not GSM-7
    assert (long.encoding, long.segments) == ("UCS-2", 3)
    assert result.messages == 4
    assert result.encodings == {"GSM-7", "UCS-2"}
    assert result.encoding == "UCS-2"
    assert result.longest == long
    assert result.total_segments == 1 + 1 + 1 + long.segments
    assert template_columns(greeting) == frozenset({"name"})


def test_repeated_inputs_are_rendered_once_within_the_cache(
    tmp_path: Path, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compose, "MAX_CACHED_MESSAGES", 2)
    greeting = campaign(tmp_path, "Chào {{ name }}")
    compose_sms(greeting, people(["An", "Bình", "An", "Bình", "Chi", "An", "Chi", "Bình"]))
    # Two fit: "Chi" evicts "An" (least recently used), then "An" evicts "Bình", and so on.
    assert renders == ["An", "Bình", "Chi", "An", "Bình"]


def test_deliveries_are_rendered_as_they_are_asked_for(tmp_path: Path) -> None:
    greeting = campaign(tmp_path, "Chào {{ name }}", "ascii")
    read: list[str] = []

    def recipients() -> Iterator[Subscriber]:
        for subscriber in people(["An", "Bình", "Chi"]):
            read.append(subscriber.fields["name"])
            yield subscriber

    rows = render_deliveries(greeting, recipients())
    first = next(rows)
    assert read == ["An"]
    assert first == NewDelivery("+84912340002", "list.csv:2", "Chao An", "GSM-7", 1, "VANQUAN")
    assert [row.body for row in rows] == ["Chao Binh", "Chao Chi"]


def test_a_message_that_fails_while_writing_the_outbox_raises(tmp_path: Path) -> None:
    greeting = campaign(tmp_path, "Chào {{ name }}")
    stranger = Subscriber("+84912345678", "list.csv", 9, {})
    with pytest.raises(
        BadInput, match=r"campaign.yaml:5: sms.text: `name` is not a column of list.csv"
    ):
        list(render_deliveries(greeting, [*people(["An"]), stranger]))
