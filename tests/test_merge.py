"""`tracker merge`: the pipeline end to end, hand edits in the master, locking and crash safety."""
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import held_open
from fill import fill
from tracker.cli import main
from tracker.model.errors import TrackerError
from tracker.master import workbook as master_form
from tracker.store.ledger import Ledger
from tracker.api import merge
from tracker.stats import campaign_stats
from tracker.store.crash_points import KILLED_RETURNCODE
from tracker.store.files import sha256_file
from tracker.store.workspace import Workspace

ON_TIME = dt.date(2026, 6, 4)


def answers_for(i: int, unit) -> dict:
    """A varied but known pattern: every 7th unit says "not met" on c3, every 11th leaves c5 blank."""
    out = {}
    for p in unit.products:
        for c in ("c1", "c2", "c3", "c4", "c5", "c6"):
            out[(p.key, c)] = "met"
        if i % 7 == 0:
            out[(p.key, "c3")] = "not_met"
        if i % 11 == 0:
            out[(p.key, "c5")] = "blank"
    return out


@pytest.fixture
def inbox(ws, outbox, tmp_path):
    folder = tmp_path / "inbox"
    for i, unit in enumerate(ws.units):
        fill(outbox[unit.id], folder / f"tra-loi-{i:03d}.xlsx", answers_for(i, unit),
             notes={"c3": "Cần bổ sung mục tra cứu"} if i % 7 == 0 else None,
             proposals="Đề nghị tập huấn thêm" if i % 5 == 0 else "")
    return folder


def test_merging_136_returns_then_stats_row_by_row(ws, inbox):
    report = merge(ws, [inbox], received=ON_TIME)
    assert report.exit_code == 0
    assert report.count("accepted") == 136 and report.count("rejected") == 0
    doc = campaign_stats(ws, dt.date(2026, 6, 10)).to_json()
    by_product = {(r["unit_id"], r["product"]): r for r in doc["rows"]}
    for i, unit in enumerate(ws.units):
        expected = answers_for(i, unit)
        for p in unit.products:
            row = by_product[(unit.id, p.name)]
            assert row["answers"] == {c: expected[(p.key, c)] for c in row["answers"]}
            assert row["received_at"] == "2026-06-04" and row["deadline_status"] == "on_time"
            want = "not_accepted" if i % 7 == 0 else "incomplete" if i % 11 == 0 else "accepted"
            assert row["status"] == want
    assert doc["units"] == {"total": 136, "returned": 136, "on_time": 136, "late": 0, "missing": 0, "waiting": 0,
                            "signed": 0}
    # The ledger holds one submission per unit and every file once.
    with Ledger(ws.ledger_file) as led:
        assert led.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 136
        assert led.db.execute("SELECT COUNT(DISTINCT sha256) FROM returns").fetchone()[0] == 136
    # The master shows it: answers, result formulas' cached values, notes.
    wb = openpyxl.load_workbook(ws.master_file, data_only=True)
    cols = master_form.columns(ws.campaign)
    sh = wb["Xã, phường"]
    rows = {sh.cell(r, cols[master_form.PRODUCT_ID_HEADER] + 1).value: r for r in range(5, 5 + 126)}
    unit = ws.unit_by_id["xp-00070"]
    i = ws.units.index(unit)
    r = rows["xp-00070/site"]
    assert sh.cell(r, cols["Ngày nhận"] + 1).value.date() == ON_TIME
    assert sh.cell(r, cols["Kết quả"] + 1).value == {"accepted": "Đạt (nghiệm thu)", "not_accepted": "Không đạt",
                                                    "incomplete": "Chưa đủ"}[by_product[(unit.id, "Trang TTĐT của địa phương")]["status"]]
    assert sh.cell(r, cols["TC1"] + 1).value == "Đáp ứng"
    assert sh.cell(r, cols["Tệp nguồn"] + 1).value == f"tra-loi-{i:03d}.xlsx"
    # Every input is in the archive, byte-identical.
    for f in inbox.iterdir():
        digest = sha256_file(f)
        archived = next(ws.archive.rglob(f"{digest}*"))
        assert archived.read_bytes() == f.read_bytes()


def test_remerging_an_unchanged_inbox_changes_nothing(ws, inbox):
    merge(ws, [inbox], received=ON_TIME)
    before = json.dumps(campaign_stats(ws, dt.date(2026, 6, 10)).to_json())
    result = CliRunner().invoke(main, ["merge", "-C", str(ws.root), str(inbox)])
    assert result.exit_code == 0, result.output
    assert result.output.count("Đã ghép trước đó") >= 136
    assert json.dumps(campaign_stats(ws, dt.date(2026, 6, 10)).to_json()) == before
    with Ledger(ws.ledger_file) as led:
        assert led.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 136


def test_a_newer_return_replaces_the_older_which_stays_in_history(ws, outbox, tmp_path):
    unit = ws.unit_by_id["xp-00070"]
    v1 = fill(outbox[unit.id], tmp_path / "v1.xlsx", {("site", "c2"): "not_met"})
    v2 = fill(outbox[unit.id], tmp_path / "v2.xlsx", "met")
    assert merge(ws, [v1], received=dt.date(2026, 6, 3)).files[0].outcome == "accepted"
    second = merge(ws, [v2], received=dt.date(2026, 6, 8)).files[0]
    assert second.outcome == "replaced"
    assert any("bản trước" in f.message for f in second.findings)
    rows = [r for r in campaign_stats(ws, dt.date(2026, 6, 10)).rows if r.unit_id == unit.id]
    assert rows[0].status == "accepted"
    assert rows[0].deadline_status == "on_time"          # by the first return, 03/06
    with Ledger(ws.ledger_file) as led:
        assert len(led.history()[unit.id]) == 2
    # An older version arriving late is kept but does not win.
    v0 = fill(outbox[unit.id], tmp_path / "v0.xlsx", {("site", "c6"): "not_met"})
    assert merge(ws, [v0], received=dt.date(2026, 6, 1)).files[0].outcome == "stale"
    rows = [r for r in campaign_stats(ws, dt.date(2026, 6, 10)).rows if r.unit_id == unit.id]
    assert rows[0].status == "accepted"


def master_row(ws, sheet, product_id):
    wb = openpyxl.load_workbook(ws.master_file)
    sh = wb[sheet]
    cols = master_form.columns(ws.campaign)
    for r in range(master_form.FIRST_ROW + 1, sh.max_row + 1):
        if sh.cell(r, cols[master_form.PRODUCT_ID_HEADER] + 1).value == product_id:
            return wb, sh, r, cols
    raise AssertionError(product_id)


def test_hand_edits_in_the_master_are_recorded_and_never_overwritten(ws, outbox, tmp_path):
    # A paper reply typed into the master.
    wb, sh, r, cols = master_row(ws, "Xã, phường", "xp-00082/site")
    sh.cell(r, cols["Ngày nhận"] + 1).value = dt.datetime(2026, 6, 5)
    for k in range(1, 7):
        sh.cell(r, cols[f"TC{k}"] + 1).value = "Đáp ứng"
    sh.cell(r, cols["TC4"] + 1).value = "Chưa đáp ứng"
    sh.cell(r, cols["Ghi chú"] + 1).value = "=HYPERLINK(\"http://x\",\"trả lời giấy\")"
    wb.save(ws.master_file)
    # ... and a file for another unit in the same merge.
    other = fill(outbox["xp-00070"], tmp_path / "hk.xlsx", "met")
    report = merge(ws, [other], received=ON_TIME)
    assert report.master.manual_units == ["xp-00082"]
    rows = {r.unit_id: r for r in campaign_stats(ws, dt.date(2026, 6, 10)).rows}
    assert rows["xp-00082"].status == "not_accepted"
    assert rows["xp-00082"].answers["c4"] == "not_met"
    assert rows["xp-00082"].received_at == dt.date(2026, 6, 5)
    assert rows["xp-00070"].status == "accepted"
    wb, sh, r, cols = master_row(ws, "Xã, phường", "xp-00082/site")
    assert sh.cell(r, cols["TC4"] + 1).value == "Chưa đáp ứng"
    note = sh.cell(r, cols["Ghi chú"] + 1)
    assert note.value.startswith("=HYPERLINK") and note.data_type == "s"      # stays text
    assert sh.cell(r, cols["Tệp nguồn"] + 1).value == "Nhập tay trên bảng tổng hợp"
    # Merging again finds nothing new.
    again = merge(ws, [])
    assert again.master.manual_units == []
    with Ledger(ws.ledger_file) as led:
        assert led.db.execute("SELECT COUNT(*) FROM submissions WHERE source='manual'").fetchone()[0] == 1


def test_a_bad_value_typed_in_the_master_is_reported_not_recorded(ws):
    wb, sh, r, cols = master_row(ws, "Xã, phường", "xp-00082/site")
    sh.cell(r, cols["TC2"] + 1).value = "ok"
    wb.save(ws.master_file)
    report = merge(ws, [])
    assert report.master.manual_units == []
    messages = [f.message for f in report.master.findings]
    assert any("master.xlsx" in m and "Xã, phường" in m and "'ok'" in m for m in messages)


def test_a_master_held_open_is_written_beside(ws, outbox, tmp_path, monkeypatch):
    new = fill(outbox["xp-00070"], tmp_path / "hk.xlsx", "met")
    with held_open(ws.master_file, monkeypatch):
        report = merge(ws, [new])
    assert report.master.written_beside and report.master.path.exists()
    assert report.master.path.parent == ws.root and report.master.path != ws.master_file


def test_a_second_merge_waits_for_the_lock_then_says_why(ws, outbox, tmp_path):
    hold = threading.Event()
    done = threading.Event()

    def holder():
        with Workspace(ws.root).lock():
            hold.set()
            done.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    hold.wait(5)
    try:
        with pytest.raises(TrackerError) as e:
            merge(Workspace(ws.root), [], lock_timeout=0.5)
        assert "đang chạy" in str(e.value)
    finally:
        done.set()
        t.join()


def run_merge_subprocess(ws, inbox, kill_at=None, timeout=300):
    env = dict(os.environ, TRACKER_KILL_AT=kill_at or "")
    return subprocess.run([sys.executable, "-m", "tracker", "merge", "-C", str(ws.root), str(inbox),
                           "--received", "04/06/2026"], env=env, capture_output=True, text=True, encoding="utf-8",
                          timeout=timeout)


def check_consistent(ws):
    db = sqlite3.connect(ws.ledger_file)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for sha, archived in db.execute("SELECT sha256, archived FROM returns"):
        assert sha256_file(ws.root / archived) == sha
    db.close()
    openpyxl.load_workbook(ws.master_file)          # the master is whole (old or new)


@pytest.mark.parametrize("kill_at", ["merge.archived:3", "merge.in_transaction:5", "merge.recorded:9",
                                     "merge.before_master", "master.before_replace"])
def test_a_killed_merge_leaves_a_consistent_campaign_and_the_next_completes(ws, outbox, tmp_path, kill_at):
    inbox = tmp_path / "inbox"
    picks = ws.units[:12]
    for i, unit in enumerate(picks):
        fill(outbox[unit.id], inbox / f"r{i:02d}.xlsx", answers_for(i, unit))
    killed = run_merge_subprocess(ws, inbox, kill_at)
    assert killed.returncode == KILLED_RETURNCODE, killed.stderr
    check_consistent(ws)
    finished = run_merge_subprocess(ws, inbox)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "Traceback" not in finished.stdout + finished.stderr
    check_consistent(ws)
    with Ledger(ws.ledger_file) as led:
        subs = led.db.execute("SELECT unit_id, COUNT(*) FROM submissions GROUP BY unit_id").fetchall()
    assert sorted(u for u, _ in subs) == sorted(u.id for u in picks)
    assert all(n == 1 for _, n in subs)                    # each return recorded exactly once
    rows = {r.unit_id: r for r in campaign_stats(ws, dt.date(2026, 6, 10)).rows}
    assert all(rows[u.id].status != "pending" for u in picks)
    wb = openpyxl.load_workbook(ws.master_file, data_only=True)
    sheet_rows = [r for r in wb["Sở, ban, ngành"].iter_rows(values_only=True) if r[7]]
    assert len(sheet_rows) >= 10                           # the rebuilt master shows the merged returns


def test_an_unchanged_remerge_leaves_the_master_alone_but_a_hand_edit_is_still_seen(ws, outbox, tmp_path):
    new = fill(outbox["xp-00070"], tmp_path / "hk.xlsx", "met")
    merge(ws, [new], received=ON_TIME)
    before = ws.master_file.read_bytes()
    again = merge(ws, [new])
    assert again.master.unchanged and ws.master_file.read_bytes() == before
    assert again.report_path is None                      # nothing new to report
    wb, sh, r, cols = master_row(ws, "Xã, phường", "xp-00082/site")
    sh.cell(r, cols["TC1"] + 1).value = "Đáp ứng"
    wb.save(ws.master_file)
    edited = merge(ws, [new])
    assert edited.master.manual_units == ["xp-00082"] and not edited.master.unchanged


def test_two_reading_processes_give_exactly_what_one_gives(ws, inbox, tmp_path):
    """Both cores read returns: the outcome, findings, ledger and stats are those of one process."""
    (inbox / "cut.xlsx").write_bytes((inbox / "tra-loi-001.xlsx").read_bytes()[:3000])
    (inbox / "ghi-chu.xlsx").write_text("không phải bảng tính", encoding="utf-8")
    (inbox / "z-copy.xlsx").write_bytes((inbox / "tra-loi-002.xlsx").read_bytes())
    twin = Workspace(tmp_path / "twin")
    shutil.copytree(ws.root, twin.root)

    def run(w, workers):
        files = merge(w, [inbox], received=ON_TIME, workers=workers, report=False).files
        with Ledger(w.ledger_file) as led:
            answers = led.db.execute("SELECT s.unit_id, a.product_id, a.criterion_id, a.value FROM answers a "
                                     "JOIN submissions s ON s.id = a.submission_id ORDER BY 1, 2, 3").fetchall()
        return ([(f.name, f.outcome, f.unit_id, [(x.code, x.cell) for x in f.findings]) for f in files],
                [tuple(r) for r in answers], campaign_stats(w, dt.date(2026, 6, 10)).to_json())

    one, two = run(ws, 1), run(twin, 2)
    assert one == two
    outcomes = [o for _, o, _, _ in one[0]]
    assert outcomes.count("accepted") == 136 and outcomes.count("rejected") == 2 and "duplicate" in outcomes


@pytest.mark.parametrize("trouble", ["fails", "hangs"])
def test_the_merge_report_is_written_even_when_its_second_process_fails(ws, outbox, tmp_path, monkeypatch, trouble):
    """The report is written by a forked copy while the master is rebuilt; if the copy fails or
    hangs, merge writes it itself: the report is never lost."""
    import time

    import tracker.reports.merge_report as mr
    import tracker.api as merge_module

    parent, real = os.getpid(), mr.write_merge_report

    def flaky(*args, **kwargs):
        if os.getpid() != parent:
            if trouble == "hangs":
                time.sleep(60)
            raise RuntimeError("hỏng")
        return real(*args, **kwargs)
    monkeypatch.setattr(mr, "write_merge_report", flaky)
    monkeypatch.setattr(merge_module._ReportBeside, "WAIT_S", 1)
    f = fill(outbox["xp-00070"], tmp_path / "hk.xlsx", "met")
    result = merge(ws, [f], received=ON_TIME)
    assert result.report_path is not None and result.report_path.is_file()
    sheet = openpyxl.load_workbook(result.report_path).active
    assert any("hk.xlsx" in str(c.value) for row in sheet.iter_rows() for c in row)
