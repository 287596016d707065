#!/usr/bin/env python3
"""Kill `merge`, `generate` and `mail send` at many points (as a power cut would), then check the campaign.

    python tools/crash_points.py               # every point (about 160 runs; a few minutes)
    python tools/crash_points.py --quick       # a handful per command (the test suite's size)

Points are the named checkpoints of tracker.store.crash_points (TRACKER_KILL_AT=name:occurrence). After each
kill: the ledger passes PRAGMA integrity_check and agrees with the archive (every return's file
present with its hash), the master opens, and the next run of the same command completes the work:
every return merged exactly once, every unit workbook present and byte-identical to a clean build,
no email delivered twice (a message left unconfirmed is not resent by default; with
--resend-unconfirmed it goes exactly once, since the kill came before the server had it).
"""
from __future__ import annotations

import argparse
import collections
import csv
import io
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

PY = sys.executable
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from tracker.store.crash_points import KILLED_RETURNCODE  # noqa: E402  (-SIGKILL on POSIX, 9 on Windows)
N_RETURNS = 16
N_MAIL_UNITS = 25


def tracker(*args, kill_at: str = "", cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRACKER_KILL_AT": kill_at, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([PY, "-m", "tracker", *args], capture_output=True, text=True, encoding="utf-8", env=env,
                          timeout=300, cwd=cwd)


def sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def consistent(camp: Path) -> list[str]:
    """What is wrong with a campaign folder after a kill (empty when all is well)."""
    problems = []
    ledger = camp / "ledger.sqlite"
    if ledger.exists():
        db = sqlite3.connect(ledger)
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems.append("ledger integrity_check failed")
        for digest, archived in db.execute("SELECT sha256, archived FROM returns"):
            path = camp / archived
            if not path.exists() or sha256(path) != digest:
                problems.append(f"archive does not match ledger: {archived}")
        db.close()
    if (camp / "master.xlsx").exists():
        try:
            with zipfile.ZipFile(camp / "master.xlsx") as z:
                z.testzip()
        except zipfile.BadZipFile:
            problems.append("master.xlsx is not a whole file")
    for f in (camp / "outbox").rglob("*.xlsx"):
        try:
            with zipfile.ZipFile(f) as z:
                z.testzip()
        except zipfile.BadZipFile:
            problems.append(f"outbox file is not whole: {f.name}")
    return problems


class Outcome:
    def __init__(self):
        self.points = collections.Counter()
        self.killed = collections.Counter()
        self.failures: list[str] = []

    def check(self, command: str, point: str, ok: bool, what: str = "") -> None:
        self.points[command] += 1
        if not ok:
            self.failures.append(f"{command} @ {point}: {what}")


# ----------------------------------------------------------------------------- merge
def setup(work: Path) -> tuple[Path, Path]:
    import random

    import fuzz

    camp = work / "pristine"
    if not camp.exists():
        assert tracker("init", str(camp)).returncode == 0
        assert tracker("generate", "-C", str(camp)).returncode == 0
    inbox = work / "inbox"
    if not inbox.exists():
        inbox.mkdir()
        rng = random.Random(5)
        outbox = sorted((camp / "outbox").rglob("*.xlsx"))
        for i, f in enumerate(outbox[:N_RETURNS]):
            data, _ = fuzz.good_return(f, rng)
            (inbox / f"r{i:02d}.xlsx").write_bytes(data)
    return camp, inbox


def merge_points(quick: bool) -> list[str]:
    if quick:
        return ["merge.archived:2", "merge.in_transaction:7", "merge.before_master", "master.before_replace"]
    pts = [f"{p}:{n}" for p in ("merge.archived", "merge.in_transaction", "merge.recorded")
           for n in range(1, N_RETURNS + 1)]
    return pts + ["merge.before_master", "master.before_replace", "master.manual_recorded"]


def crash_merge(work: Path, out: Outcome, quick: bool) -> None:
    pristine, inbox = setup(work)
    for point in merge_points(quick):
        camp = work / "merge"
        shutil.rmtree(camp, ignore_errors=True)
        shutil.copytree(pristine, camp)
        if point.startswith("master.manual"):
            _hand_edit(camp)
        first = tracker("merge", "-C", str(camp), str(inbox), "--received", "04/06/2026", kill_at=point)
        out.killed["merge"] += first.returncode == KILLED_RETURNCODE
        problems = consistent(camp)
        again = tracker("merge", "-C", str(camp), str(inbox), "--received", "04/06/2026")
        problems += consistent(camp)
        db = sqlite3.connect(camp / "ledger.sqlite")
        per_unit = db.execute("SELECT unit_id, COUNT(*) FROM submissions WHERE source='file' GROUP BY unit_id").fetchall()
        db.close()
        ok = (again.returncode == 0 and not problems and len(per_unit) == N_RETURNS
              and all(n == 1 for _, n in per_unit) and "Traceback" not in again.stdout + again.stderr)
        out.check("merge", point, ok, f"rc={again.returncode} {problems} {per_unit[:3]} {again.stderr[-300:]}")


def _hand_edit(camp: Path) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(camp / "master.xlsx")
    sh = wb["Xã, phường"]
    header = [c.value for c in sh[4]]
    sh.cell(5, header.index("TC1") + 1 if "TC1" in header else 10).value = "Đáp ứng"
    wb.save(camp / "master.xlsx")


# ----------------------------------------------------------------------------- generate
def crash_generate(work: Path, out: Outcome, quick: bool) -> None:
    pristine, _ = setup(work)
    reference = {p.relative_to(pristine): p.read_bytes() for p in (pristine / "outbox").rglob("*.xlsx")}
    points = (["generate.written:1", "generate.written:70", "generate.before_master"] if quick else
              [f"generate.written:{n}" for n in range(1, 136, 3)] +
              ["generate.before_master", "master.before_replace"] +
              [f"generate.written:{n}" for n in (2, 5, 8, 131, 133, 135, 136)] + ["generate.written:136"])
    for point in points:
        camp = work / "gen"
        shutil.rmtree(camp, ignore_errors=True)
        shutil.copytree(pristine, camp)
        shutil.rmtree(camp / "outbox")
        first = tracker("generate", "-C", str(camp), kill_at=point)
        out.killed["generate"] += first.returncode == KILLED_RETURNCODE
        problems = consistent(camp)
        again = tracker("generate", "-C", str(camp))
        problems += consistent(camp)
        now = {p.relative_to(camp): p.read_bytes() for p in (camp / "outbox").rglob("*.xlsx")}
        leftovers = [p.name for p in (camp / "outbox").rglob("*.tmp")]
        ok = again.returncode == 0 and not problems and now == reference and not leftovers
        out.check("generate", point, ok, f"rc={again.returncode} {problems} files={len(now)} tmp={leftovers[:2]}")


# ----------------------------------------------------------------------------- mail send
class _Store:
    def __init__(self):
        self.units = collections.Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        from email.parser import BytesHeaderParser

        unit = BytesHeaderParser().parsebytes(envelope.content)["X-Tracker-Unit"]
        with self.lock:
            self.units[unit] += 1
        return "250 OK"


def _with_emails(camp: Path, n: int) -> list[str]:
    raw = (camp / "units.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(raw))
    rows = list(reader)
    for i, row in enumerate(rows):
        row["email"] = f"{row['id']}@donvi.example.vn" if i < n else ""
    buf = io.StringIO()
    w = csv.DictWriter(buf, reader.fieldnames, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    (camp / "units.csv").write_text(buf.getvalue(), encoding="utf-8")
    return [r["id"] for r in rows[:n]]


def crash_mail(work: Path, out: Outcome, quick: bool) -> None:
    from aiosmtpd.controller import Controller

    pristine, _ = setup(work)
    points = (["mail.before_send:3", "mail.sent:10"] if quick else
              [f"{p}:{n}" for p in ("mail.before_send", "mail.sent") for n in range(1, N_MAIL_UNITS + 1)])
    for point in points:
        camp = work / "mail"
        shutil.rmtree(camp, ignore_errors=True)
        shutil.copytree(pristine, camp)
        units = _with_emails(camp, N_MAIL_UNITS)
        store = _Store()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        ctl = Controller(store, hostname="127.0.0.1", port=port, ready_timeout=10)
        ctl.start()
        try:
            args = ["mail", "send", "-C", str(camp), "--host", "127.0.0.1", "--port", str(port),
                    "--from", "ttdl@hanoi.gov.vn", "--rate", "0"]
            first = tracker(*args, kill_at=point)
            out.killed["mail send"] += first.returncode == KILLED_RETURNCODE
            problems = consistent(camp)
            again = tracker(*args)
            twice = [u for u, n in store.units.items() if n > 1]
            # A message left unconfirmed by a kill before the server had it: staff resend it.
            final = tracker(*args, "--resend-unconfirmed")
            ok = (not problems and not twice and final.returncode == 0
                  and all(store.units[u] == 1 for u in units) and sum(store.units.values()) == len(units))
            out.check("mail send", point, ok, f"{problems} twice={twice} rc={again.returncode}/{final.returncode} "
                      f"delivered={sum(store.units.values())}")
        finally:
            ctl.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=["merge", "generate", "mail"])
    args = ap.parse_args()
    out = Outcome()
    with tempfile.TemporaryDirectory(prefix="tracker-crash-") as tmp:
        work = Path(tmp)
        for name, fn in (("merge", crash_merge), ("generate", crash_generate), ("mail", crash_mail)):
            if args.only in (None, name):
                fn(work, out, args.quick)
    for command, n in out.points.items():
        print(f"{command}: {n} kill points, {out.killed[command]} runs killed there, "
              f"{sum(1 for f in out.failures if f.startswith(command + ' @'))} inconsistent")
    for f in out.failures:
        print("FAIL", f)
    sys.exit(1 if out.failures else 0)


if __name__ == "__main__":
    main()
