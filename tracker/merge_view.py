"""`tracker merge`: run the merge with a progress bar, print a line per file and the report's path."""
from __future__ import annotations

from tracker.merge import OUTCOME_VI, merge
from tracker.workspace import Workspace

STYLE = {"accepted": "green", "replaced": "green", "stale": "cyan", "duplicate": "dim", "rejected": "red"}


def run_merge(campaign_dir, paths, received) -> int:
    from rich.console import Console
    from rich.progress import Progress

    out = Console(highlight=False, soft_wrap=True)
    ws = Workspace.find(campaign_dir)
    with Progress(transient=True, console=out, disable=not out.is_terminal) as bar:  # no blank line in logs
        task = bar.add_task("Đang ghép", total=None)

        def progress(total=None, advance=0):
            if total is not None:
                bar.update(task, total=total)
            if advance:
                bar.advance(task, advance)

        report = merge(ws, paths, received=received, progress=progress)
    for n in report.notices:
        if n.severity == "error":
            out.print(f"[red]✗[/] {_esc(n.message)}", markup=True)
        else:
            out.print(f"[yellow]Lưu ý:[/] {_esc(n.message)}", markup=True)
    lines = []   # printed at once: a line per file, thousands of them at national scale
    for f in report.files:
        label = OUTCOME_VI[f.outcome]
        unit = f" → {f.unit_name}" if f.unit_name else ""
        lines.append(f"[{STYLE[f.outcome]}]{label}[/]: {_esc(f.name)}{_esc(unit)}")
        if f.outcome == "rejected":
            lines.append(f"    {_esc(f.message)}")
        lines += [f"    [yellow]Lưu ý:[/] {_esc(w.message)}" for w in f.findings if w.severity == "warning"]
    if lines:
        out.print("\n".join(lines), markup=True)
    accepted = report.count("accepted") + report.count("replaced") + report.count("stale")
    out.print(f"\nTổng: {len(report.files)} tệp; đã nhận {accepted}; đã ghép trước đó {report.count('duplicate')}; "
              f"từ chối {report.count('rejected')}.")
    m = report.master
    if m.manual_units:
        out.print(f"Đã ghi nhận nhập tay trên master.xlsx của {len(m.manual_units)} đơn vị.")
    for f in m.findings:
        out.print(f"[yellow]Chú ý:[/] {_esc(f.message)}", markup=True)
    if m.written_beside:
        out.print(f"[yellow]master.xlsx đang mở nên bản mới được ghi thành {m.path}. Đóng Excel rồi chạy lại "
                  "'tracker merge' (không cần tệp) để cập nhật.[/]", markup=True)
    else:
        out.print(f"Bảng tổng hợp: {m.path}" + (" (không có gì mới, giữ nguyên)" if m.unchanged else ""))
    if report.report_path:
        out.print(f"Báo cáo ghép (gửi lại đơn vị khi cần): {report.report_path}")
    return 1 if any(n.severity == "error" for n in report.notices) else report.exit_code


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)
