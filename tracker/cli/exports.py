"""CSV for spreadsheets (`stats --format csv`, `missing --format csv`): Vietnamese like the documents,
UTF-8 with a BOM so that Excel shows the accents, formula-like cells neutralised."""
from __future__ import annotations

import csv
import io
import sys

from tracker.outbound.wording import DEADLINE, SENT_REFUSED, SIGNED_KIND, SIGNED_VALID, STATUS


def csv_safe(value) -> str:
    """Neutralise spreadsheet formulas in CSV cells (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def _write(header: list[str], rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow([csv_safe(v) for v in row])
    return "\ufeff" + buf.getvalue()


BLANK_ANSWER = "Để trống"


def emit(text: str) -> None:
    """Write a CSV to standard output as it is: its own CRLF line ends, the BOM, UTF-8.

    Through the text layer Windows would turn each "\r\n" into "\r\r\n" (Excel then shows a
    blank line between rows), so the bytes go to the binary buffer beneath it."""
    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    if buffer is None:      # a stream without bytes beneath (a test's StringIO)
        out.write(text)
        return
    out.flush()
    buffer.write(text.encode("utf-8", "replace"))
    buffer.flush()


def stats_csv(stats, campaign) -> str:
    """One row per product. A criterion cell says what the unit answered, "Để trống" when its
    returned form left it blank, and nothing for a product not returned (its "Kết quả" says so):
    counting a column's words gives the criteria counts of `tracker stats`."""
    crit = list(campaign.criteria)
    answer = {"met": campaign.answer_met, "not_met": campaign.answer_not_met, "blank": BLANK_ANSWER}
    group_names = {g.id: g.name for g in campaign.groups}
    header = ["Mã đơn vị", "Đơn vị", "Khối", "Sản phẩm", "Kết quả", "Tình trạng hạn", "Ngày nhận"] + \
        [f"TC{i} {c.group}" for i, c in enumerate(crit, 1)] + \
        ["Biên bản đã ký", "Ngày nhận biên bản", "Chữ ký số", "Người ký số"]

    def signed(c) -> list[str]:
        if c is None:
            return ["", "", "", ""]
        return [SIGNED_KIND[c.kind], c.received_time.strftime("%d/%m/%Y"), SIGNED_VALID[c.valid], c.signer or ""]
    return _write(header, ([r.unit_id, r.unit_name, group_names.get(r.group, r.group), r.product, STATUS[r.status],
                            DEADLINE[r.deadline_status], r.received_time.strftime("%d/%m/%Y") if r.received_time else "",
                            *[answer[r.answers[c.id]] if r.status != "pending" else "" for c in crit],
                            *signed(r.signed_copy)]
                           for r in stats.rows))


MISSING_HEADERS = ["STT", "Mã đơn vị", "Đơn vị", "Khối", "Email", "Điện thoại", "Tình trạng", "Lý do từ chối"]


def refusal_text(refusal) -> str:
    """'Nhận ngày 03/06/2026: Tệp 'x.xlsx', trang ...: <why it was refused>' (the unit's latest refused file)."""
    when = f"Nhận ngày {refusal.received:%d/%m/%Y}: " if refusal.received else ""
    return f"{when}{refusal.reason('vi')}"


def missing_csv(units) -> str:
    """The units yet to reply (tracker.reports.model.missing_units), with their contacts; a unit whose
    files were all refused says so, and why (its latest refused file)."""
    return _write(MISSING_HEADERS, ([i, u.unit_id, u.unit_name, u.group_name, u.email, u.phone,
                                     SENT_REFUSED if u.refused else DEADLINE[u.deadline_status],
                                     refusal_text(u.refused) if u.refused else ""]
                                    for i, u in enumerate(units, 1)))


UNSIGNED_HEADERS = ["STT", "Mã đơn vị", "Đơn vị", "Khối", "Email", "Điện thoại", "Ngày nộp bảng tính"]


def unsigned_csv(units) -> str:
    """The units whose spreadsheet is in but whose signed copy is not (tracker.reports.model.unsigned_units)."""
    return _write(UNSIGNED_HEADERS, ([i, u.unit_id, u.unit_name, u.group_name, u.email, u.phone,
                                      u.received.strftime("%d/%m/%Y") if u.received else ""]
                                     for i, u in enumerate(units, 1)))
