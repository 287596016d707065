"""Notes belong to a product: a unit with two products (Sở KH&CN: its site and the Chuyển đổi số
chuyên trang) writes each product's note in that product's own "Ghi chú" cell; the reader, the
ledger, the master and both reports keep it on that product's row and nowhere else. A form sent
before (one "Ghi chú" column for both products) is still accepted: its note is the unit's, shown
on both rows and marked as such; a unit of one product has no such question."""
from __future__ import annotations

import datetime as dt
import sqlite3

import openpyxl
import pytest

from fill import fill
from tracker.api import merge
from tracker.master import workbook as master_form
from tracker.model import ident
from tracker.outbound.unit_form import column_px, table_columns
from tracker.reports.model import build_report
from tracker.stats import campaign_stats
from tracker.store.ledger import Ledger, Submission

UNIT = "so-khcn"
ONE = "xp-00070"
ON_TIME = dt.date(2026, 6, 4)
AS_OF = dt.date(2026, 6, 10)
SITE_NOTE = "Trang của Sở chưa có mục hỏi đáp"
CDS_NOTE = "Chuyên trang chưa có tin chuyển đổi số cấp xã"
UNIT_NOTE = "Đã kiểm tra cả hai sản phẩm ngày 02/6/2026"


def master_notes(ws) -> dict[str, str]:
    """product id -> the "Ghi chú" the master shows on its row."""
    wb = openpyxl.load_workbook(ws.master_file, read_only=True)
    cols = master_form.columns(ws.campaign)
    out = {}
    for sheet in wb.worksheets:
        for row in sheet.iter_rows(min_row=master_form.FIRST_ROW + 1, values_only=True):
            if len(row) > cols[master_form.PRODUCT_ID_HEADER] and row[cols[master_form.PRODUCT_ID_HEADER]]:
                out[row[cols[master_form.PRODUCT_ID_HEADER]]] = row[cols["Ghi chú"]] or ""
    wb.close()
    return out


def report_notes(ws) -> dict[str, str]:
    """product id -> the notes the acceptance report gives a product not accepted."""
    rep = build_report(ws.campaign, campaign_stats(ws, AS_OF))
    return {item.row.product_id: item.notes for item in rep.not_accepted}


def test_a_form_of_two_products_has_a_note_cell_per_product_beside_its_answers(ws, outbox):
    unit = ws.unit_by_id[UNIT]
    wb = openpyxl.load_workbook(outbox[UNIT])
    names = wb.defined_names
    answers, notes = table_columns(2)
    for i, p in enumerate(unit.products):
        for c in ws.campaign.criteria:
            answer = names[ident.answer_name(p.key, c.id)].attr_text
            note = names[ident.note_name(c.id, p.key)].attr_text
            assert answer.endswith(f"${openpyxl.utils.get_column_letter(answers[i] + 1)}${answer.rsplit('$', 1)[1]}")
            assert note.endswith(f"${openpyxl.utils.get_column_letter(notes[i] + 1)}${answer.rsplit('$', 1)[1]}")
        assert ident.note_name("c1") not in names         # no note of the whole unit on the new form
    # The header: each product's name over its answer and its "Ghi chú".
    form = wb[ident.FORM_SHEET]
    head = next(r for r in range(1, 80) if form.cell(r, 1).value == "STT")
    for i, p in enumerate(unit.products):
        assert form.cell(head, answers[i] + 1).value == p.name
        assert form.cell(head + 1, notes[i] + 1).value == "Ghi chú"
    # A unit of one product keeps the letter's one "Ghi chú" column and its name.
    one = openpyxl.load_workbook(outbox[ONE]).defined_names
    assert ident.note_name("c1") in one and not [n for n in one if n.startswith("TRK_N_site_")]
    assert len(column_px(1)) == 6 and sum(column_px(2)) == sum(column_px(1)) == 620


def test_each_products_note_stays_on_its_row_in_ledger_master_and_reports(ws, outbox, tmp_path):
    unit = ws.unit_by_id[UNIT]
    site, cds = unit.products
    answers = {(cds.key, "c3"): "not_met", (site.key, "c5"): "not_met"}
    f = fill(outbox[UNIT], tmp_path / "khcn.xlsx", answers,
             notes={(site.key, "c5"): SITE_NOTE, (cds.key, "c3"): CDS_NOTE})
    res = merge(ws, [f], received=ON_TIME)
    assert res.files[0].outcome == "accepted", [x.message for x in res.files[0].findings]
    with Ledger(ws.ledger_file) as led:
        assert led.current(UNIT).notes == {(site.id, "c5"): SITE_NOTE, (cds.id, "c3"): CDS_NOTE}
        rows = led.db.execute("SELECT product_id, criterion_id, text FROM criterion_notes ORDER BY product_id").fetchall()
    assert [tuple(r) for r in rows] == [(cds.id, "c3", CDS_NOTE), (site.id, "c5", SITE_NOTE)]
    shown = master_notes(ws)
    assert shown[site.id] == f"TC5: {SITE_NOTE}" and shown[cds.id] == f"TC3: {CDS_NOTE}"
    assert report_notes(ws) == {site.id: f"TC5: {SITE_NOTE}", cds.id: f"TC3: {CDS_NOTE}"}


def _as_sent_before(src, dest):
    """A filled two-product form as it was sent before notes were per product: its note cells
    named TRK_N_<criterion> (one per criterion, for the whole unit). Made from today's form by
    naming the chuyên trang's note cells so (the site's unnamed): the reader goes by the names."""
    wb = openpyxl.load_workbook(src)
    for name in [n for n in wb.defined_names if n.startswith("TRK_N_")]:
        key, cid = name[len("TRK_N_"):].rsplit("_", 1)
        dn = wb.defined_names[name]
        del wb.defined_names[name]
        if key == "cds":
            dn.name = ident.note_name(cid)
            wb.defined_names[dn.name] = dn
    wb.save(dest)
    return dest


def test_a_two_product_form_sent_before_gives_a_note_of_the_unit_shown_on_both_rows(ws, outbox, tmp_path):
    unit = ws.unit_by_id[UNIT]
    site, cds = unit.products
    filled = fill(outbox[UNIT], tmp_path / "filled.xlsx", {(site.key, "c2"): "not_met", (cds.key, "c2"): "not_met"},
                  notes={(cds.key, "c2"): UNIT_NOTE})
    f = _as_sent_before(filled, tmp_path / "khcn-old.xlsx")
    res = merge(ws, [f], received=ON_TIME)
    assert res.files[0].outcome == "accepted", [x.message for x in res.files[0].findings]
    with Ledger(ws.ledger_file) as led:
        assert led.current(UNIT).notes == {("", "c2"): UNIT_NOTE}
    marked = f"TC2 ({master_form.UNIT_NOTE}): {UNIT_NOTE}"
    shown = master_notes(ws)
    assert shown[site.id] == shown[cds.id] == marked
    assert report_notes(ws) == {site.id: marked, cds.id: marked}


def test_the_forms_one_note_column_is_its_products_when_it_has_one(ws, outbox, tmp_path):
    unit = ws.unit_by_id[ONE]
    f = fill(outbox[ONE], tmp_path / "one.xlsx", {("site", "c4"): "not_met"}, notes={"c4": "Chưa chạy trên Edge"})
    merge(ws, [f], received=ON_TIME)
    with Ledger(ws.ledger_file) as led:
        assert led.current(ONE).notes == {(unit.products[0].id, "c4"): "Chưa chạy trên Edge"}
    assert master_notes(ws)[unit.products[0].id] == "TC4: Chưa chạy trên Edge"      # no mark: it is its own


def _old_notes_table(path) -> None:
    """criterion_notes as ledgers before notes were per product have it (no product_id)."""
    db = sqlite3.connect(path)
    db.executescript("""
        ALTER TABLE criterion_notes RENAME TO new_notes;
        CREATE TABLE criterion_notes(submission_id INTEGER NOT NULL REFERENCES submissions(id),
            criterion_id TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY(submission_id, criterion_id));
        INSERT INTO criterion_notes SELECT submission_id, criterion_id, text FROM new_notes;
        DROP TABLE new_notes;
    """)
    db.commit()
    db.close()


def test_an_older_ledger_is_migrated_in_place_its_notes_the_units(ws, outbox, tmp_path):
    one, two = ws.unit_by_id[ONE], ws.unit_by_id[UNIT]
    files = [fill(outbox[ONE], tmp_path / "one.xlsx", {("site", "c4"): "not_met"}, notes={"c4": "Ghi chú cũ"}),
             fill(outbox[UNIT], tmp_path / "two.xlsx", {("cds", "c3"): "not_met", ("site", "c3"): "not_met"},
                  notes={("cds", "c3"): CDS_NOTE})]
    merge(ws, files, received=ON_TIME, report=False)
    _old_notes_table(ws.ledger_file)
    # A reading command reads it as it is, never writing: every note is the unit's.
    with Ledger.reader(ws.ledger_file) as led:
        cols = {r[1] for r in led.db.execute("PRAGMA table_info(criterion_notes)")}
        assert "product_id" not in cols
        assert led.history()[UNIT][-1].notes == {("", "c3"): CDS_NOTE}
    assert master_notes(ws)[two.products[1].id] == f"TC3: {CDS_NOTE}"       # the master is not rebuilt by reading
    rep = report_notes(ws)
    assert rep[two.products[1].id] == rep[two.products[0].id] == f"TC3 ({master_form.UNIT_NOTE}): {CDS_NOTE}"
    assert rep[one.products[0].id] == "TC4: Ghi chú cũ"
    # Opened to write: migrated, once, in place; nothing lost.
    for _ in range(2):
        with Ledger(ws.ledger_file) as led:
            rows = [tuple(r) for r in led.db.execute(
                "SELECT product_id, criterion_id, text FROM criterion_notes ORDER BY text")]
            assert rows == [("", "c3", CDS_NOTE), ("", "c4", "Ghi chú cũ")]
            pk = [r[1] for r in led.db.execute("PRAGMA table_info(criterion_notes)") if r[5]]
            assert pk == ["criterion_id", "product_id"] or set(pk) == {"submission_id", "product_id", "criterion_id"}
            assert led.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert not led.db.execute("PRAGMA foreign_key_check").fetchall()
    # New notes of the migrated ledger are per product again.
    f = fill(outbox[UNIT], tmp_path / "two-again.xlsx", {("site", "c1"): "not_met"}, notes={("site", "c1"): SITE_NOTE})
    merge(ws, [f], received=dt.date(2026, 6, 5), report=False)
    with Ledger(ws.ledger_file) as led:
        assert led.current(UNIT).notes == {(two.products[0].id, "c1"): SITE_NOTE}


def test_a_note_typed_into_one_row_of_the_master_stays_on_that_row(ws, outbox, tmp_path):
    unit = ws.unit_by_id[UNIT]
    site, cds = unit.products
    f = fill(outbox[UNIT], tmp_path / "khcn.xlsx", {(cds.key, "c3"): "not_met"}, notes={(cds.key, "c3"): CDS_NOTE})
    merge(ws, [f], received=ON_TIME, report=False)
    # Staff type a note on the site's row only (answers as they were).
    _type_note(ws, site, "Văn bản giấy bổ sung số 12/SKHCN")
    merge(ws, [], report=False)
    with Ledger(ws.ledger_file) as led:
        sub = led.current(UNIT)
        assert sub.source == "manual"
        assert sub.notes == {(site.id, ""): "Văn bản giấy bổ sung số 12/SKHCN", (cds.id, "c3"): CDS_NOTE}
    shown = master_notes(ws)
    assert shown[site.id] == "Văn bản giấy bổ sung số 12/SKHCN" and shown[cds.id] == f"TC3: {CDS_NOTE}"
    # Merged again with nothing typed: no new entry.
    merge(ws, [], report=False)
    with Ledger(ws.ledger_file) as led:
        assert led.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 2


def _type_note(ws, product, note: str) -> None:
    """Staff type `note` into one product row's "Ghi chú" of master.xlsx (everything else as shown)."""
    wb = openpyxl.load_workbook(ws.master_file)
    cols = master_form.columns(ws.campaign)
    for sheet in wb.worksheets:
        for r in range(master_form.FIRST_ROW + 1, sheet.max_row + 1):
            if sheet.cell(r, cols[master_form.PRODUCT_ID_HEADER] + 1).value == product.id:
                sheet.cell(r, cols["Ghi chú"] + 1).value = note
                wb.save(ws.master_file)
                return
    pytest.fail(f"{product.id} not in the master")


def test_notes_text_marks_the_units_note_only_beside_other_products(ws):
    sub = Submission(UNIT, ON_TIME, notes={("", "c1"): "chung", ("so-khcn/cds", "c1"): "riêng"}, note="giấy")
    mark = master_form.UNIT_NOTE
    assert master_form.notes_text(sub, ws.campaign, "so-khcn/cds", alone=False) == \
        f"Ghi chú chung của đơn vị: giấy; TC1: riêng; TC1 ({mark}): chung"
    assert master_form.notes_text(sub, ws.campaign, "so-khcn/site", alone=False) == \
        f"Ghi chú chung của đơn vị: giấy; TC1 ({mark}): chung"
    assert master_form.notes_text(sub, ws.campaign, "so-khcn/site", alone=True) == "giấy; TC1: chung"


def test_a_copy_of_the_form_sent_before_is_read_by_its_labels_its_note_the_units(ws, tmp_path):
    """The old two-product table copied into a fresh workbook (no names): "Mức độ đáp ứng" over both
    products' answers, one "Ghi chú" right of them. Its notes are the unit's."""
    unit = ws.unit_by_id[UNIT]
    met, not_met = ws.campaign.answers
    wb = openpyxl.Workbook()
    sh = wb.active
    sh["A1"] = unit.name.upper()
    sh["A10"], sh["B10"], sh["C10"], sh["E10"], sh["G10"] = ("STT", "Nhóm tiêu chí", "Nội dung đánh giá chi tiết",
                                                            "Mức độ đáp ứng", "Ghi chú")
    sh["E11"], sh["F11"] = (p.name for p in unit.products)
    for i, c in enumerate(ws.campaign.criteria):
        r = 12 + i
        sh.cell(r, 1, i + 1)
        sh.cell(r, 2, c.group)
        sh.cell(r, 3, c.detail)
        sh.cell(r, 5, not_met if c.id == "c6" else met)
        sh.cell(r, 6, met)
    sh["G17"] = UNIT_NOTE
    path = tmp_path / "ban-chep.xlsx"
    wb.save(path)
    res = merge(ws, [path], received=ON_TIME, report=False)
    assert res.files[0].outcome == "accepted", [x.message for x in res.files[0].findings]
    assert "identified_by_labels" in [f.code for f in res.files[0].findings]
    with Ledger(ws.ledger_file) as led:
        assert led.current(UNIT).notes == {("", "c6"): UNIT_NOTE}
