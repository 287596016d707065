"""The findings registry: every code declared once, rendered with sample values in every variant;
every place that makes a finding uses a declared code with the parameters its words need; the
ledger keeps fields, not sentences, and an old ledger's sentences still show."""
from __future__ import annotations

import ast
import json
import pickle
import re
import unicodedata
from pathlib import Path

import openpyxl
import pytest

from tracker.model import findings as F
from tracker.model.findings import CODES, FIELDS, Finding, FindingError, IntakeError

ROOT = Path(__file__).resolve().parent.parent
VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)

FIELD_SAMPLES = dict(file="xp-00070-phuong-hoan-kiem.xlsx", sheet="Biên bản", cell="E30", value="Đạt",
                     expected="“Đáp ứng”, “Chưa đáp ứng” hoặc để trống")
PARAM_SAMPLES = dict(
    facts="cơ quan chủ quản", columns="governing_body",
    size_mb="25,0", max_mb="20,0", max="2000", part="xl/workbook.xml", row="31", seconds="60", exit_code="1",
    megabytes="1024", reason="Permission denied", kind="xls", unit="Phường Hoàn Kiếm", units="Phường A, Phường B",
    sender="vanthu@hoankiem.hanoi.gov.vn", subject="Biên bản đã ký", attachments="scan.pdf", format="eml",
    criterion="Nội dung thông tin", product="Chuyên trang Du lịch", text="Đạt", criteria="“Nội dung thông tin”",
    form_sheet="Biên bản", products="“Trang TTĐT”", first_sheet="Biên bản", first_row="20", field="note",
    legacy="tcvn3", answer="Đáp ứng", kept="shown", other_unit="Phường Cửa Nam", merged_on="05/06/2026",
    earlier="bien-ban.xlsx", current="04/06/2026", received="03/06/2026", met="Đáp ứng", not_met="Chưa đáp ứng",
    column="name", other_row="2", name="bien-ban.xlsx", count="3", examples="a, b, c", server="smtp.hanoi.gov.vn:587",
    suffix=".xls", problem="Danh sách đơn vị 'units.csv' có 1 lỗi", why="", cells="E1, H1", letter="L", other="xl/Workbook.xml", hidden="row",
    holder="lệnh 'tracker merge inbox/' (máy VP-01, tiến trình 4242)", backup="backups/secret.key",
    what="workbooks", limit="2000", registered="vanthu@hoankiem.hanoi.gov.vn", other_units="Phường Cửa Nam",
    moved="", length="40.000",
    page="2", size="100000 × 100000", max_mpx="60", signature="Signature1", signer="Nguyễn Văn An (UBND Phường Ba Đình)",
    issuer="CA thử nghiệm", roots="2", valid_until="01/01/2026", valid_from="01/01/2027", checked_on="05/06/2026",
    pages="3", file_unit="Phường Ba Đình (xp-00004)", sender_unit="Sở Y tế (so-yte)", method="qr",
    folder="D:\\chien-dich\\archive\\e0", free="0 byte", during="merge",
)


def cases():
    """(code, variant key or None, finding) for every code and every variant of it."""
    for code, spec in CODES.items():
        for key in [None, *spec.variants]:
            fields, params = dict(FIELD_SAMPLES), {p: PARAM_SAMPLES[p] for p in spec.params}
            if key is not None and spec.by in FIELDS:
                fields[spec.by] = key
            elif key is not None:
                params[spec.by] = key
            elif spec.by in params:
                params[spec.by] = "?"          # no variant: the code's own words
            yield code, key, Finding(code, **fields, **params)


CASES = list(cases())


def test_the_registry_is_complete():
    assert len(CODES) >= 90
    for code, spec in CODES.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", code) and spec.code == code
        assert spec.severity in F.SEVERITIES and spec.group in F.GROUPS, code
        assert spec.title and spec.template, code
        declared = set(spec.params) | ({spec.by} if spec.by and spec.by not in FIELDS else set())
        assert set(spec.params) >= declared, f"{code}: declare the variant's parameter {spec.by}"
        # The parameters declared are those its words use (a {label} uses the criterion and product).
        used = set().union(*(F.placeholders(t) for t in spec.templates())) - set(FIELDS)
        if "label" in used:
            used = (used - {"label"}) | {"criterion", "product"}
        assert used <= set(spec.params), f"{code}: undeclared {used - set(spec.params)}"
        assert set(spec.params) - {spec.by} <= used, f"{code}: unused {set(spec.params) - used}"
        # Advice says what to do whatever the fields: the guide prints it as it is.
        for advice in (spec.unit, spec.staff, *(t for v in spec.variants.values() for t in (v.unit, v.staff) if t)):
            assert not F.placeholders(advice), f"{code}: advice takes no field: {advice}"
    assert set(PARAM_SAMPLES) >= {p for s in CODES.values() for p in s.params}


@pytest.mark.parametrize("code,key,finding", CASES, ids=[f"{c}-{k}" for c, k, _ in CASES])
def test_every_code_renders_in_every_variant(code, key, finding):
    assert not F.check(finding)
    for lang in ("vi", "en", None):
        text = finding.text(lang)
        assert "{" not in text and "}" not in text, text
        assert text.startswith(finding.statement(lang)) and finding.advice(lang) in text
    text = finding.text("vi")
    assert VIETNAMESE.search(text) and unicodedata.is_normalized("NFC", text), text
    assert finding.message == str(finding) == text          # the tests run in Vietnamese
    spec = CODES[code]
    if spec.group not in ("info", "registry", "verify", "mail") and spec.severity == "error":
        assert FIELD_SAMPLES["file"] in text, text              # a refusal names the file
    if "{cell}" in spec.wording(key)[0]:
        assert "trang 'Biên bản'" in text and "ô E30" in text
    if spec.severity != "info":
        assert finding.advice("vi"), f"{code}: say what to do"


def _outside_quotes_and_values(text: str) -> str:
    """`text` without the values a finding was given (unit, sheet, file names stay Vietnamese) and
    without the document words quoted “…” (the answers, sheet names the user sees in the workbook)."""
    for value in sorted(set(FIELD_SAMPLES.values()) | set(PARAM_SAMPLES.values()), key=len, reverse=True):
        text = text.replace(value, "")
    return re.sub(r"“[^”]*”", "", text)


def test_every_code_reads_in_english():
    """An English-speaking administrator reads every finding in English (tools/catalogs.py): its
    statement, its advice, and the registry's own words (titles, guide sections, choices)."""
    for code, key, finding in CASES:
        for text in (finding.statement("en"), finding.advice("en")):
            assert not VIETNAMESE.search(_outside_quotes_and_values(text)), f"{code} ({key}): {text}"
    words = [*(w for pair in F.GROUPS.values() for w in pair), *F.SEVERITY_TITLE.values(), *F.BLANK.values(),
             *(w for choice in F.CHOICES.values() for w in choice.values()),
             *(spec.title for spec in CODES.values()), *(v.title for s in CODES.values() for v in s.variants.values())]
    for word in filter(None, words):
        english = F.in_language("en", word)
        assert not VIETNAMESE.search(re.sub(r"“[^”]*”", "", english)), f"{word!r} -> {english!r}"


def test_a_wrong_finding_fails_in_tests_and_shows_its_placeholder_elsewhere(monkeypatch):
    with pytest.raises(ValueError, match="unknown"):
        Finding("no_such_code", file="a.xlsx")
    with pytest.raises(ValueError, match="'seconds' missing"):
        Finding("too_slow", file="a.xlsx")
    with pytest.raises(ValueError, match="not declared"):
        Finding("empty", file="a.xlsx", colour="red")
    monkeypatch.setattr(F, "STRICT", False)
    f = Finding("too_slow", file="a.xlsx")
    assert "{seconds}" in f.message and "a.xlsx" in f.message
    assert Finding("no_such_code", file="a.xlsx").message == "no_such_code a.xlsx"


# The calls that make a finding: the code is their first argument, or the helper makes one code.
MAKERS = {"Finding": None, "_fail": None, "add": None, "problem": None, "_damaged": "damaged",
          "_convert_failed": "convert_failed"}
NOT_PARAMS = set(FIELDS) | {"params"}


def _maker(call: ast.Call) -> str:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id if f.id in MAKERS and f.id != "add" else ""
    if isinstance(f, ast.Attribute) and f.attr in MAKERS:
        # ctx.add (a return being read), rep.add (verify); other .add calls are sets
        return f.attr if f.attr != "add" or (isinstance(f.value, ast.Name) and f.value.id in ("ctx", "rep")) else ""
    return ""


def test_every_place_that_makes_a_finding_declares_it():
    """Every finding made in the code names a declared code (and variant) and passes only the
    parameters that code declares: a typo fails here, not at a user's desk."""
    made = set()
    for path in sorted((ROOT / "tracker").rglob("*.py")) + [ROOT / "tools" / "fuzz.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = _maker(node) if isinstance(node, ast.Call) else ""
            if not name:
                continue
            first = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            code = MAKERS[name] or first
            if not isinstance(code, str):
                continue                    # inside the helpers themselves: the code is a variable
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            assert code in CODES, f"{where}: unknown finding code {code!r}"
            if name == "_damaged":
                assert first in CODES["damaged"].variants, f"{where}: no wording for damage {first!r}"
            extra = {k.arg for k in node.keywords if k.arg} - NOT_PARAMS
            assert extra <= set(CODES[code].params), f"{where}: {code} does not declare {extra}"
            made.add(code)
    # Every code is made somewhere (verify says the master reader's findings under its own codes).
    assert set(CODES) - made == {"verify_master_unreadable", "verify_master_no_snapshot",
                                 "verify_master_other_campaign"}


def test_findings_cross_processes_and_compare_as_values():
    f = Finding("bad_answer", file="a.xlsx", sheet="Biên bản", cell="E30", value="x", expected="y",
                criterion="Nội dung", product="", text="x")
    assert pickle.loads(pickle.dumps(f)) == f and hash(pickle.loads(pickle.dumps(f))) == hash(f)
    assert {f, Finding("bad_answer", file="a.xlsx", sheet="Biên bản", cell="E30", value="x", expected="y",
                       text="x", product="", criterion="Nội dung")} == {f}
    err = pickle.loads(pickle.dumps(IntakeError(f)))
    assert err.finding == f and str(err) == f.message and isinstance(err, FindingError)
    assert f.with_code("bad_answer") == f


def test_the_ledger_keeps_fields_and_an_old_ledgers_text_still_shows():
    f = Finding("duplicate", file="b.xlsx", merged_on="05/06/2026", earlier="a.xlsx")
    rec = f.record()
    assert "message" not in json.dumps(rec) and rec["params"] == {"earlier": "a.xlsx", "merged_on": "05/06/2026"}
    assert Finding.from_record(json.loads(json.dumps(rec))) == f
    # Written the old way: the rendered sentence, no parameters.
    old = {"code": "gone_code", "severity": "error", "message": "Tệp 'x.xlsx' có vấn đề cũ.", "file": "x.xlsx",
           "sheet": "", "cell": "", "value": "", "expected": ""}
    assert Finding.from_record(old).text("vi") == "Tệp 'x.xlsx' có vấn đề cũ."
    # A known code that needs parameters the old record lacks: its sentence as stored.
    old_dup = dict(old, code="duplicate", message="Tệp 'x.xlsx' đã được ghép ngày 01/06/2026 (tệp 'y.xlsx').")
    assert Finding.from_record(old_dup).text("vi") == old_dup["message"]
    # A known code said by its fields alone: the current words reach the history.
    old_empty = dict(old, code="empty", message="Tệp 'x.xlsx' rỗng.", value="0")
    assert Finding.from_record(old_empty).text("vi") == Finding("empty", file="x.xlsx").text("vi")


def test_the_master_log_renders_findings_from_the_ledger_old_rows_too(ws, outbox, tmp_path):
    from tracker.api import merge
    from tracker.store.ledger import Ledger

    empty = tmp_path / "in" / "rong.xlsx"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    merge(ws, [empty], report=False)
    old = {"code": "retired_code", "severity": "error", "message": "Lời báo cũ được lưu nguyên văn.",
           "file": "cu.xlsx", "sheet": "", "cell": "", "value": "", "expected": ""}
    with Ledger(ws.ledger_file) as led:
        rows = led.db.execute("SELECT findings FROM returns").fetchall()
        assert [json.loads(r[0])[0]["code"] for r in rows] == ["empty"]
        assert "message" not in rows[0][0]
        with led.transaction() as db:
            led.add_return(db, sha256="0" * 64, name="cu.xlsx", origin="cu.xlsx", archived="archive/x", size=1,
                           received_at=None, received_source="", sender="", outcome="rejected", unit_id=None,
                           findings=[old])
    merge(ws, [], report=False)                          # the master is written again from the ledger
    log = openpyxl.load_workbook(ws.master_file, read_only=True)["Nhật ký"]
    reasons = {r[2]: r[6] for r in log.iter_rows(min_row=2, values_only=True)}
    assert reasons["rong.xlsx"] == Finding("empty", file="rong.xlsx", value="0").text("vi")
    assert reasons["cu.xlsx"] == "Lời báo cũ được lưu nguyên văn."


# ---------------------------------------------------------------------- what users reported
def test_a_blank_cell_promises_no_status():
    f = Finding("blank_answer", file="a.xlsx", sheet="Biên bản", cell="E30", criterion="Nội dung", product="")
    assert "sẽ ở trạng thái" not in f.message and "để trống" in f.message
    assert "khi gửi tệp lần sau" in f.advice("vi", to="unit")       # true whether the file is taken or refused


def test_another_rounds_form_is_said_in_a_clerks_words():
    f = Finding("other_campaign", file="a.xlsx", value="hanoi-ttdt-2025", expected="hanoi-ttdt-2026")
    text = f.statement("vi") + " " + f.advice("vi", to="unit")
    assert "hanoi-ttdt-2025" not in text and "chiến dịch" not in text
    assert "đợt xác nhận khác" in text and f.value == "hanoi-ttdt-2025"


def test_a_missing_domain_says_what_to_do():
    f = Finding("no_domain", file="a.xlsx", sheet="Biên bản", cell="D12", product="Trang TTĐT")
    assert "Đề nghị đơn vị ghi địa chỉ tên miền" in f.message and "units.csv" in f.advice("vi", to="staff")
