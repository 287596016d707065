"""`tracker report` and `tracker missing`. Heavy imports stay inside the functions."""
import click

from tracker.cli.app import CONTEXT, Command, as_of_option, beside_lines, campaign_option, screen
from tracker.model.language import _


def report_command() -> click.Command:
    @click.command("report", cls=Command, context_settings=CONTEXT, help=_(
        "Báo cáo kết quả xác nhận phục vụ nghiệm thu (.xlsx, .docx) vào thư mục reports/.\n"
        "\n"
        "Gồm: số sản phẩm đủ điều kiện nghiệm thu, kết quả theo khối, tiêu chí, loại sản phẩm,\n"
        "biểu đồ; danh sách sản phẩm đạt; sản phẩm chưa đạt (tiêu chí chưa đáp ứng, đề xuất\n"
        "của đơn vị); đơn vị chưa gửi (email, điện thoại). Văn bản in A4 theo Nghị định 30/2020.\n"
        "Ví dụ:\n"
        "  tracker report\n"
        "  tracker report --as-of 05/06/2026 --format docx"))
    @campaign_option()
    @as_of_option()
    @click.option("--format", "fmt", type=click.Choice(["xlsx", "docx", "both"]), default="both", show_default=True,
                  help=_("Dạng báo cáo: bảng tính, văn bản Word, hoặc cả hai."))
    def report(campaign_dir, as_of, fmt):
        from tracker.reports.acceptance import FORMATS, write_report
        from tracker.store.workspace import Workspace

        ws = Workspace.find(campaign_dir)
        result = write_report(ws, as_of, FORMATS if fmt == "both" else (fmt,))
        rep = result.report
        p = rep.stats.products
        screen().print(
            _("Số liệu tính đến ngày {day}: {volume} sản phẩm đủ điều kiện nghiệm thu; {not_accepted} không đạt, "
              "{incomplete} chưa đủ, {pending} chưa nhận; {missing} đơn vị chưa gửi.").format(
                day=f"{rep.as_of:%d/%m/%Y}", volume=rep.volume, not_accepted=p.not_accepted, incomplete=p.incomplete,
                pending=p.pending, missing=len(rep.not_replied)),
            _("Đã ghi báo cáo:"), *(f"  {path}" for path in result.paths), *beside_lines(result.beside))

    return report


def missing_command() -> click.Command:
    @click.command("missing", cls=Command, context_settings=CONTEXT, help=_(
        "Các đơn vị chưa gửi văn bản xác nhận hợp lệ, kèm email và điện thoại để nhắc.\n"
        "\n"
        "Với --signed: các đơn vị đã nộp bảng tính nhưng chưa có biên bản đã ký (bản ký số hoặc bản quét).\n"
        "Ví dụ:\n"
        "  tracker missing\n"
        "  tracker missing --signed\n"
        "  tracker missing --format csv > chua-nop.csv"))
    @campaign_option()
    @as_of_option()
    @click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True,
                  help=_("Dạng kết quả."))
    @click.option("--signed", is_flag=True,
                  help=_("Đơn vị đã nộp bảng tính nhưng chưa có biên bản đã ký được ghép."))
    def missing(campaign_dir, as_of, fmt, signed):
        import datetime as dt

        from tracker.cli import labels
        from tracker.cli.exports import emit, missing_csv
        from tracker.reports.model import missing_units, refusals
        from tracker.stats import campaign_stats
        from tracker.store.workspace import Workspace

        ws = Workspace.find(campaign_dir)
        stats = campaign_stats(ws, as_of or dt.date.today())
        if signed:
            missing_signed(ws, stats, fmt)
            return
        rows = missing_units(stats, refusals(ws, stats.as_of))
        if fmt == "csv":
            emit(missing_csv(rows))
            return
        day = f"{stats.as_of:%d/%m/%Y}"
        if not rows:
            screen().print(_("Tính đến ngày {day}, mọi đơn vị đã gửi văn bản xác nhận.").format(day=day))
            return
        def status(r) -> str:
            if not r.refused:
                return labels.deadline(r.deadline_status)
            x = r.refused
            return (_("{status} (nhận ngày {day}): {reason}") if x.received else _("{status}: {reason}")).format(
                status=labels.sent_refused(), day=f"{x.received:%d/%m/%Y}" if x.received else "",
                reason=x.reason(None))

        t = units_table(_("Đơn vị chưa có văn bản xác nhận hợp lệ (tính đến {day})").format(day=day), rows,
                        _("Tình trạng"), status)
        refused = sum(1 for r in rows if r.refused)
        lines: list = [t, _("Tổng: {n} đơn vị chưa gửi.").format(n=len(rows) - refused) if not refused else
                       _("Tổng: {n} đơn vị chưa có văn bản hợp lệ: {missing} đơn vị chưa gửi, {refused} đơn vị đã gửi "
                         "nhưng tệp bị từ chối (xem lý do; báo cáo gửi đơn vị trong reports/).").format(
                           n=len(rows), missing=len(rows) - refused, refused=refused)]
        no_contact = sum(1 for r in rows if not r.email)
        if no_contact:
            lines.append(_("{n} đơn vị chưa có email: điền vào {registry} để gửi thư nhắc.").format(
                n=no_contact, registry=ws.registry_file))
        screen().print(*lines)

    return missing


def units_table(title: str, rows, last_header: str, last):
    """A table of units to chase (number, id, name, group, email, phone), its last column `last(row)`."""
    from tracker.cli.screen import Table

    t = Table(title)
    for h in (_("STT"), _("Mã đơn vị"), _("Đơn vị"), _("Khối"), _("Email"), _("Điện thoại"), last_header):
        t.add_column(h, justify="right" if not t.columns else "left")
    for i, r in enumerate(rows, 1):
        t.add_row(str(i), r.unit_id, r.unit_name, r.group_name, r.email, r.phone, last(r))
    return t


def missing_signed(ws, stats, fmt: str) -> None:
    """`tracker missing --signed`: units whose spreadsheet is in and whose signed copy is not."""
    from tracker.cli.exports import emit, unsigned_csv
    from tracker.reports.model import unsigned_units

    rows = unsigned_units(stats)
    if fmt == "csv":
        emit(unsigned_csv(rows))
        return
    day = f"{stats.as_of:%d/%m/%Y}"
    if not rows:
        screen().print(_("Tính đến ngày {day}, mọi đơn vị đã nộp bảng tính đều đã có biên bản đã ký.").format(day=day))
        return
    t = units_table(_("Đơn vị đã nộp bảng tính, chưa có biên bản đã ký (tính đến {day})").format(day=day), rows,
                    _("Ngày nộp bảng tính"), lambda r: f"{r.received:%d/%m/%Y}")
    screen().print(t, _("Tổng: {n} đơn vị chưa có biên bản đã ký. Bản ký chờ xác nhận hoặc bị gắn cờ: "
                        "'tracker signed list'.").format(n=len(rows)))
