"""`tracker demo`: the rehearsal runs end to end, every simulated return ends as a user expects,
and it never writes where it must not."""
import datetime as dt
import json

import pytest
from click.testing import CliRunner

from tracker.demo import rehearsal as demo
from tracker.cli import main
from tracker.model.errors import TrackerError
from tracker.store.ledger import Ledger
from tracker.stats import campaign_stats
from tracker.store.workspace import Workspace


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "dien-tap"
    result = CliRunner().invoke(main, ["demo", str(root)])
    return root, result


def test_the_rehearsal_runs_and_ends_by_saying_where_to_look(rehearsal):
    root, result = rehearsal
    assert result.exit_code == 0, result.output
    out = result.output
    # Each step is printed, the merge through the same view as `tracker merge`.
    for step in ("Bước 1/5", "Bước 2/5", "Bước 3/5", "Bước 4/5", "Bước 5/5"):
        assert step in out
    assert "Từ chối: hoi-nongdan-hoi-nong-dan-thanh-pho.xlsx" in out
    assert "Đã ghi nhận nhập tay trên master.xlsx của 1 đơn vị." in out
    assert "tính đến ngày 10/06/2026, sau hạn 05/06/2026" in out
    assert "Khối lượng đủ điều kiện nghiệm thu" in out
    tail = out[out.index("Xem kết quả ở đâu:"):]
    docx = root / "reports" / "bao-cao-nghiem-thu-20260610.docx"
    merge_report = next((root / "reports").glob("ket-qua-ghep-*.xlsx"))
    for path in (root / "outbox", root / "master.xlsx", docx, docx.with_suffix(".xlsx"), merge_report):
        assert path.exists()
        assert str(path) in tail
    assert "không gửi thư nào" in out
    assert not (root / "drafts").exists()
    # The sheets named as they are, quoted (their names hold commas); the reports for the units.
    assert "các trang “Tổng hợp”, “Sở, ban, ngành”, “Xã, phường”, “Nhật ký”" in tail
    assert f"{merge_report.stem}-gui-don-vi" in tail
    # Not a terminal (a log): a line as each part starts, so the log never stays silent for long.
    for words in ("Tạo tệp gửi đơn vị", "Giả lập tệp đơn vị gửi về", "Ghép tệp, dựng lại master.xlsx",
                  "Tính số liệu", "Viết báo cáo nghiệm thu"):
        assert f"  … {words}" in out, words
    # The registry is the shipped one.
    from tracker.model.campaign import builtin_path

    assert (root / "units.csv").read_bytes() == builtin_path("units-hanoi-2026.csv").read_bytes()


def test_every_simulated_return_ends_as_planned(rehearsal):
    root, _ = rehearsal
    ws = Workspace(root)
    cases, silent = demo.plan(ws)
    with Ledger(ws.ledger_file) as led:
        rows = led.returns()
    by_name = {}
    for r in rows:
        by_name.setdefault(r["name"].split(" › ")[0], []).append(r)
    kinds = {c.kind for c in cases}
    assert kinds >= {"good", "late", "version_old", "version_new", "copy", "wrong_value", "formula",
                     "other_campaign", "scan", "empty", "email", "manual"}
    for c in cases:
        if c.kind == "manual":
            continue
        found = by_name[c.file]
        if c.kind == "email":       # the workbook; the signed PDF beside it is checked with the figures
            found = [r for r in found if r["name"].endswith(".xlsx")]
        (row,) = found
        codes = [f["code"] for f in json.loads(row["findings"])]
        assert row["outcome"] == c.expect, (c, codes)
        if c.code:
            assert c.code in codes, (c, codes)
        if c.kind not in ("scan", "empty", "other_campaign"):     # refused before the unit is known
            assert row["unit_id"] == c.unit_id
    # The email's received date is its Date header, not the day it was saved.
    email = next(c for c in cases if c.kind == "email")
    assert by_name[email.file][0]["received_at"] == email.received.isoformat()
    assert by_name[email.file][0]["received_source"] == "email"


def test_the_figures_after_the_deadline(rehearsal):
    root, _ = rehearsal
    ws = Workspace(root)
    cases, silent = demo.plan(ws)
    stats = campaign_stats(ws, demo.AS_OF)
    units = {u.unit_id: u for u in stats.unit_rows}
    rejected_only = {c.unit_id for c in cases if c.expect == "rejected"} - \
        {c.unit_id for c in cases if c.expect in ("accepted", "manual")}
    for uid in silent + sorted(rejected_only):
        assert units[uid].deadline_status == "missing"
    for c in cases:
        if c.kind == "late":
            assert units[c.unit_id].deadline_status == "late"
        if c.kind in ("good", "email", "manual", "version_new"):
            assert units[c.unit_id].deadline_status == "on_time"
    manual = next(c for c in cases if c.kind == "manual")
    assert units[manual.unit_id].received_at == manual.received
    # A signed copy of each kind arrives: a photo read by its QR code, a PDF signed under the
    # rehearsal's CA (its root in trust/), attached to the email's unit.
    scan, email = (next(c for c in cases if c.kind == k) for k in ("scan", "email"))
    assert stats.units.signed == 2
    assert (units[scan.unit_id].signed_copy.kind, units[scan.unit_id].signed_copy.valid) == ("scan", None)
    digital = units[email.unit_id].signed_copy
    assert (digital.kind, digital.valid, digital.method) == ("digital", True, "qr")
    u = stats.units
    assert u["late"] == sum(1 for c in cases if c.kind == "late")
    assert u["missing"] == len(silent) + len(rejected_only)
    assert u["on_time"] + u["late"] + u["missing"] == u["total"] == 136
    p = stats.products
    assert p["accepted"] > 80 and p["not_accepted"] > 0 and p["incomplete"] > 0 and p["pending"] > 0


def test_the_plan_is_seeded(ws):
    first, _ = demo.plan(ws)
    again, _ = demo.plan(ws)
    other, _ = demo.plan(ws, seed=7)
    assert first == again
    assert first != other
    assert all(c.received <= demo.AS_OF for c in first)


def test_a_folder_that_is_not_a_rehearsal_is_refused(tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "ghi-chu.txt").write_text("của tôi", encoding="utf-8")
    result = CliRunner().invoke(main, ["demo", str(busy)])
    assert result.exit_code == 1
    assert "không phải thư mục diễn tập cũ" in result.output and "--force" in result.output
    assert sorted(p.name for p in busy.iterdir()) == ["ghi-chu.txt"]
    # --force: other files are kept; but never over names the rehearsal writes.
    assert demo.check_target(busy, force=True) is False
    (busy / "inbox").mkdir()
    with pytest.raises(TrackerError, match="inbox"):
        demo.check_target(busy, force=True)
    assert demo.check_target(tmp_path / "new", force=False) is False


def test_a_real_campaign_is_never_used(ws):
    for force in (False, True):
        with pytest.raises(TrackerError, match="chiến dịch thật"):
            demo.check_target(ws.root, force=force)


def test_a_previous_rehearsal_is_wiped_but_nothing_else(tmp_path):
    root = tmp_path / "demo"
    root.mkdir()
    (root / demo.MARKER).write_text(demo.MARKER_FIRST_LINE + "\n", encoding="utf-8")
    for name in ("campaign.toml", "units.csv", "master.xlsx", "master-20260601-101010.xlsx"):
        (root / name).write_text("x", encoding="utf-8")
    (root / "inbox").mkdir()
    (root / "inbox" / "a.xlsx").write_text("x", encoding="utf-8")
    (root / "cua-toi.txt").write_text("giữ lại", encoding="utf-8")
    assert demo.check_target(root) is True
    demo._wipe(root)
    assert sorted(p.name for p in root.iterdir()) == ["cua-toi.txt"]


def test_the_rehearsal_tells_each_part_and_each_item_as_it_goes(tmp_path):
    """What a caller needs to never leave the user without news: each part as it starts, with its
    count, then each item of it (a workbook written, a return simulated, a file merged)."""
    told, counts = [], {}

    def part(key, total=None):
        told.append((key, total))

    def progress(total=None, advance=1):
        if total is None:
            counts[told[-1][0]] = counts.get(told[-1][0], 0) + advance

    done = list(demo.steps(tmp_path / "dien-tap", part=part, progress=progress))
    assert [k for k, _ in told] == list(demo.PARTS)
    sim = done[1].sim
    assert dict(told)["outbox"] == counts["outbox"] == 136
    assert dict(told)["returns"] == counts["returns"] == len(sim.cases)
    assert counts["merge"] >= len([c for c in sim.cases if c.file])


def test_the_where_to_look_list_names_every_result(ws, tmp_path):
    from tracker.cli.demo import where_to_look

    rows = dict(where_to_look(ws, ws.reports / "ket-qua-ghep-1.xlsx", [ws.reports / "bao-cao.docx"]))
    text = " ".join(rows.values())
    for part in ("outbox", "inbox", "master.xlsx", "ket-qua-ghep-1.xlsx", "bao-cao.docx", "archive"):
        assert part in text


def test_simulated_returns_keep_their_received_dates(ws, outbox, tmp_path):
    from tracker.demo import simulate

    unit = ws.units[0]
    day = dt.date(2026, 6, 2)
    path = simulate.fill(outbox[unit.id], tmp_path / "a.xlsx", "met", received=day)
    assert dt.date.fromtimestamp(path.stat().st_mtime) == day
    pdf = simulate.scan_pdf(tmp_path / "scan.pdf", "bien ban", received=day)
    assert pdf.read_bytes().startswith(b"%PDF-1.4") and pdf.read_bytes().rstrip().endswith(b"%%EOF")


def test_every_document_of_the_rehearsal_passes_the_ooxml_checks(rehearsal):
    """The master (with a paper reply typed in, then rebuilt), the merge reports (the staff's and each
    unit's), both acceptance reports: will Excel and Word open them without "repair"?"""
    from conftest import ooxml_check

    root, _ = rehearsal
    files = [root / "master.xlsx", *sorted((root / "reports").rglob("*.xlsx")),
             *sorted((root / "reports").glob("*.docx"))]
    assert len(files) >= 6
    ooxml_check(*files)
