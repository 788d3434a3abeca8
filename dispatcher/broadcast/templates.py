"""Script templates: the text read at one airing, and every template mistake as a BadInput.

A script template is Jinja2 text with three blocks, ``opening``, ``content`` and ``closing``. The
script read on air is the opening, the content ``repeat`` times (each reading announced by a
``marker(reading)`` macro, so announcer and listeners know where they are), then the closing. An
inline ``script:`` from the campaign file is the content alone; the package's
``templates/broadcast_default.txt.j2`` frames it.

Template mistakes are the campaign author's to fix, so every Jinja error becomes a
:class:`~dispatcher.core.errors.BadInput` naming the template file and line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
from jinja2.runtime import Macro

from dispatcher.broadcast.calendar import Airing
from dispatcher.broadcast.layout import WRAP_WIDTH, in_sentence, ordinal_vi, tidy
from dispatcher.campaigns.vocabulary import BUILTIN_VARIABLES
from dispatcher.core import templating
from dispatcher.core.errors import BadInput, Problem
from dispatcher.core.schedule import format_date_vi, format_time_vi, weekday_vi

PARTS = ("opening", "content", "closing")
DEFAULT_TEMPLATE = "broadcast_default.txt.j2"

_INLINE = "<template>"  # the file name Jinja gives a template made from a string


@dataclass(frozen=True)
class ScriptParts:
    """A template rendered for one airing, before assembly into the script."""

    opening: str
    content: str
    closing: str
    markers: tuple[str, ...]  # read before each reading of the content; none if read once


class ScriptTemplate:
    """A script template, from a file (:meth:`from_file`) or inline text (:meth:`from_text`)."""

    def __init__(
        self, template: jinja2.Template, display: str, *, inline: bool, framed: bool = True
    ) -> None:
        self._template = template
        self._inline = inline
        self._framed = framed  # inline text only: False, it is the whole script as written
        self.display = display  # how errors name the template: the path the user wrote

    @classmethod
    def from_file(cls, path: Path, display: str | None = None) -> ScriptTemplate:
        """Load the template at ``path``; ``{% include %}`` and ``{% extends %}`` see its folder."""
        shown = display or str(path)
        env = _environment(jinja2.FileSystemLoader(path.parent))
        with _template_errors(shown, path, available=()):
            template = env.get_template(path.name)
        return cls(template, shown, inline=False)

    @classmethod
    def from_text(
        cls, content: str, origin: str = "broadcast.script", *, framed: bool = True
    ) -> ScriptTemplate:
        """Inline content text (itself a template), framed by the built-in opening and closing.

        ``origin`` names the text in errors; their line numbers count from its first line.
        Unframed (``framed=False``), the text is the whole script, read once as written: for a
        language variant, whose translator writes its own opening, repeats and closing.
        """
        with _template_errors(origin, _INLINE, available=()):
            template = _default_environment().from_string(content)
        return cls(template, origin, inline=True, framed=framed)

    def render(self, variables: Mapping[str, object], repeat: int = 1) -> ScriptParts:
        """Render the three parts, and a marker per reading when the content is read twice+."""
        if not self._framed:
            with self._errors(variables), templating.time_limit():
                content = _evaluate(self._template, variables).output
            return ScriptParts("", content, "", ())
        with self._errors(variables), templating.time_limit():
            found, marker = self._parts(variables)
            if marker is None:  # the template has no `marker` macro of its own
                marker = _default_marker(variables)
            markers = tuple(str(marker(n)) for n in range(1, repeat + 1)) if repeat > 1 else ()
        missing = [name for name, text in found.items() if text is None]
        if missing:
            tags = ", ".join(f"{{% block {name} %}}" for name in missing)
            raise BadInput(Problem(f"the template has no {tags}", file=self.display))
        texts = {name: text or "" for name, text in found.items()}
        return ScriptParts(texts["opening"], texts["content"], texts["closing"], markers)

    def _parts(self, variables: Mapping[str, object]) -> tuple[dict[str, str | None], Macro | None]:
        if not self._inline:
            own = _evaluate(self._template, variables, PARTS)
            return own.blocks, own.marker
        content = _evaluate(self._template, variables).output
        frame = _evaluate(_default_template(), variables, ("opening", "closing"))
        found = {"opening": frame.blocks["opening"], "content": content}
        return {**found, "closing": frame.blocks["closing"]}, frame.marker

    def _errors(self, variables: Mapping[str, object]) -> AbstractContextManager[None]:
        main = _INLINE if self._inline else self._template.filename
        return _template_errors(self.display, main, available=variables.keys())


def script_variables(
    airing: Airing,
    *,
    campaign_id: str,
    title: str,
    unit: str,
    repeat: int,
    extra_vars: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """What a template can use: the built-in variables plus the campaign's ``vars``."""
    extra = dict(extra_vars or {})
    clash = sorted(BUILTIN_VARIABLES & extra.keys())
    if clash:
        raise BadInput(f"broadcast `vars` cannot redefine built-in variables: {', '.join(clash)}")
    builtin: dict[str, object] = {
        "commune": airing.commune,
        "campaign": campaign_id,
        "title": title,
        "unit": unit,
        "date": format_date_vi(airing.at.date()),
        "time": format_time_vi(airing.at),
        "weekday": weekday_vi(airing.at.date()),
        "repeat": repeat,
        "airing": airing.at,
    }
    return {**extra, **builtin}


def render_script(
    template: ScriptTemplate,
    airing: Airing,
    *,
    campaign_id: str,
    title: str,
    unit: str,
    repeat: int = 1,
    extra_vars: Mapping[str, object] | None = None,
    width: int | None = WRAP_WIDTH,
) -> str:
    """The text read at ``airing``, NFC, wrapped at ``width`` (``None``: not wrapped).

    Opening, then the content ``repeat`` times, each reading after its marker, then closing;
    paragraphs are separated by one blank line and the text ends with a newline.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    variables = script_variables(
        airing,
        campaign_id=campaign_id,
        title=title,
        unit=unit,
        repeat=repeat,
        extra_vars=extra_vars,
    )
    parts = template.render(variables, repeat)
    if not parts.content.strip():
        raise BadInput(Problem("the script's content is empty", file=template.display))
    readings = [[marker, parts.content] for marker in parts.markers] or [[parts.content]]
    pieces = [parts.opening, *(piece for reading in readings for piece in reading), parts.closing]
    return tidy(pieces, width)


# --- Jinja environment and evaluation ------------------------------------------------------


def _environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    # The campaign's own template files: sandboxed and bounded (dispatcher.core.templating).
    env = templating.environment(
        loader=loader,
        autoescape=False,  # plain text read aloud, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,  # a tag alone on its line leaves no blank line behind
        lstrip_blocks=True,
    )
    env.add_filters({"in_sentence": in_sentence, "ordinal_vi": ordinal_vi})
    return env


@cache
def _default_environment() -> jinja2.Environment:
    # The package's own templates/ folder, found through the installed package, not the CWD.
    return _environment(jinja2.PackageLoader("dispatcher", "templates"))


def _default_template() -> jinja2.Template:
    return _default_environment().get_template(DEFAULT_TEMPLATE)


def _default_marker(variables: Mapping[str, object]) -> Macro:
    marker = _evaluate(_default_template(), variables).marker
    assert marker is not None, f"{DEFAULT_TEMPLATE} defines `marker`"
    return marker


@dataclass(frozen=True)
class _Evaluation:
    output: str  # the text Template.render would return
    blocks: dict[str, str | None]  # None: no template of the `{% extends %}` chain defines it
    marker: Macro | None  # the template's top-level `marker(reading)` macro, if any


def _evaluate(
    template: jinja2.Template, variables: Mapping[str, object], blocks: Iterable[str] = ()
) -> _Evaluation:
    """Render ``template`` once, then each of ``blocks`` in the context that rendering left.

    The one function that relies on Jinja internals (undocumented; checked with Jinja 3.1):

    - ``Template.root_render_func(context)`` is what ``Template.render`` runs, minus its
      traceback rewriting (:func:`_template_frame` reads the raw frames instead). Running the
      whole template once, rather than only ``Template.blocks``, runs ``{% extends %}``, which
      registers the parents' blocks in the context, and the top-level ``{% set %}``s and
      macros the blocks may use. ``Template.blocks`` alone knows neither.
    - ``Context.blocks[name]`` lists the block's definitions, the most derived first (the
      compiled ``{% extends %}`` appends each parent's, and ``super()`` walks forward); each
      is a function of the context yielding the block's text.

    ``Template.new_context`` and ``Context.vars`` are public API.
    """
    context = template.new_context(dict(variables))
    output = "".join(template.root_render_func(context))
    found: dict[str, str | None] = {}
    for name in blocks:
        chain = context.blocks.get(name)
        found[name] = "".join(chain[0](context)) if chain else None
    marker = context.vars.get("marker")
    return _Evaluation(output, found, marker if isinstance(marker, Macro) else None)


# --- error translation ---------------------------------------------------------------------


@contextmanager
def _template_errors(
    display: str, main_file: str | Path | None, available: Iterable[str]
) -> Iterator[None]:
    """Turn whatever the template raises into a :class:`BadInput` at its file and line."""
    try:
        yield
    except BadInput:
        raise
    except jinja2.TemplateSyntaxError as exc:
        where = _shown(exc.filename, display, main_file)
        problem = Problem(f"template syntax error: {exc.message}", file=where, line=exc.lineno)
        raise BadInput(problem) from exc
    except UnicodeDecodeError as exc:
        raise BadInput(Problem("the template is not UTF-8 text", file=display)) from exc
    except Exception as exc:  # anything raised while rendering is the template author's to fix
        filename, line = _template_frame(exc)
        message = _runtime_message(exc, sorted(available))
        raise BadInput(
            Problem(message, file=_shown(filename, display, main_file), line=line)
        ) from exc


def _runtime_message(exc: Exception, available: list[str]) -> str:
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"template not found: {exc.name}"
    if isinstance(exc, jinja2.UndefinedError):
        known = f"; the variables are: {', '.join(available)}" if available else ""
        return f"{exc.message}{known}"
    return f"template error: {type(exc).__name__}: {exc}"


def _template_frame(exc: BaseException) -> tuple[str | None, int | None]:
    """The template file and line of the innermost template frame in ``exc``'s traceback."""
    found: tuple[str | None, int | None] = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        # Jinja marks the modules it compiles templates into with this global (internal, as
        # is reading it here: Template.render would have rewritten the traceback for us).
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        if isinstance(template, jinja2.Template):
            found = (template.filename, template.get_corresponding_lineno(tb.tb_lineno))
        tb = tb.tb_next
    return found


def _shown(filename: str | None, display: str, main_file: str | Path | None) -> str:
    """How to name the template ``filename``: as the user wrote it, when it is the main one."""
    if filename is None or filename == str(main_file):
        return display
    if main_file is None or filename.startswith("<"):  # "<template>": text from a string
        return filename
    return display if Path(filename).resolve() == Path(main_file).resolve() else filename
