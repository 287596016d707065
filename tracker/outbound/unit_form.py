"""One unit's workbook: the form of Phụ lục 01/02 filled in for that unit, protected, print-ready.

Sheets: the form (answer dropdowns, notes, domain, proposals, signer: the only unlocked cells),
"Hướng dẫn" (how to fill it in), and a very-hidden identification sheet.

The form is the paper a head of unit signs: A4 at 100 % over as many pages as it needs, with the
margins, fonts and page numbers of Nghị định 30/2020/NĐ-CP. Every row height is set here from the
measured text (a spreadsheet does not grow rows for wrapped text in merged cells), so where each
page ends is known here too: page breaks keep a heading with what follows, the table's header is
printed again on the page the table continues on, and the closing, "Nơi nhận" and signature stay
together. The conclusion is a formula over the domain cells of section I.2, so a unit that
corrects its domain signs a paper that says the same thing twice.

Page 1 carries the form's QR code (campaign, unit, token: tracker.model.ident), 20 mm across on
paper at any print scale, in the letterhead's right block under the date, where the decree's
layout leaves the space beside "V/v ..." empty: the row grows to the code's height, nothing of the
letterhead moves. The unit's id is printed beside it in small type, for a person to read.
"""
from __future__ import annotations

import datetime as dt
import io
import re

from xlsxwriter.utility import xl_rowcol_to_cell

from tracker.model import ident
from tracker.model.campaign import Campaign, letter_reference, submission
from tracker.model.dates import show_text
from tracker.model.registry import Unit, unit_facts
from tracker.outbound.sheets import SafeWorkbook
from tracker.outbound.styles import (
    FORM_BASE,
    FORM_WORKBOOK_OPTIONS,
    INPUT_TINT,
    PAGE_SAFETY,
    PRINT_H,
    PT_PER_PX,
    FormSheet,
    Styles,
    a4_form,
    a4_portrait,
    form_row_height,
    px_round,
    text_width,
    wrap_lines,
)

GUIDE_PX = [40, 580]
BLANK_DOMAIN = "nêu tại mục I.2"   # what the conclusion says while no domain is filled in
DOMAIN_ROOM = "x" * 30             # the conclusion's row has room for a domain this long
RULE_CHAR, RULE_PT = "_", 8        # the short rule under the unit's name, in underscores
PRODUCT_PT = 11                    # product names in the table's header
TABLE_PT = 12                      # the criteria table (the paragraphs are 13)
SIGNATURE_MM = 31                  # room for the signature and seal, between "(Ký, ...)" and the name
VALUE_SLOTS = ("conclusion",)      # unit texts written as a formula's cached value, not as strings
QR_LABEL_PT = 9                    # the unit id beside the QR code
QR_LABEL_GAP_PT = 8                # between the label and the QR picture
QR_NAME = "qr.png"                 # the picture's name in the workbook (xl/media/image1.png)
QR_DESCRIPTION = "Mã QR của biên bản"


SCALES = (100, 99, 98, 97, 96, 95)   # print scales tried, in order, for the form to fit MAX_PAGES
MAX_PAGES = 2


def column_px(n_products: int, scale: int = 100) -> list[int]:
    """Pixel widths of the form's columns: A STT | B Nhóm tiêu chí | C:D Nội dung | then, for one
    product, its answer column and "Ghi chú"; for more, each product's answer and its own "Ghi
    chú" side by side (a note is about one product). Printed, they fill the printable width
    (620 px = 465 pt of 467.7) at any scale; columns A:C hold the letterhead's left block, D.. the
    Quốc hiệu (380 px whatever the products)."""
    if n_products == 1:
        px = [40, 84, 136, 176, 84, 100]
    elif n_products == 2:
        # An answer holds "Đáp ứng" on a line (12 pt bold); "Ghi chú" wraps in its header as
        # "Mức độ đáp ứng" does beside it. The detail keeps the rest: enough for the form of a
        # sở with two products to print at 100 % on two pages.
        px = [40, 84, 116, 124, 70, 58, 70, 58]
    else:                      # more products than this campaign has: narrower pairs, then detail
        pair = max(90, min(150, (620 - 38 - 80 - 112 - 40) // n_products))
        answer, note = pair * 5 // 9, pair - pair * 5 // 9
        px = [38, 80, 112, max(20, 620 - 38 - 80 - 112 - pair * n_products)] + [answer, note] * n_products
    return [round(p * 100 / scale) for p in px]


def table_columns(n_products: int) -> tuple[list[int], list[int]]:
    """(answer column of each product, note column of each product) in the form's table; with one
    product there is one "Ghi chú" column, which is that product's."""
    if n_products == 1:
        return [4], [5]
    return [4 + 2 * i for i in range(n_products)], [5 + 2 * i for i in range(n_products)]


def _pt(px: int) -> float:
    return px * PT_PER_PX


def qr_sheet_pt(scale: int = 100) -> float:
    """The QR picture's side in the sheet, in points: QR_WIDTH_MM on paper at the print scale."""
    return ident.QR_WIDTH_MM * 72 / 25.4 * 100 / scale


def qr_label_cols(px: list[int], scale: int = 100) -> tuple[int, int]:
    """Columns of the QR's label: from the letterhead's right block (D) to the last column that
    ends clear of the picture, which is flush with the form's right edge (the last column's)."""
    room = _pt(sum(px)) - qr_sheet_pt(scale) - QR_LABEL_GAP_PT
    last = 3
    while last + 1 < len(px) and _pt(sum(px[:last + 2])) <= room:
        last += 1
    return 3, last


def unit_qr(campaign: Campaign, unit: Unit, secret: bytes) -> bytes:
    """The PNG of the QR code printed on the unit's form."""
    return ident.qr_png(ident.qr_payload_for(secret, campaign.id, unit.id, campaign.version))


class _Keep(dict):
    """format_map values that leave an unknown {placeholder} as written."""

    def __missing__(self, key):
        return "{" + key + "}"


def _fill(text: str, values: dict) -> str:
    try:
        return str(text).format_map(_Keep(values))
    except (ValueError, IndexError, AttributeError):
        return str(text)          # a stray brace in a template text: shown as written


def conclusion_value(head: str, domains: list[str], tail: str) -> str:
    """What the conclusion formula computes (Excel's TRIM: runs of spaces to one, none at the ends)."""
    joined = re.sub(" +", " ", " ".join(domains)).strip(" ")
    return head + (joined.replace(" ", ", ") if joined else BLANK_DOMAIN) + tail


def unit_texts(campaign: Campaign, unit: Unit, secret: bytes) -> dict[str, str]:
    """Every text of the workbook that depends on the unit, by slot.

    The writers below take unit-dependent text only from here: that is what lets the fast path
    (tracker.outbound.prototypes) build a unit's workbook from another unit's with the same
    layout. Slots in VALUE_SLOTS are cached formula values (in the sheet, not the string table)."""
    group = campaign.group(unit.group)
    texts = group.texts
    facts = unit_facts(campaign, unit)
    values = {**letter_reference(campaign), "unit": facts.in_text, "unit_name": unit.name}
    n = len(unit.products)
    t = {"parent": facts.governing_body.upper(), "name_upper": unit.name.upper()}
    t["name_rule"] = _rule_for(t["name_upper"], column_px(n))
    for i, para in enumerate(texts.get("preamble", [])):
        t[f"preamble_{i}"] = "      " + _fill(para, values)
    for p in unit.products:
        t[f"domain_label_{p.key}"] = f"      + {p.name}:" if n > 1 or p.kind != "site" else "      + Tên miền:"
        t[f"domain_{p.key}"] = p_domain(unit, p, campaign)
        t[f"product_{p.key}"] = p.name
    # Split where the domain goes: the form computes that part from the domain cells.
    head, _, tail = _fill(texts.get("conclusion", ""), {**values, "domain": "\0"}).partition("\0")
    # The indent in no-break spaces: a formula's cached value loses leading spaces in LibreOffice.
    t["conclusion_head"], t["conclusion_tail"] = "\u00a0" * 6 + head, tail
    t["conclusion"] = (conclusion_value(t["conclusion_head"], [p_domain(unit, p, campaign) for p in unit.products], tail)
                       if _says_domain(group) else t["conclusion_head"] + tail)
    t["closing"] = "      " + _fill(texts.get("closing", ""), values)
    for i, line in enumerate(facts.copies):
        t[f"copy_{i}"] = f"- {line}"
    t["guide_title"] = f"HƯỚNG DẪN ĐIỀN {group.form.upper()} - {unit.name.upper()}"
    t["guide_unit"] = f"Đơn vị: {unit.name} (mã {unit.id}). Chiến dịch: {campaign.title}."
    t["ident_unit"] = unit.id
    t["ident_token"] = ident.token(secret, campaign.id, unit.id, campaign.version)
    t["ident_products"] = "|".join(p.key for p in unit.products)
    t["qr_label"] = f"Mã đơn vị: {unit.id}"
    t["prop_title"] = f"{campaign.title} - {unit.name}"
    t["prop_comments"] = f"{campaign.id}/{unit.id}"
    return t


def _says_domain(group) -> bool:
    return "{domain}" in str(group.texts.get("conclusion", ""))


def _rule_for(name_upper: str, px: list[int]) -> str:
    """Underscores drawing a rule 40 % as long as the longest line of the name (Nghị định 30:
    1/3 to 1/2 of it), centred under it."""
    left = _pt(sum(px[:3]))
    longest = max(min(text_width(line, 13, bold=True), left - 6) for line in name_upper.split("\n"))
    per = text_width(RULE_CHAR, RULE_PT)
    return RULE_CHAR * max(3, round(0.4 * longest / per))


def layout_facts(campaign: Campaign, unit: Unit) -> tuple:
    """What shapes a unit's workbook besides its texts (formats that differ by kind of unit)."""
    return (unit_facts(campaign, unit).governing_body_bold,)


def text_measures(n_products: int, scale: int = 100) -> dict[str, tuple]:
    """(width pt, font pt, bold) at which each unit text is wrapped by the writers below, by slot
    prefix. Keep in step with _write_form/_write_guide: the fast path treats two units alike when
    their texts wrap to the same number of lines at these measures (tests compare fast and
    direct builds)."""
    px = column_px(n_products, scale)
    left, full, right = _pt(sum(px[:3])), _pt(sum(px)), _pt(sum(px[3:]))
    qr_first, qr_last = qr_label_cols(px, scale)
    product = _pt(px[4] if n_products == 1 else px[4] + px[5])     # a product's name over its column(s)
    return {"parent": (left, 13, True), "name_upper": (left, 13, True), "preamble_": (full, 13, False),
            "conclusion": (full, 13, False), "conclusion_": (full, 13, False), "closing": (full, 13, False), "domain_label_": (left, 13, False),
            "domain_": (right, 13, False), "product_": (product, PRODUCT_PT, True), "copy_": (left, 11, False),
            "guide_unit": (_pt(sum(GUIDE_PX)), 11, False),
            "qr_label": (_pt(sum(px[qr_first:qr_last + 1])), QR_LABEL_PT, False)}


def text_lines(slot: str, text: str, n_products: int, scale: int = 100) -> int | None:
    """Lines a unit text takes where it is written (None: its length shapes nothing)."""
    measures = text_measures(n_products, scale)
    m = next((v for k, v in measures.items() if slot == k or (k.endswith("_") and slot.startswith(k))), None)
    return None if m is None else wrap_lines(text, *m)


def conclusion_lines(t: dict, n_products: int, scale: int = 100) -> int:
    """Lines of the conclusion's row: what it says now, or with a domain as long as a unit may
    type (the formula follows the domain cells; the row must hold what it will say)."""
    width = text_measures(n_products, scale)["conclusion"][0]
    room = conclusion_value(t["conclusion_head"], [DOMAIN_ROOM], t["conclusion_tail"])
    return max(wrap_lines(room, width), wrap_lines(t["conclusion"], width))


def layout_shape(campaign: Campaign, unit: Unit, t: dict, scale: int = 100) -> tuple:
    """Units with equal shapes get workbooks that differ only in their texts (and in the
    conclusion's cached value): same group, products, formats, and every unit text of the same
    emptiness and line count where it is written at that print scale."""
    n = len(unit.products)
    texts = tuple((slot, bool(text), text_lines(slot, text, n, scale)) for slot, text in t.items())
    return (unit.group, tuple((p.key, p.kind) for p in unit.products), layout_facts(campaign, unit), scale, texts,
            conclusion_lines(t, n, scale))


class _Null:
    """Stands for the workbook, sheet and styles when a layout is only measured (form_scale)."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def form_pages(campaign: Campaign, unit: Unit, t: dict, scale: int) -> int:
    """Pages the form prints on at `scale`, its layout measured without writing a workbook."""
    null = _Null()
    return _write_form(null, null, null, campaign, campaign.group(unit.group), unit, t, scale)


def form_scale(campaign: Campaign, unit: Unit, t: dict) -> int:
    """The print scale of the unit's form: 100 % when it fits MAX_PAGES pages; otherwise the
    largest of SCALES that makes it fit (columns widened to keep the margins), else 100 %."""
    for scale in SCALES:
        if form_pages(campaign, unit, t, scale) <= MAX_PAGES:
            return scale
    return 100


def workbook_properties(campaign: Campaign, t: dict) -> dict:
    issuer = campaign.section("issuer").get("name", "")
    return {"title": t["prop_title"], "author": issuer, "company": issuer, "comments": t["prop_comments"],
            # a fixed time keeps regenerated files byte-identical when nothing changed
            "created": dt.datetime.combine(campaign.due, dt.time())}


def build_unit_workbook(campaign: Campaign, unit: Unit, secret: bytes, target=None, *,
                        options: dict | None = None, keep=None, scale: int | None = None,
                        qr: bytes | None = None) -> bytes | None:
    """Write the unit's workbook to `target` (path) or return its bytes.

    `options` replaces xlsxwriter's in-memory packaging (the benchmark's plain baseline uses
    xlsxwriter's defaults); `keep(workbook)` is called after closing (the fast path reads the
    string table there); `scale`: the form's print scale when the caller knows it (form_scale);
    `qr`: the unit's QR picture when the caller has made it (unit_qr)."""
    buf = io.BytesIO() if target is None else None
    wb = SafeWorkbook(target or buf, {**FORM_WORKBOOK_OPTIONS, **(options if options is not None
                                                                          else {"in_memory": True})})
    t = unit_texts(campaign, unit, secret)
    if scale is None:
        scale = form_scale(campaign, unit, t)
    wb.set_properties(workbook_properties(campaign, t))
    st = Styles(wb, FORM_BASE)
    group = campaign.group(unit.group)
    form_ws = wb.add_worksheet(ident.FORM_SHEET, worksheet_class=FormSheet)
    guide_ws = wb.add_worksheet(ident.GUIDE_SHEET)
    id_ws = wb.add_worksheet(ident.ID_SHEET)
    _write_form(wb, form_ws, st, campaign, group, unit, t, scale, unit_qr(campaign, unit, secret) if qr is None else qr)
    _write_guide(guide_ws, st, campaign, group, unit, t)
    _write_ident(wb, id_ws, campaign, unit, t)
    form_ws.activate()
    wb.close()
    if keep is not None:
        keep(wb)
    return buf.getvalue() if buf is not None else None


class _Sheet:
    """A row cursor over the form, recording each row's height and which rows must be printed
    on the same page as the row after them."""

    def __init__(self, ws, styles: Styles, px: list[int]):
        self.ws, self.st, self.row = ws, styles, 0
        self.widths = [_pt(p) for p in px]
        self.last_col = len(px) - 1
        self.heights: dict[int, float] = {}
        self.glued: set[int] = set()
        for i, p in enumerate(px):
            ws.set_column_pixels(i, i, p)

    def span(self, c1: int, c2: int) -> float:
        return sum(self.widths[c1:c2 + 1])

    def put(self, c1, c2, text, style="body", *, row=None, pt=13, bold=False, italic=False, **extra) -> int:
        """Write text over columns c1..c2 of a row (merged when wider than one); its line count."""
        r = self.row if row is None else row
        fmt = self.st.get(style, **extra)
        if c1 == c2:
            self.ws.write_string(r, c1, text, fmt)
        else:
            self.ws.merge_range(r, c1, r, c2, "", fmt)
            self.ws.write_string(r, c1, text, fmt)
        return wrap_lines(text, self.span(c1, c2), pt, bold, italic)

    def height(self, row: int, points: float, *, glue: bool = False) -> None:
        points = px_round(points)
        self.ws.set_row(row, points)
        self.heights[row] = points
        if glue:
            self.glued.add(row)

    def line(self, text, style="body", *, pt=13, bold=False, italic=False, glue=False, **extra) -> None:
        n = self.put(0, self.last_col, text, style, pt=pt, bold=bold, italic=italic, **extra)
        self.height(self.row, form_row_height(n, pt), glue=glue)
        self.row += 1

    def blank(self, points: float = 6, *, glue: bool = True) -> None:
        self.height(self.row, points, glue=glue)
        self.row += 1


def paginate(heights: list[float], glued: set[int], capacity: float,
             repeat: tuple[int, int] | None = None) -> list[int]:
    """First rows of the pages after the first: a row in `glued` stays on the page of the row
    after it; `repeat` rows are printed again atop every page after the one they are on."""
    blocks, start = [], 0
    for r in range(len(heights)):
        if r not in glued:
            blocks.append((start, r))
            start = r + 1
    if start < len(heights):
        blocks.append((start, len(heights) - 1))
    again = sum(heights[repeat[0]:repeat[1] + 1]) if repeat else 0.0
    breaks, used = [], 0.0
    for a, b in blocks:
        h = sum(heights[a:b + 1])
        if used > 0 and used + h > capacity:
            breaks.append(a)
            used = again if repeat and a > repeat[1] else 0.0
        used += h
    return breaks


def _write_form(wb, ws, st: Styles, campaign: Campaign, group, unit: Unit, t: dict, scale: int = 100,
                qr: bytes | None = None) -> int:
    """Write the form at a print scale, with its QR picture (None: only measured); the number of
    pages it prints on."""
    n = len(unit.products)
    px = column_px(n, scale)
    s = _Sheet(ws, st, px)
    last = s.last_col
    answer_cols, note_cols = table_columns(n)
    left_end, right_start = 2, 3
    helper = last + 1          # hidden columns holding the conclusion's text around the domains
    sheet = ident.FORM_SHEET
    texts = group.texts
    facts = unit_facts(campaign, unit)
    letter = letter_reference(campaign)
    yellow = wb.add_format({"bg_color": INPUT_TINT})

    def define(name: str, row: int, col: int) -> None:
        wb.define_name(name, f"='{sheet}'!{xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)}")

    def yellow_while(row: int, col: int, unchanged: str | None = None) -> None:
        """Yellow on screen while the unit has not filled the cell in; never once it has."""
        if unchanged is None:
            ws.conditional_format(row, col, row, col, {"type": "blanks", "format": yellow})
        else:
            ws.conditional_format(row, col, row, col, {"type": "cell", "criteria": "equal to",
                                                       "value": '"' + unchanged.replace('"', '""') + '"',
                                                       "format": yellow})

    # Appendix heading, as in the letter.
    s.line(_fill(texts.get("form_title", group.form), letter), "bold_center", bold=True, glue=True)
    s.line(_fill(texts.get("form_subtitle", ""), letter), "bold_center", bold=True, glue=True)
    s.line(_fill(texts.get("form_attachment", ""), letter), "italic_center", italic=True, glue=True)
    s.blank(6)
    # Letterhead: governing body and unit (left, with a short rule), Quốc hiệu and Tiêu ngữ (right).
    r = s.row
    parent_bold = facts.governing_body_bold
    h = s.put(0, left_end, t["parent"], "bold_center" if parent_bold else "center", row=r, bold=parent_bold)
    s.put(right_start, last, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "quoc_hieu", row=r, pt=12, bold=True,
          valign="bottom")
    s.height(r, form_row_height(h), glue=True)
    r += 1
    h = s.put(0, left_end, t["name_upper"], "bold_center", row=r, bold=True)
    s.put(right_start, last, "Độc lập - Tự do - Hạnh phúc", "tieu_ngu", row=r, bold=True)
    s.height(r, form_row_height(h), glue=True)
    r += 1
    s.put(0, left_end, t["name_rule"], "f_rule", row=r, pt=RULE_PT, font_size=RULE_PT)
    s.height(r, RULE_PT * 1.25, glue=True)
    r += 1
    s.height(r, 6, glue=True)
    r += 1
    docno = f"Số:        {texts.get('doc_number_suffix', '/')}"
    s.put(0, left_end, docno, "f_docno", row=r)
    define(ident.NAME_DOCNO, r, 0)
    yellow_while(r, 0, docno)
    year = campaign.section("campaign").get("year", "")
    place = campaign.section("campaign").get("city", "")
    docdate = f"{place}, ngày      tháng      năm {year}"
    s.put(right_start, last, docdate, "f_date", row=r, italic=True)
    define(ident.NAME_DOCDATE, r, right_start)
    yellow_while(r, right_start, docdate)
    s.height(r, form_row_height(1), glue=True)
    r += 1
    h = s.put(0, left_end, texts.get("subject", ""), "center", row=r, pt=12, font_size=12)
    s.height(r, max(form_row_height(h, 12), _place_qr(ws, s, r, t, px, scale, qr)), glue=True)
    s.row = r + 1
    s.blank(6)
    recipient = campaign.section("issuer").get("recipient", "")
    s.line(f"Kính gửi: {recipient}.", "center", pt=14, font_size=14)
    for i in range(len(texts.get("preamble", []))):
        s.line(t[f"preamble_{i}"])
    # Section I.
    s.line("I. Nội dung thực hiện", "bold", bold=True, glue=True)
    s.line(f"1. Thời gian triển khai thử nghiệm: {campaign.section('campaign').get('trial_period', '')}")
    s.line("2. Tổ chức cài đặt:", glue=True)
    s.line(f"   - Hình thức cài đặt: {texts.get('install_form', '')}", glue=True)
    s.line(f"   - Địa chỉ tên miền hoạt động: {texts.get('domain_hint', '')}", glue=True)
    domain_cells = []
    for i, p in enumerate(unit.products):
        h = s.put(0, left_end, t[f"domain_label_{p.key}"], "left")
        h = max(h, s.put(right_start, last, t[f"domain_{p.key}"], "f_domain"))
        define(ident.domain_name(p.key), s.row, right_start)
        yellow_while(s.row, right_start)
        domain_cells.append(xl_rowcol_to_cell(s.row, right_start))
        s.height(s.row, form_row_height(h), glue=i < n - 1)
        s.row += 1
    s.line("3. Nội dung triển khai", glue=True)
    # Criteria table: two header rows, then one row per criterion.
    r = head_row = s.row
    th = st.get("f_th")
    ws.merge_range(r, 0, r + 1, 0, "", th)
    ws.write_string(r, 0, "STT", th)
    ws.merge_range(r, 1, r + 1, 1, "", th)
    ws.write_string(r, 1, "Nhóm tiêu chí", th)
    ws.merge_range(r, 2, r + 1, 3, "", th)
    ws.write_string(r, 2, "Nội dung đánh giá chi tiết", th)
    title = campaign.section("answers").get("input_title", "Mức độ đáp ứng")
    if n == 1:
        # As the letter has it: "Mức độ đáp ứng" over the product's name, "Ghi chú" beside.
        [col], [note_col] = answer_cols, note_cols
        ws.write_string(r, col, title, th)
        ws.merge_range(r, note_col, r + 1, note_col, "", th)
        ws.write_string(r, note_col, "Ghi chú", th)
        p = unit.products[0]
        ws.write_string(r + 1, col, t[f"product_{p.key}"], st.get("f_th", font_size=PRODUCT_PT))
        head_lines = wrap_lines(title, s.widths[col], bold=True)
        product_lines = wrap_lines(t[f"product_{p.key}"], s.widths[col], PRODUCT_PT, True)
    else:
        # Each product's name over its own answer and "Ghi chú" columns: a note is about one product.
        product_th = st.get("f_th", font_size=PRODUCT_PT)
        head_lines = sub_lines = 1
        for i, p in enumerate(unit.products):
            col, note_col = answer_cols[i], note_cols[i]
            ws.merge_range(r, col, r, note_col, "", product_th)
            ws.write_string(r, col, t[f"product_{p.key}"], product_th)
            head_lines = max(head_lines, wrap_lines(t[f"product_{p.key}"], s.span(col, note_col), PRODUCT_PT, True))
            ws.write_string(r + 1, col, title, product_th)
            ws.write_string(r + 1, note_col, "Ghi chú", product_th)
            sub_lines = max(sub_lines, wrap_lines(title, s.widths[col], PRODUCT_PT, bold=True),
                            wrap_lines("Ghi chú", s.widths[note_col], PRODUCT_PT, bold=True))
        product_lines = sub_lines
    s.height(r, form_row_height(head_lines, PRODUCT_PT if n > 1 else 13), glue=True)
    s.height(r + 1, form_row_height(product_lines, PRODUCT_PT), glue=True)
    r += 2
    first_answer_row = r
    answers = list(campaign.answers)
    ans = campaign.section("answers")
    answer_lines = max(wrap_lines(a, s.widths[answer_cols[0]], TABLE_PT, bold=True) for a in answers)
    td = st.get("td", font_size=TABLE_PT)
    for idx, cr in enumerate(campaign.criteria, 1):
        ws.write_number(r, 0, idx, st.get("td_center", font_size=TABLE_PT))
        ws.write_string(r, 1, cr.group, td)
        ws.merge_range(r, 2, r, 3, "", td)
        ws.write_string(r, 2, cr.detail, td)
        lines = max(wrap_lines(cr.group, s.widths[1], TABLE_PT), wrap_lines(cr.detail, s.span(2, 3), TABLE_PT),
                    answer_lines)
        for i, p in enumerate(unit.products):
            col = answer_cols[i]
            ws.write_blank(r, col, None, st.get("f_answer", font_size=TABLE_PT))
            ws.data_validation(r, col, r, col, {
                "validate": "list", "source": answers, "ignore_blank": True,
                "input_title": ans.get("input_title", "")[:32],
                "input_message": ans.get("input_message", "")[:255],
                "error_type": "stop", "error_title": ans.get("error_title", "")[:32],
                "error_message": ans.get("error_message", "")[:255],
            })
            define(ident.answer_name(p.key, cr.id), r, col)
            # One product: the note named as forms always named it; more: each product's own.
            ws.write_blank(r, note_cols[i], None, st.get("f_note", font_size=TABLE_PT))
            define(ident.note_name(cr.id, p.key if n > 1 else None), r, note_cols[i])
        s.height(r, form_row_height(lines, TABLE_PT))
        r += 1
    for col in answer_cols:
        ws.conditional_format(first_answer_row, col, r - 1, col, {"type": "blanks", "format": yellow})
    last_table_row = r - 1
    s.row = r
    s.blank(4)
    # Section II: the conclusion follows the domain cells of section I.2.
    s.line("II. Kết luận", "bold", bold=True, glue=True)
    r = s.row
    hidden = st.get("body")
    ws.write_string(r, helper, t["conclusion_head"], hidden)
    ws.write_string(r, helper + 1, t["conclusion_tail"], hidden)
    ws.set_column_pixels(helper, helper + 1, 64, None, {"hidden": True})
    head_ref, tail_ref = xl_rowcol_to_cell(r, helper), xl_rowcol_to_cell(r, helper + 1)
    joined = '&" "&'.join(domain_cells)
    formula = (f'={head_ref}&IF(TRIM({joined})="","{BLANK_DOMAIN}",SUBSTITUTE(TRIM({joined})," ",", "))'
               f'&{tail_ref}') if _says_domain(group) else f"={head_ref}&{tail_ref}"
    body = st.get("body")
    ws.merge_range(r, 0, r, last, "", body)
    ws.write_formula(r, 0, formula, body, t["conclusion"])
    s.height(r, form_row_height(conclusion_lines(t, n, scale)))
    s.row += 1
    s.line("III. Đề xuất, kiến nghị: Nêu các kiến nghị, đề xuất khác (nếu có)", "bold", bold=True, glue=True)
    s.put(0, last, "", "f_box")
    define(ident.NAME_PROPOSALS, s.row, 0)
    s.height(s.row, form_row_height(2))
    s.row += 1
    s.blank(4)
    # Closing, thanks, "Nơi nhận" and the signature: one block, never split over two pages.
    s.line(t["closing"], glue=True)
    s.line("      Trân trọng cảm ơn./.", glue=True)
    s.blank(4)
    r = s.row
    s.put(0, left_end, "Nơi nhận:", "small_bold_italic", row=r, pt=12, bold=True, italic=True)
    h = s.put(right_start, last, texts.get("signer_title", "THỦ TRƯỞNG ĐƠN VỊ"), "bold_center", row=r, bold=True)
    s.height(r, form_row_height(h), glue=True)
    r += 1
    copies = [k for k in t if k.startswith("copy_")]
    hint_row = r
    gap = 0.0                  # points between the "(Ký, ...)" line and the signer's name
    for i, key in enumerate(copies or [None]):
        h = s.put(0, left_end, t[key], "small", row=r, pt=11) if key else 1
        if i == 0:
            s.put(right_start, last, "(Ký, ghi rõ họ tên, đóng dấu)", "italic_center", row=r, italic=True)
            s.height(r, form_row_height(max(h, 1)), glue=True)
        else:
            s.height(r, form_row_height(h, 11), glue=True)
            gap += s.heights[r]
        r += 1
    # Nghị định 30 leaves room for the signature and the seal: at least 30 mm.
    need = SIGNATURE_MM * 72 / 25.4 - gap
    if need > 0:
        s.height(r, need, glue=True)
        r += 1
    s.put(right_start, last, "", "f_signer", row=r)
    define(ident.NAME_SIGNER, r, right_start)
    yellow_while(r, right_start)
    s.height(r, form_row_height(1))
    last_row = r
    assert hint_row < last_row
    # Pages: breaks where a block would not fit; the table's header again where the table goes on.
    heights = [s.heights.get(i, 15.0) for i in range(last_row + 1)]
    capacity = (PRINT_H - PAGE_SAFETY) * 100 / scale
    breaks = paginate(heights, s.glued, capacity)
    repeat = None
    if any(head_row + 2 < b <= last_table_row for b in breaks):
        # The table runs over a page: its header is printed again atop every later page. So that
        # no page after the table gets a header with nothing under it, the last criterion stays
        # on the page of everything after it.
        repeat = (head_row, head_row + 1)
        breaks = paginate(heights, s.glued | set(range(last_table_row, last_row)), capacity, repeat)
    a4_form(ws, scale=scale, repeat=repeat, breaks=breaks)
    ws.print_area(0, 0, last_row, last)
    ws.hide_gridlines(2)
    ws.set_default_row(hide_unused_rows=False)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True,
                    "format_rows": True, "format_columns": True})
    ws.set_selection(first_answer_row, answer_cols[0], first_answer_row, answer_cols[0])
    return len(breaks) + 1


def _place_qr(ws, s: _Sheet, row: int, t: dict, px: list[int], scale: int, qr: bytes | None) -> float:
    """The QR picture in `row` (the "V/v" row), flush with the top-right corner of
    the row, and the unit's id left of it, bottom-aligned with it; the row height they need."""
    side = qr_sheet_pt(scale)
    first, last = qr_label_cols(px, scale)
    s.put(first, last, t["qr_label"], "f_qr_label", row=row, pt=QR_LABEL_PT)
    if qr is not None:
        # xlsxwriter sizes a picture from its pixels and pHYs resolution (QR_WIDTH_MM at 100 %);
        # the print scale shrinks it with the sheet, so it is enlarged by as much here.
        grow = 100 / scale
        ws.insert_image(row, 0, QR_NAME, {"image_data": io.BytesIO(qr), "x_offset": sum(px) - side / PT_PER_PX,
                                          "y_offset": 0, "x_scale": grow, "y_scale": grow,
                                          "description": QR_DESCRIPTION, "object_position": 2})
    return px_round(side + 1)


def p_domain(unit: Unit, product, campaign: Campaign) -> str:
    """The domain we know for a product: the registry's for the unit's site, blank otherwise."""
    return unit.domain if product.kind == "site" else ""


def guide_steps(campaign: Campaign) -> list[str]:
    """The steps of the "Hướng dẫn" sheet: the template's [guide].steps, placeholders filled."""
    answers = campaign.answers
    issuer = campaign.section("issuer")
    values = {"form_sheet": ident.FORM_SHEET, "met": answers[0], "not_met": answers[1],
              "recipient": issuer.get("recipient", ""), "due": show_text(campaign.due),
              "due_text": campaign.section("campaign").get("due_text", ""), **submission(campaign)}
    steps = campaign.section("guide").get("steps", [])
    if steps:
        return [_fill(step, values) for step in steps]
    sub = submission(campaign)
    return [
        f"Mở trang “{ident.FORM_SHEET}”. Các ô nền vàng là ô phải điền; các ô khác đã được khóa để tránh sửa nhầm.",
        (f"Ở mỗi tiêu chí, bấm vào ô nền vàng trong cột “Mức độ đáp ứng” rồi chọn “{answers[0]}” hoặc "
         f"“{answers[1]}” trong danh sách thả xuống. Không gõ tay, không dán giá trị khác, không dùng công thức."),
        "Có ghi chú cho tiêu chí nào thì ghi vào cột “Ghi chú” của dòng đó.",
        "Kiểm tra, sửa nếu cần, địa chỉ tên miền đang hoạt động ở mục I.2.",
        "Ghi kiến nghị, đề xuất (nếu có) ở mục III; điền số văn bản, ngày ký và họ tên Thủ trưởng đơn vị.",
        "Lưu tệp ở dạng Excel (.xlsx). Có thể đổi tên tệp; không xóa, không đổi cấu trúc các trang.",
        f"In trang “{ident.FORM_SHEET}”, trình Thủ trưởng đơn vị ký, đóng dấu.",
        f"{sub['send_to']}, {values['due_text']} (hạn cuối nhận: {values['due']}). {sub['send_rule']}",
    ]


def _write_guide(ws, st: Styles, campaign: Campaign, group, unit: Unit, t: dict) -> None:
    widths = [_pt(p) for p in GUIDE_PX]
    for i, p in enumerate(GUIDE_PX):
        ws.set_column_pixels(i, i, p)
    sup = campaign.section("support")
    row = 0

    def put(text: str, style: str, pt: float = 13, bold: bool = False) -> None:
        nonlocal row
        ws.merge_range(row, 0, row, 1, "", st.get(style, font_size=pt))
        ws.write_string(row, 0, text, st.get(style, font_size=pt))
        ws.set_row(row, form_row_height(wrap_lines(text, sum(widths), pt, bold), pt))
        row += 1

    put(t["guide_title"], "bold_center", bold=True)
    ws.set_row(row, 8)
    row += 1
    for i, step in enumerate(guide_steps(campaign), 1):
        ws.write_number(row, 0, i, st.get("center"))
        ws.write_string(row, 1, step, st.get("left"))
        ws.set_row(row, form_row_height(wrap_lines(step, widths[1])))
        row += 1
    ws.set_row(row, 8)
    row += 1
    contact = f"Đầu mối hướng dẫn, hỗ trợ: {sup.get('name', '')}, {sup.get('role', '')}, điện thoại: {sup.get('phone', '')}"
    if sup.get("email"):
        contact += f", email: {sup['email']}"
    put(contact + ".", "bold", bold=True)
    ws.set_row(row, 8)
    row += 1
    put(t["guide_unit"], "left", pt=11)
    a4_portrait(ws)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})


def _write_ident(wb, ws, campaign: Campaign, unit: Unit, t: dict) -> None:
    values = {"campaign_id": campaign.id, "unit_id": t["ident_unit"], "template_version": campaign.version,
              "token": t["ident_token"]}
    for r, (name, key) in enumerate(ident.ID_FIELDS):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, values[key])
        wb.define_name(name, f"='{ident.ID_SHEET}'!$B${r + 1}")
    r = len(ident.ID_FIELDS)
    ws.write_string(r, 0, "products")
    ws.write_string(r, 1, t["ident_products"])
    ws.write_string(r + 1, 0, "criteria")
    ws.write_string(r + 1, 1, "|".join(c.id for c in campaign.criteria))
    ws.protect("")
    ws.very_hidden()
