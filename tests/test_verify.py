"""`tracker verify` finds what a disk or sync problem broke, and says how to repair it."""
import datetime as dt

from click.testing import CliRunner

from fill import fill
from tracker.cli import main
from tracker.api import merge
from tracker.verify import verify


def merged(ws, outbox, tmp_path, n=3):
    files = [fill(outbox[u.id], tmp_path / f"r{i}.xlsx", "met") for i, u in enumerate(ws.units[:n])]
    merge(ws, files, received=dt.date(2026, 6, 4))
    return files


def run(ws):
    return CliRunner().invoke(main, ["verify", "-C", str(ws.root)])


def test_a_healthy_campaign_passes(ws, outbox, tmp_path):
    merged(ws, outbox, tmp_path)
    assert verify(ws).ok and not verify(ws).problems
    result = run(ws)
    assert result.exit_code == 0 and "không có lỗi" in result.output


def test_a_corrupted_archive_file_is_found(ws, outbox, tmp_path):
    merged(ws, outbox, tmp_path)
    victim = next(p for p in ws.archive.rglob("*.xlsx"))
    victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")
    result = run(ws)
    assert result.exit_code == 1
    assert str(victim.relative_to(ws.root)) in result.output and "mã băm" in result.output
    assert "Cách khắc phục" in result.output and "Traceback" not in result.output


def test_a_missing_archive_file_and_an_orphan_are_found(ws, outbox, tmp_path):
    merged(ws, outbox, tmp_path)
    files = sorted(ws.archive.rglob("*.xlsx"))
    files[0].unlink()
    orphan = ws.archive / "ab" / ("ab" + "0" * 62 + ".xlsx")
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"x")
    rep = verify(ws)
    assert not rep.ok
    texts = " ".join(p.statement() for p in rep.problems)
    assert "Thiếu tệp lưu trữ" in texts and "không có trong sổ ghi" in texts


def test_a_broken_ledger_is_reported_without_traceback(ws, outbox, tmp_path):
    merged(ws, outbox, tmp_path)
    for f in ws.root.glob("ledger.sqlite*"):
        f.write_bytes(b"not a database" * 100)
    result = run(ws)
    assert result.exit_code == 1 and "ledger.sqlite" in result.output and "Traceback" not in result.output


def test_a_tampered_outbox_workbook_is_found(ws, outbox, tmp_path):
    a, b = ws.units[0], ws.units[1]
    ws.outbox_path(a).write_bytes(ws.outbox_path(b).read_bytes())   # a sync swapped two files
    rep = verify(ws)
    assert not rep.ok and ws.outbox_path(a).name in " ".join(p.statement() for p in rep.problems)


def test_a_master_behind_the_ledger_is_found(ws, outbox, tmp_path):
    backup = ws.master_file.read_bytes()
    merged(ws, outbox, tmp_path)
    ws.master_file.write_bytes(backup)                  # an old copy synced back over the new one
    rep = verify(ws)
    assert any("chưa cập nhật" in p.statement() for p in rep.problems)
    merge(ws, [])
    assert not verify(ws).problems


def test_a_merged_email_is_known_to_the_ledger(ws, outbox, tmp_path):
    from email.message import EmailMessage

    filled = fill(outbox[ws.units[0].id], tmp_path / "r.xlsx", "met")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "vt@donvi.gov.vn", "ttdl@hanoi.gov.vn", "Biên bản"
    msg["Date"] = "Thu, 04 Jun 2026 09:00:00 +0700"
    msg.set_content("Gửi biên bản.")
    msg.add_attachment(filled.read_bytes(), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename="r.xlsx")
    eml = tmp_path / "thu.eml"
    eml.write_bytes(bytes(msg))
    assert merge(ws, [eml]).files[0].outcome == "accepted"
    assert not verify(ws).problems          # the email itself is archived and recorded


def test_files_we_write_are_readable_by_colleagues(ws):
    import stat

    for path in (ws.master_file, ws.outbox_path(ws.units[0])):
        assert path.stat().st_mode & stat.S_IRGRP, path
