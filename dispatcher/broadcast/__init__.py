"""Loudspeaker broadcasts: the airing calendar, the script read at each airing, the script files.

- :mod:`~dispatcher.broadcast.calendar`: :class:`Airing` and :func:`airings`, who airs when;
- :mod:`~dispatcher.broadcast.templates`: :class:`ScriptTemplate` and :func:`render_script`, the
  Jinja2 script templates and the translation of their errors into ``BadInput``;
- :mod:`~dispatcher.broadcast.layout`: :func:`tidy` and the wording helpers, how a script reads
  on the page;
- :mod:`~dispatcher.broadcast.files`: :func:`write_scripts`, one file per airing on disk.
"""

from dispatcher.broadcast.calendar import Airing, airings
from dispatcher.broadcast.files import commune_slug, script_path, write_scripts
from dispatcher.broadcast.layout import WRAP_WIDTH, in_sentence, ordinal_vi, tidy
from dispatcher.broadcast.templates import (
    BUILTIN_VARIABLES,
    DEFAULT_TEMPLATE,
    PARTS,
    ScriptParts,
    ScriptTemplate,
    render_script,
    script_variables,
)

__all__ = [
    "BUILTIN_VARIABLES",
    "DEFAULT_TEMPLATE",
    "PARTS",
    "WRAP_WIDTH",
    "Airing",
    "ScriptParts",
    "ScriptTemplate",
    "airings",
    "commune_slug",
    "in_sentence",
    "ordinal_vi",
    "render_script",
    "script_path",
    "script_variables",
    "tidy",
    "write_scripts",
]
