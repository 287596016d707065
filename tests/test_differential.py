"""Issue 14, the differential test: for a corpus of mutated returns (tools/fuzz.py's mutations and
the tricks of tests/tricks.py; tests/test_merge_corpus.py does the same for tests/corpus.py's
returns), every answer tracker records for an accepted file is the answer LibreOffice shows
(tests/displayed.py: its HTML rendering, hidden rows, columns and sheets left out, formats and
colours applied), and no other table it shows disagrees. Seeded, one LibreOffice start per 100
files."""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

import tricks  # noqa: I001 - puts tools/ (fuzz) on the path
import fuzz
from conftest import needs_soffice, soffice
from displayed import recorded_vs_shown
from tracker.api import merge
from tracker.model import ident
from tracker.store.ledger import Ledger
from tracker.store.workspace import Workspace

FUZZ_CASES = 250


def mutated_returns(ws, inbox: Path) -> dict[Path, str]:
    """The corpus, written into `inbox`: path -> the mutation or trick that made it."""
    rng = random.Random(1412)
    made = {}
    units = [ws.unit_by_id["so-khcn"], ws.unit_by_id["xp-00070"], *rng.sample(ws.units, 3)]
    for i, unit in enumerate(units):
        good, answers = fuzz.good_return(ws.outbox_path(unit), rng)
        cells = fuzz.answer_cells(good)
        for k in range(FUZZ_CASES // len(units)):
            kind, data, _, _ = fuzz.mutate(rng, good, answers, cells)
            path = inbox / f"fuzz-{i}-{k:03d}" / ws.outbox_path(unit).name
            path.parent.mkdir(parents=True)
            path.write_bytes(data)
            made[path] = kind
        if len(unit.products) == 1:
            other = next(u for u in ws.units if u.group == unit.group and u.id != unit.id)
            token = ident.token(ws.secret, ws.campaign.id, other.id, ws.campaign.version)
            for t in tricks.tricks(good, answers, (other.id, token)):
                path = inbox / f"trick-{i}-{t.name}" / ws.outbox_path(unit).name
                path.parent.mkdir(parents=True)
                path.write_bytes(t.data)
                made[path] = t.name
    return made


@pytest.fixture(scope="module")
def merged(generated_campaign, tmp_path_factory):
    root = tmp_path_factory.mktemp("differential")
    shutil.copytree(generated_campaign, root / "camp")
    ws = Workspace(root / "camp")
    made = mutated_returns(ws, root / "inbox")
    report = merge(ws, [root / "inbox"])
    return ws, root, made, report


@needs_soffice
def test_every_answer_recorded_is_the_answer_libreoffice_shows(merged):
    ws, root, made, report = merged
    compared, problems = recorded_vs_shown(ws, soffice(), root / "lo")
    assert not problems, "\n".join(problems[:20])
    assert compared >= 60, compared            # not vacuous: many mutated files are accepted and compared


def test_the_tricks_are_refused_or_recorded_as_shown(merged):
    ws, root, made, report = merged
    with Ledger(ws.ledger_file) as led:
        outcome = {Path(r["origin"]): r["outcome"] for r in led.returns()}
    names = {p: k for p, k in made.items() if p.parent.name.startswith("trick-")}
    assert names
    by_name = {t.name: t for t in tricks.tricks(*fuzz.good_return(ws.outbox_path(ws.unit_by_id["xp-00070"]),
                                                                    random.Random(1)))}
    for path, name in names.items():
        expect = by_name[name].expect if name in by_name else "refused"
        got = outcome[path]
        assert (got == "rejected") == (expect == "refused"), (name, got)
