"""The merge pipeline: take back what the units return, check every file, record it in the ledger.

For each file, on its own (one bad file never stops the rest):
  archive (content-addressed, before anything reads it) -> already merged? -> safety checks
  -> convert .xls/.ods -> read in a bounded worker -> recorded in the ledger with its chunk.
It returns what became of each file; the master and the merge report are other stages'
(tracker.api.merge runs them after the pipeline).

The newest version of a unit's reply wins by the time it was received, to the second, never by
file name or merge order: a saved email's Date; else the time the workbook says it was saved
(docProps/core.xml) when that is plausible (see `plausible_saved_time`); else the file's
modification time; `--received` overrides them (a date alone means that day, its time unknown).
A version received before the unit's current one is recorded as stale (kept in the history).
Equal received times are decided by the workbooks' own saved times when both are plausible;
when even those cannot tell, the version merged later is used and a review finding says so.

Only regular files are read (tracker.intake.sources): links, FIFOs, devices and files past the
size bound are listed as not taken, with why, and make the merge exit 1.

A PDF or a picture (by what it holds, whatever its name) is a signed copy of the biên bản: read
after the workbooks (tracker.intake.signed_copy, in bounded workers, judged as of the time it was
received), so that the unit of a workbook in the same email is known when the copy is matched
(tracker.intake.signed_match), then recorded in `signed_copies` (see `_merge_copies`).
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
from tracker.intake.sources import SKIP_NAMES  # noqa: F401 - the names passed over, as before
from tracker.model.dates import VN_TZ, show_time
from tracker.model.findings import Finding, IntakeError
from tracker.store.disk import DiskFull
from tracker.store.ledger import Ledger, Submission
from tracker.store.workspace import Workspace

READ_TIMEOUT_S = 60
RECORD_CHUNK = 128    # files recorded per archive sync
READ_MEMORY_MB = 1024
# Clocks of two machines (the unit's, ours) disagree by this much without a saved time being
# called impossible.
CLOCK_SKEW = dt.timedelta(minutes=2)


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
    received_time: dt.datetime | None = None    # to the second (None: only the day is known)
    copy_kind: str = ""         # a signed copy: "digital" or "scan" ("" for a workbook, or a copy not read)
    copy_status: str = ""       # a signed copy's status in the ledger (attached, pending, flagged)

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
    rechecked: list = field(default_factory=list)   # signed copies read again: (SignedCopy before, after)

    @property
    def exit_code(self) -> int:
        """1 when a file was refused or not taken, or a hand entry in the master was refused (it is
        kept as typed until fixed); else 0."""
        refused = any(f.outcome in ("rejected", "not_merged") for f in self.files) or \
            any(n.severity == "error" for n in self.notices)
        master = getattr(self.master, "findings", None) or []
        return 1 if refused or any(f.severity == "error" for f in master) else 0

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)


def expand(ws: Workspace, ledger: Ledger, paths: list[Path], notices: list[Finding],
           tmp: Path) -> tuple[list[Incoming], list[FileResult]]:
    """Files and folders (recursive) into workbooks to merge; saved emails into their attachments.

    Only regular files are taken: anything else (a link, a FIFO, a device) is a notice (error),
    Excel's and LibreOffice's owner files are passed over. A saved email is archived as given
    and read from its archived copy; one that holds no workbook it can use is itself a refused
    return (recorded, and reported like any other file)."""
    import stat

    from tracker.intake import saved_email, sources

    out: list[Incoming] = []
    refused: list[FileResult] = []
    for given in paths:
        shown = sources.decoded(os.fspath(given))
        try:
            lst = os.lstat(given)
        except OSError:
            notices.append(Finding("not_found", file=shown))
            continue
        # A folder is entered, also through a link the user named; a file given is taken only as itself.
        if stat.S_ISDIR(lst.st_mode) or (stat.S_ISLNK(lst.st_mode) and os.path.isdir(given)):
            files, skipped = _files_under(given)
            notices.extend(sources.not_regular(sources.decoded(f), kind) for f, kind in skipped)
        elif sources.passed_over(os.path.basename(os.fspath(given))):
            continue
        elif sources.kind_of(lst.st_mode) is not None:
            notices.append(sources.not_regular(shown, sources.kind_of(lst.st_mode)))
            continue
        else:
            files = [os.fspath(given)]
        for name in files:
            if not sources.is_email(name):
                out.append(sources.workbook(name))
                continue
            f = sources.workbook(name)        # its names, shown and stored readably
            try:
                archived = ws.archive_file(name, opened=lambda: sources.open_given(name, f.name)[0])
                ledger.add_email(sha256=archived.digest, name=f.name, origin=f.origin, archived=archived.relative)
            except sources.NotTaken as e:
                notices.append(e.finding)
                continue
            except DiskFull as e:
                notices.append(Finding("disk_full", file=f.name, folder=e.finding.param("folder"),
                                       free=e.finding.param("free"), during="merge"))
                continue
            except OSError as e:
                notices.append(Finding("unreadable", file=f.name, kind="email",
                                       reason=e.strerror or type(e).__name__))
                continue
            before = len(notices)
            items = list(saved_email.incoming(ws.root / archived.relative, tmp, notices, name=f.name,
                                              origin=f.origin))
            for item in items:
                item.email = archived.digest
            out.extend(items)
            mine = notices[before:]
            if not items and any(n.severity == "error" for n in mine):
                del notices[before:]
                res = FileResult(f.name, f.origin, "rejected", findings=mine, sha256=archived.digest)
                with ledger.transaction() as db:
                    ledger.add_return(db, sha256=archived.digest, name=f.name, origin=f.origin,
                                      archived=archived.relative, size=archived.size,
                                      received_at=None, received_source="", sender="", outcome="rejected",
                                      unit_id=None, findings=[n.record() for n in mine])
                refused.append(res)
    return out, refused


def _files_under(folder: Path | str) -> tuple[list[str], list[tuple[str, str]]]:
    """(every regular file under `folder`, recursively, sorted by path (as Path.rglob sorted, by
    strings: thousands of Path comparisons cost a tenth of a second at national scale); what is
    there but not taken, as (path, kind): links (never followed, to a file or a folder), FIFOs,
    devices, sockets). Owner and system files are passed over silently."""
    from tracker.intake.sources import kind_of, passed_over

    out, skipped, todo = [], [], [os.fspath(folder)]
    while todo:
        try:
            entries = list(os.scandir(todo.pop()))
        except PermissionError:      # as rglob: a folder that cannot be listed is passed over
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                todo.append(e.path)
            elif passed_over(e.name):
                continue
            elif e.is_file(follow_symlinks=False):       # a regular file, not a link to one
                out.append(e.path)
            else:
                try:
                    kind = kind_of(e.stat(follow_symlinks=False).st_mode) or "other"
                except OSError:
                    continue        # gone since it was listed
                skipped.append((e.path, kind))
    key = lambda f: f.split(os.sep)     # noqa: E731 - the order of Path.parts
    return sorted(out, key=key), sorted(skipped, key=lambda s: key(s[0]))


def merge_files(ws: Workspace, ledger: Ledger, paths: list[Path], tmp: Path,
                received: dt.date | dt.datetime | None = None, progress=None, workers: int | None = None
                ) -> MergeReport:
    """The pipeline, in the caller's lock: the files and folders at `paths` (saved emails opened)
    -> archive -> intake -> ledger, one event for the merge; returns what became of each file.
    `received`: the received date (that day, its time unknown) or time of every file, overriding
    what the files say. `workers`: reading processes (default: one per core from a few dozen
    files; the results are the same with any number)."""
    result = MergeReport()
    items, refused = expand(ws, ledger, [Path(p) for p in paths], result.notices, tmp)
    if progress:
        progress(total=len(items))
    if isinstance(received, dt.datetime):
        from tracker.model.dates import as_vn

        received = as_vn(received.replace(microsecond=0))
    for item in items:
        if isinstance(received, dt.datetime):
            item.received, item.received_time, item.received_source = received.date(), received, "option"
        elif received is not None:
            item.received, item.received_time, item.received_source = received, None, "option"
    unchanged: list = []
    trust = CopyTrust(ws, result.notices)
    # Before this merge's copies are read: those are judged by today's roots already.
    result.rechecked = recheck_copies(ws, ledger, result.notices, trust=trust)
    result.files = merge_items(ws, ledger, items, tmp, progress, workers, unchanged,
                               notices=result.notices, trust=trust) + refused  # empties items
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
                workers: int | None = None, unchanged: list | None = None,
                notices: list | None = None, trust: CopyTrust | None = None) -> list[FileResult]:
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
    times = _Times(ws, ledger)

    repeats: list = []
    unchanged = [] if unchanged is None else unchanged
    copies: list[_Prepared] = []         # signed copies, read once the workbooks are recorded
    email_units: dict[str, set] = {}     # saved email -> units of the workbooks it carried

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
            if p.copy:
                copies.append(p)
                continue
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
        while end < len(prepared) and (prepared[end].path is None or prepared[end].copy or end in ready):
            end += 1
        if end == done or (end - done < RECORD_CHUNK and not final):
            return
        flush_to_disk([ws.root / prepared[k].archived for k in range(done, end)
                       if prepared[k].path is not None and not prepared[k].copy])
        readings = {}
        for k in range(done, end):
            if prepared[k].path is not None and not prepared[k].copy:
                reading = ready.pop(k)
                if isinstance(reading, tuple):          # an .ods/.xls in disguise, found by the worker
                    reading = _convert_and_read(ws, prepared[k], reading[1], tmp)
                readings[k] = reading
        # The chunk in one transaction: a kill loses all of it or none (its files are read again).
        with ledger.transaction() as db:
            for k in range(done, end):
                p = prepared[k]
                if p.path is not None and not p.copy:
                    _record(ws, ledger, db, p, readings.pop(k), units_by_id, times)
                    if p.item.email and p.res.unit_id and p.res.outcome != "rejected":
                        email_units.setdefault(p.item.email, set()).add(p.res.unit_id)
                results.append(p.res)        # a copy's result is filled in by _merge_copies
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
    if copies:
        _merge_copies(ws, ledger, copies, email_units, times, progress, notices if notices is not None else [],
                      trust)
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
    p.converted = True
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
    mtime: dt.datetime | None = None    # the given file's modification time
    converted: bool = False
    saved_time: dt.datetime | None = None   # the workbook's own saved time, when plausible
    copy: bool = False            # a PDF or a picture: read as a signed copy (_merge_copies)


def _return_row(p: _Prepared, outcome: str, unit_id: str | None) -> dict:
    item = p.item
    return dict(sha256=p.digest, name=item.name, origin=item.origin, archived=p.archived, size=p.size,
                received_at=item.received, received_source=item.received_source, sender=item.sender,
                outcome=outcome, unit_id=unit_id, findings=[f.record() for f in p.res.findings],
                received_time=item.received_time, saved_time=p.saved_time)


def _record_return(ledger: Ledger, db, p: _Prepared, outcome: str, unit_id: str | None) -> int:
    return ledger.add_return(db, **_return_row(p, outcome, unit_id))


def _prepare(ws: Workspace, ledger: Ledger, item: Incoming, tmp: Path, repeats: list, seen,
             merged_before: dict, unchanged: list) -> _Prepared:
    """Archive (before anything reads it), spot a file merged before, run the safety checks, convert.
    Repeats go to `repeats` (logged together), or to `unchanged` for a file merged before and given
    again unchanged from where it was (counted in the merge's event, not logged one by one).
    Only a regular file is read, through a descriptor checked before a byte is read."""
    from tracker.intake import sources

    res = FileResult(item.name, item.origin, "rejected")
    p = _Prepared(item, res)
    try:
        st = sources.check_given(item.path, item.name)       # lstat: a link is never followed
    except sources.NotTaken as e:
        res.findings.append(e.finding)
        return p
    except OSError:
        st = None
    if st is not None:
        p.mtime = dt.datetime.fromtimestamp(int(st.st_mtime), VN_TZ)
    if item.received is None:
        if p.mtime is not None:
            item.received_time, item.received_source = p.mtime, "mtime"
        else:
            item.received_time, item.received_source = dt.datetime.now(VN_TZ).replace(microsecond=0), "today"
        item.received = item.received_time.date()
    res.received, res.received_time = item.received, item.received_time
    # A file given as it is (not an attachment unpacked here) that was hashed before and has not
    # changed since is not read again (see seen_files).
    direct = not item.attached
    known = seen.digest(item.path, st) if direct else None
    try:
        archived = ws.archive_file(item.path, known, opened=lambda: sources.open_given(item.path, item.name)[0])
        checkpoint("merge.archived")
    except sources.NotTaken as e:
        res.findings.append(e.finding)
        return p
    except DiskFull as e:        # our disk, not the unit's file: said so, not recorded, merged when given again
        res.outcome = "not_merged"
        res.findings.append(Finding("disk_full", file=item.name, folder=e.finding.param("folder"),
                                    free=e.finding.param("free"), during="merge"))
        return p
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
                head = fh.read(1024)
        except OSError:
            head = b""
    if head[:4] == b"PK\x03\x04" and b"mimetypeapplication/vnd.oasis" not in head:
        return p
    from tracker.intake.signed_copy import copy_kind

    if copy_kind(head) is not None:
        p.copy = True
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


# ---------------------------------------------------------------------- received times
class _Times:
    """What one merge knows to judge times: when the forms were made, now, who sends for whom."""

    def __init__(self, ws: Workspace, ledger: Ledger):
        self.due_stamp = dt.datetime.combine(ws.campaign.due, dt.time(), dt.timezone.utc)
        self.forms_since = ledger.forms_generated_at()
        self.now = dt.datetime.now(VN_TZ)
        self._ws = ws
        self._addresses: dict[str, set[str]] | None = None

    def addresses(self) -> dict[str, set[str]]:
        """Every email address of units.csv (lower case) -> the ids of the units it belongs to."""
        if self._addresses is None:
            import re

            self._addresses = {}
            for u in self._ws.units:
                for addr in filter(None, re.split(r"[;,\s]+", (u.email or "").lower())):
                    self._addresses.setdefault(addr, set()).add(u.id)
        return self._addresses


def plausible_saved_time(saved: dt.datetime | None, *, forms_since: dt.datetime | None, due_stamp: dt.datetime,
                         latest: dt.datetime) -> bool:
    """Whether a workbook's own saved time (docProps/core.xml dcterms:modified) can be when the
    unit saved its reply. It is not when it is:
    - the fixed time our own forms carry (the campaign's due date at 00:00 UTC: generate writes it
      so that regenerated forms stay byte for byte the same): the form was never saved by a
      program that updates it;
    - before the campaign's forms were first generated (`forms_since`, when known): no unit can
      have saved our form before it existed (a wrong clock, or a copy of an older file);
    - after `latest` (the earliest of now, the given file's modification time here and the time
      of the email that carried it, with CLOCK_SKEW of tolerance): a reply cannot have been saved
      after it reached us (a unit PC's clock running ahead, or a time set by hand).
    """
    if saved is None or saved == due_stamp:
        return False
    if forms_since is not None and saved < forms_since:
        return False
    return saved <= latest + CLOCK_SKEW


def _saved_time(p: _Prepared, times: _Times) -> dt.datetime | None:
    """The workbook's own saved time when it is plausible (in Vietnam time), else None."""
    if p.converted or p.path is None:      # a converted file's times are LibreOffice's, not the unit's
        return None
    from tracker.intake.sources import workbook_saved_time

    saved = workbook_saved_time(p.path)
    item = p.item
    latest = [times.now]
    if p.mtime is not None and not item.attached:     # an attachment's file here is ours, of this merge
        latest.append(p.mtime)
    if item.received_source == "email" and item.received_time is not None:
        latest.append(item.received_time)
    if not plausible_saved_time(saved, forms_since=times.forms_since, due_stamp=times.due_stamp, latest=min(latest)):
        return None
    return saved.astimezone(VN_TZ).replace(microsecond=0)


def _newer(when: dt.datetime, saved: dt.datetime | None, other_when: dt.datetime,
           other_saved: dt.datetime | None) -> tuple[int, str]:
    """(+1 newer, -1 older, 0 cannot tell; why: "time", "saved" or "order") of a version against another."""
    if when != other_when:
        return (1 if when > other_when else -1), "time"
    if saved is not None and other_saved is not None and saved != other_saved:
        return (1 if saved > other_saved else -1), "saved"
    return 0, "order"


def _check_sender(p: _Prepared, unit, times: _Times) -> None:
    """A reply from an address not in units.csv, or from another unit's address, is merged and
    flagged for the staff to check (never silently). A forwarded message counts its own From."""
    item = p.item
    chain = [a.lower() for a in (item.senders or (item.sender,)) if a]
    if not chain:
        return
    addresses = times.addresses()
    if any(unit.id in addresses.get(a, ()) for a in chain):
        return
    others = sorted({uid for a in chain for uid in addresses.get(a, ())})
    registered = ", ".join(sorted(a for a, ids in addresses.items() if unit.id in ids))
    if others:
        names = ", ".join(times._ws.unit_by_id[uid].name for uid in others if uid in times._ws.unit_by_id)
        p.res.findings.append(Finding("sender_other_unit", file=item.name, value=item.sender or chain[0],
                                      sender=item.sender or chain[0], unit=unit.name, other_units=names))
    else:
        p.res.findings.append(Finding("sender_unknown", file=item.name, value=item.sender or chain[0],
                                      sender=item.sender or chain[0], unit=unit.name, registered=registered))


def _record(ws: Workspace, ledger: Ledger, db, p: _Prepared, reading, units_by_id: dict, times: _Times) -> None:
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
    p.saved_time = _saved_time(p, times)
    if p.saved_time is not None and item.received_source in ("mtime", "today"):
        # The unit's own save is nearer to when it replied than a copy's or a download's time here.
        item.received_time, item.received, item.received_source = p.saved_time, p.saved_time.date(), "workbook"
        res.received, res.received_time = item.received, item.received_time
    _check_sender(p, unit, times)
    from tracker.model.dates import when_of

    when = when_of(item.received_time, item.received)
    current = ledger.current(unit.id, db)
    stale = False
    if current is None:
        res.outcome = "accepted"
    else:
        order, why = _newer(when, p.saved_time, current.when, ledger.saved_time(current.return_id, db))
        shown = dict(received=show_time(when), unit=unit.name, current=show_time(current.when))
        if order < 0:
            stale, res.outcome = True, "stale"
            res.findings.append(Finding("stale", file=item.name, why=why, **shown))
        elif order > 0:
            res.outcome = "replaced"
            res.findings.append(Finding("replaced", file=item.name, why=why, **shown))
        else:
            res.outcome = "replaced"
            res.findings.append(Finding("same_received_time", file=item.name, received=shown["received"],
                                        unit=unit.name, earlier=ledger.return_name(current.return_id, db) or ""))
    return_id = _record_return(ledger, db, p, res.outcome, unit.id)
    sub = Submission(unit_id=unit.id, received_at=item.received, source="file", answers=reading.answers,
                     notes=reading.notes, domains=reading.domains, doc_number=reading.doc_number,
                     doc_date=reading.doc_date, signer=reading.signer, proposals=reading.proposals,
                     sha256=p.digest, return_id=return_id, stale=stale, received_time=item.received_time)
    ledger.add_submission(db, sub)
    checkpoint("merge.in_transaction")


# ---------------------------------------------------------------------- signed copies
# Errors of a reading that leave a digitally signed copy standing, marked not valid: the signature
# could not be proven (no trusted root, expired, revoked, unreadable). Any other error (a signature
# broken, the file changed after signing, a QR of another campaign, a forged QR) means the copy is
# not recognised: flagged, never attached by itself.
UNPROVEN = frozenset({"signed_untrusted", "signed_cert_expired", "signed_cert_not_yet_valid", "signed_revoked",
                      "signed_unreadable"})
COPY_REPEAT_STATUSES = ("flagged", "rejected")      # recorded as refused returns: spotted by signed_copies


class CopyTrust:
    """The trust roots of one merge (or one check): loaded from trust/ once, when a copy needs them;
    a file there that is no certificate is one notice, however many copies are read."""

    def __init__(self, ws: Workspace, notices: list[Finding]):
        self.ws, self.notices, self._ctx = ws, notices, None

    def context(self):
        if self._ctx is None:
            from tracker.intake.signed_copy import copy_context, load_trust_roots

            roots, bad = load_trust_roots(self.ws.trust)
            self.notices.extend(bad)
            self._ctx = copy_context(self.ws.campaign, self.ws.units, self.ws.secret, roots)
        return self._ctx


def trust_state(ws: Workspace) -> str:
    """What the trust folder holds, by name, size and time of each certificate file (no file read):
    when it changes, copies whose signature was untrusted are read again."""
    import hashlib

    from tracker.intake.signed_copy import TRUST_SUFFIXES

    h = hashlib.sha256()
    try:
        entries = sorted(os.scandir(ws.trust), key=lambda e: e.name)
    except OSError:
        entries = []
    for e in entries:
        if os.path.splitext(e.name)[1].lower() in TRUST_SUFFIXES and e.is_file():
            st = e.stat()
            h.update(f"{e.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:32]


def copy_verdict(reading, match) -> dict:
    """What a copy's reading and match make of it: the SignedCopy fields kind, status, unit_id,
    method, valid, signer, signed_at, untrusted."""
    from tracker.intake.signed_copy import SIG_UNTRUSTED, _who

    sigs = reading.signatures
    kind = "digital" if sigs else "scan"
    counted = next((s for s in sigs if s.valid), sigs[0] if sigs else None)
    refusing = any(f.severity == "error" and f.code not in UNPROVEN for f in reading.findings) or \
        any(f.severity == "error" for f in match.findings)
    if refusing or match.unit_id is None:
        status = "flagged"
    else:
        status = "pending" if match.needs_confirmation else "attached"
    return dict(kind=kind, status=status, unit_id=match.unit_id, method=match.method,
                valid=reading.digitally_signed if sigs else None,
                signer=_who(counted.signer) if counted is not None else None,
                signed_at=counted.signed_at if counted is not None else None,
                untrusted=any(s.status == SIG_UNTRUSTED for s in sigs))


def _copy_as_of(item: Incoming) -> dt.datetime:
    """When a copy was received: its signatures are judged as of then (a re-run judges alike)."""
    from tracker.model.dates import when_of

    return when_of(item.received_time, item.received) or dt.datetime.now(VN_TZ).replace(microsecond=0)


def _shown_name(name: str) -> str:
    """The file's own name: an attachment's, without the email's ("thư.eml › bien-ban.pdf")."""
    return name.rsplit(" › ", 1)[-1]


def _copy_sender(item: Incoming) -> str:
    """The address a copy came from: the innermost message's (a forwarded unit reply's own From)."""
    chain = [a for a in (item.senders or (item.sender,)) if a]
    return chain[-1] if chain else ""


def _expected_unit(item: Incoming, email_units: dict, times: _Times) -> str | None:
    """The unit a copy should belong to: that of the workbook its email carried (when one unit's),
    else that of the address it came from (when registered to one unit); None when nothing says."""
    units = email_units.get(item.email) if item.email else None
    if units:
        return next(iter(units)) if len(units) == 1 else None     # a colleague forwarding many: by QR
    addresses = times.addresses()
    ids = {uid for a in (item.senders or (item.sender,)) if a for uid in addresses.get(a.lower(), ())}
    return next(iter(ids)) if len(ids) == 1 else None


def _merge_copies(ws: Workspace, ledger: Ledger, copies: list[_Prepared], email_units: dict, times: _Times,
                  progress, notices: list[Finding], trust: CopyTrust | None = None) -> None:
    """Read the signed copies (bounded workers, trust roots loaded once), match each to its unit
    and record it, all in one transaction, in input order. Their FileResults are filled in place."""
    from tracker.intake.signed_copy import read_signed_copies
    from tracker.intake.signed_match import UnitIndex

    trust = trust or CopyTrust(ws, notices)
    flush_to_disk([ws.root / p.archived for p in copies])
    readings: dict = {}

    def arrived(key, reading) -> None:
        readings[key] = reading
        if progress:
            progress(advance=1)

    read_signed_copies(((k, p.item.name, p.path, _copy_as_of(p.item)) for k, p in enumerate(copies)),
                       trust.context(), on_result=arrived)
    index = UnitIndex(ws.units)
    with ledger.transaction() as db:
        known = ledger.signed_copy_digests(db)
        for k, p in enumerate(copies):
            _record_copy(ws, ledger, db, p, readings.pop(k), index, _expected_unit(p.item, email_units, times),
                         known)
    checkpoint("merge.copies_recorded")


def _record_copy(ws: Workspace, ledger: Ledger, db, p: _Prepared, reading, index, expected: str | None,
                 known: dict) -> None:
    from tracker.intake.signed_match import match_copy
    from tracker.store.ledger import SignedCopy

    res, item = p.res, p.item
    if _already_merged(ws, ledger, p, db=db):      # attached or pending before, or twice in this batch
        return
    if p.digest in known:                          # flagged or rejected before: staff decide (tracker signed)
        merged_at, earlier, unit_id = known[p.digest]
        res.outcome, res.unit_id = "duplicate", unit_id
        res.unit_name = ws.unit_by_id[unit_id].name if unit_id in ws.unit_by_id else ""
        res.findings.append(Finding("duplicate", file=item.name, earlier=earlier,
                                    merged_on=f"{merged_at[8:10]}/{merged_at[5:7]}/{merged_at[:4]}"))
        _record_return(ledger, db, p, "duplicate", unit_id)
        return
    if isinstance(reading, IntakeError):
        res.findings.append(reading.finding)
        _record_return(ledger, db, p, "rejected", None)
        return
    match = match_copy(reading, index, file_name=_shown_name(item.name), sender=_copy_sender(item),
                       expected_unit_id=expected)
    verdict = copy_verdict(reading, match)
    res.findings.extend(reading.findings)
    res.findings.extend(match.findings)
    flagged = verdict["status"] == "flagged"
    res.outcome = "rejected" if flagged else "accepted"
    res.copy_kind, res.copy_status = verdict["kind"], verdict["status"]
    if not flagged:
        unit = ws.unit_by_id[verdict["unit_id"]]
        res.unit_id, res.unit_name = unit.id, unit.name
    return_id = _record_return(ledger, db, p, res.outcome, res.unit_id)
    c = SignedCopy(sha256=p.digest, name=item.name, archived=p.archived, received_at=item.received,
                   received_time=item.received_time, sender=_copy_sender(item), expected_unit=expected,
                   findings=[f.record() for f in res.findings], return_id=return_id, **verdict)
    ledger.add_signed_copy(db, c)
    known[p.digest] = (c.recorded_at, item.name, c.unit_id)


def recheck_copies(ws: Workspace, ledger: Ledger, notices: list[Finding], force: bool = False,
                   trust: CopyTrust | None = None) -> list[tuple]:
    """Copies whose signature did not chain to the trust roots, read again when trust/ changed
    (or with `force`), as of when each was received: [(SignedCopy before, after)] of those whose
    verdict changed. A staff decision (confirmed, rejected) stands; only validity is updated then."""
    import dataclasses

    state = trust_state(ws)
    if not force and ledger.meta_value("trust_state") == state:
        return []
    todo = [c for c in ledger.signed_copies(untrusted=True) if c.status != "rejected"]
    changed: list[tuple] = []
    if todo:
        from tracker.intake.signed_copy import read_signed_copies
        from tracker.intake.signed_match import UnitIndex, match_copy

        trust = trust or CopyTrust(ws, notices)
        readings = read_signed_copies(((c.id, c.name, ws.root / c.archived, c.when or dt.datetime.now(VN_TZ))
                                       for c in todo), trust.context())
        index = UnitIndex(ws.units)
        with ledger.transaction() as db:
            for c in todo:
                reading = readings.get(c.id)
                if reading is None or isinstance(reading, IntakeError):
                    continue
                match = match_copy(reading, index, file_name=_shown_name(c.name), sender=c.sender,
                                   expected_unit_id=c.expected_unit)
                verdict = copy_verdict(reading, match)
                if c.decided_at:
                    verdict = {k: verdict[k] for k in ("valid", "signer", "signed_at", "untrusted")}
                findings = [f.record() for f in (*reading.findings, *match.findings)]
                after = dataclasses.replace(c, findings=findings, **verdict)
                if (after.status, after.unit_id, after.valid, after.signer) != (c.status, c.unit_id, c.valid,
                                                                                c.signer):
                    changed.append((c, after))
                ledger.recheck_signed_copy(db, after)
    ledger.set_meta_value("trust_state", state)
    return changed
