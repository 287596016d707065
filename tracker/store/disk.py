"""A disk with no room left, said as the staff can act on it: which file could not be written, in
which folder, how much room that disk has left, what to do (finding disk_full).

A full disk is the campaign's own trouble, never a unit's: a return that could not be archived
for want of room is not refused as the unit's fault (merge says "not merged yet" and the reports
forwarded to units leave it out, tracker.reports.merge_report.to_forward); it is merged when it is
given again once there is room.
"""
from __future__ import annotations

import contextlib
import errno
import shutil
from pathlib import Path

from tracker.model.findings import Finding, FindingError

_NO_ROOM = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_WINDOWS_NO_ROOM = {39, 112}        # ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL


class DiskFull(FindingError, OSError):
    """No room to write a file: a TrackerError (its finding says it all) that is still an OSError, so
    that what treated a failed write as optional (a cache, a lock's note) still does."""

    def __init__(self, finding: Finding, details: list | None = None):
        super().__init__(finding, details)
        self.errno = errno.ENOSPC


def no_room(e: BaseException | None) -> bool:
    """Does `e` (or what it wraps: xlsxwriter's FileCreateError holds the OSError) say the disk is full?"""
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, DiskFull) or (isinstance(e, OSError) and (
                e.errno in _NO_ROOM or getattr(e, "winerror", None) in _WINDOWS_NO_ROOM)):
            return True
        inner = next((a for a in getattr(e, "args", ()) if isinstance(a, BaseException)), None)
        e = inner or e.__cause__ or e.__context__
    return False


def free_space(folder: Path | str) -> str:
    """Room left on the disk holding `folder` ("1,5 MB"), or "?" when it cannot be known."""
    p = Path(folder)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        free = shutil.disk_usage(p).free
    except OSError:
        return "?"
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if free >= size:
            return f"{free / size:.1f} {unit}".replace(".", ",")
    return f"{free} byte"


def disk_full(path: Path | str, *, name: str = "", during: str = "") -> DiskFull:
    """The error for `path` not written for want of room. `name`: the file as the staff know it (a
    unit's return), when `path` is our copy of it; `during="merge"`: a return not merged yet."""
    path = Path(path)
    return DiskFull(Finding("disk_full", file=name or path.name, folder=str(path.parent),
                            free=free_space(path.parent), during=during))


@contextlib.contextmanager
def writing(path: Path | str):
    """Whatever the block fails to write for want of room is said as disk_full for `path`."""
    try:
        yield
    except DiskFull:
        raise
    except Exception as e:
        if no_room(e):
            raise disk_full(path) from None
        raise
