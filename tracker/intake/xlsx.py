"""A small, strict reader of the parts of an .xlsx that intake needs.

zipfile + defusedxml (no DTDs, no entities) and nothing else: sheet list, defined names, shared
strings, and the cells of the sheets asked for, with their type and whether they hold a formula.
It is the hot path of merge (openpyxl's full load is many times slower on our forms) and it
never evaluates anything. Every member is read through a size limit.
"""
from __future__ import annotations

import functools
import posixpath
import re
import zipfile
from typing import NamedTuple

from xml.etree import ElementTree as _FastET

from defusedxml import ElementTree as SafeET

from tracker.model.findings import Finding, IntakeError
from tracker.intake.safety import read_member

MEMBER_LIMIT = 50 * 1024 * 1024
MAX_ROW, MAX_COL = 1_048_576, 16_384          # Excel's limits
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})$")
_NAME_TARGET = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Z]{1,3}\$?\d{1,7})$")


# Cell types that hold nothing when the cell has no child (no <v>, <f> or <is>).
_NO_VALUE_WHEN_EMPTY = frozenset(("n", "s", "inlineStr"))


class Cell(NamedTuple):     # a tuple: a form has hundreds of cells, built in the hot loop of merge
    value: object          # str | float | int | bool | None
    kind: str              # "s" text, "n" number, "b" bool, "e" error, "d" date text, "" empty
    formula: str | None    # formula text when the cell holds one


@functools.lru_cache(maxsize=4096)
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def col_letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


@functools.lru_cache(maxsize=1 << 16)     # the same few hundred references in every return
def split_ref(ref: str) -> tuple[int, int]:
    m = _REF.match(ref.replace("$", "") if "$" in ref else ref)
    if not m:
        raise ValueError(ref)
    return int(m[2]), col_index(m[1])


class XlsxBook:
    """An opened return. Use as a context manager."""

    def __init__(self, path, display_name: str, zf: zipfile.ZipFile | None = None):
        """`zf`: the file already opened (and checked) by `safety.open_checked`; closed with the book."""
        self.name = display_name
        try:
            self.zf = zf if zf is not None else zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            raise IntakeError(Finding("bad_zip", file=display_name, value=str(e))) from None
        self._members = {n.lower(): n for n in self.zf.namelist()}
        self.sheets: list[dict] = []          # name, path, state
        self.defined: dict[str, str] = {}     # upper-case name -> formula text
        self._sst: list[str] | None = None
        self._cells: dict[str, dict[str, Cell]] = {}
        self._load_workbook()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zf.close()

    # ------------------------------------------------------------------ parts
    def _read(self, member: str) -> bytes | None:
        real = self._members.get(member.lower())
        if real is None:
            return None
        return read_member(self.zf, real, MEMBER_LIMIT, self.name)

    def _xml(self, member: str):
        data = self._read(member)
        if data is None:
            return None
        try:
            return _fromstring(data)
        except SafeET.ParseError as e:
            raise self._damaged("part_unreadable", value=str(e), part=member) from None
        except Exception as e:  # defusedxml's refusals: DTDs, entities, external references
            raise IntakeError(Finding("xml_unsafe", file=self.name, value=type(e).__name__)) from None

    def _damaged(self, problem: str, sheet: str = "", cell: str = "", value: str = "", **params) -> IntakeError:
        """`problem`: which damage (the variants of "damaged" in tracker.model.findings)."""
        return IntakeError(Finding("damaged", file=self.name, sheet=sheet, cell=cell, value=value, problem=problem,
                                   **params))

    def _load_workbook(self) -> None:
        wb = self._xml("xl/workbook.xml")
        if wb is None:
            raise IntakeError(Finding("not_workbook", file=self.name))
        rels = {}
        rel_root = self._xml("xl/_rels/workbook.xml.rels")
        if rel_root is not None:
            for rel in rel_root:
                target = rel.get("Target", "")
                target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
                rels[rel.get("Id")] = (target, rel.get("Type", ""))
        self._sst_path = next((t for t, typ in rels.values() if typ.endswith("/sharedStrings")), "xl/sharedStrings.xml")
        for el in wb.iter():
            tag = _local(el.tag)
            if tag == "sheet":
                rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
                target = rels.get(rid, ("", ""))[0]
                self.sheets.append({"name": el.get("name", ""), "path": target,
                                    "state": el.get("state", "visible")})
            elif tag == "definedName" and el.get("name"):
                if el.get("localSheetId") is None:
                    self.defined[el.get("name").upper()] = (el.text or "").strip()

    @property
    def sheet_names(self) -> list[str]:
        return [s["name"] for s in self.sheets]

    def sheet_size(self, sheet_name: str) -> int:
        """Declared uncompressed size of a sheet's part (0 when unknown): a cost estimate, no reading."""
        sheet = next((s for s in self.sheets if s["name"] == sheet_name), None)
        real = self._members.get(sheet["path"].lower()) if sheet else None
        return self.zf.getinfo(real).file_size if real else 0

    def parsed(self, sheet_name: str) -> bool:
        return sheet_name in self._cells

    def may_hold_strings(self, sheet_name: str, wanted) -> bool:
        """Cheap pre-check before parsing a sheet: False only when the sheet cannot hold any text `wanted`
        accepts (a predicate on shared strings): it has no inline or formula strings and refers to none
        of the matching shared strings."""
        sheet = next((s for s in self.sheets if s["name"] == sheet_name), None)
        data = self._read(sheet["path"]) if sheet else None
        if data is None:
            return True
        if b'"inlineStr"' in data or b't="str"' in data or b"t='" in data:
            return True
        hits = [i for i, text in enumerate(self.shared_strings()) if wanted(text)]
        return any(re.search(rb"<v>\s*%d\s*</v>" % i, data) for i in hits)

    def has_member(self, name: str) -> bool:
        return name.lower() in self._members

    def shared_strings(self) -> list[str]:
        if self._sst is None:
            self._sst = []
            data = self._read(self._sst_path)
            if data is not None:
                root = self._parse_bytes(data, self._sst_path)
                ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
                t_tag, append = ns + "t", self._sst.append
                for si in root:
                    if _local(si.tag) != "si":
                        continue
                    if len(si) == 1 and si[0].tag == t_tag and not len(si[0]):    # plain text: most strings
                        append(si[0].text or "")
                        continue
                    append("".join(t.text or "" for t in si.iter()
                                   if _local(t.tag) == "t" and not _in_phonetic(si, t)))
        return self._sst

    def _parse_bytes(self, data: bytes, member: str):
        try:
            return _fromstring(data)
        except SafeET.ParseError as e:
            raise self._damaged("part_unreadable", value=str(e), part=member) from None
        except Exception as e:
            raise IntakeError(Finding("xml_unsafe", file=self.name, value=type(e).__name__)) from None

    # ------------------------------------------------------------------ cells
    def cells(self, sheet_name: str) -> dict[str, Cell]:
        """Every non-empty cell of a sheet, by reference ("E30")."""
        if sheet_name in self._cells:
            return self._cells[sheet_name]
        sheet = next((s for s in self.sheets if s["name"] == sheet_name), None)
        if sheet is None:
            raise KeyError(sheet_name)
        data = self._read(sheet["path"])
        if data is None:
            raise self._damaged("sheet_missing", sheet_name)
        root = self._parse_bytes(data, sheet["path"])
        sst = None
        out: dict[str, Cell] = {}
        seen: set[str] = set()
        row_no = 0
        # Rows and cells are in the worksheet's own namespace (transitional or strict): filter in C.
        ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        cell_tag, v_tag, f_tag, is_tag = ns + "c", ns + "v", ns + "f", ns + "is"
        for row in root.iter(ns + "row"):
            given = row.get("r")
            if given is None:
                row_no += 1
            elif given.isdigit() and 0 < int(given) <= MAX_ROW:
                row_no = int(given)
            else:
                raise self._damaged("bad_row", sheet_name, value=given[:20])
            col_no = 0
            for c in row:
                if c.tag != cell_tag:
                    continue
                ref = c.get("r")
                if ref is None:       # references are optional: the next column
                    col_no += 1
                    ref = f"{col_letters(col_no)}{row_no}"
                else:                 # but when given, they must be right: a cell is never moved by guessing
                    try:
                        at_row, col_no = split_ref(ref)
                    except ValueError:
                        at_row = None
                    if at_row != row_no or not 0 < col_no <= MAX_COL:
                        raise self._damaged("bad_ref", sheet_name, value=ref[:20], row=row_no)
                if ref in seen:     # two values for one cell: which one is meant cannot be told
                    raise self._damaged("cell_twice", sheet_name, ref)
                seen.add(ref)
                t = c.get("t", "n")
                parts = len(c)
                if not parts:
                    if t in _NO_VALUE_WHEN_EMPTY:      # a styled blank cell: most of a form
                        continue
                elif parts == 1 and t == "s" and c[0].tag == v_tag:    # a shared string: most of the rest
                    if sst is None:
                        sst = self.shared_strings()
                    raw = c[0].text
                    index = int(raw) if (raw or "").strip().isdigit() else -1   # never counted from the end
                    if not 0 <= index < len(sst):
                        raise self._damaged("no_string", sheet_name, ref)
                    out[ref] = Cell(sst[index], "s", None)
                    continue
                formula, raw, inline, has_v = None, None, None, False
                seen_parts = set()
                for part in c:
                    tag = part.tag
                    tag = "v" if tag == v_tag else "f" if tag == f_tag else "is" if tag == is_tag else _local(tag)
                    if tag in seen_parts and tag in ("f", "v", "is"):
                        # two values for one cell (fuzzing found it): which is meant cannot be told
                        raise self._damaged("two_values", sheet_name, ref)
                    seen_parts.add(tag)
                    if tag == "f":
                        formula = part.text or ""
                    elif tag == "v":
                        raw, has_v = part.text, True
                    elif tag == "is":
                        inline = "".join(x.text or "" for x in part.iter() if _local(x.tag) == "t")
                value, kind = None, ""
                if t == "s":
                    if has_v:
                        if sst is None:
                            sst = self.shared_strings()
                        index = int(raw) if (raw or "").strip().isdigit() else -1
                        if not 0 <= index < len(sst):
                            raise self._damaged("no_string", sheet_name, ref)
                        value, kind = sst[index], "s"
                elif t == "inlineStr":
                    if inline is not None:
                        value, kind = inline, "s"
                    elif has_v:
                        raise self._damaged("no_text", sheet_name, ref)
                elif t == "str":
                    value, kind = raw or "", "s"
                elif t == "b":
                    value, kind = raw == "1", "b"
                elif t == "e":
                    value, kind = raw or "#ERR", "e"
                elif t == "d":
                    value, kind = raw or "", "d"
                elif t == "n":
                    if raw is not None:
                        try:
                            f = float(raw)
                        except ValueError:
                            raise self._damaged("bad_number", sheet_name, ref, value=raw[:20]) from None
                        value, kind = (int(f) if f.is_integer() else f), "n"
                else:
                    raise self._damaged("bad_type", sheet_name, ref, value=t[:10])
                if value is None and formula is None:
                    continue
                out[ref] = Cell(value, kind, formula)
        self._cells[sheet_name] = out
        return out

    # ------------------------------------------------------------------ names
    def resolve(self, name: str) -> tuple[str, str] | None:
        """(sheet, cell) a workbook-level defined name points to, or None (missing or #REF!)."""
        text = self.defined.get(name.upper())
        if not text:
            return None
        text = text.lstrip("=")
        m = _NAME_TARGET.match(text)
        if not m:
            return None
        sheet = (m[1] or "").replace("''", "'") or m[2]
        if sheet not in self.sheet_names:
            return None
        return sheet, m[3].replace("$", "")

    def named_cell(self, name: str) -> tuple[str, str, Cell | None] | None:
        where = self.resolve(name)
        if where is None:
            return None
        sheet, ref = where
        return sheet, ref, self.cells(sheet).get(ref)


def _in_phonetic(si, t) -> bool:
    for child in si:
        if _local(child.tag) == "rPh" and any(x is t for x in child.iter()):
            return True
    return False


_DECLARATION = re.compile(rb"<!\s*(doctype|entity)", re.I)


def _fromstring(data: bytes):
    """Parse a part safely and fast.

    A document type declaration is the only way to declare entities (XML bombs, external entities),
    so a part without one, in UTF-8, is parsed by the C parser; anything else goes through
    defusedxml, which refuses entity declarations. (defusedxml's parser is the pure-Python one:
    about three times slower on every return, for a check that one byte search does here.)"""
    head = data[:4]
    utf8 = not (head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head)
    if utf8 and not _DECLARATION.search(data):
        return _FastET.fromstring(data)
    return SafeET.fromstring(data)
