"""Rendering library results for the terminal (rich), in Vietnamese."""
from __future__ import annotations

import datetime as dt
import json
import sys

from tracker.stats import DEADLINE_VI, STATUS_VI, to_csv, to_json_doc


def esc(text: str) -> str:
    """Registry and unit text shown through rich is never read as markup."""
    from rich.markup import escape

    return escape(str(text))


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def print_stats(stats: dict, campaign, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(to_json_doc(stats), ensure_ascii=False, indent=2) + "\n")
        return
    if fmt == "csv":
        sys.stdout.write(to_csv(stats, campaign))
        return
    from rich.table import Table

    out = _console()
    c = stats["campaign"]
    as_of = dt.date.fromisoformat(c["as_of"])
    due = dt.date.fromisoformat(c["due"])
    out.print(f"[bold]{esc(c['title'])}[/]")
    out.print(f"Hạn nộp: {due:%d/%m/%Y} · Số liệu tính đến: {as_of:%d/%m/%Y}")
    p = stats["products"]
    out.print(f"[bold]Khối lượng đủ điều kiện nghiệm thu: {p['accepted']} / {p['total']} sản phẩm[/]")
    t = Table(title="Theo khối", title_justify="left")
    for h in ("Khối", "Đơn vị", "Đã nộp", "Đúng hạn", "Muộn", "Quá hạn", "Đang chờ",
              "Sản phẩm", "Đạt", "Không đạt", "Chưa đủ", "Chưa nhận"):
        t.add_column(h, justify="left" if h == "Khối" else "right")
    for g in stats["groups"] + [{"name": "Tổng cộng", "units": stats["units"], "products": stats["products"]}]:
        u, pr = g["units"], g["products"]
        t.add_row(esc(g["name"]), *(str(u[k]) for k in ("total", "returned", "on_time", "late", "missing", "waiting")),
                  *(str(pr[k]) for k in ("total", "accepted", "not_accepted", "incomplete", "pending")),
                  style="bold" if g["name"] == "Tổng cộng" else None)
    out.print(t)
    products = campaign.section("products")
    kinds = {"site": products.get("site_kind", "Trang TTĐT"),
             "chuyen_trang": products.get("other_kind", "Chuyên trang")}
    t = Table(title="Theo loại sản phẩm", title_justify="left")
    for h in ("Loại", "Tổng", "Đạt", "Không đạt", "Chưa đủ", "Chưa nhận"):
        t.add_column(h, justify="left" if h == "Loại" else "right")
    for k in stats["_kinds"]:
        t.add_row(kinds.get(k["kind"], k["kind"]),
                  *(str(k[x]) for x in ("total", "accepted", "not_accepted", "incomplete", "pending")))
    out.print(t)
    t = Table(title="Theo tiêu chí (đếm trên sản phẩm)", title_justify="left")
    for h in ("Tiêu chí", "Đáp ứng", "Chưa đáp ứng", "Để trống"):
        t.add_column(h, justify="left" if h == "Tiêu chí" else "right")
    for i, cr in enumerate(stats["criteria"], 1):
        t.add_row(esc(f"TC{i}. {cr['name']}"), str(cr["met"]), str(cr["not_met"]), str(cr["blank"]))
    out.print(t)
    late = [u for u in stats["_units"] if u["deadline_status"] == "late"]
    if late:
        t = Table(title="Đơn vị nộp muộn", title_justify="left")
        for h in ("Đơn vị", "Ngày nhận", "Muộn (ngày)"):
            t.add_column(h)
        for u in late:
            t.add_row(esc(u["unit_name"]), dt.date.fromisoformat(u["received_at"]).strftime("%d/%m/%Y"),
                      str(u["days_late"]))
        out.print(t)
    not_ok = [r for r in stats["rows"] if r["status"] in ("not_accepted", "incomplete")]
    if not_ok:
        t = Table(title="Sản phẩm chưa đạt", title_justify="left")
        for h in ("Đơn vị", "Sản phẩm", "Kết quả", "Tiêu chí chưa đáp ứng / để trống"):
            t.add_column(h)
        names = {cr["id"]: f"TC{i}" for i, cr in enumerate(stats["criteria"], 1)}
        for r in not_ok:
            bad = [names[c] + ("" if v == "not_met" else " (trống)") for c, v in r["answers"].items() if v != "met"]
            t.add_row(esc(r["unit_name"]), esc(r["product"]), STATUS_VI[r["status"]], ", ".join(bad))
        out.print(t)
    waiting = stats["units"]["missing"] + stats["units"]["waiting"]
    if waiting:
        label = DEADLINE_VI["missing"] if stats["units"]["missing"] else DEADLINE_VI["waiting"]
        out.print(f"{waiting} đơn vị chưa nộp ({label.lower()}): xem 'tracker missing'.")
