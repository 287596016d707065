"""Ways to make a return's recorded answers differ from what its spreadsheet shows (issue 14), as
edits of a filled return's XML: each is one class of trick, built the way a tool or a hand editing
the package would. tests/test_intake_visible.py checks that each is refused (or read as shown);
tests/test_differential.py adds them to the returns compared with LibreOffice's rendering.

A Trick's `expect` is "refused" with the finding code (and the cell and hidden reason when it is
about a cell), or "accepted" with the answers that must be recorded (by defined name).
"""
from __future__ import annotations

import io
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import fuzz  # noqa: E402

SHEET = "xl/worksheets/sheet1.xml"
BOOK = "xl/workbook.xml"
STYLES = "xl/styles.xml"
MET, NOT_MET = fuzz.MET, fuzz.NOT_MET


@dataclass
class Trick:
    name: str
    data: bytes
    expect: str                     # "refused" | "accepted"
    code: str | None = None         # the finding that must be there (the refusal's)
    cell: str = ""
    hidden: str = ""                # the hidden_cell reason
    answers: dict = field(default_factory=dict)     # defined name -> answer, when accepted


# ---------------------------------------------------------------------- package edits
def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def repack(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            z.writestr(name, body)
    return out.getvalue()


def edit(data: bytes, member: str, fn) -> bytes:
    return fuzz.rewrite(data, member, lambda b: fn(b.decode("utf-8")).encode("utf-8"))


def sub(data: bytes, member: str, pattern: str, repl, count: int = 1) -> bytes:
    def fn(text: str) -> str:
        out, n = re.subn(pattern, repl, text, count=count)
        assert n, (member, pattern)
        return out
    return edit(data, member, fn)


def row_attrs(data: bytes, row: int, fn) -> bytes:
    """Rewrite the attributes of a row of the form sheet: fn(dict) -> dict."""
    def one(m):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m[1]))
        return "<row " + " ".join(f'{k}="{v}"' for k, v in fn(attrs).items()) + m[2]
    return edit(data, SHEET, lambda t: re.sub(rf'<row (r="{row}"[^>]*?)(/?>)', one, t, count=1))


def col_attrs(data: bytes, col: int, fn) -> bytes:
    def one(m):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m[1]))
        return "<col " + " ".join(f'{k}="{v}"' for k, v in fn(attrs).items()) + "/>"
    return edit(data, SHEET, lambda t: re.sub(rf'<col (min="{col}" max="{col}"[^>]*?)/>', one, t, count=1))


def add_style(data: bytes, ref: str, *, numfmt: str | None = None, font: str | None = None,
              fill: str | None = None) -> bytes:
    """Give cell `ref` a copy of its style with another number format, font or fill (XML snippets)."""
    m = parts(data)
    sheet, styles = m[SHEET].decode(), m[STYLES].decode()
    s = int(re.search(rf'<c r="{ref}" s="(\d+)"', sheet)[1])
    xfs = re.search(r"<cellXfs count=\"(\d+)\">(.*?)</cellXfs>", styles, re.S)
    xf = re.findall(r"<xf [^>]*?(?:/>|>.*?</xf>)", xfs[2], re.S)[s]
    if numfmt is not None:
        if "<numFmts" not in styles:
            styles = styles.replace("<fonts", '<numFmts count="0"></numFmts><fonts', 1)
        styles = re.sub(r"</numFmts>", f'<numFmt numFmtId="180" formatCode="{escape(numfmt, {chr(34): "&quot;"})}"/>'
                        "</numFmts>", styles, count=1)
        xf = re.sub(r'numFmtId="\d+"', 'numFmtId="180" applyNumberFormat="1"', xf, count=1)
    for kind, snippet in (("font", font), ("fill", fill)):
        if snippet is None:
            continue
        block = re.search(rf'<{kind}s count="(\d+)"', styles)
        n = int(block[1])
        styles = styles.replace(f'<{kind}s count="{n}"', f'<{kind}s count="{n + 1}"', 1)
        styles = styles.replace(f"</{kind}s>", snippet + f"</{kind}s>", 1)
        xf = re.sub(rf'{kind}Id="\d+"', f'{kind}Id="{n}"', xf, count=1)
    count = int(xfs[1])
    styles = styles.replace(xfs[0], f'<cellXfs count="{count + 1}">{xfs[2]}{xf}</cellXfs>', 1)
    sheet = sheet.replace(f'<c r="{ref}" s="{s}"', f'<c r="{ref}" s="{count}"', 1)
    m[SHEET], m[STYLES] = sheet.encode(), styles.encode()
    return repack(m)


def add_sheet(data: bytes, sheet_xml: bytes, name: str, state: str = "visible") -> bytes:
    """A new sheet (its XML given) at the end of the workbook."""
    m = parts(data)
    m["xl/worksheets/extra.xml"] = sheet_xml
    attr = "" if state == "visible" else f' state="{state}"'
    m[BOOK] = m[BOOK].replace(b"</sheets>", f'<sheet name="{name}" sheetId="99"{attr} r:id="rIdX"/></sheets>'
                              .encode())
    m["xl/_rels/workbook.xml.rels"] = m["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/worksheet" Target="worksheets/extra.xml"/></Relationships>')
    m["[Content_Types].xml"] = m["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/worksheets/extra.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.worksheet+xml"/></Types>')
    return repack(m)


def point_names(data: bytes, targets: dict[str, str]) -> bytes:
    """Re-point defined names (as Name Manager does) to other cells of the form sheet."""
    def fn(text: str) -> str:
        for name, ref in targets.items():
            col, row = re.match(r"([A-Z]+)(\d+)", ref).groups()
            text, n = re.subn(rf'(<definedName name="{name}">[^!]*!)\$[A-Z]+\$\d+', rf"\1${col}${row}", text)
            assert n == 1, name
        return text
    return edit(data, BOOK, fn)


def put(data: bytes, values: dict[str, str]) -> bytes:
    """Text (inline strings) into cells of the form sheet, adding the cells that do not exist."""
    def fn(text: str) -> str:
        for ref, value in values.items():
            cell = f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'
            text, n = re.subn(rf'<c r="{ref}"( s="\d+")?( t="\w+")?(/>|>.*?</c>)',
                              lambda m: cell.replace(f'<c r="{ref}"', f'<c r="{ref}"{m[1] or ""}'), text, count=1)
            if not n:       # a new cell, at the end of its row
                row = re.match(r"[A-Z]+(\d+)", ref)[1]
                text, n = re.subn(rf'(<row r="{row}"[^>]*?)(/>|>(.*?)</row>)',
                                  lambda m: f"{m[1]}>{m[3] or ''}{cell}</row>", text, count=1, flags=re.S)
            assert n == 1, ref
        return text
    return edit(data, SHEET, fn)


def shift(ref: str, cols: int) -> str:
    from tracker.intake.xlsx import col_letters, split_ref
    row, col = split_ref(ref)
    return f"{col_letters(col + cols)}{row}"


# ---------------------------------------------------------------------- the tricks
def tricks(good: bytes, answers: dict[str, str], other_token: tuple[str, str] | None = None) -> list[Trick]:
    """Every trick on `good` (a filled return of a unit with one product, answers by name); with
    `other_token` (another unit's id and token), the identity paste too."""
    cells = fuzz.answer_cells(good)
    name = sorted(cells)[0]               # TRK_A_<site>_c1
    ref = cells[name]
    row = int(re.match(r"[A-Z]+(\d+)", ref)[1])
    col = ord(ref[0]) - 64
    flipped = {n: "not_met" if a == "met" else "met" for n, a in answers.items()}
    out: list[Trick] = []

    def refused(trick: str, data: bytes, hidden: str, cell: str = ref, code: str = "hidden_cell"):
        out.append(Trick(trick, data, "refused", code, cell, hidden))

    # 1. The named answer cells re-pointed to a hidden column holding other answers, the form's header copied
    #    above it so that the names "agree with the labels".
    hid = 8                                # column H, right of the notes
    text = parts(good)[SHEET].decode()
    header = {}
    first = min(int(re.match(r"[A-Z]+(\d+)", r)[1]) for r in cells.values())
    for hdr_row in (first - 2, first - 1):
        m = re.search(rf'<c r="{ref[0]}{hdr_row}"[^>]*t="s"><v>(\d+)</v>', text)
        if m:
            sst = parts(good)["xl/sharedStrings.xml"].decode()
            header[f"H{hdr_row}"] = re.sub("<[^>]+>", "", re.findall(r"<si>(.*?)</si>", sst, re.S)[int(m[1])])
    moved = {n: f"H{r[1:]}" for n, r in cells.items()}
    data = put(good, {**header, **{moved[n]: MET if a == "met" else NOT_MET for n, a in flipped.items()}})
    data = sub(data, SHEET, r"</cols>", f'<col min="{hid}" max="{hid}" width="12" hidden="1" customWidth="1"/></cols>')
    refused("names_to_hidden_column", point_names(data, moved), "column", cell=moved[name])

    # Rows: hidden, no height, a custom height without one, a collapsed group, hidden by default.
    refused("row_hidden", row_attrs(good, row, lambda a: {**a, "hidden": "1"}), "row")
    refused("row_height_zero", row_attrs(good, row, lambda a: {**a, "ht": "0"}), "row")
    refused("row_custom_height_without_height",
            row_attrs(good, row, lambda a: {k: v for k, v in a.items() if k != "ht"}), "row")
    data = row_attrs(good, row, lambda a: {**a, "outlineLevel": "1"})
    refused("row_in_collapsed_group", row_attrs(data, row + 1, lambda a: {**a, "collapsed": "1"}), "row")
    data = sub(good, SHEET, r"<sheetFormatPr ", '<sheetFormatPr zeroHeight="1" ')
    refused("rows_hidden_by_default",
            row_attrs(data, row, lambda a: {k: v for k, v in a.items() if k not in ("ht", "customHeight")}), "row")
    # Columns: hidden, zero width, hidden by default, a collapsed group.
    refused("column_hidden", col_attrs(good, col, lambda a: {**a, "hidden": "1"}), "column")
    refused("column_width_zero", col_attrs(good, col, lambda a: {**a, "width": "0"}), "column")
    data = sub(good, SHEET, r"<sheetFormatPr ", '<sheetFormatPr defaultColWidth="0" ')
    refused("columns_hidden_by_default", sub(data, SHEET, rf'<col min="{col}" max="{col}"[^>]*/>', ""), "column")
    data = col_attrs(good, col, lambda a: {**a, "outlineLevel": "1"})
    refused("column_in_collapsed_group", col_attrs(data, col + 1, lambda a: {**a, "collapsed": "1"}), "column")
    # A merged range starting above the answer covers it: only the range's first cell shows.
    data = sub(good, SHEET, r'<mergeCells count="(\d+)">', lambda m: f'<mergeCells count="{int(m[1]) + 1}">'
               f'<mergeCell ref="{ref[0]}{row - 1}:{ref}"/>')
    refused("answer_under_merged_cell", data, "merged")
    # The sheet, the window.
    refused("form_sheet_hidden", sub(good, BOOK, r'(<sheet name="Biên bản xác nhận")', r'\1 state="hidden"'), "sheet")
    refused("form_sheet_very_hidden", sub(good, BOOK, r'(<sheet name="Biên bản xác nhận")', r'\1 state="veryHidden"'),
            "sheet")
    refused("window_hidden", sub(good, BOOK, r"<workbookView ", '<workbookView visibility="hidden" '), "window")
    # The cell's look: a format printing nothing or other words, letters the fill's colour or too small.
    refused("format_prints_nothing", add_style(good, ref, numfmt=";;;"), "format")
    opposite = NOT_MET if answers[name] == "met" else MET
    refused("format_prints_other_words", add_style(good, ref, numfmt=f';;;"{opposite}"'), "format")
    refused("format_colours_text_white", add_style(good, ref, numfmt="[White]@"), "colour")
    refused("white_on_white", add_style(good, ref, font='<font><sz val="13"/><color rgb="FFFFFFFF"/></font>',
                                        fill='<fill><patternFill patternType="none"/></fill>'), "colour")
    refused("fill_colour_text", add_style(good, ref, font='<font><sz val="13"/><color rgb="FFFFF2CC"/></font>'),
            "colour")
    refused("theme_background_text", add_style(good, ref, font='<font><sz val="13"/><color theme="0"/></font>',
                                               fill='<fill><patternFill patternType="none"/></fill>'), "colour")
    refused("tiny_font", add_style(good, ref, font='<font><sz val="1"/><color rgb="FF000000"/></font>'), "font")
    # A differential format appended to the form's own (the yellow of empty input cells is one already).
    n_dxf = int(re.search(r'<dxfs count="(\d+)"', parts(good)[STYLES].decode("utf-8"))[1])
    white = '<dxf><font><color rgb="FFFFFFFF"/></font><fill><patternFill><bgColor rgb="FFFFFFFF"/></patternFill></fill></dxf>'
    data = sub(good, STYLES, r'<dxfs count="\d+"(/>|>(.*?)</dxfs>)',
               lambda m: f'<dxfs count="{n_dxf + 1}">{m[2] or ""}{white}</dxfs>')
    data = sub(data, SHEET, r"<dataValidations", f'<conditionalFormatting sqref="{ref}"><cfRule type="expression" '
               f'dxfId="{n_dxf}" priority="1"><formula>TRUE</formula></cfRule></conditionalFormatting><dataValidations')
    refused("conditional_format_white", data, "colour")
    # A run of the answer's text in the fill's colour: "Chưa " unseen, "đáp ứng" shown.
    run = (' t="inlineStr"><is><r><rPr><sz val="13"/><color rgb="FFFFF2CC"/></rPr><t xml:space="preserve">Chưa '
           '</t></r><r><rPr><sz val="13"/><color rgb="FF000000"/></rPr><t>đáp ứng</t></r></is></c>')
    refused("answer_run_in_fill_colour", fuzz.set_cells(good, {ref: run}, raw=True), "part")
    refused("answer_below_empty_lines", fuzz.set_cells(good, {ref: "\n\n\n" + (MET if answers[name] == "met"
                                                                                   else NOT_MET)}), "line_break")

    # A hidden copy of the form holding other answers: not shown, so not another table: the one shown is read.
    other_sheet = parts(fuzz.set_cells(good, {cells[n]: MET if a == "met" else NOT_MET for n, a in flipped.items()}))
    out.append(Trick("hidden_copy_with_other_answers", add_sheet(good, other_sheet[SHEET], "Bản sao", "hidden"),
                     "accepted", answers=answers))
    out.append(Trick("visible_copy_with_other_answers", add_sheet(good, other_sheet[SHEET], "Bản sao"),
                     "refused", "duplicate_form"))
    # A defined name given twice: which one Excel takes cannot be told.
    twice = f'<definedName name="{name}">\'Biên bản xác nhận\'!${ref[0]}${row + 1}</definedName>'
    out.append(Trick("answer_name_defined_twice", sub(good, BOOK, "</definedNames>", twice + "</definedNames>"),
                     "refused", "damaged"))

    # What is hidden but empty shows nothing and hides nothing: read as the file shows it.
    note_col = col + 1
    out.append(Trick("empty_notes_column_hidden", col_attrs(good, note_col, lambda a: {**a, "hidden": "1"}),
                     "accepted", answers=answers))

    # 2. Two members that are one part to a reader: case, "\", %-encoding, a leading "/".
    twin = fuzz.set_cells(good, {cells[n]: MET if a == "met" else NOT_MET for n, a in flipped.items()})
    for trick, alias in (("zip_case_twin", "xl/worksheets/Sheet1.xml"),
                         ("zip_backslash_twin", "xl\\worksheets\\sheet1.xml"),
                         ("zip_percent_twin", "xl/worksheets/sheet%31.xml"),
                         ("zip_rooted_twin", "/xl/worksheets/sheet1.xml")):
        m = parts(good)
        m[alias] = parts(twin)[SHEET]
        out.append(Trick(trick, repack(m), "refused", "duplicate_member" if trick != "zip_rooted_twin"
                         else "unsafe_member_name"))

    # 3. The package's relationships name another workbook part than xl/workbook.xml: it is the one read
    #    (Excel and LibreOffice open it); xl/workbook.xml is a decoy pointing at other answers.
    m = parts(good)
    m["xl/book2.xml"] = m[BOOK]
    m["xl/_rels/book2.xml.rels"] = m["xl/_rels/workbook.xml.rels"].replace(b"worksheets/sheet1.xml",
                                                                            b"worksheets/shown.xml")
    m["xl/worksheets/shown.xml"] = parts(twin)[SHEET]
    m["_rels/.rels"] = m["_rels/.rels"].replace(b'Target="xl/workbook.xml"', b'Target="xl/book2.xml"')
    m["[Content_Types].xml"] = m["[Content_Types].xml"].replace(
        b'<Override PartName="/xl/workbook.xml"', b'<Override PartName="/xl/book2.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/workbook.xml"')
    m["[Content_Types].xml"] = m["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/worksheets/shown.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.worksheet+xml"/></Types>')
    out.append(Trick("rels_point_at_other_workbook", repack(m), "accepted", answers=flipped))
    m = parts(good)
    m["_rels/.rels"] = m["_rels/.rels"].replace(b"</Relationships>", b'<Relationship Id="rId9" Type="http://schemas.'
                                                b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                                                b'Target="xl/workbook.xml"/></Relationships>')
    out.append(Trick("rels_two_workbooks", repack(m), "refused", "damaged"))
    m = parts(good)
    del m["_rels/.rels"]
    out.append(Trick("rels_missing", repack(m), "refused", "not_workbook"))

    # 4. Text a cell does not display: an inline string's phonetic guide; a shared string's too.
    phon = f'<c r="{ref}" t="inlineStr"><is><t></t><rPh sb="0" eb="0"><t>{MET}</t></rPh></is></c>'
    out.append(Trick("inline_phonetic_answer", fuzz.set_cells(good, {ref: phon[len(f'<c r="{ref}"'):]}, raw=True),
                     "accepted", code="blank_answer", answers={**answers, name: "blank"}))
    data = edit(good, "xl/sharedStrings.xml", lambda t: t.replace("</sst>", f"<si><t></t><rPh sb=\"0\" eb=\"0\"><t>"
                                                                       f"{MET}</t></rPh></si></sst>"))
    count = len(re.findall(r"<si>", parts(data)["xl/sharedStrings.xml"].decode()))
    data = fuzz.set_cells(data, {ref: f' t="s"><v>{count - 1}</v></c>'}, raw=True)
    out.append(Trick("shared_phonetic_answer", data, "accepted", code="blank_answer",
                     answers={**answers, name: "blank"}))

    # 5. The hidden identification pasted from another unit: the form still shows the first unit's name.
    if other_token is not None:
        other_id, token = other_token
        ident = parts(good)["xl/sharedStrings.xml"].decode()
        own_id = re.search(r"<si><t>unit_id</t></si><si><t>([^<]+)</t></si>", ident)[1]
        own_token = re.search(r"<si><t>token</t></si><si><t>([^<]+)</t></si>", ident)[1]
        data = edit(good, "xl/sharedStrings.xml", lambda t: t.replace(f"<t>{own_id}</t>", f"<t>{other_id}</t>", 1)
                    .replace(f"<t>{own_token}</t>", f"<t>{token}</t>", 1))
        out.append(Trick("identity_pasted_from_other_unit", data, "refused", "unit_mismatch", "A6"))
    return out
