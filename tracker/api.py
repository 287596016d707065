"""The library's face: each step of a campaign as one call, composed from the stages.

    from tracker.api import CampaignFolder
    folder = CampaignFolder.open("workbooks/hanoi-ttdt-2026")
    result = folder.merge(["inbox/"])          # what became of each file
    stats = folder.stats()                     # the acceptance counts

A step holds the campaign's lock for all of its parts: `generate` writes the outbox, then
rebuilds the master; `merge` records the hand edits typed into the master, runs the pipeline
(inbox -> intake -> ledger), rebuilds the master and writes the merge report. The command line
(tracker.cli) is a thin shell over these calls.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from tracker.store.crash_points import checkpoint
from tracker.store.ledger import Ledger
from tracker.store.workspace import Workspace


def generate(ws: Workspace, jobs: int | None = None, progress=None):
    """Every unit's workbook in outbox/, then the master rebuilt (hand edits recorded first)."""
    from tracker.master.sync import rebuild
    from tracker.outbound.generate import write_outbox

    from tracker.store.files import remove_leftover_temps

    with ws.lock():
        # What a killed generate left half-written: its process is gone, and we hold the lock.
        remove_leftover_temps([(ws.outbox, True), (ws.root, False), (ws.backups, False)])
        started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        ws.back_up_secret()         # the forms carry tokens of this key: keep a copy a folder copy keeps
        result = write_outbox(ws, jobs=jobs, progress=progress)
        checkpoint("generate.before_master")
        with Ledger(ws.ledger_file) as ledger:
            ledger.note_forms_generated(started)     # no unit saved a form before (merge's plausible times)
            result.master = rebuild(ws, ledger)
    return result


def merge(ws: Workspace, paths: list, received: dt.date | None = None, progress=None, report: bool = True,
          lock_timeout: float | None = None, workers: int | None = None):
    """Merge the returns at `paths` (files, folders, saved emails): a tracker.merge.MergeReport.

    Hand edits in the master are recorded first; the master is rebuilt once at the end and the
    merge report written beside it."""
    from tracker.master.sync import absorb_manual_entries, write_master
    from tracker.merge import merge_files
    from tracker.store.files import remove_leftover_temps

    with ws.lock(*([lock_timeout] if lock_timeout is not None else [])), \
            tempfile.TemporaryDirectory(prefix="tracker-merge-") as tmpdir, Ledger(ws.ledger_file) as ledger:
        remove_leftover_temps([(ws.archive, True), (ws.root, False)])     # a killed merge's, its process gone
        absorbed = absorb_manual_entries(ws, ledger)
        result = merge_files(ws, ledger, [Path(p) for p in paths], Path(tmpdir), received, progress, workers)
        checkpoint("merge.before_master")
        writer = None
        if report and any(f.outcome != "duplicate" for f in result.files):
            writer = _ReportBeside(ws, result)      # written by a second process while the master is built
        result.master = write_master(ws, ledger, force=bool(absorbed.units), absorbed=absorbed)
        result.master.manual_units, result.master.findings = absorbed.units, absorbed.findings
    if writer is not None:
        result.report_path = writer.finish()
    return result


# ---------------------------------------------------------------------------- signed copies
def signed_copies(ws: Workspace, statuses=None) -> list:
    """The signed copies recorded (tracker.store.ledger.SignedCopy), oldest first; read-only."""
    if not ws.ledger_file.exists():
        return []
    with Ledger.reader(ws.ledger_file) as ledger:
        return ledger.signed_copies(statuses=statuses)


def find_copy(copies: list, ref: str):
    """The copy `ref` names: its number (as `tracker signed list` shows it), its file name (with or
    without the email's), or the start of its SHA-256 (8 characters or more). TrackerError when
    none or several do."""
    from tracker.model.errors import TrackerError

    ref = str(ref).strip()
    if ref.isdigit():
        hits = [c for c in copies if c.id == int(ref)]
    else:
        low = ref.casefold()
        hits = [c for c in copies if low in (c.name.casefold(), c.name.rsplit(" › ", 1)[-1].casefold())]
        if not hits and len(ref) >= 8 and all(ch in "0123456789abcdef" for ch in low):
            hits = [c for c in copies if c.sha256.startswith(low)]
    if not hits:
        raise TrackerError(f"Không có bản ký nào là '{ref}'. Xem số thứ tự và tên tệp bằng 'tracker signed list'.")
    if len(hits) > 1:
        raise TrackerError(f"Có {len(hits)} bản ký cùng tên '{ref}' (số {', '.join(str(c.id) for c in hits)}): "
                           "chỉ rõ bằng số thứ tự, ví dụ 'tracker signed confirm " + str(hits[-1].id) + "'.")
    return hits[0]


def decide_copy(ws: Workspace, ref: str, *, unit_id: str | None = None, reject: bool = False, note: str = ""):
    """Staff's word on a signed copy: attach it to its unit (or to `unit_id`), or reject it. The
    master is rebuilt (its column of signed copies changes). Returns the copy as it now is."""
    from tracker.model.errors import TrackerError

    if not ws.ledger_file.exists():
        raise TrackerError("Chưa có bản ký nào được ghép (chưa có sổ ghi). Ghép bằng 'tracker merge'.")
    with ws.lock(), Ledger(ws.ledger_file) as ledger:
        c = find_copy(ledger.signed_copies(), ref)
        if reject:
            status, unit = "rejected", c.unit_id
        else:
            unit = unit_id or c.unit_id
            if unit is None:
                raise TrackerError(f"Bản ký '{c.name}' chưa nhận ra đơn vị nào: chỉ rõ đơn vị bằng --unit, ví dụ "
                                   f"'tracker signed confirm {c.id} --unit xp-00004'.")
            if unit not in ws.unit_by_id:
                raise TrackerError(f"Không có đơn vị mã '{unit}' trong {ws.registry_file.name}.")
            status = "attached"
        ledger.decide_signed_copy(c.id, status=status, unit_id=unit, method="staff" if not reject else c.method,
                                  note=note)
        _master_after(ws, ledger)
        return ledger.signed_copy_at(c.id)


def _master_after(ws: Workspace, ledger: Ledger):
    """The master rebuilt after a change of the signed copies: hand edits typed in it recorded first."""
    from tracker.master.sync import absorb_manual_entries, write_master

    absorbed = absorb_manual_entries(ws, ledger)
    return write_master(ws, ledger, force=bool(absorbed.units), absorbed=absorbed)


def recheck_signed(ws: Workspace) -> tuple[list, list]:
    """Read again every copy whose signature did not chain to the trust roots, with the roots now in
    trust/: ([(before, after)] of the copies whose verdict changed, notices about trust/)."""
    from tracker.merge import recheck_copies

    if not ws.ledger_file.exists():
        return [], []
    notices: list = []
    with ws.lock(), Ledger(ws.ledger_file) as ledger:
        changed = recheck_copies(ws, ledger, notices, force=True)
        if changed:
            _master_after(ws, ledger)
    return changed, notices


class _ReportBeside:
    """The merge report, written by a forked copy of this process while this one rebuilds the
    master: both cores work on the tail of a merge. Whatever happens to the copy (an error, a
    hang), `finish` writes the report here instead: it is never lost."""

    WAIT_S = 120

    def __init__(self, ws: Workspace, result):
        from tracker.reports.merge_report import report_path, write_merge_report

        self.ws, self.result, self.write = ws, result, write_merge_report    # imported before the fork
        self.path = report_path(ws)
        self.pid = None
        if not hasattr(os, "fork"):
            return
        try:
            pid = os.fork()
        except OSError:
            return
        if pid == 0:        # the copy: write the report, leave at once (no cleanup of the parent's state)
            code = 1
            try:
                self.write(ws, result, self.path)
                code = 0
            finally:
                os._exit(code)
        self.pid = pid

    def finish(self) -> Path:
        if self.pid is not None:
            import time

            deadline = time.monotonic() + self.WAIT_S
            while True:
                done, status = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    if os.waitstatus_to_exitcode(status) == 0 and self.path.is_file():
                        return self.path
                    break
                if time.monotonic() > deadline:
                    os.kill(self.pid, 9)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.01)
        return self.write(self.ws, self.result, self.path)


class CampaignFolder:
    """A campaign folder for other Python programs: its steps, and its figures as typed objects.

        folder = CampaignFolder("workbooks/hanoi-ttdt-2026")     # or CampaignFolder.create(...)
        folder.merge(["inbox/"])
        folder.stats(as_of=date(2026, 6, 10)).products.accepted
        folder.rows_frame()          # pandas, with `pip install tracker[pandas]`

    Every method is one step, holding the campaign's lock where it writes; reading ones never
    write (they open the ledger read-only)."""

    def __init__(self, path=None):
        """`path`: the folder; None: the current directory if it is a campaign, else the default."""
        self.workspace = path if isinstance(path, Workspace) else Workspace.find(path)

    @classmethod
    def create(cls, root, template: str | None = None, units=None, force: bool = False) -> "CampaignFolder":
        """A new campaign folder from a template (built-in name or .toml path) and a registry."""
        from tracker.model.campaign import template_path
        from tracker.store.workspace import init_workspace

        return cls(init_workspace(Path(root), template_path(template), Path(units) if units else None, force))

    @property
    def root(self) -> Path:
        return self.workspace.root

    @property
    def campaign(self):
        """The template: criteria, groups, answers, due date (tracker.model.campaign.Campaign)."""
        return self.workspace.campaign

    @property
    def units(self) -> list:
        """The registry's units and their products (tracker.model.registry.Unit)."""
        return self.workspace.units

    # ------------------------------------------------------------------ steps
    def generate(self, jobs: int | None = None):
        return generate(self.workspace, jobs=jobs)

    def merge(self, paths, received: dt.date | None = None, report: bool = True):
        return merge(self.workspace, list(paths), received=received, report=report)

    def report(self, as_of: dt.date | None = None, formats=("xlsx", "docx")):
        """The acceptance report files (tracker.reports.acceptance.ReportResult)."""
        from tracker.reports.acceptance import write_report

        return write_report(self.workspace, as_of, formats)

    def verify(self):
        from tracker.verify import verify

        return verify(self.workspace)

    # ------------------------------------------------------------------ figures
    def stats(self, as_of: dt.date | None = None):
        """The acceptance counts (tracker.stats.Stats); `.to_json()` is `tracker stats --format json`."""
        from tracker.stats import campaign_stats

        return campaign_stats(self.workspace, as_of)

    def rows(self, as_of: dt.date | None = None) -> list:
        """One tracker.stats.ProductRow per product: status, deadline status, answers."""
        return list(self.stats(as_of).rows)

    def missing(self, as_of: dt.date | None = None) -> list:
        """The units with no valid return (tracker.reports.model.UnitItem)."""
        from tracker.reports.model import missing_units

        return missing_units(self.stats(as_of))

    def history(self) -> dict[str, list]:
        """Every unit's submissions, oldest first (tracker.store.ledger.Submission), superseded ones
        included: the ledger is never rewritten."""
        if not self.workspace.ledger_file.exists():
            return {}
        with Ledger.reader(self.workspace.ledger_file) as ledger:
            return ledger.history()

    # ------------------------------------------------------------------ pandas (tracker[pandas])
    def rows_frame(self, as_of: dt.date | None = None):
        """The rows as a pandas DataFrame: one row per product, a column per criterion."""
        from tracker.frames import rows_frame

        return rows_frame(self.stats(as_of), self.campaign)

    def history_frame(self):
        """Every answer of every submission as a pandas DataFrame (long form)."""
        from tracker.frames import history_frame

        return history_frame(self.history(), self.campaign)
