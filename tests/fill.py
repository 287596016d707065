"""Filling generated unit workbooks in code, as a unit would in Excel (openpyxl keeps the
identification sheet, defined names and validations of the file)."""
from __future__ import annotations

from pathlib import Path

import openpyxl

from tracker.forms import ident


def cell_of(wb, name: str):
    dn = wb.defined_names[name]
    sheet, ref = next(iter(dn.destinations))
    return wb[sheet][ref.replace("$", "")]


def fill(src: Path, dest: Path, answers: dict | str = "met", *, notes: dict | None = None,
         signer: str = "Nguyễn Văn A", proposals: str = "", domains: dict | None = None,
         campaign=None, unit=None, doc_date: str | None = "Hà Nội, ngày 03 tháng 6 năm 2026") -> Path:
    """answers: "met"/"not_met"/"blank" for all, or {(product_key, criterion_id): text-or-key}."""
    wb = openpyxl.load_workbook(src)
    met, not_met = ("Đáp ứng", "Chưa đáp ứng") if campaign is None else campaign.answers
    text = {"met": met, "not_met": not_met, "blank": None}
    for name in list(wb.defined_names.keys()):
        if name.startswith("TRK_A_"):
            _, _, key, cid = name.split("_", 3)
            value = answers if isinstance(answers, str) else answers.get((key, cid), "met")
            cell_of(wb, name).value = text.get(value, value)
    for cid, note in (notes or {}).items():
        cell_of(wb, ident.note_name(cid)).value = note
    for key, domain in (domains or {}).items():
        cell_of(wb, ident.domain_name(key)).value = domain
    cell_of(wb, ident.NAME_SIGNER).value = signer or None
    cell_of(wb, ident.NAME_PROPOSALS).value = proposals or None
    if doc_date:
        cell_of(wb, ident.NAME_DOCDATE).value = doc_date
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    return dest
