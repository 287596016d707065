"""`tracker signed ...`: the signed copies of the biên bản, and staff's word on those that need it.
A thin layer over tracker.api (signed_copies, decide_copy, recheck_signed)."""
import click

from tracker.cli.app import CONTEXT, Command, Group, campaign_option, screen
from tracker.cli.screen import Line
from tracker.model.language import N_, _

COPY_STATUS = {"attached": N_("đã ghép"), "pending": N_("chờ xác nhận"), "flagged": N_("gắn cờ, chưa ghép"),
               "rejected": N_("cán bộ đã loại")}
COPY_KIND = {"digital": N_("bản ký số"), "scan": N_("bản quét")}
VALID = {True: N_("chữ ký hợp lệ"), False: N_("chữ ký chưa xác thực được")}     # a scan: none


def copy_line(c, units) -> str:
    unit = units.get(c.unit_id)
    who = f"{unit.name} ({unit.id})" if unit else (c.unit_id or _("chưa rõ đơn vị"))
    when = c.when.strftime("%d/%m/%Y %H:%M") if c.when else ""
    parts = [_(COPY_KIND[c.kind]), _(VALID[c.valid]) if c.valid is not None else "", c.signer or ""]
    return f"{c.name} → {who} · {when} · " + ", ".join(p for p in parts if p)


def signed_command() -> click.Group:
    @click.group("signed", cls=Group, context_settings=CONTEXT, help=_(
        "Biên bản đã ký (tệp PDF ký số, bản quét, ảnh chụp) đã ghép: xem, xác nhận, loại.\n"
        "\n"
        "Bản ký nhận ra đơn vị theo mã QR hoặc chữ ký số hợp lệ được ghép ngay; bản chỉ nhận ra theo\n"
        "tên tệp hay địa chỉ gửi thì chờ cán bộ xác nhận; bản không nhận ra đơn vị, hoặc gửi kèm bảng\n"
        "tính của đơn vị khác, bị gắn cờ.\n"
        "Ví dụ:\n"
        "  tracker signed list\n"
        "  tracker signed confirm 12\n"
        "  tracker signed confirm bien-ban.pdf --unit xp-00004\n"
        "  tracker signed reject 13 --note \"biên bản của đợt trước\"\n"
        "  tracker signed check"))
    def signed():
        pass

    @signed.command("list", cls=Command, context_settings=CONTEXT, help=_(
        "Các bản ký chờ xác nhận hoặc bị gắn cờ (với --all: mọi bản ký).\n"
        "\n"
        "Ví dụ:\n"
        "  tracker signed list\n"
        "  tracker signed list --all"))
    @campaign_option()
    @click.option("--all", "show_all", is_flag=True, help=_("Liệt kê mọi bản ký, cả bản đã ghép và đã loại."))
    def list_(campaign_dir, show_all):
        from tracker.api import signed_copies
        from tracker.cli.screen import Table
        from tracker.model.findings import Finding
        from tracker.store.workspace import Workspace

        ws = Workspace.find(campaign_dir)
        copies = signed_copies(ws, None if show_all else ("pending", "flagged"))
        if not copies:
            screen().print(_("Không có bản ký nào chờ xác nhận hay bị gắn cờ.") if not show_all else
                           _("Chưa có bản ký nào được ghép."))
            return
        t = Table(_("Biên bản đã ký") if show_all else _("Bản ký chờ xác nhận hoặc bị gắn cờ"))
        for h in (_("Số"), _("Tình trạng"), _("Tệp, đơn vị, thời điểm nhận"), _("Lý do")):
            t.add_column(h, justify="right" if not t.columns else "left")
        units = ws.unit_by_id
        for c in copies:
            why = [Finding.from_record(f) for f in c.findings]
            reason = "; ".join(f.statement() for f in why if f.severity in ("error", "warning"))
            t.add_row(str(c.id), _(COPY_STATUS[c.status]), copy_line(c, units), reason)
        screen().print(t, _("Xác nhận: 'tracker signed confirm SỐ' (thêm --unit MÃ nếu sai hoặc chưa rõ đơn vị); "
                            "loại: 'tracker signed reject SỐ'."))

    @signed.command("confirm", cls=Command, context_settings=CONTEXT, help=_(
        "Xác nhận một bản ký là biên bản của đơn vị (của đơn vị đã nhận ra, hoặc của --unit).\n"
        "\n"
        "Ví dụ:\n"
        "  tracker signed confirm 12\n"
        "  tracker signed confirm bien-ban.pdf --unit xp-00004"))
    @click.argument("ref", metavar=_("SỐ_HOẶC_TÊN_TỆP"))
    @click.option("--unit", "unit_id", metavar=_("MÃ"), help=_("Mã đơn vị của bản ký, ví dụ xp-00004."))
    @click.option("--note", default="", metavar=_("GHI_CHÚ"), help=_("Ghi chú của cán bộ (lưu trong sổ ghi)."))
    @campaign_option()
    def confirm(ref, unit_id, note, campaign_dir):
        from tracker.api import decide_copy
        from tracker.store.workspace import Workspace

        ws = Workspace.find(campaign_dir)
        c = decide_copy(ws, ref, unit_id=unit_id, note=note)
        screen().print(Line(("green", _("Đã ghép:")), " " + copy_line(c, ws.unit_by_id)))

    @signed.command("reject", cls=Command, context_settings=CONTEXT, help=_(
        "Loại một bản ký (không tính cho đơn vị nào; tệp vẫn được lưu trong archive/).\n"
        "\n"
        "Ví dụ:\n"
        "  tracker signed reject 13 --note \"biên bản của đợt trước\""))
    @click.argument("ref", metavar=_("SỐ_HOẶC_TÊN_TỆP"))
    @click.option("--note", default="", metavar=_("GHI_CHÚ"), help=_("Lý do loại (lưu trong sổ ghi)."))
    @campaign_option()
    def reject(ref, note, campaign_dir):
        from tracker.api import decide_copy
        from tracker.store.workspace import Workspace

        ws = Workspace.find(campaign_dir)
        c = decide_copy(ws, ref, reject=True, note=note)
        screen().print(Line(("yellow", _("Đã loại:")), " " + copy_line(c, ws.unit_by_id)))

    @signed.command("check", cls=Command, context_settings=CONTEXT, help=_(
        "Kiểm tra lại chữ ký số của các bản ký chưa xác thực được, theo chứng thư gốc hiện có trong trust/.\n"
        "\n"
        "'tracker merge' cũng tự làm việc này mỗi khi thư mục trust/ thay đổi.\n"
        "Ví dụ:\n"
        "  tracker signed check"))
    @campaign_option()
    def check(campaign_dir):
        from tracker.api import recheck_signed
        from tracker.store.workspace import Workspace

        ws = Workspace.find(campaign_dir)
        changed, notices = recheck_signed(ws)
        lines: list = [Line(("yellow", _("Lưu ý:")), f" {n.message}") for n in notices]
        lines += [Line(("green", "✓"), " " + copy_line(after, ws.unit_by_id)) for _before, after in changed]
        lines.append(_("Đã kiểm tra lại; {n} bản ký thay đổi kết quả.").format(n=len(changed)))
        screen().print(*lines)

    return signed
