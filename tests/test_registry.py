"""The campaign template and the unit registry: the built-in data, and bad registries refused."""
import csv
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

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
    letter = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "000_7fe5338c2dfe13c6.txt"
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

    data = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    if not (data / "hanoi-departments-2026.csv").exists():
        pytest.skip("reference data not beside the clone")
    spec = importlib.util.spec_from_file_location(
        "build_registry", Path(__file__).resolve().parent.parent / "tools" / "build_registry.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / "units.csv"
    tool.main(data, out)
    assert out.read_bytes() == REGISTRY.read_bytes()
