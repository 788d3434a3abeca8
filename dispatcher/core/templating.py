"""Where every template renders: one kind of Jinja2 environment, sandboxed and bounded.

Campaign files are written by operators and reviewed by approvers; their ``sms.text``,
``broadcast.script`` and ``broadcast.template`` are rendered by ``validate`` and ``plan`` (the
approver's review), ``send``, ``broadcast …`` and ``serve``. So no template may reach Python's
internals (which run commands and read the environment: Jinja's immutable sandbox refuses
``__class__``-style attribute paths and changing lists or dicts), and none may take the machine
down. The bounds, each reported as a template error at its file and line:

- every string, list or number a template computes is bounded (``MAX_TEXT`` characters,
  ``MAX_ITEMS`` items, ``MAX_INT_DIGITS`` digits) *before* it is built, so ``'A' * 300000000``,
  ``7 ** 99999999`` or ``'%0999999999d' % 1`` are refused at once instead of taking gigabytes;
- a render has ``RENDER_SECONDS`` (checked at each call, operator, filter and join);
- ``range`` stays under Jinja's own ``MAX_RANGE`` (100,000).
"""

from __future__ import annotations

import functools
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import jinja2
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Concat
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEXT = 1_000_000  # characters in any one string (an SMS has 1,600, a script a few thousand)
MAX_ITEMS = 10_000  # items in a list or tuple made by `*`
MAX_INT_DIGITS = 100  # digits of a number made by `**` or `*`
RENDER_SECONDS = 5.0  # one render (one SMS, one script, one page)
_WIDE_SPEC = re.compile(r"\d{7,}")  # a width or precision of a million or more, in a format


class TemplateLimitError(jinja2.TemplateError):
    """A template went past a bound (size or time): the template author's to fix."""


_state = threading.local()  # this thread's render deadline (time.monotonic()), if rendering


@contextmanager
def time_limit(seconds: float = RENDER_SECONDS) -> Iterator[None]:
    """Renders inside (on this thread) must end within ``seconds``; nested limits keep the
    earliest deadline."""
    outer = getattr(_state, "deadline", None)
    deadline = time.monotonic() + seconds
    _state.deadline = deadline if outer is None else min(outer, deadline)
    try:
        yield
    finally:
        _state.deadline = outer


def _tick() -> None:
    deadline = getattr(_state, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise TemplateLimitError(f"the template took longer than {RENDER_SECONDS:g} s to render")


def _size(value: object) -> int:
    """Characters a value stands for: a string's length, a sequence's strings summed."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple):
        return sum(_size(item) for item in value)
    return 0


def _check_text(value: object) -> object:
    if _size(value) > MAX_TEXT:
        raise TemplateLimitError(f"the template made a text longer than {MAX_TEXT:,} characters")
    if isinstance(value, list | tuple) and len(value) > MAX_ITEMS:
        raise TemplateLimitError(f"the template made a list longer than {MAX_ITEMS:,} items")
    if isinstance(value, int) and abs(value).bit_length() * math.log10(2) > MAX_INT_DIGITS:
        raise TemplateLimitError(f"the template made a number longer than {MAX_INT_DIGITS} digits")
    return value


# What builds a long text from short arguments: its width, count or repeat is checked first.
_WIDTH_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate"})
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def _refuse_wide(values: Iterable[object]) -> None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_TEXT:
            raise TemplateLimitError(f"{value} is more than the {MAX_TEXT:,} characters allowed")


def _refuse_wide_format(spec: object) -> None:
    """``'%0999999999d'`` or ``'{:>999999999}'``: a width of a million or more."""
    if isinstance(spec, str) and ("%" in spec or "{" in spec) and _WIDE_SPEC.search(spec):
        raise TemplateLimitError("a width in a format is more than a template may make")


def _refuse_big_replace(text: object, old: object, new: object) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        grows = (text.count(old) if old else len(text) + 1) * len(new)
        if len(text) + grows > MAX_TEXT:
            raise TemplateLimitError(f"the text would be longer than {MAX_TEXT:,} characters")


def _power(base: object, exponent: object) -> None:
    if not (isinstance(base, int) and isinstance(exponent, int)):
        return  # floats overflow at once (an error); only integers grow without end
    if exponent > 0 and abs(base) > 1 and exponent * math.log10(abs(base)) > MAX_INT_DIGITS:
        raise TemplateLimitError(f"{base} ** {exponent} is more than {MAX_INT_DIGITS} digits")


def _product(left: object, right: object) -> None:
    """``text * n`` and ``list * n``: refused before they are built when too large."""
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(count, int):
            if isinstance(seq, list | tuple) and len(seq) * count > MAX_ITEMS:
                raise TemplateLimitError(f"the list would have more than {MAX_ITEMS:,} items")
            if _size(seq) * count > MAX_TEXT:
                raise TemplateLimitError(f"the text would be longer than {MAX_TEXT:,} characters")


class _BoundedCodeGenerator(CodeGenerator):
    """``a ~ b``: joined by the environment, which bounds the result, not by Jinja's helper."""

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with size and time bounds (see the module's docstring)."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%", "//", "/"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.filters["join"] = _bounded_join(self.filters["join"])

    def add_filters(self, filters: dict[str, Callable[..., Any]]) -> None:
        """Register the project's own filters, bounded like Jinja's."""
        self.filters.update({name: _bounded_filter(name, f) for name, f in filters.items()})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "**":
            _power(left, right)
        elif operator == "*":
            _product(left, right)
        elif operator == "%":
            _refuse_wide_format(left)
        return _check_text(super().call_binop(context, operator, left, right))

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        owner, name = getattr(__obj, "__self__", None), getattr(__obj, "__name__", None)
        if isinstance(owner, str):  # a method of a text: the ones that can make a long one
            if name in _WIDTH_METHODS:
                _refuse_wide((*args, *kwargs.values()))
            elif name == "replace" and len(args) >= 2:
                _refuse_big_replace(owner, args[0], args[1])
        return _check_text(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        # The sandbox hands out str.format wrapped (no __self__ left for call() to look at).
        if isinstance(obj, str) and attribute in ("format", "format_map"):
            _refuse_wide_format(obj)
        return super().getattr(obj, attribute)

    def bounded_concat(self, parts: Sequence[Any]) -> str:
        _tick()
        if sum(len(str(part)) for part in parts) > MAX_TEXT:
            raise TemplateLimitError(f"the text would be longer than {MAX_TEXT:,} characters")
        joined: str = markup_join(parts) if self.autoescape else str_join(parts)
        return joined


def _bounded_filter(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    # Filters marked pass_context / pass_eval_context / pass_environment get that first.
    first = 1 if hasattr(f, "jinja_pass_arg") else 0

    @functools.wraps(f)  # keeps Jinja's pass_* mark
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        value, rest = args[first] if len(args) > first else None, args[first + 1 :]
        if name in _WIDTH_FILTERS:
            _refuse_wide((*rest, *kwargs.values()))
        elif name == "format":
            _refuse_wide_format(value)
        elif name == "replace" and len(rest) >= 2:
            _refuse_big_replace(value, rest[0], rest[1])
        return _check_text(f(*args, **kwargs))

    return bounded


def _bounded_join(join: Callable[..., Any]) -> Callable[..., Any]:
    """``join`` counts what it joins as it reads it: a lazy sequence cannot outgrow the bound."""

    @functools.wraps(join)
    def bounded(eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: Any = None) -> Any:
        items, total = [], 0
        for item in value:
            _tick()
            total += len(str(item)) + len(d)
            if total > MAX_TEXT:
                raise TemplateLimitError(f"the text would be longer than {MAX_TEXT:,} characters")
            items.append(item)
        return join(eval_ctx, items, d, attribute)

    return bounded


def environment(**options: Any) -> BoundedEnvironment:
    """A bounded sandbox; ``undefined`` is strict unless said otherwise (a misspelt variable
    must fail, not read as silence)."""
    options.setdefault("undefined", jinja2.StrictUndefined)
    return BoundedEnvironment(**options)
