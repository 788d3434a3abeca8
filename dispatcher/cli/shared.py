"""What every command module shares: options, the settings, and the collector switches."""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dispatcher.core.lazy import lazy_module

if TYPE_CHECKING:
    from dispatcher.settings import config
    from dispatcher.settings.config import Settings
else:
    config = lazy_module("dispatcher.settings.config")

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
FileArg = click.Path(path_type=Path, dir_okay=False)
# Phone numbers are personal data (Decree 13/2023): tables mask them unless asked.
FullFlag = click.option(
    "--full", is_flag=True, help="Show whole phone numbers in the table (personal data)."
)
JsonFlag = click.option("--json", "as_json", is_flag=True, help="Machine-readable, ISO 8601 times.")
ReasonOption = click.option("--reason", metavar="TEXT", help="Why; recorded in the activity log.")


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """For commands that read whole lists and exit (plan, validate), not for ``send``.

    A million-row list makes millions of short-lived objects without reference cycles, and the
    cyclic collector would keep re-scanning everything that lives longer: ~15% of a ``plan``.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def freeze_at_exit() -> None:
    """Spare the process its last collections: at exit the cyclic collector walks every object
    the imports made (SQLAlchemy, the twilio client, aiohttp: some 110,000) to free memory the
    OS takes back anyway, 0.26–0.32 s of every command that opened a database or a gateway
    (bench/startup.py). Frozen objects are skipped; reference counting still runs every
    finalizer. Whatever the command closed, it closed before (engines, files, the gateway)."""
    atexit.unregister(gc.freeze)  # once, however often main runs in one process (tests)
    atexit.register(gc.freeze)


def load_settings() -> Settings:
    """The configuration, read once per command (``./config.yaml`` or ``$DISPATCHER_CONFIG``)."""
    return config.load_settings()
