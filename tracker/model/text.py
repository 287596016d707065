"""Text that units and staff typed, made fit for where it goes: a workbook cell, an XML part, a terminal.

Whatever a unit types (a note, a file name, a unit name in units.csv) reaches our workbooks,
documents and screen. Each place has its own hazards: Excel refuses a cell over 32,767 characters
and an XML part cannot hold a lone surrogate or a control character; a terminal obeys the escape
sequences a file name may carry ("\\x1b[2J" clears the screen) and starts a new line at "\\n".
The ledger keeps the text whole; these functions shape what is shown.
"""
from __future__ import annotations

import re

CELL_MAX = 32767            # Excel: characters (UTF-16 code units) in a cell
CUT_MARK = (" […] (đã cắt bớt {n} ký tự: một ô Excel chỉ chứa được 32.767 ký tự; bản đầy đủ được giữ trong "
            "sổ ghi ledger.sqlite)")

_SURROGATE = re.compile("[\ud800-\udfff]")
# Characters no XML 1.0 part may hold (tab, line feed and carriage return are text).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# What a terminal may act on or that changes how a line reads: C0 and C1 controls (ESC starts a
# sequence; the C1 CSI "\x9b" is one on some terminals), DEL, and the bidirectional overrides,
# embeddings, isolates and marks that reorder what follows ("gpj.exe" shown as "exe.jpg").
_TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_BIDI = re.compile("[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_EXCEL_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def utf16_len(text: str) -> int:
    """Length as Excel counts it: characters beyond U+FFFF (emoji) count two."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF) if not text.isascii() else len(text)


def whole_chars(text: str) -> str:
    """`text` with no lone surrogate, which no UTF-8 writer takes: a high and a low surrogate kept as
    two code points (JSON's "\\ud83d\\ude00") joined into their character, any other U+FFFD."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def xml_safe(text: str) -> str:
    """`text` fit for any XML part: whole characters, control characters dropped (tab and line
    breaks kept)."""
    return _XML_ILLEGAL.sub("", whole_chars(text))


def fit_cell(text: str, limit: int = CELL_MAX) -> str:
    """`text` as one Excel cell can hold it: whole, or cut to `limit` characters (UTF-16 units) with
    the mark saying how much was cut (never inside a character beyond U+FFFF)."""
    if len(text) <= limit // 2 or utf16_len(text) <= limit:
        return text
    # The mark's count is of characters; reserve room for its longest form.
    room = limit - len(CUT_MARK.format(n=f"{len(text):,}"))
    kept, used = [], 0
    for ch in text:
        w = 2 if ord(ch) > 0xFFFF else 1
        if used + w > room:
            break
        kept.append(ch)
        used += w
    head = "".join(kept)
    return head + CUT_MARK.format(n=f"{len(text) - len(head):,}".replace(",", "."))


def cell_text(text: str) -> str:
    """What a cell of ours shows for `text` (tracker.outbound.sheets writes it so): whole
    characters, cut to what a cell holds."""
    return fit_cell(whole_chars(text))


def excel_unescape(text: str) -> str:
    """Text of a cell as Excel means it: its _xHHHH_ escapes decoded (xlsxwriter and Excel write a
    control character as _x0007_, a literal "_x0041_" as _x005F_x0041_), code units paired into
    characters, lone halves as U+FFFD."""
    if "_x" not in text:
        return text
    return whole_chars(_EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))


def for_terminal(text: str, keep: str = "") -> str:
    """`text` safe to print: every control, bidirectional formatting character and lone surrogate
    shown as its escape (\\x1b, \\n, \\u202e), so that a file name can neither act on the terminal
    nor start a line of its own nor reorder or hide what follows. Characters in `keep` ("\\n" for
    a message of several lines) are left as they are."""
    text = str(text)
    if text.isprintable() and not _BIDI.search(text):
        return text

    def shown(m: re.Match) -> str:
        ch = m.group()
        if ch in keep:
            return ch
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch) or (
            f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
    return _TERMINAL.sub(shown, text)


def one_line(text: str) -> str:
    """A name (of a file, a unit, a sender) readable in a document: on one line, each control or
    bidirectional formatting character a space, whole characters."""
    text = whole_chars(str(text))
    if text.isprintable() and not _BIDI.search(text):
        return text
    return _TERMINAL.sub(" ", text)
