"""The gettext catalogs of tracker: extract, update, compile, check (Babel; the runtime needs only
the stdlib's gettext).

Two catalogs in tracker/locale, domain "tracker":
  en  the English of tracker's texts, written in Vietnamese in the code (`_()`, `N_()`, `ngettext()`)
  vi  the Vietnamese of click's own texts ("Usage:", "Options:", "Error: No such option"), extracted
      from the installed click's source: click asks gettext's default domain, which tracker sets.

    python tools/catalogs.py            extract, merge into the .po files (translations kept), compile the .mo
    python tools/catalogs.py --check    exit 1 if a text lacks a translation or a .mo is not its .po compiled

After adding or changing a text: run it, fill the new msgstr in the .po, run it again, commit
the .po and .mo files.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "tracker" / "locale"
DOMAIN = "tracker"
# A fixed date in the headers: catalogs change only when their texts do.
STAMP = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
TRACKER_KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
CLICK_KEYWORDS = {"_": None, "ngettext": (1, 2)}


def _extract(folder: Path, keywords: dict, relative_to: Path) -> Catalog:
    catalog = Catalog(domain=DOMAIN, project="tracker", creation_date=STAMP, revision_date=STAMP)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(folder), method_map=[("**/locale/**", "ignore"), ("**.py", "python")], keywords=keywords):
        where = (folder / filename).relative_to(relative_to).as_posix()
        catalog.add(message, locations=[(where, None)], auto_comments=comments, context=context)
    return catalog


def tracker_template() -> Catalog:
    return _extract(ROOT / "tracker", TRACKER_KEYWORDS, ROOT)


def click_template() -> Catalog:
    import click

    folder = Path(click.__file__).resolve().parent
    return _extract(folder, CLICK_KEYWORDS, folder.parent)


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def templates() -> dict[str, Catalog]:
    return {"en": tracker_template(), "vi": click_template()}


def read(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN, project="tracker", creation_date=STAMP, revision_date=STAMP)
    with open(path, "rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def po_bytes(catalog: Catalog) -> bytes:
    catalog.creation_date = catalog.revision_date = STAMP
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, sort_output=True, include_lineno=False, omit_header=False,
             ignore_obsolete=True)
    return buf.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


def update() -> None:
    for lang, template in templates().items():
        catalog = read(lang)
        catalog.update(template, no_fuzzy_matching=True)
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(po_bytes(catalog))
        path.with_suffix(".mo").write_bytes(mo_bytes(read(lang)))
        print(f"{path.relative_to(ROOT)}: {sum(1 for m in catalog if m.id)} texts, "
              f"{sum(1 for m in catalog if m.id and not _translated(m))} without a translation")


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return not message.fuzzy and all(strings)


def problems(click_too: bool = True) -> list[str]:
    """What keeps the committed catalogs from being up to date with the code. Without `click_too`,
    texts of the installed click missing from the vi catalog are let pass (another click version)."""
    out = []
    for lang, template in templates().items():
        path = po_path(lang)
        if not path.exists():
            out.append(f"{path.relative_to(ROOT)} is missing")
            continue
        catalog = read(lang)
        missing = [m.id for m in template if m.id and m.id not in catalog]
        if lang == "en" or click_too:
            out += [f"{lang}: not in the catalog: {m!r}" for m in missing]
        out += [f"{lang}: no translation: {m.id!r}" for m in catalog if m.id and not _translated(m)]
        mo = path.with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != mo_bytes(catalog):
            out.append(f"{mo.relative_to(ROOT)} is not {path.name} compiled")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only check; change nothing")
    args = ap.parse_args(argv)
    if args.check:
        found = problems()
        for p in found:
            print(p)
        return 1 if found else 0
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
