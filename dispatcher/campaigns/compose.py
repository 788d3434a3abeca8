"""Rendering a campaign's SMS for every recipient, and checking what carriers will bill.

The text is a Jinja2 template whose variables are the list's columns, so every rendered message
is measured, not just the template. Problems are located: a syntax error at its line in the
campaign file, a message that breaks a limit at the list row it was rendered for.

Lists can have a million rows, so messages are streamed, never collected: :func:`compose_sms`
keeps only totals, :func:`render_deliveries` yields outbox rows one at a time. A text without
variables is rendered once; otherwise the last few thousand distinct inputs are remembered (an
LRU), since lists repeat communes and names.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

import jinja2
from jinja2 import meta

from dispatcher.audience.lists import Subscriber
from dispatcher.campaigns.preview import Preview
from dispatcher.campaigns.spec import Campaign
from dispatcher.core import templating
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.outbox import NewDelivery
from dispatcher.sms.encoding import MAX_BODY_CHARACTERS, NotGsm7, SmsInfo, prepare

MAX_PROBLEMS_PER_KIND = 10  # a broken template fails every row: show a few, count the rest
MAX_CACHED_MESSAGES = 8_192  # distinct messages remembered (LRU): a few MiB of SMS texts

_env = templating.environment(autoescape=False)  # sandboxed and bounded


@dataclass
class Composition:
    """What the rendered messages of one campaign will cost (the messages are not kept)."""

    problems: list[Problem] = field(default_factory=list)
    messages: int = 0
    longest: SmsInfo | None = None
    total_segments: int = 0
    encodings: set[str] = field(default_factory=set)
    preview: Preview = field(default_factory=Preview)  # the first messages, empty columns

    @property
    def encoding(self) -> str | None:
        """UCS-2 if any message needs it (that is what the campaign costs), else GSM-7."""
        if not self.encodings:
            return None
        return "UCS-2" if "UCS-2" in self.encodings else "GSM-7"


class _Limiter:
    """Collects problems, keeping only the first few of each kind."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.kept: list[Problem] = []

    def add(self, kind: str, problem: Problem) -> None:
        self.seen[kind] = self.seen.get(kind, 0) + 1
        if self.seen[kind] <= MAX_PROBLEMS_PER_KIND:
            self.kept.append(problem)

    def problems(self) -> list[Problem]:
        more = [
            Problem(f"... and {n - MAX_PROBLEMS_PER_KIND} more messages with the same problem")
            for n in self.seen.values()
            if n > MAX_PROBLEMS_PER_KIND
        ]
        return self.kept + more


Measured = tuple[str, SmsInfo]  # the body as sent, and what it costs
# More rules for every body as sent (the carriers': dispatcher.safety.carrier_checks): each
# problem as (kind, what the message does wrong), e.g. ("template", "does not match template
# 'TB01'").
MessageCheck = Callable[[str], list[tuple[str, str]]]
# A recipient list's columns, in order, by the file's name as shown (AudienceScan.columns_of).
ColumnsOf = Callable[[str], Sequence[str]]


def template_columns(campaign: Campaign) -> frozenset[str]:
    """The list columns the SMS template uses (none when it does not compile: see compose_sms)."""
    sms = campaign.spec.sms
    assert sms is not None
    try:
        return frozenset(meta.find_undeclared_variables(_env.parse(sms.text)))
    except jinja2.TemplateSyntaxError:
        return frozenset()


def compose_sms(
    campaign: Campaign,
    recipients: Iterable[Subscriber],
    check: MessageCheck | None = None,
    *,
    columns_of: ColumnsOf | None = None,
    preview: int = 0,
) -> Composition:
    """Render and measure the message of every recipient, keeping only the totals.

    Nothing is sent here. ``recipients`` is read once, to the end, even when the template has
    no variables (then it is rendered once and the recipients are only counted). ``check``
    sees each distinct body as sent, in the same pass; its problems are located like the others.
    ``columns_of`` names a list's columns when the template uses one it lacks. The first
    ``preview`` messages are kept, and the rows leaving a used column empty are counted.
    """
    result = Composition(preview=Preview(limit=preview))
    messages = _Messages(campaign, result, check, columns_of)
    rows = iter(recipients)
    if messages.variables:
        for subscriber in rows:
            result.preview.check_empty(subscriber, messages.variables)
            _count_one(result, subscriber, messages.of(subscriber))
    else:  # one message for all: rendered once, the rest only counted
        head = list(islice(rows, max(1, preview)))
        measured = messages.of(head[0]) if head else None
        others = sum(1 for _ in rows)
        for subscriber in head:
            _count_one(result, subscriber, measured)
        if measured is not None and others:
            _count(result, measured[1], others)
    result.problems.extend(messages.limiter.problems())
    return result


def _count_one(result: Composition, subscriber: Subscriber, measured: Measured | None) -> None:
    if measured is not None:
        _count(result, measured[1])
        result.preview.sample(subscriber, *measured)


def render_deliveries(
    campaign: Campaign, recipients: Iterable[Subscriber], check: MessageCheck | None = None
) -> Iterator[NewDelivery]:
    """The outbox row of each recipient, rendered when it is asked for.

    Every message is checked as :func:`compose_sms` checks it (``check`` too). Messages with a
    problem are not yielded; once the recipients are exhausted, :class:`BadInput` lists every
    problem, so a caller that consumes the rows in one transaction writes nothing.
    """
    sms = campaign.spec.sms
    assert sms is not None
    result = Composition()
    messages = _Messages(campaign, result, check)
    broken = bool(result.problems)  # the template does not compile
    for subscriber in recipients:
        measured = messages.of(subscriber)
        if measured is None:  # the problem is in the limiter, located
            broken = True
            continue
        body, info = measured
        source = f"{subscriber.file}:{subscriber.line}"
        yield NewDelivery(subscriber.phone, source, body, info.encoding, info.segments, sms.sender)
    if broken:
        raise BadInput(result.problems + messages.limiter.problems())


class _Messages:
    """Each subscriber's message, rendered and measured unless its inputs were seen recently."""

    def __init__(
        self,
        campaign: Campaign,
        result: Composition,
        check: MessageCheck | None = None,
        columns_of: ColumnsOf | None = None,
    ) -> None:
        self.campaign = campaign
        self.check = check
        self.columns_of = columns_of
        self.limiter = _Limiter()
        self._lacking: set[tuple[str, tuple[str, ...]]] = set()  # (file, columns) reported
        self.template, self._variable_set = _compile(campaign, result)
        self.variables = sorted(self._variable_set)
        self._cache: OrderedDict[tuple[str | None, ...], Measured | None] = OrderedDict()

    def of(self, subscriber: Subscriber) -> Measured | None:
        """The body and its cost, or None when it has a problem (reported once per input)."""
        key = tuple(map(subscriber.fields.get, self.variables))
        cache = self._cache
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        measured = self._render_and_measure(subscriber)
        if None not in key:  # a missing column is reported for every row that lacks it
            cache[key] = measured
            if len(cache) > MAX_CACHED_MESSAGES:
                cache.popitem(last=False)
        return measured

    def _render_and_measure(self, subscriber: Subscriber) -> Measured | None:
        if self.template is None:
            return None
        per_row = bool(self.variables)
        try:
            text = _render(self.template, subscriber, self.campaign, self.limiter)
        except jinja2.UndefinedError as exc:
            self._undefined(subscriber, exc)
            return None
        if text is None:
            return None
        measured = _measure(text, self.campaign, subscriber, self.limiter, per_row)
        if measured is None or self.check is None:
            return measured
        issues = self.check(measured[0])
        for kind, message in issues:
            self.limiter.add(kind, _located(message, self.campaign, subscriber, per_row))
        return None if issues else measured

    def _undefined(self, subscriber: Subscriber, exc: jinja2.UndefinedError) -> None:
        """A misspelt variable, reported once per list at ``sms.text``, with the list's columns.

        A list has the same columns on every row (short rows read as empty cells), so a column
        missing from one row is missing from all of them: one problem says it all.
        """
        missing = sorted(self._variable_set - subscriber.fields.keys() - _env.globals.keys())
        key = (subscriber.file, tuple(missing))
        if key in self._lacking:
            return
        self._lacking.add(key)
        if not missing:  # e.g. an attribute of a column that has none
            problem = self.campaign.problem(["sms", "text"], f"template error: {exc.message}")
            self.limiter.add("undefined", problem)
            return
        names = ", ".join(f"`{name}`" for name in missing)
        verb = "is not a column" if len(missing) == 1 else "are not columns"
        message = f"{names} {verb} of {subscriber.file}"
        if self.columns_of is not None:
            message += f": {', '.join(self.columns_of(subscriber.file))}"
        self.limiter.add("undefined", self.campaign.problem(["sms", "text"], message))


def _compile(campaign: Campaign, result: Composition) -> tuple[jinja2.Template | None, set[str]]:
    sms = campaign.spec.sms
    assert sms is not None
    try:
        variables = meta.find_undeclared_variables(_env.parse(sms.text))
        return _env.from_string(sms.text), variables
    except jinja2.TemplateSyntaxError as exc:
        line = _syntax_error_line(campaign, exc)
        where = Problem(f"template error: {exc.message}", campaign.display_path, line, "sms.text")
        result.problems.append(where)
        return None, set()


def _syntax_error_line(campaign: Campaign, exc: jinja2.TemplateSyntaxError) -> int | None:
    """The campaign file's line of a syntax error in sms.text, found in the text as written."""
    written = campaign.doc.scalar_source(["sms", "text"])
    if written is None:
        return campaign.doc.line_of(["sms", "text"])
    first, source = written
    try:
        _env.parse(source)  # YAML folding only turns line breaks into spaces, same syntax
    except jinja2.TemplateSyntaxError as again:
        return first + (again.lineno or 1) - 1
    return first + (exc.lineno or 1) - 1


def _render(
    template: jinja2.Template, subscriber: Subscriber, campaign: Campaign, limiter: _Limiter
) -> str | None:
    """The message, or None when the template fails (the problem is in ``limiter``); a
    variable the row lacks raises :class:`jinja2.UndefinedError` for the caller to report."""
    try:
        with templating.time_limit():
            return template.render(subscriber.fields).strip()
    except jinja2.UndefinedError:
        raise
    except jinja2.TemplateError as exc:
        limiter.add("render", campaign.problem(["sms", "text"], f"template error: {exc}"))
    return None


def _measure(
    text: str, campaign: Campaign, subscriber: Subscriber, limiter: _Limiter, per_row: bool
) -> tuple[str, SmsInfo] | None:
    sms = campaign.spec.sms
    assert sms is not None

    def at(message: str) -> Problem:
        return _located(message, campaign, subscriber, per_row)

    if not text:
        limiter.add("empty", at("is empty"))
        return None
    try:
        prepared = prepare(text, sms.encoding)
    except NotGsm7 as exc:
        limiter.add("gsm", at(f"is not GSM-7 even without diacritics: {exc}"))
        return None
    info = prepared.info
    if info.characters > MAX_BODY_CHARACTERS:
        limiter.add("long", at(f"has {info.characters} characters; the limit is 1600"))
        return None
    if info.segments > sms.max_segments:
        detail = f"is {info.segments} segments ({info.encoding}, {info.units} units)"
        limiter.add("segments", at(f"{detail}; max_segments is {sms.max_segments}"))
        return None
    return prepared.body, info


def _located(message: str, campaign: Campaign, subscriber: Subscriber, per_row: bool) -> Problem:
    """A problem of a message: at its list row when rows differ, else at ``sms.text``."""
    if per_row:
        return Problem(f"the message for this row {message}", subscriber.file, subscriber.line)
    return campaign.problem(["sms", "text"], f"the message {message}")


def _count(result: Composition, info: SmsInfo, messages: int = 1) -> None:
    result.messages += messages
    result.total_segments += info.segments * messages
    result.encodings.add(info.encoding)
    if result.longest is None or (info.segments, info.units) > (
        result.longest.segments,
        result.longest.units,
    ):
        result.longest = info
