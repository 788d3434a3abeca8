"""The carriers' rules (:mod:`dispatcher.sms.carriers`) applied to one campaign, with the config.

:func:`review` answers what can be known before the lists are read — are the senders registered (an
error when the gateway is real, a note otherwise so operators see it before going live), is the
template named one of the config's, do the quiet hours from the settings keep advertising out of the
night — and returns the check of every rendered message (its template, ``[QC]``, the opt-out
instruction), which :func:`dispatcher.campaigns.compose.compose_sms` runs in the one pass over the
lists that validate and plan already make: a list of a million rows is never held in memory.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field

from dispatcher.campaigns.compose import MessageCheck
from dispatcher.campaigns.spec import Campaign, SmsSection
from dispatcher.core.errors import Problem
from dispatcher.safety.gates import effective_quiet_hours
from dispatcher.settings.config import Settings, gateway_is_real
from dispatcher.sms.carriers import (
    ADVERTISING_PREFIX,
    LEGAL_NIGHT,
    CarrierSettings,
    covers_legal_night,
    ends_with_opt_out,
    opt_out_pattern,
    template_pattern,
)
from dispatcher.sms.quiet import ENV_VAR

ENV_TWILIO_FROM = "TWILIO_FROM"  # the twilio gateway's sender when the campaign names none
TEMPLATE_SHOWN = 60  # characters of a template quoted in a problem


@dataclass
class CarrierReview:
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # warnings: nothing refused
    check: MessageCheck | None = None  # for compose_sms; None: no rule about the text


def review(campaign: Campaign, settings: Settings, environ: Mapping[str, str]) -> CarrierReview:
    """What the carriers would refuse in ``campaign``, known before its lists are read."""
    sms = campaign.spec.sms
    result = CarrierReview()
    if sms is None:
        return result
    rules = settings.carriers
    real = gateway_is_real(settings, environ)
    default = environ.get(ENV_TWILIO_FROM) if settings.gateway == "twilio" else None
    for loc, name in _senders(sms, default or None):
        problem = _unregistered(campaign, loc, name, rules.registered_senders, real)
        if problem is not None:
            (result.problems if real else result.notes).append(problem)
    if sms.template_id is not None and sms.template_id not in rules.templates:
        known = ", ".join(rules.templates) or "none"
        message = f"unknown template '{sms.template_id}' (carriers.templates: {known})"
        result.problems.append(campaign.problem(["sms", "template_id"], message))
    if sms.category == "advertising" and sms.quiet_hours is None:
        result.problems += _night_problems(campaign, settings)
    result.check = _message_check(sms, rules)
    return result


def _senders(sms: SmsSection, default: str | None) -> list[tuple[list[int | str] | None, str]]:
    """Each sender the campaign sends from, with where it is written (None: the environment)."""
    if sms.senders:
        return [(["sms", "senders", i], name) for i, name in enumerate(sms.senders)]
    if sms.sender is not None:
        return [(["sms", "sender"], sms.sender)]
    # Nothing named: the gateway's own sender, else a messaging service that picks one itself.
    return [(None, default)] if default else []


def _unregistered(
    campaign: Campaign,
    loc: list[int | str] | None,
    name: str,
    registered: list[str],
    real: bool,
) -> Problem | None:
    if name in registered:
        return None
    if not registered and not real:
        return None  # nothing declared yet and nothing reaches a phone: no noise in every run
    listed = ", ".join(registered) or "none: list the names the operators registered for you"
    message = f"'{name}' is not a registered sender (carriers.registered_senders: {listed})"
    if real:
        message += "; Vietnamese operators deliver only registered sender names"
    else:
        message += "; a real gateway would refuse this campaign"
    if loc is None:
        return Problem(message, field=f"${ENV_TWILIO_FROM}")
    return campaign.problem(loc, message)


def _night_problems(campaign: Campaign, settings: Settings) -> list[Problem]:
    """Advertising without its own quiet hours takes the settings': they must cover the night."""
    window = effective_quiet_hours(campaign, settings)
    if window is None or covers_legal_night(window):
        return []
    where = f"${ENV_VAR}" if window.source == ENV_VAR else window.source
    message = (
        f"advertising is never sent between 22:00 and 07:00 (Decree 91/2020), but the quiet "
        f'hours from {where} are {window}: write quiet_hours: "{LEGAL_NIGHT}" in the campaign '
        "(it wins over the settings)"
    )
    return [campaign.problem(["sms", "category"], message)]


def _message_check(sms: SmsSection, rules: CarrierSettings) -> MessageCheck | None:
    """The rules every body as sent must keep; None when there are none."""
    template = rules.templates.get(sms.template_id) if sms.template_id else None
    pattern = template_pattern(template, sms.encoding) if template is not None else None
    advertising = sms.category == "advertising"
    if pattern is None and not advertising:
        return None
    opt_out = opt_out_pattern(rules.opt_out_phrases)
    shown = textwrap.shorten(template or "", TEMPLATE_SHOWN, placeholder=" …")

    def check(body: str) -> list[tuple[str, str]]:
        issues = []
        if pattern is not None and not pattern.fullmatch(body):
            detail = f"does not match the carriers' template {sms.template_id} ('{shown}')"
            issues.append(("template", f"{detail}: operators filter it"))
        if advertising and not body.startswith(ADVERTISING_PREFIX):
            issues.append(("qc", f"is advertising and does not start with {ADVERTISING_PREFIX}"))
        if advertising and not ends_with_opt_out(body, opt_out):
            phrases = ", ".join(rules.opt_out_phrases)
            message = (
                "is advertising and does not end with an opt-out instruction: its last sentence "
                f"has none of carriers.opt_out_phrases ({phrases})"
            )
            issues.append(("opt-out", message))
        return issues

    return check
