"""What Windows does differently, tested on every OS: files held open by Excel or Word, paths Excel
refuses, output redirected in the ANSI code page, Excel's ~$ owner files. (LibreOffice outside
PATH: test_intake_safety; workers without fork: test_pool.)

Windows refuses to replace a file another program holds open. On Windows the tests hold the file
open for real (Python, like Excel, opens without sharing deletion); Linux lets any open file be
replaced, so there os.replace onto that one path refuses as Windows does."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from conftest import held_open

from tracker.cli import main
from tracker.model.registry import FILE_STEM_MAX, Unit
from tracker.store import files
from tracker.store.files import EXCEL_MAX_PATH, flush_to_disk, write_user_file
from tracker.store.workspace import Workspace


def _run(*args):
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "250"}, catch_exceptions=False)


# ------------------------------------------------------------------------------ files held open
def test_a_file_held_open_gets_its_new_version_beside_it(tmp_path, monkeypatch):
    target = tmp_path / "bao-cao.xlsx"
    target.write_bytes(b"old")
    with held_open(target, monkeypatch):
        start = time.monotonic()
        went = write_user_file(target, b"new")
        assert time.monotonic() - start >= sum(files.RETRY_DELAYS_S) * 0.9      # tried again before giving up
    assert went != target and went.parent == target.parent
    assert re.fullmatch(r"bao-cao-\d{8}-\d{6}\.xlsx", went.name)
    assert went.read_bytes() == b"new" and target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, went.name])     # no temporary left


def test_a_file_held_for_a_moment_is_replaced_in_place(tmp_path, monkeypatch):
    """An antivirus or OneDrive reads a new file for a moment: the retries outlast it."""
    target = tmp_path / "master.xlsx"
    target.write_bytes(b"old")
    with held_open(target, monkeypatch, for_s=0.3):
        assert write_user_file(target, b"new") == target
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["master.xlsx"]


def test_a_report_open_in_excel_is_written_beside_and_the_cli_says_so(ws, monkeypatch):
    assert _run("report", "-C", str(ws.root), "--as-of", "10/06/2026", "--format", "xlsx").exit_code == 0
    xlsx = ws.reports / "bao-cao-nghiem-thu-20260610.xlsx"
    before = xlsx.read_bytes()
    with held_open(xlsx, monkeypatch):
        res = _run("report", "-C", str(ws.root), "--as-of", "10/06/2026", "--format", "xlsx")
    assert res.exit_code == 0, res.output
    beside = [p for p in ws.reports.glob("bao-cao-nghiem-thu-20260610-*.xlsx")]
    assert len(beside) == 1 and xlsx.read_bytes() == before
    assert "đang mở trong chương trình khác" in res.output and beside[0].name in res.output
    assert str(beside[0]) in res.output.replace("\n", "")


def test_a_form_open_in_excel_on_regenerate_is_backed_up_and_written_beside(ws, monkeypatch):
    toml = ws.campaign_file.read_text(encoding="utf-8")
    ws.campaign_file.write_text(toml.replace('letter_date = ""', 'letter_date = "02/6/2026"', 1), encoding="utf-8")
    form = ws.outbox_path(ws.units[0])
    before = form.read_bytes()
    with held_open(form, monkeypatch):
        res = _run("generate", "-C", str(ws.root))
    assert res.exit_code == 0, res.output
    assert form.read_bytes() == before              # untouched, still open
    beside = list(form.parent.glob(f"{form.stem}-*.xlsx"))
    assert len(beside) == 1 and beside[0].read_bytes() != before
    backups = list(ws.backups.rglob(form.name))
    assert len(backups) == 1 and backups[0].read_bytes() == before
    assert "1 tệp đang mở" in res.output and beside[0].name in res.output


def test_the_archive_copies_are_flushed_together(tmp_path):
    made = []
    for folder in ("ab", "cd"):
        for i in range(3):
            p = tmp_path / folder / f"{i}.xlsx"
            p.parent.mkdir(exist_ok=True)
            p.write_bytes(b"x" * i)
            made.append(p)
    flush_to_disk(made)
    flush_to_disk([])
    with pytest.raises(FileNotFoundError):
        flush_to_disk([tmp_path / "khong-co.xlsx", made[0]])


# ------------------------------------------------------------------------------ long paths
def test_unit_file_names_are_cut_between_words():
    def unit(uid, name):
        return Unit(uid, "so-ban-nganh", name, "", "", "", "", "", ())

    stem = unit("bqlda-giaothong", "Ban Quản lý dự án đầu tư xây dựng công trình giao thông Thành phố").file_stem
    assert stem == "bqlda-giaothong-ban-quan-ly-du-an-dau-tu-xay"
    assert unit("xp-00070", "Phường Hoàn Kiếm").file_stem == "xp-00070-phuong-hoan-kiem"
    long_id = unit("x" * 60, "Sở Y tế").file_stem
    assert long_id == "x" * FILE_STEM_MAX


def test_generate_warns_when_a_form_path_is_too_long_for_excel(generated_campaign, tmp_path):
    # A campaign folder of 180 characters: forms pass 218, yet stay under Windows' old 260.
    pad = 180 - len(str(tmp_path.resolve())) - len(os.sep + "camp") - 1
    root = tmp_path.resolve() / ("t" * pad) / "camp"
    shutil.copytree(generated_campaign, root)
    res = _run("generate", "-C", str(root))
    assert res.exit_code == 0, res.output
    text = res.output.replace("\n", " ")
    assert f"dài quá {EXCEL_MAX_PATH} ký tự" in text and "OneDrive" in text
    longest = max(len(os.path.abspath(Workspace(root).outbox_path(u))) for u in Workspace(root).units)
    assert f"dài nhất {longest} ký tự" in text
    assert f"ngắn hơn {EXCEL_MAX_PATH - (longest - len(str(root)))} ký tự" in text


def test_generate_says_nothing_of_paths_that_fit(ws):
    res = _run("generate", "-C", str(ws.root))
    assert res.exit_code == 0 and "ký tự" not in res.output


# ------------------------------------------------------------------------------ the ANSI code page
def _tracker(*args, cwd=None):
    """tracker with its output redirected, in Windows' ANSI code page for Vietnamese (strict)."""
    env = {**os.environ, "PYTHONIOENCODING": "cp1258", "PYTHONUTF8": "0", "TRACKER_LANG": "vi"}
    return subprocess.run([sys.executable, "-m", "tracker", *args], capture_output=True, env=env, cwd=cwd,
                          timeout=300)


def test_output_redirected_in_the_ansi_code_page_is_utf8(ws, tmp_path):
    res = _tracker("init", str(tmp_path / "moi"))
    assert res.returncode == 0, res.stderr.decode("utf-8", "replace")
    assert "Đã tạo chiến dịch" in res.stdout.decode("utf-8")
    for cmd in (["stats", "--format", "csv"], ["missing", "--format", "csv"]):
        res = _tracker(*cmd, "-C", str(ws.root), "--as-of", "10/06/2026")
        assert res.returncode == 0, res.stderr.decode("utf-8", "replace")
        out = res.stdout
        assert out.startswith(b"\xef\xbb\xbf") and b"\r\r\n" not in out      # Excel's BOM; one CR per line
        assert out.count(b"\r\n") == out.count(b"\n") > 1
        assert "Đơn vị" in out.decode("utf-8")
    res = _tracker("stats", "-C", str(ws.root), "--format", "json", "--as-of", "10/06/2026")
    assert res.returncode == 0 and "Xác nhận" in res.stdout.decode("utf-8")
    res = _tracker("stats", "-C", str(tmp_path / "khong-co"))        # an error, on stderr
    assert res.returncode != 0 and "Traceback" not in res.stderr.decode("utf-8")
    assert re.search("[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữự]", res.stderr.decode("utf-8"))


# ------------------------------------------------------------------------------ Excel's owner files
def test_excels_owner_files_are_not_archive_entries(ws):
    from tracker.verify import verify

    (ws.archive / "ab").mkdir(parents=True, exist_ok=True)
    (ws.archive / "ab" / "~$abcdef.xlsx").write_bytes(b"\x0cNguyen Van A")
    assert not [p for p in verify(ws).problems if p.code == "verify_archive_unknown"]
