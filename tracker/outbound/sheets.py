"""The workbook and worksheet every .xlsx we write is made with: any text is written as text.

xlsxwriter writes most strings faithfully (XML escapes, _xHHHH_ for control characters, xml:space
for edge spaces), with special cases a unit's text can fall into:
- a string that starts with "<r>" and ends with "</r>" is taken for rich text already in XML and
  written raw, in the shared strings and in constant_memory's inline strings: a note typed as
  "<r>x</r>" made the workbook not well-formed, and Excel "repaired" it at every rebuild;
- a string over Excel's 32,767 characters is cut without a word;
- a lone surrogate (Python holds them; no UTF-8 writer takes them) stops the whole workbook;
- a formula's cached string value gets no control-character escape: raw in the XML, not well-formed;
- its _xHHHH_ escapes miss an underscore that opens a sequence closed by the next one's opener
  ("_x0041_x0042_") or by an escaped control character ("_x0041" then a BEL), which Excel, reading
  left to right, then decodes: the cell shows other text than was typed.

SafeSheet writes every string through `stored` (a rich-looking text as one plain run, so that
xlsxwriter escapes it and Excel shows it as typed; a long one cut with a mark saying so; whole
characters), comments and formula values likewise, and escapes with `excel_escape`, in the sheets
and in the shared strings. SafeWorkbook gives every sheet that class and refuses any other, and
cleans the document properties: tests/test_hostile.py checks that no writer of the project makes a
workbook any other way. The hooks into xlsxwriter (_write_string, _escape_control_characters, the
packager) are internals: pyproject.toml keeps xlsxwriter below 4 and the tests compare bytes.
"""
from __future__ import annotations

import re
from xml.sax.saxutils import escape

import xlsxwriter
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.worksheet import Worksheet

from tracker.model.text import CELL_MAX, cell_text, fit_cell, utf16_len, whole_chars, xml_safe

MAX_ROW_PT = 409         # Excel's highest row, in points (tracker.outbound.styles measures to it)
MAX_ROW_PX = int(MAX_ROW_PT * 4 / 3)      # the same in xlsxwriter's pixels (545: 408.75 points)


# What Excel writes as _xHHHH_ (xlsxwriter's set); an underscore that would open such a sequence.
_ESCAPED = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_OPENER = re.compile("_(?=x[0-9A-Fa-f]{4}(?:_|[\x00-\x08\x0b-\x1f\ufffe\uffff]))")


def excel_escape(text):
    """`text` in ST_Xstring's escapes, as Excel reads them back (left to right, never overlapping):
    each control character as _xHHHH_, and an underscore that would open a sequence as _x005F_,
    whether the sequence is closed by a typed underscore, by the next sequence's opener or by an
    escaped character. Where xlsxwriter's escape is right (nearly always), the same text."""
    if not isinstance(text, str) or ("_x" not in text and not _ESCAPED.search(text)):
        return text
    return _ESCAPED.sub(lambda m: f"_x{ord(m.group()):04X}_", _OPENER.sub("_x005F_", text))


def rich_looking(text: str) -> bool:
    """Would xlsxwriter take `text` for rich text in XML (and write it raw)?"""
    return text.startswith("<r>") and text.endswith("</r>")


def stored(text: str) -> str:
    """The string a SafeSheet hands xlsxwriter for a cell showing `text`.

    A rich-looking text becomes one run of rich text holding it, escaped: no run properties, so
    the cell's own format shows it (Excel writes `<r><t>` runs so too). Control characters are
    left to xlsxwriter, which escapes them once as _xHHHH_ (its write_rich_string would escape
    them twice). The fast path of generate (tracker.outbound.prototypes) swaps strings in this form."""
    text = cell_text(text)
    if rich_looking(text):
        xml = f"<r><t>{escape(text)}</t></r>"
        if utf16_len(xml) <= CELL_MAX:
            return xml
        # Its escapes take it over a cell's length: cut a little (the cut text ends with the
        # mark, so it no longer looks like rich text and is written plainly).
        return fit_cell(text, utf16_len(text) - 1)
    return text


def formula_value(value):
    """A formula's cached value as a SafeSheet writes it: text fit for XML and for a cell."""
    return fit_cell(xml_safe(value)) if isinstance(value, str) else value


class SafeSheet(Worksheet):
    """A worksheet on which no text can break the workbook (see the module's doc)."""

    _escape_control_characters = staticmethod(excel_escape)     # inline strings (constant_memory)

    # _write_string, not write_string: write(), merge_range() and write_url() reach it too.
    def _write_string(self, row, col, string, cell_format=None):
        return super()._write_string(row, col, stored(str(string)), cell_format)

    def _write_formula(self, row, col, formula, cell_format=None, value=0):
        return super()._write_formula(row, col, formula, cell_format, formula_value(value))

    def write_comment(self, row, col, comment, options=None):
        return super().write_comment(row, col, fit_cell(whole_chars(str(comment))), options)

    def set_row_pixels(self, row, height=None, cell_format=None, options=None):
        # Excel refuses a row over 409 points ("repair"); a writer measuring a unit's long text asks
        # for more. The cell still holds the text (the merge report goes on over the next rows).
        # set_row reaches xlsxwriter's rows through here.
        if height is not None and height > MAX_ROW_PX:
            height = MAX_ROW_PX
        return super().set_row_pixels(row, height, cell_format, options)


class SafeSharedStrings(SharedStrings):
    """xl/sharedStrings.xml, escaped with excel_escape."""

    _escape_control_characters = staticmethod(excel_escape)


class _Packager(Packager):
    def _write_shared_strings_file(self) -> None:     # xlsxwriter's, with SafeSharedStrings
        sst = SafeSharedStrings()
        sst.string_table = self.workbook.str_table
        if not self.workbook.str_table.count:
            return
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


class SafeWorkbook(xlsxwriter.Workbook):
    """xlsxwriter's Workbook whose sheets are all SafeSheets and whose properties are clean text."""

    worksheet_class = SafeSheet

    def _get_packager(self):
        return _Packager()

    def add_worksheet(self, name=None, worksheet_class=None):
        if worksheet_class is not None and not issubclass(worksheet_class, SafeSheet):
            raise TypeError(f"{worksheet_class.__name__} is not a SafeSheet: unit text could break the workbook")
        return super().add_worksheet(None if name is None else xml_safe(name), worksheet_class)

    def add_chartsheet(self, name=None, chartsheet_class=None):
        raise TypeError("no chartsheet is a SafeSheet")

    def set_properties(self, properties) -> None:
        super().set_properties({k: xml_safe(v) if isinstance(v, str) else v for k, v in properties.items()})
