"""Everything the command line writes: lines and tables, coloured on a terminal, plain text elsewhere.

One renderer for terminals, pipes and files. Tables fit the width: columns wrap on words and a
table too wide even so is cut into parts, each repeating the first column; a word is never cut
(but for a word wider than the whole screen). rich is imported only for progress bars, on a
terminal: importing it and laying out with it cost `tracker stats` more than the rest of the
command (benchmarks/README.md, goal: start-up at most 3x `python -c pass`). Output to a pipe or a
file is plain text, without escape codes.

Whatever a line holds (a file name, a unit name, an email's subject), its control characters,
bidirectional overrides and lone surrogates are printed as escapes ("\\x1b", "\\u202e"): a name
can neither clear the screen nor hide or reorder text; only our own line breaks and colours act.
Values that could start a line of their own (a file name with a line break) are escaped where
they are put in a line (tracker.model.text.for_terminal), line breaks included.
"""
from __future__ import annotations

import os
import sys
import unicodedata

from tracker.model.text import for_terminal

_SGR = {"bold": "1", "dim": "2", "italic": "3", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}
_BOX = {"utf": ("┏━┳┓", "┃┃┃", "┡━╇┩", "│││", "└─┴┘"),
        "ascii": ("+-++", "|||", "+=++", "|||", "+-++")}


def cell_width(text: str) -> int:
    """Columns `text` takes on a terminal: combining marks none, wide (CJK, emoji) characters two."""
    if text.isascii():
        return len(text)
    n = 0
    for ch in text:
        if unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\ufeff":
            continue
        n += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return n


def _fold(word: str, width: int) -> list[str]:
    """A word wider than `width`, cut into pieces (only when no layout gives it room)."""
    pieces, piece, w = [], "", 0
    for ch in word:
        cw = cell_width(ch)
        if piece and w + cw > width:
            pieces.append(piece)
            piece, w = "", 0
        piece += ch
        w += cw
    return pieces + [piece]


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns, broken between words (explicit newlines kept)."""
    out: list[str] = []
    for para in text.split("\n"):
        line, used = "", 0
        for word in para.split():
            w = cell_width(word)
            if line and used + 1 + w <= width:
                line, used = f"{line} {word}", used + 1 + w
                continue
            if line:
                out.append(line)
            if w > width:
                *full, word = _fold(word, width)
                out.extend(full)
                w = cell_width(word)
            line, used = word, w
        out.append(line)
    return out


def _pad(text: str, width: int, justify: str) -> str:
    gap = " " * max(0, width - cell_width(text))
    return gap + text if justify == "right" else text + gap


# ------------------------------------------------------------------------------------ what is shown
class Line:
    """A line made of (style, text) pieces; style None, or words of _SGR ("bold red")."""
    __slots__ = ("pieces",)

    def __init__(self, *pieces):
        self.pieces = [p if isinstance(p, tuple) else (None, p) for p in pieces]

    @property
    def text(self) -> str:
        return "".join(t for _, t in self.pieces)


class Table:
    """A titled table of text cells; columns justified left or right; rows may be bold."""

    def __init__(self, title: str = ""):
        self.title = title
        self.columns: list[tuple[str, str]] = []
        self.rows: list[tuple[list[str], bool]] = []

    def add_column(self, header: str, justify: str = "left") -> None:
        self.columns.append((header, justify))

    def add_row(self, *cells: str, bold: bool = False) -> None:
        self.rows.append(([str(c) for c in cells], bold))


def _widths(table: Table, cols: list[int], room: int, wrap_cells: bool) -> list[int] | None:
    """Widths of the columns `cols` (text only) that fit `room` without cutting a word, or None.

    Headers wrap first (a column is narrowed to its widest cell), then, with `wrap_cells`, cells:
    the widest column first."""
    natural, body, least = [], [], []
    for i in cols:
        cells = [c[i] for c, _ in table.rows]
        texts = [table.columns[i][0]] + cells
        least.append(max((cell_width(w) for t in texts for w in t.split()), default=0) or 1)
        body.append(max([least[-1]] + [cell_width(line) for t in cells for line in t.split("\n")]))
        natural.append(max([body[-1]] + [cell_width(line) for line in table.columns[i][0].split("\n")]))
    if sum(body if not wrap_cells else least) > room:
        return None
    widths = list(natural)
    excess = sum(widths) - room
    for floor in (body, least) if wrap_cells else (body,):
        while excess > 0:    # narrow the widest column that can still give room, a column at a time
            k = max(range(len(widths)), key=lambda j: (widths[j] > floor[j], widths[j]))
            if widths[k] <= floor[k]:
                break
            widths[k] -= 1
            excess -= 1
    # A column as wide as its longest wrapped line, no wider.
    return [max(cell_width(line) for t in [table.columns[i][0]] + [c[i] for c, _ in table.rows]
                for line in wrap(t, w)) or 1 for i, w in zip(cols, widths)]


def _room(n_cols: int, width: int) -> int:
    return width - (n_cols + 1) - 2 * n_cols    # borders and a space either side of each cell


def layout(table: Table, width: int) -> list[tuple[list[int], list[int]]]:
    """[(column indexes, widths)]: the whole table, or parts repeating the first column.

    In order of preference: the whole table with only headers wrapped; for a wide table (of
    counts, say) two or three parts with only headers wrapped; the whole table with cells wrapped
    too; as many parts as needed."""
    n = len(table.columns)
    everything = list(range(n))
    for wrap_cells, most_parts in ((False, 3 if n >= 7 else 1), (True, n - 1)):
        widths = _widths(table, everything, _room(n, width), wrap_cells)
        if widths is not None:
            return [(everything, widths)]
        rest = everything[1:]
        for parts in range(2, min(most_parts, n - 1) + 1):
            size = -(-len(rest) // parts)
            chunks = [rest[i:i + size] for i in range(0, len(rest), size)]
            fitted = [_widths(table, [0] + c, _room(len(c) + 1, width), wrap_cells) for c in chunks]
            if all(f is not None for f in fitted):
                return [([0] + c, f) for c, f in zip(chunks, fitted)]
    if n < 3:
        return [(everything, _forced(table, everything, width))]
    return [([0, i], _forced(table, [0, i], width)) for i in everything[1:]]


def _forced(table: Table, cols: list[int], width: int) -> list[int]:
    """A screen too narrow for the longest words: share what there is (words are then cut)."""
    room = max(len(cols), _room(len(cols), width))
    natural = [max(cell_width(t) for t in [table.columns[i][0]] + [c[i] for c, _ in table.rows]) or 1 for i in cols]
    share = [max(1, min(w, room * w // max(1, sum(natural)))) for w in natural]
    return share


def render_table(table: Table, width: int, style=lambda text, s: text, box: str = "utf") -> list[str]:
    top, head, sep, body, bottom = _BOX[box]
    out: list[str] = []
    for part, (cols, widths) in enumerate(layout(table, width)):
        if part == 0 and table.title:
            out.extend(wrap(table.title, width))
        out.append(top[0] + top[2].join(top[1] * (w + 2) for w in widths) + top[3])
        rows = [([table.columns[i][0] for i in cols], True, True)] + \
            [([cells[i] for i in cols], bold, False) for cells, bold in table.rows]
        for cells, bold, is_head in rows:
            lines = [wrap(text, w) for text, w in zip(cells, widths)]
            height = max(len(x) for x in lines)
            for x in lines:   # headers sit at the bottom of their row, cells at the top
                blank = [""] * (height - len(x))
                x[:] = blank + x if is_head else x + blank
            bar = head[0] if is_head else body[0]
            for k in range(height):
                text = bar + bar.join(
                    " " + _pad(lines[j][k], widths[j], table.columns[cols[j]][1]) + " " for j in range(len(cols))) + bar
                out.append(style(text, "bold") if bold and not is_head else text)
            if is_head:
                out.append(sep[0] + sep[2].join(sep[1] * (w + 2) for w in widths) + sep[3])
        out.append(bottom[0] + bottom[2].join(bottom[1] * (w + 2) for w in widths) + bottom[3])
    return out


# ------------------------------------------------------------------------------------ where it goes
def terminal_width(environ=os.environ) -> int:
    """$COLUMNS, else the width of the first standard stream that is a terminal, else 80."""
    columns = environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    for fd in (1, 2, 0):
        try:
            return os.get_terminal_size(fd).columns
        except (AttributeError, ValueError, OSError):
            continue
    return 80


def wants_colour(stream, environ=os.environ) -> bool:
    """Colours on a terminal only (NO_COLOR turns them off, FORCE_COLOR on)."""
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and environ.get("TERM") != "dumb" and (os.name != "nt" or _windows_vt())


def _windows_vt() -> bool:   # pragma: no cover - Windows only
    """Escape codes on a Windows console: ask it to read them (Windows 10 and later)."""
    try:
        import ctypes

        kernel = ctypes.windll.kernel32
        handle = kernel.GetStdHandle(-11)
        mode = ctypes.c_uint32()
        return bool(kernel.GetConsoleMode(handle, ctypes.byref(mode))
                    and kernel.SetConsoleMode(handle, mode.value | 0x0004))
    except Exception:
        return False


def _shown(text: str) -> str:
    return for_terminal(text, keep="\n")


def _shown_table(table: Table) -> Table:
    """The table with every text as it may be printed (see the module's doc)."""
    shown = Table(_shown(table.title))
    shown.columns = [(_shown(h), j) for h, j in table.columns]
    shown.rows = [([_shown(c) for c in cells], bold) for cells, bold in table.rows]
    return shown


class Screen:
    """Where the command line writes (stdout, or stderr with err=True)."""

    def __init__(self, err: bool = False, stream=None):
        self.stream = stream or (sys.stderr if err else sys.stdout)
        self.colour = wants_colour(self.stream)
        self.width = terminal_width()
        encoding = (getattr(self.stream, "encoding", None) or "utf-8").lower().replace("-", "")
        self.box = "utf" if encoding.startswith("utf") else "ascii"

    def style(self, text: str, style: str | None) -> str:
        if not (style and self.colour and text):
            return text
        codes = ";".join(_SGR[s] for s in style.split() if s in _SGR)
        return f"\x1b[{codes}m{text}\x1b[0m" if codes else text

    def _line(self, line: Line) -> str:
        return "".join(self.style(_shown(text), s) for s, text in line.pieces)

    def print(self, *blocks) -> None:
        """Lines (Line, or a str) and tables, written at once."""
        out = []
        for b in blocks:
            if isinstance(b, Table):
                out.extend(render_table(_shown_table(b), self.width, self.style, self.box))
            elif isinstance(b, Line):
                out.append(self._line(b))
            else:
                out.append(_shown(str(b)))
        self.stream.write("".join(x + "\n" for x in out))
        self.stream.flush()

    def progress(self, label: str, total: int | None = None):
        """(context manager, callback(total=None, advance=1)) of a transient bar on a terminal; nothing elsewhere."""
        import contextlib

        try:
            tty = self.stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        if not tty:
            return contextlib.nullcontext(), None
        from rich.console import Console
        from rich.progress import Progress

        bar = Progress(transient=True, console=Console(file=self.stream))
        task = bar.add_task(label, total=total)

        def advance(total=None, advance=1):
            if total is not None:
                bar.update(task, total=total)
            if advance:
                bar.advance(task, advance)
        return bar, advance
