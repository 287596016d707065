"""The `tracker stats` screen, and its JSON and CSV. Imports stay inside the functions: `tracker
stats` should start fast (issue 7)."""
from __future__ import annotations

import sys

from tracker.cli import labels
from tracker.cli.screen import Line, Screen, Table
from tracker.model.language import _

UNIT_KEYS = ("total", "returned", "on_time", "late", "missing", "waiting")
PRODUCT_KEYS = ("total", "accepted", "not_accepted", "incomplete", "pending")


def print_stats(stats, campaign, fmt: str) -> None:
    if fmt == "json":
        import json

        sys.stdout.write(json.dumps(stats.to_json(), ensure_ascii=False, indent=2) + "\n")
        return
    if fmt == "csv":
        from tracker.cli.exports import emit, stats_csv

        emit(stats_csv(stats, campaign))
        return
    Screen().print(*stats_blocks(stats, campaign))


def stats_blocks(stats, campaign) -> list:
    """The `tracker stats` screen: lines and tables."""
    c, p = stats.campaign, stats.products
    blocks: list = [
        Line(("bold", c.title)),
        _("Hạn nộp: {due} · Số liệu tính đến: {as_of}").format(due=f"{c.due:%d/%m/%Y}", as_of=f"{c.as_of:%d/%m/%Y}"),
        Line(("bold", _("Khối lượng đủ điều kiện nghiệm thu: {accepted} / {total} sản phẩm").format(
            accepted=p.accepted, total=p.total))),
        _("Biên bản đã ký đã nhận: {signed} / {total} đơn vị ({digital} bản ký số, {scan} bản quét); "
          "{returned} đơn vị đã nộp bảng tính.").format(
            signed=stats.units.signed, total=stats.units.total, returned=stats.units.returned,
            digital=sum(1 for u in stats.unit_rows if u.signed_copy and u.signed_copy.kind == "digital"),
            scan=sum(1 for u in stats.unit_rows if u.signed_copy and u.signed_copy.kind == "scan"))]
    from tracker.model.campaign import signed_scan

    if signed_scan(campaign) == "required":
        from tracker.stats import lacking_signed_copy

        lacking = lacking_signed_copy(stats)
        blocks.append(Line(("yellow" if lacking else "green", _(
            "Mẫu chiến dịch bắt buộc biên bản đã ký: {n} sản phẩm đạt chưa có biên bản đã ký hợp lệ "
            "(xem 'tracker missing --signed', 'tracker report').").format(n=len(lacking)))))
    t = Table(_("Theo khối"))
    for h in (_("Khối"), _("Đơn vị"), _("Đã nộp"), labels.deadline("on_time"), labels.deadline("late"), _("Quá hạn"),
              labels.deadline("waiting"), _("Sản phẩm"), _("Đạt"), labels.status("not_accepted"),
              labels.status("incomplete"), labels.status("pending")):
        t.add_column(h, justify="right" if t.columns else "left")
    total = _("Tổng cộng")
    for name, u, pr, bold in [(g.name, g.units, g.products, False) for g in stats.groups] + \
            [(total, stats.units, stats.products, True)]:
        t.add_row(name, *(str(u[k]) for k in UNIT_KEYS), *(str(pr[k]) for k in PRODUCT_KEYS), bold=bold)
    blocks.append(t)
    products = campaign.section("products")
    kinds = {"site": products.get("site_kind", "Trang TTĐT"), "chuyen_trang": products.get("other_kind", "Chuyên trang")}
    t = Table(_("Theo loại sản phẩm"))
    for h in (_("Loại"), _("Tổng"), _("Đạt"), labels.status("not_accepted"), labels.status("incomplete"),
              labels.status("pending")):
        t.add_column(h, justify="right" if t.columns else "left")
    for k in stats.kinds:
        t.add_row(kinds.get(k.kind, k.kind), *(str(k.products[x]) for x in PRODUCT_KEYS))
    blocks.append(t)
    t = Table(_("Theo tiêu chí (đếm trên sản phẩm)"))
    for h in (_("Tiêu chí"), _("Đáp ứng"), _("Chưa đáp ứng"), _("Để trống"), labels.status("pending")):
        t.add_column(h, justify="right" if t.columns else "left")
    for i, cr in enumerate(stats.criteria, 1):
        t.add_row(f"TC{i}. {cr.name}", *(str(cr.counts[k]) for k in ("met", "not_met", "blank", "pending")))
    blocks.append(t)
    late = [u for u in stats.unit_rows if u.deadline_status == "late"]
    if late:
        t = Table(_("Đơn vị nộp muộn"))
        for h in (_("Đơn vị"), _("Ngày nhận"), _("Muộn (ngày)")):
            t.add_column(h)
        for u in late:
            t.add_row(u.unit_name, f"{u.received_at:%d/%m/%Y}", str(u.days_late))
        blocks.append(t)
    not_ok = [r for r in stats.rows if r.status in ("not_accepted", "incomplete")]
    if not_ok:
        t = Table(_("Sản phẩm chưa đạt"))
        for h in (_("Đơn vị"), _("Sản phẩm"), _("Kết quả"), _("Tiêu chí chưa đáp ứng / để trống")):
            t.add_column(h)
        names = {cr.id: f"TC{i}" for i, cr in enumerate(stats.criteria, 1)}
        blank = _("(trống)")
        for r in not_ok:
            bad = [names[c] + ("" if v == "not_met" else f" {blank}") for c, v in r.answers.items() if v != "met"]
            t.add_row(r.unit_name, r.product, labels.status(r.status), ", ".join(bad))
        blocks.append(t)
    waiting = stats.units.missing + stats.units.waiting
    if waiting:
        label = labels.deadline("missing" if stats.units.missing else "waiting")
        blocks.append(_("{n} đơn vị chưa nộp ({status}): xem 'tracker missing'.").format(n=waiting,
                                                                                       status=label.lower()))
    return blocks
