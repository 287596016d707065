"""Saved emails given to merge (.eml, Outlook .msg): their workbook attachments become returns.

Each workbook attachment is written under merge's private tmp folder with a generated name (an
attachment's name is display text, never a path), and carries the email's Date (as a date in
Vietnam time) as its received date and the From address as its sender; merge archives the email
itself too. An email holding no workbook is a notice (error). Attached emails (message/rfc822,
embedded .msg) are looked into one level deep.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from tracker.intake.incoming import Incoming
from tracker.model.findings import Finding

VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
WORKBOOK_MIMES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel.sheet.macroenabled.12",
    "application/vnd.ms-excel",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/x-msexcel", "application/x-excel", "application/excel",
}
MAX_EMAIL_BYTES = 100 * 1024 * 1024
MAX_ATTACHMENTS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Attachment:
    name: str          # as the email gives it: shown to people only
    mime: str
    data: bytes


@dataclass
class SavedEmail:
    subject: str
    sender: str        # the From address
    date: dt.datetime | None
    attachments: list[Attachment]       # every leaf attachment, workbooks or not


def incoming(path: Path, tmp: Path, notices: list[Finding]):
    """Yield a tracker.intake.incoming.Incoming per workbook attached to the saved email at `path`."""

    try:
        size = path.stat().st_size
    except OSError as e:
        notices.append(Finding("unreadable", file=path.name, kind="email", reason=e.strerror or type(e).__name__))
        return
    if size > MAX_EMAIL_BYTES:
        notices.append(Finding("email_too_large", file=path.name, value=str(size), expected=f"<= {MAX_EMAIL_BYTES}",
                               size_mb=size // (1024 * 1024), max_mb=MAX_EMAIL_BYTES // (1024 * 1024)))
        return
    try:
        mail = read_msg(path) if path.suffix.lower() == ".msg" else read_eml(path)
    except Exception as e:  # noqa: BLE001 - any parser failure on an untrusted file is a notice
        notices.append(Finding("email_unreadable", file=path.name, value=type(e).__name__,
                               format=path.suffix.lower().lstrip(".")))
        return
    workbooks = [a for a in mail.attachments if is_workbook(a)]
    if not workbooks:
        others = [display(a.name) or a.mime for a in mail.attachments]
        notices.append(Finding("email_no_workbook", file=path.name, sender=mail.sender or "",
                               subject=display(mail.subject), attachments=", ".join(others[:5])))
        return
    if mail.date is None:
        notices.append(Finding("email_no_date", file=path.name))
    received = received_date(mail.date)
    folder = tmp / f"mail-{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]}"
    folder.mkdir(parents=True, exist_ok=True)
    for i, att in enumerate(workbooks, 1):
        target = folder / f"{i:03d}-{safe_name(att.name, att.mime)}"
        # Belt and braces: the generated name cannot leave the folder.
        if target.resolve().parent != folder.resolve():  # pragma: no cover
            raise AssertionError(target)
        target.write_bytes(att.data)
        shown = display(att.name) or f"tệp đính kèm {i}"
        yield Incoming(path=target, name=f"{path.name} › {shown}", origin=str(path), received=received,
                       received_source="email" if received else "", sender=mail.sender)


# ------------------------------------------------------------------ helpers

def received_date(when: dt.datetime | None) -> dt.date | None:
    """The date in Vietnam time (UTC+7); a date without a zone is taken as UTC."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(VN_TZ).date()


def display(name: str | None) -> str:
    """An attachment name or subject fit to show on one line (never used as a path)."""
    text = unicodedata.normalize("NFC", name or "")
    return " ".join(_CONTROL.sub(" ", text).split())[:200]


def safe_name(name: str | None, mime: str = "") -> str:
    """A basename of [A-Za-z0-9._-] keeping a workbook suffix; never a path."""
    base = re.split(r"[\\/]", name or "")[-1]
    from tracker.model.registry import ascii_fold

    base = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_fold(unicodedata.normalize("NFC", base))).strip("._-")
    suffix = Path(base).suffix.lower()
    if suffix not in WORKBOOK_SUFFIXES:
        suffix = _suffix_for_mime(mime)
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
    return SavedEmail(subject=_decoded(msg.get("Subject", "")), sender=_address(_decoded(msg.get("From", ""))),
                      date=_header_date(msg.get("Date")), attachments=list(_eml_parts(msg, depth=0)))


def _decoded(value) -> str:
    """A header as text (RFC 2047 words decoded), whatever state it is in."""
    from email.header import decode_header, make_header

    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except (ValueError, LookupError, UnicodeError):
        return str(value)


def _eml_parts(msg, depth: int):
    """Leaf parts that are attachments; attached emails looked into one level deep."""
    for count, part in enumerate(_leaves(msg, top=True), 1):
        if count > MAX_ATTACHMENTS:
            break
        ctype = part.get_content_type()
        name = _part_filename(part)
        if ctype == "message/rfc822" or (name or "").lower().endswith(".eml"):
            if depth == 0:
                inner = _inner_message(part)
                if inner is not None:
                    yield from _eml_parts(inner, depth + 1)
            continue
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        if not name and disposition != "attachment" and ctype.startswith(("text/", "multipart/")):
            continue                                   # the body
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            yield Attachment(name or "", ctype, data)


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
        return _from_msg(msg, depth=0)
    finally:
        msg.close()


def _from_msg(msg, depth: int) -> SavedEmail:
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
    atts: list[Attachment] = []
    for att in (getattr(msg, "attachments", None) or [])[:MAX_ATTACHMENTS]:
        kind = getattr(att, "type", None)
        if kind is AttachmentType.MSG:
            if depth == 0 and att.data is not None:
                atts.extend(_from_msg(att.data, depth + 1).attachments)
            continue
        data = getattr(att, "data", None)
        if not isinstance(data, bytes):
            continue
        name = getattr(att, "longFilename", None) or getattr(att, "shortFilename", None) or ""
        atts.append(Attachment(name, (getattr(att, "mimetype", None) or "").lower(), data))
    return SavedEmail(subject=getattr(msg, "subject", "") or "", sender=sender, date=date, attachments=atts)
