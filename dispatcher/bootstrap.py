"""Wiring: settings → engine, unit of work, clock, gateway. The one place adapters are built."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dispatcher.core.clock import Clock, SystemClock
from dispatcher.core.malloc import share_one_arena
from dispatcher.gateways.base import simulator_run_identity
from dispatcher.gateways.retry import RetryPolicy
from dispatcher.settings.config import Settings
from dispatcher.store.uow import UnitOfWork, unit_of_work_factory

if TYPE_CHECKING:
    # SQLAlchemy loads when a database is opened (~0.2 s), not with the `Runtime` type that
    # every use case names; the twilio client and aiohttp only for a command that sends (~0.25 s).
    from sqlalchemy import Engine

    from dispatcher.gateways.twilio import TwilioGateway

SIMULATOR_SENDER = "DISPATCHER"  # the simulator needs a From; real campaigns name theirs


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    uow: Callable[[], UnitOfWork]
    clock: Clock
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


@contextmanager
def runtime(
    settings: Settings,
    clock: Clock | None = None,
    environ: Mapping[str, str] | None = None,
    migrate: bool | None = None,
) -> Iterator[Runtime]:
    """Open the database for the length of a command.

    Migrations run once, never raced: SQLite (one machine, one process sending) is brought to
    the newest schema by whichever command comes first; PostgreSQL only by ``migrate=True``
    (``dispatcher db upgrade``), and every other command refuses a schema that is not current.
    """
    from dispatcher.store.db import make_engine, require_current, upgrade

    env = dict(os.environ if environ is None else environ)
    # Before any thread: an arena a thread leaves behind goes to the next one (core/malloc.py).
    share_one_arena(env)
    engine = make_engine(settings.resolved_database_url)
    try:
        if migrate or (migrate is None and engine.dialect.name == "sqlite"):
            upgrade(engine)
        else:
            require_current(engine)
        yield Runtime(settings, engine, unit_of_work_factory(engine), clock or SystemClock(), env)
    finally:
        engine.dispose()


@contextmanager
def gateway(rt: Runtime) -> Iterator[TwilioGateway]:
    """The configured gateway; with ``simulator``, a private simulator runs for its lifetime."""
    from dispatcher.gateways.twilio import TwilioConfig, TwilioGateway

    sending = rt.settings.sending
    policy = RetryPolicy.from_settings(sending.retry)
    if rt.settings.gateway == "twilio":
        twilio_config = TwilioConfig.from_env(rt.environ)
        callbacks = rt.settings.http.public_base_url  # None: statuses are learned by polling
        yield TwilioGateway(twilio_config, policy, sending.request_timeout_s, callbacks)
        return
    # No status callbacks from the private simulator: they would be signed with its throwaway
    # token, which no `dispatcher serve` could check, and it stops when this command ends.
    from dispatcher.gateways.simulator import Simulator, SimulatorConfig

    # Made up per run: the private simulator accepts exactly these, nothing real is involved.
    # The run id goes on every delivery it takes: once this command ends, no report can come.
    run = simulator_run_identity(secrets.token_hex(8))
    account_sid = "AC" + secrets.token_hex(16)
    auth_token = secrets.token_hex(16)
    config = SimulatorConfig(latency_ms=rt.settings.simulator.latency_ms)
    with Simulator(account_sid, auth_token, config) as simulator:
        twilio = TwilioConfig(
            account_sid, auth_token, api_base_url=simulator.base_url, default_from=SIMULATOR_SENDER
        )
        yield TwilioGateway(twilio, policy, sending.request_timeout_s, identity=run)
