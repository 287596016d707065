"""What the merge says, and to whom: every reason a file was refused on the screen (compactly),
the staff's full report and one report per unit to forward (its own files, its own advice), rows
Excel can hold; the master's log as numbers and dates; names of files and dates as people write
them. Printing is checked in test_documents_print.py."""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from fill import fill

from tracker.cli import main
from tracker.model.dates import show_text
from tracker.model.findings import Finding
from tracker.reports.merge_report import to_forward, unit_reports_dir, write_merge_report

D = dt.date


def _merge(ws, *paths, received="03/06/2026"):
    return CliRunner().invoke(main, ["merge", "-C", str(ws.root), *map(str, paths), "--received", received],
                              env={"COLUMNS": "300"}, catch_exceptions=False)


def _rows(path: Path) -> list[dict]:
    """The rows under the header (row 4) of a merge report, by header."""
    wb = openpyxl.load_workbook(path)
    sh = wb.worksheets[0]
    rows = [list(r) for r in sh.iter_rows(values_only=True)]
    return [dict(zip(rows[3], r)) for r in rows[4:]]


def test_the_screen_shows_every_reason_a_file_was_refused(ws, outbox, tmp_path):
    khcn = ws.unit_by_id["so-khcn"]                     # two products: 12 answer cells
    wrong = {(p.key, c.id): "Đạt" for p in khcn.products for c in ws.campaign.criteria}
    many = fill(outbox["so-khcn"], tmp_path / "many.xlsx", wrong)
    noivu = ws.unit_by_id["so-noivu"]
    two = fill(outbox["so-noivu"], tmp_path / "two.xlsx",
               {(noivu.products[0].key, "c1"): "Có", (noivu.products[0].key, "c2"): "x"})
    res = _merge(ws, many, two)
    assert res.exit_code == 1
    lines = res.output.splitlines()
    # A line each, indented, for the first five; the rest counted, with where to read them.
    at = lines.index("Từ chối: many.xlsx → Sở Khoa học và Công nghệ")
    shown = lines[at + 1:at + 6]
    assert all(line.startswith("    Tệp 'many.xlsx', trang ") and "'Đạt'" in line for line in shown)
    assert lines[at + 6] == "    và 7 lỗi khác, xem báo cáo ghép."
    assert lines[at + 7] == "    → Đề nghị đơn vị sửa ô này và gửi lại."      # the advice once, not 12 times
    at = lines.index("Từ chối: two.xlsx → Sở Nội vụ")
    assert "'Có'" in lines[at + 1] and "'x'" in lines[at + 2] and lines[at + 3].startswith("    →")
    assert not any("lỗi khác" in line for line in lines[at:at + 4])
    # The report has every one of them.
    report = next(ws.reports.glob("ket-qua-ghep-*.xlsx"))
    errors = [r for r in _rows(report) if r["Tệp"] == "many.xlsx" and r["Mức độ"] == "Lỗi"]
    assert len(errors) == 12


def test_each_unit_gets_a_report_of_its_own_files_and_advice(ws, outbox, tmp_path):
    bad = fill(outbox["so-noivu"], tmp_path / "noivu.xlsx", {("site", "c3"): "Đạt"})
    warned = fill(outbox["so-khcn"], tmp_path / "khcn.xlsx")                     # accepted, domains left blank
    clean = fill(outbox["xp-00004"], tmp_path / "badinh.xlsx")                  # accepted, nothing to say
    empty = tmp_path / "rong.xlsx"
    empty.write_bytes(b"")                                                       # whose? nobody can tell
    res = _merge(ws, bad, warned, clean, empty)
    assert res.exit_code == 1
    staff = next(ws.reports.glob("ket-qua-ghep-*.xlsx"))
    folder = unit_reports_dir(staff)
    assert str(folder) in " ".join(res.output.split()).replace(" ", "") or folder.name in res.output
    names = {p.name for p in folder.iterdir()}
    noivu, khcn = ws.unit_by_id["so-noivu"], ws.unit_by_id["so-khcn"]
    assert names == {f"{noivu.file_stem}.xlsx", f"{khcn.file_stem}.xlsx"}
    # The staff's report: every file, with the staff's advice.
    rows = _rows(staff)
    assert {r["Tệp"] for r in rows} == {"noivu.xlsx", "khcn.xlsx", "badinh.xlsx", "rong.xlsx"}
    assert any("units.csv" in (r["Nội dung"] or "") for r in rows)
    # A unit's report: its files only, what is wrong and what it should do, never the staff's advice.
    for unit, file in ((noivu, "noivu.xlsx"), (khcn, "khcn.xlsx")):
        wb = openpyxl.load_workbook(folder / f"{unit.file_stem}.xlsx")
        sh = wb.worksheets[0]
        assert unit.name.upper() in sh["A1"].value
        mine = _rows(folder / f"{unit.file_stem}.xlsx")
        assert {r["Tệp"] for r in mine} == {file}
        text = " ".join(str(v) for r in mine for v in r.values() if v)
        assert "units.csv" not in text and "archive/" not in text and "outbox/" not in text
        assert all(r["Đề nghị đơn vị"] for r in mine)
    refused = _rows(folder / f"{noivu.file_stem}.xlsx")
    assert refused[0]["Kết quả"] == "Từ chối" and "'Đạt'" in refused[0]["Nội dung"]
    assert refused[0]["Đề nghị đơn vị"] == "Đề nghị đơn vị sửa ô này và gửi lại."


def test_only_what_asks_something_of_a_unit_is_forwarded():
    from tracker.merge import FileResult

    warn = Finding("odd_domain", file="a.xlsx", sheet="S", cell="D21", value="x")     # staff advice only
    assert not to_forward(FileResult("a.xlsx", "a.xlsx", "accepted", "u1", findings=[warn]))
    assert to_forward(FileResult("a.xlsx", "a.xlsx", "rejected", "u1", findings=[]))
    assert not to_forward(FileResult("a.xlsx", "a.xlsx", "rejected", None, findings=[]))   # nobody to send to
    blank = Finding("blank_answer", file="a.xlsx", sheet="S", cell="E25", criterion="C", product="")
    assert to_forward(FileResult("a.xlsx", "a.xlsx", "accepted", "u1", findings=[blank]))


def test_no_row_of_a_merge_report_is_higher_than_excel_allows(ws, tmp_path):
    from tracker.merge import FileResult, MergeReport

    long = " ".join(f"từ{i}" for i in range(6000))          # a unit pasted a book into an answer cell
    finding = Finding("bad_answer", file="dai.xlsx", sheet="Biên bản xác nhận", cell="E25", value=long,
                      expected="“Đáp ứng”, “Chưa đáp ứng”", criterion="Chức năng hệ thống", product="", text=long)
    report = MergeReport(files=[FileResult("dai.xlsx", "dai.xlsx", "rejected", "so-noivu", "Sở Nội vụ",
                                           D(2026, 6, 3), [finding])])
    path = write_merge_report(ws, report, tmp_path / "ket-qua-ghep-1.xlsx")
    for target in (path, unit_reports_dir(path) / f"{ws.unit_by_id['so-noivu'].file_stem}.xlsx"):
        with zipfile.ZipFile(target) as z:
            sheet = z.read("xl/worksheets/sheet1.xml").decode()
        heights = [float(h) for h in re.findall(r'<row [^>]*ht="([\d.]+)"', sheet)]
        assert heights and max(heights) <= 409
        rows = _rows(target)
        assert len(rows) > 1                                    # went on over several rows
        assert all(r["STT"] == 1 for r in rows)
        assert all(r["Tệp"] == "dai.xlsx (tiếp)" for r in rows[1:])
        # Nothing lost: the pieces, put back together, are the whole text.
        pieces = "\n".join(r["Nội dung"] for r in rows)
        whole = finding.text("vi") if target == path else finding.statement("vi")     # staff: all the advice
        assert pieces.split() == whole.split()


def test_the_master_log_keeps_numbers_times_and_whole_digests(ws, outbox, tmp_path):
    path = fill(outbox["so-noivu"], tmp_path / "noivu.xlsx")
    assert _merge(ws, path).exit_code == 0
    wb = openpyxl.load_workbook(ws.master_file)
    sh = wb["Nhật ký"]
    header = [c.value for c in sh[1]]
    assert header == ["STT", "Thời điểm ghép", "Tệp", "Ngày nhận", "Đơn vị", "Kết quả", "Lý do / ghi chú", "SHA-256"]
    row = [c for c in sh[2]]
    assert row[0].value == 1 and row[0].data_type == "n"
    assert isinstance(row[1].value, dt.datetime) and row[1].number_format == "dd/mm/yyyy hh:mm"
    assert row[3].value == dt.datetime(2026, 6, 3) and row[3].number_format == "dd/mm/yyyy"
    import hashlib

    assert row[7].value == hashlib.sha256(path.read_bytes()).hexdigest()        # all 64 hex digits


def test_outbox_names_end_on_a_whole_word_and_stay_unique(ws):
    stems = [u.file_stem for u in ws.units]
    assert len(set(stems)) == len(stems)
    from tracker.model.registry import FILE_STEM_MAX

    for unit, stem in zip(ws.units, stems):
        assert stem.isascii() and len(stem) <= FILE_STEM_MAX and stem.startswith(unit.id + "-")
        from tracker.model.registry import slug

        words = slug(unit.name).split("-")
        kept = stem[len(unit.id) + 1:].split("-")
        assert kept == words[:len(kept)], stem              # whole words of the name, from its start
    bqlda = ws.unit_by_id["bqlda-giaothong"].file_stem      # "Ban Quản lý dự án đầu tư xây dựng công trình ..."
    assert bqlda == "bqlda-giaothong-ban-quan-ly-du-an-dau-tu-xay"     # cut after "xây", never inside "dựng"


def test_dates_in_documents_are_written_as_the_letter_writes_them():
    assert show_text(D(2026, 6, 5)) == "05/6/2026"
    assert show_text(D(2026, 6, 6)) == "06/6/2026"
    assert show_text(D(2025, 12, 18)) == "18/12/2025"
    assert show_text(D(2026, 2, 4)) == "04/02/2026"
    assert show_text(D(2026, 1, 15)) == "15/01/2026"
    assert show_text(None) == ""
