"""The OOXML checkers in tests/ooxml are the team's (../shared/tools and ../shared/reference/ooxml-xsd)
copied as they are: where ../shared is beside the clone, the copy must still be the same, so a fix
made there reaches our tests (copy it again: see tests/ooxml/README.md)."""
from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from conftest import OOXML_TOOLS, SHARED

COPY = OOXML_TOOLS.parent


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


@pytest.mark.skipif(not (SHARED / "tools" / "ooxml_validate.py").is_file(), reason="../shared not beside the clone")
def test_the_checkers_are_the_teams_as_they_are():
    for ours, theirs in ((COPY / "tools", SHARED / "tools"),
                         (COPY / "reference" / "ooxml-xsd", SHARED / "reference" / "ooxml-xsd")):
        names = _files(theirs) if ours.name == "ooxml-xsd" else {"ooxml_validate.py", "ooxml_rules.py", "README.md"}
        assert _files(ours) == names, ours
        _, mismatch, errors = filecmp.cmpfiles(ours, theirs, sorted(names), shallow=False)
        assert not mismatch and not errors, f"tests/ooxml differs from ../shared: {mismatch + errors}"


def test_the_checkers_find_a_broken_workbook(tmp_path):
    """A checker that cannot fail checks nothing: a cell with an element the schema has no place for."""
    import zipfile

    import xlsxwriter

    from conftest import ooxml_check

    good = tmp_path / "good.xlsx"
    wb = xlsxwriter.Workbook(str(good))
    wb.add_worksheet().write_string(0, 0, "x")
    wb.close()
    ooxml_check(good)
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData><bogus/>")
            out.writestr(item, data)
    with pytest.raises(AssertionError, match="ooxml_validate"):
        ooxml_check(bad)
