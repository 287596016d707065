"""The campaign's locks, and who holds them.

A lock is a FileLock in .tracker/; beside it, while it is held, a small JSON note says who holds
it (process, machine, user, command, since when), so that a command that finds the campaign or its
ledger busy can name the holder instead of waiting in silence. The note is advisory: the lock is
the FileLock; a note left by a process that died is ignored (same machine, process gone).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import socket
import sys
from pathlib import Path

from tracker.model.errors import TrackerError

from tracker.store.processes import alive


def note_path(lock_file: Path) -> Path:
    return lock_file.with_name(lock_file.name + ".holder")


def _command() -> str:
    args = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]
    if args[0] in ("__main__.py", "-m", "-c"):
        args[0] = "tracker"
    return " ".join(args)[:200]


def _me() -> dict:
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):
        user = ""
    return {"pid": os.getpid(), "host": socket.gethostname(), "user": user, "command": _command(),
            "since": dt.datetime.now().isoformat(timespec="seconds")}


def file_lock(lock_file: Path):
    from filelock import FileLock

    lock_file.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(lock_file))


@contextlib.contextmanager
def held(lock_file: Path, timeout: float, busy_message, make_lock=None):
    """Hold the FileLock at `lock_file` (waiting up to `timeout` s) and leave a note of who holds it.
    `make_lock()` gives the FileLock (the same object each time makes the lock reentrant); by
    default a new one. `busy_message(holder_text)` is the TrackerError's text when it stays
    held. A folder that cannot be written (read-only, no permission) says so."""
    from filelock import Timeout

    try:
        lock = make_lock() if make_lock else file_lock(lock_file)
        lock.acquire(timeout=timeout)
    except Timeout:
        raise TrackerError(busy_message(holder_text(lock_file))) from None
    except OSError as e:
        raise TrackerError(f"Không ghi được vào thư mục '{lock_file.parent.parent}' ({e.strerror}): lệnh này cần "
                           "ghi vào thư mục chiến dịch. Kiểm tra quyền ghi (thư mục chỉ đọc, ổ mạng, quyền truy cập); "
                           "các lệnh chỉ đọc (stats, report, missing, verify) vẫn chạy được.") from None
    note = note_path(lock_file)
    first = lock.lock_counter == 1          # reentrant: the outermost holder writes and removes the note
    if first:
        with contextlib.suppress(OSError):
            from tracker.store.files import atomic_write_bytes

            atomic_write_bytes(note, json.dumps(_me(), ensure_ascii=False).encode(), durable=False)
    try:
        yield
    finally:
        if first:
            with contextlib.suppress(OSError):
                note.unlink()
        lock.release()


def holder(lock_file: Path) -> dict | None:
    """Who holds the lock at `lock_file`, as its note says; None when unknown or the note is stale."""
    try:
        info = json.loads(note_path(lock_file).read_text(encoding="utf-8"))
        pid, host = int(info["pid"]), str(info["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if host == socket.gethostname() and not alive(pid):
        return None
    return info


def describe(info: dict) -> str:
    """A holder, as the messages name it."""
    parts = [f"máy {info.get('host')}"]
    if info.get("user"):
        parts.append(f"người dùng {info['user']}")
    parts.append(f"tiến trình {info.get('pid')}")
    try:
        since = dt.datetime.fromisoformat(str(info.get("since")))
        parts.append(f"từ {since:%H:%M} ngày {since:%d/%m/%Y}")
    except ValueError:
        pass
    return f"lệnh '{info.get('command') or 'tracker'}' ({', '.join(parts)})"


def holder_text(lock_file: Path) -> str:
    info = holder(lock_file)
    return describe(info) if info else "một lệnh tracker khác"


def holders(state_dir: Path) -> list[str]:
    """Every tracker command holding one of the campaign's locks now, as the messages name them."""
    out = []
    for lock_file in sorted(Path(state_dir).glob("*.lock")):
        info = holder(lock_file)
        if info:
            out.append(describe(info))
    return out
