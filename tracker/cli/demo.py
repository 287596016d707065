"""`tracker demo`: the library's rehearsal (tracker.demo.rehearsal.steps), each step's result
shown through the same views as the real commands."""
from __future__ import annotations

import click

from tracker.cli.app import CONTEXT, Command, screen
from tracker.cli.screen import Line
from tracker.model.language import N_, _
from tracker.model.text import for_terminal


def demo_command() -> click.Command:
    @click.command("demo", cls=Command, context_settings=CONTEXT, help=_(
        "Diễn tập trọn một đợt xác nhận trên dữ liệu giả lập, trong thư mục riêng.\n"
        "\n"
        "Mặc định THƯ_MỤC là workbooks/demo. Các bước: tạo chiến dịch Hà Nội 2026 có sẵn và 136 tệp\n"
        "đơn vị; giả lập tệp đơn vị gửi về trong inbox/ (đúng hạn, muộn, gửi hai lần, gõ sai giá trị,\n"
        "có công thức, tệp của đợt trước, bản scan PDF, tệp rỗng, thư .eml) và một văn bản giấy nhập\n"
        "tay vào master.xlsx; ghép; số liệu tính đến 10/06/2026 (sau hạn); báo cáo nghiệm thu.\n"
        "Không gửi thư, không sửa danh sách đơn vị. Chạy lại sẽ xóa và làm lại thư mục diễn tập cũ.\n"
        "Ví dụ:\n"
        "  tracker demo\n"
        "  tracker demo /tmp/dien-tap"))
    @click.argument("directory", required=False, type=click.Path(file_okay=False), metavar=_("[THƯ_MỤC]"))
    @click.option("--force", is_flag=True,
                  help=_("Vẫn dùng THƯ_MỤC dù đã có tệp khác (các tệp đó được giữ nguyên); không bao giờ dùng thư mục "
                         "của một chiến dịch thật."))
    def demo(directory, force):
        run_demo(directory, force)

    return demo


PART_WORDS = {      # what each part of the rehearsal is doing (tracker.demo.rehearsal.PARTS)
    "init": N_("Tạo thư mục chiến dịch"), "outbox": N_("Tạo tệp gửi đơn vị và master.xlsx"),
    "returns": N_("Giả lập tệp đơn vị gửi về"), "merge": N_("Ghép tệp, dựng lại master.xlsx, viết báo cáo ghép"),
    "stats": N_("Tính số liệu"), "report": N_("Viết báo cáo nghiệm thu (.xlsx, .docx)"),
}


class Progress:
    """How far the rehearsal is: on a terminal, a bar (spinner, part, count, time) redrawn as it goes;
    elsewhere (a log), a line when each part starts and, for a long part, a line every two seconds."""

    EVERY_S = 2.0

    def __init__(self, out):
        self.out = out
        try:
            self.tty = out.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self.bar = self.task = None
        self.done, self.total, self.said = 0, None, 0.0

    def __enter__(self):
        if self.tty:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, SpinnerColumn, TextColumn, \
                TimeElapsedColumn

            self.bar = Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), transient=True, console=Console(file=self.out.stream))
            self.bar.__enter__()
            self.task = self.bar.add_task("", total=None)
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
            self.bar = None

    def part(self, key: str, total: int | None = None) -> None:
        import time

        words = _(PART_WORDS.get(key, key))
        self.done, self.total, self.said = 0, total, time.monotonic()
        if self.bar is not None:
            self.bar.reset(self.task, total=total, description=words)
        else:
            self.out.print(f"  … {words}" + (f" ({total})" if total else ""))

    def advance(self, total: int | None = None, advance: int = 1) -> None:
        import time

        if total is not None:      # merge says its count first (progress(total=n)), then each file
            self.total = total
            if self.bar is not None:
                self.bar.update(self.task, total=total)
            return
        self.done += advance
        if self.bar is not None:
            self.bar.update(self.task, total=self.total, advance=advance)
        elif time.monotonic() - self.said >= self.EVERY_S:
            self.said = time.monotonic()
            self.out.print(f"    {self.done}/{self.total}" if self.total else f"    {self.done}")


def run_demo(directory, force) -> None:
    from pathlib import Path

    from tracker.cli.merge import print_merge
    from tracker.cli.views import stats_blocks
    from tracker.demo import rehearsal as lib
    from tracker.model.dates import show

    out = screen()
    root = Path(directory) if directory else lib.DEFAULT_DIR
    lib.check_target(root, force)          # refuse before printing anything
    as_of = show(lib.AS_OF)

    def step(n: int, title: str, note: str) -> Line:
        return Line(("bold", _("Bước {n}/{of}. {title}").format(n=n, of=lib.STEPS, title=title)), f" {note}")

    out.print(Line(("bold", _("DIỄN TẬP trong thư mục {root}").format(root=root)),
                   " " + _("(dữ liệu giả lập; không gửi thư nào).")),
              "", step(1, _("Tạo chiến dịch và tệp gửi đơn vị"), _("(như 'tracker init' rồi 'tracker generate')")))
    shown = Progress(out)
    steps = lib.steps(root, force, progress=shown.advance, part=shown.part)

    def next_step():
        with shown:
            return next(steps)

    made = next_step()
    ws, c = made.ws, made.ws.campaign
    out.print(_("Chiến dịch {id}: {units} đơn vị, {products} sản phẩm, hạn nộp {due}. Đã tạo {n} tệp trong {outbox}/ "
                "và {master}.").format(id=c.id, units=len(ws.units), products=sum(len(u.products) for u in ws.units),
                                       due=show(c.due), n=len(made.generated.written), outbox=ws.outbox,
                                       master=ws.master_file),
              "", step(2, _("Giả lập tệp đơn vị gửi về"), _("vào {inbox}/").format(inbox=ws.root / "inbox")))

    sim = next_step().sim
    files = [x for x in sim.cases if x.file]
    plain = [x for x in sim.cases if x.kind in lib.PLAIN_KINDS]
    on_time = sum(1 for x in plain if x.received <= c.due)
    out.print(_("{files} tệp: {on_time} tệp đúng hạn (phần lớn đủ tiêu chí, một số có tiêu chí chưa đáp ứng hoặc để "
                "trống), {late} tệp muộn, và {special} trường hợp đặc biệt:").format(
                  files=len(files), on_time=on_time, late=len(plain) - on_time, special=len(sim.special)),
              *("  - " + _("{unit}: {what} ({file}, ngày {day})").format(
                  unit=for_terminal(ws.unit_by_id[x.unit_id].name), what=x.what,
                  file=for_terminal(x.file or "master.xlsx"),
                  day=show(x.received))
                for x in sim.special),
              _("{n} đơn vị không gửi gì.").format(n=len(sim.silent)),
              "", step(3, _("Ghép tệp"), _("(như 'tracker merge {inbox}')").format(inbox=sim.inbox)))

    merged = next_step()
    print_merge(out, merged.report)

    out.print("", step(4, _("Số liệu"), _("(như 'tracker stats --as-of {day}'): tính đến ngày {day}, sau hạn {due}, "
                                         "để thấy đơn vị nộp muộn và đơn vị quá hạn chưa nộp.").format(
                                             day=as_of, due=show(c.due))))
    out.print(*stats_blocks(next_step().stats, c))

    out.print("", step(5, _("Báo cáo nghiệm thu"), _("(như 'tracker report --as-of {day}')").format(day=as_of)))
    reported = next_step()
    out.print(*(f"  {p}" for p in reported.paths), "", Line(("bold", _("Xem kết quả ở đâu:"))),
              *(f"  - {what}: {where}" for what, where in where_to_look(ws, reported.merge_report, reported.paths)),
              _("Thử tiếp: 'tracker missing -C {root} --as-of {day}' (đơn vị chưa nộp). Hướng dẫn đầy đủ: "
                "docs/huong-dan.md.").format(root=ws.root, day=as_of),
              _("Chiến dịch thật: 'tracker init' rồi 'tracker generate' (thư mục workbooks/hanoi-ttdt-2026)."))


def where_to_look(ws, merge_report, report_paths) -> list[tuple[str, str]]:
    """(what, where) lines that end the rehearsal."""
    rows = [
        (_("Tệp gửi từng đơn vị (đã tạo, chưa điền)"), f"{ws.outbox}/"),
        (_("Tệp đơn vị gửi về (giả lập)"), f"{ws.root / 'inbox'}/"),
        (_("Bảng tổng hợp: các trang {sheets}").format(
            sheets=", ".join(f"“{name}”" for name in ["Tổng hợp", *(g.name for g in ws.campaign.groups), "Nhật ký"])),
         str(ws.master_file)),
    ]
    if merge_report is not None:
        from tracker.reports.merge_report import unit_reports_dir

        rows.append((_("Kết quả ghép từng tệp (cho cán bộ)"), str(merge_report)))
        folder = unit_reports_dir(merge_report)
        if folder.is_dir():
            rows.append((_("Kết quả kiểm tra gửi lại từng đơn vị có tệp bị từ chối hoặc cần lưu ý"), f"{folder}/"))
    for p in report_paths:
        rows.append((_("Báo cáo nghiệm thu (văn bản Word, in A4)") if p.suffix == ".docx"
                     else _("Báo cáo nghiệm thu (bảng tính)"), str(p)))
    rows.append((_("Mọi tệp đã nhận, kể cả tệp bị từ chối (không bao giờ xóa)"), f"{ws.archive}/"))
    return rows
