"""Keeping master.xlsx true to the ledger without ever losing a hand edit.

Before each rebuild, every product row of the master is compared with the snapshot of what that
row showed when it was written (kept in the master's hidden sheet). A row that differs was edited
by hand (a paper reply typed in): it becomes a manual submission in the ledger. Then the master is
rebuilt from the ledger atomically; the previous file is kept in backups/.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from tracker.model.campaign import Campaign, nfc
from tracker.model.dates import try_parse_date
from tracker.store.crash_points import checkpoint
from tracker.model.findings import Finding
from tracker.store.ledger import Ledger, Submission
from tracker.stats import compute
from tracker.store.files import sha256_file, write_user_file
from tracker.store.workspace import Workspace


@dataclass
class RebuildResult:
    path: Path
    manual_units: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    written_beside: bool = False
    backup: Path | None = None
    unchanged: bool = False


def _cell_date(value) -> dt.date | None | str:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    d = try_parse_date(str(value))
    return d if d else str(value)


def read_master_rows(path: Path, campaign: Campaign) -> tuple[dict, dict, list[Finding]]:
    """(rows by product id, snapshots by product id, findings) from a master workbook."""
    import openpyxl

    findings: list[Finding] = []
    name = path.name
    try:
        # data_only=False: a formula typed into an input cell is kept as its text, never lost, never live
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as e:  # a damaged master must not stop a merge: it is rebuilt from the ledger
        findings.append(Finding("master_unreadable", file=name, value=type(e).__name__))
        return {}, {}, findings
    try:
        if _form().ID_SHEET not in wb.sheetnames:
            findings.append(Finding("master_no_snapshot", file=name))
            return {}, {}, findings
        ident = {r[0]: r[1] for r in wb[_form().ID_SHEET].iter_rows(values_only=True, max_col=2) if r and r[0]}
        if ident.get("campaign_id") != campaign.id:
            findings.append(Finding("master_other_campaign", file=name, value=ident.get("campaign_id") or "",
                                    expected=campaign.id))
            return {}, {}, findings
        snapshots = {}
        for k, v in ident.items():
            if isinstance(k, str) and "/" in k and isinstance(v, str):
                try:
                    snapshots[k] = json.loads(v)
                except ValueError:
                    pass
        rows = {}
        crit_ids = [c.id for c in campaign.criteria]
        for ws in wb.worksheets:
            if ws.title in (_form().ID_SHEET, _form().SUMMARY_SHEET, _form().LOG_SHEET):
                continue
            header_at, cols = None, {}
            for ri, row in enumerate(ws.iter_rows(values_only=True, max_row=12), 1):
                if row and _form().PRODUCT_ID_HEADER in row:
                    header_at = ri
                    for ci, h in enumerate(row):
                        if isinstance(h, str):
                            cols[h.split(".")[0].strip() if h.startswith("TC") else h] = ci
                    break
            if header_at is None:
                continue
            pid_col = cols[_form().PRODUCT_ID_HEADER]
            for ri, row in enumerate(ws.iter_rows(values_only=True, min_row=header_at + 1), header_at + 1):
                if pid_col >= len(row) or not row[pid_col]:
                    continue
                get = lambda h: row[cols[h]] if h in cols and cols[h] < len(row) else None  # noqa: E731
                rows[str(row[pid_col])] = {
                    "sheet": ws.title, "row": ri,
                    "received_at": _cell_date(get("Ngày nhận")),
                    "answers": {c: get(f"TC{i}") for i, c in enumerate(crit_ids, 1)},
                    "answer_cols": {c: cols.get(f"TC{i}") for i, c in enumerate(crit_ids, 1)},
                    "notes": nfc(str(get("Ghi chú") or "")).strip(),
                    "proposals": nfc(str(get("Đề xuất, kiến nghị") or "")).strip(),
                    "signer": nfc(str(get("Người ký") or "")).strip(),
                }
        return rows, snapshots, findings
    finally:
        wb.close()


def absorb_manual_entries(ws: Workspace, ledger: Ledger) -> tuple[list[str], list[Finding]]:
    """Record every hand edit of the master as a manual submission. Returns (unit ids, findings)."""
    path = ws.master_file
    if not path.exists() or _untouched(ws, ledger):
        return [], []
    from openpyxl.utils import get_column_letter

    campaign = ws.campaign
    rows, snapshots, findings = read_master_rows(path, campaign)
    if not rows or not snapshots:
        return [], findings
    met, not_met = campaign.answers
    to_key = {nfc(met).casefold(): "met", nfc(not_met).casefold(): "not_met", "": "blank"}
    today = dt.date.today()
    recorded = []
    history = ledger.history()
    for unit in ws.units:
        edited = False
        unit_rows = {}
        for p in unit.products:
            row, snap = rows.get(p.id), snapshots.get(p.id)
            if row is None or snap is None:
                continue
            unit_rows[p.id] = row
            shown = {"received_at": (row["received_at"].isoformat() if isinstance(row["received_at"], dt.date)
                                     else row["received_at"]),
                     "answers": {c: to_key.get(nfc(str(v or "")).strip().casefold(), v)
                                 for c, v in row["answers"].items()},
                     "notes": row["notes"], "proposals": row["proposals"], "signer": row["signer"]}
            if shown != {k: snap.get(k) for k in shown}:
                edited = True
        if not edited:
            continue
        problems = []
        sub = Submission(unit_id=unit.id, received_at=today, source="manual")
        first_date = None
        for p in unit.products:
            row = unit_rows.get(p.id)
            if row is None:
                continue
            for c, v in row["answers"].items():
                key = to_key.get(nfc(str(v or "")).strip().casefold())
                if key is None:
                    cell = f"{get_column_letter(row['answer_cols'][c] + 1)}{row['row']}"
                    problems.append(Finding("master_bad_answer", file=path.name, sheet=row["sheet"], cell=cell,
                                            value=str(v), expected=f"{met}; {not_met}", met=met, not_met=not_met,
                                            unit=unit.name))
                sub.answers[(p.id, c)] = key or "blank"
            if isinstance(row["received_at"], str):
                problems.append(Finding("master_bad_date", file=path.name, sheet=row["sheet"],
                                        value=row["received_at"], row=row["row"], unit=unit.name))
            elif row["received_at"] and first_date is None:
                first_date = row["received_at"]
            sub.note = sub.note or row["notes"]
            sub.proposals = sub.proposals or row["proposals"]
            sub.signer = sub.signer or row["signer"]
        if problems:
            findings.extend(problems)
            continue
        current = ledger.current(unit.id)
        if current is not None and current.answers == sub.answers and not _text_changed(current, sub, campaign):
            first = min(s.received_at for s in history.get(unit.id, [current]))
            if first_date in (None, first):
                continue
        sub.received_at = first_date or today
        if current is not None and sub.note == _form().notes_text(current, campaign):
            sub.note, sub.notes = current.note, dict(current.notes)
        with ledger.transaction() as db:
            ledger.add_submission(db, sub)
            ledger.event(db, "manual_entry", unit_id=unit.id, source=path.name)
        checkpoint("master.manual_recorded")
        recorded.append(unit.id)
    return recorded, findings


def _text_changed(current: Submission, sub: Submission, campaign: Campaign) -> bool:
    return (sub.note != _form().notes_text(current, campaign) or sub.proposals != current.proposals
            or sub.signer != current.signer)


def _untouched(ws: Workspace, ledger: Ledger) -> bool:
    """The master on disk is byte for byte the one we last wrote: no hand edit is possible."""
    rec = ledger.master_record()
    return bool(rec) and ws.master_file.exists() and sha256_file(ws.master_file) == rec.get("sha256")


def _form():
    """The master's layout (imported when needed: an unchanged re-merge never builds one)."""
    from tracker.master import workbook as master

    return master


def write_master(ws: Workspace, ledger: Ledger, as_of: dt.date | None = None, *, force: bool = True) -> RebuildResult:
    """Rebuild master.xlsx from the ledger, atomically, keeping the previous file in backups/.

    With force=False nothing is written when the master on disk is the one we last wrote and the
    ledger has not changed since (re-merging an unchanged inbox stays cheap)."""
    day = as_of or dt.date.today()
    state = ledger.master_state(day)
    if not force and ledger.master_record().get("state") == state and _untouched(ws, ledger):
        return RebuildResult(ws.master_file, unchanged=True)
    campaign, units = ws.campaign, ws.units

    by_group: dict[str, list] = {}
    for u in units:
        by_group.setdefault(u.group, []).append(u)

    def group_stats(group_id):      # a group at a time: the whole history is never in memory
        members = by_group.get(group_id, [])
        ids = [u.id for u in members]
        return compute(campaign, members, ledger.history(unit_ids=ids), day), ledger.source_names(ids)
    data = _form().build_master(campaign, units, group_stats, ledger.distinct_returns())
    result = RebuildResult(ws.master_file)
    if ws.master_file.exists():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        ws.backups.mkdir(parents=True, exist_ok=True)
        result.backup = ws.backups / f"master-{stamp}.xlsx"
        try:
            os.link(ws.master_file, result.backup)
        except OSError:
            import shutil

            shutil.copy2(ws.master_file, result.backup)
    checkpoint("master.before_replace")
    # Excel on Windows holds the file open: written beside it rather than lose the rebuild.
    result.path = write_user_file(ws.master_file, data)
    result.written_beside = result.path != ws.master_file
    import hashlib

    ledger.set_master_record(state, hashlib.sha256(data).hexdigest())
    return result


def rebuild(ws: Workspace, ledger: Ledger) -> RebuildResult:
    manual, findings = absorb_manual_entries(ws, ledger)
    result = write_master(ws, ledger)
    result.manual_units, result.findings = manual, findings
    return result
