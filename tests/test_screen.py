"""What the command line writes: tables fit the screen without cutting a word, a pipe gets plain
text, and `tracker stats` imports nothing heavy (issue 7: start-up at most 3x `python -c pass`)."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tracker.cli import views
from tracker.cli.screen import Line, Screen, Table, cell_width, render_table
from tracker.model.campaign import template_path
from tracker.stats import campaign_stats
from tracker.store.workspace import Workspace, init_workspace

WORDS = ["Sở", "ban,", "ngành", "Xã", "phường", "Hoàn", "Kiếm", "Ủy", "nhân", "dân", "Thông", "tin", "điện", "tử",
         "TC1,", "(trống)", "Chuyên", "trang", "Đạt", "Không", "đạt", "-", "/", "12", "1234567", "a.b.c", "x",
         "Nghĩa-Đô", "“Quốc”", "–", "ĐượcĐượcĐược", "UX/UI", "日本", "e\u0301"]


def words_of(text: str) -> list[str]:
    return text.split()


def random_table(r: random.Random) -> Table:
    def text(lo, hi):
        return " ".join(r.choice(WORDS) for _ in range(r.randint(lo, hi)))

    t = Table(text(1, 6))
    n = r.randint(1, 12)
    for _ in range(n):
        t.add_column(text(1, 3), justify=r.choice(["left", "right"]))
    for _ in range(r.randint(0, 5)):
        t.add_row(*(text(1, 5) if r.random() < .6 else str(r.randint(0, 5000)) for _ in range(n)),
                  bold=r.random() < .2)
    return t


def test_tables_fit_and_never_cut_a_word():
    r = random.Random(7)
    for _ in range(300):
        t = random_table(r)
        longest = max(cell_width(w) for h, _ in t.columns for w in words_of(h))
        for width in (r.randint(30, 60), r.randint(60, 140), 80):
            lines = render_table(t, width)
            # Whole words only: every word of every cell is on some line of the table, uncut.
            body = "\n".join(lines)
            for cells in [[h for h, _ in t.columns]] + [c for c, _ in t.rows]:
                for w in (w for c in cells for w in words_of(c)):
                    assert w in body, (width, w)
            if width >= 4 * longest + 10:   # room for the first column and one more at their longest words
                assert all(cell_width(line) <= width for line in lines[1:]), width


@pytest.fixture(scope="module")
def hanoi(tmp_path_factory) -> Workspace:
    """The built-in campaign, fresh from `tracker init` (no ledger yet)."""
    return init_workspace(tmp_path_factory.mktemp("screen") / "hn", template_path(None), None, force=False)


def busy_stats(ws: Workspace):
    """Stats of the Hà Nội campaign with late units and products not accepted (the screen's every table)."""
    stats = campaign_stats(ws, dt.date(2026, 6, 10))
    units = [replace(u, deadline_status="late", received_at=dt.date(2026, 6, 8), days_late=3) if i % 9 == 0 else u
             for i, u in enumerate(stats.unit_rows)]
    rows = [replace(r, status="not_accepted" if (i // 7) % 2 else "incomplete",
                    answers={c: ("not_met", "blank", "met")[(i // 7 + n) % 3] for n, c in enumerate(r.answers)})
            if i % 7 == 0 else r for i, r in enumerate(stats.rows)]
    return replace(stats, rows=tuple(rows), unit_rows=tuple(units))


@pytest.mark.parametrize("width", [60, 80, 100, 120, 200])
def test_the_stats_screen_fits_with_whole_headers(hanoi, width):
    blocks = views.stats_blocks(busy_stats(hanoi), hanoi.campaign)
    out = io.StringIO()
    screen = Screen(stream=out)
    screen.width = width
    screen.print(*blocks)
    text = out.getvalue()
    assert all(cell_width(line) <= width for line in text.splitlines() if "│" in line or "┃" in line)
    assert "…" not in text and "\x1b" not in text
    headers = [h for b in blocks if isinstance(b, Table) for h, _ in b.columns]
    for word in {w for h in headers for w in h.split()}:
        assert word in text.split("┃") or any(word in line.split() for line in text.splitlines()), word
    for line in text.splitlines():     # no header word split over two header lines ("Mu…", "Đa… chờ")
        if line.startswith("┃"):
            cells = [c.strip() for c in line.strip("┃").split("┃")]
            assert all(not c or all(w in " ".join(headers).split() for w in c.split()) for c in cells), line


def test_colours_only_on_a_terminal(monkeypatch):
    for var in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(var, raising=False)

    class Tty(io.StringIO):
        def isatty(self):
            return True

    plain, tty = io.StringIO(), Tty()
    for stream in (plain, tty):
        Screen(stream=stream).print(Line(("bold red", "Lỗi:"), " hỏng"))
    assert plain.getvalue() == "Lỗi: hỏng\n"
    assert tty.getvalue() == "\x1b[1;31mLỗi:\x1b[0m hỏng\n"
    monkeypatch.setenv("NO_COLOR", "1")
    tty = Tty()
    Screen(stream=tty).print(Line(("red", "x")))
    assert tty.getvalue() == "x\n"


# Importing these would cost `tracker stats` its start-up time (issue 7).
HEAVY = ("rich", "openpyxl", "xlsxwriter", "pandas", "sqlite3", "babel", "tracker.intake", "tracker.merge",
         "tracker.cli.mail", "tracker.cli.demo", "tracker.cli.report")
PROBE = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("\\nMODULES " + " ".join(sorted(sys.modules))))
sys.argv = ["tracker", *sys.argv[1:]]
import runpy
runpy.run_module("tracker", run_name="__main__")
"""


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_stats_imports_nothing_heavy_and_pipes_plain_text(hanoi, fmt, lang):
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    proc = subprocess.run([sys.executable, "-c", PROBE, "--lang", lang, "stats", "-C", str(hanoi.root), "--format",
                           fmt, "--as-of", "01/06/2026"], capture_output=True, text=True, encoding="utf-8",
                          cwd=Path(__file__).parent.parent, env=env)
    assert proc.returncode == 0, proc.stderr
    modules = proc.stderr.rsplit("MODULES ", 1)[1].split()
    assert not [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert "\x1b" not in proc.stdout
    if fmt == "json":
        assert json.loads(proc.stdout)["units"]["total"] == 136
    if fmt == "table":
        assert ("Khối lượng đủ điều kiện nghiệm thu: 0 / 138 sản phẩm" if lang == "vi"
                else "Volume that can be accepted: 0 / 138 products") in proc.stdout


def test_names_cannot_act_on_the_terminal_nor_fake_a_line():
    """A file name with an escape sequence, a carriage return, a line break or a right-to-left
    override is printed escaped, in a line, a table or a finding's message; our own colours still act."""
    from tracker.model.findings import Finding

    name = "a\x1b[2J\r\n\u202eb\x9b31m.xlsx"
    out = io.StringIO()
    screen = Screen(stream=out)
    screen.colour = True
    t = Table(name)
    t.add_column(name)
    t.add_row(name)
    finding = Finding("bad_zip", file=name, value="x")
    screen.print(name, Line(("red", "✗"), f" {name}"), t, f"  {finding.message}")
    text = out.getvalue()
    assert "\x1b[2J" not in text and "\r" not in text and "\u202e" not in text and "\x9b" not in text
    assert "\x1b[31m✗\x1b[0m" in text                            # our colour
    assert "a\\x1b[2J\\r\\n\\u202eb\\x9b31m.xlsx" in text           # the finding's value, escaped whole
    assert "a\\x1b[2J\\r" in text.splitlines()[0]                  # a bare line keeps its own line breaks only
    # In a document the same name is readable, on one line.
    assert "a [2J" in finding.text("vi") and "\n" not in finding.text("vi") and "\x1b" not in finding.text("vi")
