"""A full disk is said as the staff can act on it, and is never a unit's fault (finding disk_full).

The disk is real: a tmpfs of a few KB, filled to the last byte, mounted over one folder of the
campaign in a private mount namespace (`unshare --mount`, as an unprivileged user too where user
namespaces are allowed). The command runs in that namespace; the mount disappears with it, so
nothing is left mounted whatever happens, and "room again" is the same folder afterwards.
"""
from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tracker.demo.simulate import fill
from tracker.store.ledger import Ledger

RECEIVED = dt.date(2026, 6, 4)
UNEXPECTED = "Lỗi không mong đợi"


def _on_full_disk(folder: Path, command: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    """Run `command` (a tracker command line) with `folder` on a disk that is full: its contents
    are copied onto a fresh 256 KB tmpfs mounted over it, the rest is filled with one file."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed: no private mount namespace for a full disk")
    folder.mkdir(parents=True, exist_ok=True)
    keep = tmp_path / f"keep-{folder.name}"
    shutil.copytree(folder, keep)
    script = (f"set -e; mount -t tmpfs -o size=256k tracker-full {shlex.quote(str(folder))}; "
              f"cp -a {shlex.quote(str(keep))}/. {shlex.quote(str(folder))}/ 2>/dev/null || true; "
              f"dd if=/dev/zero of={shlex.quote(str(folder / '.filler'))} bs=4k 2>/dev/null || true; "
              f"exec {shlex.join([sys.executable, '-m', 'tracker', *command])}")
    userns = [] if os.geteuid() == 0 else ["--map-root-user"]
    probe = subprocess.run(["unshare", "--mount", *userns, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here ({probe.stderr.decode(errors='replace').strip()})")
    env = {**os.environ, "TRACKER_LANG": "vi", "COLUMNS": "400"}
    return subprocess.run(["unshare", "--mount", *userns, "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


def test_returns_not_archived_for_want_of_room_are_merged_when_given_again(ws, tmp_path):
    units = ws.units[:2]
    inbox = tmp_path / "inbox"
    files = [fill(ws.outbox_path(u), inbox / f"tra-loi-{i}.xlsx", "met", received=RECEIVED) for i, u in enumerate(units)]
    run = _on_full_disk(ws.archive, ["merge", "-C", str(ws.root), "--received", "2026-06-04", str(inbox)], tmp_path)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert UNEXPECTED not in out and "Traceback" not in out
    # Each file named, with the disk's folder and the room left; said not to be the unit's fault.
    for f in files:
        assert f"Chưa ghép: {f.name}" in out and f"Từ chối: {f.name}" not in out, out
        assert f"Ổ đĩa của chiến dịch đầy: chưa lưu được tệp '{f.name}'" in out, out
    assert str(ws.archive) in out and "còn trống" in out and "không báo đơn vị" in out
    with Ledger(ws.ledger_file) as led:
        assert all(led.current(u.id) is None for u in units)
        assert led.db.execute("SELECT count(*) FROM returns").fetchone()[0] == 0
    # The staff's report lists them; nothing is written for the units to read.
    [staff] = sorted(ws.reports.glob("ket-qua-ghep-*.xlsx"))
    shown = " ".join(str(c.value) for row in openpyxl.load_workbook(staff).worksheets[0].iter_rows() for c in row)
    assert all(f.name in shown for f in files) and "Ổ đĩa của chiến dịch đầy" in shown and "Chưa ghép" in shown
    assert not list(ws.reports.glob("*-gui-don-vi"))

    # Room again (the mount is gone): the same files are merged, as if never seen.
    again = subprocess.run([sys.executable, "-m", "tracker", "merge", "-C", str(ws.root), "--received", "2026-06-04",
                            str(inbox)], capture_output=True, text=True, check=False,
                           env={**os.environ, "TRACKER_LANG": "vi"})
    assert again.returncode == 0, again.stdout + again.stderr
    with Ledger(ws.ledger_file) as led:
        assert all(led.current(u.id) is not None for u in units)


def test_a_report_that_does_not_fit_names_the_file_the_folder_and_the_room_left(ws, tmp_path):
    run = _on_full_disk(ws.reports, ["report", "-C", str(ws.root), "--as-of", "2026-06-10"], tmp_path)
    out = run.stdout + run.stderr
    assert run.returncode != 0, out
    assert UNEXPECTED not in out and "Traceback" not in out
    assert "Ổ đĩa đầy: không ghi được tệp 'bao-cao-nghiem-thu-20260610." in out, out
    assert f"vào thư mục '{ws.reports}'" in out and "còn trống" in out
    assert not [p for p in ws.reports.glob("*") if p.name.startswith(".") and p.suffix == ".tmp"]


def test_a_merge_report_that_does_not_fit_is_said_so_and_the_merge_is_kept(ws, tmp_path):
    """The files were merged (the ledger is elsewhere); only the report could not be written: said
    with its name and folder, and the next merge writes one."""
    unit = ws.units[0]
    inbox = tmp_path / "inbox"
    fill(ws.outbox_path(unit), inbox / "r.xlsx", "met", received=RECEIVED)
    run = _on_full_disk(ws.reports, ["merge", "-C", str(ws.root), "--received", "2026-06-04", str(inbox)], tmp_path)
    out = run.stdout + run.stderr
    assert run.returncode != 0 and UNEXPECTED not in out and "Traceback" not in out, out
    assert "Ổ đĩa đầy: không ghi được tệp 'ket-qua-ghep-" in out and f"'{ws.reports}'" in out, out
    with Ledger(ws.ledger_file) as led:
        assert led.current(unit.id) is not None
