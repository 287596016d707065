"""Nothing given to the tool is lost or silently dropped: a refused hand entry in the master, a
master written beside a held one, an email of many attachments or nested messages, a file name
that is not UTF-8, what is not a regular file, a killed run's temporary files; and a reply from
an address that is not the unit's is flagged, never silent."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import struct
import threading
from email.message import EmailMessage

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import held_open
from conftest import ooxml_check
from fill import fill
from test_mail import XLSX, make_eml
from test_merge import master_row
from test_stats import set_contacts
from tracker.api import generate, merge
from tracker.cli import main
from tracker.intake import saved_email
from tracker.stats import campaign_stats
from tracker.store.ledger import Ledger
from tracker.verify import verify

AS_OF = dt.date(2026, 6, 10)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def rows(ws):
    return {r.unit_id: r for r in campaign_stats(ws, AS_OF).rows}


# ---------------------------------------------------------------------------- hand entries refused
def test_a_refused_hand_entry_is_kept_as_typed_until_fixed(ws):
    wb, sh, r, cols = master_row(ws, "Xã, phường", "xp-00082/site")
    sh.cell(r, cols["TC2"] + 1).value = "Đạt"
    sh.cell(r, cols["TC3"] + 1).value = "Đáp ứng"
    sh.cell(r, cols["Ngày nhận"] + 1).value = "ngày 4/6"
    sh.cell(r, cols["Người ký"] + 1).value = "Trần Văn B"
    wb.save(ws.master_file)
    for attempt in (1, 2):        # the second merge finds the same entry, still refused, still kept
        res = run("merge", "-C", ws.root)
        assert res.exit_code == 1, res.output
        assert "'Đạt'" in res.output and "'ngày 4/6'" in res.output and "giữ nguyên như đã gõ" in res.output
        wb, sh, r, cols = master_row(ws, "Xã, phường", "xp-00082/site")
        typed = {h: sh.cell(r, cols[h] + 1) for h in ("TC2", "TC3", "Ngày nhận", "Người ký", "Tệp nguồn")}
        assert [typed[h].value for h in ("TC2", "TC3", "Ngày nhận", "Người ký")] == \
            ["Đạt", "Đáp ứng", "ngày 4/6", "Trần Văn B"], attempt
        for h in ("TC2", "Ngày nhận"):
            assert typed[h].fill.fgColor.rgb.endswith("FFC7CE") and typed[h].comment is not None, h
        assert "không phải" in typed["TC2"].comment.text and "master.xlsx" in typed["Tệp nguồn"].value
        assert typed["TC3"].comment is None
        assert rows(ws)["xp-00082"].status == "pending"         # nothing recorded meanwhile
    ooxml_check(ws.master_file)
    # Fixed: recorded, no longer marked, merge exits 0.
    sh.cell(r, cols["TC2"] + 1).value = "Chưa đáp ứng"
    sh.cell(r, cols["Ngày nhận"] + 1).value = dt.datetime(2026, 6, 4)
    wb.save(ws.master_file)
    res = run("merge", "-C", ws.root)
    assert res.exit_code == 0, res.output
    row = rows(ws)["xp-00082"]
    assert (row.status, row.received_at, row.answers["c2"]) == ("not_accepted", dt.date(2026, 6, 4), "not_met")
    wb, sh, r, cols = master_row(ws, "Xã, phường", "xp-00082/site")
    assert sh.cell(r, cols["TC2"] + 1).comment is None
    assert sh.cell(r, cols["Người ký"] + 1).value == "Trần Văn B"


# ---------------------------------------------------------------------------- a master written beside
def test_hand_edits_in_a_master_written_beside_are_read_back_then_tidied(ws, outbox, tmp_path, monkeypatch):
    with held_open(ws.master_file, monkeypatch):      # Excel holds master.xlsx open
        first = merge(ws, [fill(outbox["xp-00070"], tmp_path / "hk.xlsx")], received=dt.date(2026, 6, 4))
    beside = first.master.path
    assert first.master.written_beside and beside.name.startswith("master-")
    # The staff type a paper reply into the file they were told about.
    wb = openpyxl.load_workbook(beside)
    sh = wb["Xã, phường"]
    cols = {c.value: c.column for c in sh[4] if c.value}
    from openpyxl.utils import get_column_letter

    r = next(c.row for c in sh[get_column_letter(cols["Mã sản phẩm"])] if c.value == "xp-00082/site")
    for k in range(1, 7):
        sh.cell(r, next(v for h, v in cols.items() if h.startswith(f"TC{k}."))).value = "Đáp ứng"
    sh.cell(r, cols["Ngày nhận"]).value = dt.datetime(2026, 6, 5)
    wb.save(beside)
    # Excel closed
    res = run("merge", "-C", ws.root)
    assert res.exit_code == 0, res.output
    assert beside.name in res.output and "chuyển vào backups/" in res.output
    assert rows(ws)["xp-00082"].status == "accepted" and rows(ws)["xp-00070"].status == "accepted"
    assert not beside.exists() and (ws.backups / beside.name).is_file()       # tidied, never deleted
    with Ledger(ws.ledger_file) as led:
        [ev] = led.db.execute("SELECT detail FROM events WHERE kind='manual_entry'").fetchall()
    assert beside.name in ev[0]
    again = run("merge", "-C", ws.root)
    assert again.exit_code == 0 and beside.name not in again.output


# ---------------------------------------------------------------------------- emails
def test_an_email_with_every_units_workbook_and_its_scan_merges_them_all(ws, outbox, tmp_path):
    """136 workbooks and their 136 PDF scans (272 parts): every workbook is merged."""
    parts = []
    for i, unit in enumerate(ws.units):
        data = fill(outbox[unit.id], tmp_path / "f" / f"{i}.xlsx").read_bytes()
        parts += [(f"{unit.id}.xlsx", data, XLSX), (f"{unit.id}.pdf", b"%PDF-1.4 scan", ("application", "pdf"))]
    eml = make_eml(tmp_path / "tat-ca.eml", parts, subject="Fw: biên bản các đơn vị")
    report = merge(ws, [eml], report=False)
    workbooks = [f for f in report.files if f.name.endswith(".xlsx")]
    assert not report.notices and len(workbooks) == 136 and {f.outcome for f in workbooks} == {"accepted"}
    assert sum(1 for r in rows(ws).values() if r.status != "pending") == 136
    # The "scans" are read as signed copies too, each refused on its own ("%PDF-1.4 scan" is no PDF).
    scans = [f for f in report.files if f.name.endswith(".pdf")]
    assert len(scans) == 136 and {tuple(x.code for x in f.findings) for f in scans} == {("signed_damaged",)}


@pytest.mark.parametrize("bound, value", [("MAX_WORKBOOKS", 2), ("MAX_PARTS", 4), ("MAX_DEPTH", 1)])
def test_an_email_past_a_bound_is_refused_whole(ws, outbox, tmp_path, monkeypatch, bound, value):
    monkeypatch.setattr(saved_email, bound, value)
    data = [fill(outbox[u], tmp_path / f"{u}.xlsx").read_bytes() for u in ("so-yte", "xp-00070", "xp-00082")]
    inner = EmailMessage()
    inner["From"], inner["Subject"], inner["Date"] = "a@b.vn", "x", "Wed, 03 Jun 2026 10:00:00 +0700"
    inner.set_content("x")
    inner.add_attachment(data[2], maintype=XLSX[0], subtype=XLSX[1], filename="c.xlsx")
    outer = EmailMessage()
    outer["From"], outer["Subject"], outer["Date"] = "b@b.vn", "Fw", "Wed, 03 Jun 2026 11:00:00 +0700"
    outer.set_content("x")
    outer.add_attachment(inner)
    eml = make_eml(tmp_path / "nhieu.eml", [("a.xlsx", data[0], XLSX), ("b.xlsx", data[1], XLSX), ("", outer, None)])
    report = merge(ws, [eml], report=False)
    [res] = report.files
    assert res.outcome == "rejected" and report.exit_code == 1
    assert [f.code for f in res.findings] == ["email_too_complex"] and "nhieu.eml" in res.message
    assert all(r.status == "pending" for r in rows(ws).values())          # nothing half-merged


def _tnef(parts: list[tuple[str, bytes]]) -> bytes:
    """A minimal winmail.dat (TNEF) as Outlook writes it: message class, then per attachment its
    rendering data (which starts it), title and data."""
    def obj(level, name, kind, data):
        return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)
    out = struct.pack("<IH", 0x223E9F78, 1) + obj(1, 0x9006, 0x8, b"\0\0\1\0") \
        + obj(1, 0x9007, 0x6, struct.pack("<II", 1252, 0)) + obj(1, 0x8008, 0x7, b"IPM.Note\0")
    for name, data in parts:
        out += obj(2, 0x9002, 0x6, b"\1\0\xff\xff\xff\xff" + b"\0" * 8)
        out += obj(2, 0x8010, 0x1, name.encode("cp1252", errors="replace") + b"\0")
        out += obj(2, 0x800F, 0x6, data)
    return out


def test_nested_forwards_winmail_dat_and_an_attached_msg_are_read(ws, outbox, tmp_path):
    from test_mail import build_msg

    a = fill(outbox["so-yte"], tmp_path / "a.xlsx").read_bytes()
    b = fill(outbox["xp-00070"], tmp_path / "b.xlsx").read_bytes()
    c = fill(outbox["xp-00082"], tmp_path / "c.xlsx").read_bytes()
    msg = build_msg(tmp_path / "c.msg", "Biên bản", "vt@cuanam.vn", "Wed, 03 Jun 2026 09:00:00 +0700", [("c.xlsx", c)])
    inner = EmailMessage()                               # forwarded inside forwarded inside the email
    inner["From"], inner["Subject"], inner["Date"] = "vt@soyte.vn", "Biên bản", "Wed, 03 Jun 2026 10:00:00 +0700"
    inner.set_content("x")
    inner.add_attachment(a, maintype=XLSX[0], subtype=XLSX[1], filename="a.xlsx")
    for level in range(3):
        wrap = EmailMessage()
        wrap["From"], wrap["Subject"] = f"fw{level}@hanoi.vn", "Fw"
        wrap.set_content("x")
        wrap.add_attachment(inner)
        inner = wrap
    eml = make_eml(tmp_path / "thu.eml", [("", inner, None),
                                          ("winmail.dat", _tnef([("Báo cáo.xlsx", b), ("ghi chú.txt", b"x" * 20)]),
                                           ("application", "ms-tnef")),
                                          ("c.msg", msg.read_bytes(), ("application", "vnd.ms-outlook"))])
    report = merge(ws, [eml], report=False)
    assert not report.notices
    got = {f.unit_id: (f.outcome, f.name) for f in report.files}
    assert got == {"so-yte": ("accepted", "thu.eml › a.xlsx"), "xp-00070": ("accepted", "thu.eml › Báo cáo.xlsx"),
                   "xp-00082": ("accepted", "thu.eml › c.xlsx")}


# ---------------------------------------------------------------------------- file names
def test_a_file_name_that_is_not_utf8_is_merged_and_shown_readably(ws, outbox, tmp_path):
    """A Windows zip's name in code page 1258 beside a good file: both merged, the name readable
    in the ledger, the output, the master's log; nothing rolled back."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    raw = os.fsencode(str(inbox)) + b"/Bi\xean b\xe3n Ph\xfd\xf5\xecng.xlsx"      # "Biên băn Phư̛ờng" in cp1258
    with open(raw, "wb") as f:
        f.write(fill(outbox["xp-00070"], tmp_path / "a.xlsx").read_bytes())
    fill(outbox["xp-00082"], inbox / "tot.xlsx")
    res = CliRunner().invoke(main, ["merge", str(inbox), "-C", str(ws.root), "--received", "04/06/2026"])
    assert res.exit_code == 0, res.output
    assert "Biên băn" in res.output and "\ufffd" not in res.output.split("tot.xlsx")[0]
    with Ledger(ws.ledger_file) as led:
        names = sorted(r["name"] for r in led.returns())
    assert names[0].startswith("Biên băn Ph") and names[1] == "tot.xlsx"
    assert rows(ws)["xp-00070"].status == "accepted" and rows(ws)["xp-00082"].status == "accepted"
    log = openpyxl.load_workbook(ws.master_file)["Nhật ký"]
    assert any(str(c.value).startswith("Biên băn") for c in log["C"])
    again = CliRunner().invoke(main, ["merge", str(inbox), "-C", str(ws.root)])       # its seen-file key too
    assert again.exit_code == 0 and "Đã ghép trước đó" in again.output


# ---------------------------------------------------------------------------- what is not a regular file
def test_links_fifos_and_devices_are_never_read(ws, outbox, tmp_path):
    secret = tmp_path / "bi-mat.xlsx"
    fill(outbox["so-yte"], secret)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "lien-ket.xlsx").symlink_to(secret)
    (inbox / "thu-muc-lien-ket").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(inbox / "ong.xlsx")
    fill(outbox["xp-00070"], inbox / "that.xlsx")
    (inbox / "~$that.xlsx").write_bytes(b"\x00" * 165)             # Excel's owner file: passed over silently
    (inbox / ".~lock.that.xlsx#").write_text("x,VP-01,1;")          # LibreOffice's lock file: too
    done = {}

    def go():
        done["res"] = CliRunner().invoke(main, ["merge", str(inbox), str(inbox / "ong.xlsx"), "/dev/zero",
                                                "-C", str(ws.root), "--received", "04/06/2026"])
    worker = threading.Thread(target=go, daemon=True)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "merge hung on a FIFO"
    res = done["res"]
    assert res.exit_code == 1, res.output
    out = res.output
    assert "lien-ket.xlsx' là liên kết (symlink)" in out and "thu-muc-lien-ket' là liên kết" in out
    assert "ong.xlsx' là ống dẫn (FIFO)" in out and "/dev/zero' là thiết bị" in out
    assert "~$" not in out and ".~lock" not in out
    assert rows(ws)["so-yte"].status == "pending" and rows(ws)["xp-00070"].status == "accepted"
    digest = hashlib.sha256(secret.read_bytes()).hexdigest()
    assert not list(ws.archive.rglob(f"{digest}*"))      # the linked file was not copied in


def test_a_file_too_large_is_refused_before_it_is_read(ws, tmp_path, monkeypatch):
    from tracker.intake import sources

    monkeypatch.setattr(sources, "MAX_GIVEN_BYTES", 1000)
    big = tmp_path / "to.xlsx"
    big.write_bytes(b"PK\x03\x04" + b"\0" * 5000)
    report = merge(ws, [big], report=False)
    [res] = report.files
    assert res.outcome == "rejected" and res.findings[0].code == "too_large" and report.exit_code == 1
    assert not ws.archive.exists() or not any(ws.archive.rglob("*.xlsx"))


# ---------------------------------------------------------------------------- a killed run's temporary files
def test_leftover_temporary_files_are_reported_then_cleaned_by_the_next_run(ws):
    folder = ws.outbox / "xa-phuong"
    dead = folder / ".xp-00070-phuong-hoan-kiem.xlsx.999999999.0.tmp"      # no such process
    alive = folder / f".xp-00082.xlsx.{os.getppid()}.0.tmp"                # a live process's: left alone
    dead.write_bytes(b"half")
    alive.write_bytes(b"half")
    (ws.root / ".master.xlsx.999999998.3.tmp").write_bytes(b"half")
    problems = [p for p in verify(ws).problems if p.code == "verify_leftover_temp"]
    assert len(problems) == 1 and problems[0].param("count") == "2" and dead.name in problems[0].message
    generate(ws)
    assert not dead.exists() and alive.exists() and not (ws.root / ".master.xlsx.999999998.3.tmp").exists()
    assert not [p for p in verify(ws).problems if p.code == "verify_leftover_temp"]
    (ws.archive / "ab").mkdir(parents=True)
    (ws.archive / "ab" / ".abc.xlsx.999999999.1.tmp").write_bytes(b"half")
    merge(ws, [], report=False)
    assert not (ws.archive / "ab" / ".abc.xlsx.999999999.1.tmp").exists()


# ---------------------------------------------------------------------------- who sent it
def test_a_reply_from_an_unknown_or_another_units_address_is_flagged(ws, outbox, tmp_path):
    set_contacts(ws, {"xp-00070": ("vanthu@hoankiem.vn", ""), "xp-00082": ("vanthu@cuanam.vn; ubnd@cuanam.vn", "")})
    a = fill(outbox["xp-00070"], tmp_path / "a.xlsx").read_bytes()
    b = fill(outbox["xp-00082"], tmp_path / "b.xlsx").read_bytes()
    c = fill(outbox["xp-00070"], tmp_path / "c.xlsx", {("site", "c1"): "not_met"}).read_bytes()
    mails = [make_eml(tmp_path / "1-dung.eml", [("a.xlsx", a, XLSX)], sender="VT <VanThu@HoanKiem.vn>"),
             make_eml(tmp_path / "2-la.eml", [("b.xlsx", b, XLSX)], sender="x@gmail.com"),
             make_eml(tmp_path / "3-nham.eml", [("c.xlsx", c, XLSX)], sender="ubnd@cuanam.vn",
                      date="Fri, 05 Jun 2026 10:15:00 +0700")]
    res = CliRunner().invoke(main, ["merge", *map(str, mails), "-C", str(ws.root)])
    assert res.exit_code == 0, res.output          # merged, for the staff to check
    assert "gửi từ địa chỉ x@gmail.com, không có trong units.csv" in res.output
    assert "gửi từ địa chỉ ubnd@cuanam.vn của Phường Cửa Nam" in res.output
    assert res.output.count("Lưu ý:") == 2
    with Ledger(ws.ledger_file) as led:
        found = {r["name"]: [f["code"] for f in json.loads(r["findings"]) if f["code"].startswith("sender")]
                 for r in led.returns()}
    assert found == {"1-dung.eml › a.xlsx": [], "2-la.eml › b.xlsx": ["sender_unknown"],
                     "3-nham.eml › c.xlsx": ["sender_other_unit"]}
    assert rows(ws)["xp-00070"].answers["c1"] == "not_met"       # merged all the same
    report = next(ws.reports.glob("ket-qua-ghep-*.xlsx"))
    texts = [str(c.value) for row in openpyxl.load_workbook(report).active.iter_rows() for c in row]
    assert any("x@gmail.com" in t for t in texts) and any("ubnd@cuanam.vn" in t for t in texts)
