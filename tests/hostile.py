"""Hostile text: what units and staff may type, paste or name a file, that a writer must survive.

One corpus, fed through the real pipeline by tests/test_hostile.py (units.csv, filled returns,
hand edits in the master, file names) so that every kind of file the project writes is built
from it and checked.
"""
from __future__ import annotations

import re
import unicodedata

# Shapes xlsxwriter takes for rich text in XML ("<r>...</r>": written raw).
RICH = ["<r>giả rich</r>", "<r><t>chữ</t></r>", "<r><rPr><b/></rPr><t>đậm</t></r>", "<r>", "</r>",
        "<r>mở</r", "<r></r>", "<r> cách </r>", "<r>&amp; <c/> ]]></r>"]
# What a spreadsheet would run: formulas, DDE, links.
FORMULAS = ['=HYPERLINK("http://evil.example","bấm")', "=1+1", "+1+1", "-2+3", "@SUM(A1:A2)",
            "=cmd|' /C calc'!A0", "'=quoted"]
# Excel's own escapes, typed literally.
ESCAPES = ["_x0041_", "_x005F_x0041_", "giữa_x000D_dòng", "_xD83D_", "_x", "_x0041_x0042_", "SKU_x0041\x0b"]
# Beyond the Basic Multilingual Plane, right-to-left marks and overrides, zero-width characters.
ASTRAL = ["😀 cười 👍🏽", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠀀𠀁", "\u202eexe.xlsx", "\u200fRTL\u200e \u2067isolate\u2069", "a\u200bb\u2060c\ufeff"]
# What a unit's old machine or a Mac gives: decomposed accents, TCVN3 bytes read as Latin-1, VNI.
ENCODINGS = [unicodedata.normalize("NFD", "Nguyễn Thị Thanh Vân, Phường Hoàn Kiếm"),
             "Ph\u00adêng Hoµn KiÕm", "NguyÔn ThÞ Thanh V©n", "Phöôøng Hoaøn Kieám"]
# Names that sheet names and formulas must quote or refuse.
NAMES = ["[Sở]: *?/\\ ban", "O'Brien 'nháy'", 'trích "dẫn" ""', "History", "'đầu cuối'", "Tổng hợp"]
# Spaces, line breaks and characters no XML may hold.
SPACES = ["  lề trái", "lề phải  ", "dòng\nmới\r\nnữa\rcũ", "\ttab\t", "\u00a0cứng\u00a0", " "]
CONTROLS = ["chuông\x07", "esc\x1b[2J xóa màn hình", "nul\x00", "vt\x0b ff\x0c", "\x7fdel \x85nel \x9bcsi",
            "\ufffe\uffff"]
SURROGATES = ["lẻ \ud800 đầu", "\udcff cuối", "\ud83d\ude00 cặp rời"]
LONG = ["x" * 40000, "ư" * 32767, "😀" * 20000, "<r>" + "<&>" * 12000 + "</r>"]

# Text a unit can type or paste in a cell of its form (Excel writes control characters as _x0007_).
TYPED = RICH + FORMULAS + ESCAPES + ASTRAL + ENCODINGS + NAMES + SPACES + LONG + CONTROLS
# Everything: what may also reach us through file names, emails and code.
EVERYTHING = TYPED + SURROGATES

# Unit names units.csv accepts (no control character, NFC, one line), for the registry.
UNIT_NAMES = [n for n in RICH + FORMULAS + ESCAPES + ASTRAL + ENCODINGS[1:] + NAMES
              if n.strip() and n == unicodedata.normalize("NFC", n) and not re.search("[\x00-\x08\x0b-\x1f\x7f]", n)]
# File names a unit's attachment may have on a disk (no "/", no NUL).
FILE_NAMES = ["a\x1b[2J.xlsx", "dòng\nmới.xlsx", "<r>tệp.xlsx", "\u202exslx.exe.xlsx", "=1+1.xlsx",
              "_x0041_.xlsx", "chuông\x07.xlsx", "😀.xlsx", "[Sở]: *?.xlsx", "cr\rnối.xlsx", "\x9b31mđỏ.xlsx"]
