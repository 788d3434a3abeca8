"""Modules loaded on first use (the standard library's :class:`importlib.util.LazyLoader`).

For the command line: `dispatcher --help` and a mistyped option should answer before SQLAlchemy,
Alembic, aiohttp and the twilio client are imported; a command imports what it uses when it
first touches it.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """``name``, imported at its first attribute access (at once if it already is)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"no module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:  # as an import does: `dispatcher.sending.send` reachable from its package
        setattr(sys.modules[parent], child, module)
    return module
