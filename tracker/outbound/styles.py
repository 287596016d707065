"""Formats shared by every workbook we write: Nghị định 30/2020/NĐ-CP, Phụ lục I.

Times New Roman, black; body 13 pt; Quốc hiệu 12 pt bold capitals, Tiêu ngữ 13 pt bold;
A4 portrait with margins top/bottom 20 mm, left 30 mm, right 15 mm.

The unit form prints at 100 %: its workbook's default font is Times New Roman 12 (Excel and
LibreOffice size columns by the default font's digit width, 8 px = 6 pt for it in both, while
Calibri's stand-in on a machine without Calibri is a third wider), its columns are given in
pixels and its rows in points, and text is measured with the font's real advance widths.
"""
import functools
import math
import unicodedata

from tracker.outbound.sheets import MAX_ROW_PT, SafeSheet

FONT = "Times New Roman"
BODY_PT = 13
INPUT_TINT = "#FFF2CC"   # light yellow: "type here"
HEADER_TINT = "#D9E1F2"
MM = 1 / 25.4            # inches per millimetre

# Workbook options for every file: unit or registry text never turns into a formula or a link.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False,
                    "strings_to_numbers": False}


# ---------------------------------------------------------------------- the unit form's page
FORM_WORKBOOK_OPTIONS = {**WORKBOOK_OPTIONS,
                         "default_format_properties": {"font_name": FONT, "font_size": 12, "font_scheme": "none"},
                         "default_column_width": 72}     # pixels of a default column (8.43 digits) of that font
FORM_BASE = {"font_scheme": "none"}   # not tied to the theme's font, which is Calibri
PT_PER_PX = 0.75
PAGE_W, PAGE_H = 595.28, 841.89        # A4, points
MARGINS_MM = {"left": 30, "right": 15, "top": 20, "bottom": 20, "header": 10}
PRINT_W = PAGE_W - (MARGINS_MM["left"] + MARGINS_MM["right"]) * 72 / 25.4      # 467.7 pt
PRINT_H = PAGE_H - (MARGINS_MM["top"] + MARGINS_MM["bottom"]) * 72 / 25.4      # 728.5 pt
PAGE_SAFETY = 4          # points of a page left free: printers and Excel round row heights
LINE = 1.16              # line height per point of font size (Times New Roman: 1.15 in LibreOffice and Excel)
CELL_PAD_V = 1.5         # points above and below a cell's text
CELL_PAD_H = 3.0         # points left and right of a cell's text
WRAP_SAFETY = 1.04       # text measured 4 % wider than the font says: screen hinting, kerning


class FormSheet(SafeSheet):
    """A worksheet whose page header (the page number) is left off the first page, as
    Nghị định 30 numbers pages from the second (xlsxwriter has no option for `differentFirst`)."""

    def _write_header_footer(self) -> None:
        if not self.header_footer_changed:
            return super()._write_header_footer()
        self._xml_start_tag("headerFooter", [("differentFirst", 1)])
        if self.header:
            self._write_odd_header()
        if self.footer:
            self._write_odd_footer()
        self._xml_end_tag("headerFooter")


def a4_form(ws, *, scale: int = 100, repeat: tuple[int, int] | None = None, breaks: list[int] = ()) -> None:
    """The signed form's page: A4 at `scale` %, the decree's margins, page numbers from page 2 at the
    top centre, black-and-white (no fills on paper), the table header `repeat`ed on every page
    after it, and page `breaks` (first row of each new page) keeping blocks together."""
    mm = 1 / 25.4
    ws.set_paper(9)
    ws.set_portrait()
    ws.set_margins(left=MARGINS_MM["left"] * mm, right=MARGINS_MM["right"] * mm, top=MARGINS_MM["top"] * mm,
                   bottom=MARGINS_MM["bottom"] * mm)
    ws.set_print_scale(scale)
    ws.set_header(f'&C&"{FONT},Regular"&13&P', {"margin": MARGINS_MM["header"] * mm})
    ws.print_black_and_white()
    if repeat is not None:
        ws.repeat_rows(*repeat)
    if breaks:
        ws.set_h_pagebreaks(list(breaks))


def char_width(ch: str, bold: bool = False, italic: bool = False) -> float:
    """Advance width of a character of Times New Roman, in em."""
    table = _widths(bold, italic)
    w = table.get(ch)
    if w is None:
        parts = unicodedata.normalize("NFD", ch)
        base = parts[0]
        if "\u031b" in parts:                       # horn: ơ, ư and their tones
            base = {"o": "ơ", "O": "Ơ", "u": "ư", "U": "Ư"}.get(base, base)
        w = table.get(base)
        if w is None:
            w = 0.0 if unicodedata.combining(ch) else 0.5
        table[ch] = w                               # measured once
    return w


@functools.cache
def _widths(bold: bool, italic: bool) -> dict[str, float]:
    from tracker.outbound import fontmetrics as fm

    table = (fm.BOLD_ITALIC if italic else fm.BOLD) if bold else (fm.ITALIC if italic else fm.REGULAR)
    return {ch: w / fm.UPEM for ch, w in table.items()}


@functools.lru_cache(maxsize=1 << 12)
def _em(text: str, bold: bool, italic: bool) -> float:
    return sum(char_width(c, bold, italic) for c in text)


def text_width(text: str, pt: float = BODY_PT, bold: bool = False, italic: bool = False) -> float:
    """Width in points of one line of text."""
    return _em(text, bold, italic) * pt


@functools.lru_cache(maxsize=1 << 11)       # the same texts are measured for every unit
def wrap_lines(text: str, width_pt: float, pt: float = BODY_PT, bold: bool = False, italic: bool = False) -> int:
    """Lines `text` takes in a cell `width_pt` wide, wrapped at spaces as Excel and LibreOffice do
    (explicit line breaks kept). Measured a little wide, so it errs towards one line too many."""
    room = max(1.0, width_pt - 2 * CELL_PAD_H)
    space = char_width(" ", bold, italic) * pt * WRAP_SAFETY
    lines = 0
    for para in str(text).split("\n"):
        lines += 1
        used = None
        # leading spaces (a first-line indent) belong to the first word
        stripped = para.lstrip(" ")
        words = stripped.split(" ") if stripped else [""]
        words[0] = " " * (len(para) - len(stripped)) + words[0]
        for word in words:
            w = text_width(word, pt, bold, italic) * WRAP_SAFETY
            if used is None:
                used = w
            elif used + space + w <= room:
                used += space + w
            else:
                lines += 1
                used = w
            while used > room:                      # a word longer than the line breaks anywhere
                lines += 1
                used -= room
    return lines


def wrap_text(text: str, width_pt: float, pt: float = BODY_PT, bold: bool = False) -> list[str]:
    """The lines of `text` in a cell `width_pt` wide, as wrap_lines counts them (to cut a text
    where a line ends)."""
    room = max(1.0, width_pt - 2 * CELL_PAD_H)
    space = char_width(" ", bold) * pt * WRAP_SAFETY
    out: list[str] = []
    for para in str(text).split("\n"):
        line, used = "", None
        for word in para.split(" "):
            w = text_width(word, pt, bold) * WRAP_SAFETY
            if used is not None and used + space + w <= room:
                line, used = f"{line} {word}", used + space + w
                continue
            if used is not None:
                out.append(line)
            line, used = "", 0.0
            for ch in word:                         # a word longer than the line breaks anywhere
                cw = text_width(ch, pt, bold) * WRAP_SAFETY
                if line and used + cw > room:
                    out.append(line)
                    line, used = "", 0.0
                line, used = line + ch, used + cw
        out.append(line)
    return out


def form_row_height(lines: int, pt: float = BODY_PT) -> float:
    """Points for `lines` lines of `pt` text, in whole pixels (Excel draws rows in pixels), never
    above Excel's highest row (a text that long is cut on paper; the cell still holds it)."""
    return min(MAX_ROW_PT, px_round(lines * pt * LINE + 2 * CELL_PAD_V))


def px_round(points: float) -> float:
    return math.ceil(points / PT_PER_PX - 1e-9) * PT_PER_PX


def a4_portrait(ws, *, fit_one_page: bool = True) -> None:
    ws.set_paper(9)
    ws.set_portrait()
    ws.set_margins(left=30 * MM, right=15 * MM, top=20 * MM, bottom=20 * MM)
    ws.center_horizontally()
    if fit_one_page:
        ws.fit_to_pages(1, 1)


def a4_landscape(ws) -> None:
    ws.set_paper(9)
    ws.set_landscape()
    ws.set_margins(left=20 * MM, right=15 * MM, top=20 * MM, bottom=20 * MM)
    ws.fit_to_pages(1, 0)


# ---------------------------------------------------------------------- working sheets
# The master, the merge report and the report's lists: tables printed on A4 landscape at their
# own size (columns given in pixels of the workbook's default font, Times New Roman 12 as in the
# unit form, so Excel and LibreOffice lay them out alike), pages numbered, the header row again
# on every page, rows as high as their wrapped text (neither program grows a row on opening).
SHEET_WORKBOOK_OPTIONS = FORM_WORKBOOK_OPTIONS
SHEET_MM = {"left": 20, "right": 15, "top": 18, "bottom": 18, "header": 8, "footer": 8}
LANDSCAPE_PX = int((PAGE_H - (SHEET_MM["left"] + SHEET_MM["right"]) * 72 / 25.4) / PT_PER_PX)    # 990
PORTRAIT_PX = int((PAGE_W - (SHEET_MM["left"] + SHEET_MM["right"]) * 72 / 25.4) / PT_PER_PX)     # 661
SHEET_PT = 11            # table text
PAGE_NUMBER = f'&C&"{FONT},Regular"&10Trang &P/&N'


def a4_sheet(ws, *, landscape: bool = True, repeat: int | tuple[int, int] | None = None,
             area: tuple[int, int, int, int] | None = None, breaks: list[int] = ()) -> None:
    """A working sheet's page: A4, `area` (first row, first col, last row, last col) printed a
    page wide (the columns are made to fit at 100 %), its `repeat` rows atop every page, "Trang
    n/N" at the foot of each page."""
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(left=SHEET_MM["left"] * MM, right=SHEET_MM["right"] * MM, top=SHEET_MM["top"] * MM,
                   bottom=SHEET_MM["bottom"] * MM)
    ws.set_footer(PAGE_NUMBER, {"margin": SHEET_MM["footer"] * MM})
    ws.fit_to_pages(1, 0)
    if repeat is not None:
        ws.repeat_rows(*((repeat, repeat) if isinstance(repeat, int) else repeat))
    if area is not None:
        ws.print_area(*area)
    if breaks:
        ws.set_h_pagebreaks(list(breaks))


def cell_lines(text: str, px: float, pt: float = SHEET_PT, bold: bool = False) -> int:
    """Lines `text` takes in a column `px` pixels wide."""
    if not text:
        return 1
    text = str(text)
    # No character of Times New Roman is wider than an em (with the safety margin): a text that short
    # is one line, unmeasured (thousands of names and domains in a national master).
    if "\n" not in text and len(text) * pt * WRAP_SAFETY <= px * PT_PER_PX - 2 * CELL_PAD_H:
        return 1
    return wrap_lines(text, px * PT_PER_PX, pt, bold)


def sheet_row_height(lines: int, pt: float = SHEET_PT) -> float:
    """Points for `lines` lines of `pt` text, never above Excel's maximum."""
    return min(MAX_ROW_PT, form_row_height(max(1, lines), pt))


def max_lines(pt: float = SHEET_PT) -> int:
    """The most lines of `pt` text a row can hold."""
    return int((MAX_ROW_PT - 2 * CELL_PAD_V) / (pt * LINE))


def split_to_rows(text: str, px: float, pt: float = SHEET_PT, most: int | None = None) -> list[str]:
    """`text` cut (where its lines end) into pieces that each fit a row of a column `px` wide."""
    most = most or max_lines(pt) - 1         # a line spare: the measure is an estimate
    lines = wrap_text(text, px * PT_PER_PX, pt)
    if len(lines) <= most:
        return [text]
    return ["\n".join(lines[i:i + most]) for i in range(0, len(lines), most)]


class Styles:
    """Named formats for one workbook (xlsxwriter formats belong to their workbook); `base`
    properties go into every format (the unit form's FORM_BASE)."""

    def __init__(self, wb, base: dict | None = None):
        self._wb = wb
        self._cache = {}
        self._base = base or {}

    def get(self, name: str = "body", **extra):
        key = (name, tuple(sorted(extra.items())))
        if key not in self._cache:
            props = {"font_name": FONT, "font_size": BODY_PT, "font_color": "#000000",
                     "valign": "top", "text_wrap": True, "locked": True, **self._base}
            props.update(_NAMED[name])
            props.update(extra)
            self._cache[key] = self._wb.add_format(props)
        return self._cache[key]


_NAMED = {
    "body": {"align": "justify"},
    "left": {"align": "left"},
    "center": {"align": "center"},
    "bold": {"bold": True, "align": "left"},
    "bold_center": {"bold": True, "align": "center"},
    "quoc_hieu": {"bold": True, "align": "center", "font_size": 12},
    "tieu_ngu": {"bold": True, "align": "center", "font_size": 13, "underline": 1},
    "italic_center": {"italic": True, "align": "center"},
    "small": {"align": "left", "font_size": 11},
    "small_bold_italic": {"align": "left", "font_size": 12, "bold": True, "italic": True},
    "th": {"bold": True, "align": "center", "valign": "vcenter", "border": 1, "bg_color": HEADER_TINT},
    "td": {"border": 1, "align": "left", "valign": "vcenter"},
    "td_center": {"border": 1, "align": "center", "valign": "vcenter"},
    "input": {"locked": False, "bg_color": INPUT_TINT, "align": "left", "valign": "vcenter"},
    "input_cell": {"locked": False, "bg_color": INPUT_TINT, "border": 1, "align": "center",
                   "valign": "vcenter", "bold": True},
    "input_td": {"locked": False, "bg_color": INPUT_TINT, "border": 1, "align": "left",
                 "valign": "vcenter"},
    "input_italic": {"locked": False, "bg_color": INPUT_TINT, "italic": True, "align": "center"},
    "input_bold_center": {"locked": False, "bg_color": INPUT_TINT, "bold": True, "align": "center"},
    # The unit form: nothing printed in colour; inputs are yellow only while empty (conditional
    # formats in unit_form), so a filled form prints clean even where black-and-white is ignored.
    "f_th": {"bold": True, "align": "center", "valign": "vcenter", "border": 1},
    "f_answer": {"locked": False, "border": 1, "align": "center", "valign": "vcenter", "bold": True},
    "f_note": {"locked": False, "border": 1, "align": "left", "valign": "vcenter"},
    "f_box": {"locked": False, "border": 1, "align": "left", "valign": "top"},
    "f_domain": {"locked": False, "align": "left", "valign": "vcenter", "bottom": 4},
    "f_docno": {"locked": False, "align": "center"},
    "f_date": {"locked": False, "italic": True, "align": "center"},
    "f_signer": {"locked": False, "bold": True, "align": "center", "valign": "bottom"},
    "f_rule": {"align": "center", "valign": "top"},
    "f_qr_label": {"align": "right", "valign": "bottom", "font_size": 9},
}


def lines_needed(text: str, width_units: float, font_pt: float = BODY_PT, bold: bool = False) -> int:
    """Estimate wrapped lines of `text` in a cell `width_units` wide (Excel column units)."""
    # Column units per character of Times New Roman, measured on LibreOffice's PDF of the form
    # (Liberation Serif has the same metrics): 90 units hold about 100 characters of 13 pt text
    # once words wrap; bold runs about 8% wider.
    per_char = (font_pt / 13.0) * (0.97 if bold else 0.9)
    capacity = max(1.0, width_units / per_char)
    return sum(max(1, math.ceil(len(part) / capacity)) for part in str(text).split("\n"))


def row_height(lines: int, font_pt: float = BODY_PT) -> float:
    return round(lines * font_pt * 1.32 + 2, 1)
