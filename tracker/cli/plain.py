"""Text screens (lines and tables) without rich, byte for byte as rich prints them with no colours.

Importing and running rich costs about 100 ms, more than the rest of `tracker stats`. When output is
not a terminal, rich prints plain text, which this module reproduces for the one shape we use: a
`rich.table.Table` with default settings (heavy head box, padding 1, columns that wrap with an
ellipsis) and lines printed by a Console with soft_wrap=False. The algorithms below are rich's own
(rich 13-15: table.py, _wrap.py, text.py, _ratio.py), reduced to single-width characters.

`render` returns None when it cannot promise rich's output (a terminal, Windows, a character outside
the simple set, markup or emoji codes, a very narrow screen): the caller then uses rich itself.
tests/test_views.py compares both on many widths and texts.
"""
from __future__ import annotations

import os
import re
import sys

# Characters rich measures as one cell and never treats specially: printable Latin (Vietnamese
# included), Greek, Cyrillic, common punctuation and box drawing. No whitespace but the space
# (tabs, no-break spaces and line separators take other paths in rich).
_SIMPLE = re.compile(r"[\x21-\x7e\xa1-\xac\xae-\u02ff\u0370-\u0482\u1e00-\u1eff\u2010-\u2027\u2500-\u25fc ]*")
_EMOJI = re.compile(r":\S*:")   # rich replaces :name: codes
_WORD = re.compile(r"\s*\S+\s*")
_TRAILING_WS = re.compile(r"\s+$")
ELLIPSIS = "…"


class Table:
    """What views.py puts in a rich Table: a title, (header, justify) columns, rows of text."""

    def __init__(self, title: str):
        self.title = title
        self.columns: list[tuple[str, str]] = []
        self.rows: list[tuple[list[str], bool]] = []   # (cells, bold)

    def add_column(self, header: str, justify: str = "left") -> None:
        self.columns.append((header, justify))

    def add_row(self, *cells: str, bold: bool = False) -> None:
        self.rows.append((list(cells), bold))


class Line:
    """A line of text printed by rich's Console.print (wrapped to the width, never cut)."""

    def __init__(self, text: str, bold: bool = False):
        self.text, self.bold = text, bold


# ------------------------------------------------------------------------------------ where we may
def console_width(environ=os.environ) -> int:
    """rich.Console.size.width on POSIX: $COLUMNS, else the first standard stream that is a terminal, else 80."""
    width = None
    for fd in (0, 1, 2):
        try:
            width = os.get_terminal_size(fd).columns
        except (AttributeError, ValueError, OSError):
            continue
        break
    columns = environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    return width or 80


def plain_stream(stream, environ=os.environ) -> bool:
    """True when rich would print to `stream` without colours or Windows fixes (see Console.is_terminal)."""
    if os.name == "nt" or "IPython" in sys.modules:
        return False
    if not (getattr(stream, "encoding", None) or "utf-8").lower().startswith("utf"):
        return False   # rich would draw ASCII boxes
    compatible = environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "0"
    if environ.get("FORCE_COLOR") is not None:
        return environ.get("FORCE_COLOR") == ""
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):
        return True


def _simple(text: str) -> bool:
    # "[" starts markup; rich.markup.escape doubles a trailing backslash; ":name:" is an emoji code.
    return _SIMPLE.fullmatch(text) is not None and "[" not in text and "\\" not in text \
        and not _EMOJI.search(text)


# ------------------------------------------------------------------------------------ rich's text
def _divide_line(text: str, width: int, fold: bool) -> list[int]:
    """rich._wrap.divide_line for single-width text."""
    breaks: list[int] = []
    offset = 0
    pos = 0
    while (m := _WORD.match(text, pos)) is not None:
        start, pos, word = m.start(), m.end(), m.group(0)
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            if fold:
                pieces = [word[i:i + width] for i in range(0, len(word), width)]
                for i, piece in enumerate(pieces):
                    if start:
                        breaks.append(start)
                    if i == len(pieces) - 1:
                        offset = len(piece)
                    else:
                        start += len(piece)
            else:
                if start:
                    breaks.append(start)
                offset = len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    return breaks


def _truncate(line: str, width: int, overflow: str, pad: bool = False) -> str:
    """rich.text.Text.truncate (set_cell_size on single-width text is slicing)."""
    length = len(line)
    if length > width:
        line = line[:width - 1] + ELLIPSIS if overflow == "ellipsis" else line[:width]
    if pad and length < width:
        line += " " * (width - length)
    return line


def wrap(text: str, width: int, justify: str, overflow: str) -> list[str]:
    """rich.text.Text.wrap of one line of text, justify 'left', 'right' or 'default'."""
    cuts = [0, *_divide_line(text, width, overflow == "fold"), len(text)]
    lines = []
    for a, b in zip(cuts, cuts[1:]):
        line = text[a:b]
        if len(line) > width and (m := _TRAILING_WS.search(line)):   # Text.rstrip_end
            line = line[:len(line) - min(len(m.group(0)), len(line) - width)]
        if justify == "left":
            line = _truncate(line, width, overflow, pad=True)
        elif justify == "right":
            line = _truncate(line.rstrip(), width, overflow)
            line = " " * (width - len(line)) + line
        lines.append(_truncate(line, width, overflow))
    return lines


# ------------------------------------------------------------------------------------ rich's table
def _measure(text: str, width: int) -> int:
    """Maximum of rich's Measurement.get(Padding(text, (0, 1))) at `width`."""
    if width < 1:
        return 0
    if width - 2 < 1:
        return width
    return min(min(len(text), width) + 2, width)


def _column_width(cells: list[str], width: int) -> int:
    if width < 1:
        return 0
    return min(max(_measure(c, width) for c in cells), width)


def _ratio_reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """rich._ratio.ratio_reduce."""
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    result = []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * remaining / total_ratio))
            result.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _collapse(widths: list[int], max_width: int) -> list[int]:
    """rich.table.Table._collapse_widths with every column wrappable."""
    total = sum(widths)
    excess = total - max_width
    while total and excess > 0:
        widest = max(widths)
        second = max((w if w != widest else 0) for w in widths)
        ratios = [1 if w == widest else 0 for w in widths]
        if not any(ratios) or not widest - second:
            break
        widths = _ratio_reduce(excess, ratios, [min(excess, widest - second)] * len(widths), widths)
        total = sum(widths)
        excess = total - max_width
    return widths


def _table(t: Table, width: int) -> list[str] | None:
    columns = [[header] + [row[0][i] for row in t.rows] for i, (header, _) in enumerate(t.columns)]
    extra = 2 + len(columns) - 1
    room = width - extra
    widths = [_column_width(cells, room) or 1 for cells in columns]
    if sum(widths) > room:
        widths = _collapse(widths, room)
        if sum(widths) > room:
            widths = _ratio_reduce(sum(widths) - room, [1] * len(widths), widths, widths)
        widths = [_column_width(cells, w) for cells, w in zip(columns, widths)]
    table_width = sum(widths) + extra
    if min(widths) < 3 or table_width > width:
        return None   # rich's edge cases (cells without room for text): let rich draw it
    out = [line for line in wrap(t.title, table_width, "left", "fold")]
    out.append("┏" + "┳".join("━" * w for w in widths) + "┓")
    body = [([h for h, _ in t.columns], True)] + [(cells, False) for cells, _ in t.rows]
    for cells, header in body:
        wrapped = [[f" {x} " for x in wrap(text, w - 2, justify, "ellipsis")]
                   for text, w, (_, justify) in zip(cells, widths, t.columns)]
        height = max(len(c) for c in wrapped)
        for c, w in zip(wrapped, widths):
            blank = [" " * w] * (height - len(c))
            c[:] = blank + c if header else c + blank   # headers sit at the bottom, cells at the top
        bar = "┃" if header else "│"
        out.extend(bar + bar.join(c[i] for c in wrapped) + bar for i in range(height))
        if header:
            out.append("┡" + "╇".join("━" * w for w in widths) + "┩")
    out.append("└" + "┴".join("─" * w for w in widths) + "┘")
    return out


def render(blocks: list, width: int) -> str | None:
    """The text rich would print for `blocks` (Line and Table) at `width`, or None when unsure."""
    if width < 10:
        return None
    texts = [b.text for b in blocks if isinstance(b, Line)]
    for b in blocks:
        if isinstance(b, Table):
            texts += [b.title] + [h for h, _ in b.columns] + [c for cells, _ in b.rows for c in cells]
    if not all(_simple(x) and x and x == x.strip() for x in texts):
        return None
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Line):
            out.extend(wrap(b.text, width, "default", "fold"))
        else:
            lines = _table(b, width)
            if lines is None:
                return None
            out.extend(lines)
    return "".join(line + "\n" for line in out)
