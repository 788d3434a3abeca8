"""Commune page links (issue 13, points 4 and 8), on SQLite and PostgreSQL: keyed on unit codes,
random tokens kept as digests, each with its expiry, revocable alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from dispatcher.bootstrap import Runtime, runtime
from dispatcher.broadcast import confirmations as airings
from dispatcher.broadcast import links
from dispatcher.broadcast import service as broadcast_service
from dispatcher.core.errors import BadInput
from dispatcher.store.models import AccessTokenRow, ActivityRow, AiringConfirmationRow
from dispatcher.web.service import build_app
from tests.fakes import FakeClock
from tests.integration.test_airings import NOW, settings

# Two communes whose names differ only in a tone mark, as in the review's report: both fold to
# "xa-tan-thanh". Each is in a campaign of its own (one campaign cannot hold both: one folder).
UNITS = """\
source: test
units:
  - {code: "01", name: Tỉnh Thử, kind: tinh}
  - {code: "101", name: Huyện Thử, kind: huyen, parent: "01"}
  - {code: "10001", name: Xã Tân Thành, kind: xa, parent: "101"}
  - {code: "10002", name: Xã Tân Thạnh, kind: xa, parent: "101"}
"""


def _campaign(folder: Path, campaign_id: str, commune: str, time: str) -> Path:
    path = folder / "campaigns" / f"{campaign_id}.yaml"
    path.write_text(
        "\n".join([
            f"id: {campaign_id}", "title: Thử loa", "unit: UBND huyện Thử", "broadcast:",
            f"  communes: [{commune}]", f"  times: ['{time}']", "  days: [mon]",
            "  start: 2024-10-14", "  end: 2024-10-14", "  script: 'Bà con chú ý.'",
        ]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    return path


@pytest.fixture
def rt(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "units.yaml").write_text(UNITS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with runtime(settings(tmp_path, db_url), clock=FakeClock(NOW), environ={"USER": "thu"}) as rt:
        for campaign_id, commune, time in (("loa-a", "Xã Tân Thành", "06:00"),
                                           ("loa-b", "Xã Tân Thạnh", "07:00")):  # fmt: skip
            path = _campaign(tmp_path, campaign_id, commune, time)
            broadcast_service.write_campaign_scripts(rt, path, None, None)
        yield rt


def _token(link: links.CommuneLink) -> str:
    return urlsplit(link.url).query.removeprefix("t=")


def _serve(rt: Runtime, requests: list[tuple[str, str, dict[str, str] | None]]) -> list[int]:
    async def main() -> list[int]:
        async with TestClient(TestServer(build_app(rt, "auth-token"))) as client:
            statuses = []
            for method, path, form in requests:
                response = await client.request(method, path, data=form, allow_redirects=False)
                statuses.append(response.status)
            return statuses

    return asyncio.run(main())


def test_communes_whose_names_fold_alike_get_pages_and_links_of_their_own(rt: Runtime) -> None:
    thanh = links.issue_link(rt, "Xã Tân Thành")
    thanh_dot = links.issue_link(rt, "10002")
    assert (thanh.commune, thanh.key) == ("Xã Tân Thành", "10001")
    assert (thanh_dot.commune, thanh_dot.key) == ("Xã Tân Thạnh", "10002")
    assert urlsplit(thanh.url).path == "/c/10001" and urlsplit(thanh_dot.url).path == "/c/10002"
    assert _token(thanh) != _token(thanh_dot)
    form_a = {"campaign": "loa-a", "at": "2024-10-14T06:00:00+07:00", "t": _token(thanh)}
    form_b = {"campaign": "loa-b", "at": "2024-10-14T07:00:00+07:00", "t": _token(thanh)}
    statuses = _serve(rt, [
        ("GET", f"/c/10002?t={_token(thanh)}", None),  # one's token on the other's page
        ("POST", "/c/10002/confirm", form_b),
        ("POST", "/c/10001/confirm", form_b),  # the other's airing, from its own page
        ("POST", "/c/10001/confirm", form_a),
        ("GET", f"/c/10001?t={_token(thanh)}", None),
    ])  # fmt: skip
    # The link's own page: it signs the browser in, and redirects to the page without the token.
    assert statuses == [403, 403, 400, 303, 303]
    with rt.uow() as uow:
        recorded = uow.repo.session.execute(
            select(AiringConfirmationRow.commune, AiringConfirmationRow.campaign_id)
        ).all()
    assert [tuple(r) for r in recorded] == [("Xã Tân Thành", "loa-a")]  # never the other one
    # Each page lists its own commune's airings only.
    page_a = airings.commune_schedule(rt, "10001", NOW.date(), NOW.date(), by_key=True)
    page_b = airings.commune_schedule(rt, "10002", NOW.date(), NOW.date(), by_key=True)
    assert [(a.commune, a.campaign_id) for a in page_a] == [("Xã Tân Thành", "loa-a")]
    assert [(a.commune, a.campaign_id) for a in page_b] == [("Xã Tân Thạnh", "loa-b")]
    # Typed without tone marks, the name fits both: refused, naming both with their codes.
    with pytest.raises(BadInput) as caught:
        links.issue_link(rt, "xa tan thanh")
    assert caught.value.problems[0].message == (
        "'xa tan thanh' could be Xã Tân Thành (10001) or Xã Tân Thạnh (10002): write the name "
        "with its tone marks, or the code"
    )


def test_only_a_digest_is_stored_and_each_link_has_its_expiry(rt: Runtime) -> None:
    first = links.issue_link(rt, "Xã Tân Thành")
    second = links.issue_link(rt, "10001", days=7)
    assert first.expires_at == NOW + timedelta(days=180)  # http.link_days
    assert second.expires_at == NOW + timedelta(days=7)
    with rt.uow() as uow:
        rows = uow.repo.session.scalars(select(AccessTokenRow)).all()
        stored = [
            " ".join(str(getattr(row, c.key)) for c in AccessTokenRow.__table__.columns)
            for row in rows
        ]
        issued = uow.repo.session.scalars(
            select(ActivityRow.detail).where(ActivityRow.kind == "link-issued")
        ).all()
    assert all(_token(first) not in row and _token(second) not in row for row in stored)
    assert issued == [
        "Xã Tân Thành (10001): link 1, valid until 12/04/2025; by thu",
        "Xã Tân Thành (10001): link 2, valid until 21/10/2024; by thu",
    ]
    assert links.check_link(rt, "10001", _token(second)) == links.PageAccess("10001", 2)
    clock = rt.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(days=7))
    with pytest.raises(links.LinkRefused) as refused:
        links.check_link(rt, "10001", _token(second))
    assert refused.value.reason == "expired"
    assert links.check_link(rt, "10001", _token(first)).link_id == 1  # the other still works
    assert [r.id for r in links.list_links(rt, None)] == [1]
    states = [(r.id, r.state(clock.now())) for r in links.list_links(rt, "10001", every=True)]
    assert states == [(1, "active"), (2, "expired")]


def test_a_link_is_revoked_alone_or_with_its_communes_others(rt: Runtime) -> None:
    made = [links.issue_link(rt, c) for c in ("10001", "10001", "10002")]
    assert [r.id for r in links.revoke_links(rt, [1], None, "sent to the wrong chat")] == [1]
    for link, expected in zip(made, ["revoked", None, None], strict=True):
        try:
            links.check_link(rt, link.key, _token(link))
            outcome = None
        except links.LinkRefused as exc:
            outcome = exc.reason
        assert outcome == expected
    assert [r.id for r in links.revoke_links(rt, [], "Xã Tân Thành", None)] == [2]
    assert links.revoke_links(rt, [1, 2], None) == []  # revoked already: nothing more to do
    assert links.check_link(rt, "10002", _token(made[2])).link_id == 3
    with pytest.raises(BadInput) as caught:
        links.revoke_links(rt, [3, 99], None)
    assert str(caught.value.problems[0]) == ("ID: no such link: 99 (see `dispatcher token list`)")
    assert links.check_link(rt, "10002", _token(made[2])).link_id == 3  # nothing was revoked
    with rt.uow() as uow:
        revoked = uow.repo.session.scalars(
            select(ActivityRow.detail).where(ActivityRow.kind == "link-revoked")
        ).all()
    assert revoked == [
        "Xã Tân Thành (10001): link 1; by thu; sent to the wrong chat",
        "Xã Tân Thành (10001): link 2; by thu",
    ]


@pytest.mark.parametrize("token", ["", "short", "x" * 32, "ä" * 32])
def test_anything_but_a_link_made_for_the_page_is_refused(rt: Runtime, token: str) -> None:
    with pytest.raises(links.LinkRefused) as refused:
        links.check_link(rt, "10001", token)
    assert refused.value.reason == "unknown"


def test_without_a_registry_the_key_is_the_exact_name(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "campaigns").mkdir()
    monkeypatch.chdir(tmp_path)
    with runtime(settings(tmp_path, db_url), clock=FakeClock(NOW), environ={}) as rt:
        for campaign_id, commune in (("loa-a", "Xã Tân Thành"), ("loa-b", "Xã Tân Thạnh")):
            path = _campaign(tmp_path, campaign_id, commune, "06:00")
            broadcast_service.write_campaign_scripts(rt, path, None, None)
        link = links.issue_link(rt, "xã tân thạnh")
        assert link.key == "Xã Tân Thạnh"
        assert urlsplit(link.url).path == "/c/X%C3%A3%20T%C3%A2n%20Th%E1%BA%A1nh"
        with pytest.raises(links.LinkRefused):
            links.check_link(rt, "Xã Tân Thành", _token(link))
        page = airings.commune_schedule(rt, link.key, NOW.date(), NOW.date(), by_key=True)
        assert [a.campaign_id for a in page] == ["loa-b"]
        statuses = _serve(rt, [("GET", f"{urlsplit(link.url).path}?t={_token(link)}", None)])
        assert statuses == [303]  # signed in by the link, on to the page without the token


def test_a_page_is_named_after_its_unit_and_refused_without_a_link(rt: Runtime) -> None:
    assert _serve(rt, [("GET", "/c/10001", None), ("GET", "/c/10001?t=", None)]) == [403, 403]
    assert airings.commune_name(rt, "10001") == "Xã Tân Thành"
    assert airings.commune_name(rt, "99999") == "99999"
