"""The worker pool gives the same results as reading one file at a time in one process, whatever
happens in a worker: an error, a deadline, memory running out, a crash, a hang in C code."""
from __future__ import annotations

import os
import signal
import time

import pytest

from tracker.model.findings import Finding, IntakeError
from tracker.intake.bounded import read_all


def job(kind: str, n: int):
    """What a worker does with one file, by kind."""
    if kind == "ok":
        return ("read", n * n)
    if kind == "refused":
        raise IntakeError(Finding("empty", file=f"f{n}"))
    if kind == "slow":                      # a Python loop: the worker's own deadline stops it
        while True:
            pass
    if kind == "memory":
        return bytearray(512 * 1024 * 1024)
    if kind == "crash":                     # a crash in a C library
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "stuck":                     # stuck where SIGALRM cannot reach: the parent's deadline
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
        time.sleep(30)
    raise ValueError(kind)


def outcome(result):
    if isinstance(result, IntakeError):
        return ("refused", result.finding.code)
    return result


def run(kinds: list[str], **kw) -> dict:
    jobs = [(i, f"tệp-{i}.xlsx", (k, i)) for i, k in enumerate(kinds)]
    got = read_all(job, jobs, timeout_s=1, memory_mb=128, grace_s=1, **kw)
    return {k: outcome(v) for k, v in got.items()}


def expected(kinds: list[str]) -> dict:
    out = {}
    for i, k in enumerate(kinds):
        out[i] = (("read", i * i) if k == "ok" else ("refused", "empty") if k == "refused" else
                  ("refused", "too_slow") if k in ("slow", "stuck") else ("refused", "too_big"))
    return out


MIXED = ["ok"] * 5 + ["refused", "ok", "slow", "ok", "ok", "memory", "ok", "crash", "ok", "ok", "ok"] + ["ok"] * 6


@pytest.mark.parametrize("workers,depth", [(1, 1), (2, 1), (2, 2), (2, 3)])
def test_every_file_gets_the_outcome_one_process_would_give(workers, depth):
    assert run(MIXED, workers=workers, depth=depth) == expected(MIXED)


def test_the_files_queued_behind_a_worker_that_dies_are_read_by_its_replacement():
    kinds = ["crash", "ok", "ok", "crash", "ok", "ok", "ok"]
    assert run(kinds, workers=1, depth=3) == expected(kinds)


def test_a_worker_stuck_in_c_code_is_killed_by_the_parent_and_the_rest_go_on():
    kinds = ["ok", "stuck", "ok", "ok", "ok"]
    got = run(kinds, workers=2, depth=2)
    assert got == expected(kinds)


def test_results_are_handed_over_as_they_come_and_not_kept():
    seen = {}
    kept = read_all(job, [(i, f"{i}", ("ok", i)) for i in range(30)], timeout_s=5, memory_mb=128, workers=2,
                    on_result=seen.__setitem__)
    assert not kept and seen == {i: ("read", i * i) for i in range(30)}
