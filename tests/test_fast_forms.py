"""The fast path of generate builds exactly the workbook the direct build would, part by part."""
import io
import sys
import zipfile
from pathlib import Path

import pytest

from tracker.outbound.prototypes import FastForms
from tracker.outbound.unit_form import build_unit_workbook
from tracker.api import generate
from tracker.model.registry import Unit
from tracker.store.workspace import Workspace, init_workspace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def assert_same(fast: bytes, direct: bytes, unit_id: str) -> None:
    fp, dp = parts(fast), parts(direct)
    assert list(fp) == list(dp), unit_id
    for name in dp:
        assert fp[name] == dp[name], f"{unit_id}: {name} differs"
    assert fast == direct, unit_id                       # and the zip itself, byte for byte


def test_fast_path_equals_direct_build_for_every_hanoi_unit(ws):
    forms = FastForms(ws.campaign, ws.secret)
    for unit in ws.units:
        assert_same(forms.build(unit), build_unit_workbook(ws.campaign, unit, ws.secret), unit.id)
    assert forms.derived > 100 and forms.direct < 30     # the fast path is really taken


def test_fast_path_equals_direct_build_on_a_national_sample(tmp_path):
    national = pytest.importorskip("national_campaign")
    try:
        tpl, reg = national.make_national(tmp_path / "data", n_units=400)
    except FileNotFoundError as e:
        pytest.skip(str(e))
    w = init_workspace(tmp_path / "nat", tpl, reg, force=False)
    forms = FastForms(w.campaign, w.secret)
    for unit in w.units:
        assert_same(forms.build(unit), build_unit_workbook(w.campaign, unit, w.secret), unit.id)
    assert forms.derived > 300


def test_a_unit_text_equal_to_a_fixed_text_falls_back_to_the_direct_build(ws):
    forms = FastForms(ws.campaign, ws.secret)
    base = ws.unit_by_id["xp-00070"]
    forms.build(base)
    tricky = Unit("xp-99999", base.group, "Giao diện UX/UI", base.kind, "", "", "", "", base.products)
    before = forms.direct
    assert forms.build(tricky) == build_unit_workbook(ws.campaign, tricky, ws.secret)
    assert forms.direct == before + 1


def test_two_processes_write_the_same_outbox_as_one(tmp_path, generated_campaign):
    import shutil

    one, two = tmp_path / "one", tmp_path / "two"
    shutil.copytree(generated_campaign, one)
    shutil.copytree(generated_campaign, two)
    for root in (one, two):
        shutil.rmtree(root / "outbox")
    generate(Workspace(one), jobs=1)
    generate(Workspace(two), jobs=2)
    files = sorted(p.relative_to(one) for p in (one / "outbox").rglob("*.xlsx"))
    assert len(files) == 136
    for rel in files:
        assert (one / rel).read_bytes() == (two / rel).read_bytes(), rel
