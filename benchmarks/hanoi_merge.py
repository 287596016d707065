#!/usr/bin/env python3
"""The cold merge of Hà Nội's 136 returns, timed: what starting the reading workers costs.

    python benchmarks/hanoi_merge.py [--repeat 9] [--out benchmarks/out]

Builds the Hà Nội campaign (the packaged template), fills every unit's workbook as
national.py does, then runs `tracker merge` of the 136 returns on a fresh copy of the campaign
`--repeat` times, and prints the median and the minimum of the wall clock and of the CPU time
(user + sys of the merge and its workers). The CPU time is the steadier figure on a machine
shared with other work. A merge this size is where process start-up weighs most: two workers
read 136 files in about a second.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
PY = sys.executable


def cpu_of_children() -> float:
    if os.name != "posix":      # RUSAGE_CHILDREN is POSIX: elsewhere the wall clock alone
        return 0.0
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    import national

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    a = ap.parse_args()
    out = (a.out / "hanoi").resolve()
    national.TRASH = out / "trash"
    national.discard(out / "pristine")
    camp = out / "campaign"
    national.discard(camp)
    subprocess.run([PY, "-m", "tracker", "init", str(camp)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([PY, "-m", "tracker", "generate", "-C", str(camp)], check=True, stdout=subprocess.DEVNULL)
    inbox = out / "inbox"
    national.discard(inbox)
    n = national.make_inbox(camp, inbox, seed=1)
    shutil.copytree(camp, out / "pristine")
    walls, cpus = [], []
    for _ in range(a.repeat):
        national.discard(camp)
        shutil.copytree(out / "pristine", camp)
        cpu0, t0 = cpu_of_children(), time.perf_counter()
        subprocess.run([PY, "-m", "tracker", "merge", "-C", str(camp), str(inbox), "--received", "04/06/2026"],
                       check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_of_children() - cpu0)
    print(f"cold merge of {n} returns, {a.repeat} runs: wall median {statistics.median(walls):.2f} s "
          f"(min {min(walls):.2f}), CPU median {statistics.median(cpus):.2f} s (min {min(cpus):.2f})")
    shutil.rmtree(national.TRASH, ignore_errors=True)


if __name__ == "__main__":
    main()
