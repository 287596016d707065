"""`tracker demo`: the library's rehearsal (tracker.demo.rehearsal.steps), each step's result
shown through the same views as the real commands."""
from __future__ import annotations

import click

from tracker.cli.app import CONTEXT, Command, screen
from tracker.cli.screen import Line
from tracker.model.language import _


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
    bar, progress = out.progress(_("Đang ghép"))
    steps = lib.steps(root, force, progress=progress)
    made = next(steps)
    ws, c = made.ws, made.ws.campaign
    out.print(_("Chiến dịch {id}: {units} đơn vị, {products} sản phẩm, hạn nộp {due}. Đã tạo {n} tệp trong {outbox}/ "
                "và {master}.").format(id=c.id, units=len(ws.units), products=sum(len(u.products) for u in ws.units),
                                       due=show(c.due), n=len(made.generated.written), outbox=ws.outbox,
                                       master=ws.master_file),
              "", step(2, _("Giả lập tệp đơn vị gửi về"), _("vào {inbox}/").format(inbox=ws.root / "inbox")))

    sim = next(steps).sim
    files = [x for x in sim.cases if x.file]
    plain = [x for x in sim.cases if x.kind in lib.PLAIN_KINDS]
    on_time = sum(1 for x in plain if x.received <= c.due)
    out.print(_("{files} tệp: {on_time} tệp đúng hạn (phần lớn đủ tiêu chí, một số có tiêu chí chưa đáp ứng hoặc để "
                "trống), {late} tệp muộn, và {special} trường hợp đặc biệt:").format(
                  files=len(files), on_time=on_time, late=len(plain) - on_time, special=len(sim.special)),
              *("  - " + _("{unit}: {what} ({file}, ngày {day})").format(
                  unit=ws.unit_by_id[x.unit_id].name, what=x.what, file=x.file or "master.xlsx", day=show(x.received))
                for x in sim.special),
              _("{n} đơn vị không gửi gì.").format(n=len(sim.silent)),
              "", step(3, _("Ghép tệp"), _("(như 'tracker merge {inbox}')").format(inbox=sim.inbox)))

    with bar:
        merged = next(steps)
    print_merge(out, merged.report)

    out.print("", step(4, _("Số liệu"), _("(như 'tracker stats --as-of {day}'): tính đến ngày {day}, sau hạn {due}, "
                                         "để thấy đơn vị nộp muộn và đơn vị quá hạn chưa nộp.").format(
                                             day=as_of, due=show(c.due))))
    out.print(*stats_blocks(next(steps).stats, c))

    out.print("", step(5, _("Báo cáo nghiệm thu"), _("(như 'tracker report --as-of {day}')").format(day=as_of)))
    reported = next(steps)
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
            sheets=", ".join(["Tổng hợp", *(g.name for g in ws.campaign.groups), "Nhật ký"])), str(ws.master_file)),
    ]
    if merge_report is not None:
        rows.append((_("Kết quả ghép từng tệp (gửi lại đơn vị khi tệp bị từ chối)"), str(merge_report)))
    for p in report_paths:
        rows.append((_("Báo cáo nghiệm thu (văn bản Word, in A4)") if p.suffix == ".docx"
                     else _("Báo cáo nghiệm thu (bảng tính)"), str(p)))
    rows.append((_("Mọi tệp đã nhận, kể cả tệp bị từ chối (không bao giờ xóa)"), f"{ws.archive}/"))
    return rows
