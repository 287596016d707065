"""`generate`: one workbook per unit in outbox/, and the master.

Regenerating is safe: a workbook that would change is first moved to backups/outbox-<time>/,
files the staff put in outbox/ themselves are left alone, and the master is rebuilt through
tracker.master.sync (hand edits recorded first).
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tracker.store.crash_points import checkpoint
from tracker.model.registry import Unit
from tracker.store.files import EXCEL_MAX_PATH, write_user_file
from tracker.store.workspace import Workspace

PARALLEL_FROM = 200   # below this many units one process is faster than starting a pool


@dataclass
class GenerateResult:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    backed_up: list[Path] = field(default_factory=list)
    beside: list[tuple[Path, Path]] = field(default_factory=list)  # (form held open in Excel, where the new one went)
    long_paths: list[str] = field(default_factory=list)    # forms whose full path is too long for Excel
    master: object = None


_FORMS = None   # a building worker's FastForms, made once by _setup_worker


def _setup_worker(campaign, secret: bytes) -> None:
    """A building worker's start: the campaign and the key arrive once, not with every unit."""
    global _FORMS
    import signal

    from tracker.outbound.prototypes import FastForms

    signal.signal(signal.SIGINT, signal.SIG_IGN)       # Ctrl+C is the parent's to handle: it ends the pool
    _FORMS = FastForms(campaign, secret)


def _build_one(unit: Unit) -> bytes:
    return _FORMS.build(unit)


def _workers(n_units: int, jobs: int | None) -> int:
    if jobs is not None:
        return max(1, jobs)
    return min(os.cpu_count() or 1, 4) if n_units >= PARALLEL_FROM else 1


def build_all(ws: Workspace, units: list[Unit], jobs: int | None = None):
    """Yield (unit, bytes) for every unit, in order; in worker processes for large campaigns
    (spawned, as on every OS: each gets the campaign once and builds its own prototypes).

    Every workbook is the same bytes whichever way it is built (tests compare them)."""
    workers = _workers(len(units), jobs)
    if workers == 1:
        from tracker.outbound.prototypes import FastForms

        forms = FastForms(ws.campaign, ws.secret)
        for u in units:
            yield u, forms.build(u)
        return
    import multiprocessing

    # Contiguous chunks keep a group's units together, so each worker reuses its prototypes.
    chunk = max(1, len(units) // (workers * 4))
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_setup_worker,
                                                   initargs=(ws.campaign, ws.secret)) as pool:
        yield from zip(units, pool.imap(_build_one, units, chunksize=chunk))


def write_outbox(ws: Workspace, jobs: int | None = None, progress=None) -> GenerateResult:
    """Write every unit's workbook into outbox/ (in the campaign's lock); `result.master` is left to the caller."""
    result = GenerateResult()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    with ws.lock():
        for unit, data in build_all(ws, ws.units, jobs):
            path = ws.outbox_path(unit)
            if path.exists():
                if path.read_bytes() == data:   # output is deterministic: same bytes, same workbook
                    result.unchanged.append(path)
                    if progress:
                        progress()
                    continue
                backup = ws.backups / f"outbox-{stamp}" / path.relative_to(ws.outbox)
                backup.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.replace(path, backup)
                except PermissionError:     # held open (Excel on Windows): the backup is a copy
                    shutil.copyfile(path, backup)
                result.backed_up.append(backup)
            written = write_user_file(path, data, durable=False)   # regenerable: no fsync per file
            checkpoint("generate.written")
            result.written.append(written)
            if written != path:
                result.beside.append((path, written))
            if progress:
                progress()
    # Staff open the forms where they are (to check them before sending): Excel refuses a long path.
    result.long_paths = [p for p in (os.path.abspath(ws.outbox_path(u)) for u in ws.units)
                         if len(p) > EXCEL_MAX_PATH]
    return result
