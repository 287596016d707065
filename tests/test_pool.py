"""The worker pool gives the same results as reading one file at a time in one process, whatever
happens in a worker: an error, a deadline, memory running out, a crash, a hang in C code, an exit.

Every kind of trouble is made portably (no POSIX signal tricks): the tests run alike on Linux,
Windows and macOS, with the memory bound of the OS and with the parent's watch (psutil) that
macOS uses, tried here too."""
from __future__ import annotations

import os
import time

import pytest

from tracker.intake import memory
from tracker.intake.bounded import read_all
from tracker.model.errors import TrackerError
from tracker.model.findings import Finding, IntakeError

MiB = 1024 * 1024
# The OS's own bound, and the parent's watch wherever the OS has another.
BOUNDS = [memory.choose()] + (["rss"] if memory.choose() != "rss" else [])

_SETUPS = []        # in a worker: what setup() was given, once per call


def setup(tag: str) -> None:
    _SETUPS.append(tag)


def job(kind: str, n: int):
    """What a worker does with one file, by kind."""
    if kind == "ok":
        return ("read", n * n)
    if kind == "refused":
        raise IntakeError(Finding("empty", file=f"f{n}"))
    if kind == "slow":                      # a Python loop
        while True:
            pass
    if kind == "stuck":                     # stuck in a C call
        time.sleep(30)
    if kind == "memory":                    # written to, so resident (not only reserved)
        return len(b"\x01" * (512 * MiB))
    if kind == "crash":                     # a crash in C code: an access violation
        import ctypes

        ctypes.string_at(0)
    if kind == "exit":                      # a library that ends the process
        os._exit(3)
    if kind == "setups":                    # how often this worker was set up, and with what
        return ("setups", list(_SETUPS))
    raise ValueError(kind)


def outcome(result):
    if isinstance(result, IntakeError):
        return ("refused", result.finding.code)
    return result


def run(kinds: list[str], **kw) -> dict:
    jobs = [(i, f"tệp-{i}.xlsx", (k, i)) for i, k in enumerate(kinds)]
    got = read_all(job, jobs, timeout_s=1, memory_mb=128, **kw)
    return {k: outcome(v) for k, v in got.items()}


def expected(kinds: list[str]) -> dict:
    out = {}
    for i, k in enumerate(kinds):
        out[i] = (("read", i * i) if k == "ok" else ("refused", "empty") if k == "refused" else
                  ("refused", "too_slow") if k in ("slow", "stuck") else
                  ("refused", "read_failed") if k == "exit" else ("refused", "too_big"))
    return out


MIXED = ["ok"] * 5 + ["refused", "ok", "slow", "ok", "ok", "memory", "ok", "crash", "ok", "stuck", "ok", "exit"] + \
    ["ok"] * 5


@pytest.mark.parametrize("workers,depth", [(1, 1), (2, 1), (2, 2), (2, 3)])
def test_every_file_gets_the_outcome_one_process_would_give(workers, depth):
    assert run(MIXED, workers=workers, depth=depth) == expected(MIXED)


@pytest.mark.parametrize("bound", BOUNDS[1:])
def test_the_parents_watch_keeps_memory_as_the_os_does(bound):
    assert run(MIXED, workers=2, depth=2, bound=bound) == expected(MIXED)


def test_the_files_queued_behind_a_worker_that_dies_are_read_by_its_replacement():
    kinds = ["crash", "ok", "ok", "crash", "ok", "memory", "ok", "ok", "exit", "ok"]
    assert run(kinds, workers=1, depth=3) == expected(kinds)


def test_a_worker_stuck_in_c_code_is_killed_by_the_parent_and_the_rest_go_on():
    kinds = ["ok", "stuck", "ok", "ok", "ok"]
    start = time.monotonic()
    assert run(kinds, workers=2, depth=2) == expected(kinds)
    assert time.monotonic() - start < 20


def test_results_are_handed_over_as_they_come_and_not_kept():
    seen = {}
    kept = read_all(job, [(i, f"{i}", ("ok", i)) for i in range(30)], timeout_s=5, memory_mb=128, workers=2,
                    on_result=seen.__setitem__)
    assert not kept and seen == {i: ("read", i * i) for i in range(30)}


def test_each_worker_is_set_up_once_with_what_every_file_needs():
    got = read_all(job, [(i, f"{i}", ("setups", i)) for i in range(12)], timeout_s=5, memory_mb=128, workers=1,
                   setup=setup, setup_args=("chiến dịch",))
    assert set(map(str, got.values())) == {str(("setups", ["chiến dịch"]))}
    # a replacement worker is set up too, once
    got = read_all(job, [(0, "a", ("crash", 0)), (1, "b", ("setups", 1))], timeout_s=5, memory_mb=128, workers=1,
                   setup=setup, setup_args=("lần hai",))
    assert got[1] == ("setups", ["lần hai"])


def test_a_worker_that_cannot_be_set_up_stops_the_reading_with_a_message():
    with pytest.raises(TrackerError, match="Không khởi động được tiến trình đọc tệp"):
        read_all(job, [(0, "a", ("ok", 0))], timeout_s=5, memory_mb=128, setup=setup, setup_args=())
