"""The master workbook: the staff's view of the campaign, rebuilt from the ledger.

"Tổng hợp" (live counts and a chart), one sheet per group (a row per product, a dropdown per
criterion, deadline columns, a live result formula), "Nhật ký" (every return). Every formula is
written with its computed value, so a reader that does not recalculate still sees the truth.
Staff may type results for paper replies into the group sheets: merge reads them back as
manual entries before rebuilding (see tracker.master.sync).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import re

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell, xl_rowcol_to_cell_fast

from tracker.model.campaign import Campaign
from tracker.model.dates import from_iso, show_text
from tracker.model.findings import Finding
from tracker.model.text import CELL_MAX, cell_text, one_line, utf16_len, xml_safe
from tracker.outbound.sheets import SafeSheet, SafeWorkbook
from tracker.outbound.styles import (
    FORM_BASE,
    LANDSCAPE_PX,
    SHEET_PT,
    SHEET_WORKBOOK_OPTIONS,
    Styles,
    a4_sheet,
    cell_lines,
    sheet_row_height,
    split_to_rows,
)
from tracker.model.registry import Unit
from tracker.stats import ProductRow, Stats
from tracker.outbound.wording import DEADLINE, OUTCOME_SHORT, STATUS

SUMMARY_SHEET = "Tổng hợp"
LOG_SHEET = "Nhật ký"
ID_SHEET = "_tracker"
MASTER_KIND = "master"
HEADER_ROW = 3          # 0-based row of the column headers on group sheets
FIRST_ROW = HEADER_ROW + 1
PRODUCT_ID_HEADER = "Mã sản phẩm"

# Column headers of a group sheet, in order; criteria columns are inserted at CRITERIA_AT. The
# columns up to "Kết quả" are printed; the others are for the screen (and for merge, which finds
# every column by its header).
BASE_HEADERS = ["STT", "Đơn vị", "Sản phẩm", "Ngày nhận", "Tình trạng hạn"]
SIGNED_HEADER = "Biên bản đã ký"
TAIL_HEADERS = ["Kết quả", "Ghi chú", "Đề xuất, kiến nghị", "Người ký", "Tên miền", "Mã đơn vị", "Hạn nộp",
                "Tệp nguồn", SIGNED_HEADER, PRODUCT_ID_HEADER, "Dòng đầu đơn vị"]
CRITERIA_AT = len(BASE_HEADERS)
LAST_PRINTED = "Kết quả"
HIDDEN = (PRODUCT_ID_HEADER, "Dòng đầu đơn vị")
# Pixel widths (Times New Roman 12 is the workbook's default font); the criteria share what the
# printed columns leave of a landscape page.
WIDTH_PX = {"STT": 34, "Đơn vị": 166, "Sản phẩm": 110, "Ngày nhận": 78, "Tình trạng hạn": 84, "Kết quả": 96,
            "Ghi chú": 240, "Đề xuất, kiến nghị": 240, "Người ký": 140, "Tên miền": 180, "Mã đơn vị": 110,
            "Hạn nộp": 80, "Tệp nguồn": 240, SIGNED_HEADER: 240, PRODUCT_ID_HEADER: 110, "Dòng đầu đơn vị": 40}
PT = SHEET_PT


class _MasterSheet(SafeSheet):
    """A master worksheet, written faster than xlsxwriter alone would, to the same bytes.

    Formulas: ours use only classic functions (IF, COUNTIF(S), SUM, ...), and xlsxwriter runs
    about 30 regular expressions over every formula to prefix newer Excel functions with _xlfn.;
    the master has two formulas per product row, so at national scale that was half the time of
    a merge's rebuild. Formulas naming any other function still go through xlsxwriter's own
    preparation. Text cells: see _write_cell."""

    _CLASSIC = {"IF", "COUNTIF", "COUNTIFS", "COUNTA", "COUNTBLANK", "SUM", "TODAY"}
    _CALL = re.compile(r"([A-Z][A-Z0-9.]*)\(")

    def _prepare_formula(self, formula, expand_future_functions=False):
        if set(self._CALL.findall(formula)) <= self._CLASSIC and not formula.startswith("{"):
            return formula[1:] if formula.startswith("=") else formula
        return super()._prepare_formula(formula, expand_future_functions)

    # Text that xlsxwriter writes as it is: no XML escape, no _xHHHH_ escape, no edge spaces to keep.
    _AS_IS = re.compile(r'[\x00-\x1f"&<>\ufffe\uffff]|_x|^\s|\s$')

    def _write_cell(self, row, col, cell):
        """A text cell of the constant-memory master, written as xlsxwriter writes it (the same
        bytes: tests/test_generate.py) without its per-cell escapes: about half the time of a
        national rebuild went there. Anything else goes through xlsxwriter itself."""
        if not self.constant_memory or cell.__class__.__name__ != "String" or type(cell.string) is not str \
                or self._AS_IS.search(cell.string):
            return super()._write_cell(row, col, cell)
        if cell.format:
            style = f' s="{cell.format._get_xf_index()}"'
        elif row in self.row_info and self.row_info[row].row_format:
            style = f' s="{self.row_info[row].row_format._get_xf_index()}"'
        elif col in self.col_info and self.col_info[col].column_format is not None:
            style = f' s="{self.col_info[col].column_format._get_xf_index()}"'
        else:
            style = ""
        self.fh.write(f'<c r="{xl_rowcol_to_cell_fast(row, col)}"{style} t="inlineStr"><is><t>{cell.string}</t></is></c>')


def sheet_name(name: str) -> str:
    """A group's name as a sheet may be named: without the characters Excel forbids ([]:*?/\\ and
    control characters), no apostrophe at either end, 31 characters at most."""
    clean = "".join("-" if ch in "[]:*?/\\" else ch for ch in xml_safe(name)).strip("'")
    clean = clean[:31].rstrip("'")
    return clean if clean.strip() else "Khối"


def sheet_names(campaign: Campaign) -> dict[str, str]:
    """Group id -> the name of its sheet in the master: sheet_name(), made unique ignoring case
    among the master's sheets (a number added), never "History" (Excel keeps that name)."""
    taken = {n.casefold() for n in (SUMMARY_SHEET, LOG_SHEET, ID_SHEET, "History")}
    out = {}
    for g in campaign.groups:
        name = base = sheet_name(g.name)
        k = 2
        while name.casefold() in taken:
            suffix = f" ({k})"
            name = base[:31 - len(suffix)].rstrip("'") + suffix
            k += 1
        taken.add(name.casefold())
        out[g.id] = name
    return out


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def columns(campaign: Campaign) -> dict[str, int]:
    """Column index by header on a group sheet."""
    headers = BASE_HEADERS + [f"TC{i}" for i in range(1, len(campaign.criteria) + 1)] + TAIL_HEADERS
    return {h: i for i, h in enumerate(headers)}


UNIT_NOTE = "ghi chú chung của đơn vị"     # marks, on each product's row, a note not about one product


def notes_text(sub, campaign: Campaign, product_id: str, alone: bool = True) -> str:
    """What a product's row shows as its notes (master, both reports): the product's own notes by
    criterion, and the whole unit's; `alone`: the unit has this one product, so a note of the
    unit is simply its, else it is marked as the unit's on each row. A note typed into the
    master's row is the row's whole note."""
    if sub is None:
        return ""
    typed = sub.notes.get((product_id, ""))
    if typed is not None:
        return typed
    parts = []
    if sub.note:
        parts.append(sub.note if alone else f"{UNIT_NOTE[0].upper()}{UNIT_NOTE[1:]}: {sub.note}")
    for i, c in enumerate(campaign.criteria, 1):
        own, unit = sub.notes.get((product_id, c.id)), sub.notes.get(("", c.id))
        if own:
            parts.append(f"TC{i}: {own}")
        if unit:
            parts.append(f"TC{i}: {unit}" if alone else f"TC{i} ({UNIT_NOTE}): {unit}")
    return "; ".join(parts)


def signed_copy_text(facts) -> str:
    """A unit's signed copy in one cell: "Bản ký số hợp lệ (Nguyễn Văn An (UBND ...)), nhận 15:00
    04/06/2026", "Bản quét, nhận ..."; empty while none is attached."""
    if facts is None:
        return ""
    from tracker.model.dates import show_time

    if facts.kind == "scan":
        what = "Bản quét có mã QR" if facts.method == "qr" else "Bản quét"
    else:
        what = "Bản ký số hợp lệ" if facts.valid else "Bản ký số chưa xác thực được chữ ký"
        what += f" ({facts.signer})" if facts.signer else ""
    how = " (cán bộ xác nhận)" if facts.method == "staff" else ""
    return f"{what}{how}, nhận {show_time(facts.received_time)}: {facts.name}"


def products_of(rows) -> dict[str, int]:
    """unit id -> how many product rows it has (a unit's notes are marked as such beside several)."""
    out: dict[str, int] = {}
    for r in rows:
        out[r.unit_id] = out.get(r.unit_id, 0) + 1
    return out


TEXT_KEYS = ("notes", "proposals", "signer")


def row_snapshot(row: ProductRow, sub, campaign: Campaign, alone: bool = True) -> dict:
    """The editable values of one product row, as the master shows them (a text too long for a
    cell: cut as its cell shows it)."""
    return {"received_at": row.received_at.isoformat() if row.received_at else None, "answers": row.answers,
            "notes": cell_text(notes_text(sub, campaign, row.product_id, alone)),
            "proposals": cell_text(sub.proposals if sub else ""), "signer": cell_text(sub.signer if sub else "")}


def snapshot_json(snap: dict) -> str:
    """A row's snapshot as its cell of the hidden sheet holds it: JSON, and when that would not fit
    a cell, its long texts as {"sha256": digest of the text} (tracker.master.sync compares so)."""
    text = json.dumps(snap, ensure_ascii=False)
    if utf16_len(text) <= CELL_MAX:
        return text
    short = {k: ({"sha256": hashlib.sha256(v.encode("utf-8")).hexdigest()}
                 if k in TEXT_KEYS and isinstance(v, str) and len(v) > 256 else v) for k, v in snap.items()}
    return json.dumps(short, ensure_ascii=False)


def build_master(campaign: Campaign, units: list[Unit], stats, returns, target=None,
                 source_names: dict[int, str] | None = None, created: dt.datetime | None = None,
                 kept: dict | None = None) -> bytes | None:
    """The master workbook. `stats`: compute() over all units (tracker.stats.Stats), or a function
    giving, for a group id, (compute() over that group's units, their source names): the workbook
    is then built a group at a time, so its memory does not grow with the number of units.
    `kept`: product id -> tracker.master.sync.KeptRow, a refused hand entry written back as typed."""
    if callable(stats):
        of_group = stats
    else:
        def of_group(group_id):
            return stats, source_names or {}
    buf = io.BytesIO() if target is None else None
    # constant_memory: rows go to a temporary file as they are written, so memory does not grow
    # with the number of units (strings are then written inline, which Excel reads the same).
    # Each sheet keeps its own place: the group sheets and the snapshot rows are written together.
    wb = SafeWorkbook(target or buf, {**SHEET_WORKBOOK_OPTIONS, "constant_memory": True})
    wb.set_properties({"title": f"Tổng hợp - {campaign.title}", **({"created": created} if created else {})})
    st = Styles(wb, FORM_BASE)
    summary_ws = wb.add_worksheet(SUMMARY_SHEET, worksheet_class=_MasterSheet)
    names = sheet_names(campaign)
    group_sheets = {g.id: wb.add_worksheet(names[g.id], worksheet_class=_MasterSheet) for g in campaign.groups}
    log_ws = wb.add_worksheet(LOG_SHEET, worksheet_class=_MasterSheet)
    id_ws = wb.add_worksheet(ID_SHEET, worksheet_class=_MasterSheet)
    id_ws.write_string(0, 0, "kind")
    id_ws.write_string(0, 1, MASTER_KIND)
    id_ws.write_string(1, 0, "campaign_id")
    id_ws.write_string(1, 1, campaign.id)
    id_ws.write_string(2, 0, "groups")
    id_ws.write_string(2, 1, json.dumps({g.id: group_sheets[g.id].name for g in campaign.groups},
                                        ensure_ascii=False))
    # What each product row showed when written: merge compares against it to find hand edits.
    id_ws.write_string(3, 0, "snapshot")
    snapshot_row = 4
    group_ranges, counts = {}, []
    for g in campaign.groups:
        group_stats, names = of_group(g.id)
        unit_rows = {u.unit_id: u for u in group_stats.unit_rows}
        rows = [r for r in group_stats.rows if r.group == g.id]
        ws = group_sheets[g.id]
        group_ranges[g.id] = (ws.name, len(rows))
        _group_sheet(wb, ws, st, campaign, g, rows, unit_rows, names, kept or {})
        n_products = products_of(rows)
        for r in rows:
            id_ws.write_string(snapshot_row, 0, r.product_id)
            id_ws.write_string(snapshot_row, 1, snapshot_json(
                row_snapshot(r, unit_rows[r.unit_id].current, campaign, n_products[r.unit_id] == 1)))
            snapshot_row += 1
        if callable(stats):     # only the counts are kept: the rows go with their group
            counts.append(group_stats.counts_only())
    if callable(stats):
        from tracker.stats import add_up

        stats = add_up(counts)      # add_up reads the counts only, never the rows
    _summary_sheet(wb, summary_ws, st, campaign, stats, group_ranges)
    _log_sheet(log_ws, st, returns)
    id_ws.very_hidden()
    summary_ws.activate()
    wb.close()
    return buf.getvalue() if buf is not None else None


def widths(campaign: Campaign) -> dict[str, int]:
    """Pixel width of each column of a group sheet, by header (criteria: "TC1"...)."""
    n = len(campaign.criteria)
    fixed = sum(WIDTH_PX[h] for h in BASE_HEADERS + [LAST_PRINTED])
    tc = max(56, min(80, (LANDSCAPE_PX - fixed) // max(n, 1)))
    return {h: WIDTH_PX.get(h, tc) for h in columns(campaign)}


def _heading(ws, st, last_col: int, width_px: int, title: str, line: str) -> None:
    """A sheet's first two rows, each merged over columns 0..last_col (`width_px` wide) and as high
    as its wrapped text: the title (bold, 14 pt), then one line of facts."""
    ws.merge_range(0, 0, 0, last_col, "", st.get("bold", font_size=14))
    ws.write_string(0, 0, title, st.get("bold", font_size=14))
    ws.set_row(0, sheet_row_height(cell_lines(title, width_px, 14, True), 14))
    ws.merge_range(1, 0, 1, last_col, "", st.get("left", font_size=PT))
    ws.write_string(1, 0, line, st.get("left", font_size=PT))
    ws.set_row(1, sheet_row_height(cell_lines(line, width_px)))


def _group_sheet(wb, ws, st, campaign, group, rows, unit_rows, source_names, kept=None) -> None:
    cols = columns(campaign)
    px = widths(campaign)
    n_crit = len(campaign.criteria)
    c_first, c_last = CRITERIA_AT, CRITERIA_AT + n_crit - 1
    col = lambda h: cols[h]  # noqa: E731
    last_printed = col(LAST_PRINTED)
    printed_px = sum(px[h] for h in cols if cols[h] <= last_printed)
    for h, i in cols.items():
        ws.set_column_pixels(i, i, px[h], None, {"hidden": h in HIDDEN})
    # Title and the deadline, over the printed columns.
    _heading(ws, st, last_printed, printed_px, f"{group.name.upper()} - {campaign.title}",
             f"{group.form}. Hạn nộp: {campaign.section('campaign').get('due_text', '')} "
             f"(nhận đến hết ngày {show_text(campaign.due)}).")
    th = st.get("th", font_size=PT)
    head_lines = 1
    for h, i in cols.items():
        label = h
        if c_first <= i <= c_last:
            label = f"TC{i - c_first + 1}. {campaign.criteria[i - c_first].group}"
        ws.write_string(HEADER_ROW, i, label, th)
        if h not in HIDDEN:
            head_lines = max(head_lines, cell_lines(label, px[h], PT, True))
    ws.set_row(HEADER_ROW, sheet_row_height(head_lines))
    body = st.get("td", font_size=PT, valign="top")
    center = st.get("td_center", font_size=PT)
    date_fmt = st.get("td_center", font_size=PT, num_format="dd/mm/yyyy")
    input_date = st.get("input_td", font_size=PT, num_format="dd/mm/yyyy", align="center")
    input_ans = st.get("input_td", font_size=PT, align="center")
    input_text = st.get("input_td", font_size=PT, valign="top")
    met, not_met = campaign.answers
    answer_vi = {"met": met, "not_met": not_met, "blank": ""}
    # Every row holds whatever its formulas and dropdowns may come to say, not only what they say now.
    least = max([cell_lines(a, px["TC1"] if n_crit else 64) for a in (met, not_met)]
                + [cell_lines(v, px["Kết quả"]) for v in STATUS.values()]
                + [cell_lines(v, px["Tình trạng hạn"]) for v in DEADLINE.values()])
    G, H = xl_col_to_name(col("Hạn nộp")), xl_col_to_name(col("Ngày nhận"))
    seen_units = set()
    n_products = products_of(rows)
    for i, r in enumerate(rows):
        x = FIRST_ROW + i
        R = x + 1
        sub = unit_rows[r.unit_id].current
        first_of_unit = r.unit_id not in seen_units
        seen_units.add(r.unit_id)
        domain = (sub.domains.get(r.product_id) if sub else None) or r.domain or ""
        source = ""
        if sub is not None:
            source = ("Nhập tay trên bảng tổng hợp" if sub.source == "manual"
                      else one_line(source_names.get(sub.return_id, "")))
        texts = {"Đơn vị": r.unit_name, "Sản phẩm": r.product,
                 "Ghi chú": notes_text(sub, campaign, r.product_id, n_products[r.unit_id] == 1),
                 "Đề xuất, kiến nghị": sub.proposals if sub else "", "Người ký": sub.signer if sub else "",
                 "Tên miền": domain, "Mã đơn vị": r.unit_id, "Tệp nguồn": source,
                 SIGNED_HEADER: signed_copy_text(r.signed_copy)}
        ws.set_row(x, sheet_row_height(max([least] + [cell_lines(v, px[h]) for h, v in texts.items() if v])))
        ws.write_number(x, col("STT"), i + 1, center)
        for h in ("Đơn vị", "Sản phẩm", "Tên miền", "Mã đơn vị", "Tệp nguồn", SIGNED_HEADER):
            ws.write_string(x, col(h), texts[h], body)
        ws.write_string(x, col(PRODUCT_ID_HEADER), r.product_id, body)
        ws.write_datetime(x, col("Hạn nộp"), dt.datetime.combine(campaign.due, dt.time()), date_fmt)
        if r.received_at:
            ws.write_datetime(x, col("Ngày nhận"), dt.datetime.combine(r.received_at, dt.time()), input_date)
        else:
            ws.write_blank(x, col("Ngày nhận"), None, input_date)
        ws.write_formula(x, col("Tình trạng hạn"),
                         f'=IF({H}{R}<>"",IF({H}{R}<={G}{R},"{DEADLINE["on_time"]}","{DEADLINE["late"]}"),'
                         f'IF(TODAY()>{G}{R},"{DEADLINE["missing"]}","{DEADLINE["waiting"]}"))',
                         center, DEADLINE[r.deadline_status])
        for k, cr in enumerate(campaign.criteria):
            value = answer_vi[r.answers[cr.id]]
            if value:
                ws.write_string(x, c_first + k, value, input_ans)
            else:
                ws.write_blank(x, c_first + k, None, input_ans)
        a = xl_rowcol_to_cell(x, c_first)
        b = xl_rowcol_to_cell(x, c_last)
        ws.write_formula(x, col("Kết quả"),
                         f'=IF({H}{R}="","{STATUS["pending"]}",IF(COUNTIF({a}:{b},"{not_met}")>0,'
                         f'"{STATUS["not_accepted"]}",IF(COUNTIF({a}:{b},"{met}")={n_crit},'
                         f'"{STATUS["accepted"]}","{STATUS["incomplete"]}")))',
                         center, STATUS[r.status])
        for h in ("Ghi chú", "Đề xuất, kiến nghị", "Người ký"):
            ws.write_string(x, col(h), texts[h], input_text)
        ws.write_number(x, col("Dòng đầu đơn vị"), 1 if first_of_unit else 0, center)
        if kept and r.product_id in kept:
            _kept_row(ws, st, x, cols, kept[r.product_id], {"Ngày nhận": input_date, "Ghi chú": input_text,
                                                             "Đề xuất, kiến nghị": input_text,
                                                             "Người ký": input_text}, input_ans, body)
    last = FIRST_ROW + max(len(rows), 1) - 1
    ws.data_validation(FIRST_ROW, c_first, last, c_last, {
        "validate": "list", "source": [met, not_met], "ignore_blank": True,
        "error_type": "stop", "error_title": "Giá trị không hợp lệ",
        "error_message": f"Chỉ chọn “{met}” hoặc “{not_met}”."})
    result_col = col("Kết quả")
    green = wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})
    red = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    amber = wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
    for text, fmt in ((STATUS["accepted"], green), (STATUS["not_accepted"], red),
                      (STATUS["incomplete"], amber)):
        ws.conditional_format(FIRST_ROW, result_col, last, result_col,
                              {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": fmt})
    ws.conditional_format(FIRST_ROW, c_first, last, c_last,
                          {"type": "cell", "criteria": "==", "value": f'"{not_met}"', "format": red})
    dl = col("Tình trạng hạn")
    for text in (DEADLINE["late"], DEADLINE["missing"]):
        ws.conditional_format(FIRST_ROW, dl, last, dl,
                              {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": amber})
    ws.freeze_panes(FIRST_ROW, col("Đơn vị") + 1)
    ws.autofilter(HEADER_ROW, 0, last, len(cols) - 1)
    # Printed: the columns up to the result (notes, proposals, sources and ids stay on screen).
    a4_sheet(ws, repeat=HEADER_ROW, area=(0, 0, last, last_printed))


SUMMARY_PX = [150] + [74] * 11


def _kept_row(ws, st, x: int, cols: dict, kept, formats: dict, answer_format, body) -> None:
    """A refused hand entry written back as it was typed (the ledger does not hold it): the
    refused cells filled red with a note saying why, the source column saying where it came from."""
    for header, value in kept.values.items():
        c = cols[header]
        fmt = formats.get(header, answer_format)
        if header in kept.bad:
            fmt = st.get("input_td", font_size=11, bg_color="#FFC7CE", font_color="#9C0006", text_wrap=True,
                         valign="top", **({"num_format": "dd/mm/yyyy"} if header == "Ngày nhận" else {}))
        if value is None or value == "":
            ws.write_blank(x, c, None, fmt)
        elif isinstance(value, bool):
            ws.write_boolean(x, c, value, fmt)
        elif isinstance(value, (int, float)):
            ws.write_number(x, c, value, fmt)
        elif isinstance(value, (dt.datetime, dt.date)):
            ws.write_datetime(x, c, value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time()),
                              fmt)
        else:
            ws.write_string(x, c, str(value), fmt)
        if header in kept.bad:
            ws.write_comment(x, c, kept.bad[header], {"x_scale": 3, "y_scale": 2})
    ws.write_string(x, cols["Tệp nguồn"], f"Nhập tay chưa được ghi nhận (sửa ô tô đỏ), gõ trong {kept.source}", body)


def _summary_sheet(wb, ws, st, campaign, stats: Stats, group_ranges) -> None:
    cols = columns(campaign)
    c = lambda h: xl_col_to_name(cols[h])  # noqa: E731
    th = st.get("th", font_size=PT)
    td = st.get("td", font_size=PT)
    num = st.get("td_center", font_size=PT)
    bold_num = st.get("td_center", font_size=PT, bold=True)
    for i, p in enumerate(SUMMARY_PX):
        ws.set_column_pixels(i, i, p)
    width = sum(SUMMARY_PX)
    last_col = len(SUMMARY_PX) - 1
    _heading(ws, st, last_col, width, f"TỔNG HỢP - {campaign.title}",
             f"{campaign.section('contract').get('short', '')}. Hạn nộp: {show_text(campaign.due)}. "
             f"Số liệu tính đến ngày {show_text(stats.as_of)} (công thức tự tính lại khi mở tệp).")
    headers = ["Khối", "Số đơn vị", "Đã nộp", "Đúng hạn", "Muộn", "Quá hạn, chưa nộp", "Đang chờ",
               "Số sản phẩm", "Đạt (nghiệm thu)", "Không đạt", "Chưa đủ", "Chưa nhận"]
    keys = ["total", "returned", "on_time", "late", "missing", "waiting"]
    pkeys = ["total", "accepted", "not_accepted", "incomplete", "pending"]
    top = 3
    for i, h in enumerate(headers):
        ws.write_string(top, i, h, th)
    ws.set_row(top, sheet_row_height(max(cell_lines(h, p, PT, True) for h, p in zip(headers, SUMMARY_PX))))
    groups = {g.id: g for g in stats.groups}
    for gi, g in enumerate(campaign.groups):
        x = top + 1 + gi
        name, n = group_ranges[g.id]
        sh = quote_sheet(name)
        last = FIRST_ROW + max(n, 1)
        rng = lambda h: f"{sh}!${c(h)}${FIRST_ROW + 1}:${c(h)}${last}"  # noqa: E731
        flag = rng("Dòng đầu đơn vị")
        ws.set_row(x, sheet_row_height(cell_lines(g.name, SUMMARY_PX[0])))
        ws.write_string(x, 0, g.name, td)
        unit_formulas = [
            f"=COUNTIF({flag},1)",
            f'=COUNTIFS({flag},1,{rng("Ngày nhận")},"<>")',
            f'=COUNTIFS({flag},1,{rng("Tình trạng hạn")},"{DEADLINE["on_time"]}")',
            f'=COUNTIFS({flag},1,{rng("Tình trạng hạn")},"{DEADLINE["late"]}")',
            f'=COUNTIFS({flag},1,{rng("Tình trạng hạn")},"{DEADLINE["missing"]}")',
            f'=COUNTIFS({flag},1,{rng("Tình trạng hạn")},"{DEADLINE["waiting"]}")',
        ]
        for k, (f, key) in enumerate(zip(unit_formulas, keys), 1):
            ws.write_formula(x, k, f, num, groups[g.id].units[key])
        prod_formulas = [f'=COUNTA({rng("Mã sản phẩm")})'] + [
            f'=COUNTIF({rng("Kết quả")},"{STATUS[k]}")' for k in pkeys[1:]]
        for k, (f, key) in enumerate(zip(prod_formulas, pkeys), 7):
            ws.write_formula(x, k, f, num, groups[g.id].products[key])
    total_row = top + 1 + len(campaign.groups)
    ws.write_string(total_row, 0, "Tổng cộng", st.get("td", font_size=PT, bold=True))
    all_vals = [stats.units[k] for k in keys] + [stats.products[k] for k in pkeys]
    for k in range(1, len(headers)):
        colname = xl_col_to_name(k)
        ws.write_formula(total_row, k, f"=SUM({colname}{top + 2}:{colname}{total_row})", bold_num, all_vals[k - 1])
    # The contract volume.
    vol = total_row + 2
    accepted_cell = xl_rowcol_to_cell(total_row, 8)
    total_cell = xl_rowcol_to_cell(total_row, 7)
    ws.merge_range(vol, 0, vol, 6, "", st.get("bold", font_size=12, valign="vcenter"))
    ws.write_string(vol, 0, "Khối lượng đủ điều kiện nghiệm thu (sản phẩm đạt / tổng số):",
                    st.get("bold", font_size=12, valign="vcenter"))
    ws.write_formula(vol, 7, f'={accepted_cell}&" / "&{total_cell}', st.get("bold_center", font_size=12),
                     f"{stats.products.accepted} / {stats.products.total}")
    ws.set_row(vol, sheet_row_height(1, 12))
    # Criteria over products: met + not met + blank (returned, left blank) + pending (nothing returned).
    crit_top = vol + 2
    crit_heads = ["Tiêu chí", "Đáp ứng", "Chưa đáp ứng", "Để trống", STATUS["pending"]]
    for i, h in enumerate(crit_heads):
        ws.write_string(crit_top, i, h, th)
    ws.set_row(crit_top, sheet_row_height(max(cell_lines(h, p, PT, True) for h, p in zip(crit_heads, SUMMARY_PX))))
    met, not_met = campaign.answers
    crit_stats = {cr.id: cr.counts for cr in stats.criteria}
    pending = STATUS["pending"]
    result = c("Kết quả")
    parts = [(quote_sheet(n), FIRST_ROW + 1, FIRST_ROW + max(cnt, 1)) for n, cnt in group_ranges.values()]
    for k, cr in enumerate(campaign.criteria):
        x = crit_top + 1 + k
        colname = xl_col_to_name(CRITERIA_AT + k)

        def total(test: str, on_result: bool = False) -> str:
            if on_result:
                return "=" + "+".join(f'COUNTIF({s}!${result}${a}:${result}${b},"{test}")' for s, a, b in parts)
            return "=" + "+".join(f'COUNTIFS({s}!${colname}${a}:${colname}${b},"{test}",'
                                  f'{s}!${result}${a}:${result}${b},"<>{pending}")' for s, a, b in parts)

        label = f"TC{k + 1}. {cr.group}"
        ws.set_row(x, sheet_row_height(cell_lines(label, SUMMARY_PX[0])))
        ws.write_string(x, 0, label, td)
        ws.write_formula(x, 1, total(met), num, crit_stats[cr.id].met)
        ws.write_formula(x, 2, total(not_met), num, crit_stats[cr.id].not_met)
        ws.write_formula(x, 3, total(""), num, crit_stats[cr.id].blank)
        ws.write_formula(x, 4, total(pending, on_result=True), num, crit_stats[cr.id].pending)
    # Chart: products by result, per group, on a page of its own.
    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    colors = ["#70AD47", "#C00000", "#FFC000", "#A6A6A6"]
    n_groups = len(campaign.groups)
    for k, color in zip(range(8, 12), colors):
        chart.add_series({
            "name": [SUMMARY_SHEET, top, k],
            "categories": [SUMMARY_SHEET, top + 1, 0, top + n_groups, 0],
            "values": [SUMMARY_SHEET, top + 1, k, top + n_groups, k],
            "fill": {"color": color},
        })
    chart.set_title({"name": "Kết quả xác nhận theo khối (số sản phẩm)"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 320})
    # On a page of its own: a row after the page break, so that no edge of it reaches the page before.
    page_break = crit_top + len(campaign.criteria) + 2
    ws.insert_chart(page_break + 1, 0, chart)
    # 320 px of chart over rows of the default height (21 px for Times New Roman 12)
    a4_sheet(ws, area=(0, 0, page_break + 18, last_col), breaks=[page_break])


LOG_HEADERS = ["STT", "Thời điểm ghép", "Tệp", "Ngày nhận", "Đơn vị", "Kết quả", "Lý do / ghi chú", "SHA-256"]
LOG_PX = [34, 110, 180, 78, 110, 96, 380, 470]
LOG_PT = 10


def _log_sheet(ws, st, returns) -> None:
    th = st.get("th", font_size=PT)
    td = st.get("td", font_size=LOG_PT, valign="top")
    num = st.get("td_center", font_size=LOG_PT, valign="top")
    when_fmt = st.get("td_center", font_size=LOG_PT, valign="top", num_format="dd/mm/yyyy hh:mm")
    day_fmt = st.get("td_center", font_size=LOG_PT, valign="top", num_format="dd/mm/yyyy")
    mono = st.get("td", font_size=LOG_PT, valign="top", font_name="Courier New")
    for i, (h, p) in enumerate(zip(LOG_HEADERS, LOG_PX)):
        ws.write_string(0, i, h, th)
        ws.set_column_pixels(i, i, p)
    ws.set_row(0, sheet_row_height(max(cell_lines(h, p, PT, True) for h, p in zip(LOG_HEADERS, LOG_PX))))
    reason_px = LOG_PX[LOG_HEADERS.index("Lý do / ghi chú")]
    k = row = 0
    for r in returns:     # streamed from the ledger: a row at a time
        if r["outcome"] == "duplicate":     # each distinct file once
            continue
        k += 1
        # Rendered from the fields the ledger keeps (an old ledger's findings: their stored text).
        reason = "\n".join(Finding.from_record(f).text("vi") for f in json.loads(r["findings"] or "[]"))
        received = from_iso(r["received_at"])
        merged = _local(r["merged_at"])
        # A long reason goes on over the next rows: no row is higher than Excel allows.
        pieces = split_to_rows(reason, reason_px, LOG_PT) if reason else [""]
        name = one_line(r["name"])         # a file's name on one line, whatever it holds
        for p, piece in enumerate(pieces):
            row += 1
            ws.set_row(row, sheet_row_height(max(cell_lines(piece, reason_px, LOG_PT),
                                                 cell_lines(name, LOG_PX[2], LOG_PT)), LOG_PT))
            if p:
                ws.write_number(row, 0, k, num)
                ws.write_string(row, 2, f"{name} (tiếp)", td)
                ws.write_string(row, 6, piece, td)
                continue
            ws.write_number(row, 0, k, num)
            if merged is not None:
                ws.write_datetime(row, 1, merged, when_fmt)
            else:
                ws.write_string(row, 1, r["merged_at"] or "", td)
            ws.write_string(row, 2, name, td)
            if received is not None:
                ws.write_datetime(row, 3, dt.datetime.combine(received, dt.time()), day_fmt)
            else:
                ws.write_blank(row, 3, None, td)
            ws.write_string(row, 4, r["unit_id"] or "", td)
            ws.write_string(row, 5, OUTCOME_SHORT.get(r["outcome"], r["outcome"]), td)
            ws.write_string(row, 6, piece, td)
            ws.write_string(row, 7, r["sha256"], mono)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(row, 1), len(LOG_HEADERS) - 1)
    # Printed without the digests (on screen for whoever looks a file up in archive/).
    a4_sheet(ws, repeat=0, area=(0, 0, max(row, 1), len(LOG_HEADERS) - 2))


def _local(stamp: str | None) -> dt.datetime | None:
    """A ledger time as the local wall-clock time Excel shows (no offset: Excel has none)."""
    if not stamp:
        return None
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return when.astimezone().replace(tzinfo=None) if when.tzinfo else when
