"""What a spreadsheet program shows of a text cell: its number format's text section, and whether
its letters can be told from the background.

A value is recorded only when a person sees it (tracker.intake.xlsx `XlsxBook.hidden`); these are
the rules for the cell's own look. They are cheap and exact where they fire: a format whose text
section prints nothing or other words (";;;", ';;;"Đáp ứng"'), and letters whose colour is the
fill's (white on white, yellow on the input cells' yellow), by the WCAG contrast ratio of the two
colours. Colours are resolved as Excel does: rgb, the indexed palette (or the workbook's own),
theme colours with their tint, and "auto". Conditions of conditional formats are not evaluated:
a rule that could hide the text counts as hiding it.
"""
from __future__ import annotations

import colorsys
import functools

from tracker.intake.normalize import clean_text

# Below this contrast ratio (1 = the same colour, 21 = black on white) letters cannot be read:
# white on the forms' light yellow is 1.1, light grey (#D9D9D9) on white 1.4.
MIN_CONTRAST = 1.2
MIN_FONT_PT = 4.0

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)

# Excel's default indexed colours (0-63; 64 is the system text colour, 65 its background).
PALETTE = tuple(int(h, 16) for h in (
    "000000 FFFFFF FF0000 00FF00 0000FF FFFF00 FF00FF 00FFFF "
    "000000 FFFFFF FF0000 00FF00 0000FF FFFF00 FF00FF 00FFFF "
    "800000 008000 000080 808000 800080 008080 C0C0C0 808080 "
    "9999FF 993366 FFFFCC CCFFFF 660066 FF8080 0066CC CCCCFF "
    "000080 FF00FF FFFF00 00FFFF 800080 800000 008080 0000FF "
    "00CCFF CCFFFF CCFFCC FFFF99 99CCFF FF99CC CC99FF FFCC99 "
    "3366FF 33CCCC 99CC00 FFCC00 FF9900 FF6600 666699 969696 "
    "003366 339966 003300 333300 993300 993366 333399 333333").split())
_NAMED = {"black": 0x000000, "white": 0xFFFFFF, "red": 0xFF0000, "green": 0x00FF00, "blue": 0x0000FF,
          "yellow": 0xFFFF00, "magenta": 0xFF00FF, "cyan": 0x00FFFF}


# ---------------------------------------------------------------------- number formats
def _sections(code: str) -> list[str]:
    """A format code split at its unquoted semicolons."""
    out, cur, i, n = [], [], 0, len(code)
    while i < n:
        ch = code[i]
        if ch == '"':
            j = code.find('"', i + 1)
            j = n - 1 if j == -1 else j
            cur.append(code[i:j + 1])
            i = j + 1
            continue
        if ch in "\\_*" and i + 1 < n:
            cur.append(code[i:i + 2])
            i += 2
            continue
        if ch == "[":
            j = code.find("]", i)
            j = n - 1 if j == -1 else j
            cur.append(code[i:j + 1])
            i = j + 1
            continue
        if ch == ";":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _render(section: str, text: str) -> tuple[str, int | None]:
    """(what a format section prints for `text` at "@", the colour its [Colour] tag sets or None)."""
    out, colour, i, n = [], None, 0, len(section)
    while i < n:
        ch = section[i]
        if ch == '"':
            j = section.find('"', i + 1)
            j = n if j == -1 else j
            out.append(section[i + 1:j])
            i = j + 1
        elif ch == "\\" and i + 1 < n:
            out.append(section[i + 1])
            i += 2
        elif ch == "_" and i + 1 < n:       # a space as wide as the next character
            out.append(" ")
            i += 2
        elif ch == "*" and i + 1 < n:       # the next character repeated to fill the cell
            out.append(section[i + 1])
            i += 2
        elif ch == "[":
            j = section.find("]", i)
            j = n if j == -1 else j
            tag = section[i + 1:j].strip().lower()
            if tag in _NAMED:
                colour = _NAMED[tag]
            elif tag.startswith("color") and tag[5:].isdigit() and 1 <= int(tag[5:]) <= 56:
                colour = PALETTE[int(tag[5:]) + 7]
            i = j + 1
        elif ch == "@":
            out.append(text)
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out), colour


@functools.lru_cache(maxsize=256)
def _text_section(code: str) -> str | None:
    """The section that formats text: the fourth, or a lone section holding "@"; None: text as typed."""
    parts = _sections(code)
    if len(parts) >= 4:
        return parts[3]
    if len(parts) == 1 and "\x00" in _render(parts[0], "\x00")[0]:
        return parts[0]
    return None


def shown_text(code: str | None, text: str) -> tuple[str, int | None]:
    """(the text a cell holding `text` shows under format `code`, the colour the format sets)."""
    section = _text_section(code) if code else None
    if section is None:
        return text, None
    return _render(section, text)


def number_hidden(code: str | None, value: float) -> bool:
    """Whether a format prints nothing for a number (";;;", "0;;" for a negative, ...)."""
    if not code:
        return False
    parts = _sections(code)
    section = parts[0]
    if value < 0 and len(parts) >= 2:
        section = parts[1]
    elif value == 0 and len(parts) >= 3:
        section = parts[2]
    return _render(section, "")[0].strip() == "" and "0" not in section and "#" not in section \
        and "?" not in section and "e" not in section.lower() and not any(c in section.lower() for c in "dmyhs")


def format_changes(code: str | None, text: str) -> bool:
    """Whether the text shown differs from the text held (spaces and invisible characters aside)."""
    shown, _ = shown_text(code, text)
    return shown != text and clean_text(shown) != clean_text(text)


# ---------------------------------------------------------------------- colours
class Colours:
    """Resolves colour specs (("rgb", "FFRRGGBB") | ("indexed", n) | ("theme", n) | ("auto",), each with a
    tint) to RGB triples, with the workbook's palette and theme."""

    def __init__(self, palette: tuple[int, ...] | None = None, theme=None):
        self.palette = palette or PALETTE
        self._theme = theme          # a callable giving the theme's colours (read only when needed)

    def rgb(self, spec, default: tuple[int, int, int]) -> tuple[int, int, int] | None:
        """The colour, `default` for none or "auto"; None when it cannot be told."""
        if spec is None:
            return default
        kind, value, tint = spec
        if kind == "rgb":
            try:
                n = int(value[-6:], 16)
            except ValueError:
                return None
        elif kind == "indexed":
            if value == 64:
                return BLACK
            if value == 65:
                return WHITE
            if not 0 <= value < len(self.palette):
                return None
            n = self.palette[value]
        elif kind == "theme":
            colours = self._theme() if self._theme else None
            # Excel numbers theme colours lt1, dk1, lt2, dk2, accents..., not in the theme's own order.
            order = (1, 0, 3, 2)
            index = order[value] if value < 4 else value
            if not colours or not 0 <= index < len(colours):
                return None
            n = colours[index]
        else:
            return default
        r, g, b = (n >> 16) & 255, (n >> 8) & 255, n & 255
        return _tinted((r, g, b), tint) if tint else (r, g, b)


def _tinted(rgb: tuple[int, int, int], tint: float) -> tuple[int, int, int]:
    h, lum, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    lum = lum * (1 + tint) if tint < 0 else lum * (1 - tint) + tint
    return tuple(round(c * 255) for c in colorsys.hls_to_rgb(h, lum, s))


def _luminance(rgb: tuple[int, int, int]) -> float:
    def lin(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@functools.lru_cache(maxsize=4096)
def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = _luminance(a), _luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def unreadable(font: tuple[int, int, int] | None, fill: tuple[int, int, int] | None) -> bool:
    return font is not None and fill is not None and contrast(font, fill) < MIN_CONTRAST
