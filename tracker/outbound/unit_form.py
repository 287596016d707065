"""One unit's workbook: the form of Phụ lục 01/02 filled in for that unit, protected, print-ready.

Sheets: the form (answer dropdowns, notes, domain, proposals, signer: the only unlocked cells),
"Hướng dẫn" (how to fill it in), and a very-hidden identification sheet.
"""
from __future__ import annotations

import datetime as dt
import io

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from tracker.model.campaign import Campaign
from tracker.model.dates import show
from tracker.model import ident
from tracker.outbound.styles import WORKBOOK_OPTIONS, Styles, a4_portrait, lines_needed, row_height
from tracker.model.registry import Unit

# Columns: A STT | B Nhóm tiêu chí | C:D Nội dung | E.. one answer column per product | Ghi chú
WIDTH_STT, WIDTH_GROUP, WIDTH_DETAIL_1, WIDTH_DETAIL_2 = 5, 15, 22, 16
WIDTH_NOTE = 17
GUIDE_WIDTHS = [4, 86]


def _answer_width(n_products: int) -> float:
    return 15 if n_products == 1 else 13


class _Sheet:
    """A row cursor over a worksheet, with merged paragraphs sized to their text."""

    def __init__(self, ws, styles: Styles, widths: list[float]):
        self.ws, self.st, self.widths, self.row = ws, styles, widths, 0
        self.last_col = len(widths) - 1
        for i, w in enumerate(widths):
            ws.set_column(i, i, w)

    def span_width(self, c1: int, c2: int) -> float:
        return sum(self.widths[c1:c2 + 1])

    def put(self, c1, c2, text, style="body", *, height_text=None, font_pt=13, bold=False,
            row=None, **extra):
        """Write text over columns c1..c2 of the current row (merged when wider than one)."""
        r = self.row if row is None else row
        fmt = self.st.get(style, **extra)
        if c1 == c2:
            self.ws.write_string(r, c1, text, fmt)
        else:
            self.ws.merge_range(r, c1, r, c2, "", fmt)
            self.ws.write_string(r, c1, text, fmt)
        return lines_needed(height_text if height_text is not None else text,
                            self.span_width(c1, c2), font_pt, bold)

    def line(self, text, style="body", *, lines=None, font_pt=13, bold=False, min_lines=1, **extra):
        n = self.put(0, self.last_col, text, style, font_pt=font_pt, bold=bold, **extra)
        self.ws.set_row(self.row, row_height(max(lines or n, min_lines), font_pt))
        self.row += 1

    def blank(self, pt: float = 8):
        self.ws.set_row(self.row, pt)
        self.row += 1


def unit_texts(campaign: Campaign, unit: Unit, secret: bytes) -> dict[str, str]:
    """Every text of the workbook that depends on the unit, by slot.

    The writers below take unit-dependent text only from here: that is what lets the fast path
    (tracker.outbound.prototypes) build a unit's workbook from another unit's with the same layout."""
    group = campaign.group(unit.group)
    texts = group.texts
    fill = {"unit": unit.name}
    n = len(unit.products)
    t = {"name_upper": unit.name.upper()}
    for i, para in enumerate(texts.get("preamble", [])):
        t[f"preamble_{i}"] = "      " + para.format(**fill)
    for p in unit.products:
        t[f"domain_label_{p.key}"] = f"      + {p.name}:" if n > 1 or p.kind != "site" else "      + Tên miền:"
        t[f"domain_{p.key}"] = p_domain(unit, p, campaign)
        t[f"product_{p.key}"] = p.name
    domains = ", ".join(d for d in (p_domain(unit, p, campaign) for p in unit.products) if d)
    t["conclusion"] = "      " + texts.get("conclusion", "").format(unit=unit.name, domain=domains or "nêu tại mục I.2")
    t["closing"] = "      " + texts.get("closing", "").format(**fill)
    t["guide_title"] = f"HƯỚNG DẪN ĐIỀN {group.form.upper()} - {unit.name.upper()}"
    t["guide_unit"] = f"Đơn vị: {unit.name} (mã {unit.id}). Chiến dịch: {campaign.title}."
    t["ident_unit"] = unit.id
    t["ident_token"] = ident.token(secret, campaign.id, unit.id, campaign.version)
    t["ident_products"] = "|".join(p.key for p in unit.products)
    t["prop_title"] = f"{campaign.title} - {unit.name}"
    t["prop_comments"] = f"{campaign.id}/{unit.id}"
    return t


def text_measures(n_products: int) -> dict[str, tuple]:
    """(width, font pt, bold) at which each unit text is wrapped by the writers below, by slot prefix.

    Keep in step with _write_form/_write_guide: the fast path treats two units alike when their texts
    wrap to the same number of lines at these measures (tests compare fast and direct builds)."""
    form = [WIDTH_STT, WIDTH_GROUP, WIDTH_DETAIL_1, WIDTH_DETAIL_2] + [_answer_width(n_products)] * n_products
    left, full = sum(form[:3]), sum(form) + WIDTH_NOTE
    return {"name_upper": (left, 13, True), "preamble_": (full, 13, False), "conclusion": (full, 13, False),
            "closing": (full, 13, False), "domain_label_": (left, 13, False),
            "product_": (_answer_width(n_products), 11, True), "guide_unit": (sum(GUIDE_WIDTHS), 11, False)}


def workbook_properties(campaign: Campaign, t: dict) -> dict:
    issuer = campaign.section("issuer").get("name", "")
    return {"title": t["prop_title"], "author": issuer, "company": issuer, "comments": t["prop_comments"],
            # a fixed time keeps regenerated files byte-identical when nothing changed
            "created": dt.datetime.combine(campaign.due, dt.time())}


def build_unit_workbook(campaign: Campaign, unit: Unit, secret: bytes, target=None, *,
                        options: dict | None = None, keep=None) -> bytes | None:
    """Write the unit's workbook to `target` (path) or return its bytes.

    `options` replaces xlsxwriter's in-memory packaging (the benchmark's plain baseline uses
    xlsxwriter's defaults); `keep(workbook)` is called after closing (the fast path reads the
    string table there)."""
    buf = io.BytesIO() if target is None else None
    wb = xlsxwriter.Workbook(target or buf, {**WORKBOOK_OPTIONS, **(options if options is not None
                                                                     else {"in_memory": True})})
    t = unit_texts(campaign, unit, secret)
    wb.set_properties(workbook_properties(campaign, t))
    st = Styles(wb)
    group = campaign.group(unit.group)
    form_ws = wb.add_worksheet(ident.FORM_SHEET)
    guide_ws = wb.add_worksheet(ident.GUIDE_SHEET)
    id_ws = wb.add_worksheet(ident.ID_SHEET)
    _write_form(wb, form_ws, st, campaign, group, unit, t)
    _write_guide(guide_ws, st, campaign, group, unit, t)
    _write_ident(wb, id_ws, campaign, unit, t)
    form_ws.activate()
    wb.close()
    if keep is not None:
        keep(wb)
    return buf.getvalue() if buf is not None else None


def _write_form(wb, ws, st: Styles, campaign: Campaign, group, unit: Unit, t: dict) -> None:
    n = len(unit.products)
    widths = [WIDTH_STT, WIDTH_GROUP, WIDTH_DETAIL_1, WIDTH_DETAIL_2] + [_answer_width(n)] * n + [WIDTH_NOTE]
    s = _Sheet(ws, st, widths)
    last = s.last_col
    first_answer_col, note_col = 4, 4 + n
    left_end, right_start = 2, 3
    sheet = ident.FORM_SHEET
    texts = group.texts

    def define(name: str, row: int, col: int) -> None:
        wb.define_name(name, f"='{sheet}'!{xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)}")

    # Appendix heading, as in the letter.
    s.line(texts.get("form_title", group.form), "bold_center", bold=True)
    s.line(texts.get("form_subtitle", ""), "bold_center", bold=True)
    s.line(texts.get("form_attachment", ""), "italic_center", font_pt=12)
    s.blank()
    # Header: issuing unit (left), Quốc hiệu and Tiêu ngữ (right).
    r = s.row
    s.put(0, left_end, texts.get("header_parent", "").upper(), "center", row=r)
    s.put(right_start, last, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "quoc_hieu", row=r, font_size=12)
    ws.set_row(r, row_height(1))
    r += 1
    h = s.put(0, left_end, t["name_upper"], "bold_center", row=r, bold=True)
    s.put(right_start, last, "Độc lập - Tự do - Hạnh phúc", "tieu_ngu", row=r)
    ws.set_row(r, row_height(h))
    r += 1
    ws.set_row(r, 6)
    r += 1
    s.put(0, left_end, f"Số:        {texts.get('doc_number_suffix', '/')}", "input_bold_center", row=r)
    define(ident.NAME_DOCNO, r, 0)
    year = campaign.section("campaign").get("year", "")
    place = campaign.section("campaign").get("city", "")
    s.put(right_start, last, f"{place}, ngày      tháng      năm {year}", "input_italic", row=r)
    define(ident.NAME_DOCDATE, r, right_start)
    ws.set_row(r, row_height(1))
    r += 1
    h = s.put(0, left_end, texts.get("subject", ""), "center", row=r, font_size=12, font_pt=12)
    ws.set_row(r, row_height(h, 12))
    s.row = r + 1
    s.blank()
    recipient = campaign.section("issuer").get("recipient", "")
    s.line(f"Kính gửi: {recipient}.", "center")
    for i in range(len(texts.get("preamble", []))):
        s.line(t[f"preamble_{i}"])
    # Section I.
    s.line("I. Nội dung thực hiện", "bold", bold=True)
    s.line(f"1. Thời gian triển khai thử nghiệm: {campaign.section('campaign').get('trial_period', '')}")
    s.line("2. Tổ chức cài đặt:")
    s.line(f"   - Hình thức cài đặt: {texts.get('install_form', '')}")
    s.line(f"   - Địa chỉ tên miền hoạt động: {texts.get('domain_hint', '')}", font_pt=13)
    for p in unit.products:
        h = s.put(0, left_end, t[f"domain_label_{p.key}"], "left")
        s.put(right_start, last, t[f"domain_{p.key}"], "input")
        define(ident.domain_name(p.key), s.row, right_start)
        ws.set_row(s.row, row_height(h))
        s.row += 1
    s.line("3. Nội dung triển khai")
    # Criteria table: two header rows, then one row per criterion.
    r = s.row
    th = st.get("th")
    ws.merge_range(r, 0, r + 1, 0, "", th)
    ws.write_string(r, 0, "STT", th)
    ws.merge_range(r, 1, r + 1, 1, "", th)
    ws.write_string(r, 1, "Nhóm tiêu chí", th)
    ws.merge_range(r, 2, r + 1, 3, "", th)
    ws.write_string(r, 2, "Nội dung đánh giá chi tiết", th)
    if n > 1:
        ws.merge_range(r, first_answer_col, r, note_col - 1, "", th)
    ws.write_string(r, first_answer_col, campaign.section("answers").get("input_title", "Mức độ đáp ứng"), th)
    ws.merge_range(r, note_col, r + 1, note_col, "", th)
    ws.write_string(r, note_col, "Ghi chú", th)
    head_lines = 1
    for i, p in enumerate(unit.products):
        ws.write_string(r + 1, first_answer_col + i, t[f"product_{p.key}"], st.get("th", font_size=11))
        head_lines = max(head_lines, lines_needed(t[f"product_{p.key}"], _answer_width(n), 11, True))
    ws.set_row(r, row_height(1))
    ws.set_row(r + 1, row_height(head_lines, 11))
    r += 2
    first_answer_row = r
    answers = list(campaign.answers)
    ans = campaign.section("answers")
    for idx, cr in enumerate(campaign.criteria, 1):
        ws.write_number(r, 0, idx, st.get("td_center"))
        ws.write_string(r, 1, cr.group, st.get("td"))
        ws.merge_range(r, 2, r, 3, "", st.get("td"))
        ws.write_string(r, 2, cr.detail, st.get("td"))
        lines = max(lines_needed(cr.group, WIDTH_GROUP), lines_needed(cr.detail, WIDTH_DETAIL_1 + WIDTH_DETAIL_2))
        for i, p in enumerate(unit.products):
            col = first_answer_col + i
            ws.write_blank(r, col, None, st.get("input_cell"))
            ws.data_validation(r, col, r, col, {
                "validate": "list", "source": answers, "ignore_blank": True,
                "input_title": ans.get("input_title", "")[:32],
                "input_message": ans.get("input_message", "")[:255],
                "error_type": "stop", "error_title": ans.get("error_title", "")[:32],
                "error_message": ans.get("error_message", "")[:255],
            })
            define(ident.answer_name(p.key, cr.id), r, col)
        ws.write_blank(r, note_col, None, st.get("input_td"))
        define(ident.note_name(cr.id), r, note_col)
        ws.set_row(r, row_height(lines))
        r += 1
    s.row = r
    s.blank(6)
    # Section II: conclusion, with the unit and its domain(s).
    s.line("II. Kết luận", "bold", bold=True)
    s.line(t["conclusion"])
    s.line("III. Đề xuất, kiến nghị: Nêu các kiến nghị, đề xuất khác (nếu có)", "bold", bold=True)
    s.put(0, last, "", "input_td")
    define(ident.NAME_PROPOSALS, s.row, 0)
    ws.set_row(s.row, row_height(3))
    s.row += 1
    s.blank(6)
    s.line(t["closing"])
    s.line("      Trân trọng cảm ơn./.")
    s.blank()
    # Recipients (left) and signature (right).
    r = s.row
    s.put(0, left_end, "Nơi nhận:", "small_bold_italic", row=r)
    s.put(right_start, last, texts.get("signer_title", "THỦ TRƯỞNG ĐƠN VỊ"), "bold_center", row=r)
    ws.set_row(r, row_height(1))
    r += 1
    recipients = texts.get("recipients", [])
    for i, rec in enumerate(recipients):
        s.put(0, left_end, f"- {rec}", "small", row=r)
        if i == 0:
            s.put(right_start, last, "(Ký, ghi rõ họ tên, đóng dấu)", "italic_center", row=r, font_size=12)
        ws.set_row(r, row_height(1, 11))
        r += 1
    for _ in range(max(0, 3 - len(recipients))):
        ws.set_row(r, row_height(1))
        r += 1
    s.put(right_start, last, "", "input_bold_center", row=r)
    define(ident.NAME_SIGNER, r, right_start)
    ws.set_row(r, row_height(1))
    last_row = r
    # Print and protection.
    a4_portrait(ws)
    ws.print_area(0, 0, last_row, last)
    ws.hide_gridlines(2)
    ws.set_default_row(hide_unused_rows=False)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True,
                    "format_rows": True, "format_columns": True})
    ws.set_selection(first_answer_row, first_answer_col, first_answer_row, first_answer_col)


def p_domain(unit: Unit, product, campaign: Campaign) -> str:
    """The domain we know for a product: the registry's for the unit's site, blank otherwise."""
    return unit.domain if product.kind == "site" else ""


def _write_guide(ws, st: Styles, campaign: Campaign, group, unit: Unit, t: dict) -> None:
    s = _Sheet(ws, st, GUIDE_WIDTHS)
    sup = campaign.section("support")
    issuer = campaign.section("issuer")
    answers = campaign.answers
    s.put(0, 1, t["guide_title"], "bold_center")
    ws.set_row(s.row, row_height(2))
    s.row += 1
    s.blank()
    # The steps come from the template's [guide].steps ({placeholders} below); these are the fallback.
    values = {"form_sheet": ident.FORM_SHEET, "met": answers[0], "not_met": answers[1],
              "recipient": issuer.get("recipient", ""), "due": show(campaign.due),
              "due_text": campaign.section("campaign").get("due_text", "")}
    steps = [str(step).format_map(_Keep(values)) for step in campaign.section("guide").get("steps", [])] or [
        f"Mở trang “{ident.FORM_SHEET}”. Các ô nền vàng là ô cần điền; các ô khác đã được khóa để tránh sửa nhầm.",
        f"Ở mỗi tiêu chí, bấm vào ô nền vàng trong cột “Mức độ đáp ứng” rồi chọn “{answers[0]}” hoặc "
        f"“{answers[1]}” trong danh sách thả xuống. Không gõ tay, không dán giá trị khác, không dùng công thức.",
        "Có ghi chú cho tiêu chí nào thì ghi vào cột “Ghi chú” của dòng đó.",
        "Kiểm tra, sửa nếu cần, địa chỉ tên miền đang hoạt động ở mục I.2.",
        "Ghi kiến nghị, đề xuất (nếu có) ở mục III; điền số văn bản, ngày ký và họ tên Thủ trưởng đơn vị.",
        "Lưu tệp ở dạng Excel (.xlsx). Có thể đổi tên tệp; không xóa, không đổi cấu trúc các trang.",
        "In, ký, đóng dấu bản giấy theo quy định; gửi tệp .xlsx đã điền (và bản scan có chữ ký nếu được yêu cầu) về "
        f"{issuer.get('recipient', '')} {campaign.section('campaign').get('due_text', '')} "
        f"(hạn cuối nhận: {show(campaign.due)}).",
    ]
    for i, step in enumerate(steps, 1):
        ws.write_number(s.row, 0, i, st.get("center"))
        h = s.put(1, 1, step, "left")
        ws.set_row(s.row, row_height(h))
        s.row += 1
    s.blank()
    contact = f"Đầu mối hướng dẫn, hỗ trợ: {sup.get('name', '')}, {sup.get('role', '')}, điện thoại: {sup.get('phone', '')}"
    if sup.get("email"):
        contact += f", email: {sup['email']}"
    h = s.put(0, 1, contact + ".", "bold")
    ws.set_row(s.row, row_height(h))
    s.row += 1
    s.blank()
    h = s.put(0, 1, t["guide_unit"], "left", font_size=11)
    ws.set_row(s.row, row_height(h, 11))
    a4_portrait(ws)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})


class _Keep(dict):
    """format_map values that leave an unknown {placeholder} as written."""

    def __missing__(self, key):
        return "{" + key + "}"


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
