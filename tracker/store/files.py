"""Files written so that a reader sees the old one or the new one, never half of either."""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import re
import os
import time
from pathlib import Path


_tmp_numbers = itertools.count()


def _create_temp(folder: Path, name: str) -> tuple[int, Path]:
    """A new temporary file beside `name`, made for this process alone (O_EXCL), with the folder
    made on demand: cheaper than mkstemp's random names, which merge pays once per file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = folder / f".{name}.{os.getpid()}.{next(_tmp_numbers)}.tmp"
        try:
            # 0o666 less the umask, as open() gives: mkstemp's 0600 would hide files from colleagues.
            return os.open(tmp, flags, 0o666), tmp
        except FileNotFoundError:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:       # left by a killed run that had the same process id
            continue
    raise FileExistsError(f"{folder}/.{name}.*.tmp")


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace `path` with `data` all at once: readers see the old file or the new, never half.
    No room on the disk: tracker.store.disk.DiskFull (an OSError) naming the file, its folder and
    the room left."""
    from tracker.store.disk import writing

    with writing(path):
        _atomic_write(path, data, durable)


def _write_temp(path: Path, data: bytes, durable: bool) -> Path:
    """`data` in a new temporary file beside `path` (flushed to disk when `durable`); none is left
    behind when writing fails."""
    fd, tmp = _create_temp(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def _atomic_write(path: Path, data: bytes, durable: bool) -> None:
    tmp = _write_temp(path, data, durable)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# Antivirus scanners and OneDrive hold a new or changed file for a moment: a replacement is tried
# again over about 1.5 s before the file is taken to be open in a program (Excel, Word).
RETRY_DELAYS_S = (0.05, 0.1, 0.2, 0.4, 0.75)


EXCEL_MAX_PATH = 218     # Excel opens no file whose full path (folder and name) is longer


def is_owner_file(name: str) -> bool:
    """Excel's and Word's `~$name` owner files: a note of who has `name` open, never a document."""
    return name.startswith("~$")


def beside_name(path: Path) -> Path:
    """Where a file goes when `path` is held open: `name-YYYYmmdd-HHMMSS.ext` beside it."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in itertools.count(1):
        candidate = path.with_name(f"{path.stem}-{stamp}{'' if n == 1 else f'-{n}'}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise AssertionError("unreachable")


def place_user_file(tmp: Path, path: Path) -> Path:
    """Put the finished file `tmp` in place of `path`, a file people open (a report, a form, a
    draft); where it went. Windows refuses to replace a file open in Excel or Word (and, for a
    moment, one an antivirus or OneDrive is reading): after trying again for ~1.5 s the file is
    put beside it (beside_name) rather than lost or the command stopped. The caller says so."""
    for delay in (*RETRY_DELAYS_S, None):
        try:
            os.replace(tmp, path)
            return path
        except PermissionError as e:
            if not path.exists():       # not a file held open: a folder we may not write in
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise e from None
            if delay is None:
                break
            time.sleep(delay)
    beside = beside_name(path)
    try:
        os.replace(tmp, beside)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return beside


def write_user_file(path: Path, data: bytes, durable: bool = True) -> Path:
    """atomic_write_bytes for a file people open: beside it when it is held open (place_user_file).
    Returns where the bytes went. No room on the disk: DiskFull, as atomic_write_bytes."""
    from tracker.store.disk import writing

    with writing(path):
        return _write_user_file(path, data, durable)


def _write_user_file(path: Path, data: bytes, durable: bool) -> Path:
    return place_user_file(_write_temp(path, data, durable), path)


def user_temp(path: Path) -> Path:
    """A new empty temporary file beside `path`, for a writer that needs a file name (xlsxwriter);
    then place_user_file(temp, path)."""
    fd, tmp = _create_temp(path.parent, path.name)
    os.close(fd)
    return tmp


def flush_to_disk(paths) -> None:
    """Make files written without fsync (atomic_write_bytes(durable=False)) durable, as a batch:
    each file's data, and where the OS lets a folder be synced (POSIX) the folders that name them.

    Portable (Windows has no os.sync) and limited to our files (os.sync flushes everything the
    machine has written). One fsync after another costs a disk-journal commit each (3-6 s for
    3,321 small files here); fsyncs issued together share commits (0.7 s), so a few threads issue
    them. On Windows a file is flushed through a handle that may write (FlushFileBuffers needs
    it); its name in the folder rests on NTFS's journal."""
    files = [os.fspath(p) for p in paths]
    if not files:
        return
    folders = sorted({os.path.dirname(f) for f in files}) if os.name == "posix" else []
    mode = os.O_RDONLY if os.name == "posix" else os.O_RDWR | getattr(os, "O_BINARY", 0)

    def sync(path: str, flags: int = mode) -> None:
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    if len(files) == 1:
        sync(files[0])
        for folder in folders:
            sync(folder, os.O_RDONLY)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(32, len(files))) as pool:
        list(pool.map(sync, files))        # list(): the first error is raised here
        list(pool.map(lambda f: sync(f, os.O_RDONLY), folders))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------- leftovers of a killed run
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(?P<n>\d+)\.tmp$")


def leftover_temps(folder: Path, recursive: bool = True, *, only_dead: bool = True) -> list[Path]:
    """Our own temporary files (`.<name>.<pid>.<n>.tmp`, made by _create_temp) under `folder`
    whose process is gone (with only_dead=False: all of them): what a killed run left behind."""
    from tracker.store.processes import alive

    found, todo = [], [os.fspath(folder)]
    while todo:
        try:
            entries = list(os.scandir(todo.pop()))
        except OSError:
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                if recursive:
                    todo.append(e.path)
                continue
            m = _TEMP_NAME.match(e.name) if e.name.startswith(".") and e.name.endswith(".tmp") else None
            if m is None or not e.is_file(follow_symlinks=False):
                continue
            if only_dead and alive(int(m["pid"])):
                continue
            found.append(Path(e.path))
    return sorted(found)


def remove_leftover_temps(folders: list[tuple[Path, bool]]) -> list[Path]:
    """Remove the temporary files that a killed run of this command left in `folders` ((folder,
    recursive) pairs), when their process is gone; in the campaign's lock (no other run of ours
    is writing there). Returns what was removed."""
    removed = []
    for folder, recursive in folders:
        for path in leftover_temps(folder, recursive):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed
