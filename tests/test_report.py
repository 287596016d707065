"""`tracker report` and `tracker missing` on the known scenario of test_stats: every number of the
workbook and of the .docx equals the stats, unit text never turns into a formula or a link, and
both files render to A4 PDF through LibreOffice."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import needs_soffice, soffice
from test_stats import AS_OF, CONTACTS, EVIL_AT, EVIL_LINK, build_scenario

from tracker.cli import main
from tracker.cli.exports import missing_csv
from tracker.outbound.wording import DEADLINE as DEADLINE_VI, STATUS as STATUS_VI
from tracker.reports.model import build_report, date_line, missing_units, refusals
from tracker.reports.document import allocate
from tracker.stats import campaign_stats
from tracker.store.workspace import Workspace

UKEYS = ("total", "returned", "on_time", "late", "missing", "waiting")
PKEYS = ("total", "accepted", "not_accepted", "incomplete", "pending")


@pytest.fixture(scope="module")
def scen(generated_campaign, tmp_path_factory):
    root = tmp_path_factory.mktemp("report") / "camp"
    shutil.copytree(generated_campaign, root)
    ids = build_scenario(Workspace(root), root.parent / "returns")
    return Workspace(root), ids


def _run(*args):
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200"}, catch_exceptions=False)


@pytest.fixture(scope="module")
def written(scen):
    """Run `tracker report --as-of 10/06/2026` once; (ws, ids, stats, xlsx path, docx path, output)."""
    ws, ids = scen
    res = _run("report", "-C", str(ws.root), "--as-of", "10/06/2026")
    assert res.exit_code == 0, res.output
    xlsx = ws.reports / "bao-cao-nghiem-thu-20260610.xlsx"
    docx = ws.reports / "bao-cao-nghiem-thu-20260610.docx"
    return ws, ids, campaign_stats(ws, AS_OF), xlsx, docx, res.output


def test_cli_writes_both_and_prints_paths(written):
    ws, _, stats, xlsx, docx, output = written
    assert xlsx.is_file() and docx.is_file()
    flat = re.sub(r"\s+", "", output)
    assert re.sub(r"\s+", "", str(xlsx)) in flat and re.sub(r"\s+", "", str(docx)) in flat
    assert "7/138 sản phẩm đủ điều kiện nghiệm thu" in output
    assert not [p for p in ws.reports.iterdir() if p.name.endswith(".tmp")]      # atomic writes leave nothing


def test_format_option_and_default_date(scen, tmp_path):
    ws, _ = scen
    target = tmp_path / "camp"
    shutil.copytree(ws.root, target)
    before = {p.name for p in (target / "reports").iterdir()}
    res = _run("report", "-C", str(target), "--format", "docx", "--as-of", "2026-06-04")
    assert res.exit_code == 0
    new = {p.name for p in (target / "reports").iterdir()} - before
    assert new == {"bao-cao-nghiem-thu-20260604.docx"}
    res = _run("report", "-C", str(target), "--format", "xlsx")
    assert res.exit_code == 0
    assert (target / "reports" / f"bao-cao-nghiem-thu-{dt.date.today():%Y%m%d}.xlsx").is_file()
    assert _run("report", "-C", str(target), "--format", "pdf").exit_code == 2


# ------------------------------------------------------------------------------------ the workbook
def _sheet_rows(wb, name) -> list[list]:
    return [list(r) for r in wb[name].iter_rows(values_only=True)]


def _table_under(rows, *header: str) -> list[list]:
    """The body rows of the table on the report's page whose header row starts with `header` (its
    label column first, then its numbers; merged cells leave None between them)."""
    start = next(i for i, r in enumerate(rows) if tuple(v for v in r if v is not None)[:len(header)] == header)
    body = []
    for r in rows[start + 1:]:
        if r[0] is None:
            break
        body.append([v for v in r if v is not None])
    return body


def _list_body(rows) -> list[list]:
    """Rows under the header (row 4) of a list sheet."""
    return [r for r in rows[4:] if r[0] is not None]


def _list(wb, name) -> list[dict]:
    """The rows of a list sheet, by header."""
    rows = _sheet_rows(wb, name)
    return [dict(zip(rows[3], r)) for r in _list_body(rows)]


def _volume(rows) -> tuple:
    vol = next(r for r in rows if isinstance(r[0], str) and r[0].startswith("Khối lượng đủ điều kiện"))
    return tuple(v for v in vol[1:] if isinstance(v, int))


def test_workbook_numbers_equal_stats(written):
    ws, ids, stats, xlsx, _, _ = written
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Tổng hợp", "Đạt", "Chưa đạt", "Chưa nộp", "Hạn nộp"]
    rows = _sheet_rows(wb, "Tổng hợp")
    assert _volume(rows) == (stats.products.accepted, stats.products.total) == (7, 138)
    names = [g.name for g in stats.groups] + ["Tổng cộng"]
    units = [[g.units[k] for k in UKEYS] for g in stats.groups] + [[stats.units[k] for k in UKEYS]]
    assert _table_under(rows, "Khối", "Số đơn vị") == [[n] + u for n, u in zip(names, units)]
    prods = [g.products for g in stats.groups] + [stats.products]
    by_group = _table_under(rows, "Khối", "Số sản phẩm")
    assert [r[:6] for r in by_group] == [[n] + [p[k] for k in PKEYS] for n, p in zip(names, prods)]
    assert [r[6] for r in by_group] == ["33,3%", "2,4%", "5,1%"]
    kinds = {r[0]: r[1:6] for r in _table_under(rows, "Loại sản phẩm")}
    assert kinds == {"Trang TTĐT": [136, 6, 1, 1, 128], "Chuyên trang": [2, 1, 1, 0, 0]}
    assert sum(k[0] for k in kinds.values()) == stats.products.total
    assert sum(k[1] for k in kinds.values()) == stats.products.accepted
    # Criteria over products: met, not met, blank (returned, left blank), pending (nothing returned).
    assert [r[1:] for r in _table_under(rows, "Tiêu chí")] == [
        [c.counts.met, c.counts.not_met, c.counts.blank, c.counts.pending] for c in stats.criteria]
    assert wb["Tổng hợp"]._charts, "the summary carries a chart of acceptance by group"
    # Lists: exactly the stats' products and units, in registry order.
    accepted = _list(wb, "Đạt")
    want = [r for r in stats.rows if r.status == "accepted"]
    assert [(r["Mã đơn vị"], r["Sản phẩm"]) for r in accepted] == [(r.unit_id, r.product) for r in want]
    assert len(accepted) == stats.products.accepted
    late = {r["Mã đơn vị"]: r["Số ngày muộn"] for r in accepted if r["Tình trạng hạn"] == DEADLINE_VI["late"]}
    assert late == {"so-yte": 3, ids["late_xp"]: 5}
    not_ok = _list(wb, "Chưa đạt")
    assert [(r["Mã đơn vị"], r["Kết quả"], r["Tiêu chí chưa đáp ứng"], r["Tiêu chí để trống"]) for r in not_ok] == [
        ("so-noivu", STATUS_VI["not_accepted"], "TC3. Nội dung thông tin", None),
        ("so-xaydung", STATUS_VI["incomplete"], None, "TC5. Hiệu năng hệ thống"),
        (ids["manual"], STATUS_VI["not_accepted"], "TC6. Đào tạo, hỗ trợ", None),
    ]
    assert len(not_ok) == stats.products.not_accepted + stats.products.incomplete
    assert "Thiếu mục văn bản chỉ đạo" in not_ok[0]["Ghi chú"]
    missing = _list(wb, "Chưa nộp")
    assert [r["Mã đơn vị"] for r in missing] == [u.unit_id for u in stats.unit_rows
                                                  if u.deadline_status in ("missing", "waiting")]
    assert len(missing) == stats.units.missing + stats.units.waiting
    contacts = {r["Mã đơn vị"]: (r["Email"], r["Điện thoại"]) for r in missing}
    assert contacts["so-congthuong"] == CONTACTS["so-congthuong"]
    assert contacts["so-dantoc-tongiao"] == (None, EVIL_AT)
    # The unit whose only file was refused sent something: it says so, and why.
    status = {r["Mã đơn vị"]: r["Tình trạng"] for r in missing}
    assert status["so-congthuong"] == DEADLINE_VI["missing"]
    assert status[ids["rejected"]].startswith("Đã gửi, bị từ chối (nhận ngày 03/6/2026): Tệp 'e-bad.xlsx'")
    assert "'Có'" in status[ids["rejected"]]
    deadlines = _list(wb, "Hạn nộp")
    assert len(deadlines) == stats.units.total
    for status in ("on_time", "late", "missing", "waiting"):
        assert sum(1 for r in deadlines if r["Tình trạng hạn"] == DEADLINE_VI[status]) == stats.units[status]


def _xml_parts(path: Path, prefix: str) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith(prefix)}


def test_unit_text_stays_text(written):
    ws, ids, _, xlsx, docx, _ = written
    # xlsx: the proposals are plain strings; no formula or hyperlink anywhere in the report.
    wb = openpyxl.load_workbook(xlsx)
    not_ok = {r["Mã đơn vị"]: r for r in _list(wb, "Chưa đạt")}
    assert not_ok["so-noivu"]["Đề xuất, kiến nghị của đơn vị"] == EVIL_LINK
    assert not_ok[ids["manual"]]["Đề xuất, kiến nghị của đơn vị"] == EVIL_AT
    assert wb["Chưa nộp"].cell(1, 1).data_type == "s"
    for name, xml in _xml_parts(xlsx, "xl/worksheets/").items():
        if name.endswith(".xml"):
            assert "<f>" not in xml and "<hyperlink" not in xml, name
    strings = "".join(_xml_parts(xlsx, "xl/sharedStrings.xml").values())
    assert "=HYPERLINK(&quot;http://evil&quot;,&quot;x&quot;)" in strings or EVIL_LINK in strings
    # docx: the same texts, as text; no field or link built from them.
    import docx as python_docx

    text = "\n".join(c.text for t in python_docx.Document(str(docx)).tables for row in t.rows for c in row.cells)
    assert EVIL_LINK in text and EVIL_AT in text
    body = _xml_parts(docx, "word/document.xml")["word/document.xml"]
    assert "HYPERLINK" not in re.sub(r"<w:t(?: [^>]*)?>[^<]*</w:t>", "", body)   # only inside text runs
    assert "<w:hyperlink" not in body and "instrText" not in body
    rels = "".join(_xml_parts(docx, "word/_rels/").values())
    assert "External" not in rels


# ------------------------------------------------------------------------------------ the .docx
# Word rejects property elements out of schema order (LibreOffice does not): check the ones we write.
ORDER = {
    "pPr": ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "widowControl", "pBdr", "shd", "tabs", "spacing",
            "ind", "jc", "rPr"],
    "tcPr": ["tcW", "gridSpan", "vMerge", "tcBorders", "shd", "tcMar", "vAlign"],
    "trPr": ["cantSplit", "trHeight", "tblHeader"],
    "tblPr": ["tblStyle", "tblW", "jc", "tblInd", "tblBorders", "tblLayout", "tblCellMar", "tblLook"],
}


def test_docx_property_elements_in_schema_order(written):
    from lxml import etree

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    body = etree.fromstring(_xml_parts(written[4], "word/document.xml")["word/document.xml"].encode())
    for tag, order in ORDER.items():
        elements = body.iter(w + tag)
        for el in elements:
            names = [c.tag.replace(w, "") for c in el]
            assert len(names) == len(set(names)), (tag, names)
            known = [n for n in names if n in order]
            assert known == sorted(known, key=order.index), (tag, names)


def _docx_table(doc, *header: str) -> list[list[str]]:
    """The rows (header included) of the one table whose header row starts with `header`."""
    found = []
    for tbl in doc.tables:
        rows = [[c.text for c in r.cells] for r in tbl.rows]
        if rows and tuple(rows[0][:len(header)]) == header:
            found.append(rows)
    assert len(found) == 1, (header, len(found))
    return found[0]


def test_docx_numbers_equal_stats(written):
    import docx as python_docx
    from docx.shared import Pt

    ws, ids, stats, _, path, _ = written
    doc = python_docx.Document(str(path))
    s = doc.sections[0]
    assert (round(s.page_width.mm), round(s.page_height.mm)) == (210, 297)
    assert (round(s.top_margin.mm), round(s.bottom_margin.mm), round(s.left_margin.mm),
            round(s.right_margin.mm)) == (20, 20, 30, 15)
    normal = doc.styles["Normal"].font
    assert normal.name == "Times New Roman" and Pt(13) <= normal.size <= Pt(14)
    paragraphs = [p.text for p in doc.paragraphs]
    full = "\n".join(paragraphs)
    head = [c.text for c in doc.tables[0]._cells]
    assert "TRUNG TÂM TRUYỀN THÔNG,\nDỮ LIỆU VÀ CÔNG NGHỆ SỐ" in "\n".join(head)
    assert any("VĂN PHÒNG ỦY BAN NHÂN DÂN" in h for h in head)
    assert any("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in h and "Độc lập - Tự do - Hạnh phúc" in h for h in head)
    date_cell = doc.tables[0].rows[1].cells[1].paragraphs[0]
    assert date_cell.text == "Hà Nội, ngày 10 tháng 6 năm 2026" and date_cell.runs[0].italic
    assert "BÁO CÁO" in paragraphs
    assert any(p.startswith("Kết quả xác nhận") and "phục vụ nghiệm thu khối lượng theo Hợp đồng số "
               "1812/2025/TTDLCNS/VNPT-VTC-NEKO" in p for p in paragraphs)
    for heading in ("I. TỔNG HỢP KẾT QUẢ", "II. DANH SÁCH SẢN PHẨM ĐỦ ĐIỀU KIỆN NGHIỆM THU",
                    "III. SẢN PHẨM CHƯA ĐỦ ĐIỀU KIỆN NGHIỆM THU", "IV. ĐƠN VỊ CHƯA CÓ VĂN BẢN XÁC NHẬN HỢP LỆ"):
        assert heading in paragraphs
    p, u = stats.products, stats.units
    assert f"{p.accepted}/{p.total} sản phẩm đủ điều kiện nghiệm thu" in full
    assert (f"đã gửi {u.returned} đơn vị ({u.on_time} đúng hạn, {u.late} muộn); chưa gửi "
            f"{u.missing + u.waiting} đơn vị") in full
    names = [g.name for g in stats.groups] + ["Tổng cộng"]
    units = [[g.units[k] for k in UKEYS] for g in stats.groups] + [[u[k] for k in UKEYS]]
    assert _docx_table(doc, "Khối", "Số đơn vị")[1:] == [[n] + [str(x) for x in v] for n, v in zip(names, units)]
    prods = [g.products for g in stats.groups] + [p]
    by_group = _docx_table(doc, "Khối", "Số sản phẩm")
    assert [r[:6] for r in by_group[1:]] == [[n] + [str(x[k]) for k in PKEYS] for n, x in zip(names, prods)]
    assert [r[6] for r in by_group[1:]] == ["33,3%", "2,4%", "5,1%"]
    kinds = _docx_table(doc, "Loại sản phẩm")
    assert [r[:6] for r in kinds[1:]] == [["Trang TTĐT", "136", "6", "1", "1", "128"],
                                          ["Chuyên trang", "2", "1", "1", "0", "0"]]
    crit = _docx_table(doc, "Tiêu chí", "Đáp ứng")
    assert crit[0][-1] == "Chưa nhận"
    assert crit[1:] == [[f"TC{i}. {c.name}", str(c.counts.met), str(c.counts.not_met), str(c.counts.blank),
                         str(c.counts.pending)] for i, c in enumerate(stats.criteria, 1)]
    late = _docx_table(doc, "STT", "Đơn vị", "Khối", "Ngày nhận", "Số ngày muộn")
    assert [(r[1], r[4]) for r in late[1:]] == [("Sở Y tế", "3"), (ws.unit_by_id[ids["late_xp"]].name, "5")]
    accepted = _docx_table(doc, "STT", "Đơn vị", "Sản phẩm", "Tên miền", "Ngày nhận")
    assert len(accepted) - 1 == p.accepted
    assert [r[2] for r in accepted[1:]] == [r.product for r in stats.rows if r.status == "accepted"]
    not_ok = _docx_table(doc, "STT", "Đơn vị, sản phẩm")
    assert len(not_ok) - 1 == p.not_accepted + p.incomplete
    assert "TC3. Nội dung thông tin" in not_ok[1][3] and "TC5. Hiệu năng hệ thống (để trống)" in not_ok[2][3]
    assert "Thiếu mục văn bản chỉ đạo" in not_ok[1][4]
    replied = _docx_table(doc, "STT", "Đơn vị", "Khối", "Tình trạng", "Email, điện thoại")
    want = [x for x in stats.unit_rows if x.deadline_status in ("missing", "waiting")]
    assert [r[1] for r in replied[1:]] == [x.unit_name for x in want]
    assert len(replied) - 1 == u.missing + u.waiting
    row = next(r for r in replied if r[1] == "Sở Công Thương")
    assert (row[3], row[4]) == (DEADLINE_VI["missing"], "\n".join(CONTACTS["so-congthuong"]))
    row = next(r for r in replied if r[1] == ws.unit_by_id[ids["rejected"]].name)
    assert row[3].startswith("Đã gửi, bị từ chối (nhận ngày 03/6/2026): Tệp 'e-bad.xlsx'") and "'Có'" in row[3]
    assert "1 đơn vị đã gửi nhưng tệp bị từ chối" in full
    # The chart: one bar per group and the total, labelled with accepted/total.
    chart = next(t for t in doc.tables if re.fullmatch(r"\d+/\d+ đạt", t.rows[0].cells[-1].text))
    assert [r.cells[-1].text for r in chart.rows] == [f"{x.accepted}/{x.total} đạt" for x in prods]


def test_report_library_lists_are_selections_of_stats(scen):
    ws, _ = scen
    for as_of in (dt.date(2026, 6, 4), AS_OF):
        stats = campaign_stats(ws, as_of)
        rep = build_report(ws.campaign, stats)
        assert len(rep.accepted) == stats.products.accepted
        assert len(rep.not_accepted) == stats.products.not_accepted + stats.products.incomplete
        assert len(rep.not_replied) == stats.units.missing + stats.units.waiting
        assert len(rep.late) == stats.units.late
        assert rep.volume == f"{stats.products.accepted}/{stats.products.total}"


def test_date_line_and_bar_allocation():
    assert date_line("Hà Nội", dt.date(2026, 6, 5)) == "Hà Nội, ngày 05 tháng 6 năm 2026"
    assert date_line("Hà Nội", dt.date(2026, 2, 15)) == "Hà Nội, ngày 15 tháng 02 năm 2026"
    assert date_line("Hà Nội", dt.date(2026, 12, 31)) == "Hà Nội, ngày 31 tháng 12 năm 2026"
    for counts in ([7, 2, 1, 128], [4, 1, 1, 6], [0, 0, 0, 5], [1, 1, 1, 1000], [138, 0, 0, 0]):
        cells = allocate(counts, 40)
        assert sum(cells) == 40
        assert all((c > 0) == (n > 0) for c, n in zip(cells, counts))
    assert allocate([0, 0, 0, 0], 40) == [0, 0, 0, 0]


# ------------------------------------------------------------------------------------ tracker missing
def test_missing_csv_and_table(scen):
    ws, ids = scen
    stats = campaign_stats(ws, AS_OF)
    want = [u for u in stats.unit_rows if u.deadline_status in ("missing", "waiting")]
    res = _run("missing", "-C", str(ws.root), "--format", "csv", "--as-of", "10/06/2026")
    assert res.exit_code == 0
    assert res.output.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(res.output.lstrip("\ufeff"))))
    assert rows[0] == ["STT", "Mã đơn vị", "Đơn vị", "Khối", "Email", "Điện thoại", "Tình trạng", "Lý do từ chối"]
    assert [r[1] for r in rows[1:]] == [u.unit_id for u in want]
    assert len(rows) - 1 == stats.units.missing == 128
    by = {r[1]: r for r in rows[1:]}
    assert by["so-congthuong"][4:] == [*CONTACTS["so-congthuong"], DEADLINE_VI["missing"], ""]
    assert by["so-dantoc-tongiao"][5] == "'" + EVIL_AT          # neutralised for spreadsheets
    # A unit whose only file was refused has no valid return, but it did send one: say so, and why.
    refused = by[ids["rejected"]]
    assert refused[6] == "Đã gửi, bị từ chối"
    assert refused[7].startswith("Nhận ngày 03/06/2026: Tệp 'e-bad.xlsx', trang") and "'Có'" in refused[7]
    assert [r[1] for r in rows[1:] if r[6] == "Đã gửi, bị từ chối"] == [ids["rejected"]]
    assert not any(uid in by for uid in ("so-khcn", ids["manual"], ids["late_xp"]))
    # Before the due date the same units are waiting, and those that replied by then are gone; a
    # file refused after that date is not known yet.
    early = missing_units(campaign_stats(ws, dt.date(2026, 6, 2)), refusals(ws, dt.date(2026, 6, 2)))
    assert {r.deadline_status for r in early} == {"waiting"} and not any(r.refused for r in early)
    early = missing_units(campaign_stats(ws, dt.date(2026, 6, 4)))
    assert {r.deadline_status for r in early} == {"waiting"} and len(early) == 131
    assert missing_csv(early).count(DEADLINE_VI["waiting"]) == 131
    res = _run("missing", "-C", str(ws.root), "--as-of", "10/06/2026")
    assert res.exit_code == 0
    assert "128 đơn vị chưa có văn bản hợp lệ: 127 đơn vị chưa gửi, 1 đơn vị đã gửi nhưng tệp bị từ chối" in res.output
    assert "vanphong@socongthuong.hanoi.gov.vn" in res.output and EVIL_AT in res.output
    assert "Đã gửi, bị từ" in res.output and "e-bad.xlsx" in res.output     # in a table: words wrap


# ------------------------------------------------------------------------------------ PDF
def _pdf_pages(path: Path) -> list[tuple[float, float]]:
    """(width, height) in points of every page of a PDF written by LibreOffice."""
    data = path.read_bytes()
    sizes = []
    for chunk in data.split(b"endobj"):
        if re.search(rb"/Type\s*/Page(?![s\w])", chunk):
            m = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", chunk)
            assert m, "a page without its MediaBox"
            x0, y0, x1, y1 = (float(v) for v in m.groups())
            sizes.append((x1 - x0, y1 - y0))
    return sizes


A4 = (595.3, 841.9)


def _is_a4(size, portrait=None) -> bool:
    w, h = size
    if portrait is True:
        return abs(w - A4[0]) < 1 and abs(h - A4[1]) < 1
    return _is_a4(size, True) or (abs(w - A4[1]) < 1 and abs(h - A4[0]) < 1)


@needs_soffice
def test_report_renders_to_a4_pdf(written, tmp_path):
    ws, _, stats, xlsx, docx, _ = written
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(docx, src / "bao-cao-docx.docx")
    shutil.copy(xlsx, src / "bao-cao-xlsx.xlsx")
    profile = tmp_path / "lo-profile"
    out = tmp_path / "pdf"
    subprocess.run([soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(out), str(src / "bao-cao-docx.docx"),
                    str(src / "bao-cao-xlsx.xlsx")], check=True, capture_output=True, timeout=240)
    doc_pages = _pdf_pages(out / "bao-cao-docx.pdf")
    book_pages = _pdf_pages(out / "bao-cao-xlsx.pdf")
    assert len(doc_pages) >= 3 and all(_is_a4(s, portrait=True) for s in doc_pages)
    assert _is_a4(book_pages[0], portrait=True)                  # "Tổng hợp" prints portrait
    assert len(book_pages) >= 5 and all(_is_a4(s) for s in book_pages)
    if shutil.which("pdftotext"):
        from test_form_print import pdf_words

        # The words in reading order, not -layout's lines: where the paragraph wraps is the fonts' choice.
        text = " ".join(w.text for page in pdf_words(out / "bao-cao-docx.pdf") for w in page)
        assert "7/138 sản phẩm đủ điều kiện nghiệm thu" in text
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text


def test_report_extremes_nothing_returned_and_everything_accepted(ws):
    """The empty lists have their own wording; no table is left empty; the numbers still hold."""
    import docx as python_docx

    from tracker.reports.workbook import build_report_workbook
    from tracker.store.ledger import Submission
    from tracker.reports.document import build_report_docx
    from tracker.stats import compute

    none = compute(ws.campaign, ws.units, {}, AS_OF)
    everyone = compute(ws.campaign, ws.units, {u.id: [Submission(u.id, dt.date(2026, 6, 1), answers={
        (p.id, c.id): "met" for p in u.products for c in ws.campaign.criteria})] for u in ws.units}, AS_OF)
    for stats, volume, absent in ((none, "0/138", "Chưa có sản phẩm nào đủ điều kiện nghiệm thu."),
                                  (everyone, "138/138", "Tất cả các đơn vị đã gửi văn bản xác nhận.")):
        rep = build_report(ws.campaign, stats)
        doc = python_docx.Document(io.BytesIO(build_report_docx(rep)))
        text = "\n".join(p.text for p in doc.paragraphs)
        assert f"{volume} sản phẩm đủ điều kiện nghiệm thu" in text and absent in text
        assert all(len(t.rows) >= 1 for t in doc.tables)
        wb = openpyxl.load_workbook(io.BytesIO(build_report_workbook(rep)))
        assert "/".join(map(str, _volume(_sheet_rows(wb, "Tổng hợp")))) == volume
        assert len(_list_body(_sheet_rows(wb, "Chưa nộp"))) == stats.units.missing
