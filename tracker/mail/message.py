"""One message per unit: its addresses, its text and its workbook from outbox/ attached byte for byte."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from tracker.mail.texts import load_text, render_text, text_name, text_values
from tracker.model.errors import TrackerError, UsageError
from tracker.model.registry import Unit
from tracker.store.workspace import Workspace

KINDS = ("invite", "remind")
XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
FROM_ENV = "TRACKER_MAIL_FROM"
_ADDR = re.compile(r"^[^@\s,;<>\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


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
        from tracker.stats import NOT_REPLIED, campaign_stats

        due = {r.unit_id for r in campaign_stats(ws, as_of=today).unit_rows if r.deadline_status in NOT_REPLIED}
        units = [u for u in units if u.id in due]
    return [u for u in units if recipients(u)], [u for u in units if not recipients(u)]


def check_outbox(ws: Workspace, units: list[Unit]) -> None:
    missing = [u for u in units if not ws.outbox_path(u).is_file()]
    if missing:
        raise TrackerError(f"Thiếu tệp gửi của {len(missing)} đơn vị trong {ws.outbox}/. Chạy 'tracker generate' "
                           "trước rồi chạy lại.", details=[f"{u.id}: {u.name}" for u in missing[:20]])
