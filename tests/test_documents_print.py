"""The documents the Centre prints, as they print: the master, the merge report (the staff's, and
one forwarded to a unit) and both acceptance reports of a rehearsal, rendered by real LibreOffice
to PDF and read back as a reader sees the paper (poppler's word boxes).

What is checked is what a reader needs: A4 in the right orientation, text at 9 pt or more on the
paper (the size a word is printed at, whatever the print scale), the margins, page numbers
("Trang n/N" on working sheets; from page 2 at the top of the report, as Nghị định 30/2020 asks),
the table's header row again atop every page the table runs over, no text printed over other text
(a row lower than its wrapped text spills into the next), every name whole on the paper, only the
columns that matter printed, and the words (the administrative frame of the report). Nothing
depends on the wall clock or on where a line wraps.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import needs_soffice
from test_form_print import MM, Word, convert_all, find, flow, has, pdf_words

pytestmark = needs_soffice

A4_LONG, A4_SHORT = 841.89, 595.28
MIN_PT = 9.0                     # the smallest text on paper
PAGE_NO = re.compile(r"^(\d+)/(\d+)$")


@dataclass
class Printed:
    ws: object
    run: object                  # tracker.demo.rehearsal.DemoRun
    pdfs: dict[str, list[list[Word]]]     # name -> pages of words
    sizes: dict[str, list[tuple[float, float]]]


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Printed:
    from conftest import pdf_page_size  # noqa: F401 - LibreOffice is there (pytestmark)

    from tracker.demo import rehearsal
    from tracker.reports.merge_report import unit_reports_dir

    work = tmp_path_factory.mktemp("documents")
    run = rehearsal.run(work / "demo")
    ws = run.sim.ws
    src = work / "src"
    src.mkdir()
    reports = ws.reports
    staff = next(reports.glob("ket-qua-ghep-*.xlsx"))
    hoi = ws.unit_by_id["hoi-nongdan"]
    files = {"master": ws.master_file, "staff": staff,
             "unit": unit_reports_dir(staff) / f"{hoi.file_stem}.xlsx",
             "report-xlsx": reports / "bao-cao-nghiem-thu-20260610.xlsx",
             "report-docx": reports / "bao-cao-nghiem-thu-20260610.docx"}
    copies = []
    for name, path in files.items():
        copies.append(src / f"{name}{path.suffix}")
        shutil.copyfile(path, copies[-1])
    pdfs = convert_all(copies, work / "pdf")
    return Printed(ws, run, {k: pdf_words(p) for k, p in pdfs.items()}, {k: _page_sizes(p) for k, p in pdfs.items()})


def _page_sizes(pdf: Path) -> list[tuple[float, float]]:
    import subprocess

    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]


def landscape(size) -> bool:
    return abs(size[0] - A4_LONG) < 1 and abs(size[1] - A4_SHORT) < 1


def portrait(size) -> bool:
    return abs(size[0] - A4_SHORT) < 1 and abs(size[1] - A4_LONG) < 1


def text_of(page: list[Word]) -> str:
    return flow(page)


def said(pages: list[list[Word]]) -> str:
    """The words in poppler's reading order, one space apart: a cell's or a paragraph's lines stay
    together, so a phrase is found whatever lines LibreOffice and its fonts broke it into (flow()
    reads a page line by line across the columns, and a wrapped cell's words then interleave)."""
    return " ".join(w.text for page in pages for w in page)


def rules_out(page: list[Word]) -> list[Word]:
    """The words, without the short rules (underscores) under headings."""
    return [w for w in page if not set(w.text) <= {"_"}]


def overprinted(page: list[Word]) -> list[tuple[str, str]]:
    """Pairs of words printed over each other (a row lower than its text spills into the next)."""
    words = sorted(page, key=lambda w: w.y0)
    out = []
    for i, a in enumerate(words):
        for b in words[i + 1:]:
            if b.y0 >= a.y1:
                break
            dx = min(a.x1, b.x1) - max(a.x0, b.x0)
            dy = min(a.y1, b.y1) - max(a.y0, b.y0)
            smaller = min((a.x1 - a.x0) * (a.y1 - a.y0), (b.x1 - b.x0) * (b.y1 - b.y0))
            if dx > 0.5 and dy > 0.5 and dx * dy > 0.2 * smaller:
                out.append((a.text, b.text))
    return out


def footer_number(page: list[Word], width: float, height: float) -> tuple[int, int]:
    """The "Trang n/N" at the foot of a working sheet's page, centred."""
    foot = [w for w in page if w.y0 > height - 18 * MM]
    assert [w.text for w in foot][:1] == ["Trang"], [w.text for w in foot]
    number = PAGE_NO.match(foot[1].text)
    assert number, foot[1].text
    assert abs((foot[0].x0 + foot[1].x1) / 2 - width / 2) < 40
    return int(number[1]), int(number[2])


def body(page: list[Word], height: float) -> list[Word]:
    """A working sheet's page without its footer."""
    return [w for w in page if w.y0 <= height - 18 * MM]


def check_working_pages(pages: list[list[Word]], sizes, first: int = 1) -> None:
    """Every page of a working sheet: A4 landscape, text at 9 pt or more, inside the margins,
    numbered "Trang n/N" (n counted through the whole printout), nothing printed over."""
    total = len(pages) + first - 1
    for n, (page, size) in enumerate(zip(pages, sizes), first):
        w, h = size
        assert landscape(size), (n, size)
        small = [(x.text, round(x.size, 1)) for x in page if x.size < MIN_PT]
        assert not small, (n, small[:5])
        assert footer_number(page, w, h) == (n, total)
        text = body(page, h)
        assert min(x.x0 for x in text) >= 20 * MM - 0.5, n
        assert w - max(x.x1 for x in text) >= 15 * MM - 0.5, n
        assert min(x.y0 for x in text) >= 18 * MM - 0.5, n
        assert h - max(x.y1 for x in text) >= 18 * MM - 0.5, n
        assert not overprinted(page), (n, overprinted(page)[:5])


def header_row(page: list[Word], *labels: str) -> tuple[Word, float]:
    """The "STT" word of a table's header row holding every one of `labels` (each a cell's words,
    in order, e.g. "Đơn vị"), and the bottom of that row; the cells of a row are printed in any
    order by poppler, so each is looked for in the band of the first."""
    for stt in (w for w in page if w.text == "STT"):
        band = [w for w in page if stt.y0 - 14 <= w.y0 and w.y1 <= stt.y1 + 14]
        texts = [w.text for w in band]
        if all(any(texts[i:i + len(label.split())] == label.split() for i in range(len(texts)))
               for label in labels):
            return stt, max(w.y1 for w in band)
    raise AssertionError(f"no header row with {labels}")


def header_atop_rows(page: list[Word], *labels: str) -> None:
    """The table's header is on the page, above every row of it there (the row numbers under "STT")."""
    stt, bottom = header_row(page, *labels)
    numbers = [w for w in page if w.text.isdigit() and w.x0 >= stt.x0 - 15 and w.x1 <= stt.x1 + 15
               and w.y0 > stt.y1 and w.y0 < max(x.y0 for x in page) - 1]
    assert numbers, labels
    assert all(r.y0 >= bottom - 1 for r in numbers), labels


def column(page: list[Word], left_px: float, width_px: float, pt: float = 11) -> str:
    """The words printed in a column `width_px` wide, `left_px` from the left margin (20 mm), top to
    bottom; the print scale is read from the size the table's text is printed at (`pt` at 100 %)."""
    sizes = [round(w.size, 1) for w in page]
    scale = max(set(sizes), key=sizes.count) / pt
    left = 20 * MM + left_px * 0.75 * scale
    right = left + width_px * 0.75 * scale
    inside = [w for w in page if w.x0 >= left - 1 and w.x1 <= right + 1]
    return " ".join(w.text for w in sorted(inside, key=lambda w: (round(w.y0), w.x0)))


# ------------------------------------------------------------------------------------ the master
def master_sections(printed: Printed) -> dict[str, list[int]]:
    """Page indexes of the master's sheets: the summary (and its chart), the groups, the log."""
    out: dict[str, list[int]] = {"summary": [], "group": [], "log": []}
    for i, page in enumerate(printed.pdfs["master"]):
        if has(page, "Thời", "điểm", "ghép"):
            out["log"].append(i)
        elif has(page, "STT") and has(page, "TC1."):
            out["group"].append(i)
        else:
            out["summary"].append(i)
    return out


def test_the_master_prints_readable_numbered_pages(printed):
    pages, sizes = printed.pdfs["master"], printed.sizes["master"]
    check_working_pages(pages, sizes)
    sections = master_sections(printed)
    assert sections["summary"][0] == 0 and len(sections["log"]) >= 1 and len(sections["group"]) >= 3
    # The counts on one page, the chart on the next; 138 products on at most a dozen pages (rows of
    # two lines at 11 pt: about fifteen a page).
    assert len(sections["summary"]) == 2
    assert len(sections["group"]) <= 12


def test_the_master_group_sheets_print_every_product_under_its_header(printed):
    ws = printed.ws
    pages = printed.pdfs["master"]
    group_pages = master_sections(printed)["group"]
    from tracker.master.workbook import WIDTH_PX

    names = " ".join(column(pages[i], WIDTH_PX["STT"], WIDTH_PX["Đơn vị"]) for i in group_pages)
    for unit in ws.units:          # every name whole on the paper (a clipped cell would cut it)
        assert " ".join(unit.name.split()) in names, unit.name
    for i in group_pages:
        page = pages[i]
        header_atop_rows(page, "Đơn vị", "Sản phẩm", "Kết quả")
        assert has(page, "Kết", "quả") and has(page, "Ngày", "nhận")
        # Only what matters is printed: no ids, sources, notes or proposals columns.
        for hidden in (("Mã", "sản", "phẩm"), ("Tệp", "nguồn"), ("Ghi", "chú"), ("Người", "ký"), ("Mã", "đơn", "vị")):
            assert not has(page, *hidden), (i, hidden)
    # Each criterion's header is printed (TC1 ... TC6), on every page of a group.
    for i in group_pages:
        assert all(has(pages[i], f"TC{k}.") for k in range(1, 7)), i


def test_the_master_log_prints_numbers_dates_and_no_digests(printed):
    pages = printed.pdfs["master"]
    for i in master_sections(printed)["log"]:
        page = pages[i]
        header_atop_rows(page, "Thời điểm ghép", "Tệp", "Lý do / ghi chú")
        assert not has(page, "SHA-256")
        # Times as dd/mm/yyyy hh:mm, never ISO.
        assert not any(re.match(r"\d{4}-\d{2}-\d{2}", w.text) for w in page)
        assert any(re.fullmatch(r"\d{2}/\d{2}/\d{4}", w.text) for w in page)
        assert any(re.fullmatch(r"\d{2}:\d{2}", w.text) for w in page)


def test_the_master_summary_counts_pending_apart_from_blank(printed):
    pages = printed.pdfs["master"]
    page = pages[master_sections(printed)["summary"][0]]
    assert has(page, "Để", "trống") and has(page, "Chưa", "nhận")
    from tracker.stats import campaign_stats

    stats = campaign_stats(printed.ws)       # the master counts as of the day it was written
    # Criteria rows print met, not met, blank, pending.
    for i, cr in enumerate(stats.criteria, 1):
        label = find(page, f"TC{i}.")       # numbers are centred on the label's (one or two lines)
        line = sorted((w for w in page if label.y0 - 2 <= w.y0 <= label.y0 + 10 and w.text.isdigit()
                       and w.x0 > label.x1), key=lambda w: w.x0)
        assert [int(w.text) for w in line][-4:] == [cr.counts.met, cr.counts.not_met, cr.counts.blank,
                                                     cr.counts.pending]


# ------------------------------------------------------------------------------------ merge reports
def test_the_staff_merge_report_prints_readable_numbered_pages(printed):
    pages, sizes = printed.pdfs["staff"], printed.sizes["staff"]
    check_working_pages(pages, sizes)
    for page in pages:
        header_atop_rows(page, "Tệp", "Đơn vị", "Kết quả", "Nội dung")
        assert not has(page, "Giá", "trị", "cho", "phép") and not has(page, "Giá", "trị", "gặp")
    text = said(pages)
    assert "KẾT QUẢ GHÉP TỆP" in text
    for case in printed.run.sim.cases:
        if case.expect == "rejected":      # a long name breaks anywhere, even inside a word
            assert case.file.replace(" ", "") in text.replace(" ", ""), case.file
    # The staff's report has the staff's advice too.
    assert "units.csv" in text


def test_the_report_forwarded_to_a_unit_is_its_own(printed):
    ws = printed.ws
    pages, sizes = printed.pdfs["unit"], printed.sizes["unit"]
    check_working_pages(pages, sizes)
    assert len(pages) == 1                      # one refused file and one note: a page to send
    text = said(pages)
    hoi = ws.unit_by_id["hoi-nongdan"]
    assert f"KẾT QUẢ KIỂM TRA TỆP GỬI VỀ - {hoi.name.upper()}" in text
    mine = [c.file for c in printed.run.sim.cases if c.unit_id == "hoi-nongdan" and c.file]
    others = [c.file for c in printed.run.sim.cases if c.unit_id != "hoi-nongdan" and c.file]
    compact = text.replace(" ", "")
    assert all(f in compact for f in mine)
    assert not any(f.replace(" ", "") in compact for f in others)
    assert "'Đạt'" in text and "Đề nghị đơn vị sửa ô này và gửi lại." in text
    # Never the staff's advice: what to do with units.csv, the archive, the outbox.
    for staff_only in ("units.csv", "archive/", "outbox/"):
        assert staff_only not in text, staff_only
    assert has(pages[0], "Đề", "nghị", "đơn", "vị")


# ------------------------------------------------------------------------------------ the reports
def test_the_report_workbook_has_the_administrative_frame(printed):
    pages, sizes = printed.pdfs["report-xlsx"], printed.sizes["report-xlsx"]
    report = list(range(0, max(i for i, p in enumerate(pages) if has(p, "Nơi", "nhận:")) + 1))
    assert len(report) <= 3                     # the report itself: three pages; the lists follow
    first = rules_out(pages[0])
    assert portrait(sizes[0])
    # Issuer, Quốc hiệu on one line, Tiêu ngữ, number, place and date; title and subject.
    qh = find(first, "CỘNG", "HÒA", "XÃ", "HỘI", "CHỦ", "NGHĨA", "VIỆT", "NAM")
    line = [w for w in first if abs(w.y0 - qh.y0) < 1 and w.x0 >= qh.x0]
    assert [w.text for w in line][:8] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".split()
    assert has(first, "Độc", "lập", "-", "Tự", "do", "-", "Hạnh", "phúc")
    assert has(first, "TRUNG", "TÂM", "TRUYỀN", "THÔNG,") and has(first, "VĂN", "PHÒNG")
    assert has(first, "Số:") and has(first, "Hà", "Nội,", "ngày", "10", "tháng", "6", "năm", "2026")
    title = find(first, "BÁO", "CÁO")
    assert title.y0 > qh.y1
    end = pages[report[-1]]
    assert has(end, "Nơi", "nhận:") and has(end, "KT.", "GIÁM", "ĐỐC") and has(end, "PHÓ", "GIÁM", "ĐỐC")
    assert "LiêndanhVNPT-VTCTELECOM-NEKO;" in "".join(w.text for w in end)     # one spelling
    # Nghị định 30 on the report's pages: portrait, margins, body about 13 pt, numbers from page 2.
    for n in report:
        page, (w, h) = rules_out(pages[n]), sizes[n]
        assert portrait((w, h)), n
        text = [x for x in page if x.y0 > 20 * MM - 2]
        assert 30 * MM - 0.5 <= min(x.x0 for x in text) <= 35 * MM, n
        assert w - max(x.x1 for x in text) >= 15 * MM - 0.5, n
        assert h - max(x.y1 for x in text) >= 20 * MM - 0.5, n
        assert not [x.text for x in page if x.size < MIN_PT], n
        top = [x for x in page if x.y1 <= 20 * MM]
        assert [x.text for x in top] == ([] if n == 0 else [str(n + 1)]), n
        assert not overprinted(page), (n, overprinted(page)[:4])
    sizes_pt = [round(x.size) for n in report for x in pages[n]]
    assert max(set(sizes_pt), key=sizes_pt.count) == 13
    # The criteria table counts pending apart from blank.
    crit = next(pages[n] for n in report if has(pages[n], "TC1."))
    assert has(crit, "Để", "trống") and has(crit, "Chưa", "nhận")


def test_the_report_workbook_appendices_print_as_lists(printed):
    pages, sizes = printed.pdfs["report-xlsx"], printed.sizes["report-xlsx"]
    first_list = next(i for i, p in enumerate(pages) if has(p, "Phụ", "lục", "1."))
    check_working_pages(pages[first_list:], sizes[first_list:], first=first_list + 1)
    text = " ".join(text_of(p) for p in pages[first_list:])
    for k in range(1, 5):
        assert f"Phụ lục {k}." in text
    for page in pages[first_list:]:
        header_atop_rows(page, "Đơn vị")
    assert "Đã gửi, bị từ chối" in text


def test_the_report_document_numbers_pages_and_repeats_headers(printed):
    pages, sizes = printed.pdfs["report-docx"], printed.sizes["report-docx"]
    assert all(portrait(s) for s in sizes)
    for n, page in enumerate(pages):
        assert not [x.text for x in rules_out(page) if x.size < MIN_PT], n
        top = [x for x in page if x.y1 <= 20 * MM]
        assert [x.text for x in top] == ([] if n == 0 else [str(n + 1)]), n
        assert not overprinted(page), (n, overprinted(page)[:4])
    # The list of accepted products runs over pages: its header atop each of them.
    accepted = [i for i, p in enumerate(pages) if has(p, "Tên", "miền") and has(p, "Ngày", "nhận")]
    assert len(accepted) >= 2
    for i in accepted:
        header_atop_rows(pages[i], "Đơn vị", "Sản phẩm", "Tên miền")
    text = " ".join(text_of(p) for p in pages)
    assert "IV. ĐƠN VỊ CHƯA CÓ VĂN BẢN XÁC NHẬN HỢP LỆ" in text and "Đã gửi, bị từ chối" in text
    assert "Chưa nhận" in text and "06/6/2026" in text and "05/6/2026" in text and "05/06/2026" not in text
