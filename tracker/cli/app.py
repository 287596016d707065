"""The `tracker` command tree: parse, call the library, render. No logic of its own.

`build()` makes the tree in the current language (tracker.cli chose it). Imports are lazy so that
`tracker --help` and `tracker stats` start fast (issue 7): the commands that live in their own
modules are imported only when named (or when the full help is shown).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from tracker.model.errors import TrackerError
from tracker.model.language import _

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class HelpAsWritten:
    """Help texts are shown with the line breaks they are written with (and translated with):
    examples stay one per line, without click's \\b markers in the catalogs."""

    def format_help_text(self, ctx, formatter):
        if not self.help:
            return
        formatter.write_paragraph()
        with formatter.indentation():
            for line in self.help.split("\n"):
                formatter.write(f"{'':>{formatter.current_indent}}{line}\n" if line else "\n")


class Command(HelpAsWritten, click.Command):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", _("[TÙY_CHỌN]"))
        super().__init__(*args, **kwargs)


def campaign_option():
    return click.option("-C", "--campaign", "campaign_dir", type=click.Path(file_okay=False), metavar=_("THƯ_MỤC"),
                        help=_("Thư mục chiến dịch (mặc định: thư mục hiện tại nếu là chiến dịch, nếu không thì "
                               "workbooks/hanoi-ttdt-2026)."))


def as_of_option(text: str | None = None):
    return click.option("--as-of", "as_of", callback=parse_date, metavar=_("NGÀY"),
                        help=text or _("Tính đến ngày (NN/TT/NNNN), mặc định hôm nay."))


def _option_parser(name: str):
    """A click callback reading an option's value with tracker.model.dates.`name`; its message
    (Vietnamese, with the expected form) as click's own for a bad value."""
    def callback(ctx, param, value):
        if value is None:
            return None
        from tracker.model import dates

        try:
            return getattr(dates, name)(value)
        except TrackerError as e:
            raise click.BadParameter(str(e)) from None
    return callback


parse_date = _option_parser("parse_date")       # --as-of, --since: a date
parse_when = _option_parser("parse_when")       # --received: a date (that day) or a date and time


def screen(err: bool = False):
    from tracker.cli.screen import Screen

    return Screen(err=err)


# Commands defined in their own modules: name -> (module, function building the command).
LAZY_COMMANDS = {"mail": ("tracker.cli.mail", "mail_command"), "demo": ("tracker.cli.demo", "demo_command"),
                 "report": ("tracker.cli.report", "report_command"),
                 "missing": ("tracker.cli.report", "missing_command"),
                 "signed": ("tracker.cli.signed", "signed_command")}


class Group(HelpAsWritten, click.Group):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", _("[TÙY_CHỌN]"))
        kwargs.setdefault("subcommand_metavar", _("LỆNH [ĐỐI_SỐ]..."))
        super().__init__(*args, **kwargs)

    def list_commands(self, ctx):
        return sorted({*self.commands, *(LAZY_COMMANDS if self.name == "tracker" else ())})

    def get_command(self, ctx, name):
        if name not in self.commands and self.name == "tracker" and name in LAZY_COMMANDS:
            import importlib

            module, builder = LAZY_COMMANDS[name]
            self.add_command(getattr(importlib.import_module(module), builder)(), name)
        return self.commands.get(name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TrackerError as e:
            from tracker.cli.screen import Line

            err = screen(err=True)
            err.print(Line(("bold red", _("Lỗi:")), f" {e}"), *(f"  - {line}" for line in e.details))
            ctx.exit(e.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except OSError as e:
            screen(err=True).print(_("Lỗi: không đọc/ghi được '{path}': {reason}. Kiểm tra đường dẫn, quyền truy cập "
                                     "và dung lượng ổ đĩa rồi chạy lại.").format(path=e.filename or "",
                                                                               reason=e.strerror))
            ctx.exit(1)
        except Exception as e:  # never a traceback for the user; TRACKER_DEBUG=1 shows it to developers
            import os

            if os.environ.get("TRACKER_DEBUG"):
                raise
            from tracker.cli.screen import Line

            screen(err=True).print(Line(("bold red", _("Lỗi không mong đợi:")), " " + _(
                "{kind}: {error}. Dữ liệu đã ghi trước đó vẫn an toàn. Chạy 'tracker verify' để kiểm tra; nếu lỗi lặp "
                "lại, chạy lại với biến môi trường TRACKER_DEBUG=1 và gửi kết quả cho nhóm phát triển.").format(
                    kind=type(e).__name__, error=e)))
            ctx.exit(1)
        except KeyboardInterrupt:
            screen(err=True).print(_("Đã dừng theo yêu cầu. Dữ liệu đã ghi trước đó vẫn an toàn; chạy lại lệnh để "
                                     "làm tiếp."))
            ctx.exit(130)


def build() -> click.Group:
    """The command tree, its help in the current language."""

    @click.group("tracker", cls=Group, context_settings=CONTEXT, help=_(
        "tracker: chạy chiến dịch xác nhận bằng bảng tính, từ đầu đến cuối.\n"
        "\n"
        "Trình tự thường dùng:\n"
        "  tracker init                  tạo thư mục chiến dịch (mặc định: Hà Nội 2026, 136 đơn vị)\n"
        "  tracker generate              tạo 136 tệp gửi đơn vị (outbox/) và master.xlsx\n"
        "  tracker mail draft            tạo thư (.eml) kèm tệp cho từng đơn vị\n"
        "  tracker merge inbox/          ghép các tệp đơn vị gửi về, kiểm tra từng tệp\n"
        "  tracker stats                 số liệu nghiệm thu theo khối, tiêu chí, sản phẩm\n"
        "  tracker report                báo cáo nghiệm thu (.xlsx, .docx)\n"
        "Hướng dẫn sử dụng đầy đủ: docs/huong-dan.md.\n"
        "Ví dụ:\n"
        "  tracker demo                  diễn tập trọn một đợt trên dữ liệu giả lập (workbooks/demo)\n"
        "  tracker --lang en merge --help"))
    @click.version_option(package_name="tracker", message="tracker %(version)s", help=_("Hiện phiên bản rồi thoát."))
    @click.option("--lang", type=click.Choice(["vi", "en"]), expose_value=False, is_eager=True,
                  help=_("Ngôn ngữ của dòng lệnh (hướng dẫn và thông báo): vi (mặc định) hoặc en; hoặc biến môi "
                         "trường TRACKER_LANG (hoặc LANG). Tệp Excel, thư và báo cáo luôn bằng tiếng Việt."))
    def main():
        pass

    @main.command(cls=Command, context_settings=CONTEXT, help=_(
        "Tạo thư mục chiến dịch từ mẫu và danh sách đơn vị.\n"
        "\n"
        "Ví dụ:\n"
        "  tracker init                               chiến dịch Hà Nội 2026 có sẵn, 136 đơn vị\n"
        "  tracker init chien-dich-2027 --template mau.toml --units donvi.csv"))
    @click.argument("directory", required=False, type=click.Path(file_okay=False), metavar=_("[THƯ_MỤC]"))
    @click.option("--template", "template", metavar=_("TÊN|TỆP"), help=_("Mẫu chiến dịch (tên có sẵn hoặc tệp .toml)."))
    @click.option("--units", "units", type=click.Path(dir_okay=False), metavar=_("TỆP"),
                  help=_("Danh sách đơn vị (.csv)."))
    @click.option("--force", is_flag=True,
                  help=_("Thay mẫu và danh sách của chiến dịch đã có (bản cũ lưu vào backups/)."))
    def init(directory, template, units, force):
        from tracker.model.campaign import template_path
        from tracker.store.workspace import DEFAULT_DIR, init_workspace

        root = Path(directory) if directory else DEFAULT_DIR
        ws = init_workspace(root, template_path(template), Path(units) if units else None, force)
        n_products = sum(len(u.products) for u in ws.units)
        screen().print(
            _("Đã tạo chiến dịch {id} tại {root}: {units} đơn vị, {products} sản phẩm, hạn nộp {due}.").format(
                id=ws.campaign.id, root=root, units=len(ws.units), products=n_products, due=f"{ws.campaign.due:%d/%m/%Y}"),
            _("Khóa xác thực biểu mẫu: {key} (bản sao: {copy}). Hãy sao lưu tệp này: mất khóa thì tệp đơn vị gửi về "
              "không xác thực được (docs/huong-dan.md, mục 11).").format(key=ws.secret_file, copy=ws.secret_backup),
            _("Bước tiếp: điền email đơn vị vào {registry} (nếu gửi thư), rồi chạy 'tracker generate -C {root}'.").format(
                registry=ws.registry_file, root=root))

    @main.command(cls=Command, context_settings=CONTEXT, help=_(
        "Tạo tệp Excel cho từng đơn vị (outbox/) và tệp tổng hợp master.xlsx.\n"
        "\n"
        "Ví dụ:\n"
        "  tracker generate\n"
        "  tracker generate -C workbooks/hanoi-ttdt-2026"))
    @campaign_option()
    @click.option("--jobs", type=int, default=None, metavar=_("SỐ"),
                  help=_("Số tiến trình song song (mặc định: tự chọn)."))
    def generate(campaign_dir, jobs):
        import time

        from tracker.api import generate as run
        from tracker.store.workspace import Workspace

        ws = Workspace.find(campaign_dir)
        start = time.perf_counter()
        out = screen()
        bar, step = out.progress(_("Đang tạo tệp"), total=len(ws.units))
        with bar:
            result = run(ws, jobs=jobs, progress=step)
        took = time.perf_counter() - start
        lines = [_("Đã tạo {new} tệp mới, {same} tệp không đổi ({seconds} giây).").format(
            new=len(result.written), same=len(result.unchanged), seconds=f"{took:.1f}")]
        if result.backed_up:
            moved = result.backed_up[0].parent.parent if len(result.backed_up) > 1 else result.backed_up[0].parent
            lines.append(_("{n} tệp cũ khác nội dung đã được chuyển vào {folder}.").format(
                n=len(result.backed_up), folder=moved))
        lines += beside_lines(result.beside)
        lines += long_path_lines(ws, result.long_paths)
        lines += master_lines(result.master)
        lines += [_("Tệp gửi đơn vị: {folder}/ ({n} tệp)").format(folder=ws.outbox, n=len(ws.units)),
                  _("Tệp tổng hợp:   {path}").format(path=result.master.path)]
        out.print(*lines)

    @main.command(cls=Command, context_settings=CONTEXT, help=_(
        "Số liệu nghiệm thu: theo khối, tiêu chí, loại sản phẩm; tình trạng hạn nộp.\n"
        "\n"
        "Ví dụ:\n"
        "  tracker stats\n"
        "  tracker stats --format json --as-of 05/06/2026\n"
        "  tracker stats --format csv > so-lieu.csv"))
    @campaign_option()
    @click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
                  show_default=True, help=_("Dạng kết quả."))
    @as_of_option()
    def stats(campaign_dir, fmt, as_of):
        from tracker.cli.views import print_stats
        from tracker.stats import campaign_stats
        from tracker.store.workspace import Workspace

        ws = Workspace.find(campaign_dir)
        print_stats(campaign_stats(ws, as_of), ws.campaign, fmt)

    @main.command(cls=Command, context_settings=CONTEXT, help=_(
        "Ghép các tệp đơn vị gửi về (tệp, thư mục, thư .eml/.msg), kiểm tra từng tệp.\n"
        "\n"
        "Mã thoát: 0 mọi tệp được nhận hoặc đã ghép trước đó; 1 có tệp bị từ chối hay không đọc (liên kết,\n"
        "FIFO, thiết bị), hoặc có dòng nhập tay trên master.xlsx bị từ chối; 2 sai cách dùng.\n"
        "Ví dụ:\n"
        "  tracker merge inbox/\n"
        "  tracker merge thu-phuong-hoan-kiem.eml --received \"04/06/2026 15:00\""))
    @click.argument("paths", nargs=-1, type=click.Path(), metavar=_("[TỆP_HOẶC_THƯ_MỤC]..."))
    @campaign_option()
    @click.option("--received", callback=parse_when, metavar=_("NGÀY"),
                  help=_("Thời điểm nhận cho mọi tệp: ngày NN/TT/NNNN, hoặc ngày giờ NN/TT/NNNN GG:PP, hoặc ISO 8601 "
                         "(2026-06-04T15:00:00+07:00). Mặc định: thời điểm gửi của thư, nếu không thì thời điểm lưu "
                         "ghi trong tệp Excel, nếu không thì thời điểm sửa tệp."))
    def merge(paths, campaign_dir, received):
        from tracker.cli.merge import run_merge

        sys.exit(run_merge(campaign_dir, [Path(p) for p in paths], received))

    @main.command(cls=Command, context_settings=CONTEXT, help=_(
        "Kiểm tra thư mục chiến dịch (sổ ghi, kho lưu trữ, master, outbox) và chỉ cách khắc phục.\n"
        "\n"
        "Dùng sau sự cố ổ đĩa, đồng bộ thư mục hoặc sao chép. Mã thoát 0: không có lỗi; 1: có lỗi.\n"
        "Ví dụ:\n"
        "  tracker verify -C workbooks/hanoi-ttdt-2026"))
    @campaign_option()
    def verify(campaign_dir):
        from tracker.cli.screen import Line
        from tracker.store.workspace import Workspace
        from tracker.verify import verify as run

        rep = run(Workspace.find(campaign_dir))
        lines = [Line(("green", "✓"), " " + _("Đã kiểm tra {what}").format(what=line)) for line in rep.checked]
        for p in rep.problems:
            mark = ("red", _("✗ Lỗi:")) if p.severity == "error" else ("yellow", _("! Lưu ý:"))
            lines += [Line(mark, f" {p.statement()}"), "    " + _("Cách khắc phục: {how}").format(how=p.advice())]
        lines.append(_("Kết quả: không có lỗi.") if rep.ok else _("Kết quả: CÓ LỖI, xem hướng dẫn khắc phục ở trên."))
        screen().print(*lines)
        sys.exit(0 if rep.ok else 1)

    return main


def beside_lines(pairs: list) -> list:
    """Files held open in another program (Excel, Word, Outlook), whose new version went beside them."""
    from tracker.cli.screen import Line

    if not pairs:
        return []
    lines: list = [Line(("yellow", _("Chú ý:")), " " + _(
        "{n} tệp đang mở trong chương trình khác (Excel, Word, Outlook) nên chưa thay được; bản mới được ghi bên "
        "cạnh:").format(n=len(pairs)))]
    lines += [f"  {old} -> {new.name}" for old, new in pairs[:10]]
    if len(pairs) > 10:
        lines.append(f"  ... (+{len(pairs) - 10})")
    lines.append("  " + _("Đóng các tệp đó rồi chạy lại lệnh để thay bản cũ."))
    return lines


def long_path_lines(ws, paths: list[str]) -> list:
    """The forms Excel cannot open where they are: their full path is too long."""
    import os

    from tracker.cli.screen import Line
    from tracker.store.files import EXCEL_MAX_PATH

    if not paths:
        return []
    longest = max(paths, key=len)
    root = os.path.abspath(ws.root)
    example = f"C:\\ChienDich\\{ws.root.name}" if os.name == "nt" else os.path.join("~", "chien-dich", ws.root.name)
    return [Line(("yellow", _("Chú ý:")), " " + _(
        "đường dẫn đầy đủ của {n} tệp trong {folder} dài quá {limit} ký tự (dài nhất {length} ký tự): Excel không "
        "mở được các tệp này tại chỗ. Chuyển thư mục chiến dịch {root} tới nơi có đường dẫn ngắn hơn {short} ký tự "
        "(ví dụ {example}), tốt nhất là ngoài thư mục đồng bộ OneDrive, rồi chạy lại 'tracker generate'.").format(
            n=len(paths), folder=ws.outbox, limit=EXCEL_MAX_PATH, length=len(longest), root=root,
            short=EXCEL_MAX_PATH - (len(longest) - len(root)), example=example))]


def master_lines(res) -> list:
    """What a rebuild of master.xlsx has to say (hand edits recorded, problems, a locked file)."""
    from tracker.cli.screen import Line

    if res is None:
        return []
    lines: list = []
    if res.manual_units:
        lines.append(_("Đã ghi nhận nhập tay trên master.xlsx của {n} đơn vị: {units}.").format(
            n=len(res.manual_units), units=", ".join(res.manual_units)))
    lines += [Line(("yellow", _("Chú ý:")), f" {f.message}") for f in res.findings]
    if res.written_beside:
        lines.append(Line(("yellow", _("master.xlsx đang mở (bị khóa) nên bản mới được ghi thành {path}. Đóng Excel "
                                       "rồi chạy lại lệnh để cập nhật master.xlsx.").format(path=res.path))))
    return lines
