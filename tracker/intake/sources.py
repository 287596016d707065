"""What a path given to merge holds: a workbook, or a saved email (.eml/.msg) with workbooks attached.

Only regular files are ever read: a symbolic link (it could point at any file of the machine and
copy it into archive/), a FIFO (reading it waits forever, with the campaign locked), a device
(/dev/zero never ends) or a socket is listed as not taken, with why, and nothing is read from it.
A file is opened without following links where the system allows it (O_NOFOLLOW), without
waiting (O_NONBLOCK), and checked on the opened descriptor (fstat: a regular file, its size
within MAX_GIVEN_BYTES) before a byte is read: what was checked is what is read.

Excel's owner files (`~$name.xlsx`, written beside a workbook while it is open) and
LibreOffice's lock files (`.~lock.name.xlsx#`) are passed over without a word: they are no
return. File names that are not valid UTF-8 (a Windows zip's names in code page 1258, which
Python keeps as surrogate escapes) are shown and stored readably (`readable`).
"""
from __future__ import annotations

import os
import re
import stat
import unicodedata
from pathlib import Path

from tracker.intake.incoming import Incoming
from tracker.model.findings import Finding

EMAIL_SUFFIXES = {".eml", ".msg"}
# The largest file merge takes from a path: above every return it reads (a workbook 20 MB, a
# saved email 100 MB, a scanned copy); anything larger is refused before it is read.
MAX_GIVEN_BYTES = 200 * 1024 * 1024
SKIP_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_SURROGATES = re.compile("[\udc80-\udcff]+")


def is_email(path: str | Path) -> bool:
    return os.path.splitext(path)[1].lower() in EMAIL_SUFFIXES


def passed_over(name: str) -> bool:
    """Files that are no return and are skipped silently: the system's (.DS_Store, Thumbs.db),
    Excel's owner files `~$name.xlsx`, LibreOffice's lock files `.~lock.name.xlsx#`."""
    return name in SKIP_NAMES or name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#"))


# ---------------------------------------------------------------------- names
def readable(text: str) -> str:
    """A file name fit to show and to store (SQLite, a workbook, a terminal): as typed (NFC: macOS
    and some zip tools give NFD), and the bytes that were not UTF-8 decoded (see `decoded`)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", decoded(text))


def decoded(text: str) -> str:
    """A path with the bytes that were not UTF-8 (kept by Python as surrogate escapes, which no
    UTF-8 writer takes) decoded as Windows' Vietnamese code page 1258, where a Windows zip's names
    come from (a byte cp1258 does not define shows as U+FFFD); anything else as it is."""
    if text.isascii() or not _SURROGATES.search(text):
        return text

    def decode(m: re.Match) -> str:
        return m.group().encode("utf-8", "surrogateescape").decode("cp1258", errors="replace")
    return _SURROGATES.sub(decode, text)


# ---------------------------------------------------------------------- what is taken
def kind_of(mode: int) -> str | None:
    """None for a regular file; else what it is: symlink, fifo, device, socket, directory, other."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISDIR(mode):
        return "directory"
    return "other"


class NotTaken(Exception):
    """A path merge does not read: `finding` says why."""

    def __init__(self, finding: Finding):
        super().__init__(finding.code)
        self.finding = finding


def not_regular(name: str, kind: str) -> Finding:
    return Finding("not_regular_file", file=name, kind=kind)


def too_large(name: str, size: int) -> Finding:
    return Finding("too_large", file=name, value=str(size), expected=f"<= {MAX_GIVEN_BYTES}",
                   size_mb=size // (1024 * 1024), max_mb=MAX_GIVEN_BYTES // (1024 * 1024))


_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


def open_given(path: str | os.PathLike, name: str):
    """(binary file, its fstat) of a regular file given to merge, opened without following a link
    and without waiting on a FIFO, its size checked on the descriptor before anything is read.
    NotTaken (with the finding) for anything else; OSError when it cannot be opened."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as e:
        import errno

        # O_NOFOLLOW on a link: ELOOP (Linux, macOS), EMLINK (FreeBSD).
        if e.errno in (errno.ELOOP, getattr(errno, "EMLINK", -1)) and os.path.islink(path):
            raise NotTaken(not_regular(name, "symlink")) from None
        raise
    try:
        st = os.fstat(fd)
        kind = kind_of(st.st_mode)
        if kind is not None:
            raise NotTaken(not_regular(name, kind))
        if st.st_size > MAX_GIVEN_BYTES:
            raise NotTaken(too_large(name, st.st_size))
        if hasattr(os, "set_blocking") and os.name != "nt":
            os.set_blocking(fd, True)       # a regular file: reads are whole again
        return os.fdopen(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


def check_given(path: str | os.PathLike, name: str, st: os.stat_result | None = None) -> os.stat_result:
    """The lstat of a path given to merge when it is a regular file within bounds (nothing is
    read); NotTaken otherwise. A link is never followed."""
    st = st if st is not None else os.lstat(path)
    kind = kind_of(st.st_mode)
    if kind is not None:
        raise NotTaken(not_regular(name, kind))
    if st.st_size > MAX_GIVEN_BYTES:
        raise NotTaken(too_large(name, st.st_size))
    return st


def workbook(path: str | Path):
    """A file given as it is (not a saved email) as an Incoming. A path found in a folder stays
    a string (thousands of Path objects cost a re-merge a tenth of its time)."""
    origin = os.fspath(path)
    return Incoming(path=path, name=readable(os.path.basename(origin)), origin=decoded(origin))


# ---------------------------------------------------------------------- the workbook's own time
CORE_PART = "docProps/core.xml"
_W3CDTF = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def workbook_saved_time(path: str | os.PathLike):
    """When an .xlsx says it was last saved: dcterms:modified of docProps/core.xml (Excel and
    LibreOffice write it in UTC at each save), as an aware datetime; None when the workbook says
    no such time or it cannot be read. Bounded: the part is read only when small."""
    import datetime as dt
    import zipfile

    from defusedxml import ElementTree

    from tracker.intake.safety import read_member
    from tracker.model.findings import IntakeError

    try:
        with zipfile.ZipFile(path) as zf:
            data = read_member(zf, CORE_PART, 64 * 1024)
        root = ElementTree.fromstring(data)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, IntakeError, ElementTree.ParseError,
            ElementTree.DefusedXmlException):
        return None
    node = root.find("{http://purl.org/dc/terms/}modified")
    m = _W3CDTF.match((node.text or "").strip()) if node is not None else None
    if m is None:
        return None
    try:
        when = dt.datetime.fromisoformat(m[1])
    except ValueError:
        return None
    offset = m[3] or "Z"         # a time without a zone: UTC, as the format's writers mean it
    tz = dt.timezone.utc if offset == "Z" else dt.datetime.strptime(offset.replace(":", ""), "%z").tzinfo
    return when.replace(tzinfo=tz)
