#!/usr/bin/env python3
"""Render the pictures of the user guide (docs/img/*.png) from real generated files.

Runs the rehearsal (tracker.demo.rehearsal) in a temporary folder, converts its files to PDF with headless
LibreOffice (a private profile, so parallel runs never clash), then cuts PNGs out of the pages
with poppler's pdftoppm. Run it again whenever the forms, master or reports change:

    python tools/render_docs_images.py              # writes docs/img/
    python tools/render_docs_images.py --out /tmp/x # anywhere else (CI compares the set of files)

Needs: soffice (LibreOffice), pdftoppm and pdftotext (poppler-utils).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:          # run from a clone without installing
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "docs" / "img"
MAX_BYTES = 300 * 1024
PT_PER_INCH = 72


@dataclass(frozen=True)
class Shot:
    """One picture: a page of a source PDF (the first page holding `marker`), at `dpi`; the whole page,
    or the region from the line of the words `top` to the line of the words `bottom` (the page's text
    from left to right, tables with their borders), found on the page rather than measured by hand, so
    that a picture never cuts a word or a column off when the layout changes."""
    name: str
    source: str                  # key of the source file
    marker: str                  # text on the wanted page ("" for the first page)
    dpi: int
    region: tuple[str, str] | None = None
    what: str = ""


# What each picture shows, for docs/huong-dan.md (the guide names these files).
SHOTS = [
    Shot("unit-form.png", "form", "", 72, None, "Biên bản của một xã đã điền (trang in A4)"),
    Shot("unit-form-table.png", "blank", "Nội dung đánh giá chi tiết", 120,
         ("3. Nội dung triển khai", "II. Kết luận"), "Bảng tiêu chí của tệp chưa điền: ô nền vàng để chọn"),
    Shot("unit-guide.png", "form", "HƯỚNG DẪN ĐIỀN", 90, ("HƯỚNG DẪN ĐIỀN", ""), "Trang “Hướng dẫn” trong tệp"),
    Shot("master.png", "master", "XÃ, PHƯỜNG -", 110, ("XÃ, PHƯỜNG -", "7 "), "master.xlsx, trang Xã, phường"),
    Shot("summary.png", "master", "TỔNG HỢP -", 100, ("TỔNG HỢP -", ""), "master.xlsx, trang Tổng hợp"),
    Shot("merge-report.png", "merge_report", "", 100, ("KẾT QUẢ GHÉP TỆP", "3 "), "Báo cáo kết quả ghép"),
    Shot("report-docx.png", "report_docx", "", 72, None, "Báo cáo nghiệm thu (.docx), trang đầu"),
]
PAD = 8          # points around the region: table borders lie beyond their text


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"render_docs_images: '{name}' is not installed (LibreOffice / poppler-utils needed)")
    return path


def make_sources(work: Path) -> dict[str, Path]:
    """Run the rehearsal in `work` and pick the files to picture."""
    from tracker.demo import rehearsal as demo

    run = demo.run(work / "demo")
    ws = run.sim.ws
    groups = [g.id for g in ws.campaign.groups]
    # A xã/phường that replied with one criterion not met (and a note), so both answers show.
    form_case = next((c for c in run.sim.cases if c.kind == "good" and ws.unit_by_id[c.unit_id].group == groups[-1]
                      and "not_met" in c.answers.values()),
                     next(c for c in run.sim.cases if c.kind == "good"))
    merge_report = run.merge.report_path
    docx = next(p for p in run.report_paths if p.suffix == ".docx")
    return {"form": run.sim.inbox / form_case.file, "blank": ws.outbox_path(ws.unit_by_id[form_case.unit_id]),
            "master": ws.master_file, "merge_report": merge_report, "report_docx": docx}


def to_pdf(sources: dict[str, Path], work: Path) -> dict[str, Path]:
    """One LibreOffice run converts every source (each copied under its key, so names never clash)."""
    soffice = shutil.which("soffice") or _tool("libreoffice")
    src = work / "src"
    pdf = work / "pdf"
    src.mkdir()
    copies = []
    for key, path in sources.items():
        copy = src / f"{key}{path.suffix}"
        shutil.copyfile(path, copy)
        copies.append(copy)
    profile = work / "lo-profile"
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(pdf), *map(str, copies)],
                   check=True, capture_output=True, timeout=300)
    out = {key: pdf / f"{key}.pdf" for key in sources}
    missing = [str(p) for p in out.values() if not p.exists()]
    if missing:
        raise SystemExit(f"render_docs_images: LibreOffice did not write {', '.join(missing)}")
    return out


def page_with(pdf: Path, marker: str) -> int:
    """The first page (1-based) whose text holds `marker`."""
    if not marker:
        return 1
    text = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    for i, page in enumerate(text.split("\f"), 1):
        if marker in page:
            return i
    raise SystemExit(f"render_docs_images: no page of {pdf.name} holds '{marker}'")


def page_lines(pdf: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """The page's lines of words: (text, x0, top, x1, bottom) in points, top to bottom."""
    import html
    import re

    out = subprocess.run([_tool("pdftotext"), "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         check=True, capture_output=True, text=True).stdout
    words = [(html.unescape(t), float(a), float(b), float(c), float(d)) for a, b, c, d, t in re.findall(
        r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">([^<]*)</word>', out)]
    lines: dict[int, list] = {}
    for w in words:
        lines.setdefault(round(w[2]), []).append(w)
    return [(" ".join(w[0] for w in sorted(ws, key=lambda w: w[1])), min(w[1] for w in ws), min(w[2] for w in ws),
             max(w[3] for w in ws), max(w[4] for w in ws)) for _, ws in sorted(lines.items())]


def region(pdf: Path, page: int, top: str, until: str) -> tuple[float, float, float, float]:
    """(left, top, width, height) in points: from the first line starting with `top` down to the row of
    the first line after it starting with `until` (excluded), or to the end of the page's text when
    `until` is empty; as wide as the page's text, with PAD around."""
    lines = [line for line in page_lines(pdf, page) if not line[0].startswith("Trang ")]   # not the footer
    first = next(i for i, line in enumerate(lines) if line[0].startswith(top))
    if until:
        stop = next(line for i, line in enumerate(lines) if i > first and line[0].startswith(until))
        # A table row prints its top-aligned cells above its centred ones: stop above the row's highest line.
        y1 = min(line[2] for line in lines if stop[2] - 12 <= line[2] <= stop[2]) - 2
    else:
        y1 = max(line[4] for line in lines) + PAD
    y0 = lines[first][2] - PAD
    inside = [line for line in lines if y0 <= line[2] and line[4] <= y1]
    x0 = min(line[1] for line in inside) - PAD
    x1 = max(line[3] for line in inside) + PAD
    return x0, y0, x1 - x0, y1 - y0


def render(shot: Shot, pdf: Path, out: Path) -> Path:
    page = page_with(pdf, shot.marker)
    target = out / shot.name
    cmd = [_tool("pdftoppm"), "-png", "-r", str(shot.dpi), "-f", str(page), "-l", str(page), "-singlefile"]
    if shot.region:
        scale = shot.dpi / PT_PER_INCH
        x, y, w, h = (round(v * scale) for v in region(pdf, page, *shot.region))
        cmd += ["-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h)]
    subprocess.run(cmd + [str(pdf), str(target.with_suffix(""))], check=True, capture_output=True, timeout=120)
    size = target.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"render_docs_images: {shot.name} is {size // 1024} KB (max {MAX_BYTES // 1024} KB); "
                         "lower its dpi or crop")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the PNGs (default: docs/img)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tracker-docs-") as tmp:
        work = Path(tmp)
        pdfs = to_pdf(make_sources(work), work)
        for shot in SHOTS:
            path = render(shot, pdfs[shot.source], args.out)
            print(f"{path}  ({path.stat().st_size // 1024} KB)  {shot.what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
