"""The merge pipeline: take back what the units return, check every file, record it in the ledger.

For each file, on its own (one bad file never stops the rest):
  archive (content-addressed, before anything reads it) -> already merged? -> safety checks
  -> convert .xls/.ods -> read in a bounded worker -> recorded in the ledger with its chunk.
It returns what became of each file; the master and the merge report are other stages'
(tracker.api.merge runs them after the pipeline).
"""
from __future__ import annotations

import datetime as dt
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

from tracker.store.crash_points import checkpoint
from tracker.store.files import flush_to_disk
from tracker.intake.incoming import Incoming
from tracker.model.findings import Finding, IntakeError
from tracker.store.ledger import Ledger, Submission
from tracker.store.workspace import Workspace

READ_TIMEOUT_S = 60
RECORD_CHUNK = 128    # files recorded per archive sync
READ_MEMORY_MB = 1024
SKIP_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass(slots=True)     # one per file, kept for the report: thousands at national scale
class FileResult:
    name: str
    origin: str
    outcome: str
    unit_id: str | None = None
    unit_name: str = ""
    received: dt.date | None = None
    findings: list[Finding] = field(default_factory=list)
    sha256: str = ""

    @property
    def message(self) -> str:
        errors = [f.message for f in self.findings if f.severity == "error"]
        return errors[0] if errors else ""


@dataclass
class MergeReport:
    files: list[FileResult] = field(default_factory=list)
    master: object = None
    report_path: Path | None = None
    notices: list[Finding] = field(default_factory=list)   # about inputs that are not workbooks

    @property
    def exit_code(self) -> int:
        return 1 if any(f.outcome == "rejected" for f in self.files) else 0

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)


def expand(ws: Workspace, ledger: Ledger, paths: list[Path], notices: list[Finding],
           tmp: Path) -> tuple[list[Incoming], list[FileResult]]:
    """Files and folders (recursive) into workbooks to merge; saved emails into their attachments.

    A saved email is archived as given; one that holds no workbook it can use is itself a refused
    return (recorded, and reported like any other file)."""
    from tracker.intake import sources as inbox

    out: list[Incoming] = []
    refused: list[FileResult] = []
    for given in paths:
        if given.is_dir():
            files = _files_under(given)
        elif given.exists():
            files = [str(given)]
        else:
            notices.append(Finding("not_found", file=str(given)))
            continue
        for name in files:
            if not inbox.is_email(name):
                out.append(inbox.workbook(name))
                continue
            f = Path(name)
            try:
                archived = ws.archive_file(f)
                ledger.add_email(sha256=archived.digest, name=f.name, origin=str(f), archived=archived.relative)
            except OSError as e:
                notices.append(Finding("unreadable", file=f.name, kind="email",
                                       reason=e.strerror or type(e).__name__))
                continue
            before = len(notices)
            items = list(inbox.incoming(f, tmp, notices))
            out.extend(items)
            mine = notices[before:]
            if not items and any(n.severity == "error" for n in mine):
                del notices[before:]
                res = FileResult(f.name, str(f), "rejected", findings=mine, sha256=archived.digest)
                with ledger.transaction() as db:
                    ledger.add_return(db, sha256=archived.digest, name=f.name, origin=str(f),
                                      archived=archived.relative, size=archived.size,
                                      received_at=None, received_source="", sender="", outcome="rejected",
                                      unit_id=None, findings=[n.record() for n in mine])
                refused.append(res)
    return out, refused


def _files_under(folder: Path) -> list[str]:
    """Every file under `folder`, recursively, sorted by path (as Path.rglob sorted, by strings:
    thousands of Path comparisons cost a tenth of a second at national scale)."""
    out, todo = [], [os.fspath(folder)]
    while todo:
        try:
            entries = list(os.scandir(todo.pop()))
        except PermissionError:      # as rglob: a folder that cannot be listed is passed over
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False):      # as rglob: linked folders are not entered
                todo.append(e.path)
            elif e.is_file() and e.name not in SKIP_NAMES:
                out.append(e.path)
    return sorted(out, key=lambda f: f.split(os.sep))     # the order of Path.parts


def merge_files(ws: Workspace, ledger: Ledger, paths: list[Path], tmp: Path, received: dt.date | None = None,
                progress=None, workers: int | None = None) -> MergeReport:
    """The pipeline, in the caller's lock: the files and folders at `paths` (saved emails opened)
    -> archive -> intake -> ledger, one event for the merge; returns what became of each file.
    `workers`: reading processes (default: one per core from a few dozen files; the results are
    the same with any number)."""
    result = MergeReport()
    items, refused = expand(ws, ledger, [Path(p) for p in paths], result.notices, tmp)
    if progress:
        progress(total=len(items))
    for item in items:
        if received is not None:
            item.received, item.received_source = received, "option"
    unchanged: list = []
    result.files = merge_items(ws, ledger, items, tmp, progress, workers, unchanged) + refused  # empties items
    _log_merge(ledger, result.files, len(unchanged))
    return result


def _log_merge(ledger: Ledger, files: list[FileResult], unchanged: int) -> None:
    """One event per merge: what it was given and what came of it. A file merged before and given
    again unchanged, from where it was (a daily re-merge of the whole inbox), is counted here
    rather than logged as a return of its own: its first arrival is the record."""
    outcomes: dict[str, int] = {}
    for f in files:
        outcomes[f.outcome] = outcomes.get(f.outcome, 0) + 1
    with ledger.transaction() as db:
        ledger.event(db, "merge", files=len(files), outcomes=outcomes, unchanged=unchanged)


def merge_items(ws: Workspace, ledger: Ledger, items: list[Incoming], tmp: Path, progress=None,
                workers: int | None = None, unchanged: list | None = None) -> list[FileResult]:
    """Archive each file, read them in bounded workers, record them in input order. `unchanged`
    gets the contents of the files merged before and seen again unchanged where they were.

    Files are prepared (archived, spotted as repeats) while the workers read the ones before them;
    the safety checks of an .xlsx run in the worker too, so both cores share the work."""
    from tracker.store.seen_files import SeenFiles

    total = len(items)
    seen = SeenFiles(ledger)
    merged_before = ledger.decisive_returns()     # as the ledger was when this merge began
    units_by_id = ws.unit_by_id
    campaign, secret = ws.campaign, ws.secret
    prepared: list[_Prepared] = []

    repeats: list = []
    unchanged = [] if unchanged is None else unchanged

    def write_repeats() -> None:
        if repeats:
            with ledger.transaction() as db:
                ledger.add_returns(db, [_return_row(p, "duplicate", unit_id) for p, unit_id in repeats])
            repeats.clear()

    def jobs():
        # Taken from the list as they go: an Incoming is dropped once its file is recorded.
        items.reverse()
        while items:
            item = items.pop()
            p = _prepare(ws, ledger, item, tmp, repeats, seen, merged_before, unchanged)
            if len(repeats) >= 512:
                write_repeats()
                seen.flush()
            prepared.append(p)
            if p.path is None:
                if progress:
                    progress(advance=1)
                continue
            yield len(prepared) - 1, item.name, (p.path, item.name, p.kind)

    results: list[FileResult] = []
    ready: dict[int, object] = {}
    done = 0      # prepared[:done] are recorded

    def record_ready(final: bool = False) -> None:
        """Record, in input order, the files whose reading is back: in chunks, the chunk's archive
        copies made durable together before the ledger points at them. Memory stays flat as files grow."""
        nonlocal done
        end = done
        while end < len(prepared) and (prepared[end].path is None or end in ready):
            end += 1
        if end == done or (end - done < RECORD_CHUNK and not final):
            return
        flush_to_disk([ws.root / prepared[k].archived for k in range(done, end) if prepared[k].path is not None])
        readings = {}
        for k in range(done, end):
            if prepared[k].path is not None:
                reading = ready.pop(k)
                if isinstance(reading, tuple):          # an .ods/.xls in disguise, found by the worker
                    reading = _convert_and_read(ws, prepared[k], reading[1], tmp)
                readings[k] = reading
        # The chunk in one transaction: a kill loses all of it or none (its files are read again).
        with ledger.transaction() as db:
            for k in range(done, end):
                p = prepared[k]
                if p.path is not None:
                    _record(ws, ledger, db, p, readings.pop(k), units_by_id)
                results.append(p.res)
                prepared[k] = None
        for k in range(done, end):
            checkpoint("merge.recorded")
        done = end
        seen.flush()

    def arrived(key, reading) -> None:
        ready[key] = reading
        record_ready()

    pending = jobs()
    first = next(pending, None)
    if first is not None:       # an unchanged re-merge has nothing to read: no pool, no import of it
        from tracker.intake.bounded import read_all

        read_all(_read_one, itertools.chain([first], pending), timeout_s=READ_TIMEOUT_S, memory_mb=READ_MEMORY_MB,
                 workers=workers, expected=total, on_done=(lambda: progress(advance=1)) if progress else None,
                 on_result=arrived, setup=_reading_setup, setup_args=(campaign, units_by_id, secret))
    record_ready(final=True)
    write_repeats()
    seen.flush()
    return results


_CAMPAIGN: tuple | None = None      # (campaign, units by id, secret) in a reading worker


def _reading_setup(campaign, units_by_id: dict, secret) -> None:
    """A reading worker's start: the campaign arrives once, not with every file, and the reader
    is imported before the first file's time starts."""
    global _CAMPAIGN
    from tracker.intake import reader, safety  # noqa: F401

    _CAMPAIGN = (campaign, units_by_id, secret)


def _read_one(path, name, kind):
    """One file, in a reading worker (see _reading_setup)."""
    from tracker.intake import safety
    from tracker.intake.reader import read_return

    campaign, units_by_id, secret = _CAMPAIGN
    zf = None
    if not kind:
        kind, zf = safety.open_checked(path, name)     # the file is read once, then parsed from memory
        if kind in safety.CONVERTIBLE_KINDS:
            return ("convert", kind)
    return read_return(path, name, campaign, units_by_id, secret, kind == "xlsm", zf)


def _convert_and_read(ws: Workspace, p, kind: str, tmp: Path):
    from tracker.intake.bounded import run_bounded
    from tracker.intake.reader import read_return

    try:
        p.path = _convert(p, kind, tmp)
        return run_bounded(read_return, p.path, p.item.name, ws.campaign, ws.unit_by_id, ws.secret, False,
                                  timeout_s=READ_TIMEOUT_S, memory_mb=READ_MEMORY_MB, display_name=p.item.name)
    except IntakeError as e:
        return e


def _convert(p, kind: str, tmp: Path) -> Path:
    from tracker.intake.convert import convert_with_libreoffice

    path = convert_with_libreoffice(p.path, tmp / p.digest, display_name=p.item.name)
    p.res.findings.append(Finding("converted", file=p.item.name, kind=kind))
    return path


@dataclass
class _Prepared:
    item: Incoming
    res: FileResult
    digest: str = ""
    archived: str = ""
    size: int = 0
    kind: str = ""
    path: Path | None = None      # what to read; None when the outcome is already known


def _return_row(p: _Prepared, outcome: str, unit_id: str | None) -> dict:
    item = p.item
    return dict(sha256=p.digest, name=item.name, origin=item.origin, archived=p.archived, size=p.size,
                received_at=item.received, received_source=item.received_source, sender=item.sender,
                outcome=outcome, unit_id=unit_id, findings=[f.record() for f in p.res.findings])


def _record_return(ledger: Ledger, db, p: _Prepared, outcome: str, unit_id: str | None) -> int:
    return ledger.add_return(db, **_return_row(p, outcome, unit_id))


def _prepare(ws: Workspace, ledger: Ledger, item: Incoming, tmp: Path, repeats: list, seen,
             merged_before: dict, unchanged: list) -> _Prepared:
    """Archive (before anything reads it), spot a file merged before, run the safety checks, convert.
    Repeats go to `repeats` (logged together), or to `unchanged` for a file merged before and given
    again unchanged from where it was (counted in the merge's event, not logged one by one)."""
    res = FileResult(item.name, item.origin, "rejected")
    p = _Prepared(item, res)
    try:
        st = os.stat(item.path)
    except OSError:
        st = None
    if item.received is None:
        if st is not None:
            item.received = dt.date.fromtimestamp(st.st_mtime)
            item.received_source = "mtime"
        else:
            item.received, item.received_source = dt.date.today(), "today"
    res.received = item.received
    # A file given as it is (not an attachment unpacked here) that was hashed before and has not
    # changed since is not read again (see seen_files).
    direct = item.origin == str(item.path)
    known = seen.digest(item.path, st) if direct else None
    try:
        archived = ws.archive_file(item.path, known)
        checkpoint("merge.archived")
    except OSError as e:
        res.findings.append(Finding("unreadable", file=item.name, reason=e.strerror or type(e).__name__))
        return p
    if direct and known is None:
        seen.remember(item.path, st, archived.digest)
    res.sha256 = p.digest = archived.digest
    p.archived = archived.relative
    p.size = archived.size
    # Known by its stat and its archived copy there (so not read again): the very file merged
    # before, where it was, untouched, when the ledger has its content.
    unchanged_repeat = archived.path is None
    if _already_merged(ws, ledger, p, repeats, merged_before=merged_before, log=not unchanged_repeat):
        if unchanged_repeat:
            unchanged.append(p.digest)
        return p
    # An .xlsx is checked in the worker that reads it; anything else (.xls, .ods, odd files) here,
    # where LibreOffice can be called.
    p.path = archived.path or ws.root / archived.relative
    head = archived.head
    if not head:
        try:
            with open(p.path, "rb") as fh:
                head = fh.read(128)
        except OSError:
            head = b""
    if head[:4] == b"PK\x03\x04" and b"mimetypeapplication/vnd.oasis" not in head:
        return p
    from tracker.intake import safety

    try:
        p.kind = safety.check_file(p.path, item.name)
        if p.kind in safety.CONVERTIBLE_KINDS:
            p.path = _convert(p, p.kind, tmp)
            p.kind = "xlsx"
    except IntakeError as e:
        p.path = None
        res.findings.append(e.finding)
        with ledger.transaction() as db:
            _record_return(ledger, db, p, "rejected", None)
    return p


def _already_merged(ws: Workspace, ledger: Ledger, p: _Prepared, repeats: list | None = None, db=None,
                    merged_before: dict | None = None, log: bool = True) -> bool:
    """A repeat is logged: with `repeats`, later and together; else with `db`, in the caller's
    transaction; not at all with `log=False`. `merged_before`: Ledger.decisive_returns() of when
    the merge began, instead of a query per file."""
    if merged_before is not None:
        earlier = merged_before.get(p.digest)
    else:
        row = ledger.find_return(p.digest)
        earlier = tuple(row) if row is not None else None
    if earlier is None:
        return False
    unit_id, merged_at, earlier_name = earlier
    res = p.res
    res.outcome, res.unit_id = "duplicate", unit_id
    unit = ws.unit_by_id.get(unit_id or "")
    res.unit_name = unit.name if unit else ""
    merged_on = f"{merged_at[8:10]}/{merged_at[5:7]}/{merged_at[:4]}"      # ISO date -> dd/mm/yyyy
    res.findings.append(Finding("duplicate", file=p.item.name, merged_on=merged_on, earlier=earlier_name))
    if not log:
        return True
    if repeats is not None:
        repeats.append((p, unit_id))   # written together: a repeat is only a log line
    else:
        _record_return(ledger, db, p, "duplicate", unit_id)
    return True


def _record(ws: Workspace, ledger: Ledger, db, p: _Prepared, reading, units_by_id: dict) -> None:
    """The return, its submission and its answers, in the caller's transaction."""
    res, item = p.res, p.item
    if _already_merged(ws, ledger, p, db=db):      # the same bytes twice in one batch
        return
    if isinstance(reading, IntakeError):
        res.findings.append(reading.finding)
        _record_return(ledger, db, p, "rejected", None)
        return
    res.findings.extend(reading.findings)
    unit = units_by_id[reading.unit_id]
    res.unit_id, res.unit_name = unit.id, unit.name      # the registry's strings, not copies
    if reading.errors:
        _record_return(ledger, db, p, "rejected", unit.id)
        return
    current = ledger.current(unit.id, db)
    stale = current is not None and current.source == "file" and item.received < current.received_at
    if stale:
        res.outcome = "stale"
        res.findings.append(Finding("stale", file=item.name, received=f"{item.received:%d/%m/%Y}", unit=unit.name,
                                    current=f"{current.received_at:%d/%m/%Y}"))
    elif current is not None:
        res.outcome = "replaced"
        res.findings.append(Finding("replaced", file=item.name, unit=unit.name,
                                    current=f"{current.received_at:%d/%m/%Y}"))
    else:
        res.outcome = "accepted"
    return_id = _record_return(ledger, db, p, res.outcome, unit.id)
    sub = Submission(unit_id=unit.id, received_at=item.received, source="file", answers=reading.answers,
                     notes=reading.notes, domains=reading.domains, doc_number=reading.doc_number,
                     doc_date=reading.doc_date, signer=reading.signer, proposals=reading.proposals,
                     sha256=p.digest, return_id=return_id, stale=stale)
    ledger.add_submission(db, sub)
    checkpoint("merge.in_transaction")
