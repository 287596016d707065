"""Files written so that a reader sees the old one or the new one, never half of either."""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
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
    """Replace `path` with `data` all at once: readers see the old file or the new, never half."""
    fd, tmp = _create_temp(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
