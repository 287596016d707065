"""Rendering library results for people, in Vietnamese: rich on a terminal, plain text elsewhere.

Imports stay inside the functions: `tracker stats` should start fast (issue 7).
"""
from __future__ import annotations

import sys


def esc(text: str) -> str:
    """Registry and unit text shown through rich is never read as markup."""
    from rich.markup import escape

    return escape(str(text))


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def print_stats(stats: dict, campaign, fmt: str) -> None:
    if fmt == "json":
        import json

        sys.stdout.write(json.dumps(stats.to_json(), ensure_ascii=False, indent=2) + "\n")
        return
    if fmt == "csv":
        from tracker.cli.exports import stats_csv

        sys.stdout.write(stats_csv(stats, campaign))
        return
    print_blocks(stats_blocks(stats, campaign))


def print_blocks(blocks: list) -> None:
    """Lines and tables on stdout: through rich on a terminal; as the same text, without rich, elsewhere."""
    from tracker.cli import plain

    if plain.plain_stream(sys.stdout):
        text = plain.render(blocks, plain.console_width())
        if text is not None:
            sys.stdout.write(text)
            return
    from rich.table import Table

    out = _console()
    for b in blocks:
        if isinstance(b, plain.Line):
            out.print(f"[bold]{esc(b.text)}[/]" if b.bold else esc(b.text))
            continue
        t = Table(title=esc(b.title), title_justify="left")
        for header, justify in b.columns:
            t.add_column(esc(header), justify=justify)
        for cells, bold in b.rows:
            t.add_row(*(esc(c) for c in cells), style="bold" if bold else None)
        out.print(t)


def stats_blocks(stats: dict, campaign) -> list:
    """The `tracker stats` screen: lines and tables of plain text (no markup)."""
    from tracker.cli.plain import Line, Table
    from tracker.outbound.wording import DEADLINE as DEADLINE_VI, STATUS as STATUS_VI

    c = stats.campaign
    p = stats.products
    blocks: list = [Line(c.title, bold=True),
                    Line(f"Hạn nộp: {c.due:%d/%m/%Y} · Số liệu tính đến: {c.as_of:%d/%m/%Y}"),
                    Line(f"Khối lượng đủ điều kiện nghiệm thu: {p.accepted} / {p.total} sản phẩm", bold=True)]
    t = Table("Theo khối")
    for h in ("Khối", "Đơn vị", "Đã nộp", "Đúng hạn", "Muộn", "Quá hạn", "Đang chờ",
              "Sản phẩm", "Đạt", "Không đạt", "Chưa đủ", "Chưa nhận"):
        t.add_column(h, justify="left" if h == "Khối" else "right")
    for name, u, pr in [(g.name, g.units, g.products) for g in stats.groups] + \
            [("Tổng cộng", stats.units, stats.products)]:
        t.add_row(name, *(str(u[k]) for k in ("total", "returned", "on_time", "late", "missing", "waiting")),
                  *(str(pr[k]) for k in ("total", "accepted", "not_accepted", "incomplete", "pending")),
                  bold=name == "Tổng cộng")
    blocks.append(t)
    products = campaign.section("products")
    kinds = {"site": products.get("site_kind", "Trang TTĐT"),
             "chuyen_trang": products.get("other_kind", "Chuyên trang")}
    t = Table("Theo loại sản phẩm")
    for h in ("Loại", "Tổng", "Đạt", "Không đạt", "Chưa đủ", "Chưa nhận"):
        t.add_column(h, justify="left" if h == "Loại" else "right")
    for k in stats.kinds:
        t.add_row(kinds.get(k.kind, k.kind),
                  *(str(k.products[x]) for x in ("total", "accepted", "not_accepted", "incomplete", "pending")))
    blocks.append(t)
    t = Table("Theo tiêu chí (đếm trên sản phẩm)")
    for h in ("Tiêu chí", "Đáp ứng", "Chưa đáp ứng", "Để trống"):
        t.add_column(h, justify="left" if h == "Tiêu chí" else "right")
    for i, cr in enumerate(stats.criteria, 1):
        t.add_row(f"TC{i}. {cr.name}", str(cr.counts.met), str(cr.counts.not_met), str(cr.counts.blank))
    blocks.append(t)
    late = [u for u in stats.unit_rows if u.deadline_status == "late"]
    if late:
        t = Table("Đơn vị nộp muộn")
        for h in ("Đơn vị", "Ngày nhận", "Muộn (ngày)"):
            t.add_column(h)
        for u in late:
            t.add_row(u.unit_name, u.received_at.strftime("%d/%m/%Y"), str(u.days_late))
        blocks.append(t)
    not_ok = [r for r in stats.rows if r.status in ("not_accepted", "incomplete")]
    if not_ok:
        t = Table("Sản phẩm chưa đạt")
        for h in ("Đơn vị", "Sản phẩm", "Kết quả", "Tiêu chí chưa đáp ứng / để trống"):
            t.add_column(h)
        names = {cr.id: f"TC{i}" for i, cr in enumerate(stats.criteria, 1)}
        for r in not_ok:
            bad = [names[c] + ("" if v == "not_met" else " (trống)") for c, v in r.answers.items() if v != "met"]
            t.add_row(r.unit_name, r.product, STATUS_VI[r.status], ", ".join(bad))
        blocks.append(t)
    waiting = stats.units.missing + stats.units.waiting
    if waiting:
        label = DEADLINE_VI["missing"] if stats.units.missing else DEADLINE_VI["waiting"]
        blocks.append(Line(f"{waiting} đơn vị chưa nộp ({label.lower()}): xem 'tracker missing'."))
    return blocks
