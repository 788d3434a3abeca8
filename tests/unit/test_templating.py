"""The one template environment: sandboxed (no way to Python's internals) and bounded (size,
time), while the templates operators really write render as before."""

from __future__ import annotations

import jinja2
import pytest
from jinja2.sandbox import SecurityError

from dispatcher.core.templating import MAX_TEXT, TemplateLimitError, environment, time_limit


def render(source: str, **variables: object) -> str:
    with time_limit():
        return environment().from_string(source).render(**variables)


@pytest.mark.parametrize(
    "source",
    [
        # The ways the review ran a shell command and read $TWILIO_AUTH_TOKEN from a campaign.
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ joiner.__init__.__globals__['os'].environ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ lipsum.__globals__['os'].environ['TWILIO_AUTH_TOKEN'] }}",
        "{{ namespace.__init__.__globals__ }}",
        "{% set xs = [1] %}{{ xs.append(2) }}",  # immutable: nothing is changed in place
    ],
)
def test_nothing_reaches_pythons_internals(source: str) -> None:
    with pytest.raises((SecurityError, jinja2.UndefinedError)):
        render(source)


@pytest.mark.parametrize(
    "source",
    [
        "{{ 7 ** 99999999 }}",
        "{{ 'A' * 300000000 }}",
        "{{ 300000000 * 'A' }}",
        "{{ [1] * 100000000 }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ '%0999999999d'|format(1) }}",
        "{{ 'A'|center(300000000) }}",
        "{{ 'A'.ljust(300000000) }}",
        "{{ ('A' * 1000)|replace('A', 'B' * 1000) }}",
        "{{ ('A' * 1000).replace('A', 'B' * 1000) }}",
        "{{ range(100000)|map('string')|join('x' * 100) }}",
        # Doubling a text by concatenation, in a loop and line after line.
        "{% set ns = namespace(x='A' * 1000) %}{% for _ in range(40) %}{% set ns.x = ns.x ~ ns.x %}"
        "{% endfor %}{{ ns.x|length }}",
        "{% set a = 'A' * 100000 %}" + "{% set a = a ~ a %}" * 10 + "{{ a|length }}",
        "{% set a = 'A' * 100000 %}" + "{% set a = a + a %}" * 10 + "{{ a|length }}",
    ],
)
def test_what_would_take_the_machine_down_is_refused_before_it_is_built(source: str) -> None:
    with pytest.raises(TemplateLimitError):
        render(source)


def test_a_render_that_runs_too_long_is_stopped() -> None:
    loops = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    template = environment().from_string(loops)
    with pytest.raises(TemplateLimitError, match="took longer than"), time_limit(0.05):
        template.render()


def test_the_limit_is_a_template_error_as_every_other() -> None:
    assert issubclass(TemplateLimitError, jinja2.TemplateError)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Xin chào {{ name|upper }}", "Xin chào AN"),
        ("{{ '%s (%s)' % (name, commune) }}", "An (Xã Tân Đoàn)"),
        ("{{ '{:,}'.format(1800000) }}", "1,800,000"),
        ("{{ 5000000 }} {{ 2 ** 20 }} {{ 10 // 3 }} {{ 7 / 2 }}", "5000000 1048576 3 3.5"),
        ("{{ name ~ ' - ' ~ commune }}", "An - Xã Tân Đoàn"),
        ("{{ '-' * 10 }}", "----------"),
        ("{{ commune|replace('Xã ', '')|center(14) }}", "   Tân Đoàn   "),
        ("{% for x in [1, 2, 3] %}{{ x }}{% endfor %}", "123"),
        ("{{ [name, commune]|join(', ') }}", "An, Xã Tân Đoàn"),
        ("{{ ('x' * " + str(MAX_TEXT) + ")|length }}", str(MAX_TEXT)),
    ],
)
def test_what_operators_write_renders_as_before(source: str, expected: str) -> None:
    assert render(source, name="An", commune="Xã Tân Đoàn") == expected


def test_pages_keep_escaping_when_they_concatenate() -> None:
    template = environment(autoescape=True).from_string("{{ '<b>' ~ name }}")
    assert template.render(name="<i>An</i>") == "&lt;b&gt;&lt;i&gt;An&lt;/i&gt;"


def test_a_misspelt_variable_still_fails() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render("{{ nmae }}", name="An")


def test_a_number_is_bounded_at_the_digits_the_message_states() -> None:
    assert render("{{ (10 ** 50) * (10 ** 49) }}") == "1" + "0" * 99  # 100 digits
    with pytest.raises(TemplateLimitError, match="longer than 100 digits"):
        render("{{ (10 ** 50) * (10 ** 60) }}")  # 111 digits: the old check let it through
