"""`verify`: check a campaign folder after a disk or sync problem, and say how to repair each fault.

Each fault is a Finding (codes verify_*): its statement says what is wrong, its advice how to repair.

Checks: the template and registry load; the ledger passes SQLite's integrity and foreign-key
checks (read-only: a ledger busy or out of reach is said to be so, never damaged); every archived return is present with the hash it was recorded under, and no archived
file is unknown to the ledger; the master is readable and shows what the ledger holds; the outbox
has one valid workbook per unit of the registry.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from tracker.model.errors import TrackerError
from tracker.model.findings import Finding
from tracker.store.files import is_owner_file, sha256_file
from tracker.store.ledger import check_health, failure_kind
from tracker.store.workspace import KeyMissing, Workspace

# What the master reader says, as verify says it (an error here: the master must be rebuilt).
_MASTER = {"master_unreadable": "verify_master_unreadable", "master_no_snapshot": "verify_master_no_snapshot",
           "master_other_campaign": "verify_master_other_campaign"}


@dataclass
class VerifyReport:
    checked: list[str] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def add(self, code: str, **fields):
        self.problems.append(Finding(code, **fields))


def verify(ws: Workspace) -> VerifyReport:
    rep = VerifyReport()
    try:
        _ = ws.campaign, ws.units
        rep.checked.append(f"mẫu chiến dịch và danh sách {len(ws.units)} đơn vị")
    except TrackerError as e:
        # The campaign's or the registry's own message, with the lines it lists (the registry's findings).
        rep.add("verify_setup", problem=" ".join([str(e), *e.details]))
        return rep
    _check_ledger(ws, rep)
    _check_outbox(ws, rep)
    _check_master(ws, rep)
    _check_leftovers(ws, rep)
    return rep


def _check_leftovers(ws: Workspace, rep: VerifyReport) -> None:
    """Temporary files a killed command left (their process is gone): the next run of that command
    removes them; verify only says where they are."""
    from tracker.store.files import leftover_temps

    found = leftover_temps(ws.root)
    if found:
        rep.add("verify_leftover_temp", count=len(found),
                examples=", ".join(str(p.relative_to(ws.root)) for p in found[:3]))
    rep.checked.append("tệp tạm")


def _check_ledger(ws: Workspace, rep: VerifyReport) -> None:
    if not ws.ledger_file.exists():
        rep.checked.append("sổ ghi (chưa có: chưa ghép tệp nào)")
        return
    try:
        health = check_health(ws.ledger_file)
    except (sqlite3.Error, OSError) as e:
        # Only damage advises a restore: a healthy ledger that is busy or cannot be opened here is not damaged.
        kind = failure_kind(e)
        if kind == "busy":
            from tracker.store.locks import holders

            rep.add("verify_ledger_busy", file=ws.ledger_file.name,
                    holder="; ".join(holders(ws.state)) or "")
        elif kind in ("access", "readonly", "io"):
            rep.add("verify_ledger_no_access", file=ws.ledger_file.name, value=str(e))
        else:
            rep.add("verify_ledger_unreadable", file=ws.ledger_file.name, value=str(e))
        return
    rows = health.archived
    if health.integrity != ["ok"]:
        rep.add("verify_ledger_integrity", file=ws.ledger_file.name, value="; ".join(health.integrity[:5]))
    if health.broken_links:
        rep.add("verify_ledger_links", file=ws.ledger_file.name, value=str(health.broken_links))
    rep.checked.append(f"sổ ghi ({sum(1 for r in rows if r[0] is not None)} lượt nhận tệp)")
    known = set()
    for rid, sha, name, archived in rows:
        known.add(sha)
        path = ws.root / archived
        if not path.exists():
            rep.add("verify_archive_missing", file=archived, name=name)
        elif sha256_file(path) != sha:
            rep.add("verify_archive_changed", file=archived, expected=sha, name=name)
    if ws.archive.exists():
        for f in ws.archive.rglob("*"):
            # Excel's ~$ owner file: someone has an archived copy open, not a file of the archive
            if f.is_file() and not f.name.startswith(".") and not is_owner_file(f.name) and \
                    f.name.split(".")[0] not in known:
                rep.add("verify_archive_unknown", file=str(f.relative_to(ws.root)))
    rep.checked.append("kho lưu trữ archive/")


def _check_outbox(ws: Workspace, rep: VerifyReport) -> None:
    from tracker.model import ident
    from tracker.intake.xlsx import XlsxBook
    from tracker.model.findings import IntakeError

    unread = object()
    secret = unread         # read at the first form: verify never makes a key (nor writes anything)
    missing, bad = [], []
    for unit in ws.units:
        path = ws.outbox_path(unit)
        if not path.exists():
            missing.append(unit.name)
            continue
        if secret is unread:
            try:
                secret = ws.secret
            except KeyMissing:
                # Never a new key: the forms are checked against the one they were made with, once restored.
                rep.add("verify_key_missing", file=str(ws.secret_file.relative_to(ws.root)),
                        backup=str(ws.secret_backup.relative_to(ws.root)) if ws.secret_backup.is_file() else "")
                secret = None
        try:
            with XlsxBook(path, path.name) as book:
                values = {}
                for name, key in ident.ID_FIELDS:
                    found = book.named_cell(name)
                    values[key] = found[2].value if found and found[2] else None
        except IntakeError:
            bad.append(path.name)
            continue
        if values["unit_id"] != unit.id or secret is not None and not ident.token_ok(
                secret, ws.campaign.id, unit.id, str(values["template_version"]), str(values["token"])):
            bad.append(path.name)
    if missing:
        rep.add("verify_outbox_missing", count=len(missing), examples=", ".join(missing[:3]))
    if bad:
        rep.add("verify_outbox_bad", count=len(bad), examples=", ".join(bad[:3]))
    rep.checked.append(f"thư mục outbox/ ({len(ws.units) - len(missing)} tệp)")


def _check_master(ws: Workspace, rep: VerifyReport) -> None:
    import datetime as dt

    from tracker.master import workbook as master_form
    from tracker.store.ledger import Ledger
    from tracker.master.sync import read_master_rows
    from tracker.stats import compute

    if not ws.master_file.exists():
        rep.add("verify_no_master")
        return
    rows, snapshots, findings = read_master_rows(ws.master_file, ws.campaign)
    rep.problems += [f.with_code(_MASTER[f.code]) for f in findings]
    if not snapshots:
        return
    history = {}
    if ws.ledger_file.exists():
        try:
            with Ledger.reader(ws.ledger_file) as ledger:
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
        rep.add("verify_master_stale", count=len(stale), examples=", ".join(stale[:3]))
    rep.checked.append("master.xlsx")
