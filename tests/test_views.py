"""The `tracker stats` screen: plain text (no rich) when output is not a terminal, the same bytes rich prints.

Issue 7: importing and running rich cost more than the rest of `tracker stats`, so tracker/plain.py
reproduces rich's output for our tables. These tests hold it to rich on many widths and texts, check
that it steps aside when it cannot promise that, and that `tracker stats` imports nothing heavy.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.cli import plain
from tracker.cli import views
from tracker.model.campaign import template_path
from tracker.cli.plain import Line, Table
from tracker.stats import campaign_stats
from tracker.store.workspace import Workspace, init_workspace


def rich_output(blocks, width: int, monkeypatch) -> str:
    """What print_blocks prints through rich on a non-terminal `width` columns wide."""
    with monkeypatch.context() as m:
        m.setenv("COLUMNS", str(width))
        m.setattr(plain, "plain_stream", lambda *a, **k: False)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            views.print_blocks(blocks)
    return buf.getvalue()


WORDS = ["Sở", "ban,", "ngành", "Xã", "phường", "Hoàn", "Kiếm", "Ủy", "nhân", "dân", "Thông", "tin", "điện", "tử",
         "TC1,", "(trống)", "Chuyên", "trang", "Đạt", "Không", "đạt", "-", "/", "12", "1234567", "a.b.c", "x",
         "Nghĩa-Đô", "“Quốc”", "–", "ĐượcĐượcĐượcĐượcĐược", "abcdefghijklmnopqrstuvwxyz0123456789", "UX/UI"]


def random_blocks(r: random.Random) -> list:
    def text(lo, hi):
        return " ".join(r.choice(WORDS) for _ in range(r.randint(lo, hi)))

    blocks = [Line(text(1, 25), bold=r.random() < .5), Line(text(1, 4))]
    for _ in range(r.randint(1, 3)):
        t = Table(text(1, 8))
        n = r.randint(1, 12)
        for _ in range(n):
            t.add_column(text(1, 3), justify=r.choice(["left", "right"]))
        for _ in range(r.randint(0, 5)):
            t.add_row(*(text(1, 5) if r.random() < .6 else str(r.randint(0, 5000)) for _ in range(n)),
                      bold=r.random() < .2)
        blocks.append(t)
    return blocks


def test_plain_text_is_what_rich_prints(monkeypatch):
    r = random.Random(7)
    used = 0
    for _ in range(150):
        blocks = random_blocks(r)
        for width in (r.randint(10, 60), r.randint(60, 140), 80):
            text = plain.render(blocks, width)
            if text is not None:
                used += 1
                assert text == rich_output(blocks, width, monkeypatch), (width, [vars(b) for b in blocks])
    assert used > 250   # narrow screens aside, the plain path is taken


@pytest.fixture(scope="module")
def hanoi(tmp_path_factory) -> Workspace:
    """The built-in campaign, fresh from `tracker init` (no ledger yet)."""
    return init_workspace(tmp_path_factory.mktemp("views") / "hn", template_path(None), None, force=False)


def busy_stats(ws: Workspace):
    """Stats of the Hà Nội campaign with late units and products not accepted (the screen's every table)."""
    from dataclasses import replace

    stats = campaign_stats(ws, dt.date(2026, 6, 10))
    units = [replace(u, deadline_status="late", received_at=dt.date(2026, 6, 8), days_late=3) if i % 9 == 0 else u
             for i, u in enumerate(stats.unit_rows)]
    rows = [replace(r, status="not_accepted" if (i // 7) % 2 else "incomplete",
                    answers={c: ("not_met", "blank", "met")[(i // 7 + n) % 3] for n, c in enumerate(r.answers)})
            if i % 7 == 0 else r for i, r in enumerate(stats.rows)]
    return replace(stats, rows=tuple(rows), unit_rows=tuple(units))


def test_stats_screen_is_the_same_with_or_without_rich(hanoi, monkeypatch):
    for stats in (campaign_stats(hanoi, dt.date(2026, 6, 1)), busy_stats(hanoi)):
        blocks = views.stats_blocks(stats, hanoi.campaign)
        assert sum(isinstance(b, Table) for b in blocks) >= 3
        for width in (40, 60, 79, 80, 100, 120, 160, 200):
            text = plain.render(blocks, width)
            if width >= 60:
                assert text is not None, width
            if text is not None:
                assert text == rich_output(blocks, width, monkeypatch), width


def test_the_simple_characters_are_one_cell_wide_for_rich():
    from rich.cells import cell_len

    simple = [chr(c) for c in range(0x20, 0x2600) if plain._SIMPLE.fullmatch(chr(c))]
    assert len(simple) > 1000 and "ệ" in simple and "…" in simple
    assert [c for c in simple if cell_len(c) != 1 or (c.isspace() and c != " ")] == []


@pytest.mark.parametrize("odd", ["[bold]x[/]", "a :smile: b", "tab\there", "日本", "e\u0301", "no\u00a0break",
                                 "soft\u00adhyphen", "back\\", " lead", "trail ", ""])
def test_plain_steps_aside_for_text_it_cannot_promise(odd):
    t = Table("Theo khối")
    t.add_column("Khối")
    t.add_row(odd)
    assert plain.render([t], 80) is None
    assert plain.render([Line(odd)], 80) is None


def test_plain_only_where_rich_prints_no_colours(monkeypatch):
    for var in ("TTY_COMPATIBLE", "FORCE_COLOR"):
        monkeypatch.delenv(var, raising=False)

    class Stream(io.StringIO):
        encoding = "utf-8"
        tty = False

        def isatty(self):
            return self.tty

    s = Stream()
    assert plain.plain_stream(s)
    s.tty = True
    assert not plain.plain_stream(s)
    s.tty = False
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not plain.plain_stream(s)
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    assert plain.plain_stream(s)
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.delenv("TTY_COMPATIBLE")
    s.encoding = "cp1258"   # rich would draw ASCII boxes
    assert not plain.plain_stream(s)


# Importing these would cost `tracker stats` its start-up time (issue 7).
HEAVY = ("rich", "openpyxl", "xlsxwriter", "pandas", "sqlite3", "tracker.cli.i18n", "tracker.forms", "tracker.intake",
         "tracker.merge", "tracker.cli.mail", "tracker.cli.demo", "tracker.cli.report")
PROBE = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("\\nMODULES " + " ".join(sorted(sys.modules))))
sys.argv = ["tracker", *sys.argv[1:]]
import runpy
runpy.run_module("tracker", run_name="__main__")
"""


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_stats_imports_nothing_heavy(hanoi, fmt):
    proc = subprocess.run([sys.executable, "-c", PROBE, "stats", "-C", str(hanoi.root), "--format", fmt,
                           "--as-of", "01/06/2026"], capture_output=True, text=True, encoding="utf-8",
                          cwd=Path(__file__).parent.parent, env=_env())
    assert proc.returncode == 0, proc.stderr
    modules = proc.stderr.rsplit("MODULES ", 1)[1].split()
    assert not [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    if fmt == "json":
        assert json.loads(proc.stdout)["units"]["total"] == 136
    if fmt == "table":
        assert "Khối lượng đủ điều kiện nghiệm thu: 0 / 138 sản phẩm" in proc.stdout


def _env() -> dict:
    """This environment, less what would make rich (and so `tracker stats`) treat a pipe as a terminal."""
    return {k: v for k, v in os.environ.items() if k not in ("TTY_COMPATIBLE", "FORCE_COLOR")}
