"""Every file we write opens in Excel and Word without "repair", whatever the units and staff typed.

The corpus of tests/hostile.py goes through the real pipeline (units.csv, the forms, filled
returns with hostile notes and file names, hand edits in the master, refused rows kept, a master
written beside one held open, the merge reports, the acceptance report) and both OOXML checkers
read every file written. The texts are also checked to come back as typed (or cut with a mark,
said so), and the screen to show file names escaped.
"""
from __future__ import annotations

import ast
import csv
import dataclasses
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import hostile as H
from conftest import held_open, needs_soffice, ooxml_check, soffice_convert
from tracker.api import generate, merge
from tracker.cli import main
from tracker.demo.simulate import fill, type_into_master
from tracker.intake.normalize import legacy_text
from tracker.intake.xlsx import XlsxBook
from tracker.model.campaign import builtin_path
from tracker.model.text import CUT_MARK, cell_text, excel_unescape, fit_cell, utf16_len
from tracker.outbound.sheets import SafeSheet, SafeWorkbook
from tracker.store.ledger import Ledger
from tracker.store.workspace import Workspace, init_workspace

TRACKER = Path(__file__).resolve().parent.parent / "tracker"
RECEIVED = dt.date(2026, 6, 4)


# ---------------------------------------------------------------------------- one mechanism
def test_every_workbook_of_the_project_is_a_safe_workbook():
    """No writer makes a workbook or a sheet that could write a unit's text raw: xlsxwriter's
    Workbook is made in tracker/outbound/sheets.py alone, every Worksheet subclass is a SafeSheet,
    and a SafeWorkbook refuses any other sheet."""
    import xlsxwriter
    from xlsxwriter.worksheet import Worksheet

    offenders = []
    for path in TRACKER.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "Workbook" and path.name != "sheets.py":
                offenders.append(f"{path.relative_to(TRACKER)}:{node.lineno}: xlsxwriter's Workbook")
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("xlsxwriter") \
                    and any(a.name in ("Workbook", "Worksheet") for a in node.names) and path.name != "sheets.py":
                offenders.append(f"{path.relative_to(TRACKER)}:{node.lineno}: imports {node.module}")
            if isinstance(node, ast.ClassDef) and any(getattr(b, "id", getattr(b, "attr", "")) == "Worksheet"
                                                      for b in node.bases) and node.name != "SafeSheet":
                offenders.append(f"{path.relative_to(TRACKER)}:{node.lineno}: {node.name} is a plain Worksheet")
    assert not offenders, offenders
    wb = SafeWorkbook(io.BytesIO(), {"in_memory": True})
    assert isinstance(wb.add_worksheet("a"), SafeSheet)
    with pytest.raises(TypeError):
        wb.add_worksheet("b", worksheet_class=Worksheet)
    wb.close()
    assert xlsxwriter.Workbook.worksheet_class is Worksheet      # xlsxwriter itself is left alone


@pytest.mark.parametrize("constant_memory", [False, True], ids=["shared strings", "inline strings"])
def test_any_text_is_written_as_text(tmp_path, constant_memory):
    """Each text of the corpus, by every way a sheet takes text (write_string, write, merge_range,
    a formula's cached value, a comment, the document's properties): the workbook passes both
    checkers and each cell reads back as it was typed (or cut with the mark)."""
    path = tmp_path / "any.xlsx"
    wb = SafeWorkbook(str(path), {"constant_memory": constant_memory, "strings_to_formulas": False,
                                  "strings_to_urls": False, "strings_to_numbers": False})
    wb.set_properties({"title": "".join(H.CONTROLS + H.SURROGATES), "author": H.RICH[0], "comments": H.LONG[0][:300]})
    bold = wb.add_format({"bold": True, "font_name": "Times New Roman"})
    sh = wb.add_worksheet("Văn bản")
    for r, text in enumerate(H.EVERYTHING):
        sh.write_string(r, 0, text)
        sh.write_string(r, 1, text, bold)
        sh.write(r, 2, text)
        sh.merge_range(r, 3, r, 4, text, bold)
        sh.write_formula(r, 5, '="x"', bold, text)
        if r % 5 == 0:
            sh.write_comment(r, 0, text)
    wb.close()
    ooxml_check(path)
    # Read as Excel reads it (our strict reader gives the text as written; openpyxl changes escapes).
    with XlsxBook(path, path.name) as book:
        got = book.cells("Văn bản")
    for r, text in enumerate(H.EVERYTHING, 1):
        want = cell_text(text)
        for c in "ABCD":
            assert got[f"{c}{r}"].value == want, (r, c, text[:40])
    assert_cut(got[f"A{H.EVERYTHING.index(H.LONG[0]) + 1}"].value, H.LONG[0])


def assert_cut(shown: str, typed: str) -> None:
    """`shown` is `typed` cut to a cell, whole characters, with the mark saying how many were cut."""
    kept, mark, n = re.fullmatch(r"(.*)( \[…\] \(đã cắt bớt ([\d.]+) ký tự: .*\))", shown, re.S).groups()
    assert utf16_len(shown) <= 32767 and typed.startswith(kept) and len(kept) + int(n.replace(".", "")) == len(typed)
    assert mark == CUT_MARK.format(n=n)


def test_a_long_text_is_cut_whole_characters_with_the_mark():
    assert fit_cell("ư" * 32767) == "ư" * 32767
    assert_cut(fit_cell("😀" * 20000), "😀" * 20000)
    assert_cut(fit_cell("x" * 40000), "x" * 40000)


# ---------------------------------------------------------------------------- the pipeline
def _registry(tmp_path: Path) -> Path:
    """The built-in units.csv with hostile unit names (the first unit has two products) and emails."""
    src = builtin_path("units-hanoi-2026.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(src)))
    for i, name in enumerate(H.UNIT_NAMES):
        rows[i * 3]["name"] = name
        rows[i * 3]["email"] = f"vanthu{i}@donvi.example.vn"           # their drafts are written too
    rows[1]["email"] = "'=1+1'@evil.example.vn"
    rows[4]["email"] = "a_x0041_@x.example.vn; =HYPERLINK(x)@x.example.vn"
    path = tmp_path / "units.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _template(tmp_path: Path) -> Path:
    """The built-in template with group names a sheet name cannot hold as they are."""
    text = builtin_path("hanoi-ttdt-2026.toml").read_text(encoding="utf-8")
    text = text.replace('name = "Sở, ban, ngành"', 'name = "Sở/ban: [ngành]*? \'x\'"', 1)
    text = text.replace('name = "Xã, phường"', 'name = "Tổng hợp"', 1)
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _written(ws: Workspace) -> list[Path]:
    return [*ws.root.glob("master*.xlsx"), *sorted(ws.reports.rglob("*.xlsx")), *sorted(ws.reports.rglob("*.docx"))]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A campaign made and run on hostile text; what each step wrote."""
    tmp = tmp_path_factory.mktemp("hostile")
    ws = init_workspace(tmp / "c", _template(tmp), _registry(tmp), force=False)
    generate(ws)
    return ws


def test_forms_and_the_empty_master_of_hostile_names(hostile):
    ws = hostile
    units = [u for u in ws.units if u.name in H.UNIT_NAMES]
    assert len(units) == len(H.UNIT_NAMES) and len(units[0].products) == 2
    groups = {u.group for u in ws.units}
    forms = [ws.outbox_path(u) for u in units] + \
        [ws.outbox_path(next(u for u in ws.units if u.group == g)) for g in groups]
    ooxml_check(*forms, ws.master_file)
    for u in units[:6]:
        wb = openpyxl.load_workbook(ws.outbox_path(u))
        shown = [excel_unescape(c.value) for row in wb.worksheets[0].iter_rows() for c in row if isinstance(c.value, str)]
        assert u.name.upper() in shown, u.name                       # the letterhead, as typed
    names = openpyxl.load_workbook(ws.master_file, read_only=True).sheetnames
    assert names == ["Tổng hợp", "Sở-ban- -ngành--- 'x", "Tổng hợp (2)", "Nhật ký", "_tracker"]


def typed_note(sub) -> str:
    """The note typed into a product's row of the master (kept as that product's whole note)."""
    return next((t for (_, c), t in sub.notes.items() if c == ""), sub.note)


def test_hostile_returns_hand_edits_and_reports_open_without_repair(hostile, tmp_path, monkeypatch):
    ws = Workspace(hostile.root)
    units = ws.units
    crit = [c.id for c in ws.campaign.criteria]
    inbox = tmp_path / "inbox"
    typed = H.TYPED
    expected = {}
    for i, unit in enumerate(units[:len(typed)]):
        note, other = typed[i], typed[-1 - i]
        name = H.FILE_NAMES[i] if i < len(H.FILE_NAMES) else f"r{i}.xlsx"
        answers = "met" if i % 3 else {(unit.products[0].key, crit[0]): "not_met"}
        fill(ws.outbox_path(unit), inbox / name, answers, notes={crit[0]: note, crit[1]: other}, proposals=other,
             signer=note, domains={unit.products[0].key: note} if i % 2 else None, received=RECEIVED)
        expected[unit.id] = note
    res = CliRunner().invoke(main, ["merge", "-C", str(ws.root), str(inbox)])
    assert res.exit_code in (0, 1), res.output
    # The screen: every file on a line of its own, its name escaped.
    assert "\x1b" not in res.output and "\r" not in res.output and "\x9b" not in res.output
    assert "a\\x1b[2J.xlsx" in res.output and "dòng\\nmới.xlsx" in res.output and "\\u202exslx" in res.output
    lines = res.output.splitlines()
    assert not [x for x in lines if x.startswith("mới.xlsx")]
    ooxml_check(*_written(ws))

    with Ledger(ws.ledger_file) as led:
        notes = {u: next((t for (_, c), t in led.current(u).notes.items() if c == crit[0]), None) for u in expected}
    long_unit = next(u for u, t in expected.items() if t == H.LONG[0])
    assert notes[long_unit] == H.LONG[0]                              # whole in the ledger
    # The master shows each note as typed; the long one cut with the mark.
    wb = openpyxl.load_workbook(ws.master_file)
    cells = {excel_unescape(c.value) for sh in wb.worksheets for row in sh.iter_rows() for c in row
             if isinstance(c.value, str)}
    for text in H.RICH + H.ESCAPES + H.FORMULAS:
        if text in expected.values():
            kept = legacy_text(text)[0]          # as intake keeps a note: white space folded
            assert any(kept in c for c in cells), text
    [long_cell] = [c for c in cells if c.startswith("x" * 1000)]
    assert_cut(long_cell, H.LONG[0])

    # Staff type paper replies (hostile texts) and a value that is no answer (refused, kept red).
    pending = [u for u in units if u.id not in expected][:3]
    type_into_master(ws, pending[0], "met", received=RECEIVED, note=H.RICH[0], proposals=H.ESCAPES[1],
                     signer=H.ASTRAL[0])
    type_into_master(ws, pending[1], {(pending[1].products[0].key, crit[0]): H.RICH[2]}, received=RECEIVED)
    first = merge(ws, [], received=RECEIVED)
    assert pending[0].id in first.master.manual_units
    assert first.master.findings and any(f.code == "master_bad_answer" for f in first.master.findings)
    with Ledger(ws.ledger_file) as led:
        typed_in = led.current(pending[0].id)
        # Only the edited rows became hand entries: every hostile row read back as the snapshot said.
        manual = [r[0] for r in led.db.execute("SELECT detail FROM events WHERE kind='manual_entry'").fetchall()]
    assert (typed_note(typed_in), typed_in.proposals, typed_in.signer) == (H.RICH[0], H.ESCAPES[1], H.ASTRAL[0])
    assert len(manual) == 1, manual
    ooxml_check(*_written(ws))

    # Excel holds master.xlsx: the rebuild is written beside it; then both are read back.
    type_into_master(ws, pending[2], "not_met", received=RECEIVED, note=H.LONG[3], signer="O'Brien \"x\"")
    with held_open(ws.master_file, monkeypatch):
        beside = merge(ws, [], received=RECEIVED)
    assert beside.master.written_beside
    ooxml_check(beside.master.path)          # master.xlsx is still the one the test typed into
    again = merge(ws, [], received=RECEIVED)
    assert not again.master.written_beside
    with Ledger(ws.ledger_file) as led:
        assert typed_note(led.current(pending[2].id)) == H.LONG[3]    # whole, though its cell is cut
        manual = led.db.execute("SELECT count(*) FROM events WHERE kind='manual_entry'").fetchone()[0]
    assert manual == 2

    # A staff member edits an unrelated cell and saves: not one hostile row is taken for a hand edit.
    wb = openpyxl.load_workbook(ws.master_file)
    wb["Tổng hợp"]["A1"].value = "Sửa tiêu đề"
    wb.save(ws.master_file)
    quiet = merge(ws, [], received=RECEIVED)
    assert quiet.master.manual_units == [], quiet.master.manual_units

    # The acceptance report, both formats.
    rep = CliRunner().invoke(main, ["report", "-C", str(ws.root), "--as-of", "2026-06-10"])
    assert rep.exit_code == 0, rep.output
    files = _written(ws)
    assert any(p.suffix == ".docx" for p in files) and any("gui-don-vi" in str(p) for p in files)
    ooxml_check(*files)


def test_drafts_of_hostile_names_carry_forms_that_open_without_repair(hostile):
    """The .eml drafts (subject, greeting and attachment named from hostile unit names) carry the
    unit's form: the checkers read each attached workbook."""
    from tracker.mail.drafts import draft

    ws = Workspace(hostile.root)
    ids = [u.id for u in ws.units if u.name in H.UNIT_NAMES][::4] + [ws.units[1].id, ws.units[4].id]
    result = draft(ws, "invite", from_addr="ttdt@hanoi.gov.vn", today=dt.date(2026, 5, 25), only=ids)
    assert len(result.written) == len(ids) > 3
    ooxml_check(*result.written)


# ---------------------------------------------------------------------------- what no file can bring
def test_reports_of_text_no_file_can_bring(ws, tmp_path):
    """Control characters and lone surrogates do not come through a well-formed return, but may
    through file names, emails and code: the merge reports and both acceptance reports built from
    them still pass, names on one line, the text readable."""
    from tracker.merge import FileResult, MergeReport
    from tracker.model.findings import Finding
    from tracker.reports.document import build_report_docx
    from tracker.reports.merge_report import write_merge_report
    from tracker.reports.model import build_report
    from tracker.reports.workbook import build_report_workbook
    from tracker.stats import campaign_stats

    nasty = H.CONTROLS + H.SURROGATES + H.RICH[:2] + H.LONG[:1]
    unit = ws.units[0]
    report = MergeReport(files=[
        FileResult(name=t[:300] + ".xlsx", origin=t[:300], outcome="rejected", unit_id=unit.id, unit_name=unit.name,
                   received=RECEIVED, findings=[Finding("bad_answer", file=t, sheet="Biên bản", cell="E30", value=t,
                                                        expected="Đáp ứng", text=t, criterion="c1", product="")])
        for t in nasty])
    path = write_merge_report(ws, report, tmp_path / "ket-qua-ghep.xlsx")
    stats = campaign_stats(ws, dt.date(2026, 6, 10))
    rep = build_report(ws.campaign, stats)
    rep.texts = dataclasses.replace(rep.texts, title=nasty[1], subject=nasty[-4], intro=nasty, closing=nasty[-1],
                                    recipients=nasty, signer_name=nasty[-3])
    xlsx, docx = tmp_path / "bc.xlsx", tmp_path / "bc.docx"
    xlsx.write_bytes(build_report_workbook(rep))
    docx.write_bytes(build_report_docx(rep))
    forwarded = sorted((tmp_path / "ket-qua-ghep-gui-don-vi").glob("*.xlsx"))
    assert forwarded
    ooxml_check(path, *forwarded, xlsx, docx)
    shown = {c.value for row in openpyxl.load_workbook(path).worksheets[0].iter_rows() for c in row}
    assert "esc [2J xóa màn hình.xlsx" in shown                       # the file's name, readable, on one line
    with zipfile.ZipFile(docx) as z:
        body = z.read("word/document.xml").decode("utf-8")
    assert "esc[2J xóa màn hình" in body and "lẻ \ufffd đầu" in body


def test_a_snapshot_too_long_for_its_cell_is_kept_as_digests():
    from tracker.master.workbook import snapshot_json

    snap = {"received_at": "2026-06-04", "answers": {}, "notes": "x" * 32767, "proposals": "y" * 20000, "signer": "z"}
    text = snapshot_json(snap)
    assert len(text) < 1000 and json.loads(text)["signer"] == "z"
    assert re.fullmatch("[0-9a-f]{64}", json.loads(text)["notes"]["sha256"])


@needs_soffice
def test_a_master_saved_again_by_a_spreadsheet_program_holds_no_false_hand_edit(ws, tmp_path):
    """Saved by LibreOffice (as by Excel: shared strings, their own escapes), a master whose notes
    hold escapes, control characters and rich-looking text is read back as it shows: no row is
    taken for a hand edit, no note changes."""
    crit = [c.id for c in ws.campaign.criteria]
    texts = H.ESCAPES + H.RICH[:3] + H.CONTROLS[:2] + ["x005F_ giữ", "a_x005F_b"]
    files = [fill(ws.outbox_path(u), tmp_path / f"r{i}.xlsx", "met", notes={crit[0]: t}, proposals=t, signer=t,
                  received=RECEIVED) for i, (u, t) in enumerate(zip(ws.units, texts))]
    merge(ws, files, received=RECEIVED, report=False)
    with Ledger(ws.ledger_file) as led:
        before = {u.id: led.current(u.id) for u in ws.units[:len(texts)]}
    saved = soffice_convert(ws.master_file, "xlsx", tmp_path / "lo")
    ws.master_file.write_bytes(saved.read_bytes())
    with zipfile.ZipFile(ws.master_file) as z:
        assert "_x005F_x0041_" in z.read("xl/sharedStrings.xml").decode()       # LibreOffice's own escapes
    again = merge(ws, [], received=RECEIVED, report=False)
    assert again.master.manual_units == [] and not again.master.findings
    with Ledger(ws.ledger_file) as led:
        assert {u: led.current(u) for u in before} == before


# ---------------------------------------------------------------------------- Excel's limits
def test_a_text_too_tall_for_a_row_goes_on_over_the_next_rows_whole(ws, tmp_path):
    """Any column of the merge report (the unit's file name, the value it typed, the finding) may
    hold a text taller than Excel's 409-point row: it goes on over the next rows, whole (not cut),
    marked as continued; every row is within the limit and both checkers pass."""
    from tracker.merge import FileResult, MergeReport
    from tracker.model.findings import Finding
    from tracker.reports.merge_report import MORE, unit_reports_dir, write_merge_report

    unit = ws.units[0]
    value = " ".join(f"từ{i}" for i in range(6000))           # ~40,000 characters in a 110-pixel column
    name = "tên rất dài " * 30 + ".xlsx"
    report = MergeReport(files=[FileResult(
        name=name, origin=name, outcome="rejected", unit_id=unit.id, unit_name=unit.name, received=RECEIVED,
        findings=[Finding("bad_answer", file=name, sheet="Biên bản", cell="E30", value=value, expected=H.LONG[0],
                          text=value, criterion="c1", product="")])])
    path = write_merge_report(ws, report, tmp_path / "ket-qua-ghep.xlsx")
    forwarded = sorted(unit_reports_dir(path).glob("*.xlsx"))
    ooxml_check(path, *forwarded)
    sh = openpyxl.load_workbook(path).worksheets[0]
    heights = [d.height for d in sh.row_dimensions.values() if d.height]
    assert heights and max(heights) <= 409
    rows = [[c.value or "" for c in row] for row in sh.iter_rows(min_row=5)]
    assert len(rows) > 3 and all(r[0] == 1 for r in rows)
    column = {h: i for i, h in enumerate(c.value for c in sh[4])}
    joined = "".join(r[column["Giá trị gặp"]] for r in rows)
    assert joined.replace("\n", "").replace(" ", "") == value.replace(" ", "")      # whole, nothing cut
    assert "".join(r[column["Giá trị cho phép"]] for r in rows).replace("\n", "") == H.LONG[0]
    assert rows[-1][column["Tệp"]].endswith(MORE)
    # The unit's copy: its statement holds the value too, and goes on likewise.
    ush = openpyxl.load_workbook(forwarded[0]).worksheets[0]
    assert max(d.height for d in ush.row_dimensions.values() if d.height) <= 409
    assert len(list(ush.iter_rows(min_row=5))) > 3


def test_no_sheet_of_ours_asks_for_a_row_taller_than_excel_allows(tmp_path):
    path = tmp_path / "tall.xlsx"
    wb = SafeWorkbook(str(path))
    sh = wb.add_worksheet("a")
    sh.set_row(0, 2000)
    sh.set_row_pixels(1, 5000)
    sh.write_string(0, 0, "x")
    wb.close()
    ooxml_check(path)
    heights = openpyxl.load_workbook(path).worksheets[0].row_dimensions
    assert 400 < heights[1].height <= 409 and 400 < heights[2].height <= 409
