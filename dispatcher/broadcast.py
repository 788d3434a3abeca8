"""Loudspeaker broadcasts: the airing calendar, the script read at each airing, the script files.

A script template is Jinja2 text with three blocks, ``opening``, ``content`` and ``closing``. The
script read on air is the opening, the content ``repeat`` times (each reading announced by a
``marker(reading)`` macro, so announcer and listeners know where they are), then the closing. An
inline ``script:`` from the campaign file is the content alone; the package's
``templates/broadcast_default.txt.j2`` frames it.

Template mistakes are the campaign author's to fix, so every Jinja error becomes a
:class:`~dispatcher.errors.BadInput` naming the template file and line, never a traceback.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import textwrap
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from functools import cache
from pathlib import Path

import jinja2
from jinja2.runtime import Context, Macro

from dispatcher.errors import BadInput, DispatcherError, Problem
from dispatcher.schedule import (
    expand,
    format_date_vi,
    format_datetime_vi,
    format_time_vi,
    occurrence_key,
    weekday_vi,
)
from dispatcher.sms import fold_vietnamese

log = logging.getLogger(__name__)

PARTS = ("opening", "content", "closing")
DEFAULT_TEMPLATE = "broadcast_default.txt.j2"
# Characters per line: fits a printed A4 page at a size an announcer reads without glasses.
WRAP_WIDTH = 72
BUILTIN_VARIABLES = frozenset(
    ["commune", "campaign", "title", "unit", "date", "time", "weekday", "repeat", "airing"]
)

_ORDINALS_VI = {1: "thứ nhất", 2: "thứ hai", 3: "thứ ba", 4: "thứ tư", 5: "thứ năm"}
# Inside a sentence the kind of unit is lower case: "Đài truyền thanh xã Tân Đoàn".
_UNIT_KIND = re.compile(r"(Xã|Phường|Thị trấn|Thị xã|Thành phố|Huyện|Tỉnh)\b", re.IGNORECASE)
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_BULLET = re.compile(r"\s*(?:[-+*•]|\d{1,2}[.)])\s+")
_SENTENCE_END = (".", "!", "?", ":", ";")
_INLINE = "<template>"  # the file name Jinja gives a template made from a string


@dataclass(frozen=True)
class Airing:
    """One reading of the campaign's script on one commune's loudspeakers."""

    commune: str
    at: datetime  # aware, in the campaign's time zone

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise ValueError(f"an airing time must be timezone-aware, got {self.at.isoformat()}")

    @property
    def key(self) -> str:
        """The occurrence key of the moment (``2024-08-01T06:00+07:00``).

        Every commune airing at that moment shares it; ``(commune, key)`` names one airing.
        """
        return occurrence_key(self.at)


def airings(
    communes: Sequence[str],
    start: date,
    end: date,
    times: Sequence[time],
    days: Collection[int] | None,
    tz: tzinfo,
) -> list[Airing]:
    """Every airing of the calendar in every commune, by time, then in the order of ``communes``.

    Names are NFC-normalized and trimmed, and a name listed twice airs once.
    """
    names = _distinct_names(communes)
    return [Airing(name, at) for at in expand(start, end, times, days, tz) for name in names]


def in_sentence(name: object) -> str:
    """``"Xã Tân Đoàn"`` → ``"xã Tân Đoàn"``; names without a unit kind are left alone."""
    text = unicodedata.normalize("NFC", str(name)).strip()
    kind = _UNIT_KIND.match(text)
    return kind.group().lower() + text[kind.end() :] if kind else text


def ordinal_vi(number: int) -> str:
    """``2`` → ``"thứ hai"``, as in "đọc lại lần thứ hai"."""
    return _ORDINALS_VI.get(number, f"thứ {number}")


@dataclass(frozen=True)
class ScriptParts:
    """A template rendered for one airing, before assembly into the script."""

    opening: str
    content: str
    closing: str
    markers: tuple[str, ...]  # read before each reading of the content; none if read once


class ScriptTemplate:
    """A script template, from a file (:meth:`from_file`) or inline text (:meth:`from_text`)."""

    def __init__(self, template: jinja2.Template, display: str, *, inline: bool) -> None:
        self._template = template
        self._inline = inline
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
    def from_text(cls, content: str, origin: str = "broadcast.script") -> ScriptTemplate:
        """Inline content text (itself a template), framed by the built-in opening and closing.

        ``origin`` names the text in errors; their line numbers count from its first line.
        """
        with _template_errors(origin, _INLINE, available=()):
            template = _default_environment().from_string(content)
        return cls(template, origin, inline=True)

    def render(self, variables: Mapping[str, object], repeat: int = 1) -> ScriptParts:
        """Render the three parts, and a marker per reading when the content is read twice+."""
        with self._errors(variables):
            found, context = self._parts(variables)
            marker = context.vars.get("marker")
            if not isinstance(marker, Macro):  # the template has no `marker` macro of its own
                marker = _run(_default_template(), variables)[1].vars["marker"]
            markers = tuple(str(marker(n)) for n in range(1, repeat + 1)) if repeat > 1 else ()
        missing = [name for name, text in found.items() if text is None]
        if missing:
            tags = ", ".join(f"{{% block {name} %}}" for name in missing)
            raise BadInput(Problem(f"the template has no {tags}", file=self.display))
        texts = {name: text or "" for name, text in found.items()}
        return ScriptParts(texts["opening"], texts["content"], texts["closing"], markers)

    def _parts(self, variables: Mapping[str, object]) -> tuple[dict[str, str | None], Context]:
        if not self._inline:
            _, context = _run(self._template, variables)
            return {name: _block(context, name) for name in PARTS}, context
        content, _ = _run(self._template, variables)
        _, frame = _run(_default_template(), variables)
        found = {"opening": _block(frame, "opening"), "content": content}
        return {**found, "closing": _block(frame, "closing")}, frame

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


def tidy(pieces: Iterable[str], width: int | None = WRAP_WIDTH) -> str:
    """Join script pieces with blank lines, NFC-normalized, wrapped, ending in one newline.

    Inside a paragraph a line is joined to the next unless it ends a sentence or the next one
    is a list item: template authors wrap long sentences in their editor, and a break in the
    middle of a sentence would make the announcer pause there.
    """
    text = "\n\n".join(piece.strip() for piece in pieces if piece.strip())
    text = unicodedata.normalize("NFC", text.replace("\ufeff", "").replace("\r\n", "\n"))
    paragraphs = re.split(r"\n[ \t]*\n", text)
    out = ["\n".join(_reflow(p.splitlines(), width)) for p in paragraphs if p.strip()]
    return "\n\n".join(out) + "\n"


def commune_slug(name: str) -> str:
    """A folder name for the commune: ``"Xã Tân Đoàn"`` → ``"xa-tan-doan"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold_vietnamese(name).lower()).strip("-")
    if not slug:
        raise BadInput(f"commune name {name!r} has no letter or digit to name a folder after")
    return slug


def script_path(out_dir: Path, campaign_id: str, airing: Airing) -> Path:
    """``out_dir/<campaign>/<commune-slug>/<YYYY-MM-DD>_<HHMM>.txt``, in the airing's local time."""
    if not _SAFE_SEGMENT.fullmatch(campaign_id):
        raise ValueError(f"campaign id {campaign_id!r} cannot be a folder name")
    name = airing.at.strftime("%Y-%m-%d_%H%M") + ".txt"
    return out_dir / campaign_id / commune_slug(airing.commune) / name


def write_scripts(
    scripts: Iterable[tuple[Airing, str]],
    out_dir: Path,
    campaign_id: str,
    *,
    title: str | None = None,
) -> list[Path]:
    """Write each airing's script to its :func:`script_path`, under a header for the announcer.

    Each file is replaced atomically (a crash leaves the old file or the new one, never half of
    one) and left untouched when its content is unchanged, so a rerun is harmless. Raises
    :class:`BadInput`, before writing anything, when two airings would share a file.
    """
    planned: dict[Path, tuple[Airing, str]] = {}
    for airing, script in scripts:
        path = script_path(out_dir, campaign_id, airing)
        if path in planned:
            other = planned[path][0].commune
            raise BadInput(
                f"{other!r} and {airing.commune!r} at {airing.key} share the file {path}"
            )
        planned[path] = (airing, script)
    changed = sum(
        _write_atomic(path, _file_text(airing, script, campaign_id, title or campaign_id))
        for path, (airing, script) in planned.items()
    )
    log.info("%s: %d broadcast scripts, %d rewritten", campaign_id, len(planned), changed)
    return list(planned)


# --- Jinja ---------------------------------------------------------------------------------


def _environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,  # a misspelt variable must fail, not read as silence
        autoescape=False,  # plain text read aloud, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,  # a tag alone on its line leaves no blank line behind
        lstrip_blocks=True,
    )
    env.filters["in_sentence"] = in_sentence
    env.filters["ordinal_vi"] = ordinal_vi
    return env


@cache
def _default_environment() -> jinja2.Environment:
    return _environment(jinja2.PackageLoader("dispatcher", "templates"))


def _default_template() -> jinja2.Template:
    return _default_environment().get_template(DEFAULT_TEMPLATE)


def _run(template: jinja2.Template, variables: Mapping[str, object]) -> tuple[str, Context]:
    # Render the whole template once, as Template.render does: that runs `{% extends %}`, which
    # registers the parents' blocks in the context, and top-level `{% set %}`s the blocks may
    # use. Template.blocks alone knows neither.
    context = template.new_context(dict(variables))
    return "".join(template.root_render_func(context)), context


def _block(context: Context, name: str) -> str | None:
    chain = context.blocks.get(name)  # the most derived definition first
    return "".join(chain[0](context)) if chain else None


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
        # Jinja marks the modules it compiles templates into with this global.
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


# --- text and files ------------------------------------------------------------------------


def _distinct_names(communes: Sequence[str]) -> list[str]:
    names: dict[str, None] = {}
    for raw in communes:
        name = " ".join(unicodedata.normalize("NFC", raw).split())
        if not name:
            raise BadInput("a commune name is empty")
        names.setdefault(name, None)
    return list(names)


def _reflow(lines: list[str], width: int | None) -> list[str]:
    joined: list[str] = []
    for line in (raw.rstrip() for raw in lines):
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and not previous.endswith(_SENTENCE_END)
            and not _BULLET.match(line)
        ):
            joined[-1] = f"{previous} {line.strip()}"
        else:
            joined.append(line)
    return [wrapped for line in joined for wrapped in _wrap(line, width)]


def _wrap(line: str, width: int | None) -> list[str]:
    if width is None or len(line) <= width:
        return [line]
    bullet = _BULLET.match(line)
    hanging = " " * (bullet.end() if bullet else len(line) - len(line.lstrip()))
    return textwrap.wrap(
        line,
        width=width,
        subsequent_indent=hanging,
        break_long_words=False,  # a hotline number split over two lines gets misread
        break_on_hyphens=False,
    )


def _file_text(airing: Airing, script: str, campaign_id: str, title: str) -> str:
    header = [
        f"Chiến dịch: {title} ({campaign_id})",
        f"Đài truyền thanh: {airing.commune}",
        f"Thời gian phát: {format_datetime_vi(airing.at)}",
        f"Ngày trong tuần: {weekday_vi(airing.at.date())}",
        f"Mã buổi phát: {airing.key}",
        "=" * WRAP_WIDTH,
    ]
    text = "\n".join(header) + "\n\n" + script
    return unicodedata.normalize("NFC", text if text.endswith("\n") else text + "\n")


def _write_atomic(path: Path, text: str) -> bool:
    """Replace ``path`` with ``text`` unless it already holds it; True when written."""
    data = text.encode("utf-8")
    try:
        if path.is_file() and path.read_bytes() == data:
            return False  # unchanged: keep the mtime, so folder-sync tools see no change
        path.parent.mkdir(parents=True, exist_ok=True)
        # Same folder, so os.replace is a rename on one file system; O_EXCL with a random name
        # so two writers never share a temporary file; 0o666 so the umask decides, as for any file.
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())  # the data is on disk before the name points at it
            os.replace(temporary, path)
        except BaseException:
            with suppress(FileNotFoundError):
                temporary.unlink()
            raise
    except OSError as exc:
        raise DispatcherError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return True
