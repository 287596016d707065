"""A re-merge trusts a file's stat only when the file cannot have changed since it was hashed."""
from __future__ import annotations

import os

import pytest

from fill import fill
from tracker import seen_files
from tracker.ledger import Ledger
from tracker.merge import merge
from tracker.seen_files import SeenFiles
from tracker.workspace import sha256_file


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
