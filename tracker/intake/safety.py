"""Checks run on a returned file before any parser touches it.

Everything here works from magic bytes and zip/CFB directory structures; nothing is
decompressed except a few tiny members read through `read_member` with a hard limit.
Failures raise `IntakeError` carrying a `Finding` (its words are in tracker.model.findings).
"""
from __future__ import annotations

import copy
import io
import os
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path
from urllib.parse import unquote

from tracker.model.findings import Finding, IntakeError

MiB = 1024 * 1024
MAX_FILE_BYTES = 20 * MiB
MAX_MEMBERS = 2000
MAX_MEMBER_BYTES = 100 * MiB  # declared uncompressed size of one member
MAX_TOTAL_UNCOMPRESSED = 200 * MiB
MAX_RATIO = 200  # uncompressed/compressed, checked for members above RATIO_MIN_BYTES
RATIO_MIN_BYTES = 1 * MiB

ZIP_KINDS = ("xlsx", "xlsm", "ods", "zip")
CONVERTIBLE_KINDS = ("xls", "ods")

_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_ODS_MIMES = (
    b"application/vnd.oasis.opendocument.spreadsheet",
    b"application/vnd.oasis.opendocument.spreadsheet-template",
)


def _fail(code: str, name: str, value: str = "", expected: str = "", **params) -> IntakeError:
    return IntakeError(Finding(code, file=name, value=value, expected=expected, **params))


def _mb(n: int) -> str:
    return f"{n / MiB:.1f}".replace(".", ",")


def _num(x: float) -> str:  # Vietnamese decimal comma
    return f"{x:g}".replace(".", ",")


# --------------------------------------------------------------------------- sniffing


def _cfb_has_stream(data: bytes, name: str) -> bool:
    """True if a CFB directory entry (128-byte aligned) is named `name`.

    Directory sectors start at (n+1)*sector_size with sector_size 512 or 4096, so every
    entry sits at an offset that is a multiple of 128. An entry holds the UTF-16LE name
    (NUL-terminated) at +0, its byte length incl. the NUL at +64, object type at +66.
    """
    needle = (name + "\0").encode("utf-16-le")
    pos = data.find(needle, 512)
    while pos != -1:
        if pos % 128 == 0 and len(data) >= pos + 67:
            (name_len,) = struct.unpack_from("<H", data, pos + 64)
            if name_len == len(needle) and data[pos + 66] in (1, 2):  # storage or stream
                return True
        pos = data.find(needle, pos + 1)
    return False


def _zip_entry_count(fh, size: int) -> int | None:
    """Entry count from the End Of Central Directory record (zip64 aware), or None."""
    tail_len = min(size, 22 + 65535)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos == -1 or len(tail) < pos + 22:
        return None
    count = struct.unpack_from("<H", tail, pos + 10)[0]
    if count != 0xFFFF:
        return count
    # zip64: locator sits just before the EOCD record and points at the zip64 EOCD
    loc = pos - 20
    if loc < 0 or tail[loc:loc + 4] != b"PK\x06\x07":
        return None
    (z64_off,) = struct.unpack_from("<Q", tail, loc + 8)
    if z64_off + 56 > size:
        return None
    fh.seek(z64_off)
    rec = fh.read(56)
    if rec[:4] != b"PK\x06\x06":
        return None
    return struct.unpack_from("<Q", rec, 32)[0]


def _open_zip(fh, size: int) -> tuple[int | None, zipfile.ZipFile | None]:
    """(entry count, the zip opened, or None when damaged or oversized: check_file reports which)."""
    count = _zip_entry_count(fh, size)
    if count is None or count > MAX_MEMBERS:
        return count, None
    try:
        return count, zipfile.ZipFile(fh)
    except Exception:  # damaged: check_file reports it as corrupt_zip
        return count, None


def _zip_kind(zf: zipfile.ZipFile | None, name: str) -> str:
    if zf is None:
        return "zip"
    # Only tiny members are read, through read_member's hard limit.
    names = set(zf.namelist())
    if "mimetype" in names and zf.getinfo("mimetype").file_size <= 256:
        mime = read_member(zf, "mimetype", 256, name).strip()
        if mime in _ODS_MIMES:
            return "ods"
    if "[Content_Types].xml" not in names:
        return "zip"
    ctypes = b""
    if zf.getinfo("[Content_Types].xml").file_size <= MiB:  # else judge by names alone
        ctypes = read_member(zf, "[Content_Types].xml", MiB, name)
        zf.content_types = ctypes       # the reader checks the parts' types with it: one read (~40 µs) saved
    is_sheet = ("xl/workbook.xml" in names or b"spreadsheetml.sheet.main+xml" in ctypes
                or b"spreadsheetml.template.main+xml" in ctypes)
    macro_main = b"sheet.macroEnabled.main+xml" in ctypes or b"template.macroEnabled" in ctypes
    if macro_main or (is_sheet and any(n.endswith("vbaProject.bin") for n in names)):
        return "xlsm"
    return "xlsx" if is_sheet else "zip"


def sniff_kind(path: str | os.PathLike, display_name: str = "") -> str:
    """Kind of file by content: xlsx, xlsm, ods, xls, encrypted, empty, zip or unknown.

    May raise IntakeError (corrupt_zip / zip_bomb) if a tiny member it must read is bad.
    """
    path = Path(path)
    name = display_name or path.name
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            kind, zf = _sniff(fh, size, name)
            if zf is not None:
                zf.close()
            return kind
    except OSError as exc:
        raise _unreadable(name, exc) from None


def _sniff(fh, size: int, name: str) -> tuple[str, zipfile.ZipFile | None]:
    """(kind, and for a zip the ZipFile opened on fh, for the caller to close)."""
    fh.seek(0)
    head = fh.read(8)
    if size == 0:
        return "empty", None
    if head[:4] in _ZIP_MAGICS:
        _, zf = _open_zip(fh, size)
        try:
            return _zip_kind(zf, name), zf
        except BaseException:
            if zf is not None:
                zf.close()
            raise
    if head == _OLE_MAGIC:
        if size > MAX_FILE_BYTES:
            return "xls", None  # not scanned; check_file refuses the size first anyway
        fh.seek(0)
        data = fh.read()
        if _cfb_has_stream(data, "EncryptedPackage") or _cfb_has_stream(data, "EncryptionInfo"):
            return "encrypted", None
        if _cfb_has_stream(data, "Workbook") or _cfb_has_stream(data, "Book"):
            return "xls", None
        return "unknown", None  # e.g. a Word .doc renamed .xls
    return "unknown", None


# --------------------------------------------------------------------------- check_file


def _unreadable(name: str, exc: OSError) -> IntakeError:
    if isinstance(exc, FileNotFoundError):
        return _fail("file_missing", name)
    return _fail("file_unreadable", name, reason=exc.strerror or type(exc).__name__)


def _text_hint(head: bytes) -> str:
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG", b"II*\x00", b"MM\x00*")):
        return "image"
    low = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if low.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")) or b"<table" in low:
        return "html"
    if low.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in low:
        return "xml2003"
    return ""


def _not_spreadsheet(name: str, head: bytes) -> IntakeError:
    # What it is (html, xml2003, pdf, image: a PDF or a picture is usually the signed scan) chooses the words.
    return _fail("not_spreadsheet", name, value=_text_hint(head), expected=".xlsx")


def _bad_name(member: str) -> bool:
    for norm in {member.replace("\\", "/"), unquote(member.replace("\\", "/"))}:
        if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":") or ".." in norm.split("/"):
            return True
    return False


def part_key(name: str) -> str:
    """The name under which a part is found, as lenient as any reader of the package: OPC part names
    are case-insensitive URIs (percent-encoded, "/"-rooted), and zip tools write "\\" for "/". Two
    members with one key are refused (`_check_zip`), so the one part read is the one Excel reads."""
    key = name.replace("\\", "/")
    if "%" in key:
        key = unquote(key)
    key = key.lstrip("/")
    return key.lower() if key.isascii() else unicodedata.normalize("NFC", key).casefold()


def _check_zip(fh, size: int, zf: zipfile.ZipFile | None, name: str) -> None:
    count = _zip_entry_count(fh, size)
    if count is None:
        raise _corrupt(name, "không có thư mục trung tâm của tệp nén")  # cut short
    if count > MAX_MEMBERS:
        raise _too_many(name, count)
    if zf is None:      # any failure to read the directory means a damaged file
        try:
            zipfile.ZipFile(fh).close()
        except Exception as exc:
            raise _corrupt(name, f"{type(exc).__name__}: {exc}") from None
        raise _corrupt(name, "không đọc được thư mục trung tâm của tệp nén")
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _too_many(name, len(infos))
    seen: dict[str, str] = {}
    total = 0
    for info in infos:
        member = info.filename
        if _bad_name(member):
            raise _fail("unsafe_member_name", name, value=member)
        key = part_key(member)
        if key in seen:     # the same name, or one a reader would take for it (case, "\\", %-encoding)
            if seen[key] == member:
                raise _fail("duplicate_member", name, value=member)
            raise _fail("duplicate_member", name, value=member, why="alias", other=seen[key])
        seen[key] = member
        size, packed = info.file_size, info.compress_size
        total += size
        if size > MAX_MEMBER_BYTES:
            raise _bomb(name, f"{member}: {size} byte", f"<= {MAX_MEMBER_BYTES} byte")
        if size > RATIO_MIN_BYTES and size > MAX_RATIO * max(packed, 1):
            raise _bomb(name, f"{member}: tỉ lệ nén {size // max(packed, 1)}", f"<= {MAX_RATIO}")
        if total > MAX_TOTAL_UNCOMPRESSED:
            raise _bomb(name, f"tổng {total} byte", f"<= {MAX_TOTAL_UNCOMPRESSED} byte")


def _corrupt(name: str, value: str) -> IntakeError:
    return _fail("corrupt_zip", name, value=value)


def _too_many(name: str, count: int) -> IntakeError:
    return _fail("too_many_members", name, value=str(count), expected=f"<= {MAX_MEMBERS}", max=MAX_MEMBERS)


def _bomb(name: str, value: str, expected: str) -> IntakeError:
    return _fail("zip_bomb", name, value=value, expected=expected)


def check_file(path: str | os.PathLike, display_name: str = "") -> str:
    """Refuse unsafe or unusable files; return the sniffed kind (xlsx, xlsm, ods or xls)."""
    kind, zf = open_checked(path, display_name)
    if zf is not None:
        zf.close()
    return kind


def open_checked(path: str | os.PathLike, display_name: str = "") -> tuple[str, zipfile.ZipFile | None]:
    """check_file, reading the file once: (kind, and for an xlsx/xlsm the checked ZipFile over the
    file's bytes in memory, for the caller to read and close; else None)."""
    path = Path(path)
    name = display_name or path.name
    try:
        if not path.is_file():
            if not path.exists():
                raise FileNotFoundError(2, "không tồn tại", str(path))
            raise IsADirectoryError(21, "không phải là tệp", str(path))
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            data = f.read(MAX_FILE_BYTES + 1) if size <= MAX_FILE_BYTES else f.read(4096)
    except OSError as exc:
        raise _unreadable(name, exc) from None
    if size == 0:
        raise _fail("empty", name, value="0")
    if size > MAX_FILE_BYTES or len(data) > MAX_FILE_BYTES:
        size = max(size, len(data))
        raise _fail("too_large", name, value=str(size), expected=f"<= {MAX_FILE_BYTES}", size_mb=_mb(size),
                    max_mb=_mb(MAX_FILE_BYTES))
    fh = io.BytesIO(data)
    kind, zf = _sniff(fh, len(data), name)
    try:
        if kind == "encrypted":
            raise _fail("encrypted", name)
        if kind == "unknown":
            raise _not_spreadsheet(name, data[:4096])
        if kind in ZIP_KINDS:
            _check_zip(fh, len(data), zf, name)
            if kind == "zip":
                if "xl/workbook.bin" in set(zf.namelist()):
                    raise _fail("xlsb", name, value=".xlsb", expected=".xlsx")
                raise _fail("zip_not_spreadsheet", name, expected=".xlsx")
    except BaseException:
        if zf is not None:
            zf.close()
        raise
    if kind not in ("xlsx", "xlsm") and zf is not None:
        zf.close()
        zf = None
    return kind, zf


# --------------------------------------------------------------------------- bounded reads


def read_member(zf: zipfile.ZipFile, name: str, limit: int, display_name: str = "") -> bytes:
    """Decompress member `name`, refusing (zip_bomb) as soon as more than `limit` bytes come.

    zipfile itself truncates output at the declared size, so a member whose central
    directory understates its size would be cut silently (then fail its CRC). We read
    with the declared size raised past `limit` so the real size shows.
    """
    label = display_name or os.path.basename(str(zf.filename or ""))
    try:
        info = _copy_info(zf.getinfo(name))
        declared = info.file_size
        if declared > limit:
            raise _bomb(label, f"{name}: {declared} byte", f"<= {limit} byte")
        # Margin so zipfile's read-ahead never reaches the fake end (that triggers its CRC check).
        info.file_size = limit + 1 + MiB
        out = bytearray()
        with zf.open(info) as fh:
            while len(out) <= limit:
                chunk = fh.read(min(64 * 1024, limit + 1 - len(out)))
                if not chunk:
                    break
                out += chunk
    except IntakeError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ValueError,
            NotImplementedError, RuntimeError) as exc:
        raise _fail("corrupt_zip", label, value=str(exc), problem="part_unreadable", part=name) from None
    if len(out) > limit:
        raise _bomb(label, f"{name}: > {limit} byte (khai báo {declared} byte)", f"<= {limit} byte")
    if len(out) != declared:
        raise _fail("corrupt_zip", label, value=f"{len(out)} != {declared}", problem="part_size", part=name)
    return bytes(out)


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A shallow copy of a ZipInfo, slot by slot: copy.copy takes a third of the time of reading a
    small member (every return reads about ten)."""
    slots = getattr(type(info), "__slots__", None)
    if not slots or type(info) is not zipfile.ZipInfo:
        return copy.copy(info)
    out = zipfile.ZipInfo.__new__(zipfile.ZipInfo)
    for slot in slots:
        if hasattr(info, slot):
            setattr(out, slot, getattr(info, slot))
    return out


safe_member_reader = read_member  # name used in the design notes
