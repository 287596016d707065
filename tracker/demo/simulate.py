"""Simulated returns: fill a generated unit workbook in code, as a unit would in Excel, and make
the bad returns units really send (a value typed by hand, a formula, last year's form, the signed
scan instead of the workbook, an empty file, a saved email, a paper reply typed into the master).

Used by `tracker demo` (the rehearsal), the docs' pictures and the tests. Workbooks are filled
with openpyxl, which keeps the identification sheet, defined names and validations of the file.
Received dates are set as file modification times (what `merge` uses when nothing else says)
or as an email's Date header.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from tracker.model import ident

MET, NOT_MET, BLANK = "met", "not_met", "blank"
VN_OFFSET = "+0700"


def cell_of(wb, name: str):
    """The cell a workbook-level defined name points at."""
    dn = wb.defined_names[name]
    sheet, ref = next(iter(dn.destinations))
    return wb[sheet][ref.replace("$", "")]


def set_saved_time(path: Path, when: dt.datetime) -> Path:
    """Make `when` the time the workbook says it was last saved (docProps/core.xml
    dcterms:modified, in UTC as Excel writes it): openpyxl writes the time of the save itself."""
    import re
    import zipfile

    when = when if when.tzinfo is not None else when.astimezone()
    stamp = when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path) as zi:
        members = [(info, zi.read(info)) for info in zi.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zo:
        for info, data in members:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", data)
            zo.writestr(info, data)
    return path


def set_received(path: Path, day: dt.date) -> Path:
    """Make `day` the file's received date for merge (modification time at local noon)."""
    stamp = time.mktime(dt.datetime.combine(day, dt.time(12, 0)).timetuple())
    os.utime(path, (stamp, stamp))
    return path


def doc_date_text(place: str, day: dt.date) -> str:
    """'Hà Nội, ngày 03 tháng 6 năm 2026', as a unit types it in the form."""
    return f"{place}, ngày {day.day:02d} tháng {day.month} năm {day.year}"


def fill(src: Path, dest: Path, answers: dict | str = MET, *, notes: dict | None = None,
         signer: str = "Nguyễn Văn A", proposals: str = "", domains: dict | None = None,
         campaign=None, unit=None, doc_date: str | None = "Hà Nội, ngày 03 tháng 6 năm 2026",
         doc_number: str | None = None, received: dt.date | None = None) -> Path:
    """Fill the unit workbook `src` and save it as `dest`.

    answers: "met" / "not_met" / "blank" for every cell, or {(product_key, criterion_id): value}
    where value is one of those keys or any text (written as typed: a string starting with "="
    becomes a formula, as in Excel); cells not in the dict are "met".
    notes: {criterion_id: text}; domains: {product_key: text}; doc_number: the text of the
    "Số:" cell (e.g. "125/UBND"); received: the date merge will read from the file's mtime."""
    import openpyxl

    wb = openpyxl.load_workbook(src)
    met, not_met = ("Đáp ứng", "Chưa đáp ứng") if campaign is None else campaign.answers
    text = {MET: met, NOT_MET: not_met, BLANK: None}
    for name in list(wb.defined_names.keys()):
        if name.startswith("TRK_A_"):
            _, _, key, cid = name.split("_", 3)
            value = answers if isinstance(answers, str) else answers.get((key, cid), MET)
            cell_of(wb, name).value = text.get(value, value)
    for cid, note in (notes or {}).items():
        cell_of(wb, ident.note_name(cid)).value = note
    for key, domain in (domains or {}).items():
        cell_of(wb, ident.domain_name(key)).value = domain
    cell_of(wb, ident.NAME_SIGNER).value = signer or None
    cell_of(wb, ident.NAME_PROPOSALS).value = proposals or None
    if doc_date:
        cell_of(wb, ident.NAME_DOCDATE).value = doc_date
    if doc_number:
        cell_of(wb, ident.NAME_DOCNO).value = f"Số: {doc_number}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    if received is not None:
        # Saved that day, as the unit's Excel would say (merge prefers it to the file's time).
        set_saved_time(dest, dt.datetime.combine(received, dt.time(12)))
        set_received(dest, received)
    return dest


def other_campaign_form(campaign, unit, secret: bytes, dest: Path, campaign_id: str, version: str,
                        **fill_kw) -> Path:
    """A filled form of the same unit from another campaign (last year's file sent again)."""
    import dataclasses

    from tracker.outbound.unit_form import build_unit_workbook

    other = dataclasses.replace(campaign, id=campaign_id, version=version)
    blank = dest.with_name(f".{dest.name}.blank.xlsx")
    dest.parent.mkdir(parents=True, exist_ok=True)
    build_unit_workbook(other, unit, secret, str(blank))
    try:
        return fill(blank, dest, campaign=campaign, **fill_kw)
    finally:
        blank.unlink(missing_ok=True)


def scan_pdf(dest: Path, title: str, received: dt.date | None = None) -> Path:
    """A small, valid one-page PDF standing for the signed scan a unit sends with (or instead of) the workbook."""
    line = "".join(c if 32 <= ord(c) < 127 and c not in "()\\" else "?" for c in title)[:80]
    stream = f"BT /F1 14 Tf 72 770 Td ({line}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(bytes(out))
    if received is not None:
        set_received(dest, received)
    return dest


def empty_file(dest: Path, received: dt.date | None = None) -> Path:
    """A 0-byte file with a workbook's name (an upload or a save that failed)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(b"")
    if received is not None:
        set_received(dest, received)
    return dest


def email_return(dest: Path, attachment: Path, *, sender: str, to: str, subject: str, body: str,
                 sent: dt.datetime, attachment_name: str | None = None) -> Path:
    """A saved email (.eml) holding a return as its attachment, as Outlook or Thunderbird saves it.

    `sent` is Vietnam time; it becomes the Date header, which merge reads as the received date."""
    from email.message import EmailMessage
    from email.utils import format_datetime, make_msgid

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    when = sent if sent.tzinfo else sent.replace(tzinfo=dt.timezone(dt.timedelta(hours=7)))
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">") or "localhost")
    msg.set_content(body)
    msg.add_attachment(attachment.read_bytes(), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       filename=attachment_name or attachment.name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(msg.as_bytes())
    return dest


def type_into_master(ws, unit, answers: dict | str = MET, *, received: dt.date | None = None,
                     note: str = "", proposals: str = "", signer: str = "") -> None:
    """Type a paper reply into the campaign's master.xlsx, as staff would in Excel: the criterion
    columns, "Ngày nhận" and the text columns of each of the unit's product rows. The next merge
    records it as a manual entry."""
    import openpyxl

    from tracker.master import workbook as master_form

    campaign = ws.campaign
    cols = master_form.columns(campaign)
    met, not_met = campaign.answers
    text = {MET: met, NOT_MET: not_met, BLANK: None}
    wanted = {p.id: p for p in unit.products}
    wb = openpyxl.load_workbook(ws.master_file)
    sheet = wb[master_form.sheet_name(campaign.group(unit.group).name)]
    found = 0
    for r in range(master_form.FIRST_ROW + 1, sheet.max_row + 1):
        pid = sheet.cell(r, cols[master_form.PRODUCT_ID_HEADER] + 1).value
        if pid not in wanted:
            continue
        found += 1
        p = wanted[pid]
        for i, c in enumerate(campaign.criteria, 1):
            value = answers if isinstance(answers, str) else answers.get((p.key, c.id), MET)
            sheet.cell(r, cols[f"TC{i}"] + 1).value = text.get(value, value)
        if received is not None:
            cell = sheet.cell(r, cols["Ngày nhận"] + 1)
            cell.value = dt.datetime.combine(received, dt.time())
            cell.number_format = "DD/MM/YYYY"
        for header, value in (("Ghi chú", note), ("Đề xuất, kiến nghị", proposals), ("Người ký", signer)):
            if value:
                sheet.cell(r, cols[header] + 1).value = value
    if found != len(wanted):
        raise ValueError(f"{unit.id}: {found} of {len(wanted)} product rows found in {ws.master_file}")
    wb.save(ws.master_file)
