"""What LibreOffice shows of a workbook: the oracle of the differential tests.

LibreOffice Calc's HTML export writes what a person sees: the visible sheets only, without hidden
rows and columns (hidden, or in a collapsed group), each cell's text as its number format prints
it, with its font and fill colours (conditional formats applied). `shown_tables` finds the
criteria tables in that rendering by their labels, independently of tracker's reader, and reads
the answer each one shows; text drawn in (almost) the fill's colour counts as not shown. Only the
mapping of a shown text to an answer is tracker's (`AnswerMap`: spaces, case, legacy fonts).

Many files are converted per LibreOffice start (`soffice --convert-to html a b c ...`), with a
private profile.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from tracker.intake.display import unreadable
from tracker.intake.normalize import AnswerMap

HEADER_ROWS = 4


def to_html(files: list[Path], work: Path, soffice: str) -> dict[Path, Path | None]:
    """Each file's HTML rendering by LibreOffice (None when LibreOffice could not open it)."""
    src, out = work / "in", work / "out"
    src.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    names = {}
    for i, f in enumerate(files):          # flat, unique names: returns share file names
        copy = src / f"f{i:04d}{f.suffix.lower() or '.xlsx'}"
        shutil.copyfile(f, copy)
        names[f] = copy
    profile = (work / "lo-profile").as_uri()
    for start in range(0, len(files), 100):     # bounded command lines
        batch = [str(names[f]) for f in files[start:start + 100]]
        subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                        "--convert-to", "html", "--outdir", str(out), *batch],
                       capture_output=True, timeout=900, env={**os.environ, "HOME": str(work)})
    return {f: (out / (names[f].stem + ".html")) if (out / (names[f].stem + ".html")).is_file() else None
            for f in files}


# ---------------------------------------------------------------------- the HTML, as grids
@dataclass
class Sheet:
    name: str
    cells: dict = field(default_factory=dict)     # (row, col) -> text shown (visible rows and columns only)


def _rgb(text: str | None):
    text = (text or "").strip().lstrip("#")
    try:
        n = int(text[:6], 16)
    except ValueError:
        return None
    return (n >> 16) & 255, (n >> 8) & 255, n & 255


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sheets: list[Sheet] = []
        self._in_em = self._in_h1 = False
        self._name: str | None = None
        self._row = -1
        self._taken: set = set()
        self._cell = None            # [row, col, background, parts]
        self._fonts: list = []       # colour stack inside a cell
        self._skip = 0               # inside a <comment> (a note's text: not shown in the cell)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h1":
            self._in_h1 = True
        elif tag == "em" and self._in_h1:
            self._in_em = True
        elif tag == "table":       # one per sheet; a one-sheet workbook has no sheet headings
            self.sheets.append(Sheet(self._name or ""))
            self._name, self._row, self._taken = None, -1, set()
        elif tag == "tr":
            self._row += 1
        elif tag == "td" and self.sheets:
            col = 0
            while (self._row, col) in self._taken:
                col += 1
            span_c, span_r = int(a.get("colspan") or 1), int(a.get("rowspan") or 1)
            for dr in range(span_r):
                for dc in range(span_c):
                    self._taken.add((self._row + dr, col + dc))
            self._cell = [self._row, col, _rgb(a.get("bgcolor")) or (255, 255, 255), []]
            self._fonts = []
        elif tag == "font" and self._cell is not None:
            self._fonts.append(_rgb(a.get("color")) or (self._fonts[-1] if self._fonts else (0, 0, 0)))
        elif tag == "br" and self._cell is not None and not self._skip:
            self._cell[3].append(("\n", None))
        elif tag == "comment":
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "h1":
            self._in_h1 = False
        elif tag == "em":
            self._in_em = False
        elif tag == "font" and self._fonts:
            self._fonts.pop()
        elif tag == "comment":
            self._skip = max(0, self._skip - 1)
        elif tag == "td" and self._cell is not None:
            row, col, background, parts = self._cell
            # A run drawn in the fill's colour is not seen.
            text = "".join(t for t, colour in parts if colour is None or not unreadable(colour, background))
            self.sheets[-1].cells[(row, col)] = text.strip("\n")
            self._cell = None

    def handle_data(self, data):
        if self._in_em:
            self._name = (self._name or "") + data
        elif self._cell is not None and not self._skip:
            self._cell[3].append((data, self._fonts[-1] if self._fonts else (0, 0, 0)))


def sheets_of(html: Path) -> list[Sheet]:
    reader = _Reader()
    reader.feed(html.read_text(encoding="utf-8", errors="replace"))
    return reader.sheets


# ---------------------------------------------------------------------- the tables shown
def _key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold().rstrip(":").strip()


def shown_tables(sheets: list[Sheet], campaign, unit) -> list[dict]:
    """The answers of every criteria table shown: [{(product_id, criterion_id): answer}], where an
    answer is "met", "not_met", "blank", or the text shown when it is none of them."""
    amap = AnswerMap(*campaign.answers)
    criteria = list(campaign.criteria)
    out = []
    for sheet in sheets:
        by_row: dict[int, dict[int, str]] = {}
        for (r, c), text in sheet.cells.items():
            by_row.setdefault(r, {})[c] = text
        hits: dict[int, dict[str, list[int]]] = {}       # label column -> criterion -> rows
        for r in sorted(by_row):
            for c, text in by_row[r].items():
                for cr in criteria:
                    if _key(text) == _key(cr.group):
                        hits.setdefault(c, {}).setdefault(cr.id, []).append(r)
        for label_col, found in hits.items():
            if len(found) * 2 < len(criteria):
                continue
            for k in range(min(len(v) for v in found.values())):
                rows = {cid: v[k] for cid, v in found.items()}
                # A label the unit edited: its row is the one numbered as the criterion (column STT).
                span = range(min(rows.values()) - len(criteria), max(rows.values()) + len(criteria) + 1)
                for n, cr in enumerate(criteria, 1):
                    if cr.id not in rows:
                        numbered = [r for r in span if by_row.get(r, {}).get(label_col - 1, "").strip() == str(n)]
                        if len(numbered) == 1:
                            rows[cr.id] = numbered[0]
                if len(rows) < len(criteria):
                    continue
                first = min(rows.values())
                header: dict[str, list[int]] = {}
                for r in range(max(0, first - HEADER_ROWS), first):
                    for c, text in by_row.get(r, {}).items():
                        if c > label_col:
                            header.setdefault(_key(text), []).append(c)
                cols = {}
                for p in unit.products:
                    hit = header.get(_key(p.name), [])
                    if len(hit) == 1:
                        cols[p.id] = hit[0]
                if len(cols) < len(unit.products) and len(unit.products) == 1:
                    hit = header.get(_key(campaign.section("answers").get("input_title", "Mức độ đáp ứng")), [])
                    if len(hit) == 1:
                        cols[unit.products[0].id] = hit[0]
                if len(cols) < len(unit.products):
                    continue
                table = {}
                for p in unit.products:
                    for cr in criteria:
                        text = by_row.get(rows[cr.id], {}).get(cols[p.id], "")
                        answer, _ = amap.map(text)
                        table[(p.id, cr.id)] = answer or f"?{text}"
                out.append(table)
    return out


def difference(recorded: dict, tables: list[dict]) -> str | None:
    """None when the answers recorded are those a table shows and no other table shown disagrees."""
    if not tables:
        return "LibreOffice shows no criteria table"
    filled = [t for t in tables if any(v != "blank" for v in t.values())]
    if recorded not in tables:
        return f"recorded {recorded}, shown {tables}"
    other = [t for t in filled if t != recorded]
    if other:
        return f"recorded {recorded}, another table shown {other[0]}"
    return None


# ---------------------------------------------------------------------- a merged campaign against it
def recorded_vs_shown(ws, soffice: str, work: Path) -> tuple[int, list[str]]:
    """Every return the campaign's ledger recorded (accepted, replaced, stale) against what LibreOffice
    shows of the file received: (returns compared, differences)."""
    from tracker.store.ledger import Ledger

    with Ledger(ws.ledger_file) as led:
        rows = [dict(r) for r in led.returns() if r["outcome"] in ("accepted", "replaced", "stale")]
        subs = {s.return_id: s for unit_subs in led.history().values() for s in unit_subs}
    files = sorted({Path(r["origin"]) for r in rows})
    html = to_html(files, work, soffice)
    problems = []
    for r in rows:
        sub, origin = subs[r["id"]], Path(r["origin"])
        unit = ws.unit_by_id[r["unit_id"]]
        if html[origin] is None:
            problems.append(f"{origin.name}: recorded, but LibreOffice does not open it")
            continue
        why = difference(sub.answers, shown_tables(sheets_of(html[origin]), ws.campaign, unit))
        if why:
            problems.append(f"{origin.parent.name}/{origin.name} ({unit.id}): {why}")
    return len(rows), problems
