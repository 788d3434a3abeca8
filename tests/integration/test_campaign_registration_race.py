"""Two processes registering one campaign at once (``serve``'s scheduler and a ``send``; seen
in CI as "duplicate key value violates unique constraint pk_campaigns"): both succeed, on
SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import Engine

from dispatcher.store.models import CampaignRow
from dispatcher.store.uow import unit_of_work_factory

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def _row(title: str) -> CampaignRow:
    return CampaignRow(id="thu", title=title, unit="UBND xã", timezone="Asia/Ho_Chi_Minh",
                       source_path="thu.yaml", fingerprint="f" * 64, spec=None)  # fmt: skip


def test_the_second_registration_updates_what_the_first_wrote(engine: Engine) -> None:
    factory = unit_of_work_factory(engine)
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with factory() as uow:
                uow.repo.save_campaign(_row("second"), NOW)
                uow.commit()
        except BaseException as exc:
            errors.append(exc)

    with factory() as first:
        first.repo.save_campaign(_row("first"), NOW)
        first.repo.session.flush()  # its row written, not committed: the second must wait
        racer = threading.Thread(target=second)
        racer.start()
        racer.join(0.5)
        assert racer.is_alive()  # waiting for the first's lock, not failing
        first.commit()
    racer.join(30)
    assert not racer.is_alive() and errors == []
    with factory() as uow:
        stored = uow.repo.session.get(CampaignRow, "thu")
        assert stored is not None and stored.title == "second"
