"""`tracker merge`: run the merge with a progress bar, print a line per file and the report's path."""
from __future__ import annotations

from tracker.cli import labels
from tracker.cli.screen import Line, Screen
from tracker.model.language import _
from tracker.model.text import for_terminal as shown

STYLE = {"accepted": "green", "replaced": "green", "stale": "cyan", "duplicate": "dim", "rejected": "red",
         "not_merged": "yellow"}
WHICH_VERSION = ("replaced", "stale")


def run_merge(campaign_dir, paths, received) -> int:
    from tracker.api import merge
    from tracker.store.workspace import Workspace

    out = Screen()
    ws = Workspace.find(campaign_dir)
    bar, progress = out.progress(_("Đang ghép"))
    with bar:
        report = merge(ws, paths, received=received, progress=progress)
    return print_merge(out, report)


SHOWN = 5      # findings of a refused file shown on screen; the report has them all


def refusal_lines(findings) -> list:
    """Why a file was refused: each error on a line of its own (at most SHOWN, then how many more),
    then what to do, each piece of advice once."""
    errors = [w for w in findings if w.severity == "error"]
    lines: list = [f"    {w.statement()}" for w in errors[:SHOWN]]
    if len(errors) > SHOWN:
        lines.append("    " + _("và {n} lỗi khác, xem báo cáo ghép.").format(n=len(errors) - SHOWN))
    advice = list(dict.fromkeys(a for a in (w.advice() for w in errors) if a))
    lines += [Line("    → ", a) for a in advice]
    return lines


def print_merge(out: Screen, report) -> int:
    """The merge's notices, a line per file, the totals, the master and the report; the exit code."""

    note = _("Lưu ý:")
    for n in report.notices:
        out.print(Line(("red", "✗"), f" {n.message}") if n.severity == "error" else Line(("yellow", note), f" {n.message}"))
    lines: list = []   # printed 500 at a time: a line per file, thousands of them at national scale
    for before, after in getattr(report, "rechecked", ()):
        out.print(Line(("green", "✓"), " " + _("Bản ký '{file}' được kiểm tra lại theo chứng thư gốc trong trust/: {result}.")
                       .format(file=after.name, result=_("chữ ký số hợp lệ") if after.valid else
                               _("chữ ký số vẫn chưa xác thực được"))))
    for f in report.files:
        unit = f" → {shown(f.unit_name)}" if f.unit_name else ""
        if f.copy_kind:     # a signed copy: which kind, and whether it waits for staff
            unit += " (" + (_("biên bản ký số") if f.copy_kind == "digital" else _("biên bản quét")) + \
                (_(", chờ cán bộ xác nhận: 'tracker signed list'") if f.copy_status == "pending" else "") + ")"
        lines.append(Line((STYLE[f.outcome], labels.outcome(f.outcome)), f": {shown(f.name)}{unit}"))
        if f.outcome in ("rejected", "not_merged"):
            lines += refusal_lines(f.findings)
        # Which version is current, and why (its received time), on the file's own line.
        lines += [f"    {w.message}" for w in f.findings if w.code in WHICH_VERSION]
        # A signed copy kept despite a signature that could not be proven says so here.
        lines += [Line("    ", ("yellow", note), f" {w.message}") for w in f.findings
                  if w.severity == "warning" or (w.severity == "error" and f.outcome != "rejected")]
        if len(lines) >= 500:
            out.print(*lines)
            lines.clear()
    accepted = report.count("accepted") + report.count("replaced") + report.count("stale")
    lines += ["", _("Tổng: {files} tệp; đã nhận {accepted}; đã ghép trước đó {duplicate}; từ chối {rejected}.").format(
        files=len(report.files), accepted=accepted, duplicate=report.count("duplicate"),
        rejected=report.count("rejected"))]
    if report.count("not_merged"):
        lines.append(_("Chưa ghép {n} tệp vì ổ đĩa của chiến dịch đầy (không phải lỗi của đơn vị): giải phóng chỗ trống "
                       "rồi ghép lại các tệp đó.").format(n=report.count("not_merged")))
    m = report.master
    if m.manual_units:
        lines.append(_("Đã ghi nhận nhập tay trên master.xlsx của {n} đơn vị.").format(n=len(m.manual_units)))
    lines += [Line(("yellow", _("Chú ý:")), f" {f.message}") for f in m.findings]
    if m.written_beside:
        lines.append(Line(("yellow", _("master.xlsx đang mở nên bản mới được ghi thành {path}. Đóng Excel rồi chạy lại "
                                       "'tracker merge' (không cần tệp) để cập nhật.").format(path=m.path))))
    elif m.unchanged:
        lines.append(_("Bảng tổng hợp: {path} (không có gì mới, giữ nguyên)").format(path=m.path))
    else:
        lines.append(_("Bảng tổng hợp: {path}").format(path=m.path))
    if report.report_path:
        from tracker.reports.merge_report import unit_reports_dir

        lines.append(_("Báo cáo ghép (cho cán bộ, đủ mọi tệp): {path}").format(path=report.report_path))
        folder = unit_reports_dir(report.report_path)
        forwarded = sorted(folder.glob("*.xlsx")) if folder.is_dir() else []
        if forwarded:
            lines.append(_("Báo cáo gửi lại từng đơn vị ({n} đơn vị có tệp bị từ chối hoặc cần lưu ý): {path}").format(
                n=len(forwarded), path=folder))
    out.print(*lines)
    return report.exit_code
