"""The archive: every file given to merge, kept under its SHA-256, never deleted."""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path
from typing import NamedTuple

from tracker.model.errors import TrackerError
from tracker.store.disk import writing
from tracker.store.files import _create_temp, atomic_write_bytes, sha256_file

HEAD_BYTES = 128
ARCHIVE_IN_MEMORY = 64 << 20   # files up to this size are read once: hashed and written from memory


def _archive_suffix(name: str) -> str:
    """The file's extension as the archive keeps it: lower case, letters and digits, 8 at most."""
    if name.endswith(".xlsx") and name[name.rfind(os.sep) + 1:-5].strip("."):      # nearly every return
        return ".xlsx"
    ext = os.path.splitext(name)[1]
    ext = "" if ext == "." else ext.lower()[:8]      # as Path.suffix: "a." has none
    return ext if ext[1:].isalnum() and ext.isascii() else "".join(c for c in ext if c.isalnum() or c == ".")


def _relative(path: Path, root: Path) -> str:
    return str(path.relative_to(root))


class Archived(NamedTuple):
    digest: str
    path: Path | None   # None for a file known by its digest (a repeat needs no Path; see `relative`)
    size: int
    head: bytes     # the first bytes when the file was read (b"" otherwise): sniffed without a reread
    relative: str   # the path in the campaign folder, as the ledger keeps it


def archive_file(root: Path, source: Path | str, known_digest: str | None = None, opened=None) -> Archived:
    """Copy a given file into the archive under its SHA-256.

    The copy is the very bytes that were hashed (read once), written atomically; it is made
    durable in batches by the caller (files.flush_to_disk before the ledger points at it). With
    `known_digest` (the file was hashed before and has not changed since), a file already
    archived is not read again (its Archived has no `path`). With `opened` (the file opened and
    checked by the caller: tracker.intake.sources.open_given, or a function opening it, called only
    when the file must be read), its bytes are read from there and `source` only names it: what
    was checked is what is archived."""
    suffix = _archive_suffix(os.fspath(source))
    if known_digest is not None:      # strings, not Paths: a re-merge does this for every file
        relative = f"archive/{known_digest[:2]}/{known_digest}{suffix}"
        try:
            return Archived(known_digest, None, os.stat(f"{root}{os.sep}{relative}").st_size, b"", relative)
        except OSError:
            pass        # the copy is gone: read, hashed and archived again
    if opened is None or callable(opened):      # a function opening the file: called only when it is read
        with (opened() if opened is not None else open(source, "rb")) as fh:
            return archive_file(root, source, opened=fh)
    data = None
    if os.fstat(opened.fileno()).st_size <= ARCHIVE_IN_MEMORY:
        data = opened.read()
        digest = hashlib.sha256(data).hexdigest()
    else:
        h = hashlib.sha256()
        for chunk in iter(lambda: opened.read(1 << 20), b""):
            h.update(chunk)
        digest = h.hexdigest()
    dest = Path(root) / "archive" / digest[:2] / f"{digest}{suffix}"
    if data is not None:
        if not dest.exists():
            atomic_write_bytes(dest, data, durable=False)
        return Archived(digest, dest, len(data), data[:HEAD_BYTES], _relative(dest, root))
    if dest.exists():
        return Archived(digest, dest, dest.stat().st_size, b"", _relative(dest, root))
    with writing(dest):
        fd, tmp = _create_temp(dest.parent, dest.name)
        try:
            opened.seek(0)
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(opened, out, 1 << 20)
            if sha256_file(Path(tmp)) != digest:
                raise TrackerError(f"Tệp '{source}' thay đổi trong khi đang sao lưu. Chạy lại lệnh.")
            os.replace(tmp, dest)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return Archived(digest, dest, dest.stat().st_size, b"", _relative(dest, root))
