"""The language people read: Vietnamese, or English on request, through gettext catalogs.

The source texts are Vietnamese, the users' language and the language of every document: a
message is written in the code as the staff read it. `tracker/locale/en` holds their English;
`tracker/locale/vi` the Vietnamese of the few English source texts (click's own "Usage:",
"Options:", "Error: No such option"). What the command line prints and its help follow the
chosen language (`use`); documents (workbooks, reports, emails to units) are always Vietnamese
(`in_language("vi", ...)`, which is the source text itself).

    from tracker.model.language import _, N_
    ROW = N_("Đã nhận")        # marked for the catalogs, translated where it is shown: _(ROW)
"""
from __future__ import annotations

import gettext
import os
from functools import lru_cache
from pathlib import Path

DOMAIN = "tracker"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("vi", "en")
SOURCE = "vi"
ENV = "TRACKER_LANG"

_current = SOURCE


@lru_cache(maxsize=None)
def translation(lang: str) -> gettext.NullTranslations:
    """The catalog of `lang` (a catalog that changes nothing when there is none)."""
    return gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[lang], fallback=True)


def choose(environ=os.environ) -> str:
    """The language asked for by the environment: $TRACKER_LANG, else $LANG (English when it
    starts with "en"), else Vietnamese."""
    value = environ.get(ENV) or environ.get("LANG") or ""
    return "en" if value.strip().lower().startswith("en") else "vi"


def use(lang: str) -> None:
    """Show texts in `lang` from now on, click's own texts included (click asks gettext's default
    domain, in the language of $LANGUAGE)."""
    global _current
    _current = lang if lang in LANGUAGES else SOURCE
    os.environ["LANGUAGE"] = _current
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)


def current() -> str:
    return _current


def _(text: str) -> str:
    """`text` (Vietnamese source) in the current language."""
    return translation(_current).gettext(text)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translation(_current).ngettext(singular, plural, n)


def in_language(lang: str, text: str) -> str:
    """`text` in a given language, whatever the current one (documents: always "vi")."""
    return translation(lang).gettext(text)


def N_(text: str) -> str:
    """Marks a text for the catalogs where it is declared; it is translated where it is shown."""
    return text
