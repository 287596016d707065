"""`tracker mail ...` commands (draft, send, remind). Heavy imports stay inside the functions."""
import click

from tracker.cli.app import CONTEXT, Command, Group, as_of_option, beside_lines, campaign_option, screen
from tracker.cli.screen import Line
from tracker.model.language import _
from tracker.model.text import for_terminal as shown


def from_option():
    return click.option("--from", "from_addr", metavar=_("ĐỊA_CHỈ"),
                        help=_("Người gửi, ví dụ \"Trung tâm <ten@hanoi.gov.vn>\" (mặc định: $TRACKER_MAIL_FROM, nếu "
                               "không thì email ở [support] của chiến dịch)."))


def unit_option():
    return click.option("--unit", "only", multiple=True, metavar=_("MÃ"),
                        help=_("Chỉ đơn vị này (lặp lại được), ví dụ --unit xp-00070."))


def smtp_options(f):
    options = [
        click.option("--host", metavar=_("MÁY_CHỦ"), help=_("Máy chủ gửi thư (SMTP), ví dụ mail.hanoi.gov.vn.")),
        click.option("--port", type=int, metavar=_("CỔNG"),
                     help=_("Cổng SMTP (mặc định 25; 587 với --starttls; 465 với --ssl).")),
        click.option("--starttls", is_flag=True, help=_("Mã hóa bằng STARTTLS (thường cổng 587).")),
        click.option("--ssl", "use_ssl", is_flag=True, help=_("Kết nối mã hóa SSL/TLS ngay từ đầu (thường cổng 465).")),
        click.option("--user", metavar=_("TÊN"),
                     help=_("Tên đăng nhập SMTP. Mật khẩu: biến môi trường TRACKER_SMTP_PASSWORD, nếu không có thì "
                            "hỏi khi chạy (không bao giờ ghi trên dòng lệnh).")),
        from_option(),
        click.option("--rate", type=float, default=30, show_default=True, metavar="N",
                     help=_("Tối đa N thư mỗi phút (0: không giới hạn).")),
        click.option("--limit", type=click.IntRange(min=0), metavar="N", help=_("Chỉ gửi N thư (để thử).")),
        click.option("--dry-run", is_flag=True, help=_("Chỉ liệt kê thư sẽ gửi; không gửi, không ghi gì.")),
        click.option("--resend-unconfirmed", is_flag=True,
                     help=_("Gửi lại cả đơn vị 'chưa rõ đã gửi' (lần chạy trước bị dừng đúng lúc máy chủ đang nhận "
                            "thư). Chỉ dùng sau khi đã kiểm tra đơn vị chưa nhận được.")),
        click.option("--mark-sent", "mark", multiple=True, metavar=_("MÃ"),
                     help=_("Ghi nhận đơn vị 'chưa rõ đã gửi' là đã nhận được thư (sau khi đã kiểm tra); lặp lại "
                            "được. Không gửi gì.")),
        unit_option(),
        campaign_option(),
    ]
    for opt in reversed(options):
        f = opt(f)
    return f


def mail_command() -> click.Group:
    @click.group("mail", cls=Group, context_settings=CONTEXT, help=_(
        "Gửi thư kèm tệp cho từng đơn vị; nhắc đơn vị chưa nộp.\n"
        "\n"
        "Lời thư lấy từ mẫu mail-invite.txt, mail-remind-before.txt, mail-remind-after.txt; muốn sửa\n"
        "cho riêng chiến dịch, chép mẫu vào thư mục chiến dịch rồi sửa ở đó.\n"
        "Người gửi: --from, nếu không có thì biến môi trường TRACKER_MAIL_FROM, nếu không thì\n"
        "email ở mục [support] của campaign.toml.\n"
        "Ví dụ:\n"
        "  tracker mail draft\n"
        "  tracker mail send --host mail.hanoi.gov.vn --starttls --user ttdlcns --dry-run"))
    def mail():
        pass

    @mail.command(cls=Command, context_settings=CONTEXT, help=_(
        "Tạo thư (.eml) kèm tệp cho từng đơn vị có email, trong drafts/invite/.\n"
        "\n"
        "Mở tệp .eml bằng Outlook (hoặc Thunderbird) để xem lại rồi bấm Gửi.\n"
        "Ví dụ:\n"
        "  tracker mail draft\n"
        "  tracker mail draft --from \"Trung tâm TTDLCNS <ttdlcns@hanoi.gov.vn>\""))
    @campaign_option()
    @from_option()
    @unit_option()
    def draft(campaign_dir, from_addr, only):
        from tracker.mail import draft as run
        from tracker.store.workspace import Workspace

        ws = Workspace.find(campaign_dir)
        _print_draft(ws, run(ws, "invite", from_addr, only=list(only) or None))

    @mail.command(cls=Command, context_settings=CONTEXT, help=_(
        "Gửi thư kèm tệp cho từng đơn vị qua máy chủ thư (SMTP).\n"
        "\n"
        "Mỗi thư đã gửi được ghi vào sổ (ledger): chạy lại sau khi bị ngắt chỉ gửi những thư chưa gửi.\n"
        "Ví dụ:\n"
        "  tracker mail send --host mail.hanoi.gov.vn --starttls --user ttdlcns --dry-run\n"
        "  tracker mail send --host mail.hanoi.gov.vn --starttls --user ttdlcns --limit 2\n"
        "  tracker mail send --host mail.hanoi.gov.vn --starttls --user ttdlcns"))
    @smtp_options
    def send(host, port, starttls, use_ssl, user, from_addr, rate, limit, dry_run, resend_unconfirmed, mark, only,
             campaign_dir):
        _run_send(campaign_dir, "invite", None, host, port, starttls, use_ssl, user, from_addr, rate, limit, dry_run,
                  resend_unconfirmed, mark, only)

    @mail.command(cls=Command, context_settings=CONTEXT, help=_(
        "Nhắc các đơn vị chưa có tệp hợp lệ (lời nhắc trước hạn hoặc sau hạn).\n"
        "\n"
        "Mỗi đơn vị nhận nhiều nhất một thư nhắc mỗi ngày.\n"
        "Ví dụ:\n"
        "  tracker mail remind --draft\n"
        "  tracker mail remind --host mail.hanoi.gov.vn --starttls --user ttdlcns"))
    @smtp_options
    @click.option("--draft", "as_draft", is_flag=True, help=_("Chỉ tạo thư nhắc (.eml) trong drafts/remind/, không gửi."))
    @as_of_option(_("Tính đến ngày (NN/TT/NNNN), mặc định hôm nay: chọn đơn vị chưa nộp và lời nhắc trước/sau hạn."))
    def remind(host, port, starttls, use_ssl, user, from_addr, rate, limit, dry_run, resend_unconfirmed, mark, only,
               campaign_dir, as_draft, as_of):
        if as_draft:
            from tracker.mail import draft as run
            from tracker.store.workspace import Workspace

            ws = Workspace.find(campaign_dir)
            _print_draft(ws, run(ws, "remind", from_addr, today=as_of, only=list(only) or None))
            return
        _run_send(campaign_dir, "remind", as_of, host, port, starttls, use_ssl, user, from_addr, rate, limit, dry_run,
                  resend_unconfirmed, mark, only)

    from tracker.cli.mail_fetch import fetch_command   # `tracker mail fetch` lives in its own module

    mail.add_command(fetch_command())
    return mail


def _print_draft(ws, res) -> None:
    what = _("thư mời") if res.kind == "invite" else _("thư nhắc")
    lines: list = [_("Đã tạo {n} {what} (.eml) trong {folder}/.").format(n=len(res.written), what=what,
                                                                        folder=res.folder)]
    if res.sender is None:
        lines.append(Line(("yellow", _("Chưa có người gửi (--from, TRACKER_MAIL_FROM hoặc [support].email): thư để "
                                       "trống dòng Người gửi, Outlook sẽ dùng tài khoản đang mở."))))
    screen().print(*lines, *beside_lines(res.beside), *_no_email(ws, res.no_email))


def _no_email(ws, units) -> list:
    if not units:
        return []
    return [Line(("yellow", _("{n} đơn vị chưa có email trong {registry} (cột email), chưa có thư:").format(
                n=len(units), registry=ws.registry_file)))] + \
        [f"  - {u.id}: {shown(u.name)}" + (" " + _("(điện thoại {phone})").format(phone=u.phone) if u.phone else "")
         for u in units]


def _run_send(campaign_dir, kind, as_of, host, port, starttls, use_ssl, user, from_addr, rate, limit, dry_run,
              resend_unconfirmed, mark, only) -> None:
    import datetime as dt
    import os

    from tracker import mail as lib
    from tracker.cli import labels
    from tracker.model.errors import UsageError
    from tracker.store.workspace import Workspace

    ws = Workspace.find(campaign_dir)
    today = as_of or dt.date.today()
    out = screen()
    if mark:
        batch = lib.batch_for(ws, kind, today)
        try:
            lib.mark_sent(ws, kind, batch, list(mark))
        except lib.NotUnconfirmed as e:
            raise UsageError(_("Chỉ xác nhận được đơn vị đang ở trạng thái '{sending}'. Không phải: {units}.").format(
                sending=labels.mail_status("sending"),
                units=", ".join(f"{u} ({labels.mail_status(s)})" for u, s in e.statuses.items()))) from None
        out.print(_("Đã ghi nhận đã gửi: {units}.").format(units=", ".join(mark)))
        return
    if starttls and use_ssl:
        raise UsageError(_("Chỉ chọn một trong hai: --starttls hoặc --ssl."))
    settings = None
    if not dry_run:
        if not host:
            raise UsageError(_("Thiếu --host (máy chủ gửi thư). Thử trước với --dry-run để xem thư sẽ gửi."))
        password = None
        if user:
            password = os.environ.get(lib.PASSWORD_ENV)
            if password is None:
                password = click.prompt(_("Mật khẩu SMTP của {user}").format(user=user), hide_input=True, default="",
                                        show_default=False, err=True)
        security = "ssl" if use_ssl else "starttls" if starttls else "none"
        settings = lib.SmtpSettings(host, port, security, user, password)
        if user and security == "none" and host not in ("localhost", "127.0.0.1", "::1"):
            out.print(Line(("yellow", _("Lưu ý: chưa mã hóa (không có --starttls hay --ssl), mật khẩu đi trên mạng ở "
                                        "dạng đọc được."))))
    bar, step = out.progress(_("Đang gửi thư"))
    with bar:
        report = lib.send(ws, settings, kind, from_addr, today=today, rate=rate, limit=limit, dry_run=dry_run,
                          resend_unconfirmed=resend_unconfirmed, only=list(only) or None, progress=step)
    what = _("thư mời") if kind == "invite" else _("thư nhắc ngày {day}").format(day=f"{today:%d/%m/%Y}")
    lines: list = []
    if dry_run:
        lines.append(Line(("bold", _("Chạy thử: sẽ gửi {n} {what} (không gửi, không ghi gì):").format(
            n=len(report.planned), what=what))))
        lines += [f"  - {o.unit.id}: {shown(', '.join(o.recipients))} · {shown(o.subject)} · "
                  f"{shown(o.attachment.name)} "
                  f"({o.attachment.stat().st_size // 1024} KB)" for o in report.planned]
    else:
        lines.append(_("Đã gửi {n} {what}.").format(n=len(report.sent), what=what))
    if report.already:
        lines.append(_("{n} đơn vị đã được gửi ở lần chạy trước (bỏ qua).").format(n=len(report.already)))
    if report.not_attempted:
        lines.append(_("{n} đơn vị chưa gửi lần này; chạy lại lệnh để gửi tiếp.").format(n=len(report.not_attempted)))
    lines += [Line(("red", f"✗ {unit.id} ({shown(unit.name)}): {reason.message}")) for unit, reason in report.failed]
    lines += [Line(("yellow", f"! {unit.id} ({shown(unit.name)}): {note.message}")) for unit, note in report.partial]
    if report.unconfirmed:
        lines.append(Line(("yellow", _(
            "{n} đơn vị chưa rõ đã nhận được thư (lần gửi trước bị dừng đúng lúc máy chủ đang nhận). Hãy kiểm tra "
            "(hộp thư Đã gửi, hoặc gọi đơn vị), rồi chạy lại lệnh với --mark-sent MÃ nếu đơn vị đã nhận, hoặc "
            "--resend-unconfirmed để gửi lại:").format(n=len(report.unconfirmed)))))
        lines += ["  - " + _("{unit}: {name} (lúc {at})").format(unit=unit.id, name=shown(unit.name), at=at)
                  for unit, at in report.unconfirmed]
    lines += _no_email(ws, report.no_email)
    if report.aborted:
        lines.append(Line(("bold red", _("Lỗi:")), f" {report.aborted.message}"))
    out.print(*lines)
    if report.exit_code:
        click.get_current_context().exit(report.exit_code)

