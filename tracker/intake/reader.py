"""Reading one return: which campaign and unit it is, and every answer, note and signer field.

Identification comes from the very-hidden sheet and defined names written by `generate`
(they survive renamed files, renamed sheets and inserted rows). When they are gone (a unit copied
its answers into a fresh file) the labels are used instead: the unit's name and the criteria
texts, and the return says so. The names are trusted only while they agree with the labels
around them (each answer cell on its criterion's row, under its product's header): a tool that
moved cells without moving the names is caught, and the answers are then found by their labels.
Nothing is guessed: an answer is taken only from the cell that holds it, and only when a person
sees what it holds (tracker.intake.xlsx `hidden`: a cell in a hidden row, column or sheet, or one
whose format or colour hides its text, is refused, naming the cell): what is counted is what the
unit saw and signed. The hidden identification is checked against the unit's name shown on the
form (header, preamble, conclusion): another registered unit's name there refuses the file, no
name of the unit asks staff to look. Every problem is a Finding naming file, sheet and cell (its
words, saying what to do, are in tracker.model.findings).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracker.model import ident
from tracker.model.findings import Finding, IntakeError
from tracker.model.text import CELL_MAX, utf16_len
from tracker.intake.normalize import AnswerMap, clean_text, label_key, legacy_text
from tracker.intake.xlsx import Cell, XlsxBook, col_letters, split_ref

_DATE_TEXT = re.compile(r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})", re.I)
_DOMAIN = re.compile(r"^([a-z0-9-]+\.)+[a-z]{2,}$")
OTHER_TABLE_MAX_BYTES = 2 * 1024 * 1024   # sheets searched for a second copy of the form
HEADER_ROWS = 4          # how far above the first criterion row the table's headers may sit
SIGN_HINT = "(ký, ghi rõ họ tên, đóng dấu)"
PROPOSALS_HINT = "iii. đề xuất, kiến nghị"


@dataclass
class Reading:
    """What a return says, and what is wrong with it."""
    unit_id: str | None = None
    campaign_id: str | None = None
    identified_by: str = "ident"          # "ident" | "labels"
    answers: dict = field(default_factory=dict)     # (product_id, criterion_id) -> met/not_met/blank
    # (product_id, criterion_id) -> text; product_id "" for a note of the whole unit (the one "Ghi
    # chú" column of a form of several products sent before each product had its own)
    notes: dict = field(default_factory=dict)
    domains: dict = field(default_factory=dict)     # product_id -> text
    proposals: str = ""
    signer: str = ""
    doc_number: str = ""
    doc_date: str = ""
    findings: list = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


class _Ctx:
    def __init__(self, book: XlsxBook, reading: Reading, shown: bool = False):
        """`shown`: read a table as a person sees it (a hidden cell is an empty one), to compare it with
        the table read; the table read itself refuses hidden content."""
        self.book, self.r, self.shown = book, reading, shown

    def add(self, code, sheet="", cell="", value="", expected="", **params):
        self.r.findings.append(Finding(code, file=self.book.name, sheet=sheet, cell=cell, value=str(value)[:200],
                                       expected=expected, **params))


def read_return(path, display_name: str, campaign, units_by_id: dict, secret: bytes,
                is_macro: bool = False, zf=None) -> Reading:
    """`zf`: the return already opened by `safety.open_checked` (it is closed here)."""
    reading = Reading()
    with XlsxBook(path, display_name, zf) as book:
        ctx = _Ctx(book, reading)
        if is_macro:
            ctx.add("macro_file")
        if _is_master(book):
            raise IntakeError(Finding("is_master", file=display_name))
        unit = _identify(ctx, campaign, units_by_id, secret)
        _check_file_name(ctx, unit, units_by_id)
        form = Form(campaign, unit, *_as_sent(ctx, campaign, unit))
        if reading.identified_by == "ident":
            table = _read_by_names(ctx, form)
        else:
            table = _read_by_labels(ctx, form)
        if table is not None and not reading.errors and reading.identified_by == "ident":
            _check_visible_unit(ctx, form, table, units_by_id)
        if table is not None and not reading.errors:
            _check_other_tables(ctx, form, table)
        if table is not None and not reading.errors:
            _check_not_empty(ctx, form, table)
    return reading


def _check_file_name(ctx: _Ctx, unit, units_by_id: dict) -> None:
    """A file carrying another unit's generated name (renamed, or a colleague's file reused) is read
    by its content; say so, since staff go by file names."""
    stem = ctx.book.name.rsplit(".", 1)[0].lower()
    if stem == unit.id or stem.startswith(unit.id + "-"):
        return
    # Generated names are "<unit id>-<slug>"; ids may hold dashes: try each prefix (no scan of all units).
    cuts = [i for i, ch in enumerate(stem) if ch == "-"] + [len(stem)]
    other = next((units_by_id[stem[:i]] for i in cuts if stem[:i] in units_by_id), None)
    if other is not None and other.id != unit.id:
        ctx.add("name_mismatch", value=ctx.book.name, expected=unit.file_stem, other_unit=other.name, unit=unit.name)


def _is_master(book: XlsxBook) -> bool:
    if ident.ID_SHEET not in book.sheet_names:
        return False
    cells = book.cells(ident.ID_SHEET)
    return cells.get("A1") is not None and cells["A1"].value == "kind" and \
        cells.get("B1") is not None and cells["B1"].value == "master"


class Form:
    """What the unit's form holds, as labels: criteria rows, product headers, anchors."""

    def __init__(self, campaign, unit, products=None, criteria=None):
        """`products`, `criteria`: those of the form as it was sent (default: the registry's and the
        template's now)."""
        self.campaign, self.unit = campaign, unit
        self.amap = AnswerMap(*campaign.answers)
        self.criteria = list(criteria or campaign.criteria)
        groups = [label_key(c.group) for c in self.criteria]
        # A criterion's row is known by its group label; by its detail text too when groups repeat.
        self.row_keys = {c.id: (label_key(c.group), label_key(c.detail) if groups.count(label_key(c.group)) > 1
                                else None) for c in self.criteria}
        self.products = list(products or unit.products)
        self.product_keys = {p.id: label_key(p.name) for p in self.products}
        self.answer_title = label_key(campaign.section("answers").get("input_title", "Mức độ đáp ứng"))

    def product_name(self, p) -> str:
        """The product an answer is about, as findings name it: none when it is the unit's own site alone."""
        return "" if len(self.products) == 1 and p.kind == "site" else p.name


def _as_sent(ctx: _Ctx, campaign, unit) -> tuple[list | None, list | None]:
    """(products, criteria) of the form as generated, from its very-hidden sheet's rows "products"
    and "criteria": a product added to the registry (or a criterion to the template) after the
    forms went out is not on it. Those are read; the others are left unreturned (or unanswered),
    said once. (None, None) when the sheet does not say (a return identified by its labels)."""
    if ctx.r.identified_by != "ident" or ident.ID_SHEET not in ctx.book.sheet_names:
        return None, None
    said: dict[int, dict[int, str]] = {}
    for ref, cell in ctx.book.cells(ident.ID_SHEET).items():
        row, col = split_ref(ref)
        said.setdefault(row, {})[col] = str(cell.value)
    rows = {r.get(1): r.get(2, "") for r in said.values()}
    products = criteria = None
    if "products" in rows:
        keys = set(rows["products"].split("|"))
        # Only the registry's products count (a key typed into the sheet by hand adds nothing).
        products = [p for p in unit.products if p.key in keys] or None
        if products and len(products) < len(unit.products):
            ctx.add("products_not_on_form", unit=unit.name,
                    products=", ".join(f"“{p.name}”" for p in unit.products if p.key not in keys))
    if "criteria" in rows:
        ids = set(rows["criteria"].split("|"))
        criteria = [c for c in campaign.criteria if c.id in ids] or None
        if criteria and len(criteria) < len(campaign.criteria):
            ctx.add("criteria_not_on_form",
                    criteria=", ".join(f"“{c.group}”" for c in campaign.criteria if c.id not in ids))
    return products, criteria


# ---------------------------------------------------------------------- identification
def _identify(ctx: _Ctx, campaign, units_by_id, secret):
    book, r = ctx.book, ctx.r
    values = {}
    for name, key in ident.ID_FIELDS:
        found = book.named_cell(name)
        values[key] = clean_text(found[2].value) if found and found[2] is not None else None
    if values["campaign_id"] is None and values["unit_id"] is None:
        r.identified_by = "labels"
        return _identify_by_labels(ctx, campaign, units_by_id)
    r.campaign_id = values["campaign_id"]
    if values["campaign_id"] != campaign.id:
        raise IntakeError(Finding("other_campaign", file=book.name, value=values["campaign_id"] or "",
                                  expected=campaign.id))
    unit = units_by_id.get(values["unit_id"] or "")
    if unit is None:
        raise IntakeError(Finding("unknown_unit", file=book.name, value=values["unit_id"] or ""))
    if not ident.token_ok(secret, campaign.id, unit.id, values["template_version"] or "", values["token"] or ""):
        raise IntakeError(Finding("bad_token", file=book.name, value=values["unit_id"], unit=unit.name))
    if values["template_version"] != campaign.version:
        ctx.add("old_template", value=values["template_version"] or "", expected=campaign.version)
    r.unit_id = unit.id
    return unit


def _identify_by_labels(ctx: _Ctx, campaign, units_by_id):
    book = ctx.book
    found = set()
    names = {}
    for u in units_by_id.values():
        names.setdefault(label_key(u.name), []).append(u)
    for sheet in book.sheet_names:
        for cell in book.cells(sheet).values():
            if cell.kind != "s":
                continue
            text = label_key(cell.value)
            for key in (text, text.removeprefix("ubnd ").strip()):
                for u in names.get(key, []):
                    found.add(u.id)
    if not found:
        raise IntakeError(Finding("unidentified", file=book.name))
    if len(found) > 1:
        raise IntakeError(Finding("ambiguous_unit", file=book.name,
                                  units=", ".join(sorted(units_by_id[i].name for i in found))))
    unit = units_by_id[found.pop()]
    ctx.r.unit_id = unit.id
    ctx.add("identified_by_labels", unit=unit.name)
    return unit


# ---------------------------------------------------------------------- the table, by its labels
@dataclass
class Table:
    """Where a criteria table sits: a row per criterion, a column per product (None: cannot be told)."""
    sheet: str
    rows: dict                      # criterion id -> row number
    label_col: int
    columns: dict | None = None     # product id -> column number
    note_cols: dict = field(default_factory=dict)   # product id ("" for the unit's) -> its notes' column

    def ref(self, col: int, cid: str) -> str:
        return f"{col_letters(col)}{self.rows[cid]}"


def _rows_of(cells: dict[str, Cell]) -> dict[int, dict[int, Cell]]:
    out: dict[int, dict[int, Cell]] = {}
    for ref, cell in cells.items():
        row, col = split_ref(ref)
        out.setdefault(row, {})[col] = cell
    return out


def _sheet_rows(book: XlsxBook, sheet: str) -> dict[int, dict[int, Cell]]:
    """A sheet's cells by row and column, computed once per sheet."""
    cache = book.__dict__.setdefault("_rows_cache", {})
    if sheet not in cache:
        cache[sheet] = _rows_of(book.cells(sheet))
    return cache[sheet]


def _label_hits(book: XlsxBook, form: Form, sheet: str) -> dict[str, list[tuple[int, int]]]:
    """criterion id -> every (row, column) where its label is, top to bottom (once per sheet and form)."""
    cache = book.__dict__.setdefault("_hits_cache", {})
    key = (sheet, id(form))
    if key not in cache:
        cache[key] = _find_label_hits(book, form, sheet)
    return cache[key]


def _find_label_hits(book: XlsxBook, form: Form, sheet: str) -> dict[str, list[tuple[int, int]]]:
    found: dict[str, list[tuple[int, int]]] = {}
    for row, cols in sorted(_sheet_rows(book, sheet).items()):
        keys = {}
        for col, c in sorted(cols.items()):
            if c.kind == "s":
                keys.setdefault(label_key(c.value), col)
        for c in form.criteria:
            group, detail = form.row_keys[c.id]
            if group in keys and (detail is None or detail in keys):
                found.setdefault(c.id, []).append((row, keys[group]))
    return found


def _header(book: XlsxBook, sheet: str, first_row: int, label_col: int) -> dict[str, list[int]]:
    """Texts of the header rows just above a table (right of its labels) -> their columns."""
    rows = _sheet_rows(book, sheet)
    header: dict[str, list[int]] = {}
    for row in range(max(1, first_row - HEADER_ROWS), first_row):
        for col, cell in rows.get(row, {}).items():
            if cell.kind == "s" and col > label_col:
                header.setdefault(label_key(cell.value), []).append(col)
    return header


def _tables(book: XlsxBook, form: Form, sheet: str) -> list[Table]:
    """Every complete criteria table on a sheet (a table pasted twice gives two)."""
    hits = _label_hits(book, form, sheet)
    if len(hits) < len(form.criteria):
        return []
    # A table's labels share one column (a note that happens to repeat a label is not a table).
    by_col: dict[int, dict[str, list[int]]] = {}
    for cid, found in hits.items():
        for row, col in found:
            by_col.setdefault(col, {}).setdefault(cid, []).append(row)
    out = []
    for label_col, rows_of in sorted(by_col.items()):
        if len(rows_of) < len(form.criteria):
            continue
        for k in range(min(len(v) for v in rows_of.values())):
            rows = {cid: v[k] for cid, v in rows_of.items()}
            header = _header(book, sheet, min(rows.values()), label_col)
            columns = _product_columns(form, header)
            out.append(Table(sheet, rows, label_col, columns, _note_columns(form, header, columns)))
    return out


def _all_tables(book: XlsxBook, form: Form, max_sheet_bytes: int | None = None) -> list[Table]:
    labels = {group for group, _ in form.row_keys.values()}

    def is_label(text) -> bool:
        return label_key(text) in labels

    return [t for s in book.sheet_names if s != ident.ID_SHEET
            and (max_sheet_bytes is None or book.sheet_size(s) <= max_sheet_bytes)
            # no criterion label: no table, no parse (a sheet parsed already is searched as it is)
            and (book.parsed(s) or book.may_hold_strings(s, is_label))
            for t in _tables(book, form, s)]


def _product_columns(form: Form, header: dict) -> dict | None:
    """Each product's answer column, from the headers above the table; None when it cannot be told."""
    out = {}
    for p in form.products:
        cols = header.get(form.product_keys[p.id], [])
        if len(cols) == 1:
            out[p.id] = cols[0]
    if len(out) == len(form.products) and len(set(out.values())) == len(out):
        return out
    if len(form.products) == 1:
        cols = header.get(form.answer_title, [])
        if len(cols) == 1:
            return {form.products[0].id: cols[0]}
    return None


def _note_columns(form: Form, header: dict, columns: dict | None) -> dict:
    """Each product's "Ghi chú" column: the one right of its answer column, before the next
    product's. A single "Ghi chú" column (one product; or a form of several sent before notes were
    per product) is the sole product's, else the whole unit's (key ""); else none is read."""
    notes = sorted(header.get("ghi chú", []))
    if len(notes) == 1 and (columns is None or all(c < notes[0] for c in columns.values())):
        return {_whose_note(form): notes[0]}
    if columns is None or len(notes) != len(form.products):
        return {}
    starts = sorted(columns.values())
    out = {}
    for pid, col in columns.items():
        nxt = min((c for c in starts if c > col), default=None)
        mine = [n for n in notes if n > col and (nxt is None or n < nxt)]
        if len(mine) != 1:
            return {}
        out[pid] = mine[0]
    return out


def _whose_note(form: Form) -> str:
    """Whose a note of the form's one "Ghi chú" column is: its product's when the form has one
    product, else the whole unit's ("")."""
    return form.products[0].id if len(form.products) == 1 else ""


def _read_table(ctx: _Ctx, form: Form, table: Table) -> None:
    """The answers (and notes) of a table, from its cells and nowhere else."""
    cells = ctx.book.cells(table.sheet)
    for c in form.criteria:
        for p in form.products:
            ref = table.ref(table.columns[p.id], c.id)
            _take_answer(ctx, form, p, c, table.sheet, ref, cells.get(ref))
        for pid, col in table.note_cols.items():
            ref = table.ref(col, c.id)
            text = _free_text(ctx, table.sheet, ref, cells.get(ref), "note")
            if text:
                ctx.r.notes[(pid, c.id)] = text


def _silent_read(book: XlsxBook, form: Form, table: Table) -> Reading:
    shadow = _Ctx(book, Reading(), shown=True)      # a hidden copy shows nothing, so holds no answer
    _read_table(shadow, form, table)
    return shadow.r


def _filled(reading: Reading) -> bool:
    return bool(reading.errors) or any(v != "blank" for v in reading.answers.values())


# ---------------------------------------------------------------------- reading by names
def _read_by_names(ctx: _Ctx, form: Form) -> Table | None:
    book, r = ctx.book, ctx.r
    positions = {}
    for p in form.products:
        for c in form.criteria:
            where = book.resolve(ident.answer_name(p.key, c.id))
            if where is not None:
                positions[(p, c)] = where
    agree = len(positions) == len(form.products) * len(form.criteria) and _names_agree(book, form, positions)
    if agree is False:
        # The names are gone or point elsewhere (a sheet deleted, rows moved or sorted by a tool that
        # does not update names): find the answers by their labels instead, and say so.
        note = Finding("layout_changed", file=book.name)
        table = _read_by_labels(ctx, form)
        if table is not None:
            r.findings.insert(0, note)
        return table
    sheet = next(iter(positions.values()))[0]
    missing, label_col = agree
    for c in missing:     # criteria whose label is no longer on the row of their answer cells
        ref = f"{col_letters(label_col)}{split_ref(positions[(form.products[0], c)][1])[0]}"
        ctx.add("label_edited", sheet, ref, expected=c.group)
    for (p, c), (_, ref) in positions.items():
        _take_answer(ctx, form, p, c, sheet, ref, book.cells(sheet).get(ref))
    for c in form.criteria:
        for p in form.products:
            found = book.named_cell(ident.note_name(c.id, p.key))
            if found:
                r.notes[(p.id, c.id)] = _free_text(ctx, found[0], found[1], found[2], "note")
        # The form's one "Ghi chú" column: a form of one product, or one sent before notes were per product.
        found = book.named_cell(ident.note_name(c.id))
        if found:
            r.notes[(_whose_note(form), c.id)] = _free_text(ctx, found[0], found[1], found[2], "note")
    for p in form.products:
        found = book.named_cell(ident.domain_name(p.key))
        if found:
            r.domains[p.id] = _domain(ctx, found[0], found[1], found[2], p)
    for attr, name in (("proposals", ident.NAME_PROPOSALS), ("signer", ident.NAME_SIGNER),
                       ("doc_number", ident.NAME_DOCNO), ("doc_date", ident.NAME_DOCDATE)):
        found = book.named_cell(name)
        if found:
            setattr(r, attr, _free_text(ctx, found[0], found[1], found[2], attr))
    _check_signed(ctx)
    rows = {c.id: split_ref(positions[(form.products[0], c)][1])[0] for c in form.criteria}
    return Table(sheet, rows, 0, {p.id: split_ref(positions[(p, form.criteria[0])][1])[1] for p in form.products})


def _names_agree(book: XlsxBook, form: Form, positions: dict) -> tuple[list, int] | bool:
    """Whether the named answer cells sit where the labels say: all on one sheet, each on a row of
    its criterion's label and, where the product headers are there, under its product's header.
    A label edited or deleted by the unit is tolerated (its cells are then placed by the names
    alone) as long as at least half the labels confirm the names. Returns False, or the criteria
    whose label is missing (empty when all agree) and the labels' column."""
    sheets = {sheet for sheet, _ in positions.values()}
    if len(sheets) != 1:
        return False
    sheet = sheets.pop()
    hits = _label_hits(book, form, sheet)
    label_rows = {row for h in hits.values() for row, _ in h}
    label_col = min((col for h in hits.values() for _, col in h), default=0)
    missing = []
    for c in form.criteria:
        for p in form.products:
            row, col = split_ref(positions[(p, c)][1])
            if col <= label_col:
                return False
            if c.id in hits:
                if row not in {r for r, _ in hits[c.id]}:
                    return False
            elif row in label_rows:       # sits on another criterion's row
                return False
            elif c not in missing:
                missing.append(c)
    if len(missing) * 2 > len(form.criteria):
        return False
    first = min(split_ref(ref)[0] for _, ref in positions.values())
    columns = _product_columns(form, _header(book, sheet, first, label_col))
    for (p, c), (_, ref) in positions.items():
        if columns is not None and columns.get(p.id) != split_ref(ref)[1]:
            return False
    return missing, label_col


def _unseen(ctx: _Ctx, sheet: str, ref: str, cell: Cell | None, answer: bool = False) -> str | None:
    """Why a person does not see what a cell holds (None: it is seen, or it holds nothing)."""
    why = ctx.book.hidden(sheet, ref, cell)
    if why is None and answer and cell is not None and cell.kind == "s" and _first_line_blank(cell.value):
        why = "line_break"      # in the answer rows' one line, the cell shows its empty first line
    if why is not None and cell.formula is None and not clean_text(cell.value):
        return None             # nothing there to see
    return why


def _first_line_blank(text: str) -> bool:
    if "\n" not in text and "\r" not in text:
        return False
    return not clean_text(re.split(r"[\r\n]", text, maxsplit=1)[0])


def _take_answer(ctx: _Ctx, form: Form, product, criterion, sheet, ref, cell: Cell | None) -> None:
    amap = form.amap
    # The criterion, and the product when the unit has more than its own site.
    label = dict(criterion=criterion.group, product=form.product_name(product))
    why = _unseen(ctx, sheet, ref, cell, answer=True)
    if why is not None and ctx.shown:
        cell = None
    elif why is not None:
        ctx.add("hidden_cell", sheet, ref, clean_text(cell.value if cell.formula is None else "=" + cell.formula),
                field="answer", hidden=why, **label)
        return
    if cell is not None and cell.formula is not None:
        ctx.add("formula_in_answer", sheet, ref, "=" + cell.formula, amap.allowed, **label)
        return
    if cell is not None and cell.kind not in ("s", ""):
        ctx.add("bad_answer_type", sheet, ref, cell.value, amap.allowed, **label)
        return
    text = "" if cell is None else str(cell.value)
    answer, kind = amap.map(text)
    if answer is None:
        ctx.add("bad_answer", sheet, ref, text, amap.allowed, text=clean_text(text), **label)
        return
    if kind:
        ctx.add("legacy_font", sheet, ref, text, field="answer", legacy=kind,
                answer=form.campaign.answers[0] if answer == "met" else form.campaign.answers[1], **label)
    if answer == "blank":
        ctx.add("blank_answer", sheet, ref, "", amap.allowed, **label)
    ctx.r.answers[(product.id, criterion.id)] = answer


def _free_text(ctx: _Ctx, sheet, ref, cell: Cell | None, field: str) -> str:
    """`field`: which one ("note", "signer", ...: the CHOICES of tracker.model.findings)."""
    if cell is None:
        return ""
    why = _unseen(ctx, sheet, ref, cell)
    if why is not None and ctx.shown:
        return ""
    if why is not None:
        ctx.add("hidden_cell", sheet, ref, clean_text(cell.value if cell.formula is None else "=" + cell.formula),
                field=field, hidden=why)
        return ""
    if cell.formula is not None:
        # Never evaluated: the text it shows when there is one, else the formula itself, as text.
        shown = str(cell.value) if cell.kind == "s" and cell.value not in (None, "") else ""
        text = shown or "=" + cell.formula
        ctx.add("formula_in_text", sheet, ref, "=" + cell.formula, field=field, kept="shown" if shown else "formula")
    else:
        text = str(cell.value)
    text, kind = legacy_text(text)
    if kind:
        ctx.add("legacy_font", sheet, ref, str(cell.value), field=field, legacy=kind, text=text[:80])
    if utf16_len(text) > CELL_MAX:
        # Kept whole (the ledger holds it); our workbooks show it cut with a mark (tracker.model.text).
        ctx.add("long_text", sheet, ref, field=field, length=f"{len(text):,}".replace(",", "."))
    return text


def _domain(ctx: _Ctx, sheet, ref, cell, product) -> str:
    text = _free_text(ctx, sheet, ref, cell, "domain").lower().removeprefix("https://").removeprefix("http://")
    text = text.strip().rstrip("/")
    if text and not _DOMAIN.match(text):
        ctx.add("odd_domain", sheet, ref, text)
    elif not text:
        ctx.add("no_domain", sheet, ref, product=product.name)
    return text


def _check_signed(ctx: _Ctx) -> None:
    r = ctx.r
    if not r.signer:
        ctx.add("not_signed")
    m = _DATE_TEXT.search(r.doc_date or "")
    if m:
        r.doc_date = f"{int(m[3]):04d}-{int(m[2]):02d}-{int(m[1]):02d}"
    elif r.doc_date and "ngày" in r.doc_date and not re.search(r"\d", r.doc_date):
        r.doc_date = ""  # the untouched template text


# ---------------------------------------------------------------------- reading by labels
def _read_by_labels(ctx: _Ctx, form: Form) -> Table | None:
    """Find each criterion's row by its label and each product's column by its header; read the
    cells there and nowhere else. Several tables (a sheet copied, a table pasted twice): the one
    filled in, when they do not disagree."""
    book = ctx.book
    tables = _all_tables(book, form)
    if not tables:
        best = max(((s, _label_hits(book, form, s)) for s in book.sheet_names if s != ident.ID_SHEET),
                   key=lambda x: len(x[1]), default=(None, {}))
        lost = [c.group for c in form.criteria if c.id not in best[1]]
        if best[1]:
            ctx.add("form_missing", best[0], why="criteria", criteria=", ".join(f"“{g}”" for g in lost))
        elif ident.FORM_SHEET not in book.sheet_names and ident.ID_SHEET in book.sheet_names:
            ctx.add("form_missing", best[0] or "", why="sheet_deleted", form_sheet=ident.FORM_SHEET)
        else:
            ctx.add("form_missing", best[0] or "")
        return None
    usable = [t for t in tables if t.columns is not None]
    if not usable:
        t = tables[0]
        ctx.add("columns_unknown", t.sheet, products=", ".join(f"“{p.name}”" for p in form.products))
        return None
    readings = [(t, _silent_read(book, form, t)) for t in usable]
    filled = [(t, rd) for t, rd in readings if _filled(rd)] or readings[:1]
    first_t, first_r = filled[0]
    for t, rd in filled[1:]:
        if rd.errors or first_r.errors or rd.answers != first_r.answers:
            _two_tables(ctx, first_t, t)
            return None
    _read_table(ctx, form, first_t)
    _anchored_fields(ctx, form, first_t)
    _check_signed(ctx)
    return first_t


def _two_tables(ctx: _Ctx, a: Table, b: Table) -> None:
    # What was said about the table read (blank cells, no signer) does not hold: the copy was filled.
    ctx.r.findings = [f for f in ctx.r.findings if f.code not in ("blank_answer", "not_signed")]
    ctx.add("duplicate_form", b.sheet, first_sheet=a.sheet, first_row=min(a.rows.values()), row=min(b.rows.values()))


def _anchored_fields(ctx: _Ctx, form: Form, table: Table) -> None:
    """Signer, proposals, domains and date, found next to the template's own texts: those a person
    sees (a hidden anchor or value is passed over, as the eye passes over it)."""
    r = ctx.r
    book, sheet = ctx.book, table.sheet
    rows = _sheet_rows(book, sheet)
    first = min(table.rows.values())
    last = max(table.rows.values())

    def seen(row, col, cell) -> bool:
        return book.hidden(sheet, f"{col_letters(col)}{row}", cell) is None

    for row in sorted(rows):
        for col, cell in sorted(rows[row].items()):
            if cell.kind != "s":
                continue
            key = label_key(cell.value)
            if row > last and key == SIGN_HINT and not r.signer and seen(row, col, cell):
                for below in range(row + 1, row + 8):
                    got = rows.get(below, {}).get(col)
                    if got is not None and got.kind == "s" and clean_text(got.value) and seen(below, col, got):
                        r.signer = _free_text(ctx, sheet, f"{col_letters(col)}{below}", got, "signer")
                        break
            elif row > last and key.startswith(PROPOSALS_HINT) and not r.proposals and seen(row, col, cell):
                got = rows.get(row + 1, {}).get(col)
                if got is not None and got.kind == "s" and seen(row + 1, col, got):
                    r.proposals = _free_text(ctx, sheet, f"{col_letters(col)}{row + 1}", got, "proposals")
            elif row < first and key.startswith("+") and seen(row, col, cell):
                label = key.lstrip("+ ").strip()
                for p in form.products:
                    if label in (form.product_keys[p.id], "tên miền") and p.id not in r.domains:
                        right = sorted((k, v) for k, v in rows[row].items() if k > col and v.kind == "s"
                                       and clean_text(v.value) and seen(row, k, v))
                        if right:
                            k, v = right[0]
                            r.domains[p.id] = _domain(ctx, sheet, f"{col_letters(k)}{row}", v, p)
                        break
            elif row < first and not r.doc_date and _DATE_TEXT.search(clean_text(cell.value)) \
                    and seen(row, col, cell):
                r.doc_date = clean_text(cell.value)


# ---------------------------------------------------------------------- whole-return checks
def _check_other_tables(ctx: _Ctx, form: Form, read: Table) -> None:
    """Another filled criteria table that disagrees with the one read (the unit copied the form
    sheet, or pasted the table again, and filled the copy): refused, never guessed. Big sheets (data
    a unit pasted beside the form) are not searched: a copy of the form is a few dozen KiB."""
    for table in _all_tables(ctx.book, form, max_sheet_bytes=OTHER_TABLE_MAX_BYTES):
        if table.columns is None or (table.sheet == read.sheet and table.rows == read.rows):
            continue
        other = _silent_read(ctx.book, form, table)
        if _filled(other) and (other.errors or other.answers != ctx.r.answers):
            _two_tables(ctx, read, table)
            return


MOTTO = "độc lập - tự do - hạnh phúc"     # the header row: the unit's name sits left of it
_SLOT = "\x00"
_PATTERNS: dict[int, tuple[object, dict]] = {}
_NAMES: dict[int, tuple[object, dict]] = {}


def _name_patterns(campaign, group_id: str) -> list[tuple[str, re.Pattern]]:
    """The form's sentences naming the unit (preamble, conclusion, closing), as (literal start,
    pattern catching the name) over label keys; once per campaign and group."""
    got = _PATTERNS.get(id(campaign))
    if got is None or got[0] is not campaign:
        got = _PATTERNS[id(campaign)] = (campaign, {})
    by_group = got[1]
    if group_id not in by_group:
        texts = campaign.group(group_id).texts
        sentences = [*texts.get("preamble", []), texts.get("conclusion", ""), texts.get("closing", "")]
        out = []
        for text in sentences:
            if "{unit}" not in text:
                continue
            # The unit's name is caught; anything else filled in (domains, ...) matches any text.
            key = label_key(text.format_map(_Fill()))
            pieces = re.split("([\x00\x01])", key)
            regex = "".join("(.+?)" if p == _SLOT else ".*?" if p == "\x01" else re.escape(p) for p in pieces)
            out.append((pieces[0], re.compile(regex)))
        by_group[group_id] = out
    return by_group[group_id]


class _Fill(dict):
    def __missing__(self, key):
        return _SLOT if key == "unit" else "\x01"


def _names_index(units_by_id: dict) -> dict[str, set]:
    """Label key of each registered name -> the units of that name; once per registry."""
    got = _NAMES.get(id(units_by_id))
    if got is None or got[0] is not units_by_id:
        index: dict[str, set] = {}
        for u in units_by_id.values():
            index.setdefault(label_key(u.name), set()).add(u.id)
        _NAMES.clear()
        got = _NAMES[id(units_by_id)] = (units_by_id, index)
    return got[1]


def _check_visible_unit(ctx: _Ctx, form: Form, table: Table, units_by_id: dict) -> None:
    """The hidden identification (sheet, names, token) against the unit's name a person reads on the
    form: the header left of the motto, and the preamble, conclusion and closing sentences. A
    form whose identification was pasted from another unit still shows the first unit's name."""
    book, unit, sheet = ctx.book, form.unit, table.sheet
    cells = book.cells(sheet)
    patterns = _name_patterns(form.campaign, unit.group)
    shortest = min((len(start) for start, _ in patterns), default=0)
    slots: list[tuple[str, str]] = []       # (cell, the name it shows)
    motto_rows = []
    for ref, cell in cells.items():         # one pass; the sentences are long texts, the motto is one
        if cell.kind != "s":
            continue
        key = label_key(cell.value)
        if key == MOTTO:
            motto_rows.append(split_ref(ref))
            continue
        if len(key) < shortest:
            continue
        for start, pattern in patterns:
            if key.startswith(start):
                m = pattern.fullmatch(key)
                if m:
                    slots.append((ref, m[1]))
    rows = _sheet_rows(book, sheet)
    for row, motto in motto_rows:           # the header: the name is the first text left of the motto
        left = sorted((c, cell) for c, cell in rows.get(row, {}).items() if c < motto and cell.kind == "s"
                      and clean_text(cell.value))
        if left:
            c, cell = left[0]
            slots.insert(0, (f"{col_letters(c)}{row}", cell.value))
    index = _names_index(units_by_id)
    own = label_key(unit.name)
    confirmed, shown = False, None
    for ref, name in slots:
        if book.hidden(sheet, ref, cells.get(ref)) is not None:
            continue                     # not what a person reads
        key = label_key(name)
        bare = key.removeprefix("ubnd ").strip()
        if own in (key, bare):
            confirmed = True
            continue
        others = (index.get(key) or index.get(bare) or set()) - {unit.id}
        if others:
            other = units_by_id[sorted(others)[0]]
            ctx.add("unit_mismatch", sheet, ref, clean_text(name), unit=unit.name, other_unit=other.name)
            return
        shown = shown or (ref, clean_text(name))
    if not confirmed:
        ref, name = shown or ("", "")
        ctx.add("unit_name_missing", sheet, ref, name, unit=unit.name)


def _check_not_empty(ctx: _Ctx, form: Form, table: Table) -> None:
    """A return with no answer at all is the blank form sent back: not a reply."""
    r = ctx.r
    if r.answers and all(v == "blank" for v in r.answers.values()):
        r.findings = [f for f in r.findings if f.code != "blank_answer"]
        ctx.add("no_answers", table.sheet, expected=form.amap.allowed)
