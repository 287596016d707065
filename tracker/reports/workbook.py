"""The acceptance report as a workbook: "Tổng hợp" (counts and a chart), "Đạt", "Chưa đạt",
"Chưa nộp", "Hạn nộp". Numbers are written as values from the stats (a snapshot at `as_of`);
every text from units or the registry goes through write_string.
"""
from __future__ import annotations

import datetime as dt
import io

import xlsxwriter

from tracker.model.dates import show
from tracker.outbound.styles import WORKBOOK_OPTIONS, Styles, a4_landscape, a4_portrait
from tracker.reports.model import Report, clean, percent
from tracker.outbound.wording import DEADLINE, STATUS

SUMMARY = "Tổng hợp"
ACCEPTED = "Đạt"
NOT_ACCEPTED = "Chưa đạt"
NOT_REPLIED = "Chưa nộp"
DEADLINES = "Hạn nộp"

UNIT_HEADERS = ["Khối", "Số đơn vị", "Đã gửi", "Đúng hạn", "Muộn", "Quá hạn, chưa gửi", "Đang chờ"]
UNIT_KEYS = ["total", "returned", "on_time", "late", "missing", "waiting"]
PRODUCT_HEADERS = ["Khối", "Số sản phẩm", STATUS["accepted"], STATUS["not_accepted"],
                   STATUS["incomplete"], STATUS["pending"], "Tỷ lệ đạt"]
PRODUCT_KEYS = ["total", "accepted", "not_accepted", "incomplete", "pending"]
VOLUME_LABEL = "Khối lượng đủ điều kiện nghiệm thu (sản phẩm)"
TOTAL = "Tổng cộng"


def build_report_workbook(rep: Report) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {**WORKBOOK_OPTIONS, "in_memory": True})
    wb.set_properties({"title": clean(f"{rep.texts.title} - {rep.texts.subject}"),
                       "author": clean(rep.texts.issuer_full),
                       "comments": f"{rep.campaign.id}; số liệu tính đến {rep.as_of.isoformat()}"})
    st = Styles(wb)
    _summary(wb, wb.add_worksheet(SUMMARY), st, rep)
    _accepted(wb.add_worksheet(ACCEPTED), st, rep)
    _not_accepted(wb.add_worksheet(NOT_ACCEPTED), st, rep)
    _not_replied(wb.add_worksheet(NOT_REPLIED), st, rep)
    _deadlines(wb.add_worksheet(DEADLINES), st, rep)
    wb.close()
    return buf.getvalue()


def _s(ws, r, c, text, fmt=None):
    ws.write_string(r, c, clean(text), fmt)


def _table(ws, st, top: int, headers: list[str], rows: list[list], *, bold_last=False) -> int:
    """Header and rows from `top`; numbers as numbers, the rest as strings. Returns the next free row."""
    th = st.get("th", font_size=11)
    td = st.get("td", font_size=11)
    num = st.get("td_center", font_size=11)
    bold_td = st.get("td", font_size=11, bold=True)
    bold_num = st.get("td_center", font_size=11, bold=True)
    for i, h in enumerate(headers):
        _s(ws, top, i, h, th)
    ws.set_row(top, 30)
    for k, row in enumerate(rows, 1):
        last = bold_last and k == len(rows)
        for i, v in enumerate(row):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(top + k, i, v, bold_num if last else num)
            else:
                _s(ws, top + k, i, v, (bold_td if last else td) if i == 0 else (bold_num if last else num))
    return top + len(rows) + 2


def _summary(wb, ws, st, rep: Report) -> None:
    t = rep.texts
    stats = rep.stats
    ws.set_column(0, 0, 30)
    ws.set_column(1, 6, 11.5)
    title = st.get("bold_center", font_size=13, text_wrap=True)
    # Issuer (one line a row, as in the template), then title, subject and the as-of line.
    head = [(line, False) for line in t.issuer_parent.upper().split("\n")]
    head += [(line, True) for line in t.issuer_name.split("\n")]
    for r, (line, bold) in enumerate(head[:4]):
        _s(ws, r, 0, line, st.get("bold" if bold else "left", font_size=11, text_wrap=False))
    r = max(len(head), 3) + 1
    ws.merge_range(r, 0, r, 6, "", title)
    _s(ws, r, 0, t.title, title)
    ws.merge_range(r + 1, 0, r + 1, 6, "", title)
    _s(ws, r + 1, 0, t.subject, title)
    ws.set_row(r + 1, 52)
    ws.merge_range(r + 2, 0, r + 2, 6, "", st.get("italic_center", font_size=11))
    _s(ws, r + 2, 0, f"Số liệu tính đến ngày {show(rep.as_of)}; hạn gửi {t.due_text} (nhận đến hết ngày "
                     f"{show(rep.campaign.due)}).", st.get("italic_center", font_size=11))
    ws.set_row(r + 2, 30)
    p = stats.products
    vol = r + 4
    _s(ws, vol, 0, VOLUME_LABEL, st.get("bold", font_size=12, text_wrap=True, valign="vcenter"))
    ws.set_row(vol, 34)
    ws.write_number(vol, 1, p.accepted, st.get("bold_center", font_size=12, valign="vcenter"))
    _s(ws, vol, 2, "/", st.get("center", font_size=12, valign="vcenter"))
    ws.write_number(vol, 3, p.total, st.get("bold_center", font_size=12, valign="vcenter"))
    _s(ws, vol, 4, f"tức {rep.volume} sản phẩm đủ điều kiện nghiệm thu ({percent(p.accepted, p.total)})",
       st.get("left", font_size=12, text_wrap=False, valign="vcenter"))
    section = st.get("bold", font_size=12, text_wrap=False)
    r = vol + 2
    groups = stats.groups
    _s(ws, r, 0, "1. Đơn vị gửi văn bản xác nhận, theo khối", section)
    rows = [[g.name] + [g.units[k] for k in UNIT_KEYS] for g in groups]
    rows.append([TOTAL] + [stats.units[k] for k in UNIT_KEYS])
    r = _table(ws, st, r + 1, UNIT_HEADERS, rows, bold_last=True)
    _s(ws, r, 0, "2. Kết quả theo khối (số sản phẩm)", section)
    products_top = r + 1
    rows = [[g.name] + [g.products[k] for k in PRODUCT_KEYS]
            + [percent(g.products.accepted, g.products.total)] for g in groups]
    rows.append([TOTAL] + [p[k] for k in PRODUCT_KEYS] + [percent(p.accepted, p.total)])
    r = _table(ws, st, products_top, PRODUCT_HEADERS, rows, bold_last=True)
    _s(ws, r, 0, "3. Kết quả theo loại sản phẩm", section)
    rows = [[k.label] + [k.products[x] for x in PRODUCT_KEYS] + [percent(k.products.accepted, k.products.total)]
            for k in rep.kinds]
    r = _table(ws, st, r + 1, ["Loại sản phẩm"] + PRODUCT_HEADERS[1:], rows)
    _s(ws, r, 0, "4. Kết quả theo tiêu chí (đếm trên sản phẩm)", section)
    rows = [[rep.criteria_labels[cr.id], cr.counts.met, cr.counts.not_met, cr.counts.blank] for cr in stats.criteria]
    r = _table(ws, st, r + 1, ["Tiêu chí", t.answer_met, t.answer_not_met, "Để trống"], rows)
    # Chart: products by result, per group (stacked), from table 2.
    # 100 % stacked so that a group of 12 products reads as clearly as one of 126; labels give counts.
    chart = wb.add_chart({"type": "column", "subtype": "percent_stacked"})
    colors = ["#70AD47", "#C00000", "#FFC000", "#A6A6A6"]
    n = len(groups)
    for k, color in zip(range(2, 6), colors):
        chart.add_series({"name": [SUMMARY, products_top, k],
                          "categories": [SUMMARY, products_top + 1, 0, products_top + n, 0],
                          "values": [SUMMARY, products_top + 1, k, products_top + n, k],
                          "fill": {"color": color}, "data_labels": {"value": True}})
    chart.set_title({"name": "Kết quả xác nhận theo khối (tỷ lệ sản phẩm; nhãn: số sản phẩm)",
                     "name_font": {"size": 11}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 640, "height": 300})
    ws.insert_chart(r, 0, chart)
    a4_portrait(ws, fit_one_page=False)
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(2)
    ws.activate()


def _list_sheet(ws, st, title: str, headers: list[tuple[str, float]], rows: list[list], *, note: str = "") -> None:
    """A filterable list: title, optional note, header row repeated on every printed page."""
    _s(ws, 0, 0, title, st.get("bold", font_size=13, text_wrap=False))
    if note:
        _s(ws, 1, 0, note, st.get("left", font_size=11, text_wrap=False))
    top = 3
    th = st.get("th", font_size=11)
    td = st.get("td", font_size=11, valign="top")
    center = st.get("td_center", font_size=11, valign="top")
    date_fmt = st.get("td_center", font_size=11, valign="top", num_format="dd/mm/yyyy")
    for i, (h, w) in enumerate(headers):
        _s(ws, top, i, h, th)
        ws.set_column(i, i, w)
    ws.set_row(top, 30)
    for k, row in enumerate(rows, 1):
        for i, v in enumerate(row):
            if v is None or v == "":
                ws.write_blank(top + k, i, None, td)
            elif isinstance(v, dt.date):
                ws.write_datetime(top + k, i, dt.datetime.combine(v, dt.time()), date_fmt)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(top + k, i, v, center)
            else:
                _s(ws, top + k, i, v, td)
    last = top + max(len(rows), 1)
    ws.freeze_panes(top + 1, 0)
    ws.autofilter(top, 0, last, len(headers) - 1)
    a4_landscape(ws)
    ws.repeat_rows(top)


def _accepted(ws, st, rep: Report) -> None:
    headers = [("STT", 5), ("Mã đơn vị", 11), ("Đơn vị", 30), ("Khối", 16), ("Sản phẩm", 30), ("Loại", 13),
               ("Tên miền", 26), ("Ngày nhận", 11), ("Tình trạng hạn", 13), ("Số ngày muộn", 9)]
    rows = [[i, r.unit_id, r.unit_name, r.group_name, r.product, r.kind_label, r.domain,
             r.received, DEADLINE[r.deadline_status], r.days_late or None]
            for i, r in enumerate(rep.accepted, 1)]
    _list_sheet(ws, st, f"SẢN PHẨM ĐỦ ĐIỀU KIỆN NGHIỆM THU: {rep.volume}", headers, rows,
                note=f"Số liệu tính đến ngày {show(rep.as_of)}.")


def _not_accepted(ws, st, rep: Report) -> None:
    headers = [("STT", 5), ("Mã đơn vị", 11), ("Đơn vị", 24), ("Khối", 14), ("Sản phẩm", 24), ("Kết quả", 11),
               ("Tiêu chí chưa đáp ứng", 24), ("Tiêu chí để trống", 20), ("Ghi chú", 30),
               ("Đề xuất, kiến nghị của đơn vị", 30), ("Người ký", 16), ("Ngày nhận", 11)]
    rows = [[i, r.unit_id, r.unit_name, r.group_name, r.product, STATUS[r.status],
             "; ".join(r.unmet), "; ".join(r.blank), r.notes, r.proposals, r.signer, r.received]
            for i, r in enumerate(rep.not_accepted, 1)]
    _list_sheet(ws, st, "SẢN PHẨM CHƯA ĐỦ ĐIỀU KIỆN NGHIỆM THU (đã gửi xác nhận)", headers, rows,
                note=f"{STATUS['not_accepted']}: có tiêu chí “{rep.texts.answer_not_met}”. "
                     f"{STATUS['incomplete']}: có tiêu chí để trống. Số liệu tính đến ngày {show(rep.as_of)}.")


def _not_replied(ws, st, rep: Report) -> None:
    headers = [("STT", 5), ("Mã đơn vị", 11), ("Đơn vị", 32), ("Khối", 16), ("Email", 30), ("Điện thoại", 14),
               ("Tình trạng", 18), ("Số sản phẩm", 10)]
    rows = [[i, u.unit_id, u.unit_name, u.group_name, u.email, u.phone,
             DEADLINE[u.deadline_status], u.products] for i, u in enumerate(rep.not_replied, 1)]
    _list_sheet(ws, st, f"ĐƠN VỊ CHƯA GỬI VĂN BẢN XÁC NHẬN: {len(rep.not_replied)} đơn vị", headers, rows,
                note=f"Tính đến ngày {show(rep.as_of)}; hạn gửi {rep.texts.due_text}.")


def _deadlines(ws, st, rep: Report) -> None:
    headers = [("STT", 5), ("Mã đơn vị", 11), ("Đơn vị", 32), ("Khối", 16), ("Tình trạng hạn", 18),
               ("Ngày nhận", 11), ("Số ngày muộn", 9), ("Số lần gửi", 9)]
    rows = [[i, u.unit_id, u.unit_name, u.group_name, DEADLINE[u.deadline_status], u.received,
             u.days_late or None, u.submissions] for i, u in enumerate(rep.units, 1)]
    _list_sheet(ws, st, "TÌNH TRẠNG HẠN GỬI THEO ĐƠN VỊ", headers, rows,
                note=f"Hạn: nhận đến hết ngày {show(rep.campaign.due)}. Đúng hạn/muộn tính theo lần gửi đầu tiên.")
