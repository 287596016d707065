"""Keeping master.xlsx true to the ledger without ever losing a hand edit.

Before each rebuild, every product row of the master is compared with the snapshot of what that
row showed when it was written (kept in the master's hidden sheet). A row that differs was edited
by hand (a paper reply typed in): it becomes a manual submission in the ledger, received when the
workbook holding it was saved (its modification time), so that it is ordered by time among the
unit's versions like any file. Then the master is rebuilt from the ledger atomically; the
previous file is kept in backups/.

A hand entry that cannot be recorded (a value that is no answer, a date that is no date) is never
wiped by the rebuild: its rows are written back as they were typed, the refused cells filled red
with a note saying why, until the staff fix them (merge exits 1 meanwhile). A master written
beside a master.xlsx that Excel held open (`master-<time>.xlsx`) is read back too, oldest first,
and moved into backups/ once what it held is recorded or kept in master.xlsx.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from tracker.model.campaign import Campaign, nfc
from tracker.model.dates import VN_TZ, show_time, try_parse_date
from tracker.store.crash_points import checkpoint
from tracker.model.findings import Finding
from tracker.model.text import cell_text, excel_unescape
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


@dataclass
class KeptRow:
    """A product row whose hand entry was refused, as typed: written back into the rebuilt master."""
    values: dict            # master header -> the value as typed (a date, a text, a number, None)
    bad: dict               # master header -> why that cell was refused (the note on it)
    source: str             # the file it was typed in


@dataclass
class Absorbed:
    """What the hand edits of the master(s) became; unpacks as (unit ids, findings) as before."""
    units: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    kept: dict[str, KeptRow] = field(default_factory=dict)      # product id -> its row as typed
    beside_read: list[Path] = field(default_factory=list)       # masters written beside, fully read

    def __iter__(self):
        return iter((self.units, self.findings))


BESIDE = re.compile(r"^master-\d{8}-\d{6}(?:-\d+)?\.xlsx$")


def _cell_date(value) -> dt.date | None | str:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    d = try_parse_date(str(value))
    return d if d else str(value)


def _value(value):
    """A cell's value as Excel shows it: openpyxl leaves text's _xHHHH_ escapes (a control
    character as _x0007_, a literal "_x0041_" as _x005F_x0041_) as written in the file."""
    return excel_unescape(value) if isinstance(value, str) else value


def _as_written(wb, path: Path) -> None:
    """Give openpyxl's read-only sheets the shared strings as the file writes them. openpyxl drops
    every "x005F_" of a shared string (and only there: not of an inline string), which turns an
    escaped literal "_x005F_x0041_" into the escape "_x0041_" and a typed "x005F_" into nothing;
    read as written, _value decodes both kinds of string alike. Excel and LibreOffice save the
    master with shared strings."""
    from defusedxml.ElementTree import fromstring

    tables = {id(s._shared_strings): s._shared_strings for s in wb.worksheets if hasattr(s, "_shared_strings")}
    if len(tables) != 1:
        return
    [table] = tables.values()
    if not table:
        return
    try:
        with zipfile.ZipFile(path) as z:
            rels = fromstring(z.read("xl/_rels/workbook.xml.rels"))
            target = next((r.get("Target") for r in rels if str(r.get("Type", "")).endswith("/sharedStrings")), None)
            if not target:
                return
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            root = fromstring(z.read(part))
    except (KeyError, OSError, zipfile.BadZipFile, ValueError, SyntaxError):
        return
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    raw = []
    for si in root.iter(ns + "si"):
        raw.append("".join(t.text or "" for child in si for t in ([child] if child.tag == ns + "t" else
                                                                   child.iter(ns + "t") if child.tag == ns + "r"
                                                                   else ())))
    if len(raw) == len(table):
        table[:] = raw


def _same(shown, snapped) -> bool:
    """Does a row's value equal its snapshot (a long text's snapshot is its digest)?"""
    if isinstance(snapped, dict) and isinstance(shown, str) and set(snapped) == {"sha256"}:
        return hashlib.sha256(shown.encode("utf-8")).hexdigest() == snapped["sha256"]
    return shown == snapped


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
        _as_written(wb, path)
        if _form().ID_SHEET not in wb.sheetnames:
            findings.append(Finding("master_no_snapshot", file=name))
            return {}, {}, findings
        ident = {_value(r[0]): _value(r[1]) for r in wb[_form().ID_SHEET].iter_rows(values_only=True, max_col=2)
                 if r and r[0]}
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
                get = lambda h: _value(row[cols[h]]) if h in cols and cols[h] < len(row) else None  # noqa: E731
                rows[str(row[pid_col])] = {
                    "sheet": ws.title, "row": ri,
                    "received_at": _cell_date(get("Ngày nhận")),
                    "received_raw": get("Ngày nhận"), "received_col": cols.get("Ngày nhận"),
                    "answers": {c: get(f"TC{i}") for i, c in enumerate(crit_ids, 1)},
                    "answer_cols": {c: cols.get(f"TC{i}") for i, c in enumerate(crit_ids, 1)},
                    "notes": nfc(str(get("Ghi chú") or "")).strip(),
                    "proposals": nfc(str(get("Đề xuất, kiến nghị") or "")).strip(),
                    "signer": nfc(str(get("Người ký") or "")).strip(),
                }
        return rows, snapshots, findings
    finally:
        wb.close()


def beside_files(ws: Workspace) -> list[Path]:
    """Masters written beside a master.xlsx that was held open (`master-<time>.xlsx`)."""
    try:
        return [p for p in ws.root.iterdir() if BESIDE.match(p.name) and p.is_file()]
    except OSError:
        return []


def absorb_manual_entries(ws: Workspace, ledger: Ledger) -> Absorbed:
    """Record every hand edit of the master, and of the masters written beside it, as manual
    submissions, the earliest saved first. Returns what was recorded, found and kept."""
    out = Absorbed()
    record = ledger.master_record()
    sources = beside_files(ws)
    if ws.master_file.exists():
        sources.append(ws.master_file)
    if not sources:
        return out
    sources.sort(key=lambda p: (_saved_at(p) or dt.datetime.min.replace(tzinfo=VN_TZ), p.name))
    written = {**record.get("beside", {}), ws.master_file.name: record.get("sha256")}
    for path in sources:
        is_master = path == ws.master_file
        untouched = bool(record) and sha256_file(path) == written.get(path.name)
        # The master we wrote, unchanged since, holds no hand edit; unless it holds refused rows
        # written back as typed: those are read again (still refused, still kept).
        if untouched and not (is_master and record.get("kept")):
            if not is_master:
                out.beside_read.append(path)        # what we wrote, never edited: nothing to read
            continue
        before = len(out.units)
        if _absorb_one(ws, ledger, path, out) and not is_master:
            out.beside_read.append(path)
            out.findings.append(Finding("master_beside", file=path.name, count=len(out.units) - before, moved=""))
    return out


def _saved_at(path: Path) -> dt.datetime | None:
    """When a master was last saved (its modification time, not later than now), in Vietnam time."""
    try:
        mtime = int(path.stat().st_mtime)
    except OSError:
        return None
    return min(dt.datetime.fromtimestamp(mtime, VN_TZ), dt.datetime.now(VN_TZ).replace(microsecond=0))


def _absorb_one(ws: Workspace, ledger: Ledger, path: Path, out: Absorbed) -> bool:
    """The hand edits of one master workbook into `out`; False when it could not be read."""
    from openpyxl.utils import get_column_letter

    campaign = ws.campaign
    rows, snapshots, findings = read_master_rows(path, campaign)
    out.findings.extend(findings)
    if not rows or not snapshots:
        return not findings
    met, not_met = campaign.answers
    to_key = {nfc(met).casefold(): "met", nfc(not_met).casefold(): "not_met", "": "blank"}
    today = dt.date.today()
    saved = _saved_at(path)
    crit = {c.id: i for i, c in enumerate(campaign.criteria, 1)}
    for unit in ws.units:
        alone = len(unit.products) == 1
        edited = []
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
            if not all(_same(v, snap.get(k)) for k, v in shown.items()):
                edited.append(p.id)
        if not edited:
            continue
        bad: dict[str, dict[str, Finding]] = {}
        sub = Submission(unit_id=unit.id, received_at=today, source="manual", received_time=saved)
        first_date = None
        for p in unit.products:
            row = unit_rows.get(p.id)
            if row is None:
                continue
            for c, v in row["answers"].items():
                key = to_key.get(nfc(str(v or "")).strip().casefold())
                if key is None:
                    cell = f"{get_column_letter(row['answer_cols'][c] + 1)}{row['row']}"
                    bad.setdefault(p.id, {})[f"TC{crit[c]}"] = Finding(
                        "master_bad_answer", file=path.name, sheet=row["sheet"], cell=cell, value=str(v),
                        expected=f"{met}; {not_met}", met=met, not_met=not_met, unit=unit.name)
                sub.answers[(p.id, c)] = key or "blank"
            if isinstance(row["received_at"], str):
                col = row["received_col"]
                bad.setdefault(p.id, {})["Ngày nhận"] = Finding(
                    "master_bad_date", file=path.name, sheet=row["sheet"],
                    cell=f"{get_column_letter(col + 1)}{row['row']}" if col is not None else "",
                    value=row["received_at"], unit=unit.name)
            elif row["received_at"] and first_date is None:
                first_date = row["received_at"]
            sub.proposals = sub.proposals or row["proposals"]
            sub.signer = sub.signer or row["signer"]
        if bad:
            # Refused, and kept as typed with its refused cells marked until fixed: the rebuild
            # never wipes what the staff typed.
            out.findings.extend(f for cells in bad.values() for f in cells.values())
            for pid in dict.fromkeys([*edited, *bad]):
                row = unit_rows[pid]
                values = {"Ngày nhận": row["received_raw"],
                          **{f"TC{crit[c]}": v for c, v in row["answers"].items()},
                          "Ghi chú": row["notes"], "Đề xuất, kiến nghị": row["proposals"], "Người ký": row["signer"]}
                out.kept[pid] = KeptRow(values, {h: f.statement("vi") for h, f in bad.get(pid, {}).items()},
                                        path.name)
            continue
        history = ledger.history(unit_ids=[unit.id]).get(unit.id, [])
        current = ledger.current(unit.id)
        sub.note, sub.notes = _hand_notes(current, {pid: row["notes"] for pid, row in unit_rows.items()}, campaign,
                                          alone)
        if current is not None and current.answers == sub.answers and not _text_changed(current, sub, campaign):
            first = min(s.received_at for s in history or [current])
            if first_date in (None, first):
                continue
        # The same edit of the same saved file, recorded before (a master written beside is read
        # again while Excel still holds master.xlsx): once is enough.
        if any(s.source == "manual" and s.received_time == saved and s.answers == sub.answers
               and not _text_changed(s, sub, campaign) for s in history):
            continue
        sub.received_at = first_date or today
        # Texts left as the master showed them are the current version's, whole (a cell shows a
        # text cut to what it holds; notes: _hand_notes).
        if current is not None and sub.proposals == cell_text(current.proposals):
            sub.proposals = current.proposals
        if current is not None and sub.signer == cell_text(current.signer):
            sub.signer = current.signer
        # Ordered by time like a file: a hand edit saved before the current version was received
        # (read back late from a master written beside) is kept in the history, never over it.
        sub.stale = current is not None and sub.when < current.when
        with ledger.transaction() as db:
            ledger.add_submission(db, sub)
            ledger.event(db, "manual_entry", unit_id=unit.id, source=path.name, stale=sub.stale)
        checkpoint("master.manual_recorded")
        if sub.stale:
            out.findings.append(Finding("stale", file=path.name, received=show_time(sub.when), unit=unit.name,
                                        current=show_time(current.when), why="time"))
        else:
            out.units.append(unit.id)
    return True


def _hand_notes(current: Submission | None, typed: dict[str, str], campaign: Campaign,
                alone: bool) -> tuple[str, dict]:
    """(note, notes) of a hand entry: a row whose notes read as the master showed them keeps the
    notes recorded (by criterion, the unit's and its product's); a row whose notes were retyped
    gets what was typed as its whole note, its product's alone (never copied onto another row)."""
    note, notes = (current.note, dict(current.notes)) if current is not None else ("", {})
    for pid, text in typed.items():
        if text == cell_text(_form().notes_text(current, campaign, pid, alone)):     # as shown: kept whole
            continue
        for key in [k for k in notes if k[0] == pid]:
            del notes[key]
        notes[(pid, "")] = text
    return note, notes


def _text_changed(current: Submission, sub: Submission, campaign: Campaign) -> bool:
    """Do the texts of a hand edit (as the master shows them) differ from `current`'s?"""
    return ((sub.note, sub.notes) != (current.note, current.notes)
            or cell_text(sub.proposals) != cell_text(current.proposals) or cell_text(sub.signer) != cell_text(current.signer))


def _untouched(ws: Workspace, ledger: Ledger) -> bool:
    """The master on disk is byte for byte the one we last wrote."""
    rec = ledger.master_record()
    return bool(rec) and ws.master_file.exists() and sha256_file(ws.master_file) == rec.get("sha256")


def _form():
    """The master's layout (imported when needed: an unchanged re-merge never builds one)."""
    from tracker.master import workbook as master

    return master


def write_master(ws: Workspace, ledger: Ledger, as_of: dt.date | None = None, *, force: bool = True,
                 absorbed: Absorbed | None = None) -> RebuildResult:
    """Rebuild master.xlsx from the ledger, atomically, keeping the previous file in backups/.

    With force=False nothing is written when the master on disk is the one we last wrote and the
    ledger has not changed since (re-merging an unchanged inbox stays cheap). `absorbed`: what
    absorb_manual_entries found: its refused rows are written back as typed, and the masters
    written beside that it read are moved into backups/ once master.xlsx itself is written."""
    absorbed = absorbed if absorbed is not None else Absorbed()
    day = as_of or dt.date.today()
    state = ledger.master_state(day)
    record = ledger.master_record()
    if not force and record.get("state") == state and record.get("kept", 0) == len(absorbed.kept) \
            and _untouched(ws, ledger):
        result = RebuildResult(ws.master_file, unchanged=True)
        _tidy_beside(ws, ledger, absorbed, result)
        return result
    campaign, units = ws.campaign, ws.units

    by_group: dict[str, list] = {}
    for u in units:
        by_group.setdefault(u.group, []).append(u)

    from tracker.stats import attached_copies

    def group_stats(group_id):      # a group at a time: the whole history is never in memory
        members = by_group.get(group_id, [])
        ids = [u.id for u in members]
        return (compute(campaign, members, ledger.history(unit_ids=ids), day, attached_copies(ledger, ids)),
                ledger.source_names(ids))
    data = _form().build_master(campaign, units, group_stats, ledger.distinct_returns(), kept=absorbed.kept)
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

    digest = hashlib.sha256(data).hexdigest()
    beside = dict(record.get("beside", {}))
    if result.written_beside:
        beside[result.path.name] = digest
    ledger.set_master_record(state, digest, kept=len(absorbed.kept), beside=beside)
    _tidy_beside(ws, ledger, absorbed, result)
    return result


def _tidy_beside(ws: Workspace, ledger: Ledger, absorbed: Absorbed, result: RebuildResult) -> None:
    """Move the masters written beside, whose hand edits are now recorded (or kept in master.xlsx),
    into backups/: only once master.xlsx itself holds it all (not while Excel still holds it)."""
    if result.written_beside or not absorbed.beside_read:
        return
    record = ledger.master_record()
    beside = dict(record.get("beside", {}))
    moved = set()
    for path in absorbed.beside_read:
        try:
            ws.backups.mkdir(parents=True, exist_ok=True)
            os.replace(path, ws.backups / path.name)
        except OSError:
            continue        # open in Excel (Windows): left where it is, read again next time
        moved.add(path.name)
        beside.pop(path.name, None)
    if not moved:
        return
    ledger.set_master_record(record.get("state", ""), record.get("sha256", ""), kept=record.get("kept", 0),
                             beside=beside)
    for i, f in enumerate(absorbed.findings):
        if f.code == "master_beside" and f.file in moved:
            absorbed.findings[i] = Finding("master_beside", file=f.file, count=f.param("count"), moved="yes")


def rebuild(ws: Workspace, ledger: Ledger) -> RebuildResult:
    absorbed = absorb_manual_entries(ws, ledger)
    result = write_master(ws, ledger, absorbed=absorbed)
    result.manual_units, result.findings = absorbed.units, absorbed.findings
    return result
