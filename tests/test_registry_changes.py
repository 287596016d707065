"""The registry and the template change after the forms went out: a unit's return of the form it was
sent is still read (what the form did not have stays unreturned, said once), and the master follows
every change of units.csv or campaign.toml though no return came."""
from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl

from fill import fill
from tracker.api import merge
from tracker.stats import campaign_stats
from tracker.store.workspace import Workspace
from tracker.verify import verify

ON_TIME = dt.date(2026, 6, 4)
NEW_PRODUCT = "dl=Chuyên trang Du lịch"


def edit_registry(ws, unit_id: str, **changes) -> Workspace:
    """units.csv with one unit's cells changed (a value starting with '+' is appended with '|')."""
    text = ws.registry_file.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    for r in rows:
        if r["id"] == unit_id:
            for k, v in changes.items():
                r[k] = f"{r[k]}|{v[1:]}" if v.startswith("+") else v
    buf = io.StringIO()
    w = csv.DictWriter(buf, list(rows[0]), lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    ws.registry_file.write_text(buf.getvalue(), encoding="utf-8")
    return Workspace(ws.root)


def rows_of(stats, unit_id):
    return {r.product_id: r for r in stats.rows if r.unit_id == unit_id}


def master_texts(ws) -> set[str]:
    wb = openpyxl.load_workbook(ws.master_file, read_only=True)
    try:
        return {str(v) for sh in wb.worksheets for row in sh.iter_rows(values_only=True) for v in row if v}
    finally:
        wb.close()


def test_a_product_added_after_the_forms_went_out_leaves_the_old_form_accepted(ws, outbox, tmp_path):
    unit = ws.unit_by_id["so-yte"]
    old_form = outbox[unit.id]                 # generated with the unit's site only
    ws = edit_registry(ws, unit.id, products=f"+{NEW_PRODUCT}")
    assert len(ws.unit_by_id[unit.id].products) == 2
    ret = fill(old_form, tmp_path / "in" / "so-yte.xlsx", "met")
    report = merge(ws, [ret], received=ON_TIME, report=False)
    f = report.files[0]
    assert f.outcome == "accepted", [x.message for x in f.findings]
    said = [x for x in f.findings if x.code == "products_not_on_form"]
    assert len(said) == 1 and said[0].severity == "warning" and "Chuyên trang Du lịch" in said[0].message
    assert "outbox/" in said[0].message               # the staff is told to send the new form
    stats = campaign_stats(Workspace(ws.root), ON_TIME)
    rows = rows_of(stats, unit.id)
    assert rows[f"{unit.id}/site"].status == "accepted"
    assert rows[f"{unit.id}/dl"].status == "pending"          # not returned: the form did not have it
    assert rows[f"{unit.id}/dl"].deadline_status == "on_time"   # the unit did reply, on time
    # The master shows the new product, and verify has nothing to ask for.
    assert "Chuyên trang Du lịch" in master_texts(ws)
    assert not [p for p in verify(Workspace(ws.root)).problems if p.code == "verify_master_stale"]


def test_the_new_form_then_returns_every_product(ws, outbox, tmp_path):
    from tracker.api import generate

    unit = ws.unit_by_id["so-yte"]
    ws = edit_registry(ws, unit.id, products=f"+{NEW_PRODUCT}")
    generate(ws)
    ret = fill(ws.outbox_path(ws.unit_by_id[unit.id]), tmp_path / "in" / "moi.xlsx", "met")
    f = merge(ws, [ret], received=ON_TIME, report=False).files[0]
    assert f.outcome == "accepted" and not [x for x in f.findings if x.code == "products_not_on_form"]
    rows = rows_of(campaign_stats(Workspace(ws.root), ON_TIME), unit.id)
    assert {r.status for r in rows.values()} == {"accepted"}


def test_a_criterion_added_to_the_template_leaves_the_old_form_read(ws, outbox, tmp_path):
    unit = ws.units[0]
    with open(ws.campaign_file, "a", encoding="utf-8") as f:
        f.write('\n[[criteria]]\nid = "c7"\ngroup = "An toàn thông tin"\ndetail = "Đã được đánh giá an toàn '
                'thông tin theo cấp độ."\n')
    ws = Workspace(ws.root)
    ret = fill(outbox[unit.id], tmp_path / "in" / "a.xlsx", "met")
    f = merge(ws, [ret], received=ON_TIME, report=False).files[0]
    assert f.outcome == "accepted", [x.message for x in f.findings]
    said = [x for x in f.findings if x.code == "criteria_not_on_form"]
    assert len(said) == 1 and "An toàn thông tin" in said[0].message
    rows = rows_of(campaign_stats(Workspace(ws.root), ON_TIME), unit.id)
    for r in rows.values():                    # answered all it was asked; the new criterion not yet
        assert r.status == "incomplete" and r.answers["c7"] == "blank" and r.answers["c1"] == "met"


def test_a_renamed_unit_reaches_the_master_without_any_return(ws, outbox, tmp_path):
    unit = ws.units[3]
    merge(ws, [fill(outbox[unit.id], tmp_path / "in" / "a.xlsx", "met")], received=ON_TIME, report=False)
    ws = edit_registry(ws, unit.id, name=f"{unit.name} (mới)")
    result = merge(ws, [], report=False)
    assert not result.master.unchanged          # before: "nothing new", the old name stayed
    assert f"{unit.name} (mới)" in master_texts(ws)
    assert not [p for p in verify(Workspace(ws.root)).problems if p.code == "verify_master_stale"]
    assert merge(Workspace(ws.root), [], report=False).master.unchanged    # and then it rests
