"""Formats shared by every workbook we write: Nghị định 30/2020/NĐ-CP, Phụ lục I.

Times New Roman, black; body 13 pt; Quốc hiệu 12 pt bold capitals, Tiêu ngữ 13 pt bold;
A4 portrait with margins top/bottom 20 mm, left 30 mm, right 15 mm.
"""
import math

FONT = "Times New Roman"
BODY_PT = 13
INPUT_TINT = "#FFF2CC"   # light yellow: "type here"
HEADER_TINT = "#D9E1F2"
MM = 1 / 25.4            # inches per millimetre

# Workbook options for every file: unit or registry text never turns into a formula or a link.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False,
                    "strings_to_numbers": False}


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


class Styles:
    """Named formats for one workbook (xlsxwriter formats belong to their workbook)."""

    def __init__(self, wb):
        self._wb = wb
        self._cache = {}

    def get(self, name: str = "body", **extra):
        key = (name, tuple(sorted(extra.items())))
        if key not in self._cache:
            props = {"font_name": FONT, "font_size": BODY_PT, "font_color": "#000000",
                     "valign": "top", "text_wrap": True, "locked": True}
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
