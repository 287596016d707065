"""Dates as people type them (DD/MM/YYYY) and as files store them (YYYY-MM-DD)."""
import datetime as dt
import re

from tracker.model.errors import UsageError

_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def parse_date(text: str) -> dt.date:
    """Parse `DD/MM/YYYY` or `YYYY-MM-DD`; raise UsageError in Vietnamese otherwise."""
    m = _DMY.match(text or "")
    try:
        if m:
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        m = _ISO.match(text or "")
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        pass
    raise UsageError(f"Ngày '{text}' không hợp lệ. Hãy nhập theo dạng NN/TT/NNNN (ví dụ 05/06/2026) "
                     "hoặc NNNN-TT-NN (ví dụ 2026-06-05).")


def try_parse_date(text: str) -> dt.date | None:
    try:
        return parse_date(text)
    except UsageError:
        return None


def show(d: dt.date | None) -> str:
    """A date as shown to people: DD/MM/YYYY (blank for None)."""
    return d.strftime("%d/%m/%Y") if d else ""


def show_text(d: dt.date | None) -> str:
    """A date in the running text of a document, as Nghị định 30/2020 writes dates and as the
    letter does ("ngày 06/5/2024", "trước ngày 06/6/2026"): a leading zero on days below 10 and on
    months 1 and 2 only. Tables and the command line keep DD/MM/YYYY (`show`)."""
    if d is None:
        return ""
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    return f"{d.day:02d}/{month}/{d.year}"


def iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def from_iso(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text[:10]) if text else None
