"""The acceptance report of a campaign folder, written as files: .xlsx and .docx in reports/."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from tracker.model.errors import TrackerError
from tracker.reports.model import FORMATS, Report, build_report, refusals
from tracker.reports.document import build_report_docx
from tracker.reports.workbook import build_report_workbook
from tracker.stats import campaign_stats


def report_paths(ws, as_of: dt.date) -> dict[str, Path]:
    stem = f"bao-cao-nghiem-thu-{as_of:%Y%m%d}"
    return {fmt: ws.reports / f"{stem}.{fmt}" for fmt in FORMATS}


@dataclass
class ReportResult:
    report: Report
    paths: list[Path]
    beside: list[tuple[Path, Path]] = field(default_factory=list)  # (report held open in Excel/Word, where the new one went)


def write_report(ws, as_of: dt.date | None = None, formats=FORMATS, folder: Path | None = None) -> ReportResult:
    """Write the acceptance report of a campaign folder (atomically) in the given formats, into
    reports/ or `folder`. A folder that cannot be written is said so, with where else to write."""
    from tracker.store.disk import DiskFull
    from tracker.store.files import write_user_file

    stats = campaign_stats(ws, as_of or dt.date.today())
    rep = build_report(ws.campaign, stats, refusals(ws, stats.as_of))
    targets = report_paths(ws, rep.as_of)
    if folder is not None:
        targets = {fmt: Path(folder) / p.name for fmt, p in targets.items()}
    paths, beside = [], []
    for fmt in FORMATS:
        if fmt not in formats:
            continue
        if fmt == "xlsx":
            data = build_report_workbook(rep)
        else:
            data = build_report_docx(rep)
        try:
            written = write_user_file(targets[fmt], data)
        except DiskFull:
            raise                   # it says where and how much room is left
        except OSError as e:
            where = targets[fmt].parent
            raise TrackerError(
                f"Không ghi được báo cáo vào thư mục '{where}' ({e.strerror}): thư mục chỉ đọc hoặc không có quyền ghi. "
                "Số liệu vẫn xem được bằng 'tracker stats'. Để có báo cáo: nhờ người có quyền ghi chạy lệnh, hoặc chép "
                "cả thư mục chiến dịch sang máy mình rồi chạy 'tracker report -C <bản chép>'.") from None
        paths.append(written)
        if written != targets[fmt]:
            beside.append((targets[fmt], written))
    return ReportResult(rep, paths, beside)
