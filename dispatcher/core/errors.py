"""The one exception family of the package.

Every error a user can cause or fix is a :class:`DispatcherError`: it carries a message meant for
people and the process exit code the CLI returns. Third-party errors are translated into these at
the adapter that meets them (``raise ... from exc``), so nothing above the adapters needs to know
about twilio, SQLAlchemy or YAML exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_HALTED = 3


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can (file, line, field)."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
        elif self.line is not None:
            where = f"line {self.line}"
        field = f"{self.field}: " if self.field else ""
        return f"{where}: {field}{self.message}" if where else f"{field}{self.message}"


class DispatcherError(Exception):
    """Something went wrong."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or "error").strip()
        super().__init__(self.message)


class BadInput(DispatcherError):
    """The input is not valid."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(BadInput):
    """The configuration is not valid."""


class StoreError(DispatcherError):
    """The database could not be used."""

    exit_code = EXIT_HALTED


class GatewayHalt(DispatcherError):
    """The gateway refused us as a whole (credentials, account or sender): the run stops."""

    exit_code = EXIT_HALTED


class GatewayError(DispatcherError):
    """The gateway could not be asked (no connection, timed out, or a server error)."""

    exit_code = EXIT_HALTED


class ProviderNotFound(GatewayError):
    """The provider has no such message."""


class AudioError(DispatcherError):
    """The text-to-speech engine failed (not installed, no such voice, or it crashed)."""

    exit_code = EXIT_HALTED


class Declined(DispatcherError):
    """The operator answered no at a confirmation prompt: nothing was done."""

    exit_code = EXIT_SOME_FAILED
