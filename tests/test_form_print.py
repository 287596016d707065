"""The unit form as it prints: real LibreOffice renders forms of every kind of unit to PDF, and
the PDF is read back as a reader would see the paper (poppler's word boxes, and the pixels).

What is checked is what Nghị định 30/2020/NĐ-CP and the head of unit who signs ask of it: A4,
the decree's margins on the printed page, body text at about 13 pt (not shrunk to fit a page),
page numbers from page 2, the table's header on every page the table is on, blocks kept together,
room for signature and seal, the right words for each kind of unit, a conclusion that follows
the domain the unit typed, and no yellow on the copy to be signed. Nothing depends on where a
line wraps: texts are compared as word sequences of a region of the page.
"""
from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import needs_soffice, pdf_page_size, soffice

from tracker.demo.simulate import fill
from tracker.model.campaign import campaign_from_data, parse_template, template_path
from tracker.model.registry import unit_facts
from tracker.outbound.unit_form import build_unit_workbook, column_px, conclusion_value, table_columns

pytestmark = needs_soffice

MM = 72 / 25.4
PAGE_W, PAGE_H = 595.28, 841.89
# Height of a word's box in poppler's output per point of font size, for Liberation Serif (the
# metric twin of Times New Roman that LibreOffice prints with): 13 pt text gives 16.91 pt boxes.
BOX_PER_PT = 1.3011
YELLOW = (0xFF, 0xF2, 0xCC)
SIGNER = "Nguyễn Thị Thanh Hà"
# One unit of every kind: a sở with two products, a ban, the hội, a trung tâm, a xã, a phường.
PICKS = {"so-khcn": "sở", "bqlda-giaothong": "ban", "hoi-nongdan": "hội", "tt-phvhcc": "trung tâm",
         "xp-00382": "xã", "xp-00004": "phường"}
TYPED = {"so-khcn": {"site": "sokhcn.hanoi.gov.vn", "cds": "chuyendoiso.hanoi.gov.vn"},
         "bqlda-giaothong": {"site": "bqldagiaothong.hanoi.gov.vn"},
         "hoi-nongdan": {"site": "hoinongdan.hanoi.gov.vn"},
         "xp-00004": {"site": "phuongbadinh.hanoi.gov.vn"}}       # a phường that corrects its domain
# The sở of two products writes a note per product, each in its own "Ghi chú" cell.
NOTES = {"so-khcn": {("site", "c2"): "GCa", ("cds", "c2"): "GCb"}}


@dataclass
class Word:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def size(self) -> float:
        return (self.y1 - self.y0) / BOX_PER_PT


def pdf_words(pdf: Path) -> list[list[Word]]:
    """Every page's words with their boxes (points from the top-left corner)."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = []
    for page in out.split("<page ")[1:]:
        pages.append([Word(float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in re.findall(
            r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">([^<]*)</word>', page)])
    return pages


def flow(words: list[Word], *, x0=-1e9, x1=1e9, y0=-1e9, y1=1e9) -> str:
    """The words inside a region in reading order (line by line, left to right), one space apart."""
    inside = [w for w in words if w.x0 >= x0 and w.x1 <= x1 and w.y0 >= y0 and w.y1 <= y1
              and not set(w.text) <= {"_"}]          # the short rule under the unit's name
    return " ".join(w.text for w in sorted(inside, key=lambda w: (round(w.y0), w.x0)))


def find(words: list[Word], *texts: str) -> Word:
    """The first word of the first place where `texts` follow each other."""
    for i in range(len(words) - len(texts) + 1):
        if all(words[i + k].text == t for k, t in enumerate(texts)):
            return words[i]
    raise AssertionError(f"not on the page: {' '.join(texts)}")


def has(words: list[Word], *texts: str) -> bool:
    try:
        find(words, *texts)
        return True
    except AssertionError:
        return False


def form_pages(pages: list[list[Word]]) -> list[list[Word]]:
    """The form's pages: those before the "Hướng dẫn" sheet's page."""
    guide = next(i for i, p in enumerate(pages) if has(p, "HƯỚNG", "DẪN", "ĐIỀN"))
    return pages[:guide]


def left_block_edge(unit, scale: int) -> float:
    """Where the letterhead's left block (and the "Nơi nhận" list) ends on the page: columns A:C."""
    return 30 * MM + sum(column_px(len(unit.products), scale)[:3]) * 0.75 * scale / 100 + 0.5


def print_scale(xlsx: Path) -> int:
    with zipfile.ZipFile(xlsx) as z:
        setup = re.search(r"<pageSetup [^>]*>", z.read("xl/worksheets/sheet1.xml").decode())[0]
    m = re.search(r'scale="(\d+)"', setup)
    return int(m[1]) if m else 100


def yellow_pixels(pdf: Path, pages: int, work: Path) -> int:
    """Pixels of the input tint on the first `pages` pages, rendered at 30 dpi (binary PPM, read here)."""
    count = 0
    for page in range(1, pages + 1):
        stem = work / f"{pdf.stem}-{page}"
        subprocess.run(["pdftoppm", "-r", "30", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(stem)],
                       check=True, capture_output=True)
        data = Path(f"{stem}.ppm").read_bytes()
        magic, _w, _h, _maxval, pixels = data.split(maxsplit=4)
        assert magic == b"P6"
        for i in range(0, len(pixels) - 2, 3):
            if all(abs(pixels[i + k] - YELLOW[k]) <= 6 for k in range(3)):
                count += 1
    return count


def convert_all(files: list[Path], outdir: Path) -> dict[str, Path]:
    """One LibreOffice run for all files (a private profile, so runs never clash)."""
    outdir.mkdir(parents=True, exist_ok=True)
    profile = outdir / "lo-profile"
    subprocess.run([soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(outdir), *map(str, files)],
                   check=True, capture_output=True, timeout=600)
    out = {f.stem: outdir / f"{f.stem}.pdf" for f in files}
    assert all(p.exists() for p in out.values()), out
    return out


def long_campaign():
    """The built-in template with three times the criteria: the table no longer fits on a page."""
    path = template_path(None)
    data = parse_template(path.read_bytes(), path)
    extra = [{"id": f"{k}{c['id']}", "group": c["group"] + " (bổ sung)", "detail": c["detail"] + " " + c["detail"]}
             for k in "xy" for c in data["criteria"]]
    data["criteria"] = data["criteria"] + extra
    return campaign_from_data(data, path)


@dataclass
class Printed:
    ws: object
    work: Path
    files: dict[str, Path]      # unit id -> the filled workbook
    pdfs: dict[str, Path]       # file stem -> LibreOffice's PDF of it


@pytest.fixture(scope="module")
def printed(generated_campaign, tmp_path_factory) -> Printed:
    """The signed copies (filled as a unit fills them), a blank form, and a form whose criteria
    table runs over a page, all printed by LibreOffice."""
    from tracker.store.workspace import Workspace

    ws = Workspace(generated_campaign)
    work = tmp_path_factory.mktemp("print")
    files = {}
    for uid in PICKS:
        unit = ws.unit_by_id[uid]
        files[uid] = fill(ws.outbox_path(unit), work / "src" / f"{uid}.xlsx", "met", signer=SIGNER,
                          doc_number="125/UBND", domains=TYPED.get(uid),
                          notes=NOTES.get(uid, {"c2": "Đề nghị bổ sung"}))
    blank = work / "src" / "blank-xp-00004.xlsx"
    shutil.copyfile(ws.outbox_path(ws.unit_by_id["xp-00004"]), blank)
    long = work / "src" / "long-xp-00070.xlsx"
    build_unit_workbook(long_campaign(), ws.unit_by_id["xp-00070"], ws.secret, str(long))
    pdfs = convert_all([*files.values(), blank, long], work / "pdf")
    return Printed(ws, work, files, pdfs)


def test_every_kind_prints_on_at_most_two_a4_pages_at_full_size(printed):
    files, pdfs = printed.files, printed.pdfs
    for uid, pdf in ((u, pdfs[u]) for u in PICKS):
        assert tuple(round(v) for v in pdf_page_size(pdf)) == (595, 842), uid
        pages = form_pages(pdf_words(pdf))
        assert 1 <= len(pages) <= 2, uid
        scale = print_scale(files[uid])
        assert scale == 100, (uid, scale)       # the sở of two products too, notes per product and all
        # Body text: the size most words are printed at, about 13 pt (13 at 100 %, 12.9 at 99 %).
        sizes = [round(w.size, 1) for p in pages for w in p]
        body = max(set(sizes), key=sizes.count)
        assert abs(body - 13 * scale / 100) <= 0.2, (uid, body)
        assert 12.5 <= body <= 13.5
        kinh_gui = find(pages[0], "Kính", "gửi:")
        assert abs(kinh_gui.size - 14 * scale / 100) <= 0.2, uid


def test_the_decrees_margins_hold_on_the_printed_page(printed):
    pdfs = printed.pdfs
    for uid in PICKS:
        for n, page in enumerate(form_pages(pdf_words(pdfs[uid])), 1):
            body = [w for w in page if w.y1 > 20 * MM]           # the page number sits in the top margin
            left = min(w.x0 for w in body)
            right = PAGE_W - max(w.x1 for w in body)
            top = min(w.y0 for w in body)
            bottom = PAGE_H - max(w.y1 for w in body)
            assert 30 * MM - 0.5 <= left <= 35 * MM, (uid, n, left / MM)
            assert 15 * MM - 0.5 <= right <= 20 * MM, (uid, n, right / MM)   # justified text reaches it
            assert 20 * MM - 0.5 <= top <= 25 * MM, (uid, n, top / MM)
            assert bottom >= 20 * MM - 0.5, (uid, n, bottom / MM)


def test_pages_are_numbered_from_the_second_at_the_top_centre(printed):
    files, pdfs = printed.files, printed.pdfs
    for uid in PICKS:
        pages = form_pages(pdf_words(pdfs[uid]))
        assert not [w for w in pages[0] if w.y1 <= 20 * MM], uid              # page 1: no number
        for n, page in enumerate(pages[1:], 2):
            [number] = [w for w in page if w.y1 <= 20 * MM]
            assert number.text == str(n), uid
            centre = (30 * MM + PAGE_W - 15 * MM) / 2
            assert abs((number.x0 + number.x1) / 2 - centre) < 10, uid
            assert abs(number.size - 13 * print_scale(files[uid]) / 100) <= 0.3


def test_blocks_stay_together_and_leave_room_to_sign(printed):
    pdfs = printed.pdfs
    for uid in PICKS:
        pages = form_pages(pdf_words(pdfs[uid]))
        where = {}
        for n, page in enumerate(pages):
            for key, texts in {"title": ("THỦ", "TRƯỞNG", "ĐƠN", "VỊ"), "hint": ("(Ký,", "ghi", "rõ"),
                               "name": tuple(SIGNER.split()), "copies": ("Nơi", "nhận:"),
                               "thanks": ("Trân", "trọng", "cảm", "ơn./."), "ii": ("II.", "Kết", "luận"),
                               "conclusion": ("hoạt", "động", "tại", "địa", "chỉ", "tên", "miền")}.items():
                if has(page, *texts):
                    where.setdefault(key, []).append(n)
        # each once, and the closing block (thanks, copies, title, room, name) on one page
        assert all(len(v) == 1 for v in where.values()) and len(where) == 7, (uid, where)
        assert len({where[k][0] for k in ("thanks", "copies", "title", "hint", "name")}) == 1, (uid, where)
        assert where["ii"] == where["conclusion"], uid
        page = pages[where["name"][0]]
        hint = find(page, "(Ký,", "ghi", "rõ")
        name = find(page, *SIGNER.split())
        assert name.y0 - hint.y1 >= 30 * MM, (uid, (name.y0 - hint.y1) / MM)     # signature and seal
        assert find(page, "THỦ", "TRƯỞNG").y1 <= hint.y0


def test_the_tables_header_is_printed_on_every_page_it_runs_over(printed):
    pdfs = printed.pdfs
    campaign = long_campaign()
    pages = form_pages(pdf_words(pdfs["long-xp-00070"]))
    assert len(pages) >= 2
    stt_edge = 30 * MM + column_px(1)[0] * 0.75

    def stt(page, number):      # the criterion's number in the STT column
        return [w for w in page if w.text == str(number) and w.x1 <= stt_edge and w.y0 > 20 * MM]

    on = {}
    for i, cr in enumerate(campaign.criteria, 1):
        hits = [n for n, p in enumerate(pages) for _ in stt(p, i)]
        assert len(hits) == 1, cr.id            # each criterion printed once
        on[i] = hits[0]
    table_pages = sorted(set(on.values()))
    assert len(table_pages) >= 2                # the table runs over a page break
    for n in table_pages:
        assert has(pages[n], "Nhóm", "tiêu", "chí") and has(pages[n], "Nội", "dung", "đánh", "giá"), n
        head = find(pages[n], "Nội", "dung", "đánh", "giá")
        rows = [stt(pages[n], i)[0] for i in on if on[i] == n]
        assert head.y1 < min(r.y0 for r in rows)    # the header above the rows of that page
    # and not on pages without a row of the table
    for n, page in enumerate(pages):
        if n not in table_pages:
            assert not has(page, "Nhóm", "tiêu", "chí")


def test_each_kind_of_unit_is_named_and_copied_as_it_should_be(printed):
    ws, files, pdfs = printed.ws, printed.files, printed.pdfs
    for uid, kind in PICKS.items():
        unit = ws.unit_by_id[uid]
        facts = unit_facts(ws.campaign, unit)
        pages = form_pages(pdf_words(pdfs[uid]))
        first = pages[0]
        # Letterhead, left block: governing body then the unit's name, in capitals.
        edge = left_block_edge(unit, print_scale(files[uid]))
        left = flow(first, x1=edge, y0=find(first, "phố)").y1, y1=find(first, "Số:").y0)
        assert left == " ".join(facts.governing_body.split() + unit.name.upper().split()), (uid, left)
        text = " ".join(flow(p) for p in pages)
        assert f"; {facts.in_text} gửi kết quả đánh giá" in text, uid
        assert "UBND Phường" not in text and "UBND Xã" not in text
        # "Nơi nhận", left of the signature.
        page = next(p for p in pages if has(p, "Nơi", "nhận:"))
        copies = flow(page, x1=edge, y0=find(page, "Nơi", "nhận:").y0)
        assert copies == "Nơi nhận: " + " ".join(f"- {c}" for c in facts.copies), (uid, copies)
        expected = {
            "sở": ("UBND THÀNH PHỐ HÀ NỘI", "Giám đốc Sở (để b/c);", "Các Phó Giám đốc Sở;"),
            "ban": ("UBND THÀNH PHỐ HÀ NỘI", "Giám đốc Ban (để b/c);", "Các Phó Giám đốc Ban;"),
            "hội": ("ỦY BAN MTTQ VIỆT NAM THÀNH PHỐ HÀ NỘI", "Chủ tịch Hội (để b/c);", "Các Phó Chủ tịch Hội;"),
            "trung tâm": ("UBND THÀNH PHỐ HÀ NỘI", "Giám đốc Trung tâm (để b/c);",
                          "Các Phó Giám đốc Trung tâm;"),
            "xã": ("ỦY BAN NHÂN DÂN", "Chủ tịch UBND xã (để b/c);", "Các PCT UBND xã;"),
            "phường": ("ỦY BAN NHÂN DÂN", "Chủ tịch UBND phường (để b/c);", "Các PCT UBND phường;"),
        }[kind]
        assert left.startswith(expected[0] + " " + unit.name.upper().split()[0]), uid
        assert f"- {expected[1]} - {expected[2]}" in copies, uid
    hoi = " ".join(flow(p) for p in form_pages(pdf_words(pdfs["hoi-nongdan"])))
    assert "UBND THÀNH PHỐ HÀ NỘI" not in hoi


def test_the_conclusion_says_the_domain_the_unit_typed(printed):
    ws, pdfs = printed.ws, printed.pdfs
    for uid in PICKS:
        unit = ws.unit_by_id[uid]
        facts = unit_facts(ws.campaign, unit)
        pages = form_pages(pdf_words(pdfs[uid]))
        page = next(p for p in pages if has(p, "II.", "Kết", "luận"))
        start = find(page, "II.", "Kết", "luận").y1
        text = flow(page, y0=start, y1=find(page, "III.").y0)
        domains = [TYPED.get(uid, {}).get(p.key, unit.domain if p.kind == "site" else "") for p in unit.products]
        head, _, tail = ws.campaign.group(unit.group).text("conclusion").partition("{domain}")
        want = conclusion_value(head.replace("{unit}", facts.in_text), domains, tail)
        assert text == " ".join(want.split()), (uid, text)
    # The phường changed its domain: the paper says the new one only.
    text = " ".join(flow(p) for p in form_pages(pdf_words(pdfs["xp-00004"])))
    assert "tên miền phuongbadinh.hanoi.gov.vn đã đáp ứng" in text and "tên miền badinh" not in text
    # The generated form, never opened by a spreadsheet program, prints the value written with the formula.
    blank = " ".join(flow(p) for p in form_pages(pdf_words(pdfs["blank-xp-00004"])))
    assert "UBND phường Ba Đình đang hoạt động tại địa chỉ tên miền badinh.hanoi.gov.vn đã đáp ứng" in blank


def test_each_products_note_prints_in_its_own_column_beside_its_answer(printed):
    """Sở KH&CN: each product's name heads its answer and its own "Ghi chú"; the note typed for the
    site prints under the site's "Ghi chú", the chuyên trang's under its own, on the criterion's row."""
    ws, pdfs = printed.ws, printed.pdfs
    unit = ws.unit_by_id["so-khcn"]
    px = column_px(2)
    answers, notes = table_columns(2)
    edge = [30 * MM + sum(px[:i]) * 0.75 for i in range(len(px) + 1)]      # column edges on the page (100 %)
    page = next(p for p in form_pages(pdf_words(pdfs["so-khcn"])) if has(p, "Nội", "dung", "đánh", "giá"))
    row = find(page, *ws.campaign.criteria[1].group.split()[:2])           # criterion 2's row
    for i, p in enumerate(unit.products):
        (key, _), text = next((k, v) for k, v in NOTES["so-khcn"].items() if k[0] == p.key)
        note = find(page, text)
        assert edge[notes[i]] <= note.x0 and note.x1 <= edge[notes[i] + 1], (p.key, note)
        assert abs((note.y0 + note.y1) / 2 - (row.y0 + row.y1) / 2) < 12, (p.key, note, row)
        # its product's name above, over its answer and note columns; "Ghi chú" right above the note
        name = find(page, *p.name.split()[:2])
        assert edge[answers[i]] <= name.x0 and name.y1 < note.y0, p.key
        heads = [w for w in page if w.text == "Ghi" and edge[notes[i]] <= w.x0 < edge[notes[i] + 1] and w.y1 < row.y0]
        assert len(heads) == 1, p.key
    assert flow(page, x0=edge[notes[0]], x1=edge[notes[0] + 1], y0=row.y0 - 4, y1=row.y1 + 20).split() == ["GCa"]


def test_the_copy_to_be_signed_prints_without_yellow(printed):
    work, pdfs = printed.work, printed.pdfs
    for uid in PICKS:
        pages = len(form_pages(pdf_words(pdfs[uid])))
        assert yellow_pixels(pdfs[uid], pages, work) == 0, uid
    # The blank form shows its inputs in yellow (on screen, and on a print of the blank form).
    assert yellow_pixels(pdfs["blank-xp-00004"], 2, work) > 100


# ---------------------------------------------------------------------- the QR code on page 1
def qr_on_page_one(pdf: Path) -> tuple[float, float, float, float]:
    """The one picture of page 1 (the QR code): (x0, y0, x1, y1) in points from the top-left corner."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    doc = pdfium.PdfDocument(str(pdf))
    try:
        page = doc[0]
        height = page.get_height()
        [picture] = list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))
        left, bottom, right, top = picture.get_bounds()
        assert not [o for i in range(1, len(doc)) for o in doc[i].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])]
    finally:
        doc.close()
    return left, height - top, right, height - bottom


def test_every_form_carries_its_qr_code_on_page_one_20_mm_across(printed):
    """Page 1 printed by LibreOffice, rasterised at 200 dpi as a scanner would, is read by the
    signed-copy reader: the code names the form's unit and this campaign, and is 20 mm across on
    paper (the picture's placement in the PDF, and the decoded code's modules at 200 dpi)."""
    import zxingcpp
    from PIL import Image

    from tracker.intake.signed_copy import copy_context, read_signed_copy
    from tracker.model import ident

    ws, pdfs = printed.ws, printed.pdfs
    ctx = copy_context(ws.campaign, ws.units, ws.secret, ())
    forms = {**{uid: (uid, printed.files[uid]) for uid in PICKS}, "blank-xp-00004": ("xp-00004", None),
             "long-xp-00070": ("xp-00070", None)}
    for stem, (uid, filled) in forms.items():
        pdf = pdfs[stem]
        scan = printed.work / f"{stem}-p1-200dpi"
        subprocess.run(["pdftoppm", "-r", "200", "-f", "1", "-l", "1", "-singlefile", "-gray", "-png", str(pdf),
                        str(scan)], check=True, capture_output=True)
        reading = read_signed_copy(f"{scan}.png", f"{stem}.png", ctx, dt.datetime(2026, 6, 5, 8, 0))
        assert reading.qr is not None and reading.qr.attempt == "as_is", stem
        check = reading.qr.check
        assert (check.reason, check.unit_id, check.campaign_id) == (ident.QR_OK, uid, ws.campaign.id), stem
        assert reading.findings == ()
        # On paper: the picture, and the code read back from the page at 200 dpi.
        x0, y0, x1, y1 = qr_on_page_one(pdf)
        assert abs((x1 - x0) / MM - ident.QR_WIDTH_MM) <= 1 and abs((y1 - y0) / MM - ident.QR_WIDTH_MM) <= 1, stem
        [code] = zxingcpp.read_barcodes(Image.open(f"{scan}.png"), formats=zxingcpp.BarcodeFormat.QRCode)
        p = code.position
        side_px = ((p.top_right.x - p.top_left.x) ** 2 + (p.top_right.y - p.top_left.y) ** 2) ** 0.5
        modules = len(ident.qr_modules(code.text))
        printed_mm = side_px / modules * (modules + 2 * ident.QR_BORDER) / 200 * 25.4   # outer corners
        assert abs(printed_mm - ident.QR_WIDTH_MM) <= 1, (stem, printed_mm)


def test_the_qr_code_sits_beside_the_subject_line_clear_of_every_word(printed):
    """In the letterhead's right block, under the date and above "Kính gửi", flush with the form's
    right edge inside the decree's margins, no word under it; the unit's id in small type at its left."""
    files, pdfs = printed.files, printed.pdfs
    for uid in PICKS:
        pdf = pdfs[uid]
        x0, y0, x1, y1 = qr_on_page_one(pdf)
        page = pdf_words(pdf)[0]
        assert not [w for w in page if w.x0 < x1 and w.x1 > x0 and w.y0 < y1 and w.y1 > y0], uid
        assert x0 >= 30 * MM and PAGE_W - x1 >= 15 * MM - 0.5 and y0 >= 20 * MM, uid
        assert PAGE_W - x1 <= 17 * MM, uid                      # at the right edge of the form
        assert find(page, "ngày").y1 <= y0 and y1 <= find(page, "Kính", "gửi:").y0, uid
        assert y0 < find(page, "V/v").y1                         # beside the subject line
        label = find(page, "Mã", "đơn", "vị:", uid)
        tail = find(page, uid)
        assert tail.x1 <= x0 and y0 <= label.y0 and tail.y1 <= y1 + 2, uid         # bottom-aligned with it
        assert abs(label.size - 9 * print_scale(files[uid]) / 100) <= 0.3, (uid, label.size)
