"""The Python face: a campaign folder opened by another program, its steps and its typed figures."""
from __future__ import annotations

import datetime as dt

import pytest

from tracker.api import CampaignFolder
from tracker.demo.simulate import fill

ON_TIME, AS_OF = dt.date(2026, 6, 4), dt.date(2026, 6, 10)


def test_a_folder_merged_through_the_face_gives_the_figures_the_command_line_gives(ws, outbox, tmp_path):
    folder = CampaignFolder(ws.root)
    assert folder.campaign.id == "hanoi-ttdt-2026" and len(folder.units) == 136
    files = [fill(outbox["xp-00070"], tmp_path / "a.xlsx", "met"),
             fill(outbox["so-khcn"], tmp_path / "b.xlsx", "not_met")]
    result = folder.merge(files, received=ON_TIME, report=False)
    assert [f.outcome for f in result.files] == ["accepted", "accepted"]

    stats = folder.stats(AS_OF)
    assert stats.as_of == AS_OF and stats.products.accepted == 1 and stats.units.returned == 2
    rows = {r.product_id: r for r in folder.rows(AS_OF)}
    assert rows["xp-00070/site"].status == "accepted" and rows["xp-00070/site"].received_at == ON_TIME
    assert rows["so-khcn/cds"].status == "not_accepted"
    assert {u.unit_id for u in folder.missing(AS_OF)} == {u.id for u in folder.units} - {"xp-00070", "so-khcn"}
    history = folder.history()
    assert [s.answers[("xp-00070/site", "c1")] for s in history["xp-00070"]] == ["met"]


def test_the_frames_hold_one_row_per_product_and_one_per_answer(ws, outbox, tmp_path):
    pd = pytest.importorskip("pandas")
    folder = CampaignFolder(ws.root)
    folder.merge([fill(outbox["so-khcn"], tmp_path / "b.xlsx", "met")], received=ON_TIME, report=False)
    frame = folder.rows_frame(AS_OF)
    assert len(frame) == 138 and list(frame.columns[-6:]) == [c.id for c in folder.campaign.criteria]
    mine = frame[frame.unit_id == "so-khcn"]
    assert set(mine.status) == {"accepted"} and (mine.c1 == "met").all()
    assert mine.received_at.iloc[0] == pd.Timestamp(ON_TIME)
    answers = folder.history_frame()
    assert len(answers) == 2 * 6 and set(answers.answer) == {"met"} and not answers.stale.any()


def test_reading_a_folder_writes_nothing(ws):
    """Nothing the staff keep changes: SQLite's own sidecar files (-wal, -shm) and the caches in
    .tracker/ may appear, the ledger's bytes and every other file stay as they were."""
    def files():
        return {p: p.read_bytes() for p in ws.root.rglob("*") if p.is_file() and not p.name.endswith(("-wal", "-shm"))
                and not (p.parent.name == ".tracker" and "cache" in p.name)}
    before = files()
    folder = CampaignFolder(ws.root)
    folder.stats(AS_OF), folder.rows(AS_OF), folder.history(), folder.missing(AS_OF)
    assert files() == before
