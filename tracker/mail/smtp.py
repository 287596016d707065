"""Sending over SMTP, exactly once per unit and batch: invitations, and reminders to units without a valid return.

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
import time
from dataclasses import dataclass, field

from tracker.mail.message import Outgoing, batch_for, build, check_outbox, sender, targets
from tracker.model.errors import TrackerError, UsageError
from tracker.model.findings import Finding
from tracker.model.registry import Unit
from tracker.store.crash_points import checkpoint
from tracker.store.files import sha256_file
from tracker.store.workspace import Workspace

PASSWORD_ENV = "TRACKER_SMTP_PASSWORD"
DEFAULT_RATE = 30          # messages per minute
SMTP_TIMEOUT_S = 60


# ------------------------------------------------------------------ ledger

def mail_status(ws: Workspace, kind: str, batch: str) -> dict[str, dict]:
    """unit id -> {'status': sent|sending|failed, 'message_id', 'at', 'error'} for one batch."""
    if not ws.ledger_file.exists():
        return {}
    from tracker.store.ledger import Ledger

    with Ledger.reader(ws.ledger_file) as ledger:
        rows = ledger.mail_rows(kind, batch)
    out: dict[str, dict] = {}
    for r in rows:
        if out.get(r["unit_id"], {}).get("status") == "sent":
            continue
        out[r["unit_id"]] = {k: r[k] for k in ("status", "message_id", "at", "error", "recipients")}
    return out


def _mail_lock(ws: Workspace):
    """One sender per campaign at a time (two would send twice); released when the process dies.
    Its holder is noted beside it: a busy ledger or a second sender can name it."""
    from tracker.store.locks import held

    return held(ws.state / "mail.lock", 0, lambda who: (
        f"{who[:1].upper()}{who[1:]} đang gửi thư trên chiến dịch này. Chờ lệnh đó xong rồi chạy lại (chạy song "
        "song sẽ gửi trùng thư)."))


class NotUnconfirmed(UsageError):
    """mark_sent was given units that are not 'sending'; `statuses`: unit id -> mail status (None: never sent)."""

    def __init__(self, statuses: dict[str, str | None]):
        super().__init__("Chỉ xác nhận được đơn vị đang ở trạng thái 'chưa rõ đã gửi'. Không phải: "
                         + ", ".join(statuses) + ".")
        self.statuses = statuses


def mark_sent(ws: Workspace, kind: str, batch: str, unit_ids: list[str]) -> list[str]:
    """Staff confirmed that a unit left 'sending' did receive the message: record it as sent."""
    from tracker.store.ledger import Ledger

    status = mail_status(ws, kind, batch)
    bad = {u: status.get(u, {}).get("status") for u in unit_ids if status.get(u, {}).get("status") != "sending"}
    if bad:
        raise NotUnconfirmed(bad)
    with _mail_lock(ws), Ledger(ws.ledger_file) as ledger:
        ledger.mail_confirm(kind, batch, unit_ids, "cán bộ xác nhận đơn vị đã nhận")
    return unit_ids


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
    failed: list[tuple[Unit, Finding]] = field(default_factory=list)    # (unit, why)
    partial: list[tuple[Unit, Finding]] = field(default_factory=list)   # sent, some addresses refused
    no_email: list[Unit] = field(default_factory=list)
    planned: list[Outgoing] = field(default_factory=list)               # --dry-run
    not_attempted: list[Unit] = field(default_factory=list)             # --limit, or stopped
    aborted: Finding | None = None                                      # why the sending stopped
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
    check_outbox(ws, todo)
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
        row_id = ledger.mail_begin(unit_id=unit.id, kind=kind, batch=batch, recipients="; ".join(out.recipients),
                                   message_id=out.message_id, attachment_sha256=out.attachment_sha256)
        last = time.monotonic()
        checkpoint("mail.before_send")
        try:
            refused = smtp.sendmail(from_[1], out.recipients, data)
        except smtplib.SMTPRecipientsRefused as e:
            reason = "; ".join(f"{a}: {_smtp_reply_tuple(r)}" for a, r in e.recipients.items())
            _finish(ledger, row_id, "failed", reason)
            report.failed.append((unit, Finding("mail_recipients_refused", value=reason)))
        except smtplib.SMTPSenderRefused as e:
            _finish(ledger, row_id, "failed", _smtp_reply(e))
            report.aborted = Finding("mail_sender_refused", value=_smtp_reply(e), sender=from_[1])
            report.failed.append((unit, report.aborted))
            report.not_attempted.extend(todo[i + 1:])
            return
        except smtplib.SMTPDataError as e:
            _finish(ledger, row_id, "failed", _smtp_reply(e))
            report.failed.append((unit, Finding("mail_data_refused", value=_smtp_reply(e))))
        except (smtplib.SMTPServerDisconnected, OSError, smtplib.SMTPException) as e:
            # The server may or may not hold the message: leave the row at 'sending' (unconfirmed).
            _finish(ledger, row_id, "sending", f"mất kết nối: {e}")
            report.unconfirmed.append((unit, now_iso()))
            report.not_attempted.extend(todo[i + 1:])
            report.aborted = Finding("mail_connection_lost", value=str(e), server=settings.where, unit=unit.name)
            return
        else:
            # Accepted by the server (for at least one recipient): record it at once.
            note = "; ".join(f"{a}: {_smtp_reply_tuple(r)}" for a, r in refused.items()) if refused else None
            _finish(ledger, row_id, "sent", f"một số địa chỉ bị từ chối: {note}" if note else None)
            checkpoint("mail.sent")
            report.sent.append((unit, out.message_id))
            if refused:
                report.partial.append((unit, Finding("mail_partial", value=note)))
        if progress:
            progress(unit)


def _finish(ledger, row_id: int, status: str, error: str | None) -> None:
    ledger.mail_finish(row_id, status, error)


def _smtp_reply_tuple(reply) -> str:
    code, text = reply
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(text.split())}"
