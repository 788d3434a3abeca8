"""The forms of communication the directive's report counts: a fixed vocabulary.

Each form has a code (for files and scripts), its Vietnamese label as the report prints it, the
unit its number is counted in, and the other ways offices write it. The list follows the
directive's item 5 and the usual report columns (loudspeakers in lượt, web and press articles in
tin bài, Zalo/Facebook posts in bài, banners in chiếc, meetings in buổi, door-to-door visits of
the community digital teams in lượt).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from dispatcher.core.errors import BadInput, Problem
from dispatcher.sms.encoding import fold_vietnamese


@dataclass(frozen=True)
class Form:
    code: str
    label: str  # as in the report
    count_unit: str  # what its number counts
    aliases: tuple[str, ...] = ()


FORMS: tuple[Form, ...] = (
    Form("sms", "Tin nhắn SMS", "tin", ("tin nhắn", "nhắn tin")),
    Form("loudspeaker", "Phát thanh trên loa truyền thanh cơ sở", "lượt",
         ("loa", "loa truyền thanh", "truyền thanh cơ sở", "đài truyền thanh")),
    Form("web", "Tin bài trên cổng/trang thông tin điện tử", "tin bài",
         ("cổng thông tin điện tử", "trang thông tin điện tử", "website", "portal")),
    Form("social", "Mạng xã hội (Zalo, Facebook)", "bài",
         ("mạng xã hội", "zalo", "facebook", "social media")),
    Form("press", "Báo chí, phát thanh, truyền hình", "tin bài",
         ("báo chí", "báo", "phát thanh truyền hình", "truyền hình", "radio", "tv")),
    Form("banner", "Băng rôn, pa-nô, áp phích", "chiếc",
         ("băng rôn", "pa-nô", "pano", "áp phích", "khẩu hiệu", "banners", "posters")),
    Form("leaflet", "Tờ rơi, tờ gấp", "tờ", ("tờ rơi", "tờ gấp", "leaflets")),
    Form("door_to_door", "Tổ công nghệ số cộng đồng đến từng hộ", "lượt",
         ("tổ công nghệ số cộng đồng", "tổ công nghệ số", "đến từng hộ", "door-to-door")),
    Form("meeting", "Hội nghị, họp dân", "buổi", ("hội nghị", "họp dân", "meetings")),
    Form("other", "Hình thức khác", "lượt", ("khác",)),
)  # fmt: skip
_BY_CODE = {form.code: form for form in FORMS}


def _key(text: str) -> str:
    return " ".join(fold_vietnamese(text).casefold().replace("_", " ").replace("-", " ").split())


_BY_KEY = {_key(name): form for form in FORMS for name in (form.code, form.label, *form.aliases)}


def form_by_code(code: str) -> Form:
    """The form of a stored code (KeyError for one that is not in the vocabulary)."""
    return _BY_CODE[code]


def find_form(written: str) -> Form:
    """The form ``written`` names: its code, label or a usual name, with or without tone
    marks, any case. :class:`LookupError` with "did you mean" and the codes otherwise."""
    key = _key(written)
    if key in _BY_KEY:
        return _BY_KEY[key]
    close = difflib.get_close_matches(key, list(_BY_KEY), n=2, cutoff=0.75)
    hint = " or ".join(dict.fromkeys(_BY_KEY[c].code for c in close))
    codes = ", ".join(_BY_CODE)
    maybe = f"did you mean {hint}? " if hint else ""
    message = f"'{written}' is not a form of communication ({maybe}forms: {codes})"
    raise LookupError(message)


def form_option(written: str) -> Form:
    """:func:`find_form` for a ``--form`` option: :class:`BadInput` naming it otherwise."""
    try:
        return find_form(written)
    except LookupError as exc:
        raise BadInput(Problem(str(exc.args[0]), field="--form")) from exc
