"""Files merge has hashed before: a re-merge of an unchanged inbox reads none of them.

A file's SHA-256 is taken from the ledger instead of its bytes only when its path, size,
modification and change times and inode are all as they were, and it had not been touched for
a while before it was hashed (as git does for its index: a file written in the same instant as
it was hashed could change again without its times showing it, on file systems that keep
times coarsely). Anything else is read and hashed again, so the cache can make merge faster,
never wrong: the archive is still checked for the file, and the ledger decides what is a repeat.
"""
from __future__ import annotations

import os
import time

SETTLED_NS = 3_000_000_000     # a file untouched this long before hashing is trusted by its stat


def _storable(text: str) -> str:
    """A path as SQLite can store it, one to one: a Windows zip's non-UTF-8 name (surrogate escapes
    in Python) with its bytes as \\xNN."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class SeenFiles:
    def __init__(self, ledger):
        self.ledger = ledger
        self._known = ledger.seen_files()
        self._pending: list[tuple] = []
        self._cwd = os.getcwd()
        self._folders: dict[str, str] = {}

    def key(self, path) -> str:
        """os.path.abspath, with each folder made absolute once (a re-merge asks for thousands);
        bytes of a name that are not UTF-8 as \\xNN (SQLite takes no surrogate escapes)."""
        folder, sep, name = os.fspath(path).rpartition(os.sep)
        if not sep or name in ("", ".", ".."):
            return _storable(os.path.normpath(os.path.join(self._cwd, path)))
        absolute = self._folders.get(folder)
        if absolute is None:     # kept with its separator: joining is then a concatenation
            absolute = os.path.normpath(os.path.join(self._cwd, folder or os.sep))
            absolute = self._folders[folder] = _storable(absolute if absolute.endswith(os.sep) else absolute + os.sep)
        return absolute + (name if name.isascii() else _storable(name))

    def digest(self, path, st: os.stat_result | None) -> str | None:
        """The file's SHA-256 if it is known and the file cannot have changed since; else None."""
        if st is None:
            return None
        known = self._known.get(self.key(path))
        if known is None:
            return None
        size, mtime_ns, ctime_ns, inode, sha256, hashed_at_ns = known
        if (size, mtime_ns, ctime_ns, inode) != (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino):
            return None
        if max(mtime_ns, ctime_ns) > hashed_at_ns - SETTLED_NS:
            return None
        return sha256

    def remember(self, path, st: os.stat_result | None, sha256: str) -> None:
        if st is not None:
            self._pending.append((self.key(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, sha256,
                                  time.time_ns()))

    def flush(self) -> None:
        """Written in one transaction; losing it (a kill) only means hashing those files again."""
        if self._pending:
            self.ledger.remember_seen(self._pending)
            self._pending.clear()
