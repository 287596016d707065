"""The newest version of a unit's reply wins by the time it was received, to the second, never by
file name or merge order; each source of the time (a saved email's Date, the workbook's own saved
time when plausible, the file's modification time, --received) and the ledger's schema 2."""
from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3

import pytest
from click.testing import CliRunner

from fill import fill, set_saved_time
from test_mail import XLSX, make_eml
from tracker.api import merge
from tracker.cli import main
from tracker.merge import plausible_saved_time
from tracker.model.dates import VN_TZ, parse_when
from tracker.model.errors import UsageError
from tracker.stats import campaign_stats
from tracker.store.ledger import SCHEMA_VERSION, Ledger

UNIT = "xp-00070"
AS_OF = dt.date(2026, 6, 10)
VN = VN_TZ


def t(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=VN)


def current(ws, unit_id=UNIT):
    [row] = [r for r in campaign_stats(ws, AS_OF).to_json()["rows"] if r["unit_id"] == unit_id]
    return row


def forms_made_on(ws, when: dt.datetime) -> None:
    """As if the campaign's forms had been generated at `when` (the tests' clock is later than the
    campaign's June)."""
    with Ledger(ws.ledger_file) as led, led.transaction() as db:
        db.execute("INSERT OR REPLACE INTO meta VALUES('forms_generated_at', ?)", (when.isoformat(),))


def two_versions(outbox, tmp_path):
    """(the 09:00 version: c1 not met; the 15:00 correction: everything met)."""
    early = fill(outbox[UNIT], tmp_path / "v" / "early.xlsx", {("site", "c1"): "not_met"})
    late = fill(outbox[UNIT], tmp_path / "v" / "late.xlsx", "met")
    return early.read_bytes(), late.read_bytes()


# ---------------------------------------------------------------------------- saved emails' Date
@pytest.mark.parametrize("runs", ["one batch", "two runs"])
def test_a_morning_reply_merged_after_the_afternoon_correction_stays_history(ws, outbox, tmp_path, runs):
    """Two emails from one unit on one day: the 15:00 correction's file name sorts first, so the
    09:00 reply is merged after it, in one batch or in a later run; the 15:00 one stays current."""
    early, late = two_versions(outbox, tmp_path)
    inbox = tmp_path / "inbox"
    a = make_eml(inbox / "a-chieu.eml", [("bien-ban.xlsx", late, XLSX)], date="Thu, 04 Jun 2026 15:00:00 +0700")
    b = make_eml(inbox / "b-sang.eml", [("bien-ban.xlsx", early, XLSX)], date="Thu, 04 Jun 2026 02:00:00 +0000")
    if runs == "one batch":
        files = merge(ws, [inbox], report=False).files
    else:
        files = merge(ws, [a], report=False).files + merge(ws, [b], report=False).files
    assert [(f.name, f.outcome) for f in files] == [("a-chieu.eml › bien-ban.xlsx", "accepted"),
                                                     ("b-sang.eml › bien-ban.xlsx", "stale")]
    [why] = [x for x in files[1].findings if x.code == "stale"]
    assert "09:00 04/06/2026" in why.message and "15:00 04/06/2026" in why.message
    row = current(ws)
    assert row["answers"]["c1"] == "met" and row["status"] == "accepted"
    assert row["received_time"] == "2026-06-04T15:00:00+07:00" and row["received_at"] == "2026-06-04"
    with Ledger(ws.ledger_file) as led:
        subs = led.db.execute("SELECT received_at, received_time, stale FROM submissions ORDER BY id").fetchall()
    assert [tuple(s) for s in subs] == [("2026-06-04", "2026-06-04T15:00:00+07:00", 0),
                                        ("2026-06-04", "2026-06-04T09:00:00+07:00", 1)]


def test_the_merge_line_says_which_version_is_current_and_why(ws, outbox, tmp_path):
    early, late = two_versions(outbox, tmp_path)
    a = make_eml(tmp_path / "a.eml", [("v1.xlsx", early, XLSX)], date="Thu, 04 Jun 2026 09:00:00 +0700")
    b = make_eml(tmp_path / "b.eml", [("v2.xlsx", late, XLSX)], date="Thu, 04 Jun 2026 15:00:00 +0700")
    res = CliRunner().invoke(main, ["merge", str(a), str(b), "-C", str(ws.root)])
    assert res.exit_code == 0, res.output
    assert "Bản nhận 15:00 04/06/2026 là bản đang dùng" in res.output
    assert "mới hơn bản nhận 09:00 04/06/2026" in res.output


# ---------------------------------------------------------------------------- the workbook's saved time
def test_files_without_an_email_are_ordered_by_the_time_the_workbook_was_saved(ws, outbox, tmp_path):
    """Two files copied today (their modification times say nothing): the time Excel wrote into
    each (docProps/core.xml) orders them, whatever their names and the merge order."""
    forms_made_on(ws, t(1, 8))
    early, late = two_versions(outbox, tmp_path)
    a = tmp_path / "in" / "a-sua-lai.xlsx"
    b = tmp_path / "in" / "b-ban-dau.xlsx"
    a.parent.mkdir()
    a.write_bytes(late)
    b.write_bytes(early)
    set_saved_time(a, t(4, 15))
    set_saved_time(b, t(4, 9))
    files = merge(ws, [tmp_path / "in"], report=False).files
    assert [f.outcome for f in files] == ["accepted", "stale"]
    assert current(ws)["received_time"] == "2026-06-04T15:00:00+07:00"
    with Ledger(ws.ledger_file) as led:
        sources = [r["received_source"] for r in led.returns()]
    assert sources == ["workbook", "workbook"]


def test_what_a_plausible_saved_time_is():
    due = dt.datetime(2026, 6, 5, tzinfo=dt.timezone.utc)
    forms = t(1, 8)
    arrived = t(4, 16)

    def ok(saved, forms_since=forms):
        return plausible_saved_time(saved, forms_since=forms_since, due_stamp=due, latest=arrived)
    assert ok(t(4, 15))
    assert not ok(None)
    assert not ok(due)                              # our own form's fixed time: never saved by the unit
    assert not ok(t(1, 7))                          # before the forms were made
    assert ok(t(1, 7), forms_since=None)            # (a campaign that did not record when)
    assert not ok(t(4, 16, 3))                      # after the file reached us (a clock running ahead)
    assert ok(t(4, 16, 1))                          # within two minutes of clock skew
    assert not ok(dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc))


def test_an_implausible_saved_time_gives_way_to_the_file_time(ws, outbox, tmp_path):
    forms_made_on(ws, t(1, 8))
    f = fill(outbox[UNIT], tmp_path / "a.xlsx")
    set_saved_time(f, dt.datetime(2026, 6, 5, tzinfo=dt.timezone.utc))     # our forms' fixed time
    stamp = t(3, 10).timestamp()
    os.utime(f, (stamp, stamp))
    [res] = merge(ws, [f], report=False).files
    assert res.outcome == "accepted" and res.received_time == t(3, 10)
    with Ledger(ws.ledger_file) as led:
        assert led.returns()[0]["received_source"] == "mtime"


# ---------------------------------------------------------------------------- --received
def test_received_accepts_a_date_a_time_and_iso_8601():
    assert parse_when("04/06/2026") == dt.date(2026, 6, 4)          # a date alone: that day
    assert parse_when("2026-06-04") == dt.date(2026, 6, 4)
    assert parse_when("04/06/2026 15:00") == t(4, 15)
    assert parse_when("4/6/2026 9:05:30") == t(4, 9, 5).replace(second=30)
    assert parse_when("2026-06-04T15:00") == t(4, 15)
    assert parse_when("2026-06-04T15:00:00+07:00") == t(4, 15)
    assert parse_when("2026-06-04T08:00:00Z") == t(4, 15)
    assert parse_when("2026-06-04 08:00:00+00:00").utcoffset() == dt.timedelta(hours=7)
    for bad in ("ngày 4/6", "04/06/2026 25:00", "2026-06-31T10:00", "15:00"):
        with pytest.raises(UsageError):
            parse_when(bad)


def test_received_with_a_time_orders_versions_given_by_hand(ws, outbox, tmp_path):
    early, late = two_versions(outbox, tmp_path)
    (tmp_path / "late.xlsx").write_bytes(late)
    (tmp_path / "early.xlsx").write_bytes(early)
    run = CliRunner().invoke
    first = run(main, ["merge", str(tmp_path / "late.xlsx"), "-C", str(ws.root), "--received", "04/06/2026 15:00"])
    assert first.exit_code == 0, first.output
    second = run(main, ["merge", str(tmp_path / "early.xlsx"), "-C", str(ws.root), "--received",
                        "2026-06-04T09:00:00+07:00"])
    assert second.exit_code == 0 and "cũ hơn" in second.output, second.output
    assert current(ws)["answers"]["c1"] == "met"
    bad = run(main, ["merge", str(tmp_path / "early.xlsx"), "-C", str(ws.root), "--received", "ngày 4/6"])
    assert bad.exit_code == 2 and "không hợp lệ" in bad.output


# ---------------------------------------------------------------------------- equal received times
def test_equal_received_times_are_decided_by_the_saved_times_then_by_merge_order(ws, outbox, tmp_path):
    """--received with a day gives both versions the same time: the workbook saved later wins,
    whichever is merged first; when their saved times cannot tell either, the later merged wins
    and a review finding says so."""
    forms_made_on(ws, t(1, 8))
    early, late = two_versions(outbox, tmp_path)
    a, b = tmp_path / "a-late.xlsx", tmp_path / "b-early.xlsx"
    a.write_bytes(late)
    b.write_bytes(early)
    set_saved_time(a, t(4, 15))
    set_saved_time(b, t(4, 9))
    files = merge(ws, [a, b], received=dt.date(2026, 6, 4), report=False).files
    assert [f.outcome for f in files] == ["accepted", "stale"]
    assert [x.param("why") for x in files[1].findings if x.code == "stale"] == ["saved"]
    assert current(ws)["answers"]["c1"] == "met"
    # Saved times that say nothing (our forms' fixed time, kept by a program that does not update it).
    c = fill(outbox["so-yte"], tmp_path / "c.xlsx", {("site", "c2"): "not_met"})
    d = fill(outbox["so-yte"], tmp_path / "d.xlsx", "met")
    for f in (c, d):
        set_saved_time(f, dt.datetime(2026, 6, 5, tzinfo=dt.timezone.utc))
    files = merge(ws, [c, d], received=dt.date(2026, 6, 3), report=False).files
    assert [f.outcome for f in files] == ["accepted", "replaced"]
    [tie] = [x for x in files[1].findings if x.code == "same_received_time"]
    assert tie.severity == "warning" and "c.xlsx" in tie.message and "d.xlsx" in tie.message
    assert current(ws, "so-yte")["answers"]["c2"] == "met"


# ---------------------------------------------------------------------------- the deadline stays by date
def test_the_deadline_counts_the_received_day_in_vietnam_time(ws, outbox, tmp_path):
    a = fill(outbox["so-yte"], tmp_path / "a.xlsx").read_bytes()
    b = fill(outbox["so-noivu"], tmp_path / "b.xlsx").read_bytes()
    on_time = make_eml(tmp_path / "a.eml", [("a.xlsx", a, XLSX)], date="Fri, 05 Jun 2026 16:59:59 +0000")
    late = make_eml(tmp_path / "b.eml", [("b.xlsx", b, XLSX)], date="Fri, 05 Jun 2026 17:00:00 +0000")
    merge(ws, [on_time, late], report=False)
    rows = {r["unit_id"]: r for r in campaign_stats(ws, AS_OF).to_json()["rows"]}
    assert (rows["so-yte"]["deadline_status"], rows["so-yte"]["received_time"]) == \
        ("on_time", "2026-06-05T23:59:59+07:00")
    assert (rows["so-noivu"]["deadline_status"], rows["so-noivu"]["received_at"]) == ("late", "2026-06-06")


# ---------------------------------------------------------------------------- schema 2
def _as_schema_1(path):
    """Turn a ledger back into schema 1 (no time columns), as a campaign of the previous version has it."""
    db = sqlite3.connect(path)
    for table, column in Ledger._ADDED:
        db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    db.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    db.commit()
    db.close()


def test_a_schema_1_ledger_is_migrated_and_its_rows_keep_their_day(ws, outbox, tmp_path):
    early, late = two_versions(outbox, tmp_path)
    (tmp_path / "old.xlsx").write_bytes(late)
    merge(ws, [tmp_path / "old.xlsx"], received=dt.date(2026, 6, 4), report=False)
    _as_schema_1(ws.ledger_file)
    # A reading command reads it as it is: nothing written, the old row's time is the start of its day.
    assert current(ws)["received_time"] == "2026-06-04T00:00:00+07:00"
    with Ledger.reader(ws.ledger_file) as led:
        assert led.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"
    # A version received the day before is older than the old row; one received that afternoon newer.
    (tmp_path / "before.xlsx").write_bytes(early)
    (tmp_path / "after.xlsx").write_bytes(early)
    set_saved_time(tmp_path / "after.xlsx", t(4, 14))       # another content than before.xlsx
    files = merge(ws, [tmp_path / "before.xlsx"], received=t(3, 17), report=False).files
    assert [f.outcome for f in files] == ["stale"]
    files = merge(ws, [tmp_path / "after.xlsx"], received=t(4, 14), report=False).files
    assert [f.outcome for f in files] == ["replaced"]
    with Ledger(ws.ledger_file) as led:
        assert led.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == \
            str(SCHEMA_VERSION) == "3"
        rows = [tuple(r) for r in led.db.execute("SELECT received_at, received_time, stale FROM submissions "
                                                 "ORDER BY id")]
    assert rows == [("2026-06-04", None, 0), ("2026-06-03", "2026-06-03T17:00:00+07:00", 1),
                    ("2026-06-04", "2026-06-04T14:00:00+07:00", 0)]
    doc = json.loads(CliRunner().invoke(main, ["stats", "-C", str(ws.root), "--format", "json", "--as-of",
                                               "10/06/2026"]).output)
    [row] = [r for r in doc["rows"] if r["unit_id"] == UNIT]
    # The current version's time and its day (DESIGN.md §3); the deadline goes by the first one.
    assert row["received_time"] == "2026-06-04T14:00:00+07:00" and row["received_at"] == "2026-06-04"
