"""Files written so that a reader sees the old one or the new one, never half of either."""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import re
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
