"""The campaign template and the unit registry: the built-in data, and bad registries refused."""
import csv
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SHARED
from tracker.model.campaign import builtin_path, load_campaign, template_path
from tracker.cli import main
from tracker.model.errors import TrackerError
from tracker.model.registry import COLUMNS, load_registry

CAMPAIGN = load_campaign(template_path(None))
REGISTRY = builtin_path("units-hanoi-2026.csv")


def test_builtin_campaign_matches_the_letter():
    c = CAMPAIGN
    assert c.id == "hanoi-ttdt-2026"
    assert c.due.isoformat() == "2026-06-05"          # "trước ngày 06/6/2026"
    assert c.answers == ("Đáp ứng", "Chưa đáp ứng")
    assert [cr.group for cr in c.criteria] == ["Chức năng hệ thống", "Giao diện UX/UI", "Nội dung thông tin",
                                              "Tương thích", "Hiệu năng hệ thống", "Đào tạo, hỗ trợ"]
    assert c.criteria[3].detail == "Hoạt động tốt trên Chrome, Firefox, Edge"
    assert [g.form for g in c.groups] == ["Phụ lục 01", "Phụ lục 02"]
    assert "1812/2025/TTDLCNS/VNPT-VTC-NEKO" in c.section("contract")["text"]
    assert c.section("support")["phone"] == "0988755769"
    letter = SHARED / "reference" / "000_7fe5338c2dfe13c6.txt"
    if letter.exists():  # the criteria texts are verbatim (shared/ lies beside the clone, in CI too)
        text = letter.read_text(encoding="utf-8")
        for cr in c.criteria:
            assert cr.detail in text


def test_builtin_registry_has_the_136_units_and_138_products():
    units = load_registry(REGISTRY, CAMPAIGN)
    assert len(units) == 136
    assert sum(u.group == "so-ban-nganh" for u in units) == 10
    assert sum(u.group == "xa-phuong" for u in units) == 126
    products = [p for u in units for p in u.products]
    assert len(products) == 138
    assert sorted(p.name for p in products if p.kind == "chuyen_trang") == [
        "Chuyên trang Chuyển đổi số Thành phố", "Chuyên trang Cải cách hành chính Thành phố"]
    names = {u.name for u in units}
    assert {"Phường Hoàn Kiếm", "Sở Y tế", "Hội Nông dân Thành phố", "Xã Sóc Sơn"} <= names
    assert next(u for u in units if u.name == "Phường Hoàn Kiếm").domain == "hoankiem.hanoi.gov.vn"
    assert next(u for u in units if u.name == "Sở Khoa học và Công nghệ").domain == ""  # never invented
    for u in units:
        assert unicodedata.is_normalized("NFC", u.name)
    assert len({u.id for u in units}) == 136


def write_registry(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in COLUMNS})
    return path


GOOD = {"id": "xp-1", "group": "xa-phuong", "name": "Phường Một", "kind": "phường",
        "products": "site=Trang TTĐT của địa phương"}


@pytest.mark.parametrize("bad, expect", [
    ([GOOD, dict(GOOD, name="Phường Hai")], "trùng với dòng 2"),
    ([dict(GOOD, group="quan-huyen")], "khối 'quan-huyen' không có"),
    ([dict(GOOD, email="hoankiem@@hanoi")], "email 'hoankiem@@hanoi' không hợp lệ"),
    ([dict(GOOD, name=unicodedata.normalize("NFD", "Phường Hoàn Kiếm"))], "NFC"),
    ([dict(GOOD, id="")], "sản phẩm không thuộc đơn vị nào"),
    ([dict(GOOD, products="")], "không có sản phẩm"),
    ([dict(GOOD, products="Trang TTĐT")], "sai dạng"),
    ([dict(GOOD, domain="http://x")], "tên miền"),
    ([dict(GOOD, kind="quận")], "dòng 2: chưa có cơ quan chủ quản, chức danh thủ trưởng, danh sách nơi nhận"),
    ([dict(GOOD, kind="")], "cột kind để trống"),
])
def test_bad_registry_is_refused_with_a_clear_message(tmp_path, bad, expect):
    path = write_registry(tmp_path / "units.csv", bad)
    with pytest.raises(TrackerError) as e:
        load_registry(path, CAMPAIGN)
    text = str(e.value) + " ".join(e.value.details)
    assert expect in text
    assert "units.csv" in text


def test_init_refuses_a_bad_registry_without_traceback_and_writes_nothing(tmp_path):
    path = write_registry(tmp_path / "units.csv", [GOOD, GOOD])
    result = CliRunner().invoke(main, ["init", str(tmp_path / "camp"), "--units", str(path)])
    assert result.exit_code == 1
    assert "trùng với dòng 2" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "camp").exists()


def test_init_refuses_to_overwrite_a_campaign(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(tmp_path / "c")]).exit_code == 0
    units = tmp_path / "c" / "units.csv"
    units.write_text(units.read_text(encoding="utf-8").replace("xp-00070,xa-phuong,Phường Hoàn Kiếm,phường,00070,"
                                                                "hoankiem.hanoi.gov.vn,", "xp-00070,xa-phuong,Phường "
                                                                "Hoàn Kiếm,phường,00070,hoankiem.hanoi.gov.vn,"),
                     encoding="utf-8")
    before = units.read_bytes()
    again = runner.invoke(main, ["init", str(tmp_path / "c")])
    assert again.exit_code == 1 and "--force" in again.output
    assert units.read_bytes() == before
    forced = runner.invoke(main, ["init", str(tmp_path / "c"), "--force"])
    assert forced.exit_code == 0
    assert any(p.name.startswith("units-") for p in (tmp_path / "c" / "backups").iterdir())


def test_another_campaign_needs_only_a_template_and_a_registry(tmp_path):
    text = template_path(None).read_text(encoding="utf-8")
    text = text.replace('id = "hanoi-ttdt-2026"', 'id = "hue-2027"').replace('due = "2026-06-05"', 'due = "2027-03-31"')
    text = text.replace('met = "Đáp ứng"', 'met = "Đạt"').replace('not_met = "Chưa đáp ứng"', 'not_met = "Không đạt"')
    tpl = tmp_path / "hue.toml"
    tpl.write_text(text, encoding="utf-8")
    reg = write_registry(tmp_path / "hue.csv", [dict(GOOD, id="hue-1", name="Phường Thuận Hóa", email="a@hue.gov.vn")])
    result = CliRunner().invoke(main, ["init", str(tmp_path / "hue"), "--template", str(tpl), "--units", str(reg)])
    assert result.exit_code == 0, result.output
    gen = CliRunner().invoke(main, ["generate", "-C", str(tmp_path / "hue")])
    assert gen.exit_code == 0, gen.output
    import openpyxl

    wb = openpyxl.load_workbook(next((tmp_path / "hue" / "outbox").rglob("*.xlsx")))
    dv = wb["Biên bản xác nhận"].data_validations.dataValidation
    assert dv and all(v.formula1 == '"Đạt,Không đạt"' for v in dv)


def test_every_builtin_unit_has_the_facts_its_form_states():
    """Governing body, head's title and copies: the template's defaults for the unit's kind, or
    the row's own; every one of the 136 units has all three, in Vietnamese administrative usage."""
    from tracker.model.registry import unit_facts

    units = {u.id: u for u in load_registry(REGISTRY, CAMPAIGN)}
    facts = {uid: unit_facts(CAMPAIGN, u) for uid, u in units.items()}
    for uid, f in facts.items():
        assert f.governing_body and f.head_title and f.copies, uid
        assert f.copies[0] == "Như trên;" and f.copies[-1] == "Lưu: VT, VP.", uid
    kinds = {u.kind for u in units.values()}
    assert kinds == {"sở", "ban", "trung tâm", "hội", "xã", "phường"}
    for uid, u in units.items():
        f = facts[uid]
        if u.kind == "sở":
            assert f.governing_body == "UBND THÀNH PHỐ HÀ NỘI" and f.head_title == "Giám đốc Sở"
            assert f.copies[1:3] == ("Giám đốc Sở (để b/c);", "Các Phó Giám đốc Sở;")
            assert f.in_text == u.name
        elif u.kind in ("xã", "phường"):
            assert f.governing_body == "ỦY BAN NHÂN DÂN" and f.governing_body_bold
            assert f.copies[1:3] == (f"Chủ tịch UBND {u.kind} (để b/c);", f"Các PCT UBND {u.kind};")
            assert f.in_text == f"UBND {u.kind} {u.name.split(' ', 1)[1]}"     # "UBND xã Hương Sơn"
    assert facts["xp-00004"].in_text == "UBND phường Ba Đình"
    # The Ban QLDA is headed by a Giám đốc (its row says so); the Hội is not under UBND Thành phố.
    assert facts["bqlda-giaothong"].head_title == "Giám đốc Ban"
    assert facts["bqlda-giaothong"].copies[1:3] == ("Giám đốc Ban (để b/c);", "Các Phó Giám đốc Ban;")
    assert facts["bqlda-giaothong"].governing_body == "UBND THÀNH PHỐ HÀ NỘI"
    assert facts["tt-phvhcc"].head_title == "Giám đốc Trung tâm"
    assert facts["tt-phvhcc"].governing_body == "UBND THÀNH PHỐ HÀ NỘI"
    assert facts["hoi-nongdan"].head_title == "Chủ tịch Hội"
    assert "UBND" not in facts["hoi-nongdan"].governing_body


def test_a_row_gives_its_own_governing_body_head_and_copies(tmp_path):
    from tracker.model.registry import unit_facts

    row = dict(GOOD, kind="sở", group="so-ban-nganh", name="Sở Thử", governing_body="BỘ THỬ NGHIỆM",
               head_title="Giám đốc", copies="Như trên;| {head_title} (để b/c);|Lưu: VT.")
    [unit] = load_registry(write_registry(tmp_path / "units.csv", [row]), CAMPAIGN)
    f = unit_facts(CAMPAIGN, unit)
    assert (f.governing_body, f.head_title) == ("BỘ THỬ NGHIỆM", "Giám đốc")
    assert f.copies == ("Như trên;", "Giám đốc (để b/c);", "Lưu: VT.")
    # A kind with no default at all is fine when the row gives all three.
    [unit] = load_registry(write_registry(tmp_path / "units.csv", [dict(row, kind="viện")]), CAMPAIGN)
    assert unit_facts(CAMPAIGN, unit).governing_body == "BỘ THỬ NGHIỆM"


def test_the_registry_builder_writes_the_builtin_registry(tmp_path):
    """tools/build_registry.py, run on the reference data, gives templates/units-hanoi-2026.csv."""
    import importlib.util

    data = SHARED / "data"
    if not (data / "hanoi-departments-2026.csv").exists():
        pytest.skip("reference data not beside the clone")
    spec = importlib.util.spec_from_file_location(
        "build_registry", Path(__file__).resolve().parent.parent / "tools" / "build_registry.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / "units.csv"
    tool.main(data, out)
    assert out.read_bytes() == REGISTRY.read_bytes()


# ---------------------------------------------------------------------- units.csv as Excel saves it
TWO = [dict(GOOD, email="a@x.gov.vn; b@x.gov.vn"),
       dict(GOOD, id="xp-2", name="Phường Hai, Ba", email="c@x.gov.vn", products="site=Trang|ct=Chuyên trang")]


def as_units(units) -> list:
    return [(u.id, u.name, u.email, [p.id for p in u.products]) for u in units]


def csv_text(rows: list[dict], delimiter=",", line_end="\r\n") -> str:
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, COLUMNS, delimiter=delimiter, lineterminator=line_end)
    w.writeheader()
    for r in rows:
        w.writerow({k: r.get(k, "") for k in COLUMNS})
    return buf.getvalue()


@pytest.mark.parametrize("how", ["bom_crlf", "cr_only", "trailing_empty_rows", "semicolons", "utf16_tabs"])
def test_registry_saved_by_excel_in_its_usual_ways_is_read_the_same(tmp_path, how):
    want = as_units(load_registry(write_registry(tmp_path / "plain.csv", TWO), CAMPAIGN))
    if how == "bom_crlf":
        data = ("\ufeff" + csv_text(TWO)).encode("utf-8")
    elif how == "cr_only":           # old Mac line ends, as some exports still write
        data = csv_text(TWO, line_end="\r").encode("utf-8")
    elif how == "trailing_empty_rows":   # Excel keeps ',,,' for rows that once held something
        data = (csv_text(TWO) + "," * (len(COLUMNS) - 1) + "\r\n" + ",,,\r\n\r\n").encode("utf-8")
    elif how == "semicolons":        # Excel with Vietnamese regional settings; emails quoted as they hold ';'
        data = csv_text(TWO, delimiter=";").encode("utf-8")
        assert b'"a@x.gov.vn; b@x.gov.vn"' in data
    else:                            # Excel's "Unicode Text": UTF-16 with BOM, tabs
        data = csv_text(TWO, delimiter="\t").encode("utf-16")
    path = tmp_path / "units.csv"
    path.write_bytes(data)
    assert as_units(load_registry(path, CAMPAIGN)) == want


def test_a_duplicate_column_is_refused_naming_it_never_blanking_every_address(tmp_path):
    text = csv_text(TWO).splitlines()
    text[0] += ",email"                      # a second 'email' column, empty: DictReader kept the last
    text[1:] = [line + "," for line in text[1:]]
    path = tmp_path / "units.csv"
    path.write_text("\r\n".join(text) + "\r\n", encoding="utf-8")
    with pytest.raises(TrackerError) as e:
        load_registry(path, CAMPAIGN)
    said = " ".join(e.value.details)
    from openpyxl.utils import get_column_letter

    second = get_column_letter(len(COLUMNS) + 1)       # the column added after the last one
    assert "cột 'email' có hai lần" in said and f"H1, {second}1" in said


def test_cells_under_no_column_are_refused_saying_where(tmp_path):
    # An unquoted comma in a name shifts the row's cells one column right: its last one has no column.
    from openpyxl.utils import get_column_letter

    row = {c: "" for c in COLUMNS} | dict(id="xp-9", group="xa-phuong", name="Phường Chín, Ba", kind="xã",
                                           products="site=Trang")
    row[COLUMNS[-1]] = "Công văn số 1"
    shifted = ",".join(row[c] for c in COLUMNS) + "\r\n"       # the name's comma is not quoted
    path = tmp_path / "units.csv"
    path.write_text(csv_text([GOOD]) + shifted, encoding="utf-8")
    with pytest.raises(TrackerError) as e:
        load_registry(path, CAMPAIGN)
    said = " ".join(e.value.details)
    assert f"dòng 3, cột {get_column_letter(len(COLUMNS) + 1)}: có nội dung 'Công văn số 1'" in said


@pytest.mark.parametrize("damage, expect", [
    (b"xp-2,xa-phuong,Ph\x00uong,,,,,,,site=Trang,\r\n", "dòng 3, cột name: có ký tự điều khiển"),
    (b'xp-2,xa-phuong,"Phuong Hai' + b"x" * 140_000, "dòng 3: không đọc được"),     # a quote never closed
    (b"", "thiếu cột"),
    ("id;nhóm;tên\r\n".encode("utf-8"), "thiếu cột"),
    ("xp-2,xa-phuong,Xã Hà\r\n".encode("cp1252", "replace"), "không phải UTF-8"),   # saved as "CSV (Comma delimited)"
])
def test_a_registry_that_cannot_be_read_says_why_never_unexpected_error(tmp_path, damage, expect):
    path = tmp_path / "units.csv"
    head = csv_text([GOOD]).encode("utf-8") if expect not in ("thiếu cột",) else b""
    path.write_bytes(head + damage)
    result = CliRunner().invoke(main, ["init", str(tmp_path / "camp"), "--units", str(path)])
    assert result.exit_code == 1 and expect in result.output, result.output
    assert "không mong đợi" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("group_id", ["../../x", "a/b", "..", "khối một", "C:x"])
def test_a_template_group_id_that_is_not_a_safe_folder_name_is_refused(tmp_path, group_id):
    text = template_path(None).read_text(encoding="utf-8").replace('id = "xa-phuong"', f'id = "{group_id}"')
    tpl = tmp_path / "mau.toml"
    tpl.write_text(text, encoding="utf-8")
    reg = write_registry(tmp_path / "dv.csv", [dict(GOOD, group=group_id)])
    result = CliRunner().invoke(main, ["init", str(tmp_path / "d" / "camp"), "--template", str(tpl), "--units",
                                       str(reg)])
    assert result.exit_code == 1 and f"id '{group_id}' không hợp lệ" in result.output, result.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["dv.csv", "mau.toml"]     # nothing written anywhere


def test_a_criterion_id_that_cannot_name_a_cell_is_refused(tmp_path):
    text = template_path(None).read_text(encoding="utf-8").replace('id = "c3"', 'id = "c 3"')
    tpl = tmp_path / "mau.toml"
    tpl.write_text(text, encoding="utf-8")
    with pytest.raises(TrackerError, match="id 'c 3' không hợp lệ"):
        load_campaign(tpl)
