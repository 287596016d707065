#!/usr/bin/env python3
"""Seeded fuzzing of the intake: mutate real returns and check every outcome.

    python tools/fuzz.py --cases 5000 --seed 1      # a long run; prints the figures
    (tests/test_fuzz.py runs a bounded one)

Each case is a good filled return with one mutation: a value typed into an answer cell (answer
variants, legacy fonts, random and odd Unicode, huge strings, numbers, dates, formulas), a cell
type changed, an XML element or attribute mutated, zip members dropped, duplicated or reordered,
bytes flipped, the file truncated. The oracle is independent of the reader: it knows what was
written where. Every case must end accepted or refused with a finding, in bounded time; an
accepted file must hold exactly the answers read (the original ones, or the one typed when it is
unambiguously an allowed answer). Figures: cases, tracebacks, wrong accepts, worst time and
worst Python heap per file.
"""
from __future__ import annotations

import argparse
import io
import random
import re
import sys
import time
import tracemalloc
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

MET, NOT_MET = "Đáp ứng", "Chưa đáp ứng"


@dataclass
class Figures:
    cases: int = 0
    accepted: int = 0
    refused: int = 0
    tracebacks: list = field(default_factory=list)
    wrong_accepts: list = field(default_factory=list)
    unclear_refusals: list = field(default_factory=list)
    worst_seconds: float = 0.0
    worst_heap_mb: float = 0.0
    by_kind: dict = field(default_factory=dict)

    def line(self) -> str:
        return (f"{self.cases} cases: {self.accepted} accepted, {self.refused} refused; tracebacks "
                f"{len(self.tracebacks)}, wrong accepts {len(self.wrong_accepts)}, unclear refusals "
                f"{len(self.unclear_refusals)}; worst {self.worst_seconds * 1000:.0f} ms and "
                f"{self.worst_heap_mb:.1f} MiB of Python heap per file")


# ----------------------------------------------------------------------------- building blocks
def answer_cells(data: bytes) -> dict[str, str]:
    """{defined name: cell} for the answer cells of a generated workbook."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        wb = z.read("xl/workbook.xml").decode()
    return {n: c + r for n, c, r in re.findall(r'<definedName name="(TRK_A_[^"]+)">[^!]*!\$([A-Z]+)\$(\d+)<', wb)}


def rewrite(data: bytes, member: str, fn) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            dst.writestr(info.filename, fn(body) if info.filename == member else body)
    return out.getvalue()


def set_cells(data: bytes, values: dict[str, str], raw: bool = False) -> bytes:
    """Write text (inline strings) or raw cell XML into cells of the form sheet."""
    def edit(body: bytes) -> bytes:
        xml = body.decode("utf-8")
        for ref, value in values.items():
            inner = value if raw else f' t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'
            xml, n = re.subn(rf'<c r="{ref}"( s="\d+")?( t="\w+")?(/>|>.*?</c>)',
                             lambda m: f'<c r="{ref}"{m[1] or ""}{inner}', xml, count=1)
            assert n == 1, ref
        return xml.encode("utf-8")
    return rewrite(data, "xl/worksheets/sheet1.xml", edit)


def good_return(outbox_file: Path, rng: random.Random) -> tuple[bytes, dict[str, str]]:
    """A filled return and its answers by defined name ("met"/"not_met")."""
    data = outbox_file.read_bytes()
    cells = answer_cells(data)
    answers = {name: rng.choice(["met", "met", "met", "not_met"]) for name in cells}
    filled = set_cells(data, {cells[n]: MET if a == "met" else NOT_MET for n, a in answers.items()})
    return filled, answers


def variants(rng: random.Random) -> list[tuple[str, str | None]]:
    """(text, intended answer or None) for a value typed into an answer cell."""
    from tracker.intake.legacy import encode_legacy

    base = rng.choice([(MET, "met"), (NOT_MET, "not_met")])
    text, key = base
    odd = "".join(chr(rng.choice([rng.randrange(0x20, 0x7f), rng.randrange(0xa0, 0x2fff),
                                  rng.randrange(0x1f300, 0x1f6ff), 0x200b, 0x202e, 0x0301, 0xfeff]))
                  for _ in range(rng.randint(1, 40)))
    return [
        (unicodedata.normalize("NFD", text), key), (text.upper(), key), (f"  {text}  ", key),
        (text.replace(" ", "\u00a0"), key), (text + "\u200b", key), (encode_legacy(text, "tcvn3"), key),
        (encode_legacy(text, "vni"), key), (odd, None), (text + "x", None), ("x" * rng.randint(1000, 60000), None),
        ("Có", None), ("x", None), ("1", None), ("01/06/2026", None), ("=" + text, None), (text[:-1], None),
        ("Đáp ứng, Chưa đáp ứng", None), ("TRUE", None), ("-", None),
    ]


RAW_CELLS = [  # wrong cell types in an answer cell: never an answer
    ' t="n"><v>1</v></c>', ' t="b"><v>1</v></c>', ' t="e"><v>#N/A</v></c>', '><v>46178</v></c>',
    ' t="d"><v>2026-06-01</v></c>', ' t="str"><f>"Đáp ứng"</f><v>Đáp ứng</v></c>',
    '><f>1+1</f><v>2</v></c>', ' t="s"><v>-1</v></c>', ' t="s"><v>99999</v></c>',
]
EMPTY_CELLS = [' t="inlineStr"></c>', '></c>', ' t="inlineStr"><is><t></t></is></c>']   # hold nothing: blank
XML_EDITS = [  # (member, pattern, replacements)
    ("xl/worksheets/sheet1.xml", r'r="([A-Z]+)(\d+)"', ['r="{1}"', 'r="ZZZZ1"', 'r=""', 'r="$E$1"']),
    ("xl/worksheets/sheet1.xml", r'<row r="(\d+)"', ['<row r="0"', '<row r="abc"', '<row', '<row r="9999999999"']),
    ("xl/worksheets/sheet1.xml", r"</c>", ["", "</c></c>", "<f/></c>", "<is/></c>"]),
    ("xl/worksheets/sheet1.xml", r"<sheetData>", ["<sheetData><!DOCTYPE x [<!ENTITY a 'b'>]>", "", "<sheetData><x>"]),
    ("xl/workbook.xml", r"(<definedName[^>]*>)[^<]*(</definedName>)",
     ["{1}#REF!{2}", "{1}{2}", "{1}'_tracker'!$B$99{2}", "{1}=1+1{2}", "{1}Sheet1!A1,Sheet1!B2{2}"]),
    ("xl/workbook.xml", r'name="[^"]*"', ['name=""', 'name="_tracker"', "name=\"x'y\""]),
    ("xl/workbook.xml", r'state="veryHidden"', ['state="visible"', 'state="hidden"', ""]),
    ("xl/_rels/workbook.xml.rels", r'Target="[^"]*"',
     ['Target="../../etc/passwd"', 'Target=""', 'Target="worksheets/nope.xml"', 'Target="sharedStrings.xml"']),
    ("xl/sharedStrings.xml", r"<t>[^<]*</t>", ["<t></t>", "<t>Đáp ứng</t>", "<t>&#0;</t>", "<t>" + "a" * 5000 + "</t>"]),
    ("[Content_Types].xml", r'ContentType="[^"]*"', ['ContentType=""', 'ContentType="text/plain"']),
]


def _visible(text: str) -> str:
    invisible = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
    return unicodedata.normalize("NFC", text).translate(invisible).strip()


def mutate(rng: random.Random, good: bytes, answers: dict[str, str], cells: dict[str, str]):
    """One mutation: (kind, data, expected answers or None when any clean refusal is right,
    strict: True when the expected outcome is exactly 'accepted with these answers')."""
    roll = rng.random()
    if roll < 0.30:
        name = rng.choice(sorted(cells))
        text, key = rng.choice(variants(rng))
        expected = dict(answers)
        if key is None and not _visible(text):
            key = "blank"          # only spaces and invisible characters: an empty cell
        if key is None:
            return "value", set_cells(good, {cells[name]: text}), None, False
        expected[name] = key
        return "value", set_cells(good, {cells[name]: text}), expected, True
    if roll < 0.37:
        name = rng.choice(sorted(cells))
        return "cell type", set_cells(good, {cells[name]: rng.choice(RAW_CELLS)}, raw=True), None, False
    if roll < 0.40:
        name = rng.choice(sorted(cells))
        expected = {**answers, name: "blank"}     # an empty cell: read as blank (or the file refused)
        return "empty cell", set_cells(good, {cells[name]: rng.choice(EMPTY_CELLS)}, raw=True), expected, False
    if roll < 0.70:
        member, pattern, choices = rng.choice(XML_EDITS)
        def edit(body: bytes) -> bytes:
            text = body.decode("utf-8")
            hits = list(re.finditer(pattern, text))
            for m in sorted(rng.sample(hits, min(len(hits), rng.randint(1, 3))), key=lambda m: -m.start()):
                text = text[:m.start()] + rng.choice(choices).format(m[0], *m.groups()) + text[m.end():]
            return text.encode("utf-8")
        return "xml", rewrite(good, member, edit), answers, False
    if roll < 0.82:
        with zipfile.ZipFile(io.BytesIO(good)) as z:
            infos = z.infolist()
            bodies = {i.filename: z.read(i) for i in infos}
        op = rng.choice(["drop", "duplicate", "reorder", "stored"])
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            names = [i.filename for i in infos]
            victim = rng.choice(names)
            if op == "reorder":
                rng.shuffle(names)
            for n in names:
                if op == "drop" and n == victim:
                    continue
                dst.writestr(n, bodies[n], zipfile.ZIP_STORED if op == "stored" else zipfile.ZIP_DEFLATED)
                if op == "duplicate" and n == victim:
                    import warnings

                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        dst.writestr(n, bodies[n])
        return f"zip {op}", out.getvalue(), answers, False
    if roll < 0.94:
        buf = bytearray(good)
        for _ in range(rng.randint(1, 12)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        return "bytes", bytes(buf), answers, False
    return "truncated", good[:rng.randrange(len(good))], answers, False


# ----------------------------------------------------------------------------- the run
def run(cases: int, seed: int, workdir: Path, progress: bool = False) -> Figures:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tracker.model.campaign import template_path
    from tracker.api import generate
    from tracker.intake import safety
    from tracker.model.findings import IntakeError
    from tracker.intake.reader import read_return
    from tracker.store.workspace import Workspace, init_workspace

    root = workdir / "camp"
    ws = Workspace(root) if Workspace.is_campaign(root) else init_workspace(root, template_path(None), None, False)
    if not any(ws.outbox.rglob("*.xlsx")):
        generate(ws)
    rng = random.Random(seed)
    fig = Figures()
    target = workdir / "case.xlsx"
    units = [ws.unit_by_id["so-khcn"], *rng.sample(ws.units, 6)]
    prepared = []
    for u in units:
        good, answers = good_return(ws.outbox_path(u), rng)
        prepared.append((u, good, answers, answer_cells(good)))
    tracemalloc.start()
    for i in range(cases):
        unit, good, answers, cells = prepared[i % len(prepared)]
        kind, data, expected, strict = mutate(rng, good, answers, cells)
        target.write_bytes(data)
        fig.cases += 1
        fig.by_kind[kind] = fig.by_kind.get(kind, 0) + 1
        tracemalloc.reset_peak()
        start = time.perf_counter()
        try:
            k = safety.check_file(target, target.name)
            if k not in ("xlsx", "xlsm"):
                raise safety._fail("not_workbook", target.name)
            reading = read_return(target, target.name, ws.campaign, ws.unit_by_id, ws.secret, k == "xlsm")
            outcome = "refused" if reading.errors else "accepted"
            findings = reading.errors
        except IntakeError as e:
            outcome, findings = "refused", [e.finding]
        except Exception as e:  # noqa: BLE001 - the point of fuzzing
            fig.tracebacks.append((i, kind, f"{type(e).__name__}: {e}"))
            continue
        finally:
            fig.worst_seconds = max(fig.worst_seconds, time.perf_counter() - start)
            fig.worst_heap_mb = max(fig.worst_heap_mb, tracemalloc.get_traced_memory()[1] / 2**20)
        if outcome == "accepted":
            fig.accepted += 1
            got = {f"TRK_A_{pid.split('/')[1]}_{c}": v for (pid, c), v in reading.answers.items()}
            if reading.unit_id != unit.id or (expected is None) or got != expected:
                fig.wrong_accepts.append((i, kind, got, expected))
        else:
            fig.refused += 1
            if strict:
                fig.wrong_accepts.append((i, kind, "refused", expected, [f.code for f in findings]))
            for f in findings:
                if target.name not in f.message:
                    fig.unclear_refusals.append((i, kind, f.code, f.message))
        if progress and (i + 1) % 500 == 0:
            print(f"  {i + 1}: {fig.line()}", flush=True)
    tracemalloc.stop()
    return fig


def main() -> None:
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tracker-fuzz-") as tmp:
        start = time.perf_counter()
        fig = run(args.cases, args.seed, Path(tmp), progress=True)
    print(fig.line())
    print("by mutation:", ", ".join(f"{k} {v}" for k, v in sorted(fig.by_kind.items())))
    print(f"took {time.perf_counter() - start:.0f} s")
    for label, items in (("tracebacks", fig.tracebacks), ("wrong accepts", fig.wrong_accepts),
                         ("unclear refusals", fig.unclear_refusals)):
        for item in items[:10]:
            print(f"{label}: {item}")
    sys.exit(1 if fig.tracebacks or fig.wrong_accepts or fig.unclear_refusals else 0)


if __name__ == "__main__":
    main()
