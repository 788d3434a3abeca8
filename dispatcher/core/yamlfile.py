"""YAML files validated by pydantic, with errors that point at ``file:line``.

PyYAML's ``safe_load`` forgets where values came from, so we compose the node tree ourselves,
build the plain data from it, and keep the tree to map a pydantic error location (a path of keys
and indexes) back to the line of the innermost node that exists. Duplicate keys, which PyYAML
would silently resolve to the last value, are reported as errors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from dispatcher.core.errors import BadInput, Problem

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML data plus the node tree it came from, to locate errors."""

    data: Any
    root: yaml.Node | None
    display_path: str
    source: str = ""  # the text as written, to find lines inside folded scalars

    def line_of(self, loc: Sequence[int | str]) -> int | None:
        """1-based line of the deepest node on ``loc`` that exists in the file."""
        node = self.root
        line = _line(node)
        for part in loc:
            node = _child(node, part)
            if node is None:
                break
            line = _line(node)
        return line

    def problem(self, loc: Sequence[int | str], message: str) -> Problem:
        return Problem(
            message, file=self.display_path, line=self.line_of(loc), field=field_path(loc)
        )

    def scalar_source(self, loc: Sequence[int | str]) -> tuple[int, str] | None:
        """The 1-based file line where the text at ``loc`` starts, and its lines as written.

        Folded (``>``) and plain scalars join their lines when parsed, so a line counted in the
        value is not a line of the file; counting in the text as written is.
        """
        node: yaml.Node | None = self.root
        for part in loc:
            node = _child(node, part)
        if not isinstance(node, yaml.ScalarNode) or not self.source:
            return None
        block = node.style in ("|", ">")  # a block scalar's text starts below its indicator
        first = node.start_mark.line + 1 if block else node.start_mark.line
        last = node.end_mark.line if node.end_mark.column else node.end_mark.line - 1
        lines = self.source.splitlines()[first : last + 1]
        if lines and not block:
            lines[0] = lines[0][node.start_mark.column :]  # not the key before it
        return first + 1, "\n".join(lines)


def field_path(loc: Sequence[int | str]) -> str | None:
    """``["sms", "recipients", 1]`` → ``sms.recipients[1]``."""
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    return text or None


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _child(node: yaml.Node | None, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if str(key.value) == str(part):
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


def _duplicate_keys(node: yaml.Node | None, path: tuple[str, ...] = ()) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                found.append((".".join((*path, name)), key.start_mark.line + 1))
            seen.add(name)
            found.extend(_duplicate_keys(value, (*path, name)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.extend(_duplicate_keys(item, (*path, str(index))))
    return found


# Campaign, configuration and registry files are a few KB with a few hundred values. The bounds
# stop a file that would take the machine instead: a huge one, or a "billion laughs" of YAML
# aliases (549 bytes that expand to billions of values and hung `validate` and the scheduler).
MAX_YAML_BYTES = 5_000_000
MAX_YAML_VALUES = 100_000  # values once every alias (`*name`) is expanded


def _expanded_values(root: yaml.Node | None, shown: str) -> None:
    """Refuse a document whose values, aliases expanded, pass ``MAX_YAML_VALUES``; counted
    without expanding anything (a walk that stops at the bound)."""
    stack, count = [root] if root is not None else [], 0
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_YAML_VALUES:
            message = (
                f"more than {MAX_YAML_VALUES:,} values once its aliases (*name) are expanded: "
                "write the values out instead of repeating anchors"
            )
            raise BadInput(Problem(message, file=shown, line=_line(node)))
        if isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def read_yaml(path: Path, display_path: str | None = None) -> YamlDocument:
    """Read and parse a YAML file; any failure is a :class:`BadInput` naming file and line."""
    shown = display_path or str(path)
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            message = (
                f"larger than {MAX_YAML_BYTES // 1_000_000} MB: not a campaign or settings file"
            )
            raise BadInput(Problem(message, file=shown))
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadInput(Problem("file not found", file=shown)) from exc
    except UnicodeDecodeError as exc:
        bad_line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise BadInput(Problem("not valid UTF-8 text", file=shown, line=bad_line)) from exc
    except OSError as exc:
        raise BadInput(Problem(f"cannot read: {exc.strerror}", file=shown)) from exc
    try:
        root, data = _parse(text, shown)
    except yaml.MarkedYAMLError as exc:
        raise BadInput(_syntax_problem(exc, shown)) from exc
    except yaml.YAMLError as exc:
        raise BadInput(Problem(f"malformed YAML: {exc}", file=shown)) from exc
    except RecursionError as exc:  # PyYAML recurses once per nesting level
        raise BadInput(Problem("malformed YAML: nested too deeply", file=shown)) from exc
    duplicates = _duplicate_keys(root)
    if duplicates:
        raise BadInput([Problem(f"duplicate key '{k}'", file=shown, line=n) for k, n in duplicates])
    return YamlDocument(data=data, root=root, display_path=shown, source=text)


# libyaml (C, bundled in PyYAML's wheels) reads a file some 30 times faster than PyYAML's own
# Python parser: config.yaml and units.yaml cost ~15 ms each at every start of a command.
# PyYAML stays the reference. A file libyaml refuses is read again by it, so a problem reads the
# same either way. And where the two read a text differently, PyYAML reads it: libyaml accepts a
# tab or a `?` inside a plain value and a `#` right after a block scalar's `|` or `>`, which
# PyYAML refuses, builds '' for a bare `!` tag, and places the end of a text without a final
# line break elsewhere (found comparing the two on some 600,000 generated texts); a text with
# none of these is read by libyaml. A test checks they agree on every YAML file of the project.
_FAST_LOADER: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)
_LIBYAML_DIFFERS = re.compile(r"[\t!?]|[|>][-+0-9]*#")


def _parse(text: str, shown: str) -> tuple[yaml.Node | None, Any]:
    """The node tree and the data built from it (one parse), by libyaml when it can."""
    fast = text.endswith("\n") and not _LIBYAML_DIFFERS.search(text)
    if _FAST_LOADER is not None and fast:
        try:
            return _parse_with(_FAST_LOADER, text, shown)
        except yaml.YAMLError:
            pass  # read again below, for PyYAML's verdict and wording
    return _parse_with(yaml.SafeLoader, text, shown)


def _parse_with(
    loader_class: type[yaml.SafeLoader | yaml.CSafeLoader], text: str, shown: str
) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        _expanded_values(root, shown)  # before anything walks it (constructing, checking keys)
        return root, loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()


def _syntax_problem(exc: yaml.MarkedYAMLError, shown: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    reason = exc.problem or exc.context or "malformed YAML"
    started = exc.context_mark.line + 1 if exc.context_mark is not None else None
    if exc.problem and exc.context and started is not None and started != line:
        # An unclosed bracket or quote is noticed lines later: name where it was opened too.
        reason += f" ({exc.context} at line {started})"
    return Problem(f"malformed YAML: {reason}", file=shown, line=line)


def validation_problems(doc: YamlDocument, exc: pydantic.ValidationError) -> list[Problem]:
    """Translate pydantic's errors into located problems, one per error."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = [p for p in error["loc"] if isinstance(p, int | str)]
        problems.append(doc.problem(loc, _message(error)))
    return problems


def _message(error: Any) -> str:
    kind = error.get("type")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")


def load_model(
    model: type[ModelT], doc: YamlDocument, context: dict[str, Any] | None = None
) -> ModelT:
    """Validate ``doc`` as ``model`` or raise :class:`BadInput` with every problem located."""
    if not isinstance(doc.data, dict):
        raise BadInput(doc.problem([], "expected a mapping of keys to values at the top level"))
    try:
        return model.model_validate(doc.data, context=context)
    except pydantic.ValidationError as exc:
        raise BadInput(validation_problems(doc, exc)) from exc
