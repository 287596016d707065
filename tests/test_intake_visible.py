"""Issue 14: what is counted is what the unit's spreadsheet shows. Each class of trick that made the
reader count answers other than those Excel or LibreOffice display (tests/tricks.py) is refused
naming the file and cell, or read as the spreadsheet shows it; what is hidden but empty changes
nothing, and forms filled as units fill them raise none of the new findings."""
from __future__ import annotations

import random
import re

import pytest

import tricks  # noqa: I001 - puts tools/ (fuzz) on the path
import fuzz
from tracker.intake import safety
from tracker.intake.reader import read_return
from tracker.intake.xlsx import XlsxBook
from tracker.model import ident
from tracker.model.findings import IntakeError
from tracker.store.workspace import Workspace

UNIT = "xp-00070"           # one product: the unit's own site
OTHER = "xp-00082"           # Phường Cửa Nam


@pytest.fixture(scope="module")
def base(generated_campaign):
    ws = Workspace(generated_campaign)
    unit = ws.unit_by_id[UNIT]
    good, answers = fuzz.good_return(ws.outbox_path(unit), random.Random(14))
    token = ident.token(ws.secret, ws.campaign.id, OTHER, ws.campaign.version)
    return ws, unit, good, answers, {t.name: t for t in tricks.tricks(good, answers, (OTHER, token))}


def _read(ws, path):
    """(reading or None when refused, findings)."""
    try:
        kind = safety.check_file(path, path.name)
        reading = read_return(path, path.name, ws.campaign, ws.unit_by_id, ws.secret, kind == "xlsm")
    except IntakeError as e:
        return None, [e.finding]
    return (None if reading.errors else reading), reading.findings


def _answers(reading, unit) -> dict:
    return {f"TRK_A_{pid.split('/')[1]}_{c}": v for (pid, c), v in reading.answers.items()}


def _check(base, tmp_path, name):
    ws, unit, good, answers, all_tricks = base
    t = all_tricks[name]
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(t.data)
    reading, findings = _read(ws, path)
    codes = [f.code for f in findings]
    if t.expect == "refused":
        assert reading is None, (name, codes)
        error = next(f for f in findings if f.severity == "error")
        assert error.code == t.code, (name, codes)
        assert path.name in error.message, error.message
        if t.cell:
            assert error.cell == t.cell and f"ô {t.cell}" in error.message, error.message
        if t.hidden:
            assert error.param("hidden") == t.hidden, (name, error.params)
    else:
        assert reading is not None, (name, [f.message for f in findings])
        assert _answers(reading, unit) == t.answers, name
        if t.code:
            assert t.code in codes, (name, codes)
    return reading, findings


def test_the_good_return_is_read_with_no_new_finding(base, tmp_path):
    ws, unit, good, answers, _ = base
    path = tmp_path / "good.xlsx"
    path.write_bytes(good)
    reading, findings = _read(ws, path)
    assert reading is not None and _answers(reading, unit) == answers
    assert not {"hidden_cell", "unit_mismatch", "unit_name_missing"} & {f.code for f in findings}


# ---------------------------------------------------------------------- 1. cells a person does not see
HIDING = ["names_to_hidden_column", "row_hidden", "row_height_zero", "row_custom_height_without_height",
          "row_in_collapsed_group", "rows_hidden_by_default", "column_hidden", "column_width_zero",
          "columns_hidden_by_default", "column_in_collapsed_group", "answer_under_merged_cell", "form_sheet_hidden",
          "form_sheet_very_hidden",
          "window_hidden", "format_prints_nothing", "format_prints_other_words", "format_colours_text_white",
          "white_on_white", "fill_colour_text", "theme_background_text", "tiny_font", "conditional_format_white",
          "answer_run_in_fill_colour", "answer_below_empty_lines"]


@pytest.mark.parametrize("name", HIDING)
def test_an_answer_a_person_does_not_see_is_refused_naming_its_cell(base, tmp_path, name):
    reading, findings = _check(base, tmp_path, name)
    error = next(f for f in findings if f.severity == "error")
    assert "không nhìn thấy" in error.message and "Bỏ ẩn" in error.advice("vi", to="unit")


def test_the_repointed_names_attack_no_longer_counts_the_hidden_answers(base, tmp_path):
    """The review's case: names re-pointed (Name Manager) to a hidden column holding other answers, the
    header copied above it; before, the hidden answers were recorded without a word."""
    reading, findings = _check(base, tmp_path, "names_to_hidden_column")
    assert "cột bị ẩn" in findings[0].message or any("cột bị ẩn" in f.message for f in findings)


def test_hidden_but_empty_cells_change_nothing(base, tmp_path):
    _check(base, tmp_path, "empty_notes_column_hidden")


def test_a_hidden_copy_of_the_form_is_not_a_second_table_but_a_visible_one_is(base, tmp_path):
    """Only one table shows: the one read. A visible copy that disagrees is still refused, never guessed."""
    _check(base, tmp_path, "hidden_copy_with_other_answers")
    _check(base, tmp_path, "visible_copy_with_other_answers")


def test_a_name_defined_twice_is_refused_when_read(base, tmp_path):
    reading, findings = _check(base, tmp_path, "answer_name_defined_twice")
    assert "hai lần" in findings[0].message


def test_a_hidden_note_or_signer_is_refused_too(base, tmp_path):
    """Every field recorded comes from a cell a person sees: a note typed into a hidden column is not
    on the signed paper."""
    ws, unit, good, answers, _ = base
    cells = fuzz.answer_cells(good)
    note = tricks.shift(cells[sorted(cells)[0]], 1)
    data = fuzz.set_cells(good, {note: "Ghi chú ẩn"})
    data = tricks.col_attrs(data, ord(note[0]) - 64, lambda a: {**a, "hidden": "1"})
    path = tmp_path / "hidden-note.xlsx"
    path.write_bytes(data)
    reading, findings = _read(ws, path)
    error = next(f for f in findings if f.severity == "error")
    assert reading is None and error.code == "hidden_cell" and error.cell == note
    assert error.param("field") == "note" and "ghi chú" in error.message


def test_what_is_hidden_is_told_from_the_parse_already_made(base, tmp_path):
    """No second parse: the layout comes with the cells, and the styles are parsed once per content."""
    ws, unit, good, answers, all_tricks = base
    path = tmp_path / "once.xlsx"
    path.write_bytes(all_tricks["row_hidden"].data)
    with XlsxBook(path, path.name) as book:
        cells = book.cells(ident.FORM_SHEET)
        ref = fuzz.answer_cells(good)[sorted(fuzz.answer_cells(good))[0]]
        assert book.hidden(ident.FORM_SHEET, ref, cells[ref]) == "row"
        assert book.hidden(ident.FORM_SHEET, "A1", cells["A1"]) is None
        assert book.hidden(ident.FORM_SHEET, ref, None) is None       # an empty cell hides nothing


# ---------------------------------------------------------------------- 2. one part, one name
@pytest.mark.parametrize("name", ["zip_case_twin", "zip_backslash_twin", "zip_percent_twin", "zip_rooted_twin"])
def test_two_members_a_reader_takes_for_one_part_are_refused(base, tmp_path, name):
    reading, findings = _check(base, tmp_path, name)
    if findings[0].code == "duplicate_member":
        assert "'xl/worksheets/sheet1.xml'" in findings[0].message


def test_parts_are_found_as_the_duplicate_check_compares_them():
    assert safety.part_key("XL\\Worksheets\\Sheet1.xml") == safety.part_key("/xl/worksheets/sheet%31.xml") \
        == "xl/worksheets/sheet1.xml"


# ---------------------------------------------------------------------- 3. the workbook the package names
def test_the_workbook_part_is_the_one_the_package_names(base, tmp_path):
    """_rels/.rels names xl/book2.xml (whose sheet shows other answers); xl/workbook.xml is a decoy:
    the answers recorded are those of the part Excel and LibreOffice open."""
    _check(base, tmp_path, "rels_point_at_other_workbook")


@pytest.mark.parametrize("name", ["rels_two_workbooks", "rels_missing"])
def test_a_package_that_names_no_or_two_workbooks_is_refused(base, tmp_path, name):
    _check(base, tmp_path, name)


def test_shared_strings_are_read_only_when_the_workbook_relates_them(base, tmp_path):
    """An xl/sharedStrings.xml the workbook does not point at is not Excel's string table: cells
    referring to strings then refer to nothing, and the file is refused, not read from that part."""
    ws, unit, good, answers, _ = base
    m = tricks.parts(good)
    m["xl/_rels/workbook.xml.rels"] = re.sub(rb'<Relationship [^>]*sharedStrings"?[^>]*/>', b"",
                                             m["xl/_rels/workbook.xml.rels"])
    path = tmp_path / "no-sst-rel.xlsx"
    path.write_bytes(tricks.repack(m))
    reading, findings = _read(ws, path)
    assert reading is None and findings[0].code in ("damaged", "form_missing", "unidentified"), \
        [f.code for f in findings]


# ---------------------------------------------------------------------- 4. text a cell does not display
@pytest.mark.parametrize("name", ["inline_phonetic_answer", "shared_phonetic_answer"])
def test_a_phonetic_guide_is_never_read_as_the_answer(base, tmp_path, name):
    _check(base, tmp_path, name)


# ---------------------------------------------------------------------- 5. identity against the visible name
def test_identification_pasted_from_another_unit_is_refused_naming_both(base, tmp_path):
    ws, unit, good, answers, _ = base
    reading, findings = _check(base, tmp_path, "identity_pasted_from_other_unit")
    error = next(f for f in findings if f.code == "unit_mismatch")
    assert ws.unit_by_id[OTHER].name in error.message and unit.name in error.message


def _edit_names(data: bytes, old: str, new: str, header: bool, sentences: bool) -> bytes:
    """The unit's name replaced where a person reads it: the header (capitals), and the sentences, where
    it is written mid-sentence ("UBND phường Hoàn Kiếm"), in shared strings and in the conclusion, a
    formula whose shown value is kept in the sheet."""
    def fn(text: str) -> str:
        if header:
            text = text.replace(f"<t>{old.upper()}</t>", f"<t>{new.upper()}</t>")
        if sentences:
            text = re.sub(rf"(<(t|v)[^>]*>[^<]*?){re.escape(old)}", rf"\g<1>{new}", text, flags=re.I)
        return text
    return tricks.edit(tricks.edit(data, "xl/sharedStrings.xml", fn), tricks.SHEET,
                       lambda t: fn(t) if sentences else t)


def test_a_unit_name_edited_in_the_header_alone_is_still_the_unit(base, tmp_path):
    """Units fix their name in the header (abbreviations, line breaks): the sentences still name them."""
    ws, unit, good, answers, _ = base
    path = tmp_path / "header.xlsx"
    path.write_bytes(_edit_names(good, unit.name, "UBND " + unit.name + " (cũ)", header=True, sentences=False))
    reading, findings = _read(ws, path)
    assert reading is not None and not {"unit_mismatch", "unit_name_missing"} & {f.code for f in findings}


def test_no_visible_name_of_the_unit_is_accepted_for_staff_review(base, tmp_path):
    ws, unit, good, answers, _ = base
    path = tmp_path / "renamed.xlsx"
    path.write_bytes(_edit_names(good, unit.name, "Đơn vị XYZ", header=True, sentences=True))
    reading, findings = _read(ws, path)
    assert reading is not None and _answers(reading, unit) == answers
    warning = next(f for f in findings if f.code == "unit_name_missing")
    assert warning.severity == "warning" and "đơn vị xyz" in warning.message.casefold()
    assert unit.name in warning.message and warning.cell


def test_another_units_name_in_one_sentence_is_refused(base, tmp_path):
    ws, unit, good, answers, _ = base
    other = ws.unit_by_id[OTHER]
    path = tmp_path / "conclusion.xlsx"
    from tracker.model.registry import unit_facts

    mine, theirs = unit_facts(ws.campaign, unit).in_text, unit_facts(ws.campaign, other).in_text
    data = tricks.edit(good, "xl/sharedStrings.xml",        # the preamble's last paragraph only
                       lambda t: t.replace(f"{mine} gửi kết quả", f"{theirs} gửi kết quả", 1))
    assert data != good
    path.write_bytes(data)
    reading, findings = _read(ws, path)
    error = next(f for f in findings if f.severity == "error")
    assert reading is None and error.code == "unit_mismatch" and other.name in error.message
