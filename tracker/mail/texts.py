"""The words of each email: a Vietnamese text from templates/mail-*.txt (a campaign folder may hold
its own copy to override it), its placeholders filled for one unit."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from tracker.model.campaign import letter_reference, submission
from tracker.model.dates import show_text
from tracker.model.errors import TrackerError
from tracker.model.registry import Unit, unit_facts
from tracker.store.workspace import Workspace

TEXT_FILES = {"invite": "mail-invite.txt", "remind-before": "mail-remind-before.txt",
              "remind-after": "mail-remind-after.txt"}
_SUBJECT_PREFIXES = ("Tiêu đề:", "Subject:")


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
    """'Kính gửi' line: a group's `mail_addressee` text if the template has one, else the unit as
    named mid-sentence ("UBND phường Cửa Nam", "Sở Nội vụ": the kind's in_text)."""
    group = ws.campaign.group(unit.group)
    in_text = unit_facts(ws.campaign, unit).in_text
    pattern = group.texts.get("mail_addressee") or "{unit}"
    return pattern.replace("{unit_name}", unit.name).replace("{unit}", in_text)


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
        **letter_reference(c), **submission(c, in_mail=True),
        "issuer": issuer.get("name", ""), "issuer_short": issuer.get("short", ""),
        # dates as the letter writes them (Nghị định 30: "06/6/2026"), so that "trước ngày 06/6/2026
        # (hạn cuối nhận: ngày 05/6/2026)" reads in one style
        "due": show_text(c.due), "due_text": section.get("due_text", f"đến hết ngày {show_text(c.due)}"),
        "today": show_text(today),
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
