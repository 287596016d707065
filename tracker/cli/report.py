"""`tracker report` and `tracker missing`. Heavy imports stay inside the functions."""
import click

from tracker.cli.app import CONTEXT, _date, campaign_option

as_of_option = click.option("--as-of", "as_of", callback=_date, metavar="NGÀY",
                            help="Tính đến ngày (NN/TT/NNNN), mặc định hôm nay.")


@click.command(context_settings=CONTEXT)
@campaign_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["xlsx", "docx", "both"]), default="both", show_default=True,
              help="Dạng báo cáo: bảng tính, văn bản Word, hoặc cả hai.")
def report(campaign_dir, as_of, fmt):
    """Báo cáo kết quả xác nhận phục vụ nghiệm thu (.xlsx, .docx) vào thư mục reports/.

    \b
    Gồm: số sản phẩm đủ điều kiện nghiệm thu, kết quả theo khối, tiêu chí, loại sản phẩm,
    biểu đồ; danh sách sản phẩm đạt; sản phẩm chưa đạt (tiêu chí chưa đáp ứng, đề xuất
    của đơn vị); đơn vị chưa gửi (email, điện thoại). Văn bản in A4 theo Nghị định 30/2020.
    Ví dụ:
      tracker report
      tracker report --as-of 05/06/2026 --format docx
    """
    from rich.console import Console
    from rich.markup import escape

    from tracker.reports.model import FORMATS, write_report
    from tracker.store.workspace import Workspace

    ws = Workspace.find(campaign_dir)
    result = write_report(ws, as_of, FORMATS if fmt == "both" else (fmt,))
    rep = result.report
    out = Console(highlight=False, soft_wrap=True)
    p = rep.stats.products
    out.print(f"Số liệu tính đến ngày {rep.as_of:%d/%m/%Y}: [bold]{rep.volume}[/] sản phẩm đủ điều kiện nghiệm thu; "
              f"{p.not_accepted} không đạt, {p.incomplete} chưa đủ, {p.pending} chưa nhận; "
              f"{len(rep.not_replied)} đơn vị chưa gửi.")
    out.print("Đã ghi báo cáo:")
    for path in result.paths:
        out.print(f"  {escape(str(path))}")


@click.command(context_settings=CONTEXT)
@campaign_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True,
              help="Dạng kết quả.")
def missing(campaign_dir, as_of, fmt):
    """Các đơn vị chưa gửi văn bản xác nhận hợp lệ, kèm email và điện thoại để nhắc.

    \b
    Ví dụ:
      tracker missing
      tracker missing --format csv > chua-nop.csv
    """
    import datetime as dt
    import sys

    from tracker.cli.exports import missing_csv
    from tracker.outbound.wording import DEADLINE as DEADLINE_VI
    from tracker.reports.model import missing_units
    from tracker.stats import campaign_stats
    from tracker.store.workspace import Workspace

    ws = Workspace.find(campaign_dir)
    stats = campaign_stats(ws, as_of or dt.date.today())
    rows = missing_units(stats)
    if fmt == "csv":
        sys.stdout.write(missing_csv(rows))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = Console(highlight=False, soft_wrap=False)
    day = stats.as_of
    if not rows:
        out.print(f"Tính đến ngày {day:%d/%m/%Y}, mọi đơn vị đã gửi văn bản xác nhận.")
        return
    t = Table(title=f"Đơn vị chưa gửi văn bản xác nhận (tính đến {day:%d/%m/%Y})", title_justify="left")
    t.add_column("STT", justify="right")
    t.add_column("Mã đơn vị", no_wrap=True)
    for h in ("Đơn vị", "Khối"):
        t.add_column(h)
    t.add_column("Email", overflow="fold")
    for h in ("Điện thoại", "Tình trạng"):
        t.add_column(h)
    for i, r in enumerate(rows, 1):
        t.add_row(str(i), *(Text(v) for v in (r.unit_id, r.unit_name, r.group_name, r.email,
                                              r.phone, DEADLINE_VI[r.deadline_status])))
    out.print(t)
    no_contact = sum(1 for r in rows if not r.email)
    out.print(Text(f"Tổng: {len(rows)} đơn vị chưa gửi."))
    if no_contact:
        out.print(Text(f"{no_contact} đơn vị chưa có email: điền vào {ws.registry_file} để gửi thư nhắc."))
