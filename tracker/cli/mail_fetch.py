"""`tracker mail fetch`: the replies from the Centre's mailbox (IMAP) into inbox/, then merged."""
from __future__ import annotations

import click

from tracker.cli.app import CONTEXT, Command, campaign_option, parse_date, screen
from tracker.cli.screen import Line
from tracker.model.language import _
from tracker.model.text import for_terminal as shown


def fetch_command() -> click.Command:
    @click.command("fetch", cls=Command, context_settings=CONTEXT, help=_(
            'Lấy thư trả lời từ hộp thư (IMAP) về inbox/ (mỗi thư đúng một lần), rồi ghép.\n'
            '\n'
            'Lấy mọi thư mới có tệp đính kèm, hoặc gửi từ địa chỉ có trong units.csv, hoặc trả lời thư do\n'
            'tracker gửi. Thông số máy chủ ở mục [mail.imap] của campaign.toml. Hộp thư được giữ nguyên:\n'
            'không xóa, không chuyển, không đánh dấu đã đọc (trừ khi dùng --move-to).\n'
            'Mã thoát: 0 mọi thư được nhận hoặc đã ghép trước đó; 1 có thư bị từ chối hoặc lỗi khi lấy thư;\n'
            '2 sai cách dùng.\n'
            'Ví dụ:\n'
            '  tracker mail fetch --dry-run\n'
            '  tracker mail fetch\n'
            '  tracker mail fetch --host mail.hanoi.gov.vn --user ttdlcns --folder INBOX --no-merge'))
    @click.option("--host", metavar=_("MÁY_CHỦ"), help=_("Máy chủ nhận thư (IMAP), ví dụ mail.hanoi.gov.vn (mặc định: host "
                                                      "ở [mail.imap] của campaign.toml)."))
    @click.option("--port", type=click.IntRange(1, 65535), metavar=_("CỔNG"),
                  help=_("Cổng IMAP (mặc định 993 với ssl; 143 với starttls hoặc none)."))
    @click.option("--user", metavar=_("TÊN"),
                  help=_("Tên đăng nhập hộp thư. Mật khẩu: biến môi trường TRACKER_IMAP_PASSWORD, nếu không có thì "
                         "keyring của máy, nếu không thì hỏi khi chạy (không bao giờ ghi trên dòng lệnh)."))
    # A mailbox folder, not a folder on disk (THƯ_MỤC, which --campaign takes): its own word.
    @click.option("--folder", "folders", multiple=True, metavar=_("THƯ_MỤC_THƯ"),
                  help=_("Thư mục cần đọc (lặp lại được; mặc định: folders ở [mail.imap], nếu không thì INBOX)."))
    @click.option("--security", type=click.Choice(["ssl", "starttls", "none"]),
                  help=_("Kiểu mã hóa: ssl (mặc định, cổng 993), starttls (cổng 143), none (không mã hóa: chỉ khi bộ "
                         "phận CNTT yêu cầu)."))
    @click.option("--insecure", is_flag=True,
                  help=_("Không kiểm tra chứng chỉ của máy chủ (chỉ khi bộ phận CNTT xác nhận đúng máy chủ; tốt hơn là "
                         "điền cafile ở [mail.imap])."))
    @click.option("--move-to", "move_to", metavar=_("THƯ_MỤC_THƯ"),
                  help=_("Sau khi lưu, chuyển các thư đã lấy sang thư mục này trên máy chủ (phải có sẵn). Không có tùy "
                         "chọn này thì hộp thư được giữ nguyên."))
    @click.option("--since", callback=parse_date, metavar=_("NGÀY"),
                  help=_("Chỉ xét thư máy chủ nhận từ ngày này (NN/TT/NNNN); mặc định: since ở [mail.imap], nếu không "
                         "thì ngày trước thư đầu tiên tracker gửi."))
    @click.option("--no-merge", "no_merge", is_flag=True, help=_("Chỉ lấy thư về inbox/, không ghép."))
    @click.option("--dry-run", is_flag=True, help=_("Chỉ liệt kê thư sẽ lấy; không lưu, không ghép, không ghi gì."))
    @campaign_option()
    def fetch(host, port, user, folders, security, insecure, move_to, since, no_merge, dry_run, campaign_dir):
        _fetch(host, port, user, folders, security, insecure, move_to, since, no_merge, dry_run, campaign_dir)

    return fetch


def _fetch(host, port, user, folders, security, insecure, move_to, since, no_merge, dry_run, campaign_dir) -> None:
    import os
    import sys

    from tracker.mail import imap
    from tracker.model.errors import UsageError
    from tracker.store.workspace import Workspace

    ws = Workspace.find(campaign_dir)
    settings = imap.settings(ws, host=host, port=port, user=user, folders=folders, security=security,
                             insecure=insecure, since=since)
    out = screen()
    err = screen(err=True)
    if settings.security == "none":
        err.print(Line(("yellow", _("Lưu ý: kết nối không mã hóa (security none): mật khẩu và thư đi trên mạng ở "
                                    "dạng đọc được. Chỉ dùng khi bộ phận CNTT yêu cầu."))))
    if insecure:
        err.print(Line(("yellow", _("Lưu ý: không kiểm tra chứng chỉ của máy chủ (--insecure): không chắc đang nói "
                                    "chuyện với đúng máy chủ thư."))))
    settings.password = os.environ.get(imap.PASSWORD_ENV) or imap.keyring_password(settings)
    if settings.password is None:
        if not sys.stdin.isatty():
            raise UsageError(_("Chưa có mật khẩu hộp thư của '{user}'. Đặt biến môi trường {env} (hoặc lưu trong "
                               "keyring) rồi chạy lại.").format(user=settings.user, env=imap.PASSWORD_ENV))
        settings.password = click.prompt(_("Mật khẩu hộp thư {user} trên {host}").format(
            user=settings.user, host=settings.host), hide_input=True, err=True)
    bar, progress = out.progress(_("Đang lấy thư"))
    with bar:
        report = imap.fetch(ws, settings, dry_run=dry_run, move_to=move_to, progress=progress)
    _print_fetch(out, ws, report)
    code = report.exit_code
    if dry_run:
        click.get_current_context().exit(code)
    todo, gone = imap.pending(ws)
    for p in gone:
        out.print(Line(("yellow", _("Lưu ý:")), " " + _("Tệp {file} ({sender}, “{subject}”) đã lấy về nhưng không còn "
                                                       "trong inbox/: chưa ghép. Nếu cần, lưu lại thư đó từ hộp thư "
                                                       "rồi chạy 'tracker merge'.").format(
            file=shown(p.path.name), sender=shown(p.sender), subject=shown(p.subject))))
    imap.mark_merged(ws, gone)
    if no_merge:
        if todo:
            out.print(_("{n} thư đã lưu trong inbox/, chưa ghép: chạy lại 'tracker mail fetch' (không có --no-merge) "
                        "hoặc 'tracker merge inbox/'.").format(n=len(todo)))
        click.get_current_context().exit(code)
    if todo:
        from tracker.cli.merge import run_merge

        out.print("", Line(("bold", _("Ghép {n} thư đã lấy về").format(n=len(todo)))))
        merged = run_merge(str(ws.root), [p.path for p in todo], None)
        imap.mark_merged(ws, todo)
        code = max(code, merged)
    click.get_current_context().exit(code)



def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def _print_fetch(out, ws, report) -> None:
    folders = ", ".join(report.folders)
    if report.since and report.since_first_mail:
        out.print(_("Chỉ xét thư nhận từ ngày {day} (ngày trước thư đầu tiên tracker gửi; đổi bằng since ở "
                    "[mail.imap] hoặc --since).").format(day=f"{report.since:%d/%m/%Y}"))
    elif report.since:
        out.print(_("Chỉ xét thư nhận từ ngày {day}.").format(day=f"{report.since:%d/%m/%Y}"))
    for folder in report.recreated:
        out.print(Line(("yellow", _("Lưu ý:")), " " + (_(
            "Thư mục '{folder}' trên máy chủ {where} đã được tạo lại hoặc chuyển máy chủ (UIDVALIDITY đổi): đã so "
            "từng thư theo Message-ID và nội dung với thư đã lấy trước đây, chỉ lấy thư mới.").format(
            folder=folder, where=report.where))))
    if report.dry_run:
        out.print(Line(("bold", _("Chạy thử: sẽ lấy {n} thư từ {where} ({folders}); không lưu, không ghi gì:")
                        .format(n=len(report.planned), where=report.where, folders=folders))))
        for m in report.planned:
            when = m.date or m.received
            day = when.astimezone(_vn()).strftime("%d/%m/%Y %H:%M") if when else _("không rõ ngày")
            atts = ", ".join(map(shown, m.attachments)) if m.attachments else _("không có tệp đính kèm")
            over = ("red", " " + _("quá lớn, sẽ bỏ qua")) if m.size > report.max_bytes else (None, "")
            out.print(Line(f"  - {shown(m.sender) or _('không rõ người gửi')} · {day} · “{shown(m.subject)}” · "
                           f"{_size(m.size)} · "
                           f"{atts}", over))
    else:
        out.print(_("Đã lấy {n} thư mới từ {where} ({folders}) vào {inbox}/.").format(
            n=len(report.saved), where=report.where, folders=folders, inbox=ws.root / "inbox"))
        for saved in report.saved:
            out.print(f"  + {shown(saved.message.shown)} → {shown(saved.path.name)}")
    if report.already:
        out.print(_("{n} thư đã lấy ở lần trước (cùng Message-ID hoặc cùng nội dung): bỏ qua.").format(
            n=len(report.already)))
    if report.not_replies:
        out.print(_("{n} thư mới khác không phải thư trả lời (không đính kèm, không từ địa chỉ đơn vị, không trả "
                    "lời thư đã gửi): để nguyên.").format(n=report.not_replies))
    if report.moved:
        out.print(_("Đã chuyển {n} thư đã lấy sang thư mục khác trên máy chủ.").format(n=report.moved))
    for m in report.too_large:
        out.print(Line(("red", "✗"), " " + (_(
            "Bỏ qua {message} (thư mục '{folder}'): thư quá lớn ({size}, tối đa {limit}). Thư vẫn nằm trên máy chủ: "
            "mở bằng Outlook hoặc webmail, lưu riêng tệp Excel đính kèm rồi chạy 'tracker merge TỆP'.").format(
            message=shown(m.shown), folder=shown(m.folder), size=_size(m.size), limit=_size(report.max_bytes)))))
    for folder, reason in report.failed:
        out.print(Line(("red", "✗"), " " + reason))
    if report.aborted:
        out.print(Line(("bold red", _("Lỗi:")), " " + report.aborted))


def _vn():
    from tracker.intake.saved_email import VN_TZ

    return VN_TZ
