"""`tracker merge`: run the merge with a progress bar, print a line per file and the report's path.

On a terminal the lines are coloured by rich; in a log or a pipe they are written as plain text
(what rich would print there), without importing rich: thousands of lines at national scale.
"""
from __future__ import annotations

import sys

from tracker.cli import plain
from tracker.api import merge
from tracker.outbound.wording import OUTCOME as OUTCOME_VI
from tracker.store.workspace import Workspace

STYLE = {"accepted": "green", "replaced": "green", "stale": "cyan", "duplicate": "dim", "rejected": "red"}


class _Screen:
    """Lines made of (style, text) pieces: styled by rich on a terminal, plain elsewhere."""

    def __init__(self):
        self.console = None
        if not plain.plain_stream(sys.stdout):      # where rich would add colours (as views.py decides)
            from rich.console import Console

            self.console = Console(highlight=False, soft_wrap=True)

    def print(self, *lines: list[tuple[str | None, str]]) -> None:
        if self.console is None:
            sys.stdout.write("".join("".join(text for _, text in line) + "\n" for line in lines))
            return
        from rich.markup import escape

        self.console.print("\n".join("".join(f"[{style}]{escape(text)}[/]" if style else escape(text)
                                             for style, text in line) for line in lines), markup=True)

    def progress(self):
        """(context manager, callback) of a transient progress bar; nothing in a log."""
        if self.console is None:
            import contextlib

            return contextlib.nullcontext(), None
        from rich.progress import Progress

        bar = Progress(transient=True, console=self.console, disable=not self.console.is_terminal)
        task = bar.add_task("Đang ghép", total=None)

        def progress(total=None, advance=0):
            if total is not None:
                bar.update(task, total=total)
            if advance:
                bar.advance(task, advance)
        return bar, progress


def run_merge(campaign_dir, paths, received) -> int:
    out = _Screen()
    ws = Workspace.find(campaign_dir)
    bar, progress = out.progress()
    with bar:
        report = merge(ws, paths, received=received, progress=progress)
    for n in report.notices:
        if n.severity == "error":
            out.print([("red", "✗"), (None, f" {n.message}")])
        else:
            out.print([("yellow", "Lưu ý:"), (None, f" {n.message}")])
    lines = []   # printed 500 at a time: a line per file, thousands of them at national scale
    for f in report.files:
        unit = f" → {f.unit_name}" if f.unit_name else ""
        lines.append([(STYLE[f.outcome], OUTCOME_VI[f.outcome]), (None, f": {f.name}{unit}")])
        if f.outcome == "rejected":
            lines.append([(None, f"    {f.message}")])
        lines += [[(None, "    "), ("yellow", "Lưu ý:"), (None, f" {w.message}")]
                  for w in f.findings if w.severity == "warning"]
        if len(lines) >= 500:
            out.print(*lines)
            lines.clear()
    if lines:
        out.print(*lines)
    accepted = report.count("accepted") + report.count("replaced") + report.count("stale")
    out.print([(None, f"\nTổng: {len(report.files)} tệp; đã nhận {accepted}; đã ghép trước đó "
                      f"{report.count('duplicate')}; từ chối {report.count('rejected')}.")])
    m = report.master
    if m.manual_units:
        out.print([(None, f"Đã ghi nhận nhập tay trên master.xlsx của {len(m.manual_units)} đơn vị.")])
    for f in m.findings:
        out.print([("yellow", "Chú ý:"), (None, f" {f.message}")])
    if m.written_beside:
        out.print([("yellow", f"master.xlsx đang mở nên bản mới được ghi thành {m.path}. Đóng Excel rồi chạy lại "
                              "'tracker merge' (không cần tệp) để cập nhật.")])
    else:
        out.print([(None, f"Bảng tổng hợp: {m.path}" + (" (không có gì mới, giữ nguyên)" if m.unchanged else ""))])
    if report.report_path:
        out.print([(None, f"Báo cáo ghép (gửi lại đơn vị khi cần): {report.report_path}")])
    return 1 if any(n.severity == "error" for n in report.notices) else report.exit_code
