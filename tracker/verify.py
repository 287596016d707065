"""`verify`: check a campaign folder after a disk or sync problem, and say how to repair each fault.

Checks: the template and registry load; the ledger passes SQLite's integrity and foreign-key
checks; every archived return is present with the hash it was recorded under, and no archived
file is unknown to the ledger; the master is readable and shows what the ledger holds; the outbox
has one valid workbook per unit of the registry.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from tracker.model.errors import TrackerError
from tracker.store.files import sha256_file
from tracker.store.ledger import check_health
from tracker.store.workspace import Workspace


@dataclass
class Problem:
    severity: str      # "error" | "warning"
    what: str          # Vietnamese: what is wrong
    repair: str        # Vietnamese: what to do


@dataclass
class VerifyReport:
    checked: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def add(self, severity, what, repair):
        self.problems.append(Problem(severity, what, repair))


def verify(ws: Workspace) -> VerifyReport:
    rep = VerifyReport()
    try:
        _ = ws.campaign, ws.units
        rep.checked.append(f"mẫu chiến dịch và danh sách {len(ws.units)} đơn vị")
    except TrackerError as e:
        rep.add("error", str(e), "Sửa campaign.toml hoặc units.csv (bản cũ có trong backups/), rồi chạy lại.")
        return rep
    _check_ledger(ws, rep)
    _check_outbox(ws, rep)
    _check_master(ws, rep)
    return rep


def _check_ledger(ws: Workspace, rep: VerifyReport) -> None:
    if not ws.ledger_file.exists():
        rep.checked.append("sổ ghi (chưa có: chưa ghép tệp nào)")
        return
    try:
        health = check_health(ws.ledger_file)
    except sqlite3.DatabaseError as e:
        rep.add("error", f"Sổ ghi {ws.ledger_file.name} hỏng, không mở được ({e}).",
                "Khôi phục ledger.sqlite từ bản sao lưu gần nhất, rồi chạy 'tracker merge' lại trên các thư mục tệp "
                "đã nhận: tệp đã ghép sẽ được nhận ra, tệp còn thiếu được ghép bổ sung.")
        return
    rows = health.archived
    if health.integrity != ["ok"]:
        rep.add("error", f"Sổ ghi {ws.ledger_file.name} không toàn vẹn: {'; '.join(health.integrity[:5])}.",
                "Khôi phục ledger.sqlite từ bản sao lưu, rồi chạy 'tracker merge' lại trên các thư mục tệp đã nhận.")
    if health.broken_links:
        rep.add("error", f"Sổ ghi có {health.broken_links} liên kết hỏng giữa các bảng.",
                "Khôi phục ledger.sqlite từ bản sao lưu, rồi chạy lại 'tracker merge'.")
    rep.checked.append(f"sổ ghi ({sum(1 for r in rows if r[0] is not None)} lượt nhận tệp)")
    known = set()
    for rid, sha, name, archived in rows:
        known.add(sha)
        path = ws.root / archived
        if not path.exists():
            rep.add("error", f"Thiếu tệp lưu trữ của '{name}' ({archived}).",
                    f"Tìm lại tệp gốc '{name}' (thư hoặc thư mục nhận) và chép vào {archived}; hoặc khôi phục thư mục "
                    "archive/ từ bản sao lưu.")
        elif sha256_file(path) != sha:
            rep.add("error", f"Tệp lưu trữ {archived} (tệp '{name}') đã bị thay đổi: mã băm không còn khớp.",
                    f"Khôi phục {archived} từ bản sao lưu, hoặc chép lại tệp gốc '{name}' vào đó. Không sửa tệp trong "
                    "archive/.")
    if ws.archive.exists():
        for f in ws.archive.rglob("*"):
            if f.is_file() and not f.name.startswith(".") and f.name.split(".")[0] not in known:
                rep.add("warning", f"Tệp lưu trữ {f.relative_to(ws.root)} không có trong sổ ghi (lần ghép trước có thể "
                        "đã bị ngắt giữa chừng).", "Chạy lại 'tracker merge' trên thư mục tệp đã nhận để ghép nốt.")
    rep.checked.append("kho lưu trữ archive/")


def _check_outbox(ws: Workspace, rep: VerifyReport) -> None:
    from tracker.model import ident
    from tracker.intake.xlsx import XlsxBook
    from tracker.model.findings import IntakeError

    missing, bad = [], []
    for unit in ws.units:
        path = ws.outbox_path(unit)
        if not path.exists():
            missing.append(unit.name)
            continue
        try:
            with XlsxBook(path, path.name) as book:
                values = {}
                for name, key in ident.ID_FIELDS:
                    found = book.named_cell(name)
                    values[key] = found[2].value if found and found[2] else None
        except IntakeError:
            bad.append(path.name)
            continue
        if values["unit_id"] != unit.id or not ident.token_ok(ws.secret, ws.campaign.id, unit.id,
                                                              str(values["template_version"]), str(values["token"])):
            bad.append(path.name)
    if missing:
        rep.add("warning", f"Thiếu {len(missing)} tệp gửi đơn vị trong outbox/ (ví dụ: {', '.join(missing[:3])}).",
                "Chạy 'tracker generate' để tạo lại.")
    if bad:
        rep.add("error", f"{len(bad)} tệp trong outbox/ hỏng hoặc không khớp đơn vị/mã xác thực (ví dụ: "
                f"{', '.join(bad[:3])}).", "Chạy 'tracker generate': tệp sai được chuyển vào backups/ và tạo lại.")
    rep.checked.append(f"thư mục outbox/ ({len(ws.units) - len(missing)} tệp)")


def _check_master(ws: Workspace, rep: VerifyReport) -> None:
    import datetime as dt

    from tracker.master import workbook as master_form
    from tracker.store.ledger import Ledger
    from tracker.master.sync import read_master_rows
    from tracker.stats import compute

    if not ws.master_file.exists():
        rep.add("warning", "Chưa có master.xlsx.", "Chạy 'tracker merge' (không cần tệp) hoặc 'tracker generate'.")
        return
    rows, snapshots, findings = read_master_rows(ws.master_file, ws.campaign)
    for f in findings:
        rep.add("error", f.message, "Chạy 'tracker merge' (không cần tệp) để dựng lại master.xlsx từ sổ ghi.")
    if not snapshots:
        return
    history = {}
    if ws.ledger_file.exists():
        try:
            with Ledger(ws.ledger_file) as ledger:
                history = ledger.history()
        except TrackerError:
            return   # already reported by the ledger check

    stats = compute(ws.campaign, ws.units, history, dt.date.today())
    units = {u.unit_id: u for u in stats.unit_rows}
    stale = []
    for r in stats.rows:
        snap = snapshots.get(r.product_id)
        want = master_form.row_snapshot(r, units[r.unit_id].current, ws.campaign)
        if snap is None or {k: snap.get(k) for k in ("received_at", "answers")} != \
                {k: want[k] for k in ("received_at", "answers")}:
            stale.append(r.product_id)
    if stale:
        rep.add("warning", f"master.xlsx chưa cập nhật theo sổ ghi ở {len(stale)} dòng (ví dụ: {', '.join(stale[:3])}).",
                "Chạy 'tracker merge' (không cần tệp): sửa tay trên master (nếu có) được ghi nhận trước, rồi master "
                "được dựng lại.")
    rep.checked.append("master.xlsx")
