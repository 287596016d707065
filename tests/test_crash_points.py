"""A few of tools/crash_points.py's kill points in the suite: generate killed while writing the
outbox and before the master, then run again (merge and mail send have their own in
test_merge.py and test_mail.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import crash_points  # noqa: E402


def test_generate_killed_at_three_points_then_rerun_gives_the_clean_outbox(tmp_path):
    out = crash_points.Outcome()
    crash_points.crash_generate(tmp_path, out, quick=True)
    assert out.points["generate"] == 3 and out.killed["generate"] == 3
    assert out.failures == []


def test_merge_killed_after_a_hand_edit_was_recorded_then_rerun_keeps_it_once(tmp_path, monkeypatch):
    monkeypatch.setattr(crash_points, "merge_points", lambda quick: ["master.manual_recorded"])
    out = crash_points.Outcome()
    crash_points.crash_merge(tmp_path, out, quick=True)
    assert out.killed["merge"] == 1 and out.failures == []
