"""Write tracker/outbound/fontmetrics.py: advance widths of Times New Roman for the unit form.

Row heights of the printed form are set by the writer (a spreadsheet never grows a row for
wrapped text on its own when the height is given), so it must know how many lines a text wraps
to. Liberation Serif is metric-compatible with Times New Roman (same advance widths), so its
widths stand for the font Excel prints with. Run once if the character set needs to grow:
`python tools/font_metrics.py /usr/share/fonts/truetype/liberation2`. Reads the TrueType
'hmtx' and 'cmap' (format 4) tables directly: no font library is needed for so little.
"""
import struct
import sys
from pathlib import Path

# ASCII, the Vietnamese letters that are not a base letter plus combining marks, and the
# punctuation the texts use. Other letters are measured by their base letter (see the module).
CHARS = [chr(c) for c in range(32, 127)] + list("đĐơƠưƯ“”‘’–—…\u00a0")
STYLES = {"regular": "Regular", "bold": "Bold", "italic": "Italic", "bold_italic": "BoldItalic"}


def advance_widths(path: Path, chars) -> tuple[int, dict[str, int]]:
    d = path.read_bytes()
    tables = {}
    for i in range(struct.unpack(">H", d[4:6])[0]):
        tag, _, off, length = struct.unpack(">4sLLL", d[12 + 16 * i:28 + 16 * i])
        tables[tag.decode("latin-1")] = off
    upem = struct.unpack(">H", d[tables["head"] + 18:tables["head"] + 20])[0]
    n_metrics = struct.unpack(">H", d[tables["hhea"] + 34:tables["hhea"] + 36])[0]
    hmtx = tables["hmtx"]

    def advance(glyph: int) -> int:
        at = hmtx + 4 * min(glyph, n_metrics - 1)
        return struct.unpack(">H", d[at:at + 2])[0]

    cmap = tables["cmap"]
    sub = None
    for i in range(struct.unpack(">H", d[cmap + 2:cmap + 4])[0]):
        pid, eid, off = struct.unpack(">HHL", d[cmap + 4 + 8 * i:cmap + 12 + 8 * i])
        if (pid, eid) == (3, 1):
            sub = cmap + off
    seg2 = struct.unpack(">H", d[sub + 6:sub + 8])[0]
    seg = seg2 // 2
    ends = struct.unpack(f">{seg}H", d[sub + 14:sub + 14 + seg2])
    starts = struct.unpack(f">{seg}H", d[sub + 16 + seg2:sub + 16 + 2 * seg2])
    deltas = struct.unpack(f">{seg}h", d[sub + 16 + 2 * seg2:sub + 16 + 3 * seg2])
    range_at = sub + 16 + 3 * seg2
    ranges = struct.unpack(f">{seg}H", d[range_at:range_at + seg2])

    def glyph_of(ch: str) -> int:
        c = ord(ch)
        for i in range(seg):
            if starts[i] <= c <= ends[i]:
                if ranges[i] == 0:
                    return (c + deltas[i]) & 0xFFFF
                at = range_at + 2 * i + ranges[i] + 2 * (c - starts[i])
                g = struct.unpack(">H", d[at:at + 2])[0]
                return (g + deltas[i]) & 0xFFFF if g else 0
        return 0

    return upem, {ch: advance(glyph_of(ch)) for ch in chars}


def main(font_dir: Path, out: Path) -> None:
    lines = ['"""Advance widths of Times New Roman (from the metric-compatible Liberation Serif), in 1/UPEM em.',
             "", "Written by tools/font_metrics.py; do not edit by hand.", '"""', ""]
    upem = None
    for key, style in STYLES.items():
        upem, widths = advance_widths(font_dir / f"LiberationSerif-{style}.ttf", CHARS)
        text = "".join(CHARS)
        values = ", ".join(str(widths[c]) for c in CHARS)
        lines.append(f"{key.upper()} = dict(zip({text!r},\n    ({values})))")
    lines.insert(5, f"UPEM = {upem}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/truetype/liberation2"),
         Path(__file__).resolve().parent.parent / "tracker" / "outbound" / "fontmetrics.py")
