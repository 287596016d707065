"""Signed copies end to end: `tracker merge` takes PDFs and pictures (given, in folders, in emails),
matches them to units, keeps them in the ledger; stats, master, reports, `missing --signed` and
`tracker signed` show and settle them. Real parts: the campaign's own forms printed to PDF by
LibreOffice (their QR codes carry this campaign folder's secret), scans made from them with PDFium
and Pillow, PDFs signed with pyHanko by a test PKI."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

import signing
from conftest import soffice, soffice_convert
from fill import fill
from test_mail import make_eml
from tracker.api import decide_copy, merge
from tracker.cli import main
from tracker.stats import campaign_stats
from tracker.store.ledger import SCHEMA_VERSION, Ledger

UNIT = "xp-00004"          # Phường Ba Đình
OTHER = "so-yte"           # Sở Y tế
THIRD = "xp-00008"         # Phường Ngọc Hà
AS_OF = dt.date(2026, 6, 10)
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
PDF = ("application", "pdf")
JPEG = ("image", "jpeg")
TOOLS = Path("/work/shared/tools")


def vn(day, hour, minute=0) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=dt.timezone(dt.timedelta(hours=7)))


# ------------------------------------------------------------------------------------------ real parts
@pytest.fixture(scope="session")
def printed(generated_campaign, tmp_path_factory) -> dict[str, Path]:
    """The generated campaign's own forms of UNIT and OTHER, printed to PDF by LibreOffice."""
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    from tracker.store.workspace import Workspace

    ws = Workspace(generated_campaign)
    out = tmp_path_factory.mktemp("printed-forms")
    return {uid: soffice_convert(ws.outbox_path(ws.unit_by_id[uid]), "pdf", out / uid) for uid in (UNIT, OTHER)}


@pytest.fixture(scope="session")
def pki(generated_campaign):
    from tracker.store.workspace import Workspace

    return signing.make_pki(Workspace(generated_campaign).unit_by_id[UNIT].name)


@pytest.fixture(scope="session")
def signed_pdf(printed, pki, tmp_path_factory) -> Path:
    """UNIT's printed form, signed by its head (a certificate of the test CA), with its QR code."""
    p = tmp_path_factory.mktemp("signed") / "bien-ban-ky-so.pdf"
    p.write_bytes(signing.sign_pdf(printed[UNIT].read_bytes(), pki.head, pki.root))
    return p


@pytest.fixture(scope="session")
def scans(printed, tmp_path_factory) -> dict[str, Path]:
    """OTHER's printed form scanned: turned, a little tilted, noisy, JPEG (QR only, no signature)."""
    d = tmp_path_factory.mktemp("scans")
    out = {}
    for uid in (UNIT, OTHER):
        page = signing.degrade(signing.rasterise(printed[uid], 200), seed=5, rotate=90, tilt=1.5, noise=8, jpeg=70)
        out[uid] = signing.save_scan([page], d / f"scan-{uid}.jpg", 200)
    return out


def plain_pdf(path: Path) -> Path:
    """A PDF with no QR code and no signature (a biên bản typed from scratch)."""
    path.write_bytes(signing.raw_pdf([signing.simple_page(b"Bien ban xac nhan")]))
    return path


def trust(ws, pki) -> None:
    (ws.trust / "ca-thu-nghiem.pem").write_bytes(pki.root.pem)


def rows(ws, as_of=AS_OF) -> dict:
    return {r["unit_id"]: r for r in campaign_stats(ws, as_of).to_json()["rows"]}


def copies(ws) -> list:
    with Ledger(ws.ledger_file) as led:
        return led.signed_copies()


def ooxml_ok(path: Path) -> None:
    for tool in ("ooxml_validate.py", "ooxml_rules.py"):
        if (TOOLS / tool).exists():
            r = subprocess.run([sys.executable, str(TOOLS / tool), str(path)], capture_output=True, text=True)
            assert r.returncode == 0, f"{tool} {path.name}: {r.stdout}{r.stderr}"


# ------------------------------------------------------------------------------------------ merge
def test_scans_and_signed_pdfs_are_merged_beside_workbooks_and_counted(ws, outbox, signed_pdf, scans, pki,
                                                                        tmp_path):
    trust(ws, pki)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    fill(outbox[UNIT], inbox / "ba-dinh.xlsx")
    (inbox / "ky-so.pdf").write_bytes(signed_pdf.read_bytes())
    (inbox / "quet.JPG").write_bytes(scans[OTHER].read_bytes())      # a suffix in capitals, as phones write
    report = merge(ws, [inbox], received=vn(4, 15), report=False)
    got = {f.name: (f.outcome, f.unit_id, f.copy_kind, f.copy_status) for f in report.files}
    assert got == {"ba-dinh.xlsx": ("accepted", UNIT, "", ""),
                   "ky-so.pdf": ("accepted", UNIT, "digital", "attached"),
                   "quet.JPG": ("accepted", OTHER, "scan", "attached")}
    assert report.exit_code == 0 and not report.notices
    doc = campaign_stats(ws, AS_OF).to_json()
    assert doc["units"]["signed"] == 2 and doc["units"]["returned"] == 1
    r = rows(ws)
    assert r[UNIT]["signed_copy"] == {"kind": "digital", "received_time": "2026-06-04T15:00:00+07:00", "valid": True,
                                      "signer": "Nguyễn Văn An (UBND Phường Ba Đình)"}
    assert r[OTHER]["signed_copy"] == {"kind": "scan", "received_time": "2026-06-04T15:00:00+07:00", "valid": None,
                                       "signer": None}
    assert r[THIRD]["signed_copy"] is None
    # Before the copy came, it did not count.
    assert campaign_stats(ws, dt.date(2026, 6, 3)).units.signed == 0
    # Every copy archived under its content, as every return is.
    for c in copies(ws):
        assert (ws.root / c.archived).read_bytes() in (signed_pdf.read_bytes(), scans[OTHER].read_bytes())
    # Given again: repeats, nothing recorded twice.
    again = merge(ws, [inbox], received=vn(4, 15), report=False)
    assert {f.outcome for f in again.files} <= {"duplicate"} and len(copies(ws)) == 2


def test_the_command_line_table_csv_and_master_show_the_copies(ws, outbox, scans, tmp_path):
    scan = tmp_path / "b.jpg"
    scan.write_bytes(scans[UNIT].read_bytes())
    res = CliRunner().invoke(main, ["merge", str(fill(outbox[UNIT], tmp_path / "a.xlsx")), str(scan), "-C",
                                    str(ws.root), "--received", "04/06/2026 09:30"])
    assert res.exit_code == 0, res.output
    assert "b.jpg → Phường Ba Đình (biên bản quét)" in res.output
    out = CliRunner().invoke(main, ["stats", "-C", str(ws.root), "--as-of", "10/06/2026"]).output
    assert "Biên bản đã ký đã nhận: 1 / 136 đơn vị (0 bản ký số, 1 bản quét)" in out
    csv_text = CliRunner().invoke(main, ["stats", "-C", str(ws.root), "--format", "csv", "--as-of",
                                         "10/06/2026"]).output
    header, *lines = csv_text.lstrip("\ufeff").splitlines()
    assert header.endswith("Biên bản đã ký,Ngày nhận biên bản,Chữ ký số,Người ký số")
    assert any(line.startswith(f"{UNIT},") and line.endswith("Bản quét,04/06/2026,,") for line in lines)
    from openpyxl import load_workbook

    wb = load_workbook(ws.master_file)
    sh = wb["Xã, phường"] if "Xã, phường" in wb.sheetnames else wb.worksheets[2]
    head = [c.value for c in sh[4]]
    col = head.index("Biên bản đã ký")
    [cell] = [r[col].value for r in sh.iter_rows(min_row=5) if r[head.index("Mã đơn vị")].value == UNIT]
    assert cell == "Bản quét có mã QR, nhận 09:30 04/06/2026: b.jpg"
    ooxml_ok(ws.master_file)


def test_an_emails_copy_of_another_unit_is_flagged_until_staff_say(ws, outbox, scans, tmp_path):
    """UNIT's email carries UNIT's workbook and OTHER's scan: the scan is not attached to anyone by
    itself; staff confirm it for OTHER (or reject it)."""
    filled = fill(outbox[UNIT], tmp_path / "f.xlsx").read_bytes()
    eml = make_eml(tmp_path / "thu.eml", [("bb.xlsx", filled, XLSX), ("bb.jpg", scans[OTHER].read_bytes(), JPEG)],
                   sender="Văn thư <vanthu@badinh.hanoi.gov.vn>")
    report = merge(ws, [eml], report=False)
    by_name = {f.name: f for f in report.files}
    scan = by_name["thu.eml › bb.jpg"]
    assert scan.outcome == "rejected" and report.exit_code == 1 and scan.unit_id is None
    assert [f.code for f in scan.findings] == ["copy_other_unit"]
    assert "Sở Y tế" in scan.findings[0].message and "Phường Ba Đình" in scan.findings[0].message
    assert rows(ws)[OTHER]["signed_copy"] is None and campaign_stats(ws, AS_OF).units.signed == 0
    listed = CliRunner().invoke(main, ["signed", "list", "-C", str(ws.root)])
    assert "gắn cờ" in listed.output and "bb.jpg" in listed.output
    [c] = copies(ws)
    assert (c.status, c.unit_id, c.expected_unit, c.received_time) == ("flagged", OTHER, UNIT, vn(5, 9, 15))
    res = CliRunner().invoke(main, ["signed", "confirm", str(c.id), "-C", str(ws.root)])
    assert res.exit_code == 0 and "Đã ghép" in res.output, res.output
    assert rows(ws)[OTHER]["signed_copy"]["kind"] == "scan" and campaign_stats(ws, AS_OF).units.signed == 1
    # The decision is logged; the copy's first verdict is kept there.
    with Ledger(ws.ledger_file) as led:
        [event] = [json.loads(r["detail"]) for r in led.db.execute("SELECT detail FROM events WHERE "
                                                                    "kind='signed_copy_decided'")]
    assert event["before"]["status"] == "flagged" and event["status"] == "attached"
    # The same email given again: its copy is a repeat, not a second flagged copy.
    again = {f.name: f.outcome for f in merge(ws, [eml], report=False).files}
    assert again["thu.eml › bb.jpg"] == "duplicate" and len(copies(ws)) == 1
    # Rejected: it counts no more (and stays in archive/).
    res = CliRunner().invoke(main, ["signed", "reject", "bb.jpg", "-C", str(ws.root)])
    assert res.exit_code == 0 and campaign_stats(ws, AS_OF).units.signed == 0
    assert (ws.root / c.archived).is_file()


def test_a_forwarded_reply_matches_by_the_units_own_workbook(ws, outbox, scans, tmp_path):
    """A colleague forwards UNIT's reply (workbook + scan): the scan matches by its QR and agrees
    with the workbook carried beside it."""
    filled = fill(outbox[UNIT], tmp_path / "f.xlsx").read_bytes()
    inner = EmailMessage()
    inner["From"], inner["Subject"], inner["Date"] = "vanthu@badinh.hanoi.gov.vn", "Biên bản", \
        "Wed, 03 Jun 2026 10:00:00 +0700"
    inner.set_content("Gửi Trung tâm")
    inner.add_attachment(filled, maintype=XLSX[0], subtype=XLSX[1], filename="bb.xlsx")
    inner.add_attachment(scans[UNIT].read_bytes(), maintype=JPEG[0], subtype=JPEG[1], filename="bb-da-ky.jpg")
    eml = make_eml(tmp_path / "fw.eml", [("", inner, None)], subject="Fw: Biên bản",
                   sender="Cán bộ <canbo@ttdlcns.hanoi.gov.vn>")
    files = merge(ws, [eml], report=False).files
    assert [(f.outcome, f.unit_id, f.copy_status) for f in files] == [("accepted", UNIT, ""),
                                                                      ("accepted", UNIT, "attached")]
    assert rows(ws)[UNIT]["signed_copy"]["received_time"] == "2026-06-05T09:15:00+07:00"


def test_a_copy_known_only_by_its_name_or_sender_waits_for_confirmation(ws, tmp_path):
    by_name = plain_pdf(tmp_path / f"{UNIT}-bien-ban-da-ky.pdf")
    by_sender = make_eml(tmp_path / "thu.eml", [("scan.pdf", plain_pdf(tmp_path / "x.pdf").read_bytes()
                                                 + b"%sender\n", PDF)],
                         sender="Văn thư <vanthu@ngocha.hanoi.gov.vn>")
    report = merge(ws, [by_name, by_sender], received=vn(4, 8), report=False)
    got = [(f.outcome, f.unit_id, f.copy_status, sorted(x.code for x in f.findings)) for f in report.files]
    assert got == [("accepted", UNIT, "pending", ["copy_needs_confirmation", "qr_not_found"]),
                   ("accepted", THIRD, "pending", ["copy_needs_confirmation", "qr_not_found"])]
    assert campaign_stats(ws, AS_OF).units.signed == 0          # not until staff confirm
    out = CliRunner().invoke(main, ["signed", "list", "-C", str(ws.root)]).output
    assert "chờ xác nhận" in out and f"{UNIT}-bien-ban-da-ky.pdf" in out
    c = decide_copy(ws, f"{UNIT}-bien-ban-da-ky.pdf")
    assert (c.status, c.unit_id, c.method) == ("attached", UNIT, "staff")
    assert rows(ws)[UNIT]["signed_copy"] == {"kind": "scan", "received_time": "2026-06-04T08:00:00+07:00",
                                             "valid": None, "signer": None}
    # A copy matched to no unit needs one named.
    res = CliRunner().invoke(main, ["signed", "confirm", "99", "-C", str(ws.root)])
    assert res.exit_code == 1 and "tracker signed list" in res.output and "Traceback" not in res.output


def test_an_untrusted_signature_is_checked_again_once_its_root_is_in_trust(ws, signed_pdf, pki, tmp_path):
    (ws.trust / "ghi-chu.cer").write_text("không phải chứng thư")      # a bad trust file: said once
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    a.write_bytes(signed_pdf.read_bytes())
    b.write_bytes(signing.sign_pdf(plain_pdf(tmp_path / "p.pdf").read_bytes(), pki.head, pki.root))
    report = merge(ws, [a, b], received=vn(4, 10), report=False)
    assert [n.code for n in report.notices] == ["trust_bad_file"]
    fa, fb = report.files
    # With its QR it is UNIT's, its signature unproven; without, the signer's organisation names
    # UNIT but an unproven signature cannot attach it alone.
    assert (fa.outcome, fa.copy_status, [f.code for f in fa.findings]) == ("accepted", "attached", ["signed_untrusted"])
    assert (fb.copy_status, sorted(f.code for f in fb.findings)) == \
        ("pending", ["copy_needs_confirmation", "qr_not_found", "signed_untrusted"])
    assert rows(ws)[UNIT]["signed_copy"]["valid"] is False
    c = tmp_path / "c.pdf"      # on the command line, the unproven signature is said, the copy kept
    c.write_bytes(signed_pdf.read_bytes() + b"\n")
    res = CliRunner().invoke(main, ["merge", str(c), "-C", str(ws.root), "--received", "04/06/2026 11:00"])
    assert res.exit_code == 0 and "(biên bản ký số)" in res.output and "Lưu ý:" in res.output
    assert "trust/" in res.output, res.output
    # The root is added: the next merge (with nothing to merge) reads both again.
    trust(ws, pki)
    report = merge(ws, [], report=False)
    assert sorted((before.status, after.status, after.valid) for before, after in report.rechecked) == \
        [("attached", "attached", True), ("attached", "attached", True), ("pending", "attached", True)]
    assert rows(ws)[UNIT]["signed_copy"]["valid"] is True
    # Nothing changed since: nothing is read again.
    assert merge(ws, [], report=False).rechecked == []
    out = CliRunner().invoke(main, ["signed", "check", "-C", str(ws.root)]).output
    assert "0 bản ký thay đổi" in out


def test_the_newest_copy_wins_by_received_time_and_every_copy_stays(ws, scans, signed_pdf, pki, tmp_path):
    trust(ws, pki)
    scan = tmp_path / "scan.jpg"
    scan.write_bytes(scans[UNIT].read_bytes())
    merge(ws, [scan], received=vn(5, 16), report=False)          # merged first, received later
    merge(ws, [signed_pdf], received=vn(3, 9), report=False)
    assert rows(ws)[UNIT]["signed_copy"]["kind"] == "scan"
    assert rows(ws, dt.date(2026, 6, 4))[UNIT]["signed_copy"]["kind"] == "digital"    # as it was then
    assert [c.kind for c in copies(ws)] == ["scan", "digital"]


def test_bad_copies_are_refused_with_their_reason_and_archived(ws, signed_pdf, printed, tmp_path):
    from tracker.intake.signed_copy import MAX_PDF_PAGES

    tampered = tmp_path / "sua-sau-khi-ky.pdf"
    tampered.write_bytes(signing.change_after_signing(signed_pdf.read_bytes()))
    locked = tmp_path / "mat-khau.pdf"
    locked.write_bytes(signing.encrypt_pdf(printed[UNIT].read_bytes()))
    long_scan = tmp_path / "300-trang.pdf"
    long_scan.write_bytes(signing.raw_pdf([signing.simple_page()] * (MAX_PDF_PAGES + 1)))
    report = merge(ws, [tampered, locked, long_scan], report=False)
    assert [(f.outcome, [x.code for x in f.findings if x.severity == "error"]) for f in report.files] == [
        ("rejected", ["signed_modified"]), ("rejected", ["signed_encrypted"]), ("rejected", ["signed_too_many_pages"])]
    assert all(next(ws.archive.rglob(f"{f.sha256}*")).is_file() for f in report.files)
    assert campaign_stats(ws, AS_OF).units.signed == 0


# ------------------------------------------------------------------------------------------ what is missing
def test_missing_signed_lists_units_whose_spreadsheet_is_in_and_copy_is_not(ws, outbox, scans, tmp_path):
    scan = tmp_path / "s.jpg"
    scan.write_bytes(scans[OTHER].read_bytes())
    merge(ws, [fill(outbox[UNIT], tmp_path / "a.xlsx"), fill(outbox[OTHER], tmp_path / "b.xlsx"), scan],
          received=vn(4, 9), report=False)
    out = CliRunner().invoke(main, ["missing", "--signed", "-C", str(ws.root), "--as-of", "10/06/2026"]).output
    assert UNIT in out and OTHER not in out and THIRD not in out and "Tổng: 1 đơn vị" in out
    csv_text = CliRunner().invoke(main, ["missing", "--signed", "--format", "csv", "-C", str(ws.root),
                                         "--as-of", "10/06/2026"]).output
    assert csv_text.lstrip("\ufeff").splitlines()[1].startswith(f"1,{UNIT},Phường Ba Đình,")


def test_a_template_requiring_the_copy_lists_accepted_products_lacking_one(ws, outbox, scans, tmp_path):
    from tracker.api import CampaignFolder

    toml = ws.campaign_file.read_text(encoding="utf-8")
    ws.campaign_file.write_text(toml.replace('signed_scan = "requested"', 'signed_scan = "required"', 1),
                                encoding="utf-8")
    scan = tmp_path / "s.jpg"
    scan.write_bytes(scans[OTHER].read_bytes())
    merge(ws, [fill(outbox[UNIT], tmp_path / "a.xlsx"), fill(outbox[OTHER], tmp_path / "b.xlsx"), scan],
          received=vn(4, 9), report=False)
    out = CliRunner().invoke(main, ["stats", "-C", str(ws.root), "--as-of", "10/06/2026"]).output
    assert "bắt buộc biên bản đã ký: 1 sản phẩm đạt chưa có" in out
    result = CampaignFolder(ws.root).report(AS_OF)
    rep = result.report
    assert [r.unit_id for r in rep.lacking_signed] == [UNIT]
    xlsx, docx = result.paths
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx)["Thiếu biên bản ký"]
    values = [c.value for row in sheet.iter_rows() for c in row if c.value]
    assert "Phường Ba Đình" in values and "Sở Y tế" not in values
    import docx as python_docx

    text = "\n".join(p.text for p in python_docx.Document(docx).paragraphs)
    assert "V. SẢN PHẨM ĐẠT CHƯA CÓ BIÊN BẢN ĐÃ KÝ HỢP LỆ" in text and "đã nhận của 1/136 đơn vị" in text
    for path in (xlsx, docx):
        ooxml_ok(path)


def test_a_bad_signed_scan_option_is_refused_at_init_in_vietnamese(tmp_path):
    from tracker.model.campaign import template_path

    toml = template_path(None).read_text(encoding="utf-8").replace('signed_scan = "requested"',
                                                                      'signed_scan = "bat-buoc"', 1)
    (tmp_path / "t.toml").write_text(toml, encoding="utf-8")
    res = CliRunner().invoke(main, ["init", str(tmp_path / "c"), "--template", str(tmp_path / "t.toml")])
    assert res.exit_code != 0 and "[submission].signed_scan 'bat-buoc' không hợp lệ" in res.output


# ------------------------------------------------------------------------------------------ the ledger
def test_a_schema_2_ledger_gains_the_signed_copies_table_in_place(ws, outbox, scans, tmp_path):
    merge(ws, [fill(outbox[UNIT], tmp_path / "a.xlsx")], received=vn(4, 9), report=False)
    db = sqlite3.connect(ws.ledger_file)
    db.execute("DROP TABLE signed_copies")
    db.execute("UPDATE meta SET value='2' WHERE key='schema_version'")
    db.commit()
    db.close()
    # Read as it is by reading commands: no copy, nothing written.
    assert rows(ws)[UNIT]["signed_copy"] is None and rows(ws)[UNIT]["status"] == "accepted"
    scan = tmp_path / "s.jpg"
    scan.write_bytes(scans[UNIT].read_bytes())
    merge(ws, [scan], received=vn(4, 10), report=False)
    with Ledger(ws.ledger_file) as led:
        assert led.meta_value("schema_version") == str(SCHEMA_VERSION) == "3"
    assert rows(ws)[UNIT]["signed_copy"]["kind"] == "scan"
