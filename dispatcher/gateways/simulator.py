"""A Twilio-compatible SMS simulator for the demo, the tests and the benchmark.

It speaks enough of Twilio's REST API 2010-04-01 (create, list and fetch Messages: form in,
JSON out, HTTP basic auth) for the official ``twilio`` client to be pointed at it with
``client.api.base_url = simulator.base_url``. Messages age through queued → sending → sent →
delivered (or undelivered / failed) on a clock, status callbacks are signed like Twilio's, and
faults (latency, 429, 500, 503, dropped connections, accepted-then-hung requests, permanent
per-number refusals) are injected from :class:`SimulatorConfig` with a seed.

Use :class:`Simulator` in-process (it serves from a thread of its own), or run it alone::

    TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=... \\
        python -m dispatcher.gateways.simulator --port 8765 --record var/sent.jsonl --rate-429 0.05

It prints its base URL on one line once listening and stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from os import PathLike
from types import TracebackType
from typing import Any

from dispatcher.gateways.simulator_app import SimulatorServer
from dispatcher.gateways.simulator_state import AcceptedMessage, SimulatorConfig, read_record

__all__ = [
    "AcceptedMessage",
    "Simulator",
    "SimulatorConfig",
    "build_parser",
    "config_from_args",
    "main",
    "read_record",
    "serve",
]

log = logging.getLogger(__name__)


class Simulator:
    """The simulator served from a background thread with its own event loop.

    ``start()`` blocks until it listens and returns the base URL; ``stop()`` (or leaving the
    ``with`` block) shuts it down and joins the thread; a simulator starts once. Accepted
    messages are kept in memory and, with ``record_path``, appended to a JSONL file (see
    :func:`read_record`).
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        config: SimulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        record_path: str | PathLike[str] | None = None,
    ) -> None:
        self._server = SimulatorServer(account_sid, auth_token, config, record_path)
        self._host = host
        self._port = port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._startup_error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running simulator."""
        if self._server.base_url is None:
            raise RuntimeError("the simulator is not started")
        return self._server.base_url

    @property
    def config(self) -> SimulatorConfig:
        return self._server.config

    def set_faults(self, config: SimulatorConfig | None = None, **changes: Any) -> SimulatorConfig:
        """Replace the configuration (whole, or some fields of the current one); takes effect
        for the next request, and restarts the fault draws from the config's seed."""
        new = config if config is not None else self._server.config
        new = dataclasses.replace(new, **changes) if changes else new
        self._server.config = new
        return new

    def accepted_messages(self) -> list[AcceptedMessage]:
        """Every message accepted so far, in acceptance order."""
        return self._server.store.records()

    def counters(self) -> dict[str, int]:
        """Requests by outcome and status callbacks by result.

        Keys appear once counted: ``created``, ``rejected_<code>`` (400s), ``unauthorized``,
        ``429``, ``503``, ``500_before_accept``, ``500_after_accept``, ``dropped``, ``hung``,
        ``listed``, ``fetched``, ``not_found``; always ``callbacks_delivered`` and
        ``callbacks_failed``.
        """
        callbacks = self._server.callbacks
        return {
            **self._server.counts,
            "callbacks_delivered": callbacks.delivered,
            "callbacks_failed": callbacks.failed,
        }

    def start(self) -> str:
        """Start serving and return the base URL once the port is listening."""
        if self._server.base_url is not None:
            raise RuntimeError("a simulator starts once: make a new one to start again")
        ready = threading.Event()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(ready),), name="twilio-simulator", daemon=True
        )
        self._thread.start()
        ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            raise self._startup_error
        return self.base_url

    def stop(self) -> None:
        """Stop serving, release hung requests, sync the record and join the thread."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop_requested is not None:
            self._loop.call_soon_threadsafe(self._stop_requested.set)
        self._thread.join()
        self._thread = None

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        try:
            await self._server.start(self._host, self._port)
        except BaseException as exc:  # handed to the thread that called start()
            self._startup_error = exc
            await self._server.close()
            return
        finally:
            ready.set()
        await self._stop_requested.wait()
        await self._server.close()

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def build_parser() -> argparse.ArgumentParser:
    """The command line of the standalone simulator."""
    p = argparse.ArgumentParser(
        prog="python -m dispatcher.gateways.simulator",
        description="Twilio-compatible SMS simulator. Credentials it accepts come from "
        "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN. Prints its base URL once listening.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    p.add_argument("--port", type=int, default=8765, help="port to bind, 0 for a free one")
    p.add_argument("--record", metavar="FILE", help="append accepted messages to this JSONL file")
    p.add_argument("--latency-ms", type=float, default=0.0, help="added to every response")
    p.add_argument("--rate-429", type=float, default=0.0, help="share of creates answered 429")
    p.add_argument("--rate-500", type=float, default=0.0, help="share of creates answered 500")
    p.add_argument("--rate-503", type=float, default=0.0, help="share of creates answered 503")
    p.add_argument(
        "--drop-rate", type=float, default=0.0, help="share of creates dropped unanswered"
    )
    p.add_argument(
        "--hang-rate",
        type=float,
        default=0.0,
        help="share of creates accepted, then never answered",
    )
    p.add_argument(
        "--error-500-after-accept",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="a 500 records the message first (default) or refuses it",
    )
    p.add_argument("--undelivered-rate", type=float, default=0.0, help="messages ending 30003")
    p.add_argument("--failed-rate", type=float, default=0.0, help="messages ending failed 30008")
    p.add_argument(
        "--fail-to",
        action="append",
        default=[],
        metavar="NUMBER=CODE",
        help="refuse every message to NUMBER with 400 CODE (repeatable), e.g. +84912000001=21610",
    )
    defaults = SimulatorConfig()
    for name in ("queued_at_s", "sending_at_s", "sent_at_s", "final_at_s"):
        flag = "--" + name.removesuffix("_s").replace("_", "-")
        p.add_argument(flag, dest=name, type=float, default=getattr(defaults, name), help="seconds")
    p.add_argument("--no-callbacks", action="store_true", help="never post status callbacks")
    p.add_argument("--seed", type=int, default=0, help="seed of the fault and outcome draws")
    return p


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """The :class:`SimulatorConfig` the parsed options ask for; ValueError if inconsistent."""
    fail_to: dict[str, int] = {}
    for item in args.fail_to:
        number, sep, code = item.partition("=")
        if not sep or not code.strip().isdigit():
            raise ValueError(f"--fail-to expects NUMBER=CODE, got {item!r}")
        fail_to[number.strip()] = int(code)
    return SimulatorConfig(
        latency_ms=args.latency_ms,
        drop_rate=args.drop_rate,
        rate_429=args.rate_429,
        rate_503=args.rate_503,
        rate_500=args.rate_500,
        accept_then_hang_rate=args.hang_rate,
        error_500_after_accept=args.error_500_after_accept,
        fail_to=fail_to,
        undelivered_rate=args.undelivered_rate,
        failed_rate=args.failed_rate,
        queued_at_s=args.queued_at_s,
        sending_at_s=args.sending_at_s,
        sent_at_s=args.sent_at_s,
        final_at_s=args.final_at_s,
        callbacks=not args.no_callbacks,
        seed=args.seed,
    )


async def serve(server: SimulatorServer, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, printing the base URL (flushed) once listening."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        url = await server.start(host, port)
        # The one line a parent process waits for; this entry point is its own CLI.
        print(url, flush=True)
        await stop.wait()
    finally:
        await server.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the standalone simulator; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    account_sid = os.environ.get("TWILIO_ACCOUNT_SID", "")
    auth_token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    if not account_sid or not auth_token:
        parser.error("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to the credentials to accept")
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    server = SimulatorServer(account_sid, auth_token, config, args.record)
    try:
        asyncio.run(serve(server, args.host, args.port))
    except OSError as exc:  # the port is taken, the record file cannot be opened...
        log.error("simulator cannot start: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
