"""Saved emails given to merge (.eml, Outlook .msg): their workbook attachments become returns,
and so do their signed copies of the biên bản (PDF, JPG, PNG, TIF attachments; pictures shown in
the body, such as a logo in the signature, are not attachments and are passed over).

Each workbook attachment is written under merge's private tmp folder with a generated name (an
attachment's name is display text, never a path), and carries the email's Date (to the second,
in Vietnam time) as its received time and the From address as its sender; merge archives the
email itself too. An email holding no workbook is a notice (error).

What an email holds is read whole or not at all: attached emails (message/rfc822, .eml, an
Outlook .msg, forwarded inside forwarded) and Outlook's rich-text `winmail.dat` (TNEF, read with
tnefparse) are opened down to MAX_DEPTH levels; past that bound, or past MAX_WORKBOOKS workbooks,
or MAX_PARTS parts of any kind (scans, pictures, signatures...), the whole email is refused and
says why: never the first hundred workbooks merged and the rest dropped.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from tracker.intake.incoming import Incoming
from tracker.model.dates import VN_TZ, as_vn  # noqa: F401 - VN_TZ: imported from here by mail
from tracker.model.findings import Finding

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
WORKBOOK_MIMES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel.sheet.macroenabled.12",
    "application/vnd.ms-excel",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/x-msexcel", "application/x-excel", "application/excel",
}
# Signed copies of the biên bản: a scan, a photo, a digitally signed PDF (tracker.intake.signed_copy).
COPY_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".tif", ".tiff")
COPY_MIMES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/pjpeg": ".jpg", "image/png": ".png",
              "image/tiff": ".tif"}
# A picture attached this small is a logo or an icon, not a page: a one-page A4 scan at 150 dpi is
# far above it, even as a black-and-white PNG.
MIN_PICTURE_BYTES = 16 * 1024
TNEF_MIMES = {"application/ms-tnef", "application/vnd.ms-tnef"}
MSG_MIMES = {"application/vnd.ms-outlook", "application/x-ole-storage"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_EMAIL_BYTES = 100 * 1024 * 1024
# One email may carry every unit's reply (a colleague forwarding 136 workbooks with their 136 PDF
# scans): the bounds are far above that, and only stop an email made to exhaust the machine.
MAX_WORKBOOKS = 2000        # workbooks in one email
MAX_PARTS = 10000           # parts of any kind walked in one email, nested messages included
MAX_DEPTH = 8               # messages inside messages (forwarded in forwarded, winmail.dat, .msg)
MAX_ATTACHMENTS = MAX_PARTS     # the former name of the bound on parts
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Attachment:
    name: str          # as the email gives it: shown to people only
    mime: str
    data: bytes
    senders: tuple[str, ...] = ()    # From addresses of the messages around it, outermost first
    inline: bool = False             # shown in the body (a Content-ID, not marked as an attachment)


@dataclass
class SavedEmail:
    subject: str
    sender: str        # the From address
    date: dt.datetime | None
    attachments: list[Attachment]       # every leaf attachment, workbooks or not


class TooComplex(Exception):
    """The email is past one of the bounds: `what` is "workbooks", "parts" or "depth"."""

    def __init__(self, what: str, count: int, limit: int):
        super().__init__(what)
        self.what, self.count, self.limit = what, count, limit


class _Walk:
    """The bounds of one email's walk: parts seen so far."""

    def __init__(self):
        self.parts = 0

    def part(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise TooComplex("parts", self.parts, MAX_PARTS)

    @staticmethod
    def deeper(depth: int) -> int:
        if depth + 1 > MAX_DEPTH:
            raise TooComplex("depth", depth + 1, MAX_DEPTH)
        return depth + 1


def incoming(path: Path, tmp: Path, notices: list[Finding], name: str | None = None, origin: str | None = None):
    """Yield a tracker.intake.incoming.Incoming per workbook attached to the saved email at `path`
    (merge gives its archived copy), shown as `name`, coming from `origin` (where it was given)."""
    name = name or path.name
    origin = origin or str(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except OSError as e:
        notices.append(Finding("unreadable", file=name, kind="email", reason=e.strerror or type(e).__name__))
        return
    if size > MAX_EMAIL_BYTES:
        notices.append(Finding("email_too_large", file=name, value=str(size), expected=f"<= {MAX_EMAIL_BYTES}",
                               size_mb=size // (1024 * 1024), max_mb=MAX_EMAIL_BYTES // (1024 * 1024)))
        return
    # Outlook's .msg: by its name, or an OLE file whatever it is called; anything else is MIME text.
    is_msg = name.lower().endswith(".msg") or magic[:4] == OLE_MAGIC[:4]
    try:
        mail = read_msg(path) if is_msg else read_eml(path)
        workbooks = [a for a in mail.attachments if is_workbook(a)]
        copies = [a for a in mail.attachments if not is_workbook(a) and is_signed_copy(a)]
        if len(workbooks) > MAX_WORKBOOKS:
            raise TooComplex("workbooks", len(workbooks), MAX_WORKBOOKS)
    except TooComplex as e:
        notices.append(Finding("email_too_complex", file=name, value=str(e.count), expected=f"<= {e.limit}",
                               what=e.what, limit=e.limit))
        return
    except ImportError:     # a reading library missing from this installation (extract-msg, tnefparse)
        notices.append(Finding("email_unsupported", file=name))
        return
    except Exception as e:  # noqa: BLE001 - any parser failure on an untrusted file is a notice
        notices.append(Finding("email_unreadable", file=name, value=type(e).__name__,
                               format="msg" if is_msg else "eml"))
        return
    if not workbooks and not copies:
        others = [display(a.name) or a.mime for a in mail.attachments]
        notices.append(Finding("email_no_workbook", file=name, sender=mail.sender or "",
                               subject=display(mail.subject), attachments=", ".join(others[:5])))
        return
    if mail.date is None:
        notices.append(Finding("email_no_date", file=name))
    when = received_time(mail.date)
    folder = tmp / f"mail-{hashlib.sha256(str(path.resolve()).encode('utf-8', 'surrogateescape')).hexdigest()[:16]}"
    folder.mkdir(parents=True, exist_ok=True)
    for i, att in enumerate(workbooks + copies, 1):
        target = folder / f"{i:04d}-{safe_name(att.name, att.mime, copy=i > len(workbooks))}"
        # Belt and braces: the generated name cannot leave the folder.
        if target.resolve().parent != folder.resolve():  # pragma: no cover
            raise AssertionError(target)
        target.write_bytes(att.data)
        att.data = b""          # written: not kept twice in memory
        shown = display(att.name) or f"tệp đính kèm {i}"
        yield Incoming(path=target, name=f"{name} › {shown}", origin=origin,
                       received=when.date() if when else None, received_source="email" if when else "",
                       sender=mail.sender, received_time=when, senders=att.senders or (mail.sender,),
                       attached=True)


# ------------------------------------------------------------------ helpers

def received_time(when: dt.datetime | None) -> dt.datetime | None:
    """The time in Vietnam time (UTC+7), to the second; a Date without a zone is taken as UTC."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return as_vn(when.replace(microsecond=0))


def received_date(when: dt.datetime | None) -> dt.date | None:
    """The date in Vietnam time (UTC+7); a date without a zone is taken as UTC."""
    t = received_time(when)
    return t.date() if t is not None else None


def display(name: str | None) -> str:
    """An attachment name or subject fit to show on one line (never used as a path)."""
    text = unicodedata.normalize("NFC", name or "")
    return " ".join(_CONTROL.sub(" ", text).split())[:200]


def safe_name(name: str | None, mime: str = "", copy: bool = False) -> str:
    """A basename of [A-Za-z0-9._-] keeping a workbook suffix (a signed copy's with `copy`); never a path."""
    base = re.split(r"[\\/]", name or "")[-1]
    from tracker.model.registry import ascii_fold

    base = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_fold(unicodedata.normalize("NFC", base))).strip("._-")
    suffix = Path(base).suffix.lower()
    if suffix not in (COPY_SUFFIXES if copy else WORKBOOK_SUFFIXES):
        suffix = COPY_MIMES.get((mime or "").lower(), ".pdf") if copy else _suffix_for_mime(mime)
        base = f"{base or 'tep'}{suffix}"
    stem = base[: -len(suffix)].strip("._-") or "tep"
    return f"{stem[:60]}{suffix}"


def _suffix_for_mime(mime: str) -> str:
    mime = (mime or "").lower()
    if mime == "application/vnd.ms-excel":
        return ".xls"
    if "opendocument" in mime:
        return ".ods"
    if "macroenabled" in mime:
        return ".xlsm"
    return ".xlsx"


def is_workbook(att: Attachment) -> bool:
    name = display(att.name).lower()
    return name.endswith(WORKBOOK_SUFFIXES) or (att.mime or "").lower() in WORKBOOK_MIMES


def is_signed_copy(att: Attachment) -> bool:
    """A PDF or a picture attached (not shown in the body, not a logo-sized picture): perhaps a
    signed copy of the biên bản; what it holds decides (tracker.intake.signed_copy)."""
    name = display(att.name).lower()
    mime = (att.mime or "").lower()
    if not (name.endswith(COPY_SUFFIXES) or mime in COPY_MIMES):
        return False
    pdf = name.endswith(".pdf") or mime == "application/pdf"
    return pdf or (not att.inline and len(att.data) >= MIN_PICTURE_BYTES)


def _is_tnef(name: str, mime: str) -> bool:
    return (mime or "").lower() in TNEF_MIMES or display(name).lower() == "winmail.dat"


def _is_msg(name: str, mime: str, data: bytes) -> bool:
    return data[:8] == OLE_MAGIC and ((mime or "").lower() in MSG_MIMES or display(name).lower().endswith(".msg"))


def _address(value) -> str:
    from email.utils import getaddresses

    pairs = [a for _, a in getaddresses([str(value or "")]) if a]
    return pairs[0] if pairs else display(str(value or ""))


def _header_date(value) -> dt.datetime | None:
    from email.utils import parsedate_to_datetime

    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


# ------------------------------------------------------------------ .eml

def read_eml(path: Path) -> SavedEmail:
    from email import policy
    from email.parser import BytesParser

    with open(path, "rb") as f:
        msg = BytesParser(policy=policy.compat32).parse(f)
    sender = _address(_decoded(msg.get("From", "")))
    return SavedEmail(subject=_decoded(msg.get("Subject", "")), sender=sender,
                      date=_header_date(msg.get("Date")),
                      attachments=list(_eml_parts(msg, 0, (sender,) if sender else (), _Walk())))


def _decoded(value) -> str:
    """A header as text (RFC 2047 words decoded), whatever state it is in."""
    from email.header import decode_header, make_header

    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except (ValueError, LookupError, UnicodeError):
        return str(value)


def _eml_parts(msg, depth: int, senders: tuple, walk: _Walk):
    """Leaf parts that are attachments; attached emails, .msg and winmail.dat opened (bounded)."""
    for part in _leaves(msg, top=True):
        walk.part()
        ctype = part.get_content_type()
        name = _part_filename(part)
        if ctype == "message/rfc822" or (name or "").lower().endswith(".eml"):
            inner = _inner_message(part)
            if inner is not None:
                deeper = walk.deeper(depth)
                sender = _address(_decoded(inner.get("From", "")))
                yield from _eml_parts(inner, deeper, senders + ((sender,) if sender else ()), walk)
            continue
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        if not name and disposition != "attachment" and ctype.startswith(("text/", "multipart/")):
            continue                                   # the body
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        if _is_tnef(name or "", ctype) and data[:4] == b"\x78\x9f\x3e\x22":
            yield from _tnef_parts(data, walk.deeper(depth), senders, walk)
        elif _is_msg(name or "", ctype, data):
            yield from _msg_parts(data, walk.deeper(depth), senders, walk)
        else:
            inline = disposition != "attachment" and bool(part.get("Content-ID"))
            yield Attachment(name or "", ctype, data, senders, inline)


def _tnef_parts(data: bytes, depth: int, senders: tuple, walk: _Walk, tnef=None):
    """The attachments of Outlook's rich-text winmail.dat (TNEF), messages inside opened."""
    import logging

    from tnefparse import TNEF

    logging.getLogger("tnefparse").setLevel(logging.ERROR)     # its checksum notes are not the user's
    tnef = tnef if tnef is not None else TNEF(data, do_checksum=False)
    for att in tnef.attachments:
        walk.part()
        inner = getattr(att, "embed", None)
        if inner is not None:                          # a message attached inside the winmail.dat
            yield from _tnef_parts(b"", walk.deeper(depth), senders, walk, inner)
            continue
        payload = att.data if isinstance(att.data, bytes) else b""
        name = _tnef_name(att, tnef.codepage)
        if _is_tnef(name, "") and payload[:4] == b"\x78\x9f\x3e\x22":
            yield from _tnef_parts(payload, walk.deeper(depth), senders, walk)
        elif _is_msg(name, "", payload):
            yield from _msg_parts(payload, walk.deeper(depth), senders, walk)
        else:
            yield Attachment(name, "", payload, senders)


def _tnef_name(att, codepage) -> str:
    """An attachment's name in a TNEF file, decoded by its code page when it is not UTF-8."""
    try:
        name = att.long_filename()
    except UnicodeDecodeError:
        name = getattr(att, "_name", b"")
    if isinstance(name, bytes):
        try:
            name = name.decode("utf-8")
        except UnicodeDecodeError:
            name = name.decode(codepage or "cp1252", errors="replace")
    return (name or "").strip("\x00")


def _msg_parts(data: bytes, depth: int, senders: tuple, walk: _Walk):
    """The attachments of an Outlook .msg attached to an email."""
    import logging

    import extract_msg

    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    msg = extract_msg.openMsg(data, delayAttachments=False)
    try:
        inner = _from_msg(msg, depth, senders, walk)
    finally:
        msg.close()
    yield from inner.attachments


def _leaves(part, top: bool = False):
    """Parts in order, not descending into attached emails (those are yielded whole)."""
    if not top and part.get_content_type() == "message/rfc822":
        yield part
    elif part.is_multipart():
        payload = part.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            yield from _leaves(sub)
    elif not top or part.get_filename():
        yield part


def _part_filename(part) -> str | None:
    name = part.get_filename() or part.get_param("name")
    if isinstance(name, tuple):                        # RFC 2231 tuple from get_param
        from email.utils import collapse_rfc2231_value

        name = collapse_rfc2231_value(name)
    return _decoded(name) if name else None


def _inner_message(part):
    """The email inside a message/rfc822 part (or an attached .eml)."""
    from email import policy
    from email.parser import BytesParser

    payload = part.get_payload()
    if isinstance(payload, list) and payload:          # message/rfc822 parsed as a sub-message
        return payload[0]
    data = part.get_payload(decode=True)
    if isinstance(data, bytes) and data:
        return BytesParser(policy=policy.compat32).parsebytes(data)
    return None


# ------------------------------------------------------------------ .msg

def read_msg(path: Path) -> SavedEmail:
    import logging

    import extract_msg

    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    msg = extract_msg.openMsg(str(path), delayAttachments=False)
    try:
        return _from_msg(msg, 0, (), _Walk())
    finally:
        msg.close()


def _from_msg(msg, depth: int, senders: tuple, walk: _Walk) -> SavedEmail:
    from extract_msg.enums import AttachmentType

    header = getattr(msg, "header", None)
    date = _header_date(header.get("Date")) if header is not None else None
    if date is None:
        raw = getattr(msg, "date", None)
        date = raw if isinstance(raw, dt.datetime) else _header_date(raw)
    sender = ""
    if header is not None and header.get("From"):
        sender = _address(_decoded(header.get("From")))
    if not sender:
        sender = _address(getattr(msg, "sender", "") or "")
    senders = senders + ((sender,) if sender else ())
    atts: list[Attachment] = []
    for att in getattr(msg, "attachments", None) or []:
        walk.part()
        kind = getattr(att, "type", None)
        if kind is AttachmentType.MSG:
            if att.data is not None:
                atts.extend(_from_msg(att.data, walk.deeper(depth), senders, walk).attachments)
            continue
        data = getattr(att, "data", None)
        if not isinstance(data, bytes):
            continue
        name = getattr(att, "longFilename", None) or getattr(att, "shortFilename", None) or ""
        mime = (getattr(att, "mimetype", None) or "").lower()
        if _is_tnef(name, mime) and data[:4] == b"\x78\x9f\x3e\x22":
            atts.extend(_tnef_parts(data, walk.deeper(depth), senders, walk))
        else:
            atts.append(Attachment(name, mime, data, senders))
    return SavedEmail(subject=getattr(msg, "subject", "") or "", sender=sender, date=date, attachments=atts)
