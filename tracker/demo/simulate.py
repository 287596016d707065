"""Simulated returns: fill a generated unit workbook in code, as a unit would in Excel, and make
the bad returns units really send (a value typed by hand, a formula, last year's form, the signed
scan instead of the workbook, an empty file, a saved email, a paper reply typed into the master).

Used by `tracker demo` (the rehearsal), the docs' pictures and the tests. Workbooks are filled
by writing the named cells into the file's own XML: the identification sheet, defined names and
validations of the file stay as they were.
Received dates are set as file modification times (what `merge` uses when nothing else says)
or as an email's Date header.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import time
import unicodedata
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, unescape

from tracker.model import ident
from tracker.outbound.sheets import excel_escape

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
    notes: {(product_key, criterion_id): text}: the product's note cell (on a form of one product,
    or of several sent before notes were per product, the form's one note cell); {criterion_id:
    text}: the form's one note cell, or every product's where each has its own; domains: {product_key: text}; doc_number: the text of the
    "Số:" cell (e.g. "125/UBND"); received: the date merge will read from the file's mtime.

    Only the named cells change, in the workbook's own XML (text as inline strings, as spreadsheet
    programs may save it; formulas without a cached value, so that a reader computes them): a
    tenth of the time of a round trip through openpyxl, which `tracker demo` spent most of its
    time in, and every other byte of the unit's file is kept."""
    met, not_met = ("Đáp ứng", "Chưa đáp ứng") if campaign is None else campaign.answers
    text = {MET: met, NOT_MET: not_met, BLANK: None}
    with zipfile.ZipFile(src) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
        infos = z.infolist()
    names = _defined_cells(parts)
    values: dict[str, object] = {}
    for name in names:
        if name.startswith("TRK_A_"):
            _, _, key, cid = name.split("_", 3)
            value = answers if isinstance(answers, str) else answers.get((key, cid), MET)
            values[name] = text.get(value, value)
    for key, note in (notes or {}).items():
        key, cid = key if isinstance(key, tuple) else (None, key)
        one = ident.note_name(cid)
        own = [n for n in names if n.startswith("TRK_N_") and n.endswith(f"_{cid}") and n != one
               and (key is None or n == ident.note_name(cid, key))]
        for name in own if own and (key is not None or one not in names) else [one]:
            values[name] = note
    for key, domain in (domains or {}).items():
        values[ident.domain_name(key)] = domain
    values[ident.NAME_SIGNER] = signer or None
    values[ident.NAME_PROPOSALS] = proposals or None
    if doc_date:
        values[ident.NAME_DOCDATE] = doc_date
    if doc_number:
        values[ident.NAME_DOCNO] = f"Số: {doc_number}"
    edits: dict[str, dict[str, object]] = {}
    for name, value in values.items():
        part, ref = names[name]
        edits.setdefault(part, {})[ref] = value
    for part, cells in edits.items():
        parts[part] = _set_cells(parts[part].decode("utf-8"), cells).encode("utf-8")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for info in infos:
            z.writestr(info, parts[info.filename])
    if received is not None:
        # Saved that day, as the unit's Excel would say (merge prefers it to the file's time).
        set_saved_time(dest, dt.datetime.combine(received, dt.time(12)))
        set_received(dest, received)
    return dest


_DEFINED = re.compile(r'<definedName name="([^"]+)"[^>]*>\'?([^<!]*?)\'?!\$([A-Z]+)\$(\d+)</definedName>')


def _sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet name -> its part in the package."""
    book = parts["xl/workbook.xml"].decode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    targets = dict(re.findall(r'<Relationship Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
    targets.update((m[1], m[0]) for m in re.findall(r'<Relationship [^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels))
    sheets = {}
    for name, rid in re.findall(r'<sheet name="([^"]+)"[^>]*r:id="([^"]+)"', book):
        target = targets[rid]
        sheets[unescape(name)] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return sheets


def _defined_cells(parts: dict[str, bytes]) -> dict[str, tuple[str, str]]:
    """Defined name -> (worksheet part, cell) of a workbook's single-cell names."""
    book = parts["xl/workbook.xml"].decode("utf-8")
    sheets = _sheet_parts(parts)
    out = {}
    for name, sheet, col, row in _DEFINED.findall(book):
        sheet = unescape(sheet).replace("''", "'")
        if sheet in sheets:
            out[name] = (sheets[sheet], f"{col}{row}")
    return out


def _set_cells(xml: str, cells: dict[str, object]) -> str:
    """The sheet with `cells` (ref -> text, formula "=...", date, number or None) written, each keeping
    its style."""
    for ref, value in cells.items():
        m = re.search(rf'<c r="{ref}"(?P<attrs>[^>]*?)(?:/>|>.*?</c>)', xml, re.S)
        if m is None:
            raise ValueError(f"cell {ref} is not in the sheet: not a generated unit workbook?")
        style = re.search(r' s="\d+"', m["attrs"])
        attrs = f' r="{ref}"' + (style[0] if style else "")
        if value is None or value == "":
            cell = f"<c{attrs}/>"
        elif isinstance(value, dt.date):       # a date is its serial number, shown by the cell's format
            cell = f"<c{attrs}><v>{(value - dt.date(1899, 12, 30)).days}</v></c>"
        elif isinstance(value, (int, float)):
            cell = f"<c{attrs}><v>{value}</v></c>"
        elif isinstance(value, str) and value.startswith("=") and len(value) > 1:
            cell = f"<c{attrs}><f>{escape(value[1:])}</f></c>"
        else:
            # As Excel writes text: a control character as _x0007_, a typed "_x0041_" as _x005F_x0041_.
            cell = f'<c{attrs} t="inlineStr"><is><t xml:space="preserve">{escape(excel_escape(str(value)))}</t></is></c>'
        xml = xml[:m.start()] + cell + xml[m.end():]
    # Other formulas lose their cached values, as when a spreadsheet program saves a changed file
    # without computing: a reader that opens it computes them (the conclusion follows the domain).
    return re.sub(r"(<f>[^<]*</f>)<v>[^<]*</v>", r"\1", xml)


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
                 sent: dt.datetime, attachment_name: str | None = None, also: tuple = ()) -> Path:
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
    for path in also:       # beside the workbook: the signed copy (PDF)
        msg.add_attachment(Path(path).read_bytes(), maintype="application", subtype="pdf", filename=Path(path).name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(msg.as_bytes())
    return dest


def type_into_master(ws, unit, answers: dict | str = MET, *, received: dt.date | None = None,
                     note: str = "", proposals: str = "", signer: str = "") -> None:
    """Type a paper reply into the campaign's master.xlsx, as staff would in Excel: the criterion
    columns, "Ngày nhận" and the text columns of each of the unit's product rows (cells written
    in the file's XML, as fill does). The next merge records it as a manual entry."""
    from xlsxwriter.utility import xl_col_to_name

    from tracker.master import workbook as master_form

    campaign = ws.campaign
    cols = {h: xl_col_to_name(i) for h, i in master_form.columns(campaign).items()}
    met, not_met = campaign.answers
    text = {MET: met, NOT_MET: not_met, BLANK: None}
    with zipfile.ZipFile(ws.master_file) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
        infos = z.infolist()
    part = _sheet_parts(parts)[master_form.sheet_names(campaign)[unit.group]]
    xml = parts[part].decode("utf-8")
    cells: dict[str, object] = {}
    for p in unit.products:
        m = re.search(rf'<c r="{cols[master_form.PRODUCT_ID_HEADER]}(\d+)"[^>]*><is><t[^>]*>{re.escape(escape(p.id))}</t>',
                      xml)
        if m is None:
            raise ValueError(f"{unit.id}: the row of {p.id} is not in {ws.master_file}")
        row = m[1]
        for i, c in enumerate(campaign.criteria, 1):
            value = answers if isinstance(answers, str) else answers.get((p.key, c.id), MET)
            cells[f"{cols[f'TC{i}']}{row}"] = text.get(value, value)
        if received is not None:
            cells[f"{cols['Ngày nhận']}{row}"] = received      # the column's format shows it as a date
        for header, value in (("Ghi chú", note), ("Đề xuất, kiến nghị", proposals), ("Người ký", signer)):
            if value:
                cells[f"{cols[header]}{row}"] = value
    parts[part] = _set_cells(xml, cells).encode("utf-8")
    with zipfile.ZipFile(ws.master_file, "w", zipfile.ZIP_DEFLATED) as z:
        for info in infos:
            z.writestr(info, parts[info.filename])


# ---------------------------------------------------------------------------- signed copies
def _first_page(ws, unit, dpi: int = 200):
    """The printed form's first page as a scanner sees it: white A4 with the form's own QR code
    (this campaign folder's, as generate prints it) 2 cm across at the top right, and a few lines
    of text. Drawn with Pillow: the rehearsal needs no LibreOffice."""
    import io

    from PIL import Image, ImageDraw

    from tracker.model import ident

    px = lambda mm: round(mm / 25.4 * dpi)  # noqa: E731
    page = Image.new("L", (px(210), px(297)), 255)
    code = Image.open(io.BytesIO(ident.qr_png(ident.qr_payload_for(ws.secret, ws.campaign.id, unit.id,
                                                                     ws.campaign.version)))).convert("L")
    side = px(ident.QR_WIDTH_MM)
    page.paste(code.resize((side, side), Image.NEAREST), (px(210 - 20) - side, px(15)))
    draw = ImageDraw.Draw(page)
    ascii_name = "".join(c for c in unicodedata.normalize("NFKD", unit.name) if c.isascii())
    for i, line in enumerate(("BIEN BAN XAC NHAN", ascii_name, unit.id, "(da ky, dong dau)")):
        draw.text((px(30), px(40) + i * px(8)), line, fill=0)
    return page


def signed_scan(dest: Path, ws, unit, received: dt.date | None = None) -> Path:
    """A unit's signed biên bản photographed or scanned: the first page, a degree askew, as JPEG."""
    from PIL import Image

    page = _first_page(ws, unit).rotate(1.0, resample=Image.BICUBIC, expand=True, fillcolor=255)
    dest.parent.mkdir(parents=True, exist_ok=True)
    page.save(dest, "JPEG", quality=80, dpi=(200, 200))
    if received is not None:
        set_received(dest, received)
    return dest


def root_certificate(key, name, start: dt.datetime, end: dt.datetime):
    """A self-signed root certificate for `key` (a CA that signs certificates and revocation lists),
    named `name`, valid from `start` to `end`: the rehearsal's CA, and the tests'."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))


def demo_ca(ws):
    """A certification authority for the rehearsal (elliptic keys: made in milliseconds), its root
    certificate put in the campaign's trust/ folder as staff would put the real one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Diễn tập tracker"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "CA diễn tập (không dùng thật)")])
    cert = root_certificate(key, name, dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
                            dt.datetime(2035, 1, 1, tzinfo=dt.timezone.utc))
    ws.trust.mkdir(parents=True, exist_ok=True)
    (ws.trust / "ca-dien-tap.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def signed_pdf(dest: Path, ws, unit, ca, signer: str, when: dt.datetime) -> Path:
    """A unit's biên bản as a PDF digitally signed (PAdES, with pyHanko) by `signer` of the unit,
    under the rehearsal's CA, at `when`: the page carries the form's QR code, as a PDF printed from
    the form and signed with a USB token does."""
    import io

    from asn1crypto import keys, x509 as ax509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"UBND {unit.name}" if unit.group != "so-ban-nganh"
                                            else unit.name),
                         x509.NameAttribute(NameOID.COMMON_NAME, signer)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(ca_cert.not_valid_before_utc)
            .not_valid_after(dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    page = io.BytesIO()
    _first_page(ws, unit).save(page, "PDF", resolution=200)
    der = lambda c: ax509.Certificate.load(c.public_bytes(serialization.Encoding.DER))  # noqa: E731
    private = keys.PrivateKeyInfo.load(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))

    class AtTime(signers.PdfSigner):
        def init_signing_session(self, *args, **kw):
            session = super().init_signing_session(*args, **kw)
            session.system_time = when        # the rehearsal's time, not this machine's
            return session

    signer_obj = signers.SimpleSigner(signing_cert=der(cert), signing_key=private,
                                      cert_registry=SimpleCertificateStore.from_certs([der(ca_cert)]))
    out = io.BytesIO()
    AtTime(signers.PdfSignatureMetadata(field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES),
           signer_obj).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(page.getvalue()), strict=False), output=out)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(out.getvalue())
    return dest
