"""`tracker mail ...` commands (draft, send, remind). Heavy imports stay inside the functions."""
import click

from tracker.cli.app import CONTEXT, _date, campaign_option, console


@click.group(context_settings=CONTEXT)
def mail():
    """Gửi thư kèm tệp cho từng đơn vị; nhắc đơn vị chưa nộp.

    \b
    Lời thư lấy từ mẫu mail-invite.txt, mail-remind-before.txt, mail-remind-after.txt; muốn sửa
    cho riêng chiến dịch, chép mẫu vào thư mục chiến dịch rồi sửa ở đó.
    Người gửi: --from, nếu không có thì biến môi trường TRACKER_MAIL_FROM, nếu không thì
    email ở mục [support] của campaign.toml.
    Ví dụ:
      tracker mail draft
      tracker mail send --host mail.hanoi.gov.vn --starttls --user ttdlcns --dry-run
    """


from_option = click.option("--from", "from_addr", metavar="ĐỊA_CHỈ",
                           help="Người gửi, ví dụ \"Trung tâm <ten@hanoi.gov.vn>\" (mặc định: $TRACKER_MAIL_FROM, "
                                "nếu không thì email ở [support] của chiến dịch).")
unit_option = click.option("--unit", "only", multiple=True, metavar="MÃ",
                           help="Chỉ đơn vị này (lặp lại được), ví dụ --unit xp-00070.")


def smtp_options(f):
    options = [
        click.option("--host", metavar="MÁY_CHỦ", help="Máy chủ gửi thư (SMTP), ví dụ mail.hanoi.gov.vn."),
        click.option("--port", type=int, metavar="CỔNG",
                     help="Cổng SMTP (mặc định 25; 587 với --starttls; 465 với --ssl)."),
        click.option("--starttls", is_flag=True, help="Mã hóa bằng STARTTLS (thường cổng 587)."),
        click.option("--ssl", "use_ssl", is_flag=True, help="Kết nối mã hóa SSL/TLS ngay từ đầu (thường cổng 465)."),
        click.option("--user", metavar="TÊN",
                     help="Tên đăng nhập SMTP. Mật khẩu: biến môi trường TRACKER_SMTP_PASSWORD, nếu không "
                          "có thì hỏi khi chạy (không bao giờ ghi trên dòng lệnh)."),
        from_option,
        click.option("--rate", type=float, default=30, show_default=True, metavar="N",
                     help="Tối đa N thư mỗi phút (0: không giới hạn)."),
        click.option("--limit", type=click.IntRange(min=0), metavar="N", help="Chỉ gửi N thư (để thử)."),
        click.option("--dry-run", is_flag=True, help="Chỉ liệt kê thư sẽ gửi; không gửi, không ghi gì."),
        click.option("--resend-unconfirmed", is_flag=True,
                     help="Gửi lại cả đơn vị 'chưa rõ đã gửi' (lần chạy trước bị dừng đúng lúc máy chủ đang "
                          "nhận thư). Chỉ dùng sau khi đã kiểm tra đơn vị chưa nhận được."),
        click.option("--mark-sent", "mark", multiple=True, metavar="MÃ",
                     help="Ghi nhận đơn vị 'chưa rõ đã gửi' là đã nhận được thư (sau khi đã kiểm tra); "
                          "lặp lại được. Không gửi gì."),
        unit_option,
        campaign_option,
    ]
    for opt in reversed(options):
        f = opt(f)
    return f


@mail.command(context_settings=CONTEXT)
@campaign_option
@from_option
@unit_option
def draft(campaign_dir, from_addr, only):
    """Tạo thư (.eml) kèm tệp cho từng đơn vị có email, trong drafts/invite/.

    \b
    Mở tệp .eml bằng Outlook (hoặc Thunderbird) để xem lại rồi bấm Gửi.
    Ví dụ:
      tracker mail draft
      tracker mail draft --from "Trung tâm TTDLCNS <ttdlcns@hanoi.gov.vn>"
    """
    from tracker.mail import draft as run
    from tracker.store.workspace import Workspace

    ws = Workspace.find(campaign_dir)
    _print_draft(ws, run(ws, "invite", from_addr, only=list(only) or None))


@mail.command(context_settings=CONTEXT)
@smtp_options
def send(host, port, starttls, use_ssl, user, from_addr, rate, limit, dry_run, resend_unconfirmed, mark, only,
         campaign_dir):
    """Gửi thư kèm tệp cho từng đơn vị qua máy chủ thư (SMTP).

    \b
    Mỗi thư đã gửi được ghi vào sổ (ledger): chạy lại sau khi bị ngắt chỉ gửi những thư chưa gửi.
    Ví dụ:
      tracker mail send --host mail.hanoi.gov.vn --starttls --user ttdlcns --dry-run
      tracker mail send --host mail.hanoi.gov.vn --starttls --user ttdlcns --limit 2
      tracker mail send --host mail.hanoi.gov.vn --starttls --user ttdlcns
    """
    _run_send(campaign_dir, "invite", None, host, port, starttls, use_ssl, user, from_addr, rate, limit, dry_run,
              resend_unconfirmed, mark, only)


@mail.command(context_settings=CONTEXT)
@smtp_options
@click.option("--draft", "as_draft", is_flag=True, help="Chỉ tạo thư nhắc (.eml) trong drafts/remind/, không gửi.")
@click.option("--as-of", "as_of", callback=_date, metavar="NGÀY",
              help="Tính đến ngày (NN/TT/NNNN), mặc định hôm nay: chọn đơn vị chưa nộp và lời nhắc trước/sau hạn.")
def remind(host, port, starttls, use_ssl, user, from_addr, rate, limit, dry_run, resend_unconfirmed, mark, only,
           campaign_dir, as_draft, as_of):
    """Nhắc các đơn vị chưa có tệp hợp lệ (lời nhắc trước hạn hoặc sau hạn).

    \b
    Mỗi đơn vị nhận nhiều nhất một thư nhắc mỗi ngày.
    Ví dụ:
      tracker mail remind --draft
      tracker mail remind --host mail.hanoi.gov.vn --starttls --user ttdlcns
    """
    if as_draft:
        from tracker.mail import draft as run
        from tracker.store.workspace import Workspace

        ws = Workspace.find(campaign_dir)
        _print_draft(ws, run(ws, "remind", from_addr, today=as_of, only=list(only) or None))
        return
    _run_send(campaign_dir, "remind", as_of, host, port, starttls, use_ssl, user, from_addr, rate, limit, dry_run,
              resend_unconfirmed, mark, only)


def _print_draft(ws, res) -> None:
    out = console()
    what = "thư mời" if res.kind == "invite" else "thư nhắc"
    out.print(f"Đã tạo {len(res.written)} {what} (.eml) trong {res.folder}/.")
    if res.sender is None:
        out.print("[yellow]Chưa có người gửi (--from, TRACKER_MAIL_FROM hoặc \\[support].email): thư để trống "
                  "dòng Người gửi, Outlook sẽ dùng tài khoản đang mở.[/]")
    _print_no_email(out, ws, res.no_email)


def _print_no_email(out, ws, units) -> None:
    from rich.markup import escape

    if units:
        out.print(f"[yellow]{len(units)} đơn vị chưa có email trong {escape(str(ws.registry_file))} "
                  "(cột email), chưa có thư:[/]")
        for u in units:
            out.print(f"  - {u.id}: {escape(u.name)}" + (f" (điện thoại {u.phone})" if u.phone else ""))


def _run_send(campaign_dir, kind, as_of, host, port, starttls, use_ssl, user, from_addr, rate, limit, dry_run,
              resend_unconfirmed, mark, only) -> None:
    import datetime as dt
    import os

    from rich.markup import escape

    from tracker import mail as lib
    from tracker.model.errors import UsageError
    from tracker.store.workspace import Workspace

    ws = Workspace.find(campaign_dir)
    today = as_of or dt.date.today()
    out = console()
    if mark:
        batch = lib.batch_for(ws, kind, today)
        lib.mark_sent(ws, kind, batch, list(mark))
        out.print(f"Đã ghi nhận đã gửi: {', '.join(mark)}.")
        return
    if starttls and use_ssl:
        raise UsageError("Chỉ chọn một trong hai: --starttls hoặc --ssl.")
    settings = None
    if not dry_run:
        if not host:
            raise UsageError("Thiếu --host (máy chủ gửi thư). Thử trước với --dry-run để xem thư sẽ gửi.")
        password = None
        if user:
            password = os.environ.get(lib.PASSWORD_ENV)
            if password is None:
                password = click.prompt(f"Mật khẩu SMTP của {user}", hide_input=True, default="", show_default=False,
                                        err=True)
        security = "ssl" if use_ssl else "starttls" if starttls else "none"
        settings = lib.SmtpSettings(host, port, security, user, password)
        if user and security == "none" and host not in ("localhost", "127.0.0.1", "::1"):
            out.print("[yellow]Lưu ý: chưa mã hóa (không có --starttls hay --ssl), mật khẩu đi trên mạng ở dạng "
                      "đọc được.[/]")
    from rich.progress import Progress

    with Progress(transient=True, console=out, disable=not out.is_terminal) as bar:
        task = bar.add_task("Đang gửi thư", total=None)
        report = lib.send(ws, settings, kind, from_addr, today=today, rate=rate, limit=limit, dry_run=dry_run,
                          resend_unconfirmed=resend_unconfirmed, only=list(only) or None,
                          progress=lambda unit: bar.advance(task))
    what = "thư mời" if kind == "invite" else f"thư nhắc ngày {today:%d/%m/%Y}"
    if dry_run:
        out.print(f"[bold]Chạy thử: sẽ gửi {len(report.planned)} {what} (không gửi, không ghi gì):[/]")
        for o in report.planned:
            out.print(f"  - {o.unit.id}: {escape(', '.join(o.recipients))} · {escape(o.subject)} · "
                      f"{o.attachment.name} ({o.attachment.stat().st_size // 1024} KB)")
    else:
        out.print(f"Đã gửi {len(report.sent)} {what}.")
    if report.already:
        out.print(f"{len(report.already)} đơn vị đã được gửi ở lần chạy trước (bỏ qua).")
    if report.not_attempted:
        out.print(f"{len(report.not_attempted)} đơn vị chưa gửi lần này; chạy lại lệnh để gửi tiếp.")
    for unit, reason in report.failed:
        out.print(f"[red]✗ {unit.id} ({escape(unit.name)}): {escape(reason.message)}[/]")
    for unit, note in report.partial:
        out.print(f"[yellow]! {unit.id} ({escape(unit.name)}): {escape(note.message)}[/]")
    if report.unconfirmed:
        out.print(f"[yellow]{len(report.unconfirmed)} đơn vị chưa rõ đã nhận được thư (lần gửi trước bị dừng đúng "
                  "lúc máy chủ đang nhận). Hãy kiểm tra (hộp thư Đã gửi, hoặc gọi đơn vị), rồi chạy lại lệnh với "
                  "--mark-sent MÃ nếu đơn vị đã nhận, hoặc --resend-unconfirmed để gửi lại:[/]")
        for unit, at in report.unconfirmed:
            out.print(f"  - {unit.id}: {escape(unit.name)} (lúc {at})")
    _print_no_email(out, ws, report.no_email)
    if report.aborted:
        out.print(f"[bold red]Lỗi:[/] {escape(report.aborted.message)}")
    if report.exit_code:
        click.get_current_context().exit(report.exit_code)


from tracker.cli.mail_fetch import fetch  # noqa: E402 - `tracker mail fetch` lives in its own module

mail.add_command(fetch)
