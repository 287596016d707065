"""The `tracker` command line: parse, call the library, render. No logic of its own.

Imports are lazy so that `tracker --help` and `tracker stats` start fast (issue 7): the commands
that live in their own modules are imported only when named (or when the full help is shown).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from tracker.model.errors import TrackerError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
campaign_option = click.option("-C", "--campaign", "campaign_dir", type=click.Path(file_okay=False),
                               help="Thư mục chiến dịch (mặc định: thư mục hiện tại nếu là chiến dịch, "
                                    "nếu không thì workbooks/hanoi-ttdt-2026).")


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _date(ctx, param, value):
    if value is None:
        return None
    from tracker.model.dates import parse_date

    try:
        return parse_date(value)
    except TrackerError as e:
        raise click.BadParameter(str(e)) from None


def command_name(args: list[str]) -> str | None:
    """The command `args` run (`stats` in `tracker --lang en stats -C x`), or None (root help, version...)."""
    skip = False
    for tok in args:
        if skip:
            skip = False
        elif tok == "--lang":
            skip = True
        elif tok in ("--", "-h", "--help"):
            return None   # root help lists every command
        elif not tok.startswith("-"):
            return tok
    return None


# Commands defined in their own modules: name -> (module, attribute).
LAZY_COMMANDS = {"mail": ("tracker.cli.mail", "mail"), "demo": ("tracker.cli.demo", "demo"),
                 "report": ("tracker.cli.report", "report"), "missing": ("tracker.cli.report", "missing")}


class Group(click.Group):
    def list_commands(self, ctx):
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx, name):
        if name not in self.commands and name in LAZY_COMMANDS:
            import importlib

            module, attr = LAZY_COMMANDS[name]
            cmd = getattr(importlib.import_module(module), attr, None)
            if cmd is not None:
                self.add_command(cmd, name)
        return self.commands.get(name)

    def main(self, args=None, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        name = command_name(argv)
        if not self._shows_help_texts(name, argv):
            return super().main(args, **extra)
        from tracker.cli import i18n   # help in the language asked for (--lang, TRACKER_LANG, LANG)

        with i18n.language(self, argv, only=name):
            return super().main(args, **extra)

    def _shows_help_texts(self, name, argv) -> bool:
        """Help texts are seen with -h/--help; argument placeholders also in the usage line of a usage
        error. A command without arguments, run without help, needs neither (nor tracker.cli.i18n)."""
        cmd = self.commands.get(name) if name else None
        if cmd is None or isinstance(cmd, click.Group) or any(isinstance(p, click.Argument) for p in cmd.params):
            return True
        return any(t == "--help" or (t.startswith("-") and not t.startswith("--") and "h" in t) for t in argv)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TrackerError as e:
            err = console(stderr=True)
            from rich.markup import escape

            err.print(f"[bold red]Lỗi:[/] {escape(str(e))}", markup=True)
            for line in e.details:
                err.print(f"  - {line}", markup=False)
            ctx.exit(e.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except OSError as e:
            console(stderr=True).print(f"Lỗi: không đọc/ghi được '{e.filename or ''}': {e.strerror}. "
                                       "Kiểm tra đường dẫn, quyền truy cập và dung lượng ổ đĩa rồi chạy lại.", markup=False)
            ctx.exit(1)
        except Exception as e:  # never a traceback for the user; TRACKER_DEBUG=1 shows it to developers
            import os

            if os.environ.get("TRACKER_DEBUG"):
                raise
            from rich.markup import escape

            console(stderr=True).print(f"[bold red]Lỗi không mong đợi:[/] {type(e).__name__}: {escape(str(e))}. Dữ liệu đã ghi "
                                       "trước đó vẫn an toàn. Chạy 'tracker verify' để kiểm tra; nếu lỗi lặp lại, chạy "
                                       "lại với biến môi trường TRACKER_DEBUG=1 và gửi kết quả cho nhóm phát triển.",
                                       markup=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            console(stderr=True).print("Đã dừng theo yêu cầu. Dữ liệu đã ghi trước đó vẫn an toàn; chạy lại lệnh "
                                       "để làm tiếp.")
            ctx.exit(130)


@click.group(cls=Group, context_settings=CONTEXT)
@click.version_option(package_name="tracker", message="tracker %(version)s")
@click.option("--lang", type=click.Choice(["vi", "en"]), expose_value=False, is_eager=True,
              help="Ngôn ngữ của phần hướng dẫn (--help): vi (mặc định) hoặc en; hoặc biến môi trường "
                   "TRACKER_LANG (hoặc LANG). Thông báo khi chạy lệnh luôn bằng tiếng Việt.")
def main():
    """tracker: chạy chiến dịch xác nhận bằng bảng tính, từ đầu đến cuối.

    \b
    Trình tự thường dùng:
      tracker init                  tạo thư mục chiến dịch (mặc định: Hà Nội 2026, 136 đơn vị)
      tracker generate              tạo 136 tệp gửi đơn vị (outbox/) và master.xlsx
      tracker mail draft            tạo thư (.eml) kèm tệp cho từng đơn vị
      tracker merge inbox/          ghép các tệp đơn vị gửi về, kiểm tra từng tệp
      tracker stats                 số liệu nghiệm thu theo khối, tiêu chí, sản phẩm
      tracker report                báo cáo nghiệm thu (.xlsx, .docx)
    Hướng dẫn sử dụng đầy đủ: docs/huong-dan.md.
    Ví dụ:
      tracker demo                  diễn tập trọn một đợt trên dữ liệu giả lập (workbooks/demo)
      tracker --lang en merge --help
    """


@main.command(context_settings=CONTEXT)
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--template", "template", metavar="TÊN|TỆP", help="Mẫu chiến dịch (tên có sẵn hoặc tệp .toml).")
@click.option("--units", "units", type=click.Path(dir_okay=False), help="Danh sách đơn vị (.csv).")
@click.option("--force", is_flag=True, help="Thay mẫu và danh sách của chiến dịch đã có (bản cũ lưu vào backups/).")
def init(directory, template, units, force):
    """Tạo thư mục chiến dịch từ mẫu và danh sách đơn vị.

    \b
    Ví dụ:
      tracker init                               chiến dịch Hà Nội 2026 có sẵn, 136 đơn vị
      tracker init chien-dich-2027 --template mau.toml --units donvi.csv
    """
    from tracker.model.campaign import template_path
    from tracker.store.workspace import DEFAULT_DIR, init_workspace

    root = Path(directory) if directory else DEFAULT_DIR
    ws = init_workspace(root, template_path(template), Path(units) if units else None, force)
    n_products = sum(len(u.products) for u in ws.units)
    out = console()
    out.print(f"Đã tạo chiến dịch [bold]{ws.campaign.id}[/] tại {root}: {len(ws.units)} đơn vị, "
              f"{n_products} sản phẩm, hạn nộp {ws.campaign.due:%d/%m/%Y}.")
    out.print(f"Khóa xác thực biểu mẫu: {ws.secret_file} (bản sao: {ws.secret_backup}). Hãy sao lưu tệp này: mất khóa thì tệp đơn vị gửi về không xác thực được (docs/huong-dan.md, mục 11).")
    out.print(f"Bước tiếp: điền email đơn vị vào {ws.registry_file} (nếu gửi thư), rồi chạy "
              f"'tracker generate -C {root}'.")


@main.command(context_settings=CONTEXT)
@campaign_option
@click.option("--jobs", type=int, default=None, help="Số tiến trình song song (mặc định: tự chọn).")
def generate(campaign_dir, jobs):
    """Tạo tệp Excel cho từng đơn vị (outbox/) và tệp tổng hợp master.xlsx.

    \b
    Ví dụ:
      tracker generate
      tracker generate -C workbooks/hanoi-ttdt-2026
    """
    import time

    from tracker.api import generate as run
    from tracker.store.workspace import Workspace

    ws = Workspace.find(campaign_dir)
    start = time.perf_counter()
    from rich.progress import Progress

    bar_console = console()
    with Progress(transient=True, console=bar_console, disable=not bar_console.is_terminal) as bar:
        task = bar.add_task("Đang tạo tệp", total=len(ws.units))
        result = run(ws, jobs=jobs, progress=lambda: bar.advance(task))
    took = time.perf_counter() - start
    out = console()
    out.print(f"Đã tạo {len(result.written)} tệp mới, {len(result.unchanged)} tệp không đổi "
              f"({took:.1f} giây).")
    if result.backed_up:
        out.print(f"{len(result.backed_up)} tệp cũ khác nội dung đã được chuyển vào "
                  f"{result.backed_up[0].parent.parent if len(result.backed_up) > 1 else result.backed_up[0].parent}.")
    _print_master(out, result.master)
    out.print(f"Tệp gửi đơn vị: {ws.outbox}/ ({len(ws.units)} tệp)")
    out.print(f"Tệp tổng hợp:   {result.master.path}")


def _print_master(out, res) -> None:
    if res is None:
        return
    if res.manual_units:
        out.print(f"Đã ghi nhận nhập tay trên master.xlsx của {len(res.manual_units)} đơn vị: "
                  f"{', '.join(res.manual_units)}.")
    for f in res.findings:
        out.print(f"[yellow]Chú ý:[/] {f.message}")
    if res.written_beside:
        out.print(f"[yellow]master.xlsx đang mở (bị khóa) nên bản mới được ghi thành {res.path}. "
                  "Đóng Excel rồi chạy lại lệnh để cập nhật master.xlsx.[/]")


@main.command(context_settings=CONTEXT)
@campaign_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="Dạng kết quả.")
@click.option("--as-of", "as_of", callback=_date, metavar="NGÀY", help="Tính đến ngày (NN/TT/NNNN), mặc định hôm nay.")
def stats(campaign_dir, fmt, as_of):
    """Số liệu nghiệm thu: theo khối, tiêu chí, loại sản phẩm; tình trạng hạn nộp.

    \b
    Ví dụ:
      tracker stats
      tracker stats --format json --as-of 05/06/2026
      tracker stats --format csv > so-lieu.csv
    """
    from tracker.cli.stats import run_stats

    run_stats(campaign_dir, fmt, as_of)


@main.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path())
@campaign_option
@click.option("--received", callback=_date, metavar="NGÀY",
              help="Ngày nhận cho mọi tệp (NN/TT/NNNN); mặc định: ngày của thư, nếu không thì ngày sửa tệp.")
def merge(paths, campaign_dir, received):
    """Ghép các tệp đơn vị gửi về (tệp, thư mục, thư .eml/.msg), kiểm tra từng tệp.

    \b
    Mã thoát: 0 mọi tệp được nhận hoặc đã ghép trước đó; 1 có tệp bị từ chối; 2 sai cách dùng.
    Ví dụ:
      tracker merge inbox/
      tracker merge thu-phuong-hoan-kiem.eml --received 04/06/2026
    """
    from tracker.cli.merge import run_merge

    sys.exit(run_merge(campaign_dir, [Path(p) for p in paths], received))


@main.command(context_settings=CONTEXT)
@campaign_option
def verify(campaign_dir):
    """Kiểm tra thư mục chiến dịch (sổ ghi, kho lưu trữ, master, outbox) và chỉ cách khắc phục.

    \b
    Dùng sau sự cố ổ đĩa, đồng bộ thư mục hoặc sao chép. Mã thoát 0: không có lỗi; 1: có lỗi.
    Ví dụ:
      tracker verify -C workbooks/hanoi-ttdt-2026
    """
    from tracker.verify import verify as run
    from tracker.store.workspace import Workspace

    rep = run(Workspace.find(campaign_dir))
    out = console()
    for line in rep.checked:
        out.print(f"[green]✓[/] Đã kiểm tra {line}")
    for p in rep.problems:
        mark = "[red]✗ Lỗi:[/]" if p.severity == "error" else "[yellow]! Lưu ý:[/]"
        from rich.markup import escape

        out.print(f"{mark} {escape(p.statement())}\n    Cách khắc phục: {escape(p.advice())}")
    out.print("Kết quả: " + ("không có lỗi." if rep.ok else "CÓ LỖI, xem hướng dẫn khắc phục ở trên."))
    sys.exit(0 if rep.ok else 1)


if __name__ == "__main__":  # pragma: no cover
    main()
