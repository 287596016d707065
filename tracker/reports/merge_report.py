"""The merge report: what became of each file a merge was given, and what is wrong with it.

Two kinds of workbook, written together:
- for the staff, `reports/ket-qua-ghep-<time>.xlsx`: every file, every finding with all its advice
  (for the unit and for the staff);
- to forward to a unit, `reports/ket-qua-ghep-<time>-gui-don-vi/<unit>.xlsx`: that unit's files and
  findings only, each with what the unit should do (never the staff's advice, never another unit's
  file). One is written for each unit with a refused file or a finding that asks something of it.
Both print on A4 landscape at their own size, pages numbered, the header row on every page.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from tracker.model.findings import SEVERITY_TITLE
from tracker.model.language import in_language
from tracker.model.text import one_line
from tracker.outbound.sheets import SafeWorkbook
from tracker.outbound.styles import (
    FORM_BASE,
    SHEET_PT,
    SHEET_WORKBOOK_OPTIONS,
    Styles,
    a4_sheet,
    cell_lines,
    sheet_row_height,
    split_to_rows,
)

HEADER_ROW = 3
PT = SHEET_PT
# (header, pixels); the columns after the last printed one are for filtering on screen.
STAFF_COLUMNS = [("STT", 34), ("Tệp", 150), ("Đơn vị", 140), ("Ngày nhận", 78), ("Kết quả", 100), ("Mức độ", 58),
                 ("Nội dung", 430), ("Trang", 110), ("Ô", 50), ("Giá trị gặp", 110), ("Giá trị cho phép", 150)]
STAFF_PRINTED = 7
UNIT_COLUMNS = [("STT", 34), ("Tệp", 170), ("Ngày nhận", 78), ("Kết quả", 100), ("Mức độ", 58),
                ("Nội dung", 300), ("Đề nghị đơn vị", 250)]
MORE = "(tiếp)"


def report_path(ws) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return ws.reports / f"ket-qua-ghep-{stamp}.xlsx"


def unit_reports_dir(path: Path) -> Path:
    """Where the reports to forward to units go, beside the staff's report `path`."""
    return path.with_name(path.stem + "-gui-don-vi")


def to_forward(f) -> bool:
    """Does the unit need to hear of this file: refused, or a finding that asks something of it?
    Never a file not merged because our own disk was full: that is the staff's to fix, by merging
    it again once there is room."""
    if any(x.code == "disk_full" for x in f.findings):
        return False
    return bool(f.unit_id) and (f.outcome == "rejected" or any(x.advice("vi", to="unit") for x in f.findings))


def write_merge_report(ws, report, path: Path | None = None) -> Path:
    """The staff's report at `path` (default: a new name in reports/), and one report for each unit
    that has something to act on, in unit_reports_dir(path). Returns the staff's report's path."""
    path = path or report_path(ws)
    now = dt.datetime.now()
    path = _placed(path, lambda out: _staff_report(ws, report, out, path, now))
    by_unit: dict[str, list] = {}
    for f in report.files:
        if to_forward(f):
            by_unit.setdefault(f.unit_id, []).append(f)
    if by_unit:
        folder = unit_reports_dir(path)
        for unit_id, files in by_unit.items():
            unit = ws.unit_by_id.get(unit_id)
            if unit is not None:
                target = folder / f"{unit.file_stem}.xlsx"
                _placed(target, lambda out: _unit_report(ws, unit, files, out, now))
    return path


def _outcome(key: str) -> str:
    from tracker.outbound.wording import OUTCOME

    return OUTCOME.get(key, key)


def _outcome_of(f) -> str:
    """What became of a file; a signed copy says which kind it is, and whether it waits for staff."""
    from tracker.outbound.wording import COPY_OUTCOME

    copy = COPY_OUTCOME.get((f.copy_status, f.copy_kind)) if getattr(f, "copy_kind", "") else None
    return copy or _outcome(f.outcome)


class _Table:
    """Rows under a header, each as high as its wrapped text; a text too long for one row (Excel's
    rows stop at 409 points) goes on over the next rows, marked as continued."""

    def __init__(self, sh, st, columns: list[tuple[str, int]], printed: int, title: str, line: str):
        self.sh, self.columns, self.printed = sh, columns, printed
        self.px = [p for _, p in columns]
        self.td = st.get("td", font_size=PT, valign="top")
        self.center = st.get("td_center", font_size=PT, valign="top")
        for i, p in enumerate(self.px):
            sh.set_column_pixels(i, i, p)
        # Rows in order: the sheet is written a row at a time (constant_memory).
        width = sum(self.px[:printed])
        for r, (text, fmt, pt, bold) in enumerate(((title, st.get("bold", font_size=13), 13, True),
                                                   (line, st.get("left", font_size=PT), PT, False))):
            sh.merge_range(r, 0, r, printed - 1, "", fmt)
            sh.write_string(r, 0, text, fmt)
            sh.set_row(r, sheet_row_height(cell_lines(text, width, pt, bold), pt))
        self.row = HEADER_ROW
        th = st.get("th", font_size=PT)
        for i, (h, p) in enumerate(columns):
            sh.write_string(HEADER_ROW, i, h, th)
        sh.set_row(HEADER_ROW, sheet_row_height(max(cell_lines(h, p, PT, True) for h, p in columns)))

    def add(self, number: int, values: list[str], long: int | None = None) -> None:
        """A row of `values`. A text too tall for one row (any column: the unit's file name, the value
        it typed, the finding) goes on over the next rows, whole: split where its lines end, the
        file's name repeated with "(tiếp)" where it is not itself going on. Wrapped across rather
        than cut, since this report is where staff and units read what was wrong; each piece is far
        below a cell's 32,767 characters. `long`: kept for callers, every column is treated so."""
        pieces = [split_to_rows(v, p) if v else [""] for v, p in zip(values, self.px)]
        for k in range(max(map(len, pieces))):
            row = [ps[k] if k < len(ps) else "" for ps in pieces]
            if k and k >= len(pieces[1]):
                row[1] = f"{one_line(values[1])[:200]} {MORE}"
            self.row += 1
            self.sh.write_number(self.row, 0, number, self.center)
            for i, v in enumerate(row[1:], 1):
                self.sh.write_string(self.row, i, v, self.td)
            self.sh.set_row(self.row, sheet_row_height(max(cell_lines(v, p) for v, p in zip(row[1:], self.px[1:]))))

    def finish(self) -> None:
        self.sh.freeze_panes(HEADER_ROW + 1, 2)
        last = max(self.row, HEADER_ROW + 1)
        self.sh.autofilter(HEADER_ROW, 0, last, len(self.columns) - 1)
        a4_sheet(self.sh, repeat=HEADER_ROW, area=(0, 0, last, self.printed - 1))


def _placed(path: Path, write) -> Path:
    """`write(out)` the workbook into memory, then put it in place at once: a whole file or none where
    people (and OneDrive) look, beside a report held open in Excel (where it went is returned), and
    a full disk said as disk_full for `path`. In memory, not into a temporary file: xlsxwriter's
    zip, failing on a full disk, fails again when it is collected and prints a traceback."""
    import io

    from tracker.store.files import write_user_file

    out = io.BytesIO()
    write(out)
    return write_user_file(path, out.getvalue())


def _workbook(out, title: str):
    # constant_memory: rows go to temporary files as they are written (a national merge reports
    # thousands); the zip itself is small.
    wb = SafeWorkbook(out, {**SHEET_WORKBOOK_OPTIONS, "constant_memory": True})
    wb.set_properties({"title": title})
    return wb, Styles(wb, FORM_BASE)


def _staff_report(ws, report, out, path: Path, now: dt.datetime) -> None:
    """Written to `out`; `path` is where it will be (the units' folder is named after it)."""
    wb, st = _workbook(out, f"Kết quả ghép tệp - {ws.campaign.title}")
    sh = wb.add_worksheet("Kết quả ghép")
    received = report.count("accepted") + report.count("replaced") + report.count("stale")
    forwarded = len({f.unit_id for f in report.files if to_forward(f)})
    line = (f"Thời điểm: {now:%d/%m/%Y %H:%M}. Đã nhận: {received}; đã ghép trước đó: {report.count('duplicate')}; "
            f"từ chối: {report.count('rejected')}"
            + (f"; chưa ghép vì ổ đĩa của chiến dịch đầy: {report.count('not_merged')} (ghép lại khi có chỗ trống)"
               if report.count("not_merged") else "")
            + ". Bản dành cho cán bộ (có hướng dẫn xử lý)"
            + (f"; bản gửi từng đơn vị ({forwarded} đơn vị) ở thư mục {unit_reports_dir(path).name}." if forwarded
               else "."))
    table = _Table(sh, st, STAFF_COLUMNS, STAFF_PRINTED, f"KẾT QUẢ GHÉP TỆP - {ws.campaign.title}", line)
    for n, f in enumerate(report.files, 1):
        common = [str(n), one_line(f.name), f.unit_name or (f.unit_id or ""),
                  f.received.strftime("%d/%m/%Y") if f.received else "", _outcome_of(f)]
        for finding in f.findings or [None]:
            if finding is None:
                table.add(n, common + ["", "", "", "", "", ""], 6)
                continue
            table.add(n, common + [in_language("vi", SEVERITY_TITLE[finding.severity]),
                                   finding.text("vi"),     # a document: always Vietnamese, all the advice
                                   finding.sheet, finding.cell, finding.value, finding.expected], 6)
    table.finish()
    wb.close()


def _unit_report(ws, unit, files: list, out, now: dt.datetime) -> None:
    wb, st = _workbook(out, f"Kết quả kiểm tra tệp gửi về - {unit.name}")
    sh = wb.add_worksheet("Kết quả kiểm tra")
    refused = sum(1 for f in files if f.outcome == "rejected")
    ask = ("Đề nghị đơn vị sửa theo các đề nghị dưới đây rồi gửi lại tệp." if refused else
           "Tệp đã được nhận; đề nghị đơn vị lưu ý các điểm dưới đây.")
    table = _Table(sh, st, UNIT_COLUMNS, len(UNIT_COLUMNS), f"KẾT QUẢ KIỂM TRA TỆP GỬI VỀ - {unit.name.upper()}",
                   f"{ws.campaign.title}. Kiểm tra lúc {now:%d/%m/%Y %H:%M}: {len(files)} tệp, {refused} tệp chưa "
                   f"được nhận. {ask}")
    for n, f in enumerate(files, 1):
        common = [str(n), one_line(f.name), f.received.strftime("%d/%m/%Y") if f.received else "", _outcome_of(f)]
        for finding in f.findings or [None]:
            if finding is None:
                table.add(n, common + ["", "", ""], 5)
                continue
            table.add(n, common + [in_language("vi", SEVERITY_TITLE[finding.severity]), finding.statement("vi"),
                                   finding.advice("vi", to="unit")], 5)
    table.finish()
    wb.close()
