"""`tracker generate`: every unit workbook and the master, checked as a user and Excel would see them."""
import re
import zipfile

import openpyxl
from click.testing import CliRunner
from openpyxl.utils.cell import range_boundaries
from xlsxwriter.worksheet import Worksheet

from conftest import needs_soffice, ooxml_check, soffice_convert
from tracker.cli import main
from tracker.model import ident
from tracker.master import workbook as master_form
from tracker.outbound.sheets import SafeSheet
from tracker.api import generate
from tracker.demo.simulate import cell_of
from tracker.model.registry import unit_facts
from tracker.store.workspace import Workspace


def cells_of(sqref) -> set[str]:
    out = set()
    for rng in str(sqref).split():
        c1, r1, c2, r2 = range_boundaries(rng)
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                out.add(f"{openpyxl.utils.get_column_letter(c)}{r}")
    return out


def cached_value(path, coordinate: str) -> str:
    """The value a formula cell of the form holds for programs that do not recalculate."""
    import html

    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    return html.unescape(re.search(rf'<c r="{coordinate}"[^>]*><f>[^<]*</f><v>([^<]*)</v>', xml)[1])


def dest(wb, name):
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    return sheet, ref.replace("$", "")


def test_outbox_has_exactly_one_ascii_named_workbook_per_unit(ws):
    files = sorted(ws.outbox.rglob("*"))
    workbooks = [f for f in files if f.is_file()]
    assert len(workbooks) == 136
    assert all(f.suffix == ".xlsx" for f in workbooks)
    for u in ws.units:
        path = ws.outbox_path(u)
        assert path.exists()
        assert path.name.isascii() and u.id in path.name
    assert ws.outbox_path(ws.unit_by_id["xp-00070"]).name == "xp-00070-phuong-hoan-kiem.xlsx"


def test_every_unit_workbook_is_personalised_protected_and_identified(ws):
    met, not_met = ws.campaign.answers
    for unit in ws.units:
        wb = openpyxl.load_workbook(ws.outbox_path(unit))
        assert wb.sheetnames == [ident.FORM_SHEET, ident.GUIDE_SHEET, ident.ID_SHEET]
        form = wb[ident.FORM_SHEET]
        texts = [str(c.value) for row in form.iter_rows() for c in row if c.value is not None]
        assert unit.name.upper() in texts, unit.id
        # The conclusion follows the domain cells of I.2: a formula over them, its value cached.
        facts = unit_facts(ws.campaign, unit)
        [formula] = [c for row in form.iter_rows() for c in row if str(c.value).startswith("=")]
        for p in unit.products:
            assert dest(wb, ident.domain_name(p.key))[1] in formula.value, unit.id
        cached = cached_value(ws.outbox_path(unit), formula.coordinate)
        assert f"Trang thông tin điện tử của {facts.in_text} đang hoạt động" in cached
        assert (unit.domain or "nêu tại mục I.2") in cached
        assert formula.protection.locked is not False
        # Products side by side under "Mức độ đáp ứng", in registry order.
        for p in unit.products:
            assert p.name in texts
        # Domain input, prefilled from the registry (blank when unknown, never invented).
        for p in unit.products:
            sheet, ref = dest(wb, ident.domain_name(p.key))
            expected = unit.domain if p.kind == "site" else ""
            assert (form[ref].value or "") == expected
            assert form[ref].protection.locked is False
        # One list validation per answer cell, on no other cell.
        answer_cells = set()
        for p in unit.products:
            for cr in ws.campaign.criteria:
                sheet, ref = dest(wb, ident.answer_name(p.key, cr.id))
                assert sheet == ident.FORM_SHEET
                answer_cells.add(ref)
                assert form[ref].protection.locked is False
                assert form[ref].value is None
                # the criterion's label sits on the answer's row
                row = int(re.sub(r"\D", "", ref))
                assert cr.group in [c.value for c in form[row]]
        assert len(answer_cells) == 6 * len(unit.products)
        validated = set()
        for sheet in wb.worksheets:
            for dv in sheet.data_validations.dataValidation:
                assert sheet.title == ident.FORM_SHEET
                assert dv.type == "list" and dv.formula1 == f'"{met},{not_met}"'
                assert dv.errorStyle in (None, "stop") and dv.showErrorMessage  # absent means stop
                assert dv.prompt and dv.showInputMessage
                validated |= cells_of(dv.sqref)
        assert validated == answer_cells
        # Protection on; every cell with content that is not an input is locked.
        assert form.protection.sheet is True
        inputs = {dest(wb, n)[1] for n in wb.defined_names if n.startswith("TRK_") and
                  dest(wb, n)[0] == ident.FORM_SHEET}
        for row in form.iter_rows():
            for c in row:
                if c.value is not None and c.coordinate not in inputs:
                    assert c.protection.locked is not False, (unit.id, c.coordinate)
        # Identification: very hidden, and the token verifies.
        assert wb[ident.ID_SHEET].sheet_state == "veryHidden"
        values = {key: wb[dest(wb, name)[0]][dest(wb, name)[1]].value for name, key in ident.ID_FIELDS}
        assert values["campaign_id"] == ws.campaign.id and values["unit_id"] == unit.id
        assert ident.token_ok(ws.secret, ws.campaign.id, unit.id, values["template_version"], values["token"])
        other = "xp-00082" if unit.id != "xp-00082" else "xp-00070"
        assert not ident.token_ok(ws.secret, ws.campaign.id, other, values["template_version"], values["token"])


def test_unit_form_print_setup_follows_decree_30(ws):
    """Every form prints at (or very near) 100 %, never shrunk to a page; page numbers from page 2;
    black and white; Times New Roman. What LibreOffice prints of it: tests/test_form_print.py."""
    scales = {}
    for unit in ws.units:
        with zipfile.ZipFile(ws.outbox_path(unit)) as z:
            setup = re.search(r"<pageSetup [^>]*>", z.read("xl/worksheets/sheet1.xml").decode())[0]
        assert "fitToWidth" not in setup and "fitToHeight" not in setup
        scales[unit.id] = int((re.search(r'scale="(\d+)"', setup) or [0, 100])[1])      # absent: 100
    for unit in [u for u in ws.units if u.group == "so-ban-nganh"] + ws.units[-5:]:
        wb = openpyxl.load_workbook(ws.outbox_path(unit))
        form = wb[ident.FORM_SHEET]
        ps = form.page_setup
        assert ps.paperSize == 9 and ps.orientation == "portrait"
        assert not (form.sheet_properties.pageSetUpPr and form.sheet_properties.pageSetUpPr.fitToPage)
        assert ps.blackAndWhite
        m = form.page_margins
        assert round(m.left * 25.4) == 30 and round(m.right * 25.4) == 15
        assert round(m.top * 25.4) == 20 and round(m.bottom * 25.4) == 20
        hf = form.HeaderFooter
        assert hf.differentFirst and "&P" in hf.oddHeader.center.text and not hf.firstHeader.center.text
        fonts = {c.font.name for row in form.iter_rows() for c in row if c.value is not None}
        assert fonts == {"Times New Roman"}
        sizes = {c.font.sz for row in form.iter_rows() for c in row if c.value is not None}
        assert 13 in sizes and 14 in sizes and max(sizes) <= 14      # "Kính gửi" 14
    # Forms with two products need 99 %; every other prints at 100 %.
    assert all(95 <= s <= 100 for s in scales.values())
    assert {u for u, s in scales.items() if s != 100} <= {"so-khcn", "so-noivu"}


def test_master_has_a_row_per_product_dropdowns_deadlines_and_cached_formulas(ws):
    wb = openpyxl.load_workbook(ws.master_file)
    assert wb.sheetnames[:3] == [master_form.SUMMARY_SHEET, "Sở, ban, ngành", "Xã, phường"]
    cached = openpyxl.load_workbook(ws.master_file, data_only=True)
    cols = master_form.columns(ws.campaign)
    for name, n in (("Sở, ban, ngành", 12), ("Xã, phường", 126)):
        sh = wb[name]
        header = [c.value for c in sh[master_form.HEADER_ROW + 1]]
        for h in ("STT", "Đơn vị", "Tên miền", "Sản phẩm", "Hạn nộp", "Ngày nhận", "Tình trạng hạn", "Kết quả",
                  "Ghi chú", "Đề xuất, kiến nghị", "Người ký", "Tệp nguồn"):
            assert h in header
        first = master_form.FIRST_ROW + 1
        ids = [sh.cell(r, cols[master_form.PRODUCT_ID_HEADER] + 1).value for r in range(first, first + n + 2)]
        assert len([i for i in ids if i]) == n
        # criterion dropdowns over the six criterion columns of every row
        dvs = [dv for dv in sh.data_validations.dataValidation if dv.type == "list"]
        covered = set().union(*(cells_of(dv.sqref) for dv in dvs))
        for r in range(first, first + n):
            for k in range(6):
                assert f"{openpyxl.utils.get_column_letter(cols['TC1'] + 1 + k)}{r}" in covered
            result = sh.cell(r, cols["Kết quả"] + 1)
            assert str(result.value).startswith("=IF(")
            assert cached[name].cell(r, cols["Kết quả"] + 1).value == "Chưa nhận"
            assert str(sh.cell(r, cols["Tình trạng hạn"] + 1).value).startswith("=IF(")
            assert cached[name].cell(r, cols["Tình trạng hạn"] + 1).value in ("Quá hạn, chưa nộp", "Đang chờ")
            assert sh.cell(r, cols["Hạn nộp"] + 1).value.date() == ws.campaign.due
        assert sh.freeze_panes and sh.auto_filter.ref
        assert sh.page_setup.orientation == "landscape" and sh.page_setup.paperSize == 9
    summary = cached[master_form.SUMMARY_SHEET]
    values = [[c.value for c in row] for row in summary.iter_rows()]
    total = next(r for r in values if r[0] == "Tổng cộng")
    assert total[1] == 136 and total[7] == 138 and total[11] == 138
    assert summary._charts or wb[master_form.SUMMARY_SHEET]._charts


def test_registry_and_unit_text_that_looks_like_a_formula_stays_text(tmp_path):
    from tracker.model.campaign import builtin_path

    src = builtin_path("units-hanoi-2026.csv").read_text(encoding="utf-8")
    evil = '"=HYPERLINK(""http://evil.example"",""bấm"")"'
    src = src.replace("Phường Hoàn Kiếm,", f"{evil},", 1)
    reg = tmp_path / "units.csv"
    reg.write_text(src, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(tmp_path / "c"), "--units", str(reg)]).exit_code == 0
    assert runner.invoke(main, ["generate", "-C", str(tmp_path / "c")]).exit_code == 0
    w = Workspace(tmp_path / "c")
    unit = w.unit_by_id["xp-00070"]
    for path in (w.outbox_path(unit), w.master_file):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/"):
                    formulas = re.findall(r"<f[^>]*>([^<]*)</f>", z.read(name).decode())
                    assert not [f for f in formulas if "HYPERLINK" in f], (path.name, name)  # never in a <f>
        wb = openpyxl.load_workbook(path)
        found = [c for sh in wb.worksheets for row in sh.iter_rows() for c in row
                 if isinstance(c.value, str) and "HYPERLINK" in c.value]
        assert found and all(c.data_type == "s" for c in found)


def test_regenerating_loses_nothing(ws):
    unit = ws.units[0]
    path = ws.outbox_path(unit)
    result = generate(ws)
    assert len(result.unchanged) == 136 and not result.written   # same content: untouched
    own = ws.outbox / "ghi-chu-cua-toi.txt"
    own.write_text("của nhân viên", encoding="utf-8")
    edited = bytearray(path.read_bytes())
    path.write_bytes(bytes(edited) + b"\0")                     # a file someone changed by hand
    result = generate(ws)
    assert [p.name for p in result.written] == [path.name]
    assert len(result.backed_up) == 1 and result.backed_up[0].read_bytes() == bytes(edited) + b"\0"
    assert own.read_text(encoding="utf-8") == "của nhân viên"


def test_generate_cli_names_where_the_files_are(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(tmp_path / "c")]).exit_code == 0
    result = runner.invoke(main, ["generate", "-C", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert "outbox" in result.output and "master.xlsx" in result.output and "136" in result.output


@needs_soffice
def test_libreoffice_prints_the_master(ws, tmp_path):
    """Real LibreOffice opens the master and prints it (the forms: tests/test_form_print.py)."""
    from test_form_print import has, pdf_words

    master_pdf = soffice_convert(ws.master_file, "pdf", tmp_path / "pdf")
    # Word sequences, not lines: the name's cell wraps where LibreOffice's fonts make it.
    pages = pdf_words(master_pdf)
    assert any(has(p, "Phường", "Hoàn", "Kiếm") for p in pages) and any(has(p, "TỔNG", "HỢP") for p in pages)


def test_the_masters_fast_paths_write_what_xlsxwriter_would(ws, outbox, tmp_path, monkeypatch):
    """Formulas and text cells skip xlsxwriter's per-cell preparation: the workbook must be the
    same bytes, with texts that need every kind of escape among those that do not."""
    import datetime as dt

    import tracker.master.workbook as m
    from tracker.store.ledger import Ledger
    from tracker.api import merge
    from tracker.demo.simulate import fill
    from tracker.stats import compute

    odd = ["  lề trái", "lề phải ", "A & B <c> \"d\"", "_x0041_ giữ nguyên", "tab\there", "dòng\nmới",
           "😀 ngoài BMP", "<r>giả rich</r>", "\u00a0khoảng trắng cứng", "bình thường"]
    files = []
    for i, unit in enumerate(ws.units[:len(odd)]):
        files.append(fill(outbox[unit.id], tmp_path / f"r{i}.xlsx", "met", notes={"c1": odd[i], "c2": odd[-1 - i]},
                          proposals=odd[i], signer=odd[-1 - i] or "A"))
    merge(ws, files, received=dt.date(2026, 6, 4), report=False)
    with Ledger(ws.ledger_file) as led:
        stats = compute(ws.campaign, ws.units, led.history(), dt.date(2026, 6, 10))
        returns, names = led.returns(), led.source_names()
    assert sum(1 for r in stats.rows if r.status != "pending") >= len(odd)

    def build():
        return m.build_master(ws.campaign, ws.units, stats, returns, source_names=names,
                              created=dt.datetime(2026, 6, 10))
    fast = build()
    monkeypatch.setattr(m._MasterSheet, "_prepare_formula", Worksheet._prepare_formula)
    monkeypatch.setattr(m._MasterSheet, "_write_cell", Worksheet._write_cell)
    assert build() == fast


def test_the_masters_text_cells_match_xlsxwriter_on_any_text(monkeypatch):
    """Characters no unit can type in Excel (control characters, non-characters) still reach the
    master through hand edits and emails: the fast path writes them exactly as xlsxwriter does
    through a SafeSheet (which cuts the 40,000 characters with a mark)."""
    import datetime as dt
    import io

    import xlsxwriter

    import tracker.master.workbook as m

    texts = ["chuông\x07", "nul\x00", "\ufffe\uffff", "_x005F_", "\x1f cuối\x1f", "\u2003em", "cuối\u2003",
             "a\r\nb", "Sở A & Sở B", "a > b", "trích \"dẫn\"", "bình thường", "", "Đáp ứng", "x" * 40000]

    def build(cls):
        buf = io.BytesIO()
        wb = xlsxwriter.Workbook(buf, {"constant_memory": True})
        wb.set_properties({"created": dt.datetime(2026, 6, 1)})   # else the time of the build, to the second
        bold = wb.add_format({"bold": True})
        sh = wb.add_worksheet("a", worksheet_class=cls)
        sh.set_column(2, 2, 12, bold)
        sh.set_row(3, None, bold)
        for r, t in enumerate(texts):
            sh.write_string(r, 0, t)
            sh.write_string(r, 1, t, bold)
            sh.write_string(r, 2, t)
            sh.write_number(r, 3, r * 1.5)
        wb.close()
        return buf.getvalue()

    assert build(m._MasterSheet) == build(SafeSheet)


def test_the_master_built_a_group_at_a_time_is_the_master_built_at_once(ws, outbox, tmp_path):
    """write_master builds the master a group at a time (flat memory at national scale): the
    same bytes as from the stats of all units at once, for a campaign with returns in each group."""
    import datetime as dt

    import tracker.master.workbook as m
    from tracker.store.ledger import Ledger
    from tracker.api import merge
    from tracker.demo.simulate import fill
    from tracker.stats import compute

    picks = [u for g in ws.campaign.groups for u in [x for x in ws.units if x.group == g.id][:4]]
    files = [fill(outbox[u.id], tmp_path / f"r{i}.xlsx", "not_met" if i % 3 == 0 else "met",
                  notes={"c2": f"ghi chú {i}"}, proposals=f"đề xuất {i}") for i, u in enumerate(picks)]
    merge(ws, files, received=dt.date(2026, 6, 4), report=False)
    day = dt.date(2026, 6, 10)
    with Ledger(ws.ledger_file) as led:
        at_once = m.build_master(ws.campaign, ws.units, compute(ws.campaign, ws.units, led.history(), day),
                                 led.returns(), source_names=led.source_names(), created=dt.datetime(2026, 6, 10))

        def group_stats(group_id):
            members = [u for u in ws.units if u.group == group_id]
            ids = [u.id for u in members]
            return compute(ws.campaign, members, led.history(unit_ids=ids), day), led.source_names(ids)
        by_group = m.build_master(ws.campaign, ws.units, group_stats, led.distinct_returns(),
                                  created=dt.datetime(2026, 6, 10))
    assert by_group == at_once


def form_texts(path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [" ".join(str(c.value).split()) for row in wb[ident.FORM_SHEET].iter_rows() for c in row
            if c.value is not None]


def test_the_letters_number_and_date_reach_every_form_once_known(ws):
    """Dots while the Centre has not set them in campaign.toml; the letter's number and date once it has."""
    for uid in ("so-yte", "xp-00004"):
        texts = form_texts(ws.outbox_path(ws.unit_by_id[uid]))
        assert any(t.startswith("(Kèm theo Công văn số ...../TTDLCNS-HCQLTT ngày ..... tháng ..... năm 2026 của")
                   for t in texts)
        assert any("Theo đề nghị tại Công văn số ...../TTDLCNS-HCQLTT ngày ...../...../2026 của" in t for t in texts)
    toml = ws.campaign_file.read_text(encoding="utf-8")
    toml = toml.replace('letter_number = "/TTDLCNS-HCQLTT"', 'letter_number = "125/TTDLCNS-HCQLTT"', 1)
    ws.campaign_file.write_text(toml.replace('letter_date = ""', 'letter_date = "02/6/2026"', 1), encoding="utf-8")
    result = generate(Workspace(ws.root))
    assert len(result.written) == 136
    for uid in ("so-yte", "xp-00004", "so-khcn"):
        texts = form_texts(ws.outbox_path(ws.unit_by_id[uid]))
        assert any(t.startswith("(Kèm theo Công văn số 125/TTDLCNS-HCQLTT ngày 02 tháng 6 năm 2026 của") for t in texts)
        assert any("Theo đề nghị tại Công văn số 125/TTDLCNS-HCQLTT ngày 02/6/2026 của" in t for t in texts)
        assert not any("....." in t for t in texts if "Công văn" in t)
    ws.campaign_file.write_text(toml.replace('letter_date = ""', 'letter_date = "32/6/2026"', 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["generate", "-C", str(ws.root)])
    assert result.exit_code == 1 and "letter_date '32/6/2026'" in result.output and "Traceback" not in result.output


def test_the_letterhead_as_nghi_dinh_30_sets_it(ws):
    for uid in ("so-yte", "hoi-nongdan", "xp-00382"):
        unit = ws.unit_by_id[uid]
        facts = unit_facts(ws.campaign, unit)
        wb = openpyxl.load_workbook(ws.outbox_path(unit))
        form = wb[ident.FORM_SHEET]
        cells = {str(c.value): c for row in form.iter_rows() for c in row if c.value is not None}
        parent = cells[facts.governing_body.upper()]
        name = cells[unit.name.upper()]
        assert name.font.b and parent.font.b == facts.governing_body_bold
        assert name.row == parent.row + 1 and parent.column == name.column == 1
        rule = form.cell(name.row + 1, 1)                     # a short rule under the name
        assert set(rule.value) == {"_"} and rule.font.sz < 13
        assert cells["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"].font.b and cells["Độc lập - Tự do - Hạnh phúc"].font.u
        docno = cell_of(wb, ident.NAME_DOCNO)
        assert docno.value.startswith("Số:") and not docno.font.b and docno.font.sz == 13
        date = cell_of(wb, ident.NAME_DOCDATE)
        assert date.font.i and date.value.startswith("Hà Nội, ngày")
        kinh_gui = next(c for v, c in cells.items() if v.startswith("Kính gửi:"))
        assert kinh_gui.font.sz == 14
    # The Hội is not under UBND Thành phố; a phường's name stays capitalised only where it starts the name.
    assert "UBND THÀNH PHỐ HÀ NỘI" not in form_texts(ws.outbox_path(ws.unit_by_id["hoi-nongdan"]))


def test_the_guide_sheet_says_where_to_send_and_what(ws):
    toml = ws.campaign_file.read_text(encoding="utf-8")
    for email, scan, where, rule in (
            ("", "requested", "bằng cách trả lời (Reply) thư điện tử đã gửi tệp này cho đơn vị",
             "Bắt buộc gửi tệp Excel (.xlsx) đã điền; đề nghị gửi kèm bản scan"),
            ("xacnhan@ttdl.example.vn", "required", "qua thư điện tử tới địa chỉ xacnhan@ttdl.example.vn",
             "Bắt buộc gửi cả tệp Excel (.xlsx) đã điền và bản scan")):
        ws.campaign_file.write_text(toml.replace('email = ""', f'email = "{email}"', 1)
                                    .replace('signed_scan = "requested"', f'signed_scan = "{scan}"', 1), encoding="utf-8")
        w = Workspace(ws.root)
        generate(w)
        wb = openpyxl.load_workbook(w.outbox_path(w.unit_by_id["xp-00070"]))
        guide = " ".join(" ".join(str(c.value).split()) for row in wb[ident.GUIDE_SHEET].iter_rows() for c in row
                         if isinstance(c.value, str))
        assert f"Gửi về Trung tâm Truyền thông, Dữ liệu và Công nghệ số Thành phố {where}, trước ngày 06/6/2026" in guide
        assert rule in guide
        assert ("email: xacnhan@ttdl.example.vn" in guide) == bool(email)


def test_every_form_passes_the_ooxml_checks(ws, tmp_path):
    """All 136 forms, and one whose criteria table runs over a page (print titles, page breaks)."""
    from test_form_print import long_campaign

    from tracker.outbound.unit_form import build_unit_workbook

    long = tmp_path / "long.xlsx"
    build_unit_workbook(long_campaign(), ws.unit_by_id["xp-00070"], ws.secret, str(long))
    ooxml_check(*[ws.outbox_path(u) for u in ws.units], long)
