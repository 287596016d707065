"""Nothing a unit or a registry typed becomes a live formula, link or DDE anywhere we write."""
import csv
import datetime as dt
import io
import re
import zipfile

import pytest
from click.testing import CliRunner

from fill import fill
from tracker.cli import main
from tracker.api import merge
from tracker.reports.acceptance import write_report
from tracker.cli.exports import csv_safe

PAYLOADS = ['=HYPERLINK("http://evil.example","bấm")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)",
            "\t=1+1", "\r=1+1", '=WEBSERVICE("http://evil.example")']


@pytest.mark.parametrize("payload", PAYLOADS)
def test_csv_cells_starting_like_a_formula_are_neutralised(payload):
    assert csv_safe(payload).startswith("'")
    assert csv_safe("Phường Hoàn Kiếm") == "Phường Hoàn Kiếm"


def formulas_in(path) -> list[str]:
    """Every <f> in a workbook, and every external link or DDE part."""
    found = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if "externalLink" in name or "connections" in name:
                found.append(name)
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                found += re.findall(r"<f[^>]*>([^<]*)</f>", z.read(name).decode("utf-8"))
    return found


def test_hostile_text_from_a_unit_stays_text_in_master_reports_and_csv(ws, outbox, tmp_path):
    unit = ws.unit_by_id["xp-00070"]
    hostile = fill(outbox[unit.id], tmp_path / "r.xlsx", {("site", "c2"): "not_met"},
                   notes={"c2": PAYLOADS[0], "c4": PAYLOADS[1]}, proposals=PAYLOADS[4], signer=PAYLOADS[2])
    report = merge(ws, [hostile], received=dt.date(2026, 6, 4))
    assert report.files[0].outcome == "accepted"
    # The master: our own formulas only (the deadline and result columns, the summary), no unit text in any.
    for f in formulas_in(ws.master_file):
        assert not any(p.strip("=+-@\t\r")[:8] in f for p in PAYLOADS), f
    import openpyxl

    wb = openpyxl.load_workbook(ws.master_file)
    texts = [c for sh in wb.worksheets for row in sh.iter_rows() for c in row
             if isinstance(c.value, str) and any(p in c.value for p in PAYLOADS[:2] + [PAYLOADS[4]])]
    assert texts and all(c.data_type == "s" for c in texts)
    # The merge report and the acceptance report.
    for path in [report.report_path, *write_report(ws, as_of=dt.date(2026, 6, 10), formats=("xlsx",)).paths]:
        assert not [f for f in formulas_in(path) if any(p.strip("=+-@\t\r")[:8] in f for p in PAYLOADS)]
    docx = write_report(ws, as_of=dt.date(2026, 6, 10), formats=("docx",)).paths[0]
    with zipfile.ZipFile(docx) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    assert "HYPERLINK" in xml and "<w:fldSimple" not in xml and "<w:instrText" not in xml
    # The CSVs: stats and the missing list.
    out = CliRunner().invoke(main, ["stats", "-C", str(ws.root), "--format", "csv", "--as-of", "10/06/2026"]).output
    for row in csv.reader(io.StringIO(out.lstrip("\ufeff"))):
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", cell


def test_a_registry_name_like_a_formula_stays_text_in_csv(tmp_path):
    from tracker.model.campaign import builtin_path

    src = builtin_path("units-hanoi-2026.csv").read_text(encoding="utf-8")
    reg = tmp_path / "units.csv"
    reg.write_text(src.replace("Phường Cửa Nam,", '"=1+1 Cửa Nam",', 1), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(tmp_path / "c"), "--units", str(reg)]).exit_code == 0
    out = runner.invoke(main, ["missing", "-C", str(tmp_path / "c"), "--format", "csv"]).output
    assert "'=1+1 Cửa Nam" in out
    assert not any(line.startswith("=") or ",=" in line for line in out.splitlines())
