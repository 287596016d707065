"""Words that reach a message through a value are translated whole: the answers an answer cell
allows, the facts of a unit the registry lacks, the mailbox folder of `tracker mail fetch`."""
from __future__ import annotations

import csv
import datetime as dt

import pytest
from click.testing import CliRunner

from fill import fill
from tracker.api import merge
from tracker.cli import main
from tracker.model import language
from tracker.model.campaign import builtin_path, load_campaign, template_path
from tracker.model.errors import TrackerError
from tracker.model.findings import Finding
from tracker.model.registry import load_registry


def test_the_answers_allowed_read_in_the_readers_language_and_stay_vietnamese_in_the_ledger(ws, outbox, tmp_path):
    f = fill(outbox["xp-00070"], tmp_path / "dat.xlsx", {("site", "c2"): "Đạt"})
    res = merge(ws, [f], received=dt.date(2026, 6, 4), report=False)
    [bad] = [x for x in res.files[0].findings if x.code == "bad_answer"]
    assert bad.expected == "“Đáp ứng”, “Chưa đáp ứng” hoặc để trống"      # stored as the documents say it
    assert "“Đáp ứng”, “Chưa đáp ứng” hoặc để trống" in bad.statement("vi")
    english = bad.statement("en")
    assert "“Đáp ứng”, “Chưa đáp ứng” or left blank" in english and "hoặc" not in english
    # Read back from the ledger (as `tracker report` does), the same.
    again = Finding.from_record(bad.record())
    assert again.statement("en") == english


def test_the_facts_a_unit_lacks_are_named_in_the_language_of_the_command(tmp_path):
    campaign = load_campaign(template_path(None))
    with open(builtin_path("units-hanoi-2026.csv"), encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["kind"] = "cục"               # a kind the template has no defaults for, its facts blank
    path = tmp_path / "units.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for lang, words in (("vi", "cơ quan chủ quản, chức danh thủ trưởng, danh sách nơi nhận"),
                        ("en", "governing body, head's title, list of copy recipients")):
        language.use(lang)
        with pytest.raises(TrackerError) as err:
            load_registry(path, campaign)
        [detail] = err.value.details
        assert words in str(detail), detail


def test_mail_fetch_names_a_mailbox_folder_not_a_directory():
    for lang, folder in (("vi", "--folder THƯ_MỤC_THƯ"), ("en", "--folder FOLDER")):
        out = CliRunner().invoke(main, ["--lang", lang, "mail", "fetch", "--help"]).output
        assert folder in out and f"--move-to {folder.split()[1]}" in out, out
