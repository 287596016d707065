"""A small, strict reader of the parts of an .xlsx that intake needs.

zipfile + defusedxml (no DTDs, no entities) and nothing else: sheet list, defined names, shared
strings, and the cells of the sheets asked for, with their type and whether they hold a formula.
It is the hot path of merge (openpyxl's full load is many times slower on our forms) and it
never evaluates anything. Every member is read through a size limit.

It reads what Excel reads, and says what Excel does not show:
- parts are found the way Excel finds them: the package's relationships name the workbook part,
  the workbook's relationships its sheets, shared strings and styles; a package that names two
  (or no) workbooks, or two members that are one part to a reader (`safety.part_key`), is refused;
- text is what the cell displays: the runs of a rich or inline string, never its phonetic guide,
  its _xHHHH_ escapes decoded;
- `hidden(sheet, ref, cell)` tells why a person does not see a cell's content (hidden sheet or
  window, hidden, zero-height or collapsed row, hidden or zero-width column, a merged range covering
  it, a number format that prints something else, letters (or a run of them) the colour of the
  fill, too small to read or marked hidden), from what the parse of the sheet and the styles
  already gave: no second parse.
"""
from __future__ import annotations

import functools
import posixpath
import re
import zipfile
from typing import NamedTuple

from xml.etree import ElementTree as _FastET

from defusedxml import ElementTree as SafeET

from tracker.intake import display
from tracker.model.findings import Finding, IntakeError
from tracker.model.text import excel_unescape
from tracker.intake.safety import part_key, read_member

MEMBER_LIMIT = 50 * 1024 * 1024
MAX_ROW, MAX_COL = 1_048_576, 16_384          # Excel's limits
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})$")
_NAME_TARGET = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Z]{1,3}\$?\d{1,7})$")
MIN_ROW_PT = 2.0          # a row lower than this shows no letter (Excel hides a row by its height 0)
MIN_COL_CHARS = 0.5       # nor a column narrower than this, in characters
_TRUE = frozenset(("1", "true"))
# What a part must declare itself in [Content_Types].xml for Excel to open it (the ends of the types).
_WORKBOOK_TYPES = ("spreadsheetml.sheet.main+xml", "spreadsheetml.template.main+xml",
                   "ms-excel.sheet.macroEnabled.main+xml", "ms-excel.template.macroEnabled.main+xml")
_SHEET_TYPES = ("spreadsheetml.worksheet+xml", "spreadsheetml.chartsheet+xml", "spreadsheetml.dialogsheet+xml",
                "ms-excel.macrosheet+xml", "ms-excel.intlmacrosheet+xml")
_PART_TYPES = {"/sharedStrings": ("spreadsheetml.sharedStrings+xml",), "/styles": ("spreadsheetml.styles+xml",),
               "/theme": ("officedocument.theme+xml",)}
_HIDDEN_STATES = frozenset(("hidden", "veryHidden"))


# Cell types that hold nothing when the cell has no child (no <v>, <f> or <is>).
_NO_VALUE_WHEN_EMPTY = frozenset(("n", "s", "inlineStr"))


class Cell(NamedTuple):     # a tuple: a form has hundreds of cells, built in the hot loop of merge
    value: object          # str | float | int | bool | None
    kind: str              # "s" text, "n" number, "b" bool, "e" error, "d" date text, "" empty
    formula: str | None    # formula text when the cell holds one
    style: str | None = None   # its style (an index into the styles' cellXfs), as written


class _Layout:
    """What hides rows and columns of a sheet (filled in while its cells are parsed)."""
    __slots__ = ("hidden_rows", "rows_hidden", "sized_rows", "hidden_cols", "cols_hidden", "sized_cols", "cf",
                 "merges", "_covered")

    def __init__(self):
        self.hidden_rows: set[int] = set()
        self.rows_hidden = False        # rows are hidden unless given a height (zeroHeight, default height 0)
        self.sized_rows: set[int] = set()
        self.hidden_cols: list[tuple[int, int]] = []
        self.cols_hidden = False        # columns are hidden unless given a width (default width 0)
        self.sized_cols: list[tuple[int, int]] = []
        self.cf: list[tuple[str, list[int], list]] = []   # conditional formats: ranges, dxf ids, scale colours
        self.merges: list[str] = []     # merged ranges, as written ("A1:F1")
        self._covered: dict[int, list[tuple[int, int, int]]] | None = None

    def row_hidden(self, row: int) -> bool:
        return row in self.hidden_rows or (self.rows_hidden and row not in self.sized_rows)

    def col_hidden(self, col: int) -> bool:
        return _within(self.hidden_cols, col) or (self.cols_hidden and not _within(self.sized_cols, col))

    def covered(self, row: int, col: int) -> bool:
        """Whether a merged range covers the cell without starting at it: only its first cell shows."""
        if self._covered is None:
            self._covered = _merged_rows(tuple(self.merges))
        return any(c1 <= col <= c2 and (row, col) != (r1, c1) for c1, c2, r1 in self._covered.get(row, ()))


@functools.lru_cache(maxsize=256)      # returns of one layout share their merged ranges
def _merged_rows(merges: tuple[str, ...]) -> dict[int, list[tuple[int, int, int]]]:
    """Row -> (first column, last column, first row) of the merged ranges crossing it."""
    out: dict[int, list[tuple[int, int, int]]] = {}
    for ref in merges:
        a, _, b = ref.partition(":")
        try:
            (r1, c1), (r2, c2) = split_ref(a), split_ref(b or a)
        except ValueError:
            continue
        top, bottom = min(r1, r2), max(r1, r2)
        for r in range(top, min(bottom, top + 1000) + 1):      # bounded: a huge range is not a form's
            out.setdefault(r, []).append((min(c1, c2), max(c1, c2), top))
    return out


def _within(spans: list[tuple[int, int]], n: int) -> bool:
    return any(lo <= n <= hi for lo, hi in spans)


def _below(text: str | None, limit: float) -> bool:
    if text is None:
        return False
    try:
        return float(text) < limit
    except ValueError:
        return False


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
        names = self.zf.namelist()
        self._members = {part_key(n): n for n in names}
        if len(self._members) != len(names):      # safety.open_checked refuses these first; a path given here
            self.zf.close()
            raise IntakeError(Finding("duplicate_member", file=display_name, value=_twin(names)))
        self.sheets: list[dict] = []          # name, path, state
        self.defined: dict[str, str] = {}     # upper-case name -> formula text
        self.window_hidden = False            # the workbook's window is hidden (View > Hide)
        self._sst: list[str] | None = None
        self._sst_path = self._styles_path = self._theme_path = ""
        self._cells: dict[str, dict[str, Cell]] = {}
        self._layouts: dict[str, _Layout] = {}
        self._styles: _Styles | None = None
        self._colours: display.Colours | None = None
        self._theme: list[int] | None = None
        self._letters: dict = {}
        self._twice: set[str] = set()       # workbook-level names defined more than once
        self._states: dict[str, str] = {}
        self._load_workbook()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zf.close()

    # ------------------------------------------------------------------ parts
    def _read(self, member: str) -> bytes | None:
        real = self._members.get(part_key(member)) if member else None
        if real is None:
            return None
        return read_member(self.zf, real, MEMBER_LIMIT, self.name)

    def _xml(self, member: str):
        data = self._read(member)
        if data is None:
            return None
        return self._parse_bytes(data, member)

    def _damaged(self, problem: str, sheet: str = "", cell: str = "", value: str = "", **params) -> IntakeError:
        """`problem`: which damage (the variants of "damaged" in tracker.model.findings)."""
        return IntakeError(Finding("damaged", file=self.name, sheet=sheet, cell=cell, value=value, problem=problem,
                                   **params))

    def _relations(self, part: str) -> list[tuple[str, str, str]]:
        """(id, type, target part) of a part's relationships (the package's for ""), as Excel resolves
        them: relative to the part's folder; external targets left out."""
        folder, base = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", base + ".rels")
        data = self._read(rels_part)
        if data is None:
            return []
        got = _RELS_SEEN.get((data, folder))      # returns of one template share these parts
        if got is not None:
            return got
        out = []
        for rel in self._parse_bytes(data, rels_part):
            if _local(rel.tag) != "Relationship" or rel.get("TargetMode", "Internal") != "Internal":
                continue
            target = rel.get("Target", "")
            if target.startswith("/"):
                target = target[1:]
            elif target:
                target = posixpath.normpath(posixpath.join(folder, target))
                if target.startswith(".."):     # outside the package: nothing there
                    target = ""
            out.append((rel.get("Id") or "", rel.get("Type", ""), target))
        if len(_RELS_SEEN) >= 256:
            _RELS_SEEN.clear()
        _RELS_SEEN[(data, folder)] = out
        return out

    def _one(self, rels, kind: str, owner: str) -> str:
        """The one part of a kind (by relationship type) a part relates to ("" for none); two are refused:
        which one Excel would read cannot be told."""
        found = [t for _, typ, t in rels if typ.endswith(kind)]
        if len(found) > 1:
            raise self._damaged("two_parts", value=str(len(found)), part=owner)
        return found[0] if found else ""

    def _load_workbook(self) -> None:
        # The package's relationships name the workbook part: the one Excel opens, wherever it is.
        package = self._relations("")
        if not package and self._read("_rels/.rels") is None:
            raise IntakeError(Finding("not_workbook", file=self.name))
        book_path = self._one(package, "/officeDocument", "_rels/.rels")
        wb = self._xml(book_path) if book_path else None
        if wb is None:
            raise IntakeError(Finding("not_workbook", file=self.name))
        known = getattr(self.zf, "content_types", None)     # read by safety.open_checked
        types = _content_types(known if known else self._read("[Content_Types].xml"), self)
        self._typed(types, book_path, _WORKBOOK_TYPES)
        rels = self._relations(book_path)
        by_id = {rid: (target, typ) for rid, typ, target in rels}
        self._sst_path = self._one(rels, "/sharedStrings", book_path)
        self._styles_path = self._one(rels, "/styles", book_path)
        self._theme_path = self._one(rels, "/theme", book_path)
        for path, kind in ((self._sst_path, "/sharedStrings"), (self._styles_path, "/styles"),
                           (self._theme_path, "/theme")):
            if path and self.has_member(path):
                self._typed(types, path, _PART_TYPES[kind])
        seen_sheets: set[str] = set()
        views = []
        for el in wb.iter():
            tag = _local(el.tag)
            if tag == "sheet":
                rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
                name = el.get("name", "")
                if name.casefold() in seen_sheets:      # Excel's sheet names ignore case: two would be one
                    raise self._damaged("sheet_twice", name)
                seen_sheets.add(name.casefold())
                path = by_id.get(rid, ("", ""))[0]
                if path and self.has_member(path):
                    self._typed(types, path, _SHEET_TYPES)
                self.sheets.append({"name": name, "path": path, "state": el.get("state", "visible")})
                self._states[name] = el.get("state", "visible")
            elif tag == "definedName" and el.get("name"):
                if el.get("localSheetId") is None:
                    key = el.get("name").upper()
                    if key in self.defined:             # which of the two Excel uses cannot be told
                        self._twice.add(key)
                    self.defined[key] = (el.text or "").strip()
            elif tag == "workbookView":
                views.append(el.get("visibility", "visible"))
        self.window_hidden = bool(views) and all(v in _HIDDEN_STATES for v in views)

    def _typed(self, types: tuple[dict, dict], part: str, allowed: tuple[str, ...]) -> None:
        """Refuse a part whose declared content type Excel would not open it as (it reports the file
        damaged; LibreOffice does not open it either)."""
        defaults, overrides = types
        key = part_key(part)
        declared = overrides.get(key)
        if declared is None:
            declared = defaults.get(key.rsplit(".", 1)[-1] if "." in key.rsplit("/", 1)[-1] else "", "")
        if not (declared.startswith("application/vnd.") and declared.endswith(allowed)):
            raise self._damaged("content_type", value=declared[:120], part=part)

    @property
    def sheet_names(self) -> list[str]:
        return [s["name"] for s in self.sheets]

    def sheet_size(self, sheet_name: str) -> int:
        """Declared uncompressed size of a sheet's part (0 when unknown): a cost estimate, no reading."""
        sheet = next((s for s in self.sheets if s["name"] == sheet_name), None)
        real = self._members.get(part_key(sheet["path"])) if sheet and sheet["path"] else None
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
        return part_key(name) in self._members

    def shared_strings(self) -> list[str]:
        if self._sst is None:
            self._sst = []
            data = self._read(self._sst_path)
            if data is not None:
                root = self._parse_bytes(data, self._sst_path)
                ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
                si_tag, t_tag, r_tag, append = ns + "si", ns + "t", ns + "r", self._sst.append
                for si in root:
                    if si.tag != si_tag:
                        continue
                    if len(si) == 1 and si[0].tag == t_tag and not len(si[0]):    # plain text: most strings
                        append(excel_unescape(si[0].text or ""))
                    else:
                        append(_shown_text(si, t_tag, r_tag))
        return self._sst

    def _parse_bytes(self, data: bytes, member: str):
        try:
            return _fromstring(data)
        except SafeET.ParseError as e:
            raise self._damaged("part_unreadable", value=str(e), part=member) from None
        except Exception as e:  # defusedxml's refusals: DTDs, entities, external references
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
        t_tag, r_tag = ns + "t", ns + "r"
        layout = self._layouts[sheet_name] = _sheet_layout(root, ns)
        hidden_rows, sized_rows, rows_hidden = layout.hidden_rows, layout.sized_rows, layout.rows_hidden
        levels: dict[int, int] = {}               # outline level of grouped rows
        collapsed: list[tuple[int, int]] = []     # rows whose group is collapsed, with their own level
        for row in root.iter(ns + "row"):
            given = row.get("r")
            if given is None:
                row_no += 1
            elif given.isdigit() and 0 < int(given) <= MAX_ROW:
                row_no = int(given)
            else:
                raise self._damaged("bad_row", sheet_name, value=given[:20])
            # Whether a person sees the row: hidden, no height (Excel: ht 0, or a custom height without
            # one), or inside a collapsed group. Cheap: a few attribute reads per row.
            ht = row.get("ht")
            if row.get("hidden") in _TRUE:
                hidden_rows.add(row_no)
            elif ht is not None:
                try:
                    low = float(ht) < MIN_ROW_PT
                except ValueError:
                    low = False
                if low:
                    hidden_rows.add(row_no)
                elif rows_hidden:
                    sized_rows.add(row_no)
            elif row.get("customHeight") in _TRUE:
                hidden_rows.add(row_no)
            level = row.get("outlineLevel")
            if level is not None and level != "0" and level.isdigit():
                levels[row_no] = int(level)
            if row.get("collapsed") in _TRUE:
                collapsed.append((row_no, levels.get(row_no, 0)))
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
                    out[ref] = Cell(sst[index], "s", None, c.get("s"))
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
                    elif tag == "is":      # the text shown: its runs, never a phonetic guide (<rPh>)
                        inline = _shown_text(part, t_tag, r_tag)
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
                    value, kind = excel_unescape(raw or ""), "s"
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
                out[ref] = Cell(value, kind, formula, c.get("s"))
        for at, level in collapsed:      # a collapsed group hides the rows of deeper levels beside it
            for step in (-1, 1):
                r = at + step
                while levels.get(r, 0) > level:
                    hidden_rows.add(r)
                    r += step
        self._cells[sheet_name] = out
        return out

    # ------------------------------------------------------------------ what a person sees
    def hidden(self, sheet_name: str, ref: str, cell: Cell | None) -> str | None:
        """Why a person does not see what a cell holds ("window", "sheet", "row", "column", "merged",
        "format", "colour", "font", "part": a run of its text), or None when it shows. An empty cell
        shows nothing to hide."""
        if cell is None:
            return None
        if self.window_hidden:
            return "window"
        if self._states.get(sheet_name, "hidden") in _HIDDEN_STATES:
            return "sheet"
        layout = self._layouts.get(sheet_name)
        if layout is None:
            self.cells(sheet_name)
            layout = self._layouts[sheet_name]
        row, col = split_ref(ref)
        if layout.row_hidden(row):
            return "row"
        if layout.col_hidden(col):
            return "column"
        if layout.merges and layout.covered(row, col):
            return "merged"
        return self._look(layout, row, col, cell)

    def _look(self, layout: _Layout, row: int, col: int, cell: Cell) -> str | None:
        """Whether the cell's style hides its content: its format, the colour or size of its letters."""
        styles = self._style_table()
        xf = styles.xf(cell.style)
        code = styles.formats.get(xf[0])
        if code is not None:
            if cell.kind == "s" and display.format_changes(code, cell.value):
                return "format"
            if cell.kind == "n" and display.number_hidden(code, cell.value):
                return "format"
        key = (cell.style, cell.kind == "s")
        letters = self._letters.get(key)          # the same for every cell of a style: worked out once
        if letters is None:
            # and for every return sharing the style sheet, unless a theme colour (the book's) is in it
            letters = styles.letters.get(key)
            if letters is None:
                letters = self._letters_of(styles, xf, code if key[1] else None)
                if not _themed(styles, xf):
                    styles.letters[key] = letters
            self._letters[key] = letters
        why, font, background = letters
        if why is not None:
            return why
        if type(cell.value) is RichText:      # a run in the fill's colour, too small, or hidden (<vanish/>)
            colours = self._colour_table()
            for _, spec, size, vanish in cell.value.runs:
                if vanish or (size is not None and size < display.MIN_FONT_PT) \
                        or display.unreadable(colours.rgb(spec, font) if spec is not None else font, background):
                    return "part"
        if not layout.cf:
            return None
        colours = self._colour_table()
        for ranges, dxf_ids, scale in layout.cf:      # conditions not evaluated: what a rule could do, it does
            if not _covers(ranges, row, col):
                continue
            for i in dxf_ids:
                dxf_font, dxf_fill, dxf_code = styles.dxf(i)
                if cell.kind == "s" and dxf_code is not None and display.format_changes(dxf_code, cell.value):
                    return "format"
                f = colours.rgb(dxf_font, display.BLACK) if dxf_font is not None else font
                b = colours.rgb(dxf_fill, display.WHITE) if dxf_fill is not None else background
                if display.unreadable(f, b):
                    return "colour"
            if any(display.unreadable(font, colours.rgb(spec, display.WHITE)) for spec in scale):
                return "colour"
        return None

    def _letters_of(self, styles: _Styles, xf: tuple[int, int, int], text_code: str | None):
        """(why a style's letters cannot be read or None, their colour, the background's)."""
        font_spec, size = styles.font(xf[1])
        colours = self._colour_table()
        tag = display.shown_text(text_code, "")[1] if text_code else None     # a format's [Colour]
        font = (tag >> 16 & 255, tag >> 8 & 255, tag & 255) if tag is not None \
            else colours.rgb(font_spec, display.BLACK)
        fill = styles.fill(xf[2])
        background = colours.rgb(fill, display.WHITE) if fill is not _UNKNOWN else None
        if size is not None and size < display.MIN_FONT_PT:
            return "font", font, background
        return ("colour" if display.unreadable(font, background) else None), font, background

    def _style_table(self) -> _Styles:
        if self._styles is None:
            data = self._read(self._styles_path)
            self._styles = _styles_from(data, self) if data is not None else _Styles.EMPTY
        return self._styles

    def _colour_table(self) -> display.Colours:
        if self._colours is None:
            self._colours = display.Colours(self._style_table().palette, self._theme_colours)
        return self._colours

    def _theme_colours(self) -> list[int]:
        """The theme's colours, in the theme's order (read only when a style names one)."""
        if self._theme is not None:
            return self._theme
        self._theme = []
        data = self._read(self._theme_path)
        if data is None:
            return self._theme
        root = self._parse_bytes(data, self._theme_path)
        scheme = next((el for el in root.iter() if _local(el.tag) == "clrScheme"), None)
        out = []
        for entry in scheme if scheme is not None else ():
            colour = next(iter(entry), None)
            value = None if colour is None else colour.get("val") if _local(colour.tag) == "srgbClr" \
                else colour.get("lastClr")
            try:
                out.append(int(value, 16))
            except (TypeError, ValueError):
                out.append(0)
        self._theme = out
        return out

    # ------------------------------------------------------------------ names
    def resolve(self, name: str) -> tuple[str, str] | None:
        """(sheet, cell) a workbook-level defined name points to, or None (missing or #REF!)."""
        text = self.defined.get(name.upper())
        if not text:
            return None
        if name.upper() in self._twice:     # defined twice: refused when used, whichever Excel would take
            raise self._damaged("name_twice", value=name[:80])
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


def _twin(names: list[str]) -> str:
    seen: set[str] = set()
    for n in names:
        if part_key(n) in seen:
            return n
        seen.add(part_key(n))
    return ""


class RichText(str):
    """Text of several runs, some formatted apart: `runs` holds (text, colour spec, size, vanish) of
    the runs whose own font says something of their look, for `XlsxBook.hidden` to check each."""
    runs: tuple = ()


def _shown_text(el, t_tag: str, r_tag: str) -> str:
    """The text a string item (<si> or <is>) shows: its own <t> and its runs' <t>; phonetic guides
    (<rPh>) and anything else are not displayed, so never read. Excel's escapes are decoded
    (_x0007_ is a control character, _x005F_x0041_ the text "_x0041_"), as Excel shows them."""
    parts, runs = [], []
    for child in el:
        if child.tag == t_tag:
            parts.append(child.text or "")
        elif child.tag == r_tag:
            text, look = "", None
            for x in child:
                if x.tag == t_tag:
                    text += x.text or ""
                elif _local(x.tag) == "rPr":
                    look = _run_look(x)
            parts.append(text)
            if look is not None and text.strip():
                runs.append((text, *look))
    if not runs:
        return excel_unescape("".join(parts))
    out = RichText(excel_unescape("".join(parts)))
    out.runs = tuple(runs)
    return out


def _run_look(rpr) -> tuple | None:
    """(colour spec, size, vanish) of a run's font when it sets any of them."""
    colour = size = None
    vanish = False
    for p in rpr:
        tag = _local(p.tag)
        if tag == "color":
            colour = _colour_spec(p)
        elif tag == "sz":
            try:
                size = float(p.get("val", ""))
            except ValueError:
                size = None
        elif tag == "vanish":
            vanish = p.get("val", "1") in _TRUE
    return (colour, size, vanish) if colour is not None or size is not None or vanish else None


def _sheet_layout(root, ns: str) -> _Layout:
    """The sheet's default row and column sizes, its columns and conditional formats: direct children of
    the worksheet, read without walking its cells."""
    layout = _Layout()
    fmt_tag, cols_tag, cf_tag = ns + "sheetFormatPr", ns + "cols", ns + "conditionalFormatting"
    merge_tag = ns + "mergeCells"
    for child in root:
        tag = child.tag
        if tag == merge_tag:
            layout.merges = [m.get("ref") or "" for m in child]
        elif tag == fmt_tag:
            layout.rows_hidden = child.get("zeroHeight") in _TRUE or _below(child.get("defaultRowHeight"), MIN_ROW_PT)
            layout.cols_hidden = _below(child.get("defaultColWidth"), MIN_COL_CHARS)
        elif tag == cols_tag:
            spans = []
            for col in child:
                try:
                    lo, hi = int(col.get("min", "")), int(col.get("max", ""))
                except ValueError:
                    continue
                width = col.get("width")
                hide = (col.get("hidden") in _TRUE or _below(width, MIN_COL_CHARS)
                        or (width is None and layout.cols_hidden))
                level = col.get("outlineLevel")
                spans.append([lo, hi, hide, int(level) if level and level.isdigit() else 0,
                              col.get("collapsed") in _TRUE])
                if not hide and width is not None:
                    layout.sized_cols.append((lo, hi))
            spans.sort()
            for i, (_, _, _, level, folded) in enumerate(spans):
                if folded:     # a collapsed group hides the deeper columns beside it
                    for step in (-1, 1):
                        j = i + step
                        while 0 <= j < len(spans) and spans[j][3] > level:
                            spans[j][2] = True
                            j += step
            layout.hidden_cols = [(lo, hi) for lo, hi, hide, _, _ in spans if hide]
        elif tag == cf_tag:
            ids, scale = [], []
            for rule in child:
                dxf = rule.get("dxfId")
                if dxf is not None and dxf.isdigit():
                    ids.append(int(dxf))
                for part in rule:
                    if _local(part.tag) == "colorScale":
                        scale.extend(_colour_spec(x) for x in part if _local(x.tag) == "color")
            if ids or scale:
                layout.cf.append((child.get("sqref", ""), ids, scale))
    return layout


def _covers(ranges: str, row: int, col: int) -> bool:
    for part in ranges.split():
        a, _, b = part.partition(":")
        try:
            r1, c1 = split_ref(a)
            r2, c2 = split_ref(b) if b else (r1, c1)
        except ValueError:
            continue
        if min(r1, r2) <= row <= max(r1, r2) and min(c1, c2) <= col <= max(c1, c2):
            return True
    return False


# ---------------------------------------------------------------------- styles
_UNKNOWN = ("unknown", 0, 0.0)     # a fill whose colour cannot be told (patterns, gradients)


def _colour_spec(el):
    """A colour element as (kind, value, tint), or None."""
    if el is None:
        return None
    try:
        tint = float(el.get("tint") or 0)
    except ValueError:
        tint = 0.0
    for kind in ("rgb", "theme", "indexed"):
        value = el.get(kind)
        if value is not None:
            if kind == "rgb":
                return ("rgb", value, tint)
            return (kind, int(value), tint) if value.isdigit() else None
    if el.get("auto") in _TRUE:
        return ("auto", 0, 0.0)
    return None


class _Styles(NamedTuple):
    xfs: tuple            # (numFmtId, fontId, fillId) per cellXfs entry
    formats: dict         # numFmtId -> format code (the workbook's own formats)
    fonts: tuple          # (colour spec, size) per font
    fills: tuple          # background colour spec per fill (None: no fill, white)
    dxfs: tuple           # (font colour, fill colour, format code) per differential format
    palette: tuple | None
    letters: dict         # (style, text?) -> what XlsxBook._letters_of found, when no theme colour is in it

    def xf(self, style: str | None) -> tuple[int, int, int]:
        i = int(style) if style and style.isdigit() else 0
        return self.xfs[i] if i < len(self.xfs) else (0, 0, 0)

    def font(self, i: int):
        return self.fonts[i] if i < len(self.fonts) else (None, None)

    def fill(self, i: int):
        return self.fills[i] if i < len(self.fills) else None

    def dxf(self, i: int):
        return self.dxfs[i] if i < len(self.dxfs) else (None, None, None)


_Styles.EMPTY = _Styles((), {}, (), (), (), None, {})


def _themed(styles: _Styles, xf: tuple[int, int, int]) -> bool:
    font, fill = styles.font(xf[1])[0], styles.fill(xf[2])
    return (font is not None and font[0] == "theme") or (fill is not None and fill[0] == "theme")
_STYLES_SEEN: dict[bytes, _Styles] = {}     # keyed by the part's bytes: returns share a few style sheets


def _styles_from(data: bytes, book: XlsxBook) -> _Styles:
    got = _STYLES_SEEN.get(data)
    if got is not None:
        return got
    root = book._parse_bytes(data, book._styles_path)
    sections = {_local(child.tag): child for child in root}

    def num(el, attr: str) -> int:
        v = el.get(attr) or "0"
        return int(v) if v.isdigit() else 0

    formats = {num(f, "numFmtId"): f.get("formatCode", "") for f in sections.get("numFmts", ())
               if _local(f.tag) == "numFmt"}
    xfs = tuple((num(x, "numFmtId"), num(x, "fontId"), num(x, "fillId")) for x in sections.get("cellXfs", ())
                if _local(x.tag) == "xf")
    fonts = []
    for font in sections.get("fonts", ()):
        colour, size = None, None
        for part in font:
            tag = _local(part.tag)
            if tag == "color":
                colour = _colour_spec(part)
            elif tag == "sz":
                try:
                    size = float(part.get("val", ""))
                except ValueError:
                    size = None
        fonts.append((colour, size))
    fills = tuple(_fill_colour(f, dxf=False) for f in sections.get("fills", ()))
    dxfs = []
    for dxf in sections.get("dxfs", ()):
        parts = {_local(p.tag): p for p in dxf}
        font = parts.get("font")
        colour = _colour_spec(next((p for p in font if _local(p.tag) == "color"), None)) if font is not None else None
        fill = _fill_colour(parts["fill"], dxf=True) if "fill" in parts else None
        fmt = parts.get("numFmt")
        dxfs.append((colour, None if fill is _UNKNOWN else fill, fmt.get("formatCode") if fmt is not None else None))
    palette = None
    colors = sections.get("colors")
    indexed = next((c for c in colors if _local(c.tag) == "indexedColors"), None) if colors is not None else None
    if indexed is not None:
        values = []
        for c in indexed:
            try:
                values.append(int((c.get("rgb") or "")[-6:], 16))
            except ValueError:
                values.append(0)
        palette = tuple(values)
    styles = _Styles(xfs, formats, tuple(fonts), fills, tuple(dxfs), palette, {})
    if len(_STYLES_SEEN) >= 64:
        _STYLES_SEEN.clear()
    _STYLES_SEEN[data] = styles
    return styles


_RELS_SEEN: dict[tuple[bytes, str], list] = {}
_TYPES_SEEN: dict[bytes, tuple[dict, dict]] = {}     # keyed by the part's bytes, as the styles


def _content_types(data: bytes | None, book: XlsxBook) -> tuple[dict, dict]:
    """[Content_Types].xml as (extension -> type, part key -> type)."""
    if data is None:
        return {}, {}
    got = _TYPES_SEEN.get(data)
    if got is None:
        defaults, overrides = {}, {}
        for el in book._parse_bytes(data, "[Content_Types].xml"):
            tag = _local(el.tag)
            if tag == "Default":
                defaults[(el.get("Extension") or "").lower()] = el.get("ContentType") or ""
            elif tag == "Override":
                overrides[part_key(el.get("PartName") or "")] = el.get("ContentType") or ""
        if len(_TYPES_SEEN) >= 64:
            _TYPES_SEEN.clear()
        got = _TYPES_SEEN[data] = (defaults, overrides)
    return got


def _fill_colour(fill, dxf: bool):
    """The colour a fill paints behind the text: None for none (the window's white), _UNKNOWN for a
    pattern or gradient. A differential format's solid fill is its bgColor (Excel's rule)."""
    pattern = next((p for p in fill if _local(p.tag) == "patternFill"), None)
    if pattern is None:
        return None if len(fill) == 0 else _UNKNOWN
    kind = pattern.get("patternType")
    colours = {_local(c.tag): c for c in pattern}
    if dxf and kind in (None, "solid"):
        spec = _colour_spec(colours.get("bgColor")) or _colour_spec(colours.get("fgColor"))
        return spec if spec is not None else (None if kind is None else _UNKNOWN)
    if kind in (None, "none"):
        return None
    if kind == "solid":
        return _colour_spec(colours.get("fgColor")) or _UNKNOWN
    return _UNKNOWN


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
