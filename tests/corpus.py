"""A corpus of returns as units really send them back, good and bad, built in code.

Every builder writes one class of return from a generated unit workbook (the campaign's outbox)
into its own sub-folder of the inbox, and returns the Case(s) it made: the file, the unit it
belongs to, what a user expects merge to do with it (accepted / replaced / stale / duplicate /
rejected), the finding code that must explain it, and the answers that must be recorded.

Files are filled with openpyxl, or through real LibreOffice (UNO: open, type into the cells,
save as .xlsx / .xls / .ods) for the classes marked `soffice`; those are made in one LibreOffice
session by `Corpus.finish()`. Received dates are set as file mtimes, which merge uses.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange

from tracker.model import ident

ON_TIME = dt.date(2026, 6, 3)
LATE = dt.date(2026, 6, 8)
AS_OF = dt.date(2026, 6, 10)
SIGNER = "Nguyễn Văn An"
DOC_DATE = "Hà Nội, ngày 03 tháng 6 năm 2026"
FORM = ident.FORM_SHEET
MiB = 1024 * 1024


@dataclass
class Case:
    cls: str
    path: Path
    unit_id: str | None
    outcome: str                          # accepted | replaced | stale | duplicate | rejected
    code: str | None = None               # a finding with this code must be there (the error, if rejected)
    answers: dict | None = None           # (product_id, criterion_id) -> met/not_met/blank, when recorded
    received: dt.date = ON_TIME
    sheet: str = ""                       # where the cell finding `code` must point
    cell: str = ""
    warnings: set | None = None           # exact set of warning codes, when given
    absent: tuple = ()                    # codes that must not appear
    # criterion_id (the sole product's) or (product key, criterion_id) -> note text the ledger must hold
    notes: dict | None = None
    proposals: str | None = None
    signer: str | None = None
    soffice: bool = False                 # made through LibreOffice (skipped without it)

    @property
    def recorded(self) -> bool:
        return self.outcome in ("accepted", "replaced", "stale")


# ---------------------------------------------------------------------------- helpers
def cell_of(wb, name: str):
    dn = wb.defined_names[name]
    sheet, ref = next(iter(dn.destinations))
    return wb[sheet][ref.replace("$", "")]


def put_text(cell, text) -> None:
    """A typed text value, kept as text even when it starts with '=' (Excel's leading apostrophe)."""
    cell.value = text
    if isinstance(text, str) and text.startswith("="):
        cell.data_type = "s"
        cell.quotePrefix = True


def save_bytes(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rewrite_zip(data: bytes, replace: dict | None = None, add: dict | None = None,
                drop: set | None = None, stored: set | None = None) -> bytes:
    """A copy of a zip with members changed (name -> fn(bytes)->bytes), added or dropped."""
    replace, add, drop, stored = replace or {}, add or {}, drop or set(), stored or set()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            body = src.read(info)
            if info.filename in replace:
                body = replace[info.filename](body)
            dst.writestr(info.filename, body)
        for name, body in add.items():
            dst.writestr(name, body, zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED)
    return out.getvalue()


_INLINE = re.compile(r'<c ([^>]*?)t="inlineStr"([^>]*)><is>(.*?)</is></c>', re.S)
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def to_shared_strings(data: bytes) -> bytes:
    """Move every inline string into a shared-string table, as Excel saves text (openpyxl writes
    inline strings)."""
    table: list[str] = []
    index: dict[str, int] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
    if "xl/sharedStrings.xml" in names:
        return data

    def sheet(body: bytes) -> bytes:
        def one(m):
            si = m[3]
            if si not in index:
                index[si] = len(table)
                table.append(si)
            return f'<c {m[1]}t="s"{m[2]}><v>{index[si]}</v></c>'
        return _INLINE.sub(one, body.decode("utf-8")).encode("utf-8")
    sheets = {n: sheet for n in names if n.startswith("xl/worksheets/sheet")}
    data = rewrite_zip(data, sheets)
    sst = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/'
           f'spreadsheetml/2006/main" count="{len(table)}" uniqueCount="{len(table)}">'
           + "".join(f"<si>{x}</si>" for x in table) + "</sst>")
    return rewrite_zip(data, {
        "[Content_Types].xml": lambda b: b.replace(b"</Types>", f'<Override PartName="/xl/sharedStrings.xml" '
                                                             f'ContentType="{SST_TYPE}"/></Types>'.encode()),
        "xl/_rels/workbook.xml.rels": lambda b: b.replace(b"</Relationships>", f'<Relationship Id="rIdSst1" '
                                                          f'Type="{SST_REL}" Target="sharedStrings.xml"/>'
                                                          "</Relationships>".encode()),
    }, add={"xl/sharedStrings.xml": sst.encode("utf-8")})


def sub_bytes(pattern: str, repl: str, count: int = 0):
    def fn(body: bytes) -> bytes:
        text, n = re.subn(pattern, repl, body.decode("utf-8"), count=count)
        assert n, f"pattern not found: {pattern}"
        return text.encode("utf-8")
    return fn


def shift_ref(text: str, sheet: str, at: int, n: int) -> str:
    """Shift row numbers >= at in references to `sheet` inside a defined name's formula."""
    quoted = "'" + sheet.replace("'", "''") + "'"

    def one(m):
        col, row = m[2], int(m[3])
        return f"{m[1]}${col}${row + n if row >= at else row}"
    return re.sub(r"(" + re.escape(quoted) + r"!)\$([A-Z]+)\$(\d+)", one, text)


def insert_rows(wb, ws, at: int, n: int, *, like_excel: bool) -> None:
    """Insert n rows before row `at`. Excel also moves validations and defined names with their
    cells; a careless tool (like_excel=False) moves only the cells and their merged ranges (left
    behind, a merged range would cover the moved cells: what a person sees would change)."""
    ws.insert_rows(at, n)
    for mr in list(ws.merged_cells.ranges):
        if mr.min_row >= at:
            mr.shift(0, n)
    if not like_excel:
        return
    for dv in ws.data_validations.dataValidation:
        ranges = []
        for r in dv.sqref.ranges:
            cr = CellRange(r.coord)
            if cr.min_row >= at:
                cr.shift(0, n)
            ranges.append(cr.coord)
        dv.sqref = MultiCellRange(" ".join(ranges))
    for dn in wb.defined_names.values():
        dn.attr_text = shift_ref(dn.attr_text, ws.title, at, n)
    if ws.print_area:
        area = ws.print_area.split("!", 1)[-1]
        ws.print_area = re.sub(r"\$([A-Z]+)\$(\d+)",
                               lambda m: f"${m[1]}${int(m[2]) + n if int(m[2]) >= at else m[2]}", area)


def shift_col_ref(text: str, sheet: str, at: int, n: int) -> str:
    """Shift columns >= at (1-based) in references to `sheet` inside a defined name's formula."""
    from openpyxl.utils import column_index_from_string, get_column_letter

    quoted = "'" + sheet.replace("'", "''") + "'"

    def one(m):
        col = column_index_from_string(m[2])
        return f"{m[1]}${get_column_letter(col + n if col >= at else col)}${m[3]}"
    return re.sub(r"(" + re.escape(quoted) + r"!)\$([A-Z]+)\$(\d+)", one, text)


def insert_cols(wb, ws, at: int, n: int, *, like_excel: bool) -> None:
    """Insert n columns before column `at` (1-based); like_excel as for insert_rows."""
    ws.insert_cols(at, n)
    for mr in list(ws.merged_cells.ranges):
        if mr.min_col >= at:
            mr.shift(n, 0)
        elif mr.max_col >= at:
            mr.expand(right=n)
    if not like_excel:
        return
    # Excel moves the columns' widths and hidden flags with them (openpyxl leaves them where they were):
    # the form's columns right of the table are hidden, so a column left behind would hide the notes.
    from openpyxl.utils import get_column_letter

    dims = [(d.min, d.max, d) for d in list(ws.column_dimensions.values()) if d.min and d.max >= at]
    for key in [k for k, d in ws.column_dimensions.items() if d.min and d.max >= at]:
        del ws.column_dimensions[key]
    for lo, hi, d in dims:
        lo2, hi2 = (lo + n if lo >= at else lo), min(hi + n, 16384)
        new = ws.column_dimensions[get_column_letter(lo2)]
        new.min, new.max, new.width, new.hidden = lo2, hi2, d.width, d.hidden
    for dv in ws.data_validations.dataValidation:
        ranges = []
        for r in dv.sqref.ranges:
            cr = CellRange(r.coord)
            if cr.min_col >= at:
                cr.shift(n, 0)
            ranges.append(cr.coord)
        dv.sqref = MultiCellRange(" ".join(ranges))
    for dn in wb.defined_names.values():
        dn.attr_text = shift_col_ref(dn.attr_text, ws.title, at, n)
    ws.print_area = None


def rename_sheet(wb, ws, new: str, *, like_excel: bool) -> None:
    old = "'" + ws.title.replace("'", "''") + "'!"
    ws.title = new
    if like_excel:
        for dn in wb.defined_names.values():
            dn.attr_text = dn.attr_text.replace(old, "'" + new.replace("'", "''") + "'!")


def set_mtime(path: Path, day: dt.date) -> None:
    t = dt.datetime.combine(day, dt.time(12)).timestamp()
    os.utime(path, (t, t))


def soffice() -> str | None:
    from tracker.intake.convert import find_soffice     # where tracker finds it (Windows: Program Files)

    return find_soffice()


def uno_python() -> str | None:
    """A Python that can `import uno` (LibreOffice's bridge), or None."""
    for exe in ("/usr/lib/libreoffice/program/python", "/usr/bin/python3", shutil.which("python3")):
        if exe and os.path.exists(exe):
            try:
                r = subprocess.run([exe, "-c", "import uno"], capture_output=True, timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if r.returncode == 0:
                return exe
    return None


# A LibreOffice session driven over UNO: open each workbook, type into its named cells, save.
_UNO_FILL = r'''
import json, os, subprocess, sys, time
import uno
from com.sun.star.beans import PropertyValue

def pv(name, value):
    p = PropertyValue(); p.Name = name; p.Value = value
    return p

soffice, profile, jobs_file = sys.argv[1:4]
jobs = json.load(open(jobs_file, encoding="utf-8"))
pipe = "trk_corpus_%d" % os.getpid()
proc = subprocess.Popen([soffice, "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
                         "--nolockcheck", "-env:UserInstallation=" + profile, "--accept=pipe,name=%s;urp;" % pipe],
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    ctx = None
    for _ in range(600):
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            if proc.poll() is not None:
                sys.exit("soffice exited with %s" % proc.returncode)
            time.sleep(0.1)
    if ctx is None:
        sys.exit("could not connect to soffice")
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    for job in jobs:
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(job["src"]), "_blank", 0,
                                           (pv("Hidden", True),))
        names = doc.NamedRanges
        for name, text in job["cells"].items():
            names.getByName(name).getReferredCells().getCellByPosition(0, 0).setString(text)
        for out, filt in job["outputs"]:
            doc.storeToURL(uno.systemPathToFileUrl(out), (pv("FilterName", filt),))
        doc.close(True)
    try:
        desktop.terminate()
    except Exception:
        pass
finally:
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
'''

LO_FILTERS = {".xlsx": "Calc MS Excel 2007 XML", ".xls": "MS Excel 97", ".ods": "calc8"}


def libreoffice_fill(jobs: list[dict], work: Path) -> None:
    """Run the UNO jobs ({src, cells: {defined name: text}, outputs: [path]}) in one LibreOffice
    session. Without a UNO-capable Python, fill with openpyxl and convert with `soffice --convert-to`."""
    exe = soffice()
    work.mkdir(parents=True, exist_ok=True)
    profile = (work / "lo-profile").as_uri()
    py = uno_python()
    if py:
        spec = [{"src": str(j["src"]), "cells": j["cells"],
                 "outputs": [[str(o), LO_FILTERS[j.get("as") or Path(o).suffix.lower()]] for o in j["outputs"]]}
                for j in jobs]
        (work / "jobs.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        (work / "fill.py").write_text(_UNO_FILL, encoding="utf-8")
        r = subprocess.run([py, str(work / "fill.py"), exe, profile, str(work / "jobs.json")],
                           capture_output=True, text=True, timeout=300, env={**os.environ, "HOME": str(work)})
        missing = [o for j in jobs for o in j["outputs"] if not Path(o).is_file()]
        if r.returncode == 0 and not missing:
            return
        raise RuntimeError(f"LibreOffice fill failed ({r.returncode}): {r.stderr[-2000:]}")
    # Fallback: openpyxl fills, LibreOffice converts (one soffice call per target format).
    by_format: dict[str, list[tuple[Path, Path]]] = {}
    for i, j in enumerate(jobs):
        wb = openpyxl.load_workbook(j["src"])
        for name, text in j["cells"].items():
            put_text(cell_of(wb, name), text or None)
        filled = work / f"job{i}.xlsx"
        wb.save(filled)
        for o in j["outputs"]:
            fmt = j.get("as", Path(o).suffix.lower())
            by_format.setdefault(fmt, []).append((filled, Path(o)))
    for fmt, pairs in by_format.items():
        out = work / f"out-{fmt.strip('.')}"
        subprocess.run([exe, "--headless", "--norestore", f"-env:UserInstallation={profile}", "--convert-to",
                        fmt.strip("."), "--outdir", str(out)] + [str(s) for s, _ in pairs],
                       capture_output=True, timeout=300, env={**os.environ, "HOME": str(work)})
        for s, o in pairs:
            shutil.copyfile(out / (s.stem + fmt), o)


# ---------------------------------------------------------------------------- the corpus
class Corpus:
    """Builds cases into `folder` (one sub-folder per class, in build order)."""

    def __init__(self, ws, folder: Path, with_soffice: bool = True):
        self.ws, self.campaign, self.folder = ws, ws.campaign, Path(folder)
        self.units = list(ws.units)
        self.by_id = {u.id: u for u in self.units}
        self._used: set[str] = set()
        self.cases: list[Case] = []
        self.lo_jobs: list[dict] = []
        self.with_soffice = with_soffice and soffice() is not None
        self._n = 0
        self._refs: dict[str, dict] = {}
        self._recorded: set[str] = set()
        self.met, self.not_met = self.campaign.answers

    # units -----------------------------------------------------------------
    def unit(self, products: int = 1, group: str | None = None):
        """A unit with that many products: an unused one, else (few units have two products) one
        used before, round robin; `accepted()` then tells whether its return is first or replaces one."""
        fits = [u for u in self.units if len(u.products) == products and (not group or u.group == group)]
        for u in fits:
            if u.id not in self._used:
                self._used.add(u.id)
                return u
        self._reuse = getattr(self, "_reuse", -1) + 1
        return fits[self._reuse % len(fits)]

    def accepted(self, unit) -> str:
        """The outcome of the next recorded return of this unit, in merge order."""
        first = unit.id not in self._recorded
        self._recorded.add(unit.id)
        return "accepted" if first else "replaced"

    def src(self, unit) -> Path:
        return self.ws.outbox_path(unit)

    def dest(self, cls: str, filename: str) -> Path:
        d = self.folder / f"{self._n:02d}-{cls}"
        d.mkdir(parents=True, exist_ok=True)
        return d / filename

    # answers ---------------------------------------------------------------
    def keys(self, unit, default: str = "met", **by_criterion) -> dict:
        """{(product_key, criterion_id): met/not_met/blank}; by_criterion sets a criterion for all products."""
        return {(p.key, c.id): by_criterion.get(c.id, default) for p in unit.products for c in self.campaign.criteria}

    def mixed(self, unit) -> dict:
        """A pattern that tells every row and column apart: a shifted reading cannot match it."""
        pattern = ["met", "not_met", "met", "met", "not_met", "blank"]
        out = {}
        for i, p in enumerate(unit.products):
            for j, c in enumerate(self.campaign.criteria):
                out[(p.key, c.id)] = pattern[(j + 2 * i) % len(pattern)]
        return out

    def text(self, key: str):
        return {"met": self.met, "not_met": self.not_met, "blank": None}[key]

    def expect(self, unit, keys: dict) -> dict:
        return {(f"{unit.id}/{pk}", cid): v for (pk, cid), v in keys.items()}

    # workbooks -------------------------------------------------------------
    def filled(self, unit, keys: dict | None = None, *, texts: dict | None = None, notes: dict | None = None,
               signer: str | None = SIGNER, proposals: str | None = None, doc_date: str | None = DOC_DATE):
        """The unit's workbook filled in as a unit would; texts override the typed answer texts."""
        wb = openpyxl.load_workbook(self.src(unit))
        keys = keys if keys is not None else self.keys(unit)
        for (pk, cid), key in keys.items():
            value = (texts or {}).get((pk, cid), self.text(key))
            put_text(cell_of(wb, ident.answer_name(pk, cid)), value)
        for key, note in (notes or {}).items():     # (product key, criterion): that product's own note cell
            put_text(cell_of(wb, ident.note_name(*reversed(key)) if isinstance(key, tuple) else ident.note_name(key)),
                     note)
        for p in unit.products:     # the domain asked for in section I.2, where the form left it blank
            cell = cell_of(wb, ident.domain_name(p.key))
            if not cell.value:
                cell.value = f"{unit.id.replace('-', '')}{'' if p.kind == 'site' else '-' + p.key}.hanoi.gov.vn"
        if signer is not None:
            put_text(cell_of(wb, ident.NAME_SIGNER), signer or None)
        if proposals is not None:
            put_text(cell_of(wb, ident.NAME_PROPOSALS), proposals)
        if doc_date:
            put_text(cell_of(wb, ident.NAME_DOCDATE), doc_date)
        return wb

    def save(self, wb, path: Path, *, shared: bool = True) -> Path:
        """Save as Excel would: text in the shared-string table (shared=False keeps openpyxl's inline strings)."""
        data = save_bytes(wb)
        path.write_bytes(to_shared_strings(data) if shared else data)
        return path

    def write(self, path: Path, data: bytes) -> Path:
        path.write_bytes(data)
        return path

    def good_file(self, unit, keys=None, **kw) -> bytes:
        return to_shared_strings(save_bytes(self.filled(unit, keys, **kw)))

    # building --------------------------------------------------------------
    def build(self, builders=None) -> list[Case]:
        for b in builders or BUILDERS:
            if getattr(b, "soffice", False) and not self.with_soffice:
                continue
            self._n += 1
            made = b(self)
            self.cases.extend(made if isinstance(made, list) else [made])
        self.finish()
        return self.cases

    def finish(self) -> None:
        if self.lo_jobs:
            with tempfile.TemporaryDirectory(prefix="corpus-lo-") as tmp:
                libreoffice_fill(self.lo_jobs, Path(tmp))
        for c in self.cases:
            if c.path.exists():
                set_mtime(c.path, c.received)

    # expectations ----------------------------------------------------------
    def current_cases(self) -> dict[str, Case]:
        """Per unit, the recorded case that must be its current submission (latest non-stale, in merge order)."""
        out = {}
        for c in sorted(self.cases, key=lambda c: str(c.path)):
            if c.outcome in ("accepted", "replaced") and c.unit_id:
                out[c.unit_id] = c
        return out

    def first_received(self) -> dict[str, dt.date]:
        out: dict[str, dt.date] = {}
        for c in self.cases:
            if c.recorded and c.unit_id:
                out[c.unit_id] = min(out.get(c.unit_id, c.received), c.received)
        return out


BUILDERS = []


def builder(fn=None, *, soffice: bool = False):
    def wrap(f):
        f.soffice = soffice
        BUILDERS.append(f)
        return f
    return wrap(fn) if fn else wrap


# ---------------------------------------------------------------------------- accepted as they are
@builder
def good(c: Corpus):
    u = c.unit()
    keys = c.keys(u)
    p = c.save(c.filled(u, keys), c.dest("good", c.src(u).name))
    return Case("good", p, u.id, c.accepted(u), None, c.expect(u, keys), warnings=set(), signer=SIGNER)


@builder
def good_two_products(c: Corpus):
    u = c.unit(products=2)
    keys = c.keys(u)
    keys[(u.products[1].key, "c3")] = "not_met"
    # Each product's own notes: the not-met criterion's on the chuyên trang, another on the site.
    notes = {(u.products[1].key, "c3"): "Chuyên trang chưa có mục tin tức riêng",
             (u.products[0].key, "c1"): "Đã kiểm tra ngày 02/6/2026"}
    p = c.save(c.filled(u, keys, notes=notes, proposals="Đề nghị bổ sung tài liệu hướng dẫn."),
               c.dest("good_two_products", c.src(u).name))
    return Case("good_two_products", p, u.id, c.accepted(u), None, c.expect(u, keys), notes=notes,
                proposals="Đề nghị bổ sung tài liệu hướng dẫn.", absent=("layout_changed",))


@builder
def nfd_text(c: Corpus):
    u = c.unit()
    keys = c.keys(u, c2="not_met")
    texts = {k: unicodedata.normalize("NFD", c.text(v)) for k, v in keys.items()}
    assert texts[(u.products[0].key, "c1")] != c.met
    p = c.save(c.filled(u, keys, texts=texts, signer=unicodedata.normalize("NFD", "Trần Thị Bích Ngọc")),
               c.dest("nfd_text", c.src(u).name))
    return Case("nfd_text", p, u.id, c.accepted(u), None, c.expect(u, keys), warnings=set(),
                signer="Trần Thị Bích Ngọc")


@builder
def case_and_spaces(c: Corpus):
    u = c.unit()
    keys = c.keys(u, c1="not_met", c4="not_met")
    variants = ["  CHƯA ĐÁP ỨNG ", "đáp ứng", "Đáp  ứng\t", "ĐÁP ỨNG", "chưa  đáp ứng", " Đáp ứng\n"]
    variants = [variants[0], variants[1], variants[2], variants[4], variants[3], variants[5]]
    texts = {(u.products[0].key, cr.id): v for cr, v in zip(c.campaign.criteria, variants)}
    p = c.save(c.filled(u, keys, texts=texts), c.dest("case_and_spaces", c.src(u).name))
    return Case("case_and_spaces", p, u.id, c.accepted(u), None, c.expect(u, keys), warnings=set())


@builder
def invisible_spaces(c: Corpus):
    u = c.unit()
    keys = c.keys(u, c6="not_met")
    pk = u.products[0].key
    texts = {(pk, "c1"): "Đáp\u00a0ứng", (pk, "c2"): "\u200bĐáp ứng", (pk, "c3"): "Đáp ứng\ufeff",
             (pk, "c6"): "Chưa\u00a0đáp\u00a0ứng\u200b"}
    p = c.save(c.filled(u, keys, texts=texts), c.dest("invisible_spaces", c.src(u).name))
    return Case("invisible_spaces", p, u.id, c.accepted(u), None, c.expect(u, keys), warnings=set())


@builder
def tcvn3_answer(c: Corpus):
    u = c.unit()
    keys = c.keys(u, c5="not_met")
    pk = u.products[0].key
    texts = {k: ("§¸p øng" if v == "met" else "Ch\u00ada ®¸p øng") for k, v in keys.items()}
    p = c.save(c.filled(u, keys, texts=texts), c.dest("tcvn3_answer", c.src(u).name))
    return Case("tcvn3_answer", p, u.id, c.accepted(u), "legacy_font", c.expect(u, keys), sheet=FORM,
                cell=cell_ref(c, u, pk, "c1"))


@builder
def vni_answer(c: Corpus):
    u = c.unit()
    keys = c.keys(u, c2="not_met")
    texts = {k: ("Ñaùp öùng" if v == "met" else "Chöa ñaùp öùng") for k, v in keys.items()}
    p = c.save(c.filled(u, keys, texts=texts), c.dest("vni_answer", c.src(u).name))
    return Case("vni_answer", p, u.id, c.accepted(u), "legacy_font", c.expect(u, keys))


@builder
def legacy_note(c: Corpus):
    u = c.unit()
    keys = c.keys(u)
    notes = {"c2": "CÇn n©ng cÊp giao diÖn trªn ®iÖn tho¹i; ch\u00ada cã môc hái ®¸p"}
    p = c.save(c.filled(u, keys, notes=notes, signer="NguyÔn ThÞ Thanh V©n"), c.dest("legacy_note", c.src(u).name))
    return Case("legacy_note", p, u.id, c.accepted(u), "legacy_font", c.expect(u, keys),
                notes={"c2": "Cần nâng cấp giao diện trên điện thoại; chưa có mục hỏi đáp"}, signer="Nguyễn Thị Thanh Vân")


@builder
def note_starts_with_equals(c: Corpus):
    u = c.unit()
    keys = c.keys(u)
    note = '=HYPERLINK("http://evil.example/x","Bấm vào đây")'
    proposals = "=1+1 là đề xuất, không phải công thức"
    p = c.save(c.filled(u, keys, notes={"c4": note}, proposals=proposals),
               c.dest("note_starts_with_equals", c.src(u).name))
    return Case("note_starts_with_equals", p, u.id, c.accepted(u), None, c.expect(u, keys), notes={"c4": note},
                proposals=proposals, absent=("formula_in_text",))


@builder
def blank_criterion(c: Corpus):
    u = c.unit()
    keys = c.keys(u, c4="blank")
    p = c.save(c.filled(u, keys), c.dest("blank_criterion", c.src(u).name))
    return Case("blank_criterion", p, u.id, c.accepted(u), "blank_answer", c.expect(u, keys), sheet=FORM,
                cell=cell_ref(c, u, u.products[0].key, "c4"), warnings={"blank_answer"})


@builder
def not_signed(c: Corpus):
    u = c.unit()
    keys = c.keys(u)
    p = c.save(c.filled(u, keys, signer=""), c.dest("not_signed", c.src(u).name))
    return Case("not_signed", p, u.id, c.accepted(u), "not_signed", c.expect(u, keys), warnings={"not_signed"})


@builder
def late(c: Corpus):
    u = c.unit()
    keys = c.keys(u, c1="not_met")
    p = c.save(c.filled(u, keys), c.dest("late", c.src(u).name))
    return Case("late", p, u.id, c.accepted(u), None, c.expect(u, keys), received=LATE)


@builder
def note_repeats_a_label(c: Corpus):
    """A note that happens to be another criterion's label: not a second table, nothing to refuse."""
    u = c.unit()
    keys = c.keys(u, c4="not_met")
    notes = {"c1": "Tương thích", "c2": "Chức năng hệ thống"}
    p = c.save(c.filled(u, keys, notes=notes), c.dest("note_repeats_a_label", c.src(u).name))
    return Case("note_repeats_a_label", p, u.id, c.accepted(u), None, c.expect(u, keys), notes=notes,
                absent=("layout_changed", "duplicate_form"))


@builder
def answer_in_note_column(c: Corpus):
    """Typed the answer into the note column and left the answer cell empty: the answer stays blank."""
    u = c.unit()
    keys = c.keys(u, c3="blank")
    wb = c.filled(u, keys)
    put_text(cell_of(wb, ident.note_name("c3")), c.met)
    p = c.save(wb, c.dest("answer_in_note_column", c.src(u).name))
    return Case("answer_in_note_column", p, u.id, c.accepted(u), "blank_answer", c.expect(u, keys),
                notes={"c3": c.met})


@builder
def validation_removed_good_value(c: Corpus):
    u = c.unit()
    keys = c.keys(u, c2="not_met")
    wb = c.filled(u, keys)
    wb[FORM].data_validations.dataValidation = []
    p = c.save(wb, c.dest("validation_removed_good_value", c.src(u).name))
    return Case("validation_removed_good_value", p, u.id, c.accepted(u), None, c.expect(u, keys))


@builder
def rich_text_answer(c: Corpus):
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    u = c.unit()
    keys = c.keys(u, c6="not_met")
    wb = c.filled(u, keys)
    cell_of(wb, ident.answer_name(u.products[0].key, "c1")).value = CellRichText(
        [TextBlock(InlineFont(b=True), "Đáp "), TextBlock(InlineFont(i=True), "ứng")])
    p = c.save(wb, c.dest("rich_text_answer", c.src(u).name))
    return Case("rich_text_answer", p, u.id, c.accepted(u), None, c.expect(u, keys))


@builder
def inline_strings(c: Corpus):
    """Text saved as inline strings (openpyxl and some converters do), not in the shared-string table."""
    u = c.unit()
    keys = c.keys(u, c3="not_met")
    p = c.save(c.filled(u, keys), c.dest("inline_strings", c.src(u).name), shared=False)
    with zipfile.ZipFile(p) as z:
        assert "xl/sharedStrings.xml" not in z.namelist()
    return Case("inline_strings", p, u.id, c.accepted(u), None, c.expect(u, keys))


@builder
def nfd_file_name(c: Corpus):
    u = c.unit()
    keys = c.keys(u)
    name = unicodedata.normalize("NFD", f"Biên bản xác nhận - {u.name}.xlsx")
    p = c.save(c.filled(u, keys), c.dest("nfd_file_name", name))
    return Case("nfd_file_name", p, u.id, c.accepted(u), None, c.expect(u, keys))


@builder
def renamed_like_other_unit(c: Corpus):
    """The file carries another unit's file name: the content says who it is."""
    u = c.unit()
    other = next(x for x in c.units if x.id != u.id and x.group == u.group)
    keys = c.keys(u, c5="not_met")
    p = c.save(c.filled(u, keys), c.dest("renamed_like_other_unit", c.src(other).name))
    return Case("renamed_like_other_unit", p, u.id, c.accepted(u), "name_mismatch", c.expect(u, keys))


@builder
def sheets_reordered_extra_sheet(c: Corpus):
    u = c.unit()
    keys = c.keys(u, c2="not_met")
    wb = c.filled(u, keys)
    extra = wb.create_sheet("Sheet1", 0)
    extra["A1"] = "Ghi chép riêng của đơn vị"
    extra["B2"] = "Chức năng hệ thống"    # a criterion label on another sheet, with nothing next to it
    wb.move_sheet(FORM, offset=1)
    p = c.save(wb, c.dest("sheets_reordered_extra_sheet", c.src(u).name))
    return Case("sheets_reordered_extra_sheet", p, u.id, c.accepted(u), None, c.expect(u, keys),
                absent=("layout_changed",))


@builder
def sheet_renamed(c: Corpus):
    """Renamed in Excel: the defined names follow the sheet."""
    u = c.unit(products=2)
    keys = c.mixed(u)
    wb = c.filled(u, keys)
    rename_sheet(wb, wb[FORM], "Bien ban 'da ky'", like_excel=True)
    p = c.save(wb, c.dest("sheet_renamed", c.src(u).name))
    return Case("sheet_renamed", p, u.id, c.accepted(u), None, c.expect(u, keys), absent=("layout_changed",))


@builder
def sheet_renamed_names_broken(c: Corpus):
    """Renamed by a tool that left the defined names pointing at the old sheet name."""
    u = c.unit()
    keys = c.mixed(u)
    wb = c.filled(u, keys)
    rename_sheet(wb, wb[FORM], "Sheet1", like_excel=False)
    p = c.save(wb, c.dest("sheet_renamed_names_broken", c.src(u).name))
    return Case("sheet_renamed_names_broken", p, u.id, c.accepted(u), "layout_changed", c.expect(u, keys))


@builder
def rows_inserted_excel(c: Corpus):
    """Rows inserted above the table in Excel: cells, merged ranges, validations and names all move."""
    u = c.unit()
    keys = c.mixed(u)
    wb = c.filled(u, keys, notes={"c2": "Ghi chú dòng 2"})
    insert_rows(wb, wb[FORM], 10, 3, like_excel=True)
    p = c.save(wb, c.dest("rows_inserted_excel", c.src(u).name))
    return Case("rows_inserted_excel", p, u.id, c.accepted(u), None, c.expect(u, keys), absent=("layout_changed",),
                notes={"c2": "Ghi chú dòng 2"}, signer=SIGNER)


@builder
def rows_inserted_names_stale(c: Corpus):
    """Rows inserted above the table by a tool that does not move defined names: they now point
    two rows too high. The answers must still be read from where they are, never from the names."""
    u = c.unit(products=2)
    keys = c.mixed(u)
    wb = c.filled(u, keys)
    insert_rows(wb, wb[FORM], 10, 2, like_excel=False)
    p = c.save(wb, c.dest("rows_inserted_names_stale", c.src(u).name))
    return Case("rows_inserted_names_stale", p, u.id, c.accepted(u), "layout_changed", c.expect(u, keys))


@builder
def rows_inserted_in_table_names_stale(c: Corpus):
    """One row inserted between criteria 3 and 4, names not moved: names of 4..6 point one row high."""
    u = c.unit()
    keys = c.mixed(u)
    wb = c.filled(u, keys)
    row = int(re.sub(r"\D", "", cell_ref(c, u, u.products[0].key, "c4")))
    insert_rows(wb, wb[FORM], row, 1, like_excel=False)
    p = c.save(wb, c.dest("rows_inserted_in_table_names_stale", c.src(u).name))
    return Case("rows_inserted_in_table_names_stale", p, u.id, c.accepted(u), "layout_changed", c.expect(u, keys))


@builder
def column_inserted_excel(c: Corpus):
    """A column inserted before the answer columns in Excel: everything moves right, names too."""
    u = c.unit(products=2)
    keys = c.mixed(u)
    notes = {(u.products[1].key, "c5"): "Ghi chú sau khi chèn cột"}
    wb = c.filled(u, keys, notes=notes)
    insert_cols(wb, wb[FORM], 5, 1, like_excel=True)
    p = c.save(wb, c.dest("column_inserted_excel", c.src(u).name))
    return Case("column_inserted_excel", p, u.id, c.accepted(u), None, c.expect(u, keys), absent=("layout_changed",),
                notes=notes)


@builder
def column_inserted_names_stale(c: Corpus):
    """A column inserted before the answers by a tool that leaves the names: they now point at the
    empty new column. The product headers show where the answers went."""
    u = c.unit(products=2)
    keys = c.mixed(u)
    # The first product's note is found under its own "Ghi chú" header, right of its answers (the
    # second's moved into a column the form hides, which this tool left hidden: that would be refused).
    notes = {(u.products[0].key, "c2"): "Ghi chú của trang"}
    wb = c.filled(u, keys, notes=notes)
    insert_cols(wb, wb[FORM], 5, 1, like_excel=False)
    p = c.save(wb, c.dest("column_inserted_names_stale", c.src(u).name))
    return Case("column_inserted_names_stale", p, u.id, c.accepted(u), "layout_changed", c.expect(u, keys),
                notes=notes)


@builder
def ident_sheet_deleted(c: Corpus):
    """The hidden identification sheet deleted (names now #REF!), the form intact."""
    u = c.unit()
    keys = c.mixed(u)
    wb = c.filled(u, keys)
    del wb[ident.ID_SHEET]
    for dn in wb.defined_names.values():
        if ident.ID_SHEET in dn.attr_text:
            dn.attr_text = "#REF!"
    p = c.save(wb, c.dest("ident_sheet_deleted", c.src(u).name))
    return Case("ident_sheet_deleted", p, u.id, c.accepted(u), "identified_by_labels", c.expect(u, keys),
                signer=SIGNER)


@builder
def strict_ooxml(c: Corpus):
    """Saved as "Strict Open XML Spreadsheet": other namespaces, same structure."""
    u = c.unit()
    keys = c.keys(u, c6="not_met")
    data = c.good_file(u, keys)

    def strict(body: bytes) -> bytes:
        return (body.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                             b"http://purl.oclc.org/ooxml/spreadsheetml/main")
                .replace(b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                         b"http://purl.oclc.org/ooxml/officeDocument/relationships"))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = [n for n in z.namelist() if n.endswith((".xml", ".rels")) and n != "[Content_Types].xml"]
    p = c.write(c.dest("strict_ooxml", c.src(u).name), rewrite_zip(data, {n: strict for n in parts}))
    return Case("strict_ooxml", p, u.id, c.accepted(u), None, c.expect(u, keys))


@builder
def no_extension(c: Corpus):
    u = c.unit()
    keys = c.keys(u)
    p = c.save(c.filled(u, keys), c.dest("no_extension", "bien-ban-xac-nhan"))
    return Case("no_extension", p, u.id, c.accepted(u), None, c.expect(u, keys))


@builder
def lookalike_letter(c: Corpus):
    """"Ðáp ứng" typed with Ð (U+00D0, Icelandic Eth), which looks exactly like Đ."""
    u = c.unit()
    keys = c.keys(u, c3="not_met")
    pk = u.products[0].key
    texts = {(pk, "c1"): "\u00d0áp ứng", (pk, "c3"): "Chưa \u00f0áp ứng"}
    p = c.save(c.filled(u, keys, texts=texts), c.dest("lookalike_letter", c.src(u).name))
    return Case("lookalike_letter", p, u.id, c.accepted(u), None, c.expect(u, keys))


@builder
def formula_in_note(c: Corpus):
    """A real formula (a DDE-style one) in a note cell: kept as text, never evaluated, said."""
    u = c.unit()
    keys = c.keys(u)
    wb = c.filled(u, keys)
    cell_of(wb, ident.note_name("c1")).value = "=cmd|' /C calc'!A0"
    p = c.save(wb, c.dest("formula_in_note", c.src(u).name))
    return Case("formula_in_note", p, u.id, c.accepted(u), "formula_in_text", c.expect(u, keys),
                notes={"c1": "=cmd|' /C calc'!A0"})


def _table_rows(c: Corpus, unit) -> list[int]:
    return [int(re.sub(r"\D", "", cell_ref(c, unit, unit.products[0].key, cr.id))) for cr in c.campaign.criteria]


def _move_row_values(ws, moves: dict[int, int], cols: str = "ABCDEFG") -> None:
    """Put the values of row a into row b for every a -> b (a permutation of rows)."""
    saved = {a: [ws[f"{col}{a}"].value for col in cols] for a in moves}
    for a, b in moves.items():
        for col, v in zip(cols, saved[a]):
            if not isinstance(ws[f"{col}{b}"], openpyxl.cell.cell.MergedCell):
                ws[f"{col}{b}"].value = v


@builder
def table_sorted(c: Corpus):
    """The unit sorted the criteria table (Data > Sort): values move, defined names stay on their cells."""
    u = c.unit()
    keys = c.mixed(u)
    wb = c.filled(u, keys, notes={"c1": "Ghi chú của tiêu chí 1"})
    rows = _table_rows(c, u)
    _move_row_values(wb[FORM], dict(zip(rows, reversed(rows))))
    p = c.save(wb, c.dest("table_sorted", c.src(u).name))
    return Case("table_sorted", p, u.id, c.accepted(u), "layout_changed", c.expect(u, keys),
                notes={"c1": "Ghi chú của tiêu chí 1"})


@builder
def criterion_label_edited(c: Corpus):
    """The unit retyped one criterion's label (the names still right): read by the names, said."""
    u = c.unit()
    keys = c.mixed(u)
    wb = c.filled(u, keys)
    row = _table_rows(c, u)[3]
    wb[FORM][f"B{row}"].value = "Tương thích trình duyệt"
    p = c.save(wb, c.dest("criterion_label_edited", c.src(u).name))
    return Case("criterion_label_edited", p, u.id, c.accepted(u), "label_edited", c.expect(u, keys),
                absent=("layout_changed",), sheet=FORM, cell=f"B{row}")


@builder
def criterion_row_deleted(c: Corpus):
    """A criterion's row deleted in Excel: its names become #REF! and the table is incomplete."""
    u = c.unit()
    wb = c.filled(u)
    ws = wb[FORM]
    row = _table_rows(c, u)[4]
    ws.delete_rows(row, 1)
    for mr in list(ws.merged_cells.ranges):
        if mr.min_row == row:
            ws.merged_cells.ranges.remove(mr)
        elif mr.min_row > row:
            mr.shift(0, -1)
    for dn in wb.defined_names.values():
        if f"${row}" in dn.attr_text and FORM in dn.attr_text and dn.attr_text.endswith(f"${row}"):
            dn.attr_text = "#REF!"
        else:
            dn.attr_text = shift_ref(dn.attr_text, FORM, row + 1, -1)
    p = c.save(wb, c.dest("criterion_row_deleted", c.src(u).name))
    return Case("criterion_row_deleted", p, u.id, "rejected", "form_missing", None)


@builder
def table_pasted_twice_blank(c: Corpus):
    """The table pasted again further down, left blank (a scratch copy): the named table is the reply."""
    u = c.unit()
    keys = c.keys(u, c2="not_met")
    src = c.filled(u, keys)
    ws = src[FORM]
    rows = _table_rows(c, u)
    top = rows[0] - 2
    for r in range(top, rows[-1] + 1):
        for col in "ABCDEF":
            v = ws[f"{col}{r}"].value
            if v is not None and not isinstance(ws[f"{col}{r}"], openpyxl.cell.cell.MergedCell) \
                    and not (r in rows and col == "E"):
                ws[f"{col}{r + 60}"].value = v
    p = c.save(src, c.dest("table_pasted_twice_blank", c.src(u).name))
    return Case("table_pasted_twice_blank", p, u.id, c.accepted(u), None, c.expect(u, keys),
                absent=("layout_changed",))


@builder
def table_pasted_twice_different(c: Corpus):
    """The table pasted again further down and filled differently: which one is meant? Refused."""
    u = c.unit()
    src = c.filled(u, c.keys(u))
    ws = src[FORM]
    rows = _table_rows(c, u)
    for r in range(rows[0] - 2, rows[-1] + 1):
        for col in "ABCDEF":
            v = ws[f"{col}{r}"].value
            if v is not None and not isinstance(ws[f"{col}{r}"], openpyxl.cell.cell.MergedCell):
                ws[f"{col}{r + 60}"].value = c.not_met if (r in rows and col == "E") else v
    p = c.save(src, c.dest("table_pasted_twice_different", c.src(u).name))
    return Case("table_pasted_twice_different", p, u.id, "rejected", "duplicate_form", None)


@builder
def copied_to_fresh_workbook(c: Corpus):
    """The unit copied the visible cells into a new workbook: no hidden sheet, no names."""
    u = c.unit(products=2)
    keys = c.mixed(u)
    notes = {(u.products[1].key, "c1"): "Chép sang tệp mới"}     # found under its product by the labels
    src = c.filled(u, keys, notes=notes)
    wb = openpyxl.Workbook()
    dst = wb.active
    dst.title = "Sheet1"
    for row in src[FORM].iter_rows():
        for cell in row:
            if cell.value is not None:
                put_text(dst[cell.coordinate], cell.value)
    p = c.save(wb, c.dest("copied_to_fresh_workbook", f"{u.id}-ban-sao.xlsx"))
    return Case("copied_to_fresh_workbook", p, u.id, c.accepted(u), "identified_by_labels", c.expect(u, keys),
                notes=notes, signer=SIGNER)


@builder
def xlsm(c: Corpus):
    u = c.unit()
    keys = c.keys(u, c1="not_met")
    data = c.good_file(u, keys)
    ctype = sub_bytes(r"application/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet\.main\+xml",
                      "application/vnd.ms-excel.sheet.macroEnabled.main+xml")

    def with_vba(body: bytes) -> bytes:
        body = ctype(body)
        return body.replace(b"</Types>", b'<Override PartName="/xl/vbaProject.bin" '
                                         b'ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    data = rewrite_zip(data, {"[Content_Types].xml": with_vba},
                       add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504})
    p = c.write(c.dest("xlsm", c.src(u).stem + ".xlsm"), data)
    return Case("xlsm", p, u.id, c.accepted(u), "macro_file", c.expect(u, keys))


# ---------------------------------------------------------------------------- versions and duplicates
@builder
def same_file_twice(c: Corpus):
    u = c.unit()
    keys = c.keys(u)
    data = c.good_file(u, keys)
    a = c.write(c.dest("same_file_twice", "a-bien-ban.xlsx"), data)
    b = c.write(c.dest("same_file_twice", "b-bien-ban (gửi lại).xlsx"), data)
    return [Case("same_file_twice", a, u.id, c.accepted(u), None, c.expect(u, keys)),
            Case("same_file_twice", b, u.id, "duplicate", "duplicate", None)]


@builder
def two_versions(c: Corpus):
    """A first version, then a corrected one a day later: the second replaces the first."""
    u = c.unit()
    k1, k2 = c.keys(u, c2="not_met", c3="blank"), c.keys(u)
    a = c.save(c.filled(u, k1), c.dest("two_versions", "a-lan-1.xlsx"))
    b = c.save(c.filled(u, k2, signer="Lê Văn Bình"), c.dest("two_versions", "b-lan-2-da-sua.xlsx"))
    return [Case("two_versions", a, u.id, c.accepted(u), None, c.expect(u, k1), received=dt.date(2026, 6, 2)),
            Case("two_versions", b, u.id, c.accepted(u), "replaced", c.expect(u, k2), received=dt.date(2026, 6, 4),
                 signer="Lê Văn Bình")]


@builder
def older_version_later(c: Corpus):
    """The newer version is merged first; an older one received earlier arrives after it: kept as history."""
    u = c.unit()
    new, old = c.keys(u), c.keys(u, c1="not_met")
    a = c.save(c.filled(u, new), c.dest("older_version_later", "a-ban-moi.xlsx"))
    b = c.save(c.filled(u, old), c.dest("older_version_later", "b-ban-cu.xlsx"))
    return [Case("older_version_later", a, u.id, c.accepted(u), None, c.expect(u, new), received=dt.date(2026, 6, 4)),
            Case("older_version_later", b, u.id, "stale", "stale", c.expect(u, old), received=dt.date(2026, 6, 1))]


# ---------------------------------------------------------------------------- refused: answers
def cell_ref(c: Corpus, unit, product_key: str, cid: str) -> str:
    """Where the generated form puts an answer cell (read from its defined name)."""
    if unit.id not in c._refs:
        wb = openpyxl.load_workbook(c.src(unit))
        c._refs[unit.id] = {n: next(iter(d.destinations))[1].replace("$", "") for n, d in wb.defined_names.items()
                            if n.startswith("TRK_")}
    return c._refs[unit.id][ident.answer_name(product_key, cid)]


def _bad_answer(c: Corpus, cls: str, value, code: str, cid: str = "c3", products: int = 1):
    u = c.unit(products=products)
    keys = c.keys(u)
    pk = u.products[-1].key
    wb = c.filled(u, keys)
    cell = cell_of(wb, ident.answer_name(pk, cid))
    cell.value = value
    p = c.save(wb, c.dest(cls, c.src(u).name))
    return Case(cls, p, u.id, "rejected", code, None, sheet=FORM, cell=cell_ref(c, u, pk, cid))


@builder
def wrong_value_co(c: Corpus):
    return _bad_answer(c, "wrong_value_co", "Có", "bad_answer")


@builder
def wrong_value_x(c: Corpus):
    return _bad_answer(c, "wrong_value_x", "x", "bad_answer", cid="c1", products=2)


@builder
def wrong_value_synonym(c: Corpus):
    return _bad_answer(c, "wrong_value_synonym", "Không đáp ứng", "bad_answer", cid="c6")


@builder
def wrong_value_partial(c: Corpus):
    return _bad_answer(c, "wrong_value_partial", "Đáp ứng một phần", "bad_answer", cid="c2")


@builder
def tcvn3_not_an_answer(c: Corpus):
    return _bad_answer(c, "tcvn3_not_an_answer", "Cã", "bad_answer", cid="c5")   # TCVN3 "Có"


@builder
def number_in_answer(c: Corpus):
    return _bad_answer(c, "number_in_answer", 1, "bad_answer_type", cid="c4")


@builder
def boolean_in_answer(c: Corpus):
    return _bad_answer(c, "boolean_in_answer", True, "bad_answer_type", cid="c2")


@builder
def formula_in_answer(c: Corpus):
    u = c.unit()
    keys = c.keys(u)
    pk = u.products[0].key
    data = c.good_file(u, keys)
    ref = cell_ref(c, u, pk, "c2")
    # A formula with its cached value "Đáp ứng", as Excel saves it.
    formula = sub_bytes(r'<c r="' + ref + r'"([^>]*?) t="s"([^>]*)><v>\d+</v></c>',
                        r'<c r="' + ref + r'"\1 t="str"\2><f>IF(1=1,"' + c.met + r'","")</f><v>' + c.met + r'</v></c>',
                        count=1)
    p = c.write(c.dest("formula_in_answer", c.src(u).name), rewrite_zip(data, {"xl/worksheets/sheet1.xml": formula}))
    return Case("formula_in_answer", p, u.id, "rejected", "formula_in_answer", None, sheet=FORM, cell=ref)


@builder
def duplicate_cell(c: Corpus):
    """The same answer cell written twice in the sheet XML with different values (a broken generator):
    which one is meant cannot be told. Refused as damaged."""
    u = c.unit()
    data = c.good_file(u)
    ref = cell_ref(c, u, u.products[0].key, "c1")

    def twice(body: bytes) -> bytes:
        text = body.decode("utf-8")
        m = re.search(r'<c r="' + ref + r'"[^>]*>.*?</c>', text)
        again = f'<c r="{ref}" t="inlineStr"><is><t>{c.not_met}</t></is></c>'
        return (text[:m.end()] + again + text[m.end():]).encode("utf-8")
    p = c.write(c.dest("duplicate_cell", c.src(u).name), rewrite_zip(data, {"xl/worksheets/sheet1.xml": twice}))
    return Case("duplicate_cell", p, None, "rejected", "damaged", None, sheet=FORM, cell=ref)


@builder
def validation_removed_bad_value(c: Corpus):
    u = c.unit()
    keys = c.keys(u)
    wb = c.filled(u, keys)
    wb[FORM].data_validations.dataValidation = []
    pk = u.products[0].key
    cell_of(wb, ident.answer_name(pk, "c1")).value = "Đạt"
    p = c.save(wb, c.dest("validation_removed_bad_value", c.src(u).name))
    return Case("validation_removed_bad_value", p, u.id, "rejected", "bad_answer", None, sheet=FORM,
                cell=cell_ref(c, u, pk, "c1"))


@builder
def fresh_copy_bad_value(c: Corpus):
    """Copied into a fresh workbook with a wrong value in the first product's column: the next column's
    answer must not be taken for it."""
    u = c.unit(products=2)
    keys = c.keys(u)
    src = c.filled(u, keys)
    pk = u.products[0].key
    ref = cell_ref(c, u, pk, "c2")
    src[FORM][ref].value = "x"
    wb = openpyxl.Workbook()
    dst = wb.active
    for row in src[FORM].iter_rows():
        for cell in row:
            if cell.value is not None:
                put_text(dst[cell.coordinate], cell.value)
    p = c.save(wb, c.dest("fresh_copy_bad_value", "ban-sao.xlsx"))
    return Case("fresh_copy_bad_value", p, u.id, "rejected", "bad_answer", None, sheet="Sheet", cell=ref)


@builder
def nothing_filled(c: Corpus):
    """The blank form sent back untouched: not a reply."""
    u = c.unit()
    p = c.dest("nothing_filled", c.src(u).name)
    shutil.copyfile(c.src(u), p)
    return Case("nothing_filled", p, u.id, "rejected", "no_answers", None)


@builder
def form_copied_filled_in_copy(c: Corpus):
    """The unit duplicated the form sheet and filled the copy; the original (named) cells are empty."""
    u = c.unit()
    keys = c.keys(u)
    wb = c.filled(u, c.keys(u, "blank"), signer="")
    copy = wb.copy_worksheet(wb[FORM])
    copy.title = "Biên bản (2)"
    for (pk, cid), v in keys.items():
        copy[cell_ref(c, u, pk, cid)].value = c.text(v)
    p = c.save(wb, c.dest("form_copied_filled_in_copy", c.src(u).name))
    return Case("form_copied_filled_in_copy", p, u.id, "rejected", "duplicate_form", None)


# ---------------------------------------------------------------------------- refused: identification
@builder
def form_sheet_deleted(c: Corpus):
    u = c.unit()
    wb = c.filled(u)
    del wb[FORM]
    for dn in wb.defined_names.values():
        if FORM in dn.attr_text:
            dn.attr_text = "#REF!"
    p = c.save(wb, c.dest("form_sheet_deleted", c.src(u).name))
    return Case("form_sheet_deleted", p, u.id, "rejected", "form_missing", None)  # identified, then refused


def _ident_edit(c: Corpus, cls: str, code: str, cell: str, value: str, visible: bool = False):
    u = c.unit()
    wb = c.filled(u)
    ws = wb[ident.ID_SHEET]
    ws[cell].value = value
    if visible:
        ws.sheet_state = "visible"
    p = c.save(wb, c.dest(cls, c.src(u).name))
    return Case(cls, p, None, "rejected", code, None)     # not identified: no unit to blame


@builder
def other_campaign(c: Corpus):
    return _ident_edit(c, "other_campaign", "other_campaign", "B1", "hanoi-ttdt-2025")


@builder
def unknown_unit(c: Corpus):
    return _ident_edit(c, "unknown_unit", "unknown_unit", "B2", "xp-99999")


@builder
def tampered_unit_id(c: Corpus):
    """The unit id changed to another real unit: the token no longer matches."""
    other = next(u for u in reversed(c.units) if u.id not in c._used)
    return _ident_edit(c, "tampered_unit_id", "bad_token", "B2", other.id)


@builder
def ident_visible_token_edited(c: Corpus):
    return _ident_edit(c, "ident_visible_token_edited", "bad_token", "B4", "0" * 24, visible=True)


@builder
def master_as_return(c: Corpus):
    p = c.dest("master_as_return", "tong-hop-gui-lai.xlsx")
    shutil.copyfile(c.ws.root / "master.xlsx", p)
    return Case("master_as_return", p, None, "rejected", "is_master", None)


# ---------------------------------------------------------------------------- refused: the file itself
@builder
def truncated_zip(c: Corpus):
    u = c.unit()
    data = c.good_file(u)
    p = c.write(c.dest("truncated_zip", c.src(u).name), data[: len(data) * 2 // 3])
    return Case("truncated_zip", p, None, "rejected", "corrupt_zip", None)


@builder
def not_a_zip(c: Corpus):
    p = c.write(c.dest("not_a_zip", "bien-ban.xlsx"), "Đáp ứng\nĐáp ứng\n".encode("utf-8"))
    return Case("not_a_zip", p, None, "rejected", "not_spreadsheet", None)


@builder
def html_as_xls(c: Corpus):
    html = "<html><body><table><tr><td>Chức năng hệ thống</td><td>Đáp ứng</td></tr></table></body></html>"
    p = c.write(c.dest("html_as_xls", "xuat-tu-phan-mem.xls"), html.encode("utf-8"))
    return Case("html_as_xls", p, None, "rejected", "not_spreadsheet", None)


@builder
def pdf_scan(c: Corpus):
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n" \
          b"trailer<</Root 1 0 R>>\n%%EOF\n"
    p = c.write(c.dest("pdf_scan", "bien-ban-da-ky.pdf"), pdf)
    return Case("pdf_scan", p, None, "rejected", "signed_damaged", None)     # read as a signed copy: no page


@builder
def docx(c: Corpus):
    import docx as python_docx

    d = python_docx.Document()
    d.add_paragraph("Biên bản xác nhận: Đáp ứng")
    p = c.dest("docx", "bien-ban.docx")
    d.save(p)
    return Case("docx", p, None, "rejected", "zip_not_spreadsheet", None)


@builder
def empty_file(c: Corpus):
    p = c.write(c.dest("empty_file", "bien-ban.xlsx"), b"")
    return Case("empty_file", p, None, "rejected", "empty", None)


@builder
def zip_bomb(c: Corpus):
    """A real return with an 80 MiB member of zeros that packs into a few dozen KiB."""
    u = c.unit()
    data = rewrite_zip(c.good_file(u), add={"xl/media/image2.png": b"\0" * (80 * MiB)})
    p = c.write(c.dest("zip_bomb", c.src(u).name), data)
    return Case("zip_bomb", p, None, "rejected", "zip_bomb", None)


@builder
def zip_bomb_lying_size(c: Corpus):
    """sharedStrings.xml declares 2 KiB in the zip directory but inflates to 60 MiB."""
    u = c.unit()
    big = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' \
          + b" " * (60 * MiB) + b"</sst>"
    data = rewrite_zip(c.good_file(u), {"xl/sharedStrings.xml": lambda _: big})
    p = c.write(c.dest("zip_bomb_lying_size", c.src(u).name), lie_about_size(data, "xl/sharedStrings.xml", 2048))
    return Case("zip_bomb_lying_size", p, None, "rejected", "zip_bomb", None)


def lie_about_size(data: bytes, member: str, size: int) -> bytes:
    """Rewrite the uncompressed size of `member` in its local header and central directory entry."""
    buf = bytearray(data)
    name = member.encode()
    pos = 0
    while (pos := buf.find(b"PK\x01\x02", pos)) != -1:
        n, extra, comment = struct.unpack_from("<HHH", buf, pos + 28)
        if bytes(buf[pos + 46:pos + 46 + n]) == name:
            struct.pack_into("<I", buf, pos + 24, size)
            (local,) = struct.unpack_from("<I", buf, pos + 42)
            struct.pack_into("<I", buf, local + 22, size)
        pos += 46 + n + extra + comment
    return bytes(buf)


_BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE sst [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + ']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>')


@builder
def xml_bomb(c: Corpus):
    u = c.unit()
    data = rewrite_zip(c.good_file(u), {"xl/sharedStrings.xml": lambda _: _BILLION_LAUGHS.encode()})
    p = c.write(c.dest("xml_bomb", c.src(u).name), data)
    return Case("xml_bomb", p, None, "rejected", "xml_unsafe", None)


@builder
def xml_external_entity(c: Corpus):
    u = c.unit()

    def xxe(body: bytes) -> bytes:
        doctype = b'<!DOCTYPE workbook [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        if body.startswith(b"<?xml"):
            head, sep, rest = body.partition(b"?>")
            return head + sep + doctype + rest
        return doctype + body
    data = rewrite_zip(c.good_file(u), {"xl/workbook.xml": xxe})
    p = c.write(c.dest("xml_external_entity", c.src(u).name), data)
    return Case("xml_external_entity", p, None, "rejected", "xml_unsafe", None)


@builder
def zip_path_traversal(c: Corpus):
    u = c.unit()
    data = rewrite_zip(c.good_file(u), add={"../../../tmp/evil.txt": b"x"})
    p = c.write(c.dest("zip_path_traversal", c.src(u).name), data)
    return Case("zip_path_traversal", p, None, "rejected", "unsafe_member_name", None)


@builder
def zip_duplicate_member(c: Corpus):
    """Two copies of the form sheet's part with different answers: parsers would disagree on which."""
    u = c.unit()
    other = c.good_file(u, c.keys(u, "not_met"))
    with zipfile.ZipFile(io.BytesIO(other)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    out = io.BytesIO(c.good_file(u))
    import warnings
    with warnings.catch_warnings(), zipfile.ZipFile(out, "a") as z:
        warnings.simplefilter("ignore")
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    p = c.write(c.dest("zip_duplicate_member", c.src(u).name), out.getvalue())
    return Case("zip_duplicate_member", p, None, "rejected", "duplicate_member", None)


@builder
def xlsb(c: Corpus):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Override PartName="/xl/workbook.bin" ContentType="application/'
                   'vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>')
        z.writestr("xl/workbook.bin", b"\x83\x01\x00")
    p = c.write(c.dest("xlsb", "bien-ban.xlsb"), out.getvalue())
    return Case("xlsb", p, None, "rejected", "xlsb", None)


@builder
def password_protected(c: Corpus):
    from msoffcrypto.format.ooxml import OOXMLFile

    u = c.unit()
    plain = io.BytesIO(c.good_file(u))
    out = io.BytesIO()
    OOXMLFile(plain).encrypt("123456", out)
    p = c.write(c.dest("password_protected", c.src(u).name), out.getvalue())
    return Case("password_protected", p, None, "rejected", "encrypted", None)


@builder
def huge_file(c: Corpus):
    """A real return carrying a 21 MiB photo (incompressible): over the 20 MiB limit."""
    u = c.unit()
    photo = random.Random(7).randbytes(21 * MiB)
    data = rewrite_zip(c.good_file(u), add={"xl/media/image1.jpeg": photo}, stored={"xl/media/image1.jpeg"})
    p = c.write(c.dest("huge_file", c.src(u).name), data)
    return Case("huge_file", p, None, "rejected", "too_large", None)


# ---------------------------------------------------------------------------- through LibreOffice
def _lo_case(c: Corpus, cls: str, suffix: str, keys_fn, code, *, as_fmt: str | None = None, products=1):
    u = c.unit(products=products)
    keys = keys_fn(u)
    cells = {ident.answer_name(pk, cid): c.text(v) or "" for (pk, cid), v in keys.items()}
    cells[ident.NAME_SIGNER] = SIGNER
    # The last product's own note (on a form of one product, the form's one note cell).
    note_key = (u.products[-1].key, "c2") if len(u.products) > 1 else "c2"
    cells[ident.note_name("c2", u.products[-1].key) if len(u.products) > 1 else ident.note_name("c2")] = \
        "Điền bằng LibreOffice"
    out = c.dest(cls, c.src(u).stem + suffix)
    job = {"src": str(c.src(u)), "cells": cells, "outputs": [str(out)]}
    if as_fmt:
        job["as"] = as_fmt
    c.lo_jobs.append(job)
    return Case(cls, out, u.id, c.accepted(u), code, c.expect(u, keys), soffice=True,
                notes={note_key: "Điền bằng LibreOffice"}, signer=SIGNER,
                absent=("layout_changed", "identified_by_labels"))     # names and hidden sheet survive LibreOffice


@builder(soffice=True)
def libreoffice_xlsx(c: Corpus):
    """Filled in LibreOffice Calc and saved as .xlsx (LibreOffice rewrites names, styles, strings)."""
    return _lo_case(c, "libreoffice_xlsx", ".xlsx", c.mixed, None, products=2)


@builder(soffice=True)
def libreoffice_xls(c: Corpus):
    return _lo_case(c, "libreoffice_xls", ".xls", lambda u: c.keys(u, c3="not_met"), "converted")


@builder(soffice=True)
def libreoffice_ods(c: Corpus):
    return _lo_case(c, "libreoffice_ods", ".ods", lambda u: c.keys(u, c4="blank"), "converted")


@builder(soffice=True)
def xls_named_xlsx(c: Corpus):
    """An Excel 97-2003 file carrying an .xlsx name: recognised by content, converted."""
    return _lo_case(c, "xls_named_xlsx", ".xlsx", c.keys, "converted", as_fmt=".xls")
