"""Being a worker: a row in ``workers`` with a heartbeat, so others know whose claims are alive."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dispatcher.bootstrap import Runtime
from dispatcher.store.workers import Identity

log = logging.getLogger(__name__)
HEARTBEATS_PER_LEASE = 6  # a worker misses several heartbeats before it counts as dead


@asynccontextmanager
async def registered(rt: Runtime, role: str) -> AsyncIterator[Identity]:
    """Register this process for the length of the block, beating its heart meanwhile."""
    me = Identity(f"{role}-{socket.gethostname()[:24]}-{secrets.token_hex(4)}")
    await asyncio.to_thread(_register, rt, me, role)
    beat = asyncio.create_task(_beat(rt, me))
    try:
        yield me
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
        await asyncio.to_thread(_stopped, rt, me)


def _register(rt: Runtime, me: Identity, role: str) -> None:
    with rt.uow() as uow:
        uow.workers.register(me, role, rt.clock.now())
        uow.commit()


def _stopped(rt: Runtime, me: Identity) -> None:
    with rt.uow() as uow:
        uow.workers.stopped(me.id, rt.clock.now())
        uow.commit()


async def _beat(rt: Runtime, me: Identity) -> None:
    interval = rt.settings.sending.lease_s / HEARTBEATS_PER_LEASE
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(_heartbeat, rt, me)
        except Exception:  # a missed beat is survivable; the next one may get through
            log.exception("heartbeat failed")


def _heartbeat(rt: Runtime, me: Identity) -> None:
    with rt.uow() as uow:
        uow.workers.heartbeat(me.id, rt.clock.now())
        uow.commit()
