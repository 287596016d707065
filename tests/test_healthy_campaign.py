"""A healthy campaign is never called damaged: reading commands read a ledger another program holds,
or a folder that cannot be written; a busy ledger is said busy, naming who holds it when that can
be known; the signing key is never made again over forms and a ledger made with the one lost."""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from fill import fill
from tracker.api import merge
from tracker.cli import main
from tracker.model.errors import TrackerError
from tracker.stats import campaign_stats
from tracker.store import ledger as ledger_module
from tracker.store import locks
from tracker.store.ledger import Ledger, Submission
from tracker.store.workspace import NEW_KEY_ENV, KeyMissing, Workspace
from tracker.verify import verify

ON_TIME = dt.date(2026, 6, 4)
RESTORE = "Khôi phục ledger.sqlite"        # the advice given for a damaged ledger, and only for it


def merged(ws, outbox, tmp_path, n=3) -> list[Path]:
    files = [fill(outbox[u.id], tmp_path / "in" / f"r{i}.xlsx", "met") for i, u in enumerate(ws.units[:n])]
    merge(ws, files, received=ON_TIME, report=False)
    return files


def cli(ws, *args, env=None):
    return CliRunner().invoke(main, [*args, "-C", str(ws.root)], env=env)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def held_exclusively(ws):
    """Another program holding the ledger exclusively in the middle of a write (as a SQLite tool
    may): nobody else can read it until it lets go."""
    db = sqlite3.connect(ws.ledger_file, isolation_level=None)
    db.execute("PRAGMA locking_mode=EXCLUSIVE")
    db.execute("BEGIN EXCLUSIVE")
    db.execute("INSERT INTO events(at, kind) VALUES('2026-06-04T10:00:00', 'other_program')")
    try:
        yield db
    finally:
        db.execute("ROLLBACK")
        db.close()


# ---------------------------------------------------------------------- reading never needs the write lock
def test_reading_commands_read_a_ledger_another_program_is_writing(ws, outbox, tmp_path):
    merged(ws, outbox, tmp_path)
    before = campaign_stats(ws, ON_TIME).to_json()
    other = sqlite3.connect(ws.ledger_file, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")                  # a write transaction held open by another program
    other.execute("INSERT INTO events(at, kind) VALUES('2026-06-04T10:00:00', 'other_program')")
    try:
        # Before: the schema script at open waited 60 s for the write lock, then said "damaged".
        assert campaign_stats(Workspace(ws.root), ON_TIME).to_json() == before
        assert verify(Workspace(ws.root)).ok
        for command in (["stats", "--format", "json", "--as-of", "04/06/2026"], ["missing"],
                        ["report", "--format", "xlsx"]):
            result = cli(ws, *command)
            assert result.exit_code == 0, result.output
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_reading_commands_write_nothing_to_the_ledger(ws, outbox, tmp_path):
    merged(ws, outbox, tmp_path)
    before = digest(ws.ledger_file)
    for command in (["stats"], ["missing"], ["verify"], ["report", "--format", "xlsx"]):
        assert cli(ws, *command).exit_code == 0
    assert digest(ws.ledger_file) == before
    assert not Path(f"{ws.ledger_file}-wal").exists() or Path(f"{ws.ledger_file}-wal").stat().st_size == 0


def test_a_ledger_held_exclusively_is_busy_not_damaged_and_the_holder_is_named(ws, outbox, tmp_path):
    merged(ws, outbox, tmp_path)
    # A tracker command holding the campaign (another process's, as its note says: this one's here).
    with held_exclusively(ws), Workspace(ws.root).lock():
        with pytest.raises(TrackerError) as e:
            campaign_stats(Workspace(ws.root), ON_TIME)
    text = str(e.value)
    assert "đang bận, thử lại" in text and "không hỏng" in text
    assert f"tiến trình {os.getpid()}" in text and "lệnh '" in text
    assert "hỏng, không mở được" not in text and "khôi phục" not in text.lower()
    # Nobody of ours holds it: another program does, and the message says to close it.
    with held_exclusively(ws):
        result = cli(ws, "stats")
    assert result.exit_code == 1 and "đang bận, thử lại" in result.output and "chương trình khác" in result.output
    assert "Traceback" not in result.output and "hỏng" not in result.output.replace("không hỏng", "")


def test_verify_says_a_busy_ledger_is_busy_and_never_advises_a_restore(ws, outbox, tmp_path):
    merged(ws, outbox, tmp_path)
    with held_exclusively(ws):
        rep = verify(Workspace(ws.root))
        result = cli(ws, "verify")
    codes = [p.code for p in rep.problems]
    assert "verify_ledger_busy" in codes and "verify_ledger_unreadable" not in codes
    assert all(RESTORE not in p.text("vi") for p in rep.problems)
    assert "đang bận" in result.output and RESTORE not in result.output and "Traceback" not in result.output


def test_a_damaged_ledger_is_still_called_damaged(ws, outbox, tmp_path):
    merged(ws, outbox, tmp_path)
    for f in ws.root.glob("ledger.sqlite*"):
        f.write_bytes(b"not a database" * 100)
    rep = verify(ws)
    assert [p.code for p in rep.problems if p.code.startswith("verify_ledger")] == ["verify_ledger_unreadable"]
    assert RESTORE in rep.problems[0].text("vi")
    with pytest.raises(TrackerError, match="bị hỏng"):
        campaign_stats(Workspace(ws.root), ON_TIME)


def test_a_writer_finding_the_ledger_busy_says_so(ws, outbox, tmp_path, monkeypatch):
    merged(ws, outbox, tmp_path)
    monkeypatch.setattr(ledger_module, "WRITE_TIMEOUT_S", 0.2)
    with held_exclusively(ws), pytest.raises(TrackerError) as e:
        merge(Workspace(ws.root), [], report=False)
    assert "đang bận, thử lại" in str(e.value) and "bị hỏng" not in str(e.value)


def test_a_read_only_ledger_connection_cannot_write(ws, outbox, tmp_path):
    merged(ws, outbox, tmp_path)
    with pytest.raises(TrackerError, match="chỉ đọc"):
        with Ledger.reader(ws.ledger_file) as led:
            with led.transaction() as db:
                led.event(db, "should_not_be_written")


# ---------------------------------------------------------------------- who holds the campaign
def test_a_second_writer_is_told_who_holds_the_campaign(ws):
    hold, done = threading.Event(), threading.Event()

    def holder():
        with Workspace(ws.root).lock():
            hold.set()
            done.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    hold.wait(5)
    try:
        note = json.loads(locks.note_path(ws.state / "campaign.lock").read_text(encoding="utf-8"))
        assert note["pid"] == os.getpid() and note["host"] and note["command"]
        with pytest.raises(TrackerError) as e:
            merge(Workspace(ws.root), [], lock_timeout=0.3)
        assert "đang chạy trên chiến dịch" in str(e.value) and f"tiến trình {os.getpid()}" in str(e.value)
    finally:
        done.set()
        t.join()
    assert not locks.note_path(ws.state / "campaign.lock").exists()    # released: the note goes with it


def test_a_note_left_by_a_dead_process_names_nobody(ws):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock = ws.state / "campaign.lock"
    ws.state.mkdir(exist_ok=True)
    import socket

    locks.note_path(lock).write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(),
                                                  "command": "tracker merge", "since": "2026-06-04T09:00:00"}),
                                       encoding="utf-8")
    assert locks.holder(lock) is None and locks.holders(ws.state) == []
    with Workspace(ws.root).lock():          # and it does not stop anyone
        pass


# ---------------------------------------------------------------------- a folder that cannot be written
def _read_only_runner(tmp_path):
    """Run a command with `folder` mounted read-only (a private mount namespace: even root cannot
    write there), or None where the system does not allow it."""
    probe = tmp_path / "probe"
    probe.mkdir()
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
    try:
        ok = subprocess.run(["unshare", "-rm", "sh", "-c", script, str(probe), "true"], capture_output=True,
                            timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    if not ok:
        return None

    def run(folder: Path, *args):
        env = dict(os.environ, TRACKER_LANG="vi")
        return subprocess.run(["unshare", "-rm", "sh", "-c", script, str(folder), sys.executable, "-m", "tracker",
                               *args, "-C", str(folder)], capture_output=True, text=True, encoding="utf-8",
                              timeout=300, env=env)
    return run


def test_a_read_only_campaign_folder_reads_and_says_what_it_cannot_write(ws, outbox, tmp_path):
    run = _read_only_runner(tmp_path)
    if run is None:
        pytest.skip("this system cannot mount a folder read-only for a test (unshare -rm)")
    merged(ws, outbox, tmp_path)
    want = campaign_stats(ws, ON_TIME).to_json()
    for cache in ws.state.glob("*-cache.json"):      # read again, and the caches cannot be written: no matter
        cache.unlink()
    stats = run(ws.root, "stats", "--format", "json", "--as-of", "04/06/2026")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout) == json.loads(json.dumps(want))
    for command in (["missing"], ["verify"]):
        result = run(ws.root, *command)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "hỏng" not in result.stdout + result.stderr
    report = run(ws.root, "report")
    said = report.stdout + report.stderr
    assert report.returncode == 1 and "Không ghi được báo cáo vào thư mục" in said and "reports" in said
    assert "chép cả thư mục chiến dịch" in said and "Traceback" not in said and "không mong đợi" not in said
    result = run(ws.root, "merge")
    said = result.stdout + result.stderr
    assert result.returncode == 1 and "cần ghi" in said and "Traceback" not in said


def test_a_read_only_copy_taken_while_tracker_wrote_shows_every_commit(ws, outbox, tmp_path):
    """A copy holding the ledger and its WAL but not the -shm file (a folder copied while a merge
    ran), in a folder that cannot be written: every committed submission is still counted."""
    run = _read_only_runner(tmp_path)
    if run is None:
        pytest.skip("this system cannot mount a folder read-only for a test (unshare -rm)")
    merged(ws, outbox, tmp_path, n=2)
    late = ws.units[5]
    writer = Ledger(ws.ledger_file)
    writer.db.execute("PRAGMA wal_autocheckpoint=0")
    with writer.transaction() as db:
        writer.add_submission(db, Submission(late.id, ON_TIME, source="manual",
                                             answers={(p.id, "c1"): "met" for p in late.products}))
    copy = tmp_path / "copy"
    shutil.copytree(ws.root, copy, ignore=shutil.ignore_patterns("*-shm"))
    writer.close()
    assert Path(f"{copy / 'ledger.sqlite'}-wal").stat().st_size > 0
    result = run(copy, "stats", "--format", "json", "--as-of", "04/06/2026")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["units"]["returned"] == 3


# ---------------------------------------------------------------------- the signing key
def _without_hidden(ws, tmp_path) -> Workspace:
    copy = tmp_path / "copy"
    shutil.copytree(ws.root, copy, ignore=shutil.ignore_patterns(".*"))   # what some copies do
    return Workspace(copy)


def test_a_folder_copied_without_its_hidden_files_never_gets_a_new_key(ws, outbox, tmp_path):
    files = merged(ws, outbox, tmp_path, n=1)
    copy = _without_hidden(ws, tmp_path)
    genuine = fill(outbox[ws.units[1].id], tmp_path / "in" / "late.xlsx", "met")
    result = cli(copy, "merge", str(genuine))
    assert result.exit_code == 1 and "Không tạo khóa mới" in result.output
    assert "backups/secret.key" in result.output and "Traceback" not in result.output
    assert not copy.secret_file.exists()
    # verify says the key is missing; it does not call every form tampered nor advise regenerating them
    rep = verify(Workspace(copy.root))
    codes = {p.code for p in rep.problems}
    assert "verify_key_missing" in codes and "verify_outbox_bad" not in codes
    assert not copy.secret_file.exists()
    # Restored as the message says: the genuine return is accepted, the first one known.
    copy.secret_file.parent.mkdir(exist_ok=True)      # the lock and caches made it meanwhile
    shutil.copyfile(copy.secret_backup, copy.secret_file)
    report = merge(Workspace(copy.root), [*files, genuine], received=ON_TIME, report=False)
    assert [f.outcome for f in report.files] == ["duplicate", "accepted"]


def test_a_lost_key_without_a_copy_says_where_to_restore_it_from(ws, tmp_path):
    copy = _without_hidden(ws, tmp_path)
    copy.secret_backup.unlink()
    with pytest.raises(KeyMissing) as e:
        _ = copy.secret
    assert "bản sao lưu của thư mục chiến dịch" in str(e.value) and NEW_KEY_ENV in str(e.value)


def test_a_new_key_only_when_asked_for_by_name(ws, tmp_path, monkeypatch):
    copy = _without_hidden(ws, tmp_path)
    old = copy.secret_backup.read_bytes().strip()
    monkeypatch.setenv(NEW_KEY_ENV, "1")
    assert Workspace(copy.root).secret not in (b"", old)


def test_a_fresh_folder_makes_its_key_and_init_says_where_it_is(tmp_path):
    result = CliRunner().invoke(main, ["init", str(tmp_path / "camp")])
    assert result.exit_code == 0, result.output
    ws = Workspace(tmp_path / "camp")
    assert str(ws.secret_file) in result.output and "sao lưu" in result.output
    assert ws.secret_backup.read_bytes().strip() == ws.secret_file.read_bytes().strip()
    # Nothing made with a key yet (no outbox file, no ledger): losing it loses nothing, a new one is made.
    shutil.rmtree(ws.state)
    assert Workspace(ws.root).secret
