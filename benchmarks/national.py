#!/usr/bin/env python3
"""Benchmark at national scale: 3,321 communes, a group per province.

    python benchmarks/national.py [--units N] [--repeat 3] [--out benchmarks/out]

Stages: generate, cold merge, re-merge of the unchanged inbox, merge with 5% new files, stats,
report; each is a separate process, timed by wall clock, with its peak memory (its own and its
workers', from wait4). The same run measures, on the same files, a plain baseline (xlsxwriter
one workbook at a time with default options; openpyxl load_workbook per return) and a floor
(writing the same bytes to new files; reading the answer cells with zipfile and a streaming XML
parser and nothing else), and prints our figures as ratios to both. It also checks peak memory
at 1,000 units against all units, and start-up time against a bare `python -c pass`.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
PY = sys.executable
ANSWERS = ("Đáp ứng", "Chưa đáp ứng")


# ----------------------------------------------------------------------------- measuring
def run(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """(seconds, peak MiB) of a command and its children. POSIX only: the peak memory of a
    process and its waited-for children comes from wait4, which Windows lacks."""
    if not hasattr(os, "wait4"):
        raise SystemExit("benchmarks/national.py measures peak memory with os.wait4: run it on Linux or macOS")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{err}")
    return seconds, usage.ru_maxrss / 1024


def median_run(cmd, repeat, prepare=None):
    results = []
    for _ in range(repeat):
        if prepare:
            prepare()
        results.append(run(cmd))
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


TRASH: Path | None = None      # set by main()


def discard(path: Path) -> None:
    """Move a folder aside instead of deleting it; main() deletes them all at the end.

    For a few minutes after thousands of files are deleted, ext4 makes each new file cost up to
    ~0.7 ms of kernel time (it passes over the recently deleted inodes one by one: perf shows
    `recently_deleted` under `__ext4_new_inode`). Deleting one repeat's files just before the
    next would charge that to whichever stage creates files next (generate, the merge's archive)
    and not to the floor, which creates none: 0.1 to 2.5 s per 3,321 files, at random."""
    if path.exists():
        TRASH.mkdir(parents=True, exist_ok=True)
        path.rename(TRASH / f"{sum(1 for _ in TRASH.iterdir())}-{path.name}")


# ----------------------------------------------------------------------------- returns by script
def answer_refs(data: bytes) -> tuple[str, dict[str, str]]:
    """(form sheet part, {defined name: cell}) of a generated workbook."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        wb = z.read("xl/workbook.xml").decode()
    names = {n: c + r for n, c, r in re.findall(r'<definedName name="(TRK_[^"]+)">[^!]*!\$([A-Z]+)\$(\d+)<', wb)}
    return "xl/worksheets/sheet1.xml", names


def fill_fast(data: bytes, choose) -> bytes:
    """Put answers (inline strings) into the answer cells, as a unit's spreadsheet program would."""
    sheet, names = answer_refs(data)
    values = {ref: choose(name) for name, ref in names.items() if name.startswith("TRK_A_")}
    values[names["TRK_SIGNER"]] = "Nguyễn Văn A"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            part = zin.read(info)
            if info.filename == sheet:
                xml = part.decode()
                for ref, text in values.items():
                    xml, n = re.subn(rf'<c r="{ref}"( s="\d+")?( t="s")?(/>|>.*?</c>)',
                                     rf'<c r="{ref}"\1 t="inlineStr"><is><t>{text}</t></is></c>', xml)
                    assert n == 1, ref
                part = xml.encode()
            zout.writestr(info, part)
    return out.getvalue()


def make_inbox(campaign: Path, inbox: Path, seed: int, share: float = 1.0) -> int:
    import random

    rnd = random.Random(seed)
    inbox.mkdir(parents=True, exist_ok=True)
    files = sorted((campaign / "outbox").rglob("*.xlsx"))
    n = 0
    for f in files:
        if rnd.random() > share:
            continue
        data = fill_fast(f.read_bytes(), lambda name: ANSWERS[rnd.random() < 0.1])
        (inbox / f"{seed}-{f.name}").write_bytes(data)
        n += 1
    return n


# ----------------------------------------------------------------------------- baselines and floors
def baseline_generate(campaign: str, out: str) -> None:
    """xlsxwriter, one workbook at a time, one process, default options."""
    from tracker.outbound.unit_form import build_unit_workbook
    from tracker.store.workspace import Workspace

    ws = Workspace(Path(campaign))
    Path(out).mkdir(parents=True, exist_ok=True)
    for u in ws.units:
        build_unit_workbook(ws.campaign, u, ws.secret, target=str(Path(out) / f"{u.file_stem}.xlsx"), options={})


def floor_generate(campaign: str, out: str) -> None:
    """Writing the same bytes to new files."""
    blobs = [(p.name, p.read_bytes()) for p in sorted(Path(campaign, "outbox").rglob("*.xlsx"))]
    Path(out).mkdir(parents=True, exist_ok=True)
    for name, data in blobs:
        with open(Path(out) / name, "wb") as f:
            f.write(data)


def baseline_merge(inbox: str) -> None:
    """openpyxl load_workbook per return, its answers read through the defined names."""
    import openpyxl

    got = 0
    for f in sorted(Path(inbox).iterdir()):
        wb = openpyxl.load_workbook(f)
        for name, dn in wb.defined_names.items():
            if name.startswith("TRK_A_"):
                sheet, ref = next(iter(dn.destinations))
                got += wb[sheet][ref.replace("$", "")].value is not None
        wb.close()
    print(got)


def floor_merge(inbox: str) -> None:
    """The same answer cells, read with zipfile and a streaming XML parser and nothing else."""
    from xml.etree.ElementTree import iterparse

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    files = sorted(Path(inbox).iterdir())
    _, names = answer_refs(files[0].read_bytes()) if files else (None, {})
    refs = {ref for name, ref in names.items() if name.startswith("TRK_A_")}
    got = 0
    for f in files:
        with zipfile.ZipFile(f) as z, z.open("xl/worksheets/sheet1.xml") as fh:
            for _, el in iterparse(fh):
                if el.tag == ns + "c" and el.get("r") in refs:
                    got += el.find(f"{ns}is/{ns}t") is not None
                if el.tag == ns + "row":
                    el.clear()
    print(got)


# ----------------------------------------------------------------------------- the run
def tracker(*args) -> list[str]:
    return [PY, "-m", "tracker", *args]


def stage_table(rows) -> str:
    head = f"{'stage':<34}{'seconds':>9}{'files/s':>10}{'peak MiB':>10}"
    lines = [head, "-" * len(head)]
    for name, sec, files, mem in rows:
        rate = f"{files / sec:,.0f}" if files else ""
        lines.append(f"{name:<34}{sec:>9.2f}{rate:>10}{mem:>10.0f}")
    return "\n".join(lines)


def build_campaign(out: Path, n_units: int | None) -> tuple[Path, int]:
    from national_campaign import make_national

    tpl, reg = make_national(out / "data", n_units)
    camp = out / "campaign"
    discard(camp)
    subprocess.run(tracker("init", str(camp), "--template", str(tpl), "--units", str(reg)), check=True,
                   stdout=subprocess.DEVNULL)
    n = sum(1 for _ in open(reg, encoding="utf-8")) - 1
    return camp, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=None, help="communes to use (default: all 3,321)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per stage; the median is shown")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--skip-memory-check", action="store_true")
    args = ap.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    rep = args.repeat
    global TRASH
    TRASH = out / "trash"
    # Byte-compile tracker as `pip install` does: a checkout run with PYTHONDONTWRITEBYTECODE=1
    # (as on this machine) would otherwise compile every module from source at each start.
    from importlib.util import find_spec

    package = Path(find_spec("tracker").origin).parent
    subprocess.run([PY, "-m", "compileall", "-q", str(package)], check=True)
    camp, n = build_campaign(out / "national", args.units)
    rows, ratios = [], {}

    def fresh_outbox():
        discard(camp / "outbox")

    # All three write new files on each run (none overwrites the last run's).
    t, m = median_run(tracker("generate", "-C", str(camp)), rep, fresh_outbox)
    rows.append(("generate (tracker)", t, n, m))
    tb, mb = median_run([PY, __file__, "_baseline_generate", str(camp), str(out / "gen-baseline")], rep,
                        lambda: discard(out / "gen-baseline"))
    rows.append(("generate baseline (xlsxwriter)", tb, n, mb))
    tf, mf = median_run([PY, __file__, "_floor_generate", str(camp), str(out / "gen-floor")], rep,
                        lambda: discard(out / "gen-floor"))
    rows.append(("generate floor (write bytes)", tf, n, mf))
    ratios["generate: x baseline (goal >= 5)"] = tb / t
    ratios["generate: x floor"] = t / tf

    inbox = out / "national" / "inbox"
    discard(inbox)
    n_in = make_inbox(camp, inbox, seed=1)
    pristine = out / "national" / "pristine"
    discard(pristine)
    shutil.copytree(camp, pristine)

    def reset():
        discard(camp)
        shutil.copytree(pristine, camp)

    merge_cmd = tracker("merge", "-C", str(camp), str(inbox), "--received", "04/06/2026")
    tc, mc = median_run(merge_cmd, rep, reset)
    rows.append(("merge cold (tracker)", tc, n_in, mc))
    tb, mb = median_run([PY, __file__, "_baseline_merge", str(inbox)], rep)
    rows.append(("merge baseline (openpyxl)", tb, n_in, mb))
    tf, mf = median_run([PY, __file__, "_floor_merge", str(inbox)], rep)
    rows.append(("merge floor (zipfile + iterparse)", tf, n_in, mf))
    ratios["cold merge: x baseline throughput (goal >= 10)"] = tb / tc
    ratios["cold merge: x floor time (goal <= 3)"] = tc / tf
    tr, mr = median_run(merge_cmd, rep)
    rows.append(("re-merge unchanged (tracker)", tr, n_in, mr))
    ratios["re-merge / cold merge (goal < 0.05)"] = tr / tc
    new = make_inbox(camp, out / "national" / "new", seed=2, share=0.05)
    for f in (out / "national" / "new").iterdir():
        shutil.move(str(f), inbox / f.name)
    t5, m5 = run(merge_cmd)
    rows.append((f"merge with 5% new ({new} files)", t5, n_in + new, m5))
    ts, ms = median_run(tracker("stats", "-C", str(camp), "--format", "json"), rep)
    rows.append(("stats --format json", ts, 0, ms))
    tp, mp = median_run(tracker("report", "-C", str(camp)), rep)
    rows.append(("report (.xlsx + .docx)", tp, 0, mp))
    # People wait for the report as for a merge: it should take no longer than a cold merge.
    ratios["report / cold merge (goal <= 1)"] = tp / tc

    if not args.skip_memory_check and (args.units or 3321) > 1000:
        small, _ = build_campaign(out / "small", 1000)
        subprocess.run(tracker("generate", "-C", str(small)), check=True, stdout=subprocess.DEVNULL)
        small_inbox = out / "small" / "inbox"
        discard(small_inbox)
        k = make_inbox(small, small_inbox, seed=1)
        t1k, m1k = run(tracker("merge", "-C", str(small), str(small_inbox), "--received", "04/06/2026"))
        rows.append(("merge cold, 1,000 units", t1k, k, m1k))
        ratios["peak memory, all units / 1,000 (goal <= 1.2)"] = mc / m1k

    # Start-up: median of 7 runs each.
    hanoi = out / "hanoi"
    if not hanoi.exists():
        subprocess.run(tracker("init", str(hanoi)), check=True, stdout=subprocess.DEVNULL)
    bare = statistics.median(run([PY, "-c", "pass"])[0] for _ in range(7))
    helps = statistics.median(run([PY, "-m", "tracker", "--help"])[0] for _ in range(7))
    stats_t = statistics.median(run(tracker("stats", "-C", str(hanoi)))[0] for _ in range(7))
    rows.append(("python -c pass", bare, 0, 0))
    rows.append(("tracker --help", helps, 0, 0))
    rows.append(("tracker stats (Hà Nội)", stats_t, 0, 0))
    ratios["tracker --help / python -c pass (goal <= 3)"] = helps / bare
    ratios["tracker stats / python -c pass (goal <= 3)"] = stats_t / bare

    print(f"\nNational campaign: {n} units, {n_in} returns; median of {rep} run(s); {os.cpu_count()} cores")
    print(stage_table(rows))
    print("\nRatios")
    for k, v in ratios.items():
        print(f"  {k:<52}{v:>8.2f}")
    (out / "national-results.json").write_text(json.dumps({"rows": rows, "ratios": ratios}, indent=1), encoding="utf-8")
    shutil.rmtree(TRASH, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        globals()[sys.argv[1][1:]](*sys.argv[2:])
    else:
        main()
