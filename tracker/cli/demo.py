"""`tracker demo`: the rehearsal, printed step by step through the same views as the real commands."""
import click

from tracker.cli.app import CONTEXT, console


@click.command(context_settings=CONTEXT)
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True,
              help="Vẫn dùng THƯ_MỤC dù đã có tệp khác (các tệp đó được giữ nguyên); không bao giờ dùng thư mục "
                   "của một chiến dịch thật.")
def demo(directory, force):
    """Diễn tập trọn một đợt xác nhận trên dữ liệu giả lập, trong thư mục riêng.

    \b
    Mặc định THƯ_MỤC là workbooks/demo. Các bước: tạo chiến dịch Hà Nội 2026 có sẵn và 136 tệp
    đơn vị; giả lập tệp đơn vị gửi về trong inbox/ (đúng hạn, muộn, gửi hai lần, gõ sai giá trị,
    có công thức, tệp của đợt trước, bản scan PDF, tệp rỗng, thư .eml) và một văn bản giấy nhập
    tay vào master.xlsx; ghép; số liệu tính đến 10/06/2026 (sau hạn); báo cáo nghiệm thu.
    Không gửi thư, không sửa danh sách đơn vị. Chạy lại sẽ xóa và làm lại thư mục diễn tập cũ.
    Ví dụ:
      tracker demo
      tracker demo /tmp/dien-tap
    """
    from pathlib import Path

    from rich.markup import escape

    from tracker.demo import rehearsal as lib
    from tracker.model.dates import show
    from tracker.cli.merge import run_merge
    from tracker.reports.model import write_report
    from tracker.stats import campaign_stats
    from tracker.cli.views import print_stats

    out = console()
    root = Path(directory) if directory else lib.DEFAULT_DIR
    lib.check_target(root, force)          # refuse before printing anything
    out.print(f"[bold]DIỄN TẬP trong thư mục {escape(str(root))}[/] (dữ liệu giả lập; không gửi thư nào).")

    out.print("\n[bold]Bước 1/5. Tạo chiến dịch và tệp gửi đơn vị[/] (như 'tracker init' rồi 'tracker generate')")
    ws, gen = lib.start(root, force)
    c = ws.campaign
    out.print(f"Chiến dịch {c.id}: {len(ws.units)} đơn vị, {sum(len(u.products) for u in ws.units)} sản phẩm, "
              f"hạn nộp {show(c.due)}. Đã tạo {len(gen.written)} tệp trong {escape(str(ws.outbox))}/ và "
              f"{escape(str(ws.master_file))}.")

    out.print(f"\n[bold]Bước 2/5. Giả lập tệp đơn vị gửi về[/] vào {escape(str(ws.root / 'inbox'))}/")
    sim = lib.simulate(ws)
    due = c.due
    files = [x for x in sim.cases if x.file]
    plain = [x for x in sim.cases if x.kind in lib.PLAIN_KINDS]
    on_time = sum(1 for x in plain if x.received <= due)
    out.print(f"{len(files)} tệp: {on_time} tệp đúng hạn (phần lớn đủ tiêu chí, một số có tiêu chí chưa đáp ứng "
              f"hoặc để trống), {len(plain) - on_time} tệp muộn, và {len(sim.special)} trường hợp đặc biệt:")
    for x in sim.special:
        out.print(f"  - {escape(ws.unit_by_id[x.unit_id].name)}: {escape(x.what)} ({escape(x.file or 'master.xlsx')}, "
                  f"ngày {show(x.received)})")
    out.print(f"{len(sim.silent)} đơn vị không gửi gì.")

    out.print(f"\n[bold]Bước 3/5. Ghép tệp[/] (như 'tracker merge {escape(str(sim.inbox))}')")
    run_merge(str(ws.root), [sim.inbox], None)

    out.print(f"\n[bold]Bước 4/5. Số liệu[/] (như 'tracker stats --as-of {show(lib.AS_OF)}'): tính đến ngày "
              f"{show(lib.AS_OF)}, sau hạn {show(due)}, để thấy đơn vị nộp muộn và đơn vị quá hạn chưa nộp.")
    print_stats(campaign_stats(ws, lib.AS_OF), c, "table")

    out.print(f"\n[bold]Bước 5/5. Báo cáo nghiệm thu[/] (như 'tracker report --as-of {show(lib.AS_OF)}')")
    result = write_report(ws, lib.AS_OF)
    for p in result.paths:
        out.print(f"  {escape(str(p))}")

    reports = sorted(ws.reports.glob("ket-qua-ghep-*.xlsx"))
    out.print("\n[bold]Xem kết quả ở đâu:[/]")
    for what, where in lib.where_to_look(ws, reports[-1] if reports else None, result.paths):
        out.print(f"  - {escape(what)}: {escape(where)}")
    out.print(f"Thử tiếp: 'tracker missing -C {escape(str(ws.root))} --as-of {show(lib.AS_OF)}' (đơn vị chưa nộp). "
              "Hướng dẫn đầy đủ: docs/huong-dan.md.")
    out.print("Chiến dịch thật: 'tracker init' rồi 'tracker generate' (thư mục workbooks/hanoi-ttdt-2026).")
