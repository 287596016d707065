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


# ---------------------------------------------------------------------- received times
# Times are kept to the second with their UTC offset, in the campaign's zone: Vietnam (UTC+7), where
# the deadline's days are counted and where the staff read "15:00 04/06/2026".
VN_TZ = dt.timezone(dt.timedelta(hours=7))

_DMY_TIME = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})[ T]+(\d{1,2})[:hg](\d{2})(?::(\d{2}))?\s*$", re.I)


def parse_when(text: str) -> dt.date | dt.datetime:
    """A received date or time as typed: `DD/MM/YYYY`, `YYYY-MM-DD` (a date: that day), or with a
    time `DD/MM/YYYY HH:MM[:SS]` or ISO 8601 (`2026-06-04T15:00`, `...+07:00`, `...Z`): an aware
    datetime in Vietnam time (a time without an offset is Vietnam time). UsageError otherwise."""
    day = try_parse_date(text)
    if day is not None:
        return day
    when = None
    m = _DMY_TIME.match(text or "")
    try:
        if m:
            when = dt.datetime(int(m[3]), int(m[2]), int(m[1]), int(m[4]), int(m[5]), int(m[6] or 0))
        else:
            raw = (text or "").strip()
            if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", raw):
                when = dt.datetime.fromisoformat(raw[:-1] + "+00:00" if raw[-1:] in "zZ" else raw)
    except ValueError:
        when = None
    if when is None:
        from tracker.model.language import _

        raise UsageError(_("Thời điểm nhận '{text}' không hợp lệ. Hãy nhập ngày NN/TT/NNNN (ví dụ 04/06/2026), hoặc "
                           "ngày giờ NN/TT/NNNN GG:PP (ví dụ 04/06/2026 15:00), hoặc dạng ISO 8601 (ví dụ "
                           "2026-06-04T15:00:00+07:00).").format(text=text))
    return as_vn(when)


def as_vn(when: dt.datetime) -> dt.datetime:
    """The same instant in Vietnam time; a time without an offset is taken as Vietnam time."""
    if when.tzinfo is None:
        return when.replace(tzinfo=VN_TZ)
    return when.astimezone(VN_TZ)


def day_start(day: dt.date) -> dt.datetime:
    """The first second of `day` in Vietnam time: the time of a version known only by its date."""
    return dt.datetime.combine(day, dt.time(), VN_TZ)


def when_of(received_time: dt.datetime | None, received_at: dt.date | None) -> dt.datetime | None:
    """The received time of a version: its time when known, else the start of its day."""
    if received_time is not None:
        return received_time
    return day_start(received_at) if received_at is not None else None


def iso_time(when: dt.datetime | None) -> str | None:
    """ISO 8601 to the second with the offset: '2026-06-04T15:00:00+07:00'."""
    return when.isoformat(timespec="seconds") if when is not None else None


def from_iso_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def show_time(when: dt.datetime | None, with_day: bool = True) -> str:
    """A received time as shown to people, in Vietnam time: '15:00 04/06/2026' (seconds when not
    zero, so that two versions a few seconds apart read differently)."""
    if when is None:
        return ""
    when = as_vn(when)
    clock = when.strftime("%H:%M:%S" if when.second else "%H:%M")
    return f"{clock} {when:%d/%m/%Y}" if with_day else clock
