"""The acceptance report as a workbook.

"Tổng hợp" is the report itself, laid out and printed as the .docx is (Nghị định 30/2020/NĐ-CP:
A4 portrait, its margins, Times New Roman; the issuer and the Quốc hiệu, number, place and date,
title, the counts with a chart, closing, "Nơi nhận" and the signature; pages numbered from the
second). "Đạt", "Chưa đạt", "Chưa nộp" and "Hạn nộp" are its appendices: filterable lists printed
on A4 landscape, the header row on every page. Numbers are values from the stats (a snapshot at
`as_of`); every text from units or the registry goes through write_string.
"""
from __future__ import annotations

import datetime as dt
import io

from tracker.model.dates import show_text
from tracker.outbound.sheets import SafeWorkbook
from tracker.outbound.styles import (
    FORM_BASE,
    PAGE_SAFETY,
    PRINT_H,
    SHEET_PT,
    SHEET_WORKBOOK_OPTIONS,
    FormSheet,
    Styles,
    a4_form,
    a4_sheet,
    cell_lines,
    form_row_height,
    px_round,
    sheet_row_height,
    wrap_lines,
)
from tracker.outbound.wording import DEADLINE, SENT_REFUSED, STATUS
from tracker.reports.model import Report, clean, percent

SUMMARY = "Tổng hợp"
ACCEPTED = "Đạt"
NOT_ACCEPTED = "Chưa đạt"
NOT_REPLIED = "Chưa nộp"
DEADLINES = "Hạn nộp"
UNSIGNED = "Thiếu biên bản ký"     # only when the template requires the signed copy

UNIT_HEADERS = ["Khối", "Số đơn vị", "Đã gửi", "Đúng hạn", "Muộn", "Quá hạn, chưa gửi", "Đang chờ"]
UNIT_KEYS = ["total", "returned", "on_time", "late", "missing", "waiting"]
PRODUCT_HEADERS = ["Khối", "Số sản phẩm", STATUS["accepted"], STATUS["not_accepted"],
                   STATUS["incomplete"], STATUS["pending"], "Tỷ lệ đạt"]
PRODUCT_KEYS = ["total", "accepted", "not_accepted", "incomplete", "pending"]
CRITERION_KEYS = ["met", "not_met", "blank", "pending"]
VOLUME_LABEL = "Khối lượng đủ điều kiện nghiệm thu (sản phẩm)"
TOTAL = "Tổng cộng"

# The report's page: 620 px of the printable 467.7 pt, over seven columns; A:C hold the issuer's
# block and "Nơi nhận", D:G the Quốc hiệu and the signature.
DOC_PX = [116, 72, 72, 96, 88, 88, 88]
BODY = 13            # paragraphs (Nghị định 30: 13-14 pt)
TABLE = 12
CHART_PX = (620, 360)
SIGNATURE_MM = 30


def build_report_workbook(rep: Report) -> bytes:
    buf = io.BytesIO()
    wb = SafeWorkbook(buf, {**SHEET_WORKBOOK_OPTIONS, "in_memory": True})
    wb.set_properties({"title": clean(f"{rep.texts.title} - {rep.texts.subject}"),
                       "author": clean(rep.texts.issuer_full),
                       "comments": f"{rep.campaign.id}; số liệu tính đến {rep.as_of.isoformat()}"})
    st = Styles(wb, FORM_BASE)
    _summary(wb, wb.add_worksheet(SUMMARY, worksheet_class=FormSheet), st, rep)
    _accepted(wb.add_worksheet(ACCEPTED), st, rep)
    _not_accepted(wb.add_worksheet(NOT_ACCEPTED), st, rep)
    _not_replied(wb.add_worksheet(NOT_REPLIED), st, rep)
    _deadlines(wb.add_worksheet(DEADLINES), st, rep)
    if rep.signed_required:
        _unsigned(wb.add_worksheet(UNSIGNED), st, rep)
    wb.close()
    return buf.getvalue()


def _s(ws, r, c, text, fmt=None):
    ws.write_string(r, c, clean(text), fmt)


# ---------------------------------------------------------------------------- the report's page
class _Page:
    """A row cursor over the report's page: each row's height from its wrapped text, and which rows
    stay on the page of the row after them (headings, the header block, short tables)."""

    def __init__(self, ws, st: Styles):
        self.ws, self.st, self.row = ws, st, 0
        self.pt = [p * 0.75 for p in DOC_PX]
        self.last = len(DOC_PX) - 1
        self.heights: dict[int, float] = {}
        self.glued: set[int] = set()
        for i, p in enumerate(DOC_PX):
            ws.set_column_pixels(i, i, p)

    def span(self, c1, c2) -> float:
        return sum(self.pt[c1:c2 + 1])

    def put(self, c1, c2, text, style="body", *, row=None, pt=BODY, bold=False, italic=False, **extra) -> int:
        r = self.row if row is None else row
        fmt = self.st.get(style, font_size=pt, **extra)
        if c1 != c2:
            self.ws.merge_range(r, c1, r, c2, "", fmt)
        _s(self.ws, r, c1, text, fmt)
        return wrap_lines(clean(text), self.span(c1, c2), pt, bold, italic)

    def height(self, row, points, *, glue=False) -> None:
        points = px_round(points)
        self.ws.set_row(row, points)
        self.heights[row] = points
        if glue:
            self.glued.add(row)

    def line(self, text, style="body", *, pt=BODY, bold=False, italic=False, glue=False, **extra) -> None:
        n = self.put(0, self.last, text, style, pt=pt, bold=bold, italic=italic, **extra)
        self.height(self.row, form_row_height(n, pt), glue=glue)
        self.row += 1

    def para(self, text, **kw) -> None:
        """A paragraph of body text, its first line indented as the decree's paragraphs are."""
        self.line("      " + text, **kw)

    def blank(self, points=6, *, glue=True) -> None:
        self.height(self.row, points, glue=glue)
        self.row += 1

    def table(self, headers: list[str], rows: list[list], spans: list[tuple[int, int]] | None = None, *,
              bold_last=False, keep=True) -> int:
        """A bordered table over the page's columns (`spans`: the columns each cell covers); numbers as
        numbers. Kept on one page when `keep`. Returns the header's row."""
        spans = spans or [(i, i) for i in range(len(headers))]
        top = self.row
        lines = 1
        for h, (a, b) in zip(headers, spans):
            lines = max(lines, self.put(a, b, h, "th", pt=TABLE, bold=True))
        self.height(top, form_row_height(lines, TABLE), glue=True)
        for k, row in enumerate(rows, 1):
            self.row += 1
            last = bold_last and k == len(rows)
            lines = 1
            for i, (v, (a, b)) in enumerate(zip(row, spans)):
                style = "td" if i == 0 else "td_center"
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    fmt = self.st.get(style, font_size=TABLE, bold=last)
                    if a != b:
                        self.ws.merge_range(self.row, a, self.row, b, "", fmt)
                    self.ws.write_number(self.row, a, v, fmt)
                else:
                    lines = max(lines, self.put(a, b, v, style, pt=TABLE, bold=last))
            self.height(self.row, form_row_height(lines, TABLE), glue=keep and k < len(rows))
        self.row += 1
        return top

    def breaks(self) -> list[int]:
        from tracker.outbound.unit_form import paginate

        heights = [self.heights.get(i, 15.0) for i in range(self.row)]
        return paginate(heights, self.glued, PRINT_H - PAGE_SAFETY)


def _summary(wb, ws, st, rep: Report) -> None:
    t = rep.texts
    stats = rep.stats
    p = stats.products
    u = stats.units
    pg = _Page(ws, st)
    # The header block: issuer (left), Quốc hiệu and Tiêu ngữ (right), number, place and date.
    left = [(line, False) for line in t.issuer_parent.upper().split("\n") if line]
    left += [(line, True) for line in t.issuer_name.split("\n") if line]
    right = [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "quoc_hieu", 12), ("Độc lập - Tự do - Hạnh phúc", "tieu_ngu", 13)]
    for k in range(max(len(left), len(right))):
        h = 1
        if k < len(left):
            text, bold = left[k]
            h = pg.put(0, 2, text, "bold_center" if bold else "center", pt=12, bold=bold)
        if k < len(right):
            text, style, pt = right[k]
            h = max(h, pg.put(3, pg.last, text, style, pt=pt, bold=True))
        pg.height(pg.row, form_row_height(h, 13), glue=True)
        pg.row += 1
    pg.put(0, 2, "_" * 8, "f_rule", pt=8)
    pg.height(pg.row, 10, glue=True)
    pg.row += 1
    pg.put(0, 2, t.number, "center", pt=13)
    pg.put(3, pg.last, t.date_line, "italic_center", pt=14, italic=True)
    pg.height(pg.row, form_row_height(1, 14), glue=True)
    pg.row += 1
    pg.blank(12)
    pg.line(t.title, "bold_center", pt=14, bold=True, glue=True)
    pg.line(t.subject, "bold_center", pt=14, bold=True, glue=True)
    pg.put(2, 4, "_" * 14, "f_rule", pt=8)
    pg.height(pg.row, 10, glue=True)
    pg.row += 1
    pg.blank(6)
    for text in t.intro:
        pg.para(text)
    # I. The counts.
    pg.line("I. TỔNG HỢP KẾT QUẢ", "bold", bold=True, glue=True)
    pg.line("1. Khối lượng đủ điều kiện nghiệm thu", "bold", bold=True, glue=True)
    volume_row = pg.row
    pg.put(0, 2, VOLUME_LABEL, "bold", bold=True, valign="vcenter")
    pg.ws.write_number(volume_row, 3, p.accepted, st.get("bold_center", font_size=BODY, valign="vcenter"))
    _s(ws, volume_row, 4, "/", st.get("center", font_size=BODY, valign="vcenter"))
    pg.ws.write_number(volume_row, 5, p.total, st.get("bold_center", font_size=BODY, valign="vcenter"))
    _s(ws, volume_row, 6, percent(p.accepted, p.total), st.get("center", font_size=BODY, valign="vcenter"))
    pg.height(volume_row, form_row_height(wrap_lines(VOLUME_LABEL, pg.span(0, 2), BODY, True)), glue=True)
    pg.row += 1
    pg.para(f"{rep.volume} sản phẩm đủ điều kiện nghiệm thu ({percent(p.accepted, p.total)}), là các sản phẩm có "
            f"đủ {len(stats.criteria)} tiêu chí “{t.answer_met}”. Chưa đủ điều kiện: {p.not_accepted} sản phẩm "
            f"{STATUS['not_accepted'].lower()} (có tiêu chí “{t.answer_not_met}”), {p.incomplete} sản phẩm "
            f"{STATUS['incomplete'].lower()} (có tiêu chí để trống), {p.pending} sản phẩm chưa nhận được xác nhận.")
    pg.line("2. Tình hình gửi văn bản xác nhận", "bold", bold=True, glue=True)
    pg.para(f"Tổng số {u.total} đơn vị; đã gửi {u.returned} đơn vị ({u.on_time} đúng hạn, {u.late} muộn); chưa gửi "
            f"{u.missing + u.waiting} đơn vị ({u.missing} quá hạn, {u.waiting} đang trong hạn).", glue=True)
    rows = [[g.name] + [g.units[k] for k in UNIT_KEYS] for g in stats.groups]
    rows.append([TOTAL] + [u[k] for k in UNIT_KEYS])
    pg.table(UNIT_HEADERS, rows, bold_last=True)
    pg.blank(6, glue=False)
    pg.para(rep.signed_line)
    pg.blank(6, glue=False)
    pg.line("3. Kết quả theo khối (số sản phẩm)", "bold", bold=True, glue=True)
    rows = [[g.name] + [g.products[k] for k in PRODUCT_KEYS] + [percent(g.products.accepted, g.products.total)]
            for g in stats.groups]
    rows.append([TOTAL] + [p[k] for k in PRODUCT_KEYS] + [percent(p.accepted, p.total)])
    products_top = pg.table(PRODUCT_HEADERS, rows, bold_last=True)
    pg.glued.add(pg.row - 1)          # the chart under its table
    # Chart: products by result, per group, from the table above: 100 % stacked so that a group of
    # 12 products reads as clearly as one of 126; labels give the counts.
    chart = wb.add_chart({"type": "column", "subtype": "percent_stacked"})
    colors = ["#70AD47", "#C00000", "#FFC000", "#A6A6A6"]
    n = len(stats.groups)
    groups = list(stats.groups)
    for k, (key, color) in enumerate(zip(PRODUCT_KEYS[1:], colors), 2):
        # no label on an empty segment: it would print over its neighbour's
        labels = [{"delete": True} if g.products[key] == 0 else {} for g in groups]
        chart.add_series({"name": [SUMMARY, products_top, k],
                          "categories": [SUMMARY, products_top + 1, 0, products_top + n, 0],
                          "values": [SUMMARY, products_top + 1, k, products_top + n, k],
                          "fill": {"color": color},
                          "data_labels": {"value": True, "custom": labels,
                                          "font": {"name": "Times New Roman", "size": 10}}})
    chart.set_title({"name": "Tỷ lệ sản phẩm theo kết quả xác nhận, theo khối (nhãn: số sản phẩm)",
                     "name_font": {"size": 11, "name": "Times New Roman"}})
    chart.set_legend({"position": "bottom", "font": {"name": "Times New Roman", "size": 10}})
    chart.set_size({"width": CHART_PX[0], "height": CHART_PX[1]})
    pg.height(pg.row, CHART_PX[1] * 0.75 + 6)
    ws.insert_chart(pg.row, 0, chart, {"x_offset": 0, "y_offset": 3, "object_position": 3})
    pg.row += 1
    pg.line("4. Kết quả theo loại sản phẩm", "bold", bold=True, glue=True)
    rows = [[k.label] + [k.products[x] for x in PRODUCT_KEYS] + [percent(k.products.accepted, k.products.total)]
            for k in rep.kinds]
    pg.table(["Loại sản phẩm"] + PRODUCT_HEADERS[1:], rows)
    pg.blank(6, glue=False)
    pg.line("5. Kết quả theo tiêu chí", "bold", bold=True, glue=True)
    pg.para(f"Đếm trên {p.total} sản phẩm: “Để trống” là sản phẩm đã có xác nhận nhưng tiêu chí bỏ trống; "
            f"“{STATUS['pending']}” là sản phẩm chưa nhận được xác nhận.", glue=True)
    rows = [[rep.criteria_labels[cr.id]] + [cr.counts[k] for k in CRITERION_KEYS] for cr in stats.criteria]
    pg.table(["Tiêu chí", t.answer_met, t.answer_not_met, "Để trống", STATUS["pending"]], rows,
             spans=[(0, 2), (3, 3), (4, 4), (5, 5), (6, 6)])
    pg.blank(6, glue=False)
    # II. Where the lists are.
    pg.line("II. DANH SÁCH KÈM THEO", "bold", bold=True, glue=True)
    not_replied = len(rep.not_replied)
    refused = sum(1 for x in rep.not_replied if x.refused)
    for k, (sheet, what) in enumerate((
            (ACCEPTED, f"{p.accepted} sản phẩm đủ điều kiện nghiệm thu"),
            (NOT_ACCEPTED, f"{len(rep.not_accepted)} sản phẩm đã có xác nhận nhưng chưa đủ điều kiện, với tiêu chí "
                           "chưa đáp ứng, ghi chú và đề xuất, kiến nghị của đơn vị"),
            (NOT_REPLIED, f"{not_replied} đơn vị chưa có văn bản xác nhận hợp lệ"
                          + (f" ({refused} đơn vị đã gửi nhưng bị từ chối, kèm lý do)" if refused else "")),
            (DEADLINES, "tình trạng hạn gửi của từng đơn vị"),
            *([(UNSIGNED, f"{len(rep.lacking_signed)} sản phẩm đủ điều kiện về tiêu chí nhưng chưa có biên bản đã ký "
                          "hợp lệ")] if rep.signed_required else [])), 1):
        pg.para(f"Phụ lục {k} (trang “{sheet}”): {what}.")
    pg.para(rep.texts.closing)
    pg.blank(6)
    _signature(pg, rep)
    a4_form(ws, scale=100, breaks=pg.breaks())
    ws.print_area(0, 0, pg.row - 1, pg.last)
    ws.hide_gridlines(2)
    ws.activate()


def _signature(pg: _Page, rep: Report) -> None:
    """"Nơi nhận" (left) and the signer (right): one block, never split over two pages."""
    t = rep.texts
    left = [("Nơi nhận:", "small_bold_italic", 12, True, True)] + [(f"- {r}", "small", 11, False, False)
                                                                    for r in t.recipients]
    right = [(line, "bold_center", 14, True, False) for line in t.signer_title.split("\n") if line]
    rows = max(len(left), len(right))
    for k in range(rows):
        h = 1.0
        if k < len(left):
            text, style, pt, bold, italic = left[k]
            h = form_row_height(pg.put(0, 2, text, style, pt=pt, bold=bold, italic=italic), pt)
        if k < len(right):
            text, style, pt, bold, italic = right[k]
            h = max(h, form_row_height(pg.put(3, pg.last, text, style, pt=pt, bold=bold), pt))
        pg.height(pg.row, h, glue=True)
        pg.row += 1
    # Room for the signature and the seal (Nghị định 30), beside the rest of the recipients.
    pg.height(pg.row, max(SIGNATURE_MM * 72 / 25.4 - sum(pg.heights[r] for r in range(pg.row - rows + len(right),
                                                                                       pg.row)), 6), glue=True)
    pg.row += 1
    pg.put(3, pg.last, t.signer_name, "bold_center", pt=14, bold=True)
    pg.height(pg.row, form_row_height(1, 14))
    pg.row += 1


# ---------------------------------------------------------------------------- the appendices
def _list_sheet(ws, st, title: str, note: str, columns: list[tuple[str, int]], printed: int,
                rows: list[list]) -> None:
    """A filterable list: title and note over the printed columns, the header row (row 4) repeated
    on every printed page, each row as high as its wrapped text."""
    width = sum(p for _, p in columns[:printed])
    for r, (text, fmt, pt, bold) in enumerate(((title, st.get("bold", font_size=13), 13, True),
                                               (note, st.get("left", font_size=SHEET_PT), SHEET_PT, False))):
        ws.merge_range(r, 0, r, printed - 1, "", fmt)
        _s(ws, r, 0, text, fmt)
        ws.set_row(r, sheet_row_height(cell_lines(clean(text), width, pt, bold), pt))
    top = 3
    th = st.get("th", font_size=SHEET_PT)
    td = st.get("td", font_size=SHEET_PT, valign="top")
    center = st.get("td_center", font_size=SHEET_PT, valign="top")
    date_fmt = st.get("td_center", font_size=SHEET_PT, valign="top", num_format="dd/mm/yyyy")
    for i, (h, p) in enumerate(columns):
        _s(ws, top, i, h, th)
        ws.set_column_pixels(i, i, p)
    ws.set_row(top, sheet_row_height(max(cell_lines(h, p, SHEET_PT, True) for h, p in columns)))
    for k, row in enumerate(rows, 1):
        lines = 1
        for i, v in enumerate(row):
            if v is None or v == "":
                ws.write_blank(top + k, i, None, td)
            elif isinstance(v, dt.date):
                ws.write_datetime(top + k, i, dt.datetime.combine(v, dt.time()), date_fmt)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(top + k, i, v, center)
            else:
                _s(ws, top + k, i, v, td)
                lines = max(lines, cell_lines(clean(v), columns[i][1]))
        ws.set_row(top + k, sheet_row_height(lines))
    last = top + max(len(rows), 1)
    ws.freeze_panes(top + 1, 0)
    ws.autofilter(top, 0, last, len(columns) - 1)
    a4_sheet(ws, repeat=top, area=(0, 0, last, printed - 1))


def _appendix(k: int, title: str) -> str:
    return f"Phụ lục {k}. {title}"


def _attached(rep: Report) -> str:
    return f"Kèm theo {rep.texts.title.capitalize()} {rep.texts.subject[:1].lower()}{rep.texts.subject[1:]}; " \
           f"số liệu tính đến ngày {show_text(rep.as_of)}."


def _signed_cell(facts) -> str:
    from tracker.master.workbook import signed_copy_text

    return signed_copy_text(facts) or "Chưa có"


def _accepted(ws, st, rep: Report) -> None:
    columns = [("STT", 34), ("Đơn vị", 190), ("Khối", 100), ("Sản phẩm", 150), ("Loại", 80), ("Tên miền", 170),
               ("Ngày nhận", 78), ("Tình trạng hạn", 84), ("Số ngày muộn", 60), ("Mã đơn vị", 100),
               ("Biên bản đã ký", 300)]
    rows = [[i, r.unit_name, r.group_name, r.product, r.kind_label, r.domain, r.received,
             DEADLINE[r.deadline_status], r.days_late or None, r.unit_id, _signed_cell(r.signed_copy)]
            for i, r in enumerate(rep.accepted, 1)]
    _list_sheet(ws, st, _appendix(1, f"SẢN PHẨM ĐỦ ĐIỀU KIỆN NGHIỆM THU: {rep.volume}"), _attached(rep),
                columns, 9, rows)


def _not_accepted(ws, st, rep: Report) -> None:
    columns = [("STT", 34), ("Đơn vị", 150), ("Sản phẩm", 110), ("Kết quả", 70), ("Tiêu chí chưa đáp ứng", 130),
               ("Tiêu chí để trống", 110), ("Ghi chú", 150), ("Đề xuất, kiến nghị của đơn vị", 150),
               ("Ngày nhận", 78), ("Khối", 100), ("Người ký", 130), ("Mã đơn vị", 100)]
    rows = [[i, r.unit_name, r.product, STATUS[r.status], "; ".join(r.unmet), "; ".join(r.blank), r.notes,
             r.proposals, r.received, r.group_name, r.signer, r.unit_id]
            for i, r in enumerate(rep.not_accepted, 1)]
    _list_sheet(ws, st, _appendix(2, "SẢN PHẨM CHƯA ĐỦ ĐIỀU KIỆN NGHIỆM THU (đã gửi xác nhận)"),
                f"{STATUS['not_accepted']}: có tiêu chí “{rep.texts.answer_not_met}”. {STATUS['incomplete']}: có tiêu "
                f"chí để trống. {_attached(rep)}", columns, 9, rows)


def _not_replied(ws, st, rep: Report) -> None:
    columns = [("STT", 34), ("Đơn vị", 180), ("Khối", 100), ("Email", 170), ("Điện thoại", 100),
               ("Tình trạng", 300), ("Số sản phẩm", 60), ("Mã đơn vị", 100)]

    def status(u) -> str:
        if u.refused is None:
            return DEADLINE[u.deadline_status]
        x = u.refused
        when = f" (nhận ngày {show_text(x.received)})" if x.received else ""
        return f"{SENT_REFUSED}{when}: {x.reason('vi')}"

    rows = [[i, u.unit_name, u.group_name, u.email, u.phone, status(u), u.products, u.unit_id]
            for i, u in enumerate(rep.not_replied, 1)]
    refused = sum(1 for u in rep.not_replied if u.refused)
    _list_sheet(ws, st, _appendix(3, f"ĐƠN VỊ CHƯA CÓ VĂN BẢN XÁC NHẬN HỢP LỆ: {len(rep.not_replied)} đơn vị"),
                (f"{refused} đơn vị đã gửi nhưng tệp bị từ chối (lý do của lần gửi gần nhất). " if refused else "")
                + f"Hạn gửi {rep.texts.due_text}. {_attached(rep)}", columns, 7, rows)


def _unsigned(ws, st, rep: Report) -> None:
    columns = [("STT", 34), ("Đơn vị", 200), ("Khối", 100), ("Sản phẩm", 150), ("Biên bản đã ký", 260),
               ("Email", 170), ("Điện thoại", 100), ("Mã đơn vị", 100)]
    rows = [[i, r.unit_name, r.group_name, r.product, _signed_cell(r.signed_copy),
             units[r.unit_id].email, units[r.unit_id].phone, r.unit_id]
            for units in [{u.unit_id: u for u in rep.stats.unit_rows}] for i, r in enumerate(rep.lacking_signed, 1)]
    _list_sheet(ws, st, _appendix(5, f"SẢN PHẨM ĐẠT CHƯA CÓ BIÊN BẢN ĐÃ KÝ HỢP LỆ: {len(rep.lacking_signed)} sản phẩm"),
                "Chiến dịch yêu cầu biên bản đã ký, đóng dấu (tệp PDF ký số hợp lệ, hoặc bản quét có mã QR của biểu "
                f"mẫu). {_attached(rep)}", columns, 5, rows)


def _deadlines(ws, st, rep: Report) -> None:
    columns = [("STT", 34), ("Đơn vị", 220), ("Khối", 110), ("Tình trạng hạn", 100), ("Ngày nhận", 78),
               ("Số ngày muộn", 70), ("Số lần gửi", 70), ("Mã đơn vị", 100)]
    rows = [[i, u.unit_name, u.group_name, DEADLINE[u.deadline_status], u.received, u.days_late or None,
             u.submissions, u.unit_id] for i, u in enumerate(rep.units, 1)]
    _list_sheet(ws, st, _appendix(4, "TÌNH TRẠNG HẠN GỬI THEO ĐƠN VỊ"),
                f"Hạn: nhận đến hết ngày {show_text(rep.campaign.due)}; đúng hạn hay muộn tính theo lần gửi đầu tiên. "
                f"{_attached(rep)}", columns, len(columns), rows)
