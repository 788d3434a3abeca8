"""Loudspeaker broadcasts: the airing calendar, the script read at each airing, the script files.

- :mod:`~dispatcher.broadcast.calendar`: :class:`Airing`, :class:`Commune` and :func:`airings`,
  who airs when (a commune only on the days it exists);
- :mod:`~dispatcher.broadcast.templates`: :class:`ScriptTemplate` and :func:`render_script`, the
  Jinja2 script templates and the translation of their errors into ``BadInput``;
- :mod:`~dispatcher.broadcast.layout`: :func:`tidy` and the wording helpers, how a script reads
  on the page;
- :mod:`~dispatcher.broadcast.files`: :func:`airing_stem` and :func:`write_scripts`, the files
  of each airing on disk (text, spoken form, printable .docx);
- :mod:`~dispatcher.broadcast.document`: :func:`script_docx`, the printable script.
"""

from dispatcher.broadcast.calendar import Airing, Commune, airings, clean_name
from dispatcher.broadcast.document import script_docx
from dispatcher.broadcast.files import (
    DOCX_SUFFIX,
    FORMATS,
    SPOKEN_SUFFIX,
    TEXT_SUFFIX,
    ScriptText,
    airing_stem,
    commune_slug,
    header_fields,
    script_path,
    with_suffix,
    write_scripts,
)
from dispatcher.broadcast.layout import WRAP_WIDTH, duration_vi, in_sentence, ordinal_vi, tidy
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
    "DOCX_SUFFIX",
    "FORMATS",
    "PARTS",
    "SPOKEN_SUFFIX",
    "TEXT_SUFFIX",
    "WRAP_WIDTH",
    "Airing",
    "Commune",
    "ScriptParts",
    "ScriptTemplate",
    "ScriptText",
    "airing_stem",
    "airings",
    "clean_name",
    "commune_slug",
    "duration_vi",
    "header_fields",
    "in_sentence",
    "ordinal_vi",
    "render_script",
    "script_docx",
    "script_path",
    "script_variables",
    "tidy",
    "with_suffix",
    "write_scripts",
]
