"""Issue 3: a batch of returns as units send them back (tests/corpus.py: 80 files of 70+ classes),
merged in one run through the CLI. Every file must be accepted or refused as a user would expect,
with a Vietnamese message naming the file (and sheet and cell when it is about a cell); the good
files of the batch merged; ledger, stats JSON and master checked row by row; every input kept
byte-identical in the archive; no traceback anywhere.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import unicodedata
import zipfile
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import needs_soffice
from corpus import AS_OF, Corpus
from tracker.cli import main
from tracker.master.workbook import PRODUCT_ID_HEADER, columns
from tracker.model.dates import VN_TZ
from tracker.model.findings import Finding
from tracker.store.ledger import Ledger
from tracker.api import merge
from tracker.store.workspace import Workspace

VIETNAMESE = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)
NFC = lambda s: unicodedata.normalize("NFC", s)  # noqa: E731


def _stats(root: Path) -> dict:
    res = CliRunner().invoke(main, ["stats", "-C", str(root), "--format", "json", "--as-of", AS_OF.isoformat()])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


@pytest.fixture(scope="module")
def batch(generated_campaign, tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(generated_campaign, root / "camp")
    ws = Workspace(root / "camp")
    corpus = Corpus(ws, root / "inbox")
    cases = corpus.build()
    inputs = {c.path: c.path.read_bytes() for c in cases}
    res = CliRunner().invoke(main, ["merge", str(root / "inbox"), "-C", str(ws.root)])
    with Ledger(ws.ledger_file) as led:
        returns = {r["origin"]: dict(r) for r in led.returns()}
        subs = {s.return_id: s for unit_subs in led.history().values() for s in unit_subs}
    for r in returns.values():
        r["findings"] = [Finding.from_record(f) for f in json.loads(r["findings"])]
    return SimpleNamespace(ws=ws, root=root, corpus=corpus, cases=cases, inputs=inputs, cli=res,
                           returns=returns, subs=subs, stats=_stats(ws.root))


def _row(batch, case) -> dict:
    row = batch.returns.get(str(case.path))
    assert row is not None, f"{case.cls}: {case.path.name} not in ledger.returns"
    return row


def test_corpus_is_broad(batch):
    classes = {c.cls for c in batch.cases}
    assert len(classes) >= 50, sorted(classes)
    assert {"accepted", "replaced", "stale", "duplicate", "rejected"} <= {c.outcome for c in batch.cases}
    assert len({c.code for c in batch.cases if c.outcome == "rejected"}) >= 15


def test_cli_run_is_clean(batch):
    res = batch.cli
    assert res.exit_code == 1, res.output           # some files are refused
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    out = NFC(res.output)
    for c in batch.cases:
        assert NFC(c.path.name) in out, f"{c.cls}: {c.path.name} not reported"
    rejected = sum(c.outcome == "rejected" for c in batch.cases)
    assert f"từ chối {rejected}." in out


@pytest.mark.parametrize("kind", ["accepted", "replaced", "stale", "duplicate", "rejected"])
def test_every_file_has_the_expected_outcome(batch, kind):
    for c in (c for c in batch.cases if c.outcome == kind):
        row = _row(batch, c)
        codes = [f.code for f in row["findings"]]
        assert row["outcome"] == c.outcome, f"{c.cls}: {row['outcome']} {codes}"
        if c.unit_id is not None or c.outcome == "rejected":
            assert row["unit_id"] == c.unit_id, c.cls
        if c.code:
            assert c.code in codes, f"{c.cls}: {codes}"
        for code in c.absent:
            assert code not in codes, f"{c.cls}: {codes}"
        if c.warnings is not None:
            assert {f.code for f in row["findings"] if f.severity == "warning"} == c.warnings, c.cls
        errors = [f for f in row["findings"] if f.severity == "error"]
        if c.outcome == "rejected":
            assert errors and errors[0].code == c.code, f"{c.cls}: {codes}"
        else:
            assert not errors, f"{c.cls}: {[e.message for e in errors]}"


def test_messages_say_where_and_what_to_do(batch):
    for c in batch.cases:
        row = _row(batch, c)
        for f in row["findings"]:
            msg = NFC(f.message)
            assert f.code != "read_failed", f"{c.cls}: the reader crashed: {f.value}"
            assert "Traceback" not in msg and "Error" not in msg, f"{c.cls}: {msg}"
            assert VIETNAMESE.search(msg), f"{c.cls}: not Vietnamese: {msg}"
            assert unicodedata.is_normalized("NFC", f.message.replace(row["name"], "")), c.cls
            if f.severity == "error" or f.cell:
                assert NFC(row["name"]) in msg, f"{c.cls}: file name missing: {msg}"
            if f.cell:
                assert f"trang '{f.sheet}'" in msg and f"ô {f.cell}" in msg, f"{c.cls}: {msg}"
        if c.cell:
            hit = [f for f in row["findings"] if f.code == c.code]
            assert any(f.cell == c.cell and (f.sheet == c.sheet or c.sheet == "Sheet") for f in hit), \
                f"{c.cls}: {[(f.sheet, f.cell) for f in hit]}"
        if c.outcome == "rejected":
            err = next(f for f in row["findings"] if f.severity == "error")
            assert re.search(r"(đề nghị|gửi lại|kiểm tra|không ghép)", err.message, re.I), f"{c.cls}: {err.message}"
            if err.code in ("bad_answer", "bad_answer_type", "formula_in_answer"):
                assert "Đáp ứng" in err.message and "Chưa đáp ứng" in err.message, err.message   # the values allowed
                assert err.value != "", c.cls


def test_rejected_returns_are_in_the_ledger_with_their_findings(batch):
    rejected = [c for c in batch.cases if c.outcome == "rejected"]
    for c in rejected:
        row = _row(batch, c)
        assert row["outcome"] == "rejected" and row["findings"], c.cls
        assert not any(s.return_id == row["id"] for s in batch.subs.values()), c.cls


def _notes(batch, case) -> dict:
    """The notes a case says the ledger holds, keyed as the ledger keys them (product id, criterion)."""
    unit = batch.ws.unit_by_id[case.unit_id]
    return {(f"{unit.id}/{key[0]}", key[1]) if isinstance(key, tuple) else (unit.products[0].id, key): text
            for key, text in (case.notes or {}).items()}


def test_recorded_answers_and_texts(batch):
    for c in (c for c in batch.cases if c.recorded):
        row = _row(batch, c)
        sub = batch.subs.get(row["id"])
        assert sub is not None and sub.unit_id == c.unit_id, c.cls
        assert sub.answers == c.answers, f"{c.cls}: {sub.answers} != {c.answers}"
        assert sub.received_at == c.received, c.cls
        assert sub.stale == (c.outcome == "stale"), c.cls
        for key, text in _notes(batch, c).items():
            assert sub.notes.get(key) == text, f"{c.cls}: note {key}: {sub.notes.get(key)!r}"
        assert len(sub.notes) == len(_notes(batch, c)) or c.notes is None, (c.cls, sub.notes)
        if c.proposals is not None:
            assert sub.proposals == c.proposals, c.cls
        if c.signer is not None:
            assert sub.signer == c.signer, f"{c.cls}: {sub.signer!r}"


def _expected_rows(batch) -> dict:
    """product_id -> the stats row a user expects."""
    current, first = batch.corpus.current_cases(), batch.corpus.first_received()
    due = batch.ws.campaign.due
    out = {}
    for u in batch.ws.units:
        case = current.get(u.id)
        for p in u.products:
            if case is None:
                answers = {c.id: "blank" for c in batch.ws.campaign.criteria}
                status, deadline, received, when = "pending", "missing", None, None
            else:
                # The current version's time: its file's modification time (the corpus sets it at
                # local noon of its received day; the workbooks' own saved times are later than that,
                # so not plausible), in Vietnam time.
                when = dt.datetime.combine(case.received, dt.time(12)).astimezone(VN_TZ).isoformat()
                answers = {c.id: case.answers[(p.id, c.id)] for c in batch.ws.campaign.criteria}
                vals = set(answers.values())
                status = "not_accepted" if "not_met" in vals else "incomplete" if "blank" in vals else "accepted"
                deadline = "on_time" if first[u.id] <= due else "late"      # by the first version
                received = case.received.isoformat()                         # the current one's day
            out[p.id] = {"unit_id": u.id, "unit_name": u.name, "group": u.group, "product": p.name,
                         "status": status, "deadline_status": deadline, "received_at": received,
                         "received_time": when, "answers": answers,
                         "signed_copy": None}       # the corpus's only PDF has no page: refused
    return out


def test_stats_json_row_by_row(batch):
    expected = _expected_rows(batch)
    rows = batch.stats["rows"]
    assert len(rows) == len(expected) == 138
    by_product = {}
    for r in rows:
        unit = batch.ws.unit_by_id[r["unit_id"]]
        pid = next(p.id for p in unit.products if p.name == r["product"])
        by_product[pid] = r
    for pid, exp in expected.items():
        assert by_product[pid] == exp, pid
    units = batch.stats["units"]
    returned = {c.unit_id for c in batch.cases if c.recorded}
    assert units["returned"] == len(returned)
    assert units["late"] == sum(1 for d in batch.corpus.first_received().values() if d > batch.ws.campaign.due)
    assert units["missing"] == 136 - len(returned)
    products = batch.stats["products"]
    for key in ("accepted", "not_accepted", "incomplete", "pending"):
        assert products[key] == sum(1 for e in expected.values() if e["status"] == key), key


def test_master_row_by_row(batch):
    wb = openpyxl.load_workbook(batch.ws.root / "master.xlsx")
    col = {h: i + 1 for h, i in columns(batch.ws.campaign).items()}
    expected = _expected_rows(batch)
    met, not_met = batch.ws.campaign.answers
    text = {"met": met, "not_met": not_met, "blank": None}
    current = batch.corpus.current_cases()
    seen = set()
    for ws in wb.worksheets:
        if ws.cell(4, col[PRODUCT_ID_HEADER]).value != PRODUCT_ID_HEADER:
            continue
        for r in range(5, ws.max_row + 1):
            pid = ws.cell(r, col[PRODUCT_ID_HEADER]).value
            if pid not in expected:
                continue
            seen.add(pid)
            exp = expected[pid]
            for i, c in enumerate(batch.ws.campaign.criteria, 1):
                assert ws.cell(r, col[f"TC{i}"]).value == text[exp["answers"][c.id]], (pid, c.id)
            case = current.get(exp["unit_id"])
            for header in ("Ghi chú", "Đề xuất, kiến nghị", "Người ký"):
                cell = ws.cell(r, col[header])
                assert cell.data_type != "f", (pid, header, cell.value)     # unit text never becomes a formula
            if case is not None and case.proposals is not None:
                assert ws.cell(r, col["Đề xuất, kiến nghị"]).value == case.proposals, pid
            if case is not None and case.notes:
                shown = ws.cell(r, col["Ghi chú"]).value or ""
                for (product, _), note in _notes(batch, case).items():
                    assert (note in shown) == (product == pid), (pid, shown)     # its product's row only
    assert seen == set(expected)


def test_note_starting_with_equals_stays_text_in_master(batch):
    case = next(c for c in batch.cases if c.cls == "note_starts_with_equals")
    wb = openpyxl.load_workbook(batch.ws.root / "master.xlsx")
    col = {h: i + 1 for h, i in columns(batch.ws.campaign).items()}
    pid = f"{case.unit_id}/site"
    for ws in wb.worksheets:
        for r in range(5, ws.max_row + 1):
            if ws.cell(r, col[PRODUCT_ID_HEADER]).value == pid:
                prop = ws.cell(r, col["Đề xuất, kiến nghị"])
                assert prop.data_type == "s" and prop.value == case.proposals
                assert ws.cell(r, col["Ghi chú"]).data_type == "s"
                assert case.notes["c4"] in ws.cell(r, col["Ghi chú"]).value
                return
    pytest.fail("product row not found in master")


def test_every_input_is_archived_byte_identical(batch):
    for path, data in batch.inputs.items():
        digest = hashlib.sha256(data).hexdigest()
        assert path.read_bytes() == data, f"input changed: {path}"
        found = list((batch.ws.root / "archive" / digest[:2]).glob(f"{digest}*"))
        assert found, f"{path.name} not archived"
        assert all(f.read_bytes() == data for f in found)
        row = batch.returns[str(path)]
        assert row["sha256"] == digest
        assert (batch.ws.root / row["archived"]).read_bytes() == data


@needs_soffice
def test_libreoffice_filled_returns(batch):
    """Filled in LibreOffice over UNO (typed into the cells), saved as .xlsx, .xls and .ods."""
    lo = [c for c in batch.cases if c.soffice]
    assert {c.cls for c in lo} >= {"libreoffice_xlsx", "libreoffice_xls", "libreoffice_ods", "xls_named_xlsx"}
    xlsx = next(c for c in lo if c.cls == "libreoffice_xlsx")
    with zipfile.ZipFile(xlsx.path) as z:
        assert b"LibreOffice" in z.read("docProps/app.xml")     # really written by LibreOffice
        assert b"TRK_A_site_c1" in z.read("xl/workbook.xml")
    for c in lo:
        row = _row(batch, c)
        assert row["outcome"] in ("accepted", "replaced"), (c.cls, [f.message for f in row["findings"]])
        assert batch.subs[row["id"]].answers == c.answers, c.cls


def test_merging_the_same_inbox_again_changes_nothing(batch):
    """Through the library: every recorded file is now 'already merged', every refused one refused again."""
    before = _stats(batch.ws.root)
    report = merge(batch.ws, [batch.root / "inbox"])
    assert report.exit_code == 1
    by_origin = {f.origin: f for f in report.files}
    for c in batch.cases:
        f = by_origin[str(c.path)]
        if c.outcome == "rejected":
            assert f.outcome == "rejected" and f.findings[0].code == c.code or \
                c.code in [x.code for x in f.findings if x.severity == "error"], c.cls
            assert NFC(c.path.name) in NFC(f.message), c.cls
        else:
            assert f.outcome == "duplicate", (c.cls, f.outcome)
    assert _stats(batch.ws.root)["rows"] == before["rows"]


def test_an_older_version_received_later_is_kept_as_history(batch):
    """The same file again: exit 0. An older version with --received earlier than the current one:
    recorded as stale, stats unchanged, exit 0."""
    case = next(c for c in batch.cases if c.cls == "good")
    unit = batch.ws.unit_by_id[case.unit_id]
    again = CliRunner().invoke(main, ["merge", str(case.path), "-C", str(batch.ws.root)])
    assert again.exit_code == 0 and "Đã ghép trước đó" in again.output, again.output   # a duplicate is no failure
    older = batch.root / "late-arrival" / "ban-cu.xlsx"
    older.parent.mkdir()
    batch.corpus.save(batch.corpus.filled(unit, batch.corpus.keys(unit, c1="not_met")), older)
    before = _stats(batch.ws.root)
    res = CliRunner().invoke(main, ["merge", str(older), "-C", str(batch.ws.root), "--received", "01/06/2026"])
    assert res.exit_code == 0, res.output
    assert "cũ hơn" in res.output and "ban-cu.xlsx" in res.output
    after = _stats(batch.ws.root)
    rows = lambda doc: [r for r in doc["rows"] if r["unit_id"] == unit.id]  # noqa: E731
    assert [r["answers"] for r in rows(after)] == [r["answers"] for r in rows(before)]
    assert rows(after) == rows(before)      # the current version, its day and time, are the newer copy's
    with Ledger(batch.ws.ledger_file) as led:
        last = led.returns()[-1]
        assert last["outcome"] == "stale" and last["unit_id"] == unit.id


# ---------------------------------------------------------------------------- mutated returns
_SHEET_EDITS = [
    (r'r="([A-Z]+)(\d+)"', ['r="{1}"', 'r="{2}"', 'r="ZZZZ99999999"', 'r=""', 'r="a1"', 'r="$E$1"']),
    (r't="s"', ['t="x"', 't="n"', 't="b"', 't="e"', 't="d"', 't="str"', 't="inlineStr"']),
    (r'<v>(\d+)</v>', ['<v>-1</v>', '<v>999999</v>', '<v>abc</v>', '<v></v>', '<v>1e400</v>', '<v>nan</v>']),
    (r'<row r="(\d+)"', ['<row r="0"', '<row r="-3"', '<row r="abc"', '<row', '<row r="99999999999"']),
    (r'</c>', ['', '</c></c>', '<f/></c>', '<f t="shared" si="0"/></c>', '<is/></c>']),
]
_BOOK_EDITS = [
    (r'(<definedName[^>]*>)[^<]*(</definedName>)',
     ["{1}'Biên bản xác nhận'!$E$24:$E$25{2}", "{1}#REF!{2}", "{1}{2}", "{1}Sheet1!A1,Sheet1!B2{2}",
      "{1}'unterminated!$A$1{2}", "{1}'_tracker'!$B$99{2}", "{1}_tracker!B1{2}", "{1}=1+1{2}"]),
    (r'r:id="[^"]*"', ['r:id="rId99"', '', 'r:id=""']),
    (r'name="[^"]*"', ['name=""', 'name="_tracker"', 'name="Biên bản xác nhận"', 'name="x\'y"']),
]
_RELS_EDITS = [(r'Target="[^"]*"', ['Target="/xl/worksheets/sheet1.xml"', 'Target="../../etc/passwd"', 'Target=""',
                                    'Target="worksheets/nope.xml"', 'Target="sharedStrings.xml"'])]


def test_mutated_returns_are_read_right_or_refused_cleanly(generated_campaign, tmp_path):
    """Hundreds of seeded edits to the XML and bytes of good returns: each is refused with a clean
    finding, or read with exactly the answers the file holds; never an exception."""
    import io
    import random

    from tracker.intake import safety
    from tracker.model.findings import IntakeError
    from tracker.intake.reader import read_return

    from corpus import rewrite_zip

    ws = Workspace(generated_campaign)      # read only
    corpus = Corpus(ws, tmp_path / "fuzz")
    rng = random.Random(2026)
    target = tmp_path / "mutated.xlsx"
    outcomes = {"read": 0, "refused": 0}
    for unit in (ws.unit_by_id["so-khcn"], ws.units[20]):
        keys = corpus.mixed(unit)
        good, expected = corpus.good_file(unit, keys), corpus.expect(unit, keys)
        with zipfile.ZipFile(io.BytesIO(good)) as z:
            parts = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xml", ".rels"))}
        edits = {"xl/worksheets/sheet1.xml": _SHEET_EDITS, "xl/worksheets/sheet3.xml": _SHEET_EDITS,
                 "xl/workbook.xml": _BOOK_EDITS, "xl/_rels/workbook.xml.rels": _RELS_EDITS}
        for i in range(130):
            if i < 100:
                member = rng.choice(sorted(edits))
                pattern, choices = rng.choice(edits[member])
                text = parts[member]
                hits = list(re.finditer(pattern, text))
                for m in sorted(rng.sample(hits, min(len(hits), rng.randint(1, 4))), key=lambda m: -m.start()):
                    text = text[:m.start()] + rng.choice(choices).format(*[m[0], *m.groups()]) + text[m.end():]
                data = rewrite_zip(good, {member: lambda _, t=text: t.encode("utf-8")})
            else:
                buf = bytearray(good)
                for _ in range(rng.randint(1, 8)):
                    buf[rng.randrange(len(buf))] = rng.randrange(256)
                data = bytes(buf)
            target.write_bytes(data)
            try:
                kind = safety.check_file(target, target.name)
                if kind not in ("xlsx", "xlsm"):
                    continue
                reading = read_return(target, target.name, ws.campaign, ws.unit_by_id, ws.secret)
            except IntakeError as e:
                assert target.name in e.finding.message and VIETNAMESE.search(e.finding.message)
                outcomes["refused"] += 1
                continue
            if reading.errors:
                outcomes["refused"] += 1
                assert all(target.name in f.message for f in reading.errors)
            else:
                outcomes["read"] += 1
                assert reading.unit_id == unit.id and reading.answers == expected, (i, reading.findings)
    assert outcomes["read"] > 20 and outcomes["refused"] > 100, outcomes


@needs_soffice
def test_every_answer_recorded_is_the_answer_libreoffice_shows(batch, tmp_path):
    """Issue 14, the differential test over the corpus: for every file recorded, the answers are those
    of the criteria table LibreOffice shows (hidden rows, columns, sheets left out; formats and colours
    applied: tests/displayed.py), and no other table shown disagrees."""
    from conftest import soffice
    from displayed import recorded_vs_shown

    compared, problems = recorded_vs_shown(batch.ws, soffice(), tmp_path)
    assert not problems, "\n".join(problems[:20])
    assert compared >= sum(c.recorded for c in batch.cases)     # (and files other tests merged into it)


@needs_soffice
def test_without_libreoffice_old_formats_are_refused_saying_save_as_xlsx(batch, generated_campaign, tmp_path,
                                                                          monkeypatch):
    from tracker.intake import convert

    monkeypatch.setattr(convert, "_soffice", lambda: None)
    shutil.copytree(generated_campaign, tmp_path / "camp")
    ws = Workspace(tmp_path / "camp")
    old = [c for c in batch.cases if c.cls in ("libreoffice_xls", "libreoffice_ods", "xls_named_xlsx")]
    report = merge(ws, [c.path for c in old])
    assert report.exit_code == 1
    for c, f in zip(old, report.files):
        assert f.outcome == "rejected" and f.findings[0].code == "needs_libreoffice", (c.cls, f.findings)
        assert ".xlsx" in f.message and "Lưu thành" in f.message and c.path.name in f.message
