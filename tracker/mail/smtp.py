"""Email to the units: .eml drafts, sending over SMTP, reminders to units without a valid return.

One message per unit: a Vietnamese text from templates/mail-*.txt (a campaign folder may hold its
own copy to override it), the unit's workbook from outbox/ attached byte for byte.

Sending is recorded in the ledger's `mail` table, so that a run that was interrupted, run again,
sends only what was not sent:
  1. a 'sending' row is committed before SMTP DATA;
  2. right after the server accepts the message the row becomes 'sent' (one small transaction);
  3. a refusal marks it 'failed' (retried on the next run).
A row left at 'sending' means the run died between 1 and 2: the server may or may not hold the
message, and SMTP gives no way to ask. Such a unit is not sent again by default; it is listed for
the staff to check, then `--mark-sent UNIT` (it arrived) or `--resend-unconfirmed` (send it again;
the Message-ID is the same, deterministic per campaign, kind, batch and unit, so mail clients that
deduplicate by Message-ID show one message).
Batches: invitations are one batch per campaign; reminders one per day.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from tracker.store.crash_points import checkpoint
from tracker.model.errors import TrackerError, UsageError
from tracker.model.registry import Unit
from tracker.store.files import atomic_write_bytes, sha256_file
from tracker.store.workspace import Workspace

KINDS = ("invite", "remind")
TEXT_FILES = {"invite": "mail-invite.txt", "remind-before": "mail-remind-before.txt",
              "remind-after": "mail-remind-after.txt"}
XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
FROM_ENV = "TRACKER_MAIL_FROM"
PASSWORD_ENV = "TRACKER_SMTP_PASSWORD"
DEFAULT_RATE = 30          # messages per minute
SMTP_TIMEOUT_S = 60
_SUBJECT_PREFIXES = ("Tiêu đề:", "Subject:")
_ADDR = re.compile(r"^[^@\s,;<>\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


# ------------------------------------------------------------------ texts

@dataclass
class MailText:
    subject: str
    body: str
    source: Path


def text_path(ws: Workspace, name: str) -> Path:
    """A mail text: the campaign folder's own copy if it has one, else the built-in one."""
    from tracker.model.campaign import builtin_path

    for candidate in (ws.root / name, ws.root / "templates" / name):
        if candidate.is_file():
            return candidate
    return builtin_path(name)


def load_text(ws: Workspace, name: str) -> tuple[str, Path]:
    path = text_path(ws, name)
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise TrackerError(f"Không đọc được mẫu thư '{path}': {e.strerror}.") from None
    except UnicodeDecodeError:
        raise TrackerError(f"Mẫu thư '{path}' không phải UTF-8. Lưu lại bằng mã UTF-8 rồi chạy lại.") from None
    import unicodedata

    return unicodedata.normalize("NFC", raw), path


def render_text(template: str, path: Path, values: dict) -> MailText:
    """Split '## notes', the 'Tiêu đề:' line and the body; fill the {placeholders}."""
    lines = [ln.rstrip("\r") for ln in template.split("\n") if not ln.startswith("##")]
    while lines and not lines[0].strip():
        lines.pop(0)
    subject = None
    if lines:
        for prefix in _SUBJECT_PREFIXES:
            if lines[0].startswith(prefix):
                subject = lines.pop(0)[len(prefix):].strip()
                break
    if not subject:
        raise TrackerError(f"Mẫu thư '{path}' thiếu dòng tiêu đề: dòng đầu (sau các dòng ##) phải bắt đầu "
                           "bằng 'Tiêu đề:'.")
    body = "\n".join(lines).strip("\n") + "\n"
    try:
        subject, body = subject.format_map(values), body.format_map(values)
    except KeyError as e:
        raise TrackerError(f"Mẫu thư '{path}' có chỗ điền {{{e.args[0]}}} không biết. Các chỗ điền dùng được: "
                           + ", ".join("{" + k + "}" for k in sorted(values)) + ".") from None
    except (ValueError, IndexError, AttributeError):
        raise TrackerError(f"Mẫu thư '{path}' có dấu ngoặc nhọn {{ }} sai chỗ. Chỗ điền viết dạng {{unit}}; "
                           "muốn có dấu ngoặc thật thì viết hai lần: {{ và }}.") from None
    return MailText(" ".join(subject.split()), body, path)


def addressee(ws: Workspace, unit: Unit) -> str:
    """'Kính gửi' line: a group's `mail_addressee` text if the template has one; communes get 'UBND'."""
    group = ws.campaign.group(unit.group)
    pattern = group.texts.get("mail_addressee")
    if not pattern:
        pattern = "UBND {unit}" if "UBND {unit}" in group.text("conclusion") else "{unit}"
    return pattern.format(unit=unit.name)


def text_values(ws: Workspace, unit: Unit, today: dt.date, attachment: str) -> dict:
    c = ws.campaign
    section = c.section("campaign")
    issuer = c.section("issuer")
    sup = c.section("support")
    support = ", ".join(x for x in (sup.get("name", ""), sup.get("role", "")) if x)
    if sup.get("phone"):
        support += f", điện thoại: {sup['phone']}"
    if sup.get("email"):
        support += f", email: {sup['email']}"
    subject = section.get("subject") or c.title
    topic = re.sub(r"^\s*V/v\s+", "", subject, flags=re.IGNORECASE)
    days_left = (c.due - today).days
    group = c.group(unit.group)
    return {
        "unit": unit.name, "unit_id": unit.id, "addressee": addressee(ws, unit), "group": group.name,
        "form": group.form, "document_title": group.text("document_title"),
        "subject": subject, "topic": topic, "title": c.title,
        "letter_number": section.get("letter_number", ""),
        "issuer": issuer.get("name", ""), "issuer_short": issuer.get("short", ""),
        "due": c.due.strftime("%d/%m/%Y"), "due_text": section.get("due_text", f"trước ngày {c.due:%d/%m/%Y}"),
        "today": today.strftime("%d/%m/%Y"),
        "days_left": max(days_left, 0), "days_late": max(-days_left, 0),
        "time_left": "hôm nay là ngày cuối" if days_left == 0 else f"còn {max(days_left, 0)} ngày",
        "attachment": attachment, "answer_met": c.answer_met, "answer_not_met": c.answer_not_met,
        "support": support, "support_name": sup.get("name", ""), "support_phone": sup.get("phone", ""),
        "support_email": sup.get("email", ""),
    }


def text_name(ws: Workspace, kind: str, today: dt.date) -> str:
    if kind == "invite":
        return TEXT_FILES["invite"]
    return TEXT_FILES["remind-before" if today <= ws.campaign.due else "remind-after"]


# ------------------------------------------------------------------ addresses

def recipients(unit: Unit) -> list[str]:
    """A unit's addresses: the registry's `email`, several separated by ';' (or ',')."""
    return [a for a in (x.strip() for x in re.split(r"[;,]", unit.email or "")) if a]


def sender(ws: Workspace, given: str | None = None, required: bool = True) -> tuple[str, str] | None:
    """(display name, address) of the sender: --from, else $TRACKER_MAIL_FROM, else [support].email."""
    from email.utils import parseaddr

    raw = given or os.environ.get(FROM_ENV, "") or ws.campaign.section("support").get("email", "")
    if not raw.strip():
        if not required:
            return None
        raise UsageError(f"Chưa có địa chỉ người gửi. Dùng --from ten@donvi.gov.vn, hoặc đặt biến môi trường "
                         f"{FROM_ENV}, hoặc điền email = \"...\" ở mục [support] của {ws.campaign_file}.")
    name, addr = parseaddr(raw)
    if not _ADDR.match(addr or ""):
        raise UsageError(f"Địa chỉ người gửi '{raw}' không hợp lệ (ví dụ đúng: ten@donvi.gov.vn, hoặc "
                         "\"Tên đơn vị <ten@donvi.gov.vn>\").")
    return (name or ws.campaign.section("issuer").get("name", "")), addr


# ------------------------------------------------------------------ messages

@dataclass
class Outgoing:
    unit: Unit
    kind: str
    batch: str
    message: object            # email.mime.multipart.MIMEMultipart
    recipients: list[str]
    attachment: Path
    attachment_sha256: str
    message_id: str
    subject: str

    def as_bytes(self) -> bytes:
        from email import policy

        return self.message.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))


def batch_for(ws: Workspace, kind: str, today: dt.date) -> str:
    """Invitations: one batch per campaign. Reminders: one per day."""
    if kind not in KINDS:
        raise UsageError(f"Loại thư '{kind}' không có (có: {', '.join(KINDS)}).")
    return ws.campaign.id if kind == "invite" else today.isoformat()


def message_id(ws: Workspace, kind: str, batch: str, unit: Unit, domain: str) -> str:
    """Deterministic per (campaign folder, kind, batch, unit): a re-send carries the same id."""
    digest = hashlib.sha256(b"\0".join(x.encode() for x in (ws.campaign.id, kind, batch, unit.id))
                            + ws.secret).hexdigest()[:16]
    return f"<{kind}.{unit.id}.{digest}@{domain}>"


def build(ws: Workspace, unit: Unit, kind: str, batch: str, today: dt.date,
          from_: tuple[str, str] | None, draft: bool = False) -> Outgoing:
    """The message for one unit. Built with the stdlib's compat32 MIME classes: on Python 3.11 the
    newer EmailMessage folding drops the space between two encoded words of a long Vietnamese
    subject ("trạngtriển"); email.header.Header folds it right."""
    from email.header import Header
    from email.mime.application import MIMEApplication
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText
    from email.utils import formatdate

    path = ws.outbox_path(unit)
    try:
        data = path.read_bytes()
    except OSError:
        raise TrackerError(f"Chưa có tệp của {unit.name} ({path}). Chạy 'tracker generate' trước.") from None
    text = render_text(*load_text(ws, text_name(ws, kind, today)), text_values(ws, unit, today, path.name))
    rcpts = recipients(unit)
    msg = MIMEMultipart()
    msg["Subject"] = Header(text.subject, "utf-8", header_name="Subject")
    domain = "tracker.invalid"
    if from_:
        msg["From"] = address_list([from_], "From")
        domain = from_[1].rsplit("@", 1)[1]
    msg["To"] = address_list([(unit.name, a) for a in rcpts], "To")
    msg["Date"] = formatdate(localtime=True)
    mid = message_id(ws, kind, batch, unit, domain)
    msg["Message-ID"] = mid
    msg["X-Tracker-Campaign"] = ws.campaign.id
    msg["X-Tracker-Unit"] = unit.id
    msg["X-Tracker-Kind"] = kind
    if draft:
        msg["X-Unsent"] = "1"      # Outlook opens the .eml as a message ready to send
    msg.attach(MIMEText(text.body, "plain", "utf-8"))
    att = MIMEApplication(data, XLSX_MIME[1])
    name = path.name
    if name.isascii():
        att.add_header("Content-Disposition", "attachment", filename=name)
        att.set_param("name", name)
    else:   # RFC 2231 (standard, Gmail) and RFC 2047 in `name` (what Outlook reads)
        att.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
        att.set_param("name", Header(name, "utf-8").encode())
    msg.attach(att)
    return Outgoing(unit, kind, batch, msg, rcpts, path, hashlib.sha256(data).hexdigest(), mid, text.subject)


def address_list(pairs: list[tuple[str, str]], header_name: str):
    """An address header; display names as RFC 2047 encoded words of at most 75 characters."""
    from email.header import Header

    h = Header(header_name=header_name)
    for i, (name, addr) in enumerate(pairs):
        if name:
            h.append(name, "us-ascii" if re.fullmatch(r"[A-Za-z0-9 .'-]+", name) else "utf-8")
        h.append(f"<{addr}>" + ("," if i < len(pairs) - 1 else ""), "us-ascii")
    return h


def targets(ws: Workspace, kind: str, today: dt.date, only: list[str] | None = None) -> tuple[list[Unit], list[Unit]]:
    """(units to write to, units among them without an email). Reminders: units without a valid return."""
    units = list(ws.units)
    if only:
        unknown = [u for u in only if u not in ws.unit_by_id]
        if unknown:
            raise UsageError(f"Không có đơn vị mã: {', '.join(unknown)} (xem cột id trong {ws.registry_file}).")
        units = [u for u in units if u.id in set(only)]
    if kind == "remind":
        from tracker.stats import campaign_stats

        due = {r["unit_id"] for r in campaign_stats(ws, as_of=today)["_units"]
               if r["deadline_status"] in ("missing", "waiting")}
        units = [u for u in units if u.id in due]
    return [u for u in units if recipients(u)], [u for u in units if not recipients(u)]


# ------------------------------------------------------------------ drafts

@dataclass
class DraftResult:
    kind: str
    folder: Path
    written: list[Path] = field(default_factory=list)
    no_email: list[Unit] = field(default_factory=list)
    sender: tuple[str, str] | None = None


def draft(ws: Workspace, kind: str = "invite", from_addr: str | None = None, today: dt.date | None = None,
          only: list[str] | None = None) -> DraftResult:
    """One .eml per unit with an email, in drafts/<kind>/<unit file stem>.eml."""
    today = today or dt.date.today()
    batch = batch_for(ws, kind, today)
    from_ = sender(ws, from_addr, required=False)
    units, no_email = targets(ws, kind, today, only)
    _check_outbox(ws, units)
    result = DraftResult(kind, ws.drafts / kind, no_email=no_email, sender=from_)
    for unit in units:
        out = build(ws, unit, kind, batch, today, from_, draft=True)
        path = result.folder / f"{unit.file_stem}.eml"
        atomic_write_bytes(path, out.as_bytes())
        result.written.append(path)
    return result


def _check_outbox(ws: Workspace, units: list[Unit]) -> None:
    missing = [u for u in units if not ws.outbox_path(u).is_file()]
    if missing:
        raise TrackerError(f"Thiếu tệp gửi của {len(missing)} đơn vị trong {ws.outbox}/. Chạy 'tracker generate' "
                           "trước rồi chạy lại.", details=[f"{u.id}: {u.name}" for u in missing[:20]])


# ------------------------------------------------------------------ ledger

def mail_status(ws: Workspace, kind: str, batch: str) -> dict[str, dict]:
    """unit id -> {'status': sent|sending|failed, 'message_id', 'at', 'error'} for one batch."""
    if not ws.ledger_file.exists():
        return {}
    from tracker.store.ledger import Ledger

    with Ledger(ws.ledger_file) as ledger:
        rows = ledger.db.execute("SELECT * FROM mail WHERE kind=? AND batch=? ORDER BY id", (kind, batch)).fetchall()
    out: dict[str, dict] = {}
    for r in rows:
        if out.get(r["unit_id"], {}).get("status") == "sent":
            continue
        out[r["unit_id"]] = {k: r[k] for k in ("status", "message_id", "at", "error", "recipients")}
    return out


def _mail_lock(ws: Workspace):
    """One sender per campaign at a time (two would send twice); released when the process dies."""
    import contextlib

    from filelock import FileLock, Timeout

    @contextlib.contextmanager
    def held():
        ws.state.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(ws.state / "mail.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise TrackerError("Một lệnh gửi thư khác đang chạy trên chiến dịch này. Chờ lệnh đó xong rồi chạy "
                               "lại (chạy song song sẽ gửi trùng thư).") from None
        try:
            yield
        finally:
            lock.release()
    return held()


def mark_sent(ws: Workspace, kind: str, batch: str, unit_ids: list[str]) -> list[str]:
    """Staff confirmed that a unit left 'sending' did receive the message: record it as sent."""
    from tracker.store.ledger import Ledger, now_iso

    status = mail_status(ws, kind, batch)
    bad = [u for u in unit_ids if status.get(u, {}).get("status") != "sending"]
    if bad:
        raise UsageError("Chỉ xác nhận được đơn vị đang ở trạng thái 'chưa rõ đã gửi'. Không phải: "
                         + ", ".join(f"{u} ({_STATUS_VI.get(status.get(u, {}).get('status'), 'chưa gửi')})"
                                     for u in bad) + ".")
    with _mail_lock(ws), Ledger(ws.ledger_file) as ledger, ledger.transaction() as db:
        for uid in unit_ids:
            row = db.execute("SELECT id FROM mail WHERE kind=? AND batch=? AND unit_id=? AND status='sending' "
                             "ORDER BY id DESC LIMIT 1", (kind, batch, uid)).fetchone()
            db.execute("UPDATE mail SET status='sent', error=?, at=? WHERE id=?",
                       ("cán bộ xác nhận đơn vị đã nhận", now_iso(), row["id"]))
        ledger.event(db, "mail_mark_sent", mail_kind=kind, batch=batch, units=unit_ids)
    return unit_ids


_STATUS_VI = {"sent": "đã gửi", "sending": "chưa rõ đã gửi", "failed": "gửi lỗi", None: "chưa gửi"}


# ------------------------------------------------------------------ SMTP

@dataclass
class SmtpSettings:
    host: str
    port: int | None = None
    security: str = "none"          # none | starttls | ssl
    user: str | None = None
    password: str | None = None
    timeout: float = SMTP_TIMEOUT_S

    @property
    def real_port(self) -> int:
        return self.port or {"ssl": 465, "starttls": 587}.get(self.security, 25)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.real_port}"


def _smtp_reply(e) -> str:
    text = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
    return f"{e.smtp_code} {' '.join(text.split())}".strip()


def connect(settings: SmtpSettings):
    """An SMTP session, logged in; TrackerError in Vietnamese on any failure (nothing is sent yet)."""
    import smtplib
    import socket
    import ssl

    where = settings.where
    smtp = None
    try:
        ctx = ssl.create_default_context()
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(settings.host, settings.real_port, timeout=settings.timeout, context=ctx)
        else:
            smtp = smtplib.SMTP(settings.host, settings.real_port, timeout=settings.timeout)
        smtp.ehlo()
        if settings.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise TrackerError(f"Máy chủ thư {where} không hỗ trợ STARTTLS. Bỏ --starttls, hoặc dùng --ssl "
                                   "(thường cổng 465), theo hướng dẫn của quản trị thư.")
            smtp.starttls(context=ctx)
            smtp.ehlo()
        if settings.user:
            if settings.password is None:
                raise UsageError(f"Chưa có mật khẩu cho '{settings.user}'. Đặt biến môi trường {PASSWORD_ENV} "
                                 "hoặc chạy lệnh trong cửa sổ dòng lệnh để nhập mật khẩu.")
            smtp.login(settings.user, settings.password)
        return smtp
    except TrackerError:
        _quit(smtp)
        raise
    except smtplib.SMTPAuthenticationError as e:
        _quit(smtp)
        raise TrackerError(f"Máy chủ thư {where} từ chối đăng nhập của '{settings.user}' ({_smtp_reply(e)}). "
                           f"Kiểm tra tên đăng nhập (--user) và mật khẩu ({PASSWORD_ENV}). Chưa gửi thư nào.") from None
    except smtplib.SMTPNotSupportedError:
        _quit(smtp)
        raise TrackerError(f"Máy chủ thư {where} không cho đăng nhập trên kết nối này. Thử --starttls (cổng 587) "
                           "hoặc --ssl (cổng 465). Chưa gửi thư nào.") from None
    except ssl.SSLError as e:
        _quit(smtp)
        raise TrackerError(f"Lỗi mã hóa TLS với máy chủ thư {where} ({e.reason or e}). Kiểm tra đúng cổng và "
                           "đúng kiểu: --ssl cho cổng 465, --starttls cho cổng 587. Chưa gửi thư nào.") from None
    except ConnectionRefusedError:
        raise TrackerError(f"Không kết nối được máy chủ thư {where}: máy chủ từ chối kết nối. Kiểm tra địa chỉ "
                           "(--host), cổng (--port) và mạng. Chưa gửi thư nào.") from None
    except socket.gaierror:
        raise TrackerError(f"Không tìm thấy máy chủ thư '{settings.host}'. Kiểm tra lại tên máy chủ (--host) "
                           "và kết nối mạng. Chưa gửi thư nào.") from None
    except (TimeoutError, socket.timeout, smtplib.SMTPServerDisconnected) as e:
        _quit(smtp)
        if not isinstance(e, TimeoutError) and not isinstance(e.__context__, TimeoutError):
            raise TrackerError(f"Máy chủ thư {where} đóng kết nối ({e}). Kiểm tra cổng và kiểu mã hóa "
                               "(--starttls/--ssl). Chưa gửi thư nào.") from None
        raise TrackerError(f"Máy chủ thư {where} không trả lời sau {int(settings.timeout)} giây. Kiểm tra địa "
                           "chỉ, cổng và tường lửa. Chưa gửi thư nào.") from None
    except smtplib.SMTPResponseException as e:
        _quit(smtp)
        raise TrackerError(f"Máy chủ thư {where} từ chối phiên làm việc ({_smtp_reply(e)}). "
                           "Chưa gửi thư nào.") from None
    except (smtplib.SMTPException, OSError) as e:
        _quit(smtp)
        raise TrackerError(f"Không kết nối được máy chủ thư {where} ({e}). Chưa gửi thư nào.") from None


def _quit(smtp) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except Exception:  # noqa: BLE001 - closing a broken session
        try:
            smtp.close()
        except Exception:  # noqa: BLE001
            pass


@dataclass
class SendReport:
    kind: str
    batch: str
    sent: list[tuple[Unit, str]] = field(default_factory=list)          # (unit, Message-ID)
    already: list[Unit] = field(default_factory=list)                   # sent in an earlier run
    unconfirmed: list[tuple[Unit, str]] = field(default_factory=list)   # left 'sending': (unit, when)
    failed: list[tuple[Unit, str]] = field(default_factory=list)        # (unit, Vietnamese reason)
    partial: list[tuple[Unit, str]] = field(default_factory=list)       # sent, some addresses refused
    no_email: list[Unit] = field(default_factory=list)
    planned: list[Outgoing] = field(default_factory=list)               # --dry-run
    not_attempted: list[Unit] = field(default_factory=list)             # --limit, or stopped
    aborted: str = ""
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if (self.failed or self.partial or self.aborted or self.unconfirmed) else 0


def send(ws: Workspace, settings: SmtpSettings | None, kind: str = "invite", from_addr: str | None = None,
         today: dt.date | None = None, rate: float = DEFAULT_RATE, limit: int | None = None,
         dry_run: bool = False, resend_unconfirmed: bool = False, only: list[str] | None = None,
         progress=None, sleep=time.sleep) -> SendReport:
    """Send one message per unit (invitations, or reminders to units without a valid return)."""
    today = today or dt.date.today()
    batch = batch_for(ws, kind, today)
    from_ = sender(ws, from_addr)
    units, no_email = targets(ws, kind, today, only)
    report = SendReport(kind, batch, no_email=no_email, dry_run=dry_run)
    status = mail_status(ws, kind, batch)
    todo: list[Unit] = []
    for unit in units:
        st = status.get(unit.id, {}).get("status")
        if st == "sent":
            report.already.append(unit)
        elif st == "sending" and not resend_unconfirmed:
            report.unconfirmed.append((unit, status[unit.id]["at"]))
        else:
            todo.append(unit)
    _check_outbox(ws, todo)
    if limit is not None and limit >= 0 and len(todo) > limit:
        todo, report.not_attempted = todo[:limit], todo[limit:]
    if dry_run:
        report.planned = [build(ws, u, kind, batch, today, from_) for u in todo]
        return report
    if not todo:
        return report
    if settings is None:
        raise UsageError("Chưa chỉ máy chủ thư: dùng --host (và --port).")
    from tracker.store.ledger import Ledger

    with _mail_lock(ws):
        # Re-read under the lock: another run may have finished in between.
        status = mail_status(ws, kind, batch)
        todo = [u for u in todo if status.get(u.id, {}).get("status") not in
                (("sent",) if resend_unconfirmed else ("sent", "sending"))]
        smtp = connect(settings)
        try:
            with Ledger(ws.ledger_file) as ledger:
                _send_all(ws, ledger, smtp, settings, todo, kind, batch, today, from_, rate, report,
                          progress, sleep)
        finally:
            _quit(smtp)
    return report


def _send_all(ws, ledger, smtp, settings, todo, kind, batch, today, from_, rate, report, progress, sleep) -> None:
    import smtplib

    from tracker.store.ledger import now_iso

    interval = 60.0 / rate if rate and rate > 0 else 0.0
    last = None
    for i, unit in enumerate(todo):
        out = build(ws, unit, kind, batch, today, from_)
        if out.attachment_sha256 != sha256_file(out.attachment):   # outbox changed under us
            raise TrackerError(f"Tệp {out.attachment} thay đổi trong khi gửi. Chạy lại lệnh.")
        if interval and last is not None:
            wait = last + interval - time.monotonic()
            if wait > 0:
                sleep(wait)
        data = out.as_bytes()
        with ledger.transaction() as db:
            row_id = db.execute(
                "INSERT INTO mail(unit_id,kind,batch,recipients,message_id,attachment_sha256,status,at) "
                "VALUES(?,?,?,?,?,?,'sending',?)",
                (unit.id, kind, batch, "; ".join(out.recipients), out.message_id, out.attachment_sha256,
                 now_iso())).lastrowid
        last = time.monotonic()
        checkpoint("mail.before_send")
        try:
            refused = smtp.sendmail(from_[1], out.recipients, data)
        except smtplib.SMTPRecipientsRefused as e:
            reason = "; ".join(f"{a}: {_smtp_reply_tuple(r)}" for a, r in e.recipients.items())
            _finish(ledger, row_id, "failed", reason)
            report.failed.append((unit, f"máy chủ từ chối địa chỉ nhận ({reason})"))
        except smtplib.SMTPSenderRefused as e:
            _finish(ledger, row_id, "failed", _smtp_reply(e))
            report.failed.append((unit, f"máy chủ từ chối người gửi {from_[1]} ({_smtp_reply(e)})"))
            report.aborted = (f"Máy chủ thư từ chối địa chỉ người gửi {from_[1]} ({_smtp_reply(e)}). Kiểm tra "
                              "--from: thường phải trùng với tài khoản đăng nhập.")
            report.not_attempted.extend(todo[i + 1:])
            return
        except smtplib.SMTPDataError as e:
            _finish(ledger, row_id, "failed", _smtp_reply(e))
            report.failed.append((unit, f"máy chủ không nhận thư ({_smtp_reply(e)})"))
        except (smtplib.SMTPServerDisconnected, OSError, smtplib.SMTPException) as e:
            # The server may or may not hold the message: leave the row at 'sending' (unconfirmed).
            _finish(ledger, row_id, "sending", f"mất kết nối: {e}")
            report.unconfirmed.append((unit, now_iso()))
            report.not_attempted.extend(todo[i + 1:])
            report.aborted = (f"Mất kết nối với máy chủ thư {settings.where} khi đang gửi cho {unit.name} ({e}). "
                              "Chạy lại lệnh để gửi tiếp các đơn vị còn lại.")
            return
        else:
            # Accepted by the server (for at least one recipient): record it at once.
            note = "; ".join(f"{a}: {_smtp_reply_tuple(r)}" for a, r in refused.items()) if refused else None
            _finish(ledger, row_id, "sent", f"một số địa chỉ bị từ chối: {note}" if note else None)
            checkpoint("mail.sent")
            report.sent.append((unit, out.message_id))
            if refused:
                report.partial.append((unit, note))
        if progress:
            progress(unit)


def _finish(ledger, row_id: int, status: str, error: str | None) -> None:
    from tracker.store.ledger import now_iso

    with ledger.transaction() as db:
        db.execute("UPDATE mail SET status=?, error=?, at=? WHERE id=?", (status, error, now_iso(), row_id))


def _smtp_reply_tuple(reply) -> str:
    code, text = reply
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(text.split())}"
