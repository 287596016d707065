"""The merge report as a workbook the staff can filter and send back to units."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from tracker.model.findings import SEVERITY_TITLE
from tracker.model.language import in_language
from tracker.outbound.styles import WORKBOOK_OPTIONS, Styles, a4_landscape, lines_needed, row_height


def report_path(ws) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return ws.reports / f"ket-qua-ghep-{stamp}.xlsx"


def write_merge_report(ws, report, path: Path | None = None) -> Path:
    from tracker.outbound.wording import OUTCOME

    from tracker.store.files import place_user_file, user_temp

    path = path or report_path(ws)
    ws.reports.mkdir(parents=True, exist_ok=True)
    tmp = user_temp(path)       # a whole file or none where people (and OneDrive) look; beside one held open
    # constant_memory: rows go to disk as they are written (a national merge reports thousands).
    wb = xlsxwriter.Workbook(str(tmp), {**WORKBOOK_OPTIONS, "constant_memory": True})
    st = Styles(wb)
    sh = wb.add_worksheet("Kết quả ghép")
    th = st.get("th", font_size=11)
    td = st.get("td", font_size=11, valign="top")
    headers = ["STT", "Tệp", "Đơn vị", "Ngày nhận", "Kết quả", "Mức độ", "Trang", "Ô", "Nội dung", "Giá trị gặp",
               "Giá trị cho phép"]
    widths = [5, 22, 20, 11, 14, 9, 14, 7, 60, 14, 14]   # fits a landscape page at a readable scale
    sh.write_string(0, 0, f"KẾT QUẢ GHÉP TỆP - {ws.campaign.title}", st.get("bold", font_size=13, text_wrap=False))
    sh.write_string(1, 0, f"Thời điểm: {dt.datetime.now():%d/%m/%Y %H:%M}. Đã nhận: "
                          f"{report.count('accepted') + report.count('replaced') + report.count('stale')}; "
                          f"đã ghép trước đó: {report.count('duplicate')}; từ chối: {report.count('rejected')}.",
                    st.get("left", font_size=11, text_wrap=False))
    for i, (h, w) in enumerate(zip(headers, widths)):
        sh.write_string(3, i, h, th)
        sh.set_column(i, i, w)
    row = 4
    for n, f in enumerate(report.files, 1):
        findings = f.findings or [None]
        for finding in findings:
            values = [str(n), f.name, f.unit_name or (f.unit_id or ""),
                      f.received.strftime("%d/%m/%Y") if f.received else "", OUTCOME.get(f.outcome, f.outcome),
                      in_language("vi", SEVERITY_TITLE[finding.severity]) if finding else "",
                      finding.sheet if finding else "", finding.cell if finding else "",
                      finding.text("vi") if finding else "",     # a document: always Vietnamese
                      finding.value if finding else "", finding.expected if finding else ""]
            for i, v in enumerate(values):
                sh.write_string(row, i, v, td)
            # Wrapped text: Excel and LibreOffice keep the default height unless it is set.
            sh.set_row(row, row_height(max(lines_needed(v, w, 11) for v, w in zip(values, widths)), 11))
            row += 1
    sh.freeze_panes(4, 2)
    sh.autofilter(3, 0, max(row - 1, 4), len(headers) - 1)
    a4_landscape(sh)
    try:
        wb.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return place_user_file(tmp, path)
