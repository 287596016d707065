"""A re-merge trusts a file's stat only when the file cannot have changed since it was hashed."""
from __future__ import annotations

import os

import pytest

from fill import fill
from tracker.store import seen_files
from tracker.store.ledger import Ledger
from tracker.api import merge
from tracker.store.seen_files import SeenFiles
from tracker.store.files import sha256_file


@pytest.fixture
def settled_now(monkeypatch):
    """Files written by the test count as settled at once (instead of after a few seconds)."""
    monkeypatch.setattr(seen_files, "SETTLED_NS", 0)


def _known(ws, path):
    with Ledger(ws.ledger_file) as led:
        return SeenFiles(led).digest(path, os.stat(path))


def test_an_unchanged_file_is_known_by_its_stat_and_merges_as_a_repeat(ws, outbox, tmp_path, settled_now):
    unit = ws.units[0]
    f = fill(outbox[unit.id], tmp_path / "in" / "a.xlsx", "met")
    assert [r.outcome for r in merge(ws, [f], report=False).files] == ["accepted"]
    assert _known(ws, f) == sha256_file(f)
    assert [r.outcome for r in merge(ws, [f], report=False).files] == ["duplicate"]


def test_a_file_rewritten_in_place_is_read_again_even_with_its_old_size_and_time(ws, outbox, tmp_path, settled_now):
    unit = ws.units[0]
    f = fill(outbox[unit.id], tmp_path / "in" / "a.xlsx", "met")
    merge(ws, [f], report=False)
    st = os.stat(f)
    data = bytearray(f.read_bytes())
    # Same length, other bytes (a zip comment would do as well): then the old times put back.
    data[-1:] = b"X" if data[-1:] != b"X" else b"Y"
    f.write_bytes(bytes(data))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(f).st_size == st.st_size and os.stat(f).st_mtime_ns == st.st_mtime_ns
    assert _known(ws, f) is None                   # the change time moved: not trusted
    other = fill(outbox[unit.id], tmp_path / "b.xlsx", "not_met")
    f.write_bytes(other.read_bytes())
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = merge(ws, [f], report=False).files
    assert [r.outcome for r in again] == ["replaced"]
    assert again[0].sha256 == sha256_file(f)


def test_a_file_hashed_just_after_it_was_written_is_not_trusted_by_its_stat(ws, outbox, tmp_path):
    unit = ws.units[0]
    f = fill(outbox[unit.id], tmp_path / "in" / "a.xlsx", "met")
    merge(ws, [f], report=False)
    assert _known(ws, f) is None          # written in the seconds before it was hashed
    assert [r.outcome for r in merge(ws, [f], report=False).files] == ["duplicate"]


def test_a_file_whose_archived_copy_is_gone_is_archived_again(ws, outbox, tmp_path, settled_now):
    unit = ws.units[0]
    f = fill(outbox[unit.id], tmp_path / "in" / "a.xlsx", "met")
    first = merge(ws, [f], report=False).files[0]
    archived = next(ws.archive.rglob(f"{first.sha256}*"))
    archived.unlink()
    merge(ws, [f], report=False)
    assert archived.read_bytes() == f.read_bytes()


def _rows(ws, sql):
    with Ledger(ws.ledger_file) as led:
        return [tuple(r) for r in led.db.execute(sql)]


def test_an_unchanged_folder_merged_again_is_one_event_not_a_row_per_file(ws, outbox, tmp_path, settled_now):
    import json

    inbox = tmp_path / "in"
    files = [fill(outbox[u.id], inbox / f"{u.id}.xlsx", "met") for u in ws.units[:3]]
    merge(ws, [inbox], report=False)
    before = _rows(ws, "SELECT COUNT(*) FROM returns")[0][0]
    again = merge(ws, [inbox], report=False).files
    assert [r.outcome for r in again] == ["duplicate"] * 3
    assert all(r.findings[0].code == "duplicate" and r.unit_name for r in again)
    assert _rows(ws, "SELECT COUNT(*) FROM returns")[0][0] == before          # nothing new arrived
    events = [json.loads(d) for (d,) in _rows(ws, "SELECT detail FROM events WHERE kind='merge' ORDER BY id")]
    assert events == [{"files": 3, "outcomes": {"accepted": 3}, "unchanged": 0},
                      {"files": 3, "outcomes": {"duplicate": 3}, "unchanged": 3}]
    # The same bytes under another name are a new arrival: logged as a repeat of their own.
    copy = tmp_path / "in" / "ban-sao.xlsx"
    copy.write_bytes(files[0].read_bytes())
    outcomes = {r.name: r.outcome for r in merge(ws, [inbox], report=False).files}
    assert outcomes["ban-sao.xlsx"] == "duplicate"
    assert _rows(ws, "SELECT name, outcome FROM returns ORDER BY id DESC LIMIT 1") == [("ban-sao.xlsx", "duplicate")]
    assert _rows(ws, "SELECT COUNT(*) FROM returns")[0][0] == before + 1


def test_a_file_whose_copy_is_gone_is_logged_as_it_is_archived_again(ws, outbox, tmp_path, settled_now):
    f = fill(outbox[ws.units[0].id], tmp_path / "in" / "a.xlsx", "met")
    first = merge(ws, [f], report=False).files[0]
    next(ws.archive.rglob(f"{first.sha256}*")).unlink()
    assert [r.outcome for r in merge(ws, [f], report=False).files] == ["duplicate"]
    assert _rows(ws, "SELECT outcome FROM returns ORDER BY id") == [("accepted",), ("duplicate",)]
