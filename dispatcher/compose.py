"""Rendering a campaign's SMS for every recipient, and checking what carriers will bill.

The text is a Jinja2 template whose variables are the list's columns, so every rendered message
is measured, not just the template. Problems are located: a syntax error at its line in the
campaign file, a message that breaks a limit at the list row it was rendered for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

from dispatcher.campaign import Campaign
from dispatcher.errors import Problem
from dispatcher.lists import Subscriber
from dispatcher.outbox import NewDelivery
from dispatcher.sms import MAX_BODY_CHARACTERS, NotGsm7, SmsInfo, prepare

MAX_PROBLEMS_PER_KIND = 10  # a broken template fails every row: show a few, count the rest

_env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


@dataclass
class Composition:
    """Every rendered message of one campaign, with what they will cost."""

    deliveries: list[NewDelivery] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    longest: SmsInfo | None = None
    total_segments: int = 0
    encodings: set[str] = field(default_factory=set)

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


def compose_sms(campaign: Campaign, recipients: Sequence[Subscriber]) -> Composition:
    """Render and measure the message of every recipient (nothing is sent here)."""
    sms = campaign.spec.sms
    assert sms is not None
    result = Composition()
    template, variables = _compile(campaign, result)
    if template is None:
        return result
    limiter = _Limiter()
    cache: dict[str, tuple[str, SmsInfo] | None] = {}
    for subscriber in recipients:
        text = _render(template, variables, subscriber, campaign, limiter)
        if text is None:
            continue
        if text not in cache:
            cache[text] = _measure(text, campaign, subscriber, limiter, bool(variables))
        measured = cache[text]
        if measured is not None:
            _add(result, subscriber, *measured, sender=sms.sender)
    result.problems.extend(limiter.problems())
    return result


def _compile(campaign: Campaign, result: Composition) -> tuple[jinja2.Template | None, set[str]]:
    sms = campaign.spec.sms
    assert sms is not None
    try:
        variables = meta.find_undeclared_variables(_env.parse(sms.text))
        return _env.from_string(sms.text), variables
    except jinja2.TemplateSyntaxError as exc:
        line = (campaign.doc.line_of(["sms", "text"]) or 0) + (exc.lineno or 1)
        where = Problem(f"template error: {exc.message}", campaign.display_path, line, "sms.text")
        result.problems.append(where)
        return None, set()


def _render(
    template: jinja2.Template,
    variables: set[str],
    subscriber: Subscriber,
    campaign: Campaign,
    limiter: _Limiter,
) -> str | None:
    try:
        return template.render(subscriber.fields).strip()
    except jinja2.UndefinedError as exc:
        message = f"sms.text uses {exc.message}, which this list row does not have"
        limiter.add("undefined", Problem(message, subscriber.file, subscriber.line))
    except jinja2.TemplateError as exc:
        limiter.add("render", campaign.problem(["sms", "text"], f"template error: {exc}"))
    return None


def _measure(
    text: str, campaign: Campaign, subscriber: Subscriber, limiter: _Limiter, per_row: bool
) -> tuple[str, SmsInfo] | None:
    sms = campaign.spec.sms
    assert sms is not None

    def at(message: str) -> Problem:
        if per_row:
            return Problem(f"the message for this row {message}", subscriber.file, subscriber.line)
        return campaign.problem(["sms", "text"], f"the message {message}")

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


def _add(
    result: Composition, subscriber: Subscriber, body: str, info: SmsInfo, sender: str | None
) -> None:
    result.deliveries.append(
        NewDelivery(
            phone=subscriber.phone,
            source=f"{subscriber.file}:{subscriber.line}",
            body=body,
            encoding=info.encoding,
            segments=info.segments,
            sender=sender,
        )
    )
    result.total_segments += info.segments
    result.encodings.add(info.encoding)
    if result.longest is None or (info.segments, info.units) > (
        result.longest.segments,
        result.longest.units,
    ):
        result.longest = info
