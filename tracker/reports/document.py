"""The acceptance report as a .docx administrative document (Nghị định 30/2020/NĐ-CP, Phụ lục I).

A4 portrait, margins top/bottom 20 mm, left 30 mm, right 15 mm; Times New Roman, body 14 pt;
header block (issuer left, Quốc hiệu and Tiêu ngữ right), number, place and date in italics, title
and subject, sections I-IV, recipients and signer; page numbers centred at the top from page 2.

The chart of acceptance by group is drawn as a table of shaded cells (a 100 % stacked bar per
group): vector, in the document's own font, identical wherever the report is made, with no
plotting library to install. Every number comes from the Report (tracker.reports.model), i.e. the stats.
"""
from __future__ import annotations

import io

from tracker.model.dates import show_text
from tracker.reports.model import Report, clean, percent
from tracker.outbound.wording import DEADLINE, SENT_REFUSED, STATUS

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 12
TEXT_WIDTH_MM = 165          # 210 - 30 - 15
HEADER_FILL = "D9E1F2"
BAR_COLORS = {"accepted": "70AD47", "not_accepted": "C00000", "incomplete": "FFC000", "pending": "A6A6A6"}
BAR_CELLS = 40
# Word is strict about the order of property elements: what may follow each one we add by hand.
_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
               "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
               "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
               "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
               "w:rPr", "w:sectPr", "w:pPrChange")
_AFTER_SHD = ("w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark", "w:headers",
              "w:cellIns", "w:cellDel", "w:cellMerge", "w:tcPrChange")
_AFTER_TBLHEADER = ("w:tblCellSpacing", "w:jc", "w:hidden", "w:ins", "w:del", "w:trPrChange")
_AFTER_CANTSPLIT = ("w:trHeight", "w:tblHeader") + _AFTER_TBLHEADER
_AFTER_CELLMAR = ("w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")


def build_report_docx(rep: Report) -> bytes:
    from docx import Document

    doc = Document()
    _setup(doc, rep)
    t = rep.texts
    stats = rep.stats
    _header_block(doc, rep)
    _title(doc, rep)
    for text in t.intro:
        _para(doc, text)

    p, u = stats.products, stats.units
    _heading(doc, "I. TỔNG HỢP KẾT QUẢ")
    _heading(doc, "1. Khối lượng đủ điều kiện nghiệm thu", level=2)
    vol = _para(doc, "")
    _run(vol, f"{rep.volume} sản phẩm đủ điều kiện nghiệm thu", bold=True)
    _run(vol, f" ({percent(p.accepted, p.total)}), là các sản phẩm có đủ {len(stats.criteria)} tiêu chí "
              f"“{t.answer_met}”. Chưa đủ điều kiện: {p.not_accepted} sản phẩm {STATUS['not_accepted'].lower()} "
              f"(có tiêu chí “{t.answer_not_met}”), {p.incomplete} sản phẩm {STATUS['incomplete'].lower()} "
              f"(có tiêu chí để trống), {p.pending} sản phẩm chưa nhận được xác nhận.")

    _heading(doc, "2. Tình hình gửi văn bản xác nhận", level=2)
    _para(doc, f"Tổng số {u.total} đơn vị; đã gửi {u.returned} đơn vị ({u.on_time} đúng hạn, {u.late} "
               f"muộn); chưa gửi {u.missing + u.waiting} đơn vị ({u.missing} quá hạn, {u.waiting} "
               "đang trong hạn).")
    rows = [[g.name] + [g.units[k] for k in ("total", "returned", "on_time", "late", "missing", "waiting")]
            for g in stats.groups]
    rows.append(["Tổng cộng"] + [u[k] for k in ("total", "returned", "on_time", "late", "missing", "waiting")])
    _table(doc, ["Khối", "Số đơn vị", "Đã gửi", "Đúng hạn", "Muộn", "Quá hạn, chưa gửi", "Đang chờ"], rows,
           [40, 20, 20, 20, 20, 25, 20], bold_last=True, caption="Bảng 1. Đơn vị gửi văn bản xác nhận theo khối")
    _para(doc, rep.signed_line)
    if rep.late:
        _para(doc, f"Các đơn vị gửi muộn (sau ngày {show_text(rep.campaign.due)}):", keep_with_next=True)
        _table(doc, ["STT", "Đơn vị", "Khối", "Ngày nhận", "Số ngày muộn"],
               [[i, x.unit_name, x.group_name, show_text(x.received), x.days_late]
                for i, x in enumerate(rep.late, 1)], [12, 63, 40, 26, 24], left_cols=(1, 2),
               caption="Bảng 2. Đơn vị gửi muộn")

    _heading(doc, "3. Kết quả theo khối", level=2)
    keys = ("total", "accepted", "not_accepted", "incomplete", "pending")
    heads = ["Khối", "Số sản phẩm", STATUS["accepted"], STATUS["not_accepted"], STATUS["incomplete"],
             STATUS["pending"], "Tỷ lệ đạt"]
    rows = [[g.name] + [g.products[k] for k in keys] + [percent(g.products.accepted, g.products.total)]
            for g in stats.groups]
    rows.append(["Tổng cộng"] + [p[k] for k in keys] + [percent(p.accepted, p.total)])
    _table(doc, heads, rows, [37, 20, 22, 20, 20, 24, 22], bold_last=True,
           caption="Bảng 3. Kết quả xác nhận theo khối (số sản phẩm)")
    _bar_chart(doc, rep)

    _heading(doc, "4. Kết quả theo loại sản phẩm", level=2)
    _table(doc, ["Loại sản phẩm"] + heads[1:],
           [[k.label] + [k.products[x] for x in keys] + [percent(k.products.accepted, k.products.total)]
            for k in rep.kinds],
           [37, 20, 22, 20, 20, 24, 22], caption="Bảng 4. Kết quả theo loại sản phẩm")

    _heading(doc, "5. Kết quả theo tiêu chí", level=2)
    _para(doc, f"Đếm trên {p.total} sản phẩm: “Để trống” là sản phẩm đã có xác nhận nhưng tiêu chí bỏ trống; "
               f"“{STATUS['pending']}” là sản phẩm chưa nhận được xác nhận.")
    _table(doc, ["Tiêu chí", t.answer_met, t.answer_not_met, "Để trống", STATUS["pending"]],
           [[rep.criteria_labels[c.id], c.counts.met, c.counts.not_met, c.counts.blank, c.counts.pending]
            for c in stats.criteria], [65, 25, 25, 25, 25], caption="Bảng 5. Kết quả theo tiêu chí")

    _heading(doc, "II. DANH SÁCH SẢN PHẨM ĐỦ ĐIỀU KIỆN NGHIỆM THU")
    if rep.accepted:
        _table(doc, ["STT", "Đơn vị", "Sản phẩm", "Tên miền", "Ngày nhận"],
               [[i, r.unit_name, r.product, r.domain, show_text(r.received)]
                for i, r in enumerate(rep.accepted, 1)], [12, 40, 42, 45, 26], left_cols=(1, 2, 3),
               caption=f"Bảng 6. Sản phẩm đủ điều kiện nghiệm thu ({rep.volume})")
    else:
        _para(doc, "Chưa có sản phẩm nào đủ điều kiện nghiệm thu.")

    _heading(doc, "III. SẢN PHẨM CHƯA ĐỦ ĐIỀU KIỆN NGHIỆM THU")
    if rep.not_accepted:
        _para(doc, "Các sản phẩm đã có xác nhận nhưng chưa đủ điều kiện; tiêu chí chưa đáp ứng, ghi chú và đề xuất, "
                   "kiến nghị theo văn bản của đơn vị:")
        rows = []
        for i, r in enumerate(rep.not_accepted, 1):
            crit = "; ".join([*r.unmet, *(f"{x} (để trống)" for x in r.blank)])
            remarks = "\n".join(x for x in (r.notes and f"Ghi chú: {r.notes}",
                                             r.proposals and f"Đề xuất: {r.proposals}") if x)
            rows.append([i, f"{r.unit_name}\n{r.product}", STATUS[r.status], crit, remarks])
        _table(doc, ["STT", "Đơn vị, sản phẩm", "Kết quả", "Tiêu chí chưa đáp ứng", "Ghi chú, đề xuất của đơn vị"],
               rows, [12, 42, 20, 40, 51], left_cols=(1, 3, 4), caption="Bảng 7. Sản phẩm chưa đủ điều kiện")
    else:
        _para(doc, "Không có sản phẩm nào đã xác nhận mà chưa đủ điều kiện.")

    _heading(doc, "IV. ĐƠN VỊ CHƯA CÓ VĂN BẢN XÁC NHẬN HỢP LỆ")
    if rep.not_replied:
        refused = sum(1 for x in rep.not_replied if x.refused)
        _para(doc, f"Tính đến ngày {show_text(rep.as_of)} còn {len(rep.not_replied)} đơn vị chưa có văn bản xác nhận "
                   f"hợp lệ ({sum(x.products for x in rep.not_replied)} sản phẩm)"
                   + (f", trong đó {refused} đơn vị đã gửi nhưng tệp bị từ chối (lý do của lần gửi gần nhất)"
                      if refused else "") + ":", keep_with_next=True)
        _table(doc, ["STT", "Đơn vị", "Khối", "Tình trạng", "Email, điện thoại"],
               [[i, x.unit_name, x.group_name, _not_replied_status(x), "\n".join(v for v in (x.email, x.phone) if v)]
                for i, x in enumerate(rep.not_replied, 1)], [12, 42, 26, 51, 34], left_cols=(1, 2, 3, 4),
               caption="Bảng 8. Đơn vị chưa có văn bản xác nhận hợp lệ")
    else:
        _para(doc, "Tất cả các đơn vị đã gửi văn bản xác nhận.")

    if rep.signed_required:
        from tracker.master.workbook import signed_copy_text

        _heading(doc, "V. SẢN PHẨM ĐẠT CHƯA CÓ BIÊN BẢN ĐÃ KÝ HỢP LỆ")
        if rep.lacking_signed:
            _para(doc, "Chiến dịch yêu cầu biên bản đã ký, đóng dấu (tệp PDF ký số hợp lệ, hoặc bản quét có mã QR của "
                       f"biểu mẫu). Các sản phẩm đủ điều kiện về tiêu chí nhưng chưa có biên bản đã ký hợp lệ "
                       f"({len(rep.lacking_signed)} sản phẩm):", keep_with_next=True)
            _table(doc, ["STT", "Đơn vị", "Sản phẩm", "Biên bản đã ký"],
                   [[i, r.unit_name, r.product, signed_copy_text(r.signed_copy) or "Chưa có"]
                    for i, r in enumerate(rep.lacking_signed, 1)], [12, 50, 40, 63], left_cols=(1, 2, 3),
                   caption="Bảng 9. Sản phẩm đạt chưa có biên bản đã ký hợp lệ")
        else:
            _para(doc, "Mọi sản phẩm đủ điều kiện đều đã có biên bản đã ký hợp lệ.")

    _para(doc, t.closing)
    _signature(doc, rep)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _not_replied_status(x) -> str:
    """"Quá hạn, chưa nộp", or "Đã gửi, bị từ chối: tệp '...' nhận ngày ...: <why>"."""
    if x.refused is None:
        return DEADLINE[x.deadline_status]
    when = f" (nhận ngày {show_text(x.refused.received)})" if x.refused.received else ""
    return f"{SENT_REFUSED}{when}: {x.refused.reason('vi')}"


# ---------------------------------------------------------------------------- page and styles
def _setup(doc, rep: Report) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    from docx.oxml.ns import qn

    # python-docx's template says <w:zoom w:val="bestFit"/> without the percent the schema requires
    # (ISO/IEC 29500): Word tolerates it, a strict reader need not.
    zoom = doc.settings.element.find(qn("w:zoom"))
    if zoom is not None and zoom.get(qn("w:percent")) is None:
        zoom.set(qn("w:percent"), "100")
    s = doc.sections[0]
    s.orientation = WD_ORIENT.PORTRAIT
    s.page_width, s.page_height = Mm(210), Mm(297)
    s.top_margin, s.bottom_margin = Mm(20), Mm(20)
    s.left_margin, s.right_margin = Mm(30), Mm(15)
    s.header_distance, s.footer_distance = Mm(10), Mm(10)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    _east_asian(normal.element)
    pf = normal.paragraph_format
    pf.space_before, pf.space_after = Pt(0), Pt(6)
    pf.line_spacing = 1.1
    # Page numbers: centred at the top, from the second page (Nghị định 30/2020).
    s.different_first_page_header_footer = True
    hp = s.header.paragraphs[0]
    hp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(hp, "PAGE")
    core = doc.core_properties
    core.title = clean(f"{rep.texts.title} {rep.texts.subject}")
    core.author = clean(rep.texts.issuer_full)
    core.subject = clean(rep.campaign.title)
    core.comments = f"{rep.campaign.id}; số liệu tính đến {rep.as_of.isoformat()}"


def _east_asian(style_el) -> None:
    from docx.oxml.ns import qn

    rpr = style_el.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _field(paragraph, code: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), code)
    r = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "1"
    r.append(t)
    fld.append(r)
    paragraph._p.append(fld)


def _run(paragraph, text: str, *, size=None, bold=None, italic=None, color=None):
    from docx.shared import Pt, RGBColor

    run = paragraph.add_run(clean(text))
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold
    if italic is not None:
        run.italic = italic
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    return run


def _para(container, text: str = "", *, size=None, bold=None, italic=None, align="justify", first_line=True,
          space_after=6, keep_with_next=False, reuse=False):
    """A paragraph of body text (justified, first line indented) or a styled line."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    if reuse and container.paragraphs and not container.paragraphs[0].text:
        p = container.paragraphs[0]
    else:
        p = container.add_paragraph()
    p.alignment = {"justify": WD_ALIGN_PARAGRAPH.JUSTIFY, "center": WD_ALIGN_PARAGRAPH.CENTER,
                   "left": WD_ALIGN_PARAGRAPH.LEFT, "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
    pf = p.paragraph_format
    pf.first_line_indent = Mm(10) if (first_line and align == "justify") else None
    pf.space_after = Pt(space_after)
    pf.keep_with_next = keep_with_next or None
    if text:
        _run(p, text, size=size, bold=bold, italic=italic)
    return p


def _heading(doc, text: str, level: int = 1):
    return _para(doc, text, bold=True, align="justify", first_line=True, keep_with_next=True,
                 space_after=6 if level == 1 else 3)


def _rule(container, indent_mm: float, *, reuse=False) -> None:
    """A short horizontal line under a heading (bottom border of an empty, indented paragraph)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    p = _para(container, "", align="center", first_line=False, space_after=4, reuse=reuse)
    pf = p.paragraph_format
    pf.left_indent = pf.right_indent = Mm(indent_mm)
    pf.line_spacing = Pt(2)
    ppr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    ppr.insert_element_before(bdr, *_AFTER_PBDR)


# ---------------------------------------------------------------------------- blocks
def _header_block(doc, rep: Report) -> None:
    t = rep.texts
    left_w, right_w = 73, 92
    tbl = _grid(doc, 2, 2, [left_w, right_w], borders=False, cell_margin_mm=0.5)
    c = tbl.rows[0].cells[0]
    for k, line in enumerate(t.issuer_parent.upper().split("\n")):
        _para(c, line, size=12, align="center", first_line=False, space_after=0, reuse=(k == 0))
    for line in t.issuer_name.split("\n"):
        _para(c, line, size=12, bold=True, align="center", first_line=False, space_after=0)
    _rule(c, (left_w - 22) / 2)
    c = tbl.rows[0].cells[1]
    _para(c, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True, align="center", first_line=False,
          space_after=0, reuse=True)
    _para(c, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True, align="center", first_line=False, space_after=0)
    _rule(c, (right_w - 58) / 2)
    _para(tbl.rows[1].cells[0], t.number, size=13, align="center", first_line=False, space_after=0, reuse=True)
    _para(tbl.rows[1].cells[1], t.date_line, size=14, italic=True, align="center", first_line=False,
          space_after=0, reuse=True)
    _para(doc, "", space_after=6)


def _title(doc, rep: Report) -> None:
    t = rep.texts
    _para(doc, t.title, size=14, bold=True, align="center", first_line=False, space_after=0)
    _para(doc, t.subject, size=14, bold=True, align="center", first_line=False, space_after=0)
    _rule(doc, (TEXT_WIDTH_MM - 40) / 2)
    _para(doc, "", space_after=6)


def _signature(doc, rep: Report) -> None:
    t = rep.texts
    tbl = _grid(doc, 1, 2, [80, 85], borders=False)
    left, right = tbl.rows[0].cells
    p = _para(left, "Nơi nhận:", size=12, bold=True, italic=True, align="left", first_line=False, space_after=0,
              reuse=True)
    p.paragraph_format.keep_with_next = True
    for r in t.recipients:
        _para(left, f"- {r}", size=11, align="left", first_line=False, space_after=0)
    first = True
    for line in t.signer_title.split("\n"):
        _para(right, line, size=14, bold=True, align="center", first_line=False, space_after=0, reuse=first)
        first = False
    for _ in range(4):
        _para(right, "", align="center", first_line=False, space_after=0)
    if t.signer_name:
        _para(right, t.signer_name, size=14, bold=True, align="center", first_line=False, space_after=0)


# ---------------------------------------------------------------------------- tables
def _grid(doc, n_rows: int, n_cols: int, widths_mm: list[float], *, borders: bool = True,
          cell_margin_mm: float | None = None):
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    tbl = doc.add_table(rows=n_rows, cols=n_cols)
    if borders:
        tbl.style = doc.styles["Table Grid"]
    tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
    tbl.autofit = False           # w:tblLayout fixed: the widths below hold
    tblpr = tbl._tbl.tblPr
    if cell_margin_mm is not None:
        mar = OxmlElement("w:tblCellMar")
        for side in ("left", "right"):
            el = OxmlElement(f"w:{side}")
            el.set(qn("w:w"), str(round(cell_margin_mm * 56.7)))   # twentieths of a point
            el.set(qn("w:type"), "dxa")
            mar.append(el)
        tblpr.insert_element_before(mar, *_AFTER_CELLMAR)
    for i, w in enumerate(widths_mm):
        tbl.columns[i].width = Mm(w)
    for row in tbl.rows:          # row by row: python-docx's column.cells walks the whole table each time
        for cell, w in zip(row.cells, widths_mm):
            cell.width = Mm(w)
    return tbl


def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().insert_element_before(shd, *_AFTER_SHD)


def _row_flags(row, *, header: bool = False) -> None:
    from docx.oxml import OxmlElement

    trpr = row._tr.get_or_add_trPr()
    trpr.insert_element_before(OxmlElement("w:cantSplit"), *_AFTER_CANTSPLIT)
    if header:
        trpr.insert_element_before(OxmlElement("w:tblHeader"), *_AFTER_TBLHEADER)


def _cell_text(cell, value, *, bold=False, align="center", size=TABLE_PT) -> None:
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT

    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    lines = clean(value).split("\n") if value is not None else [""]
    for k, line in enumerate(lines):
        _para(cell, line, size=size, bold=bold or None, align=align, first_line=False, space_after=0,
              reuse=(k == 0))


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _table(doc, headers, rows, widths_mm, *, bold_last=False, left_cols=(0,), caption: str = ""):
    """A bordered table: header row shaded and repeated on each page, rows never split across pages.

    Written as WordprocessingML text and parsed once: python-docx reaches a row by walking the
    table from its start (and a cell by walking its row), so building the lists of a national
    report (thousands of rows) through it took a minute; this takes a fraction of a second and
    gives the same elements, in the schema's order."""
    from xml.sax.saxutils import escape

    from docx.oxml import parse_xml

    if caption:
        _para(doc, caption, size=13, italic=True, align="center", first_line=False, space_after=3,
              keep_with_next=True)
    twips = [round(w * 56.7) for w in widths_mm]
    margin = round(1.5 * 56.7)
    style = doc.styles["Table Grid"].style_id
    keep_together = len(rows) <= 15      # a short table is not split across pages
    size = f'<w:sz w:val="{TABLE_PT * 2}"/><w:szCs w:val="{TABLE_PT * 2}"/>'

    def cell(value, width, *, bold, align, keep, fill=""):
        lines = clean(value).split("\n") if value is not None else [""]
        shade = f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else ""
        ppr = f'<w:pPr>{"<w:keepNext/>" if keep else ""}<w:spacing w:after="0"/><w:jc w:val="{align}"/></w:pPr>'
        rpr = f'<w:rPr>{"<w:b/>" if bold else ""}{size}</w:rPr>'
        paras = "".join(f"<w:p>{ppr}" + (f'<w:r>{rpr}<w:t xml:space="preserve">{escape(line)}</w:t></w:r>'
                                           if line else "") + "</w:p>" for line in lines)
        return (f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shade}<w:vAlign w:val="center"/></w:tcPr>'
                f"{paras}</w:tc>")

    out = [f'<w:tbl xmlns:w="{_W}"><w:tblPr><w:tblStyle w:val="{style}"/><w:tblW w:w="0" w:type="auto"/>'
           '<w:jc w:val="center"/><w:tblLayout w:type="fixed"/>'
           f'<w:tblCellMar><w:left w:w="{margin}" w:type="dxa"/><w:right w:w="{margin}" w:type="dxa"/></w:tblCellMar>'
           '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" w:noHBand="0" '
           'w:noVBand="1"/></w:tblPr><w:tblGrid>', *(f'<w:gridCol w:w="{w}"/>' for w in twips), "</w:tblGrid>",
           "<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>",
           *(cell(h, w, bold=True, align="center", keep=keep_together, fill=HEADER_FILL)
             for h, w in zip(headers, twips)), "</w:tr>"]
    for k, row in enumerate(rows, 1):
        last = k == len(rows)
        out.append("<w:tr><w:trPr><w:cantSplit/></w:trPr>")
        out += [cell("" if v is None else str(v), w, bold=bold_last and last,
                     align="left" if i in left_cols else "center", keep=keep_together and not last)
                for i, (v, w) in enumerate(zip(row, twips))]
        out.append("</w:tr>")
    out.append("</w:tbl>")
    tbl = parse_xml("".join(out))
    body = doc.element.body
    body.insert(len(body) - 1, tbl)       # before the section properties, which end the body
    _para(doc, "", space_after=3)
    return tbl


def allocate(counts: list[int], width: int) -> list[int]:
    """Split `width` cells among `counts` in proportion, every non-zero count getting one cell at least."""
    total = sum(counts)
    if total <= 0:
        return [0] * len(counts)
    exact = [c * width / total for c in counts]
    cells = [max(1, int(e)) if c > 0 else 0 for c, e in zip(counts, exact)]
    while sum(cells) > width:
        shrinkable = [i for i in range(len(cells)) if cells[i] > 1]
        if not shrinkable:       # more non-zero counts than cells: cannot happen with BAR_CELLS >= 4
            break
        # shrink where it distorts least, relative to the exact share
        cells[min(shrinkable, key=lambda i: abs(cells[i] - 1 - exact[i]) / exact[i])] -= 1
    while sum(cells) < width:
        k = max((i for i in range(len(cells)) if counts[i] > 0), key=lambda i: exact[i] - cells[i])
        cells[k] += 1
    return cells


def _bar_chart(doc, rep: Report) -> None:
    """Acceptance by group as 100 % stacked bars of shaded table cells, with a legend: a row per
    group, a segment of BAR_CELLS grid columns spanned per result (written as XML, as _table)."""
    from xml.sax.saxutils import escape

    from docx.oxml import parse_xml

    keys = ("accepted", "not_accepted", "incomplete", "pending")
    items = [(g.name, g.products) for g in rep.stats.groups]
    items.append(("Tổng cộng", rep.stats.products))
    name_w, value_w = 37, 28
    cell_w = (TEXT_WIDTH_MM - name_w - value_w) / BAR_CELLS
    _para(doc, "Biểu đồ. Tỷ lệ sản phẩm theo kết quả xác nhận, theo khối", size=13, italic=True, align="center",
          first_line=False, space_after=3, keep_with_next=True)
    tw = lambda mm: round(mm * 56.7)  # noqa: E731 - twentieths of a point

    def text_cell(text, width, *, align, bold=False, size=TABLE_PT):
        rpr = f'<w:rPr>{"<w:b/>" if bold else ""}<w:sz w:val="{size * 2}"/><w:szCs w:val="{size * 2}"/></w:rPr>'
        return (f'<w:tc><w:tcPr><w:tcW w:w="{tw(width)}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
                f'<w:p><w:pPr><w:spacing w:after="0"/><w:jc w:val="{align}"/></w:pPr>'
                f'<w:r>{rpr}<w:t xml:space="preserve">{escape(clean(text))}</w:t></w:r></w:p></w:tc>')

    out = [f'<w:tbl xmlns:w="{_W}"><w:tblPr><w:tblW w:w="0" w:type="auto"/><w:jc w:val="center"/>'
           '<w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" '
           'w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>',
           f'<w:gridCol w:w="{tw(name_w)}"/>', *(f'<w:gridCol w:w="{tw(cell_w)}"/>' for _ in range(BAR_CELLS)),
           f'<w:gridCol w:w="{tw(value_w)}"/></w:tblGrid>']
    for r, (name, prod) in enumerate(items):
        out.append(f'<w:tr><w:trPr><w:cantSplit/><w:trHeight w:val="{tw(8)}"/></w:trPr>')
        out.append(text_cell(name, name_w, align="left", bold=(r == len(items) - 1)))
        for key, n in zip(keys, allocate([prod[k] for k in keys], BAR_CELLS)):
            if n:
                span = f'<w:gridSpan w:val="{n}"/>' if n > 1 else ""
                out.append(f'<w:tc><w:tcPr><w:tcW w:w="{tw(cell_w * n)}" w:type="dxa"/>{span}'
                           f'<w:shd w:val="clear" w:color="auto" w:fill="{BAR_COLORS[key]}"/>'
                           '<w:vAlign w:val="center"/></w:tcPr><w:p><w:pPr><w:spacing w:after="0"/></w:pPr></w:p></w:tc>')
        out.append(text_cell(f"{prod.accepted}/{prod.total} đạt", value_w, align="right", size=11))
        out.append("</w:tr>")
    out.append("</w:tbl>")
    body = doc.element.body
    body.insert(len(body) - 1, parse_xml("".join(out)))
    legend = _para(doc, "", align="center", first_line=False, space_after=6)
    for key in keys:
        _run(legend, "■ ", size=12, color=BAR_COLORS[key])
        _run(legend, f"{STATUS[key]}    ", size=11)


__all__ = ["allocate", "build_report_docx"]
