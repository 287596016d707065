"""Reading many returns in a few bounded worker processes.

Each worker is forked once, limits its own address space, and reads one file at a time under a
SIGALRM deadline; a worker that dies (out of memory, a crash in a C library) takes only its
current file with it: that file is refused as too big and a new worker takes its place. Results
come back keyed by job, so the caller records them in input order: the outcome is the same as
reading one by one in one process.
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import signal
from typing import Any, Callable

from tracker.intake.findings import IntakeError
from tracker.intake.safety import _vm_bytes, read_failed_error, too_big_error, too_slow_error

MiB = 1024 * 1024


class _Deadline(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Deadline()


def _worker(conn, inherited: list, fn: Callable, memory_mb: int, timeout_s: float) -> None:
    # The fork copied the parent's ends of every pipe: close them, or a dead parent is never noticed.
    for other in inherited:
        other.close()
    parent_pid = os.getppid()
    limit = _vm_bytes() + memory_mb * MiB
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # the parent decides when to stop
    while True:
        try:
            while not conn.poll(1.0):
                if os.getppid() != parent_pid:     # the parent was killed: stop, do not linger
                    return
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        key, args = job
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
        try:
            msg = ("ok", fn(*args))
        except _Deadline:
            msg = ("slow", None)
        except IntakeError as e:
            msg = ("intake", e.finding)
        except MemoryError:
            msg = ("memory", None)
        except BaseException as e:  # reported as a refusal, never a traceback
            msg = ("error", f"{type(e).__name__}: {e}"[:500])
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        try:
            conn.send((key, msg))
        except MemoryError:
            conn.send((key, ("memory", None)))
        except Exception as e:  # an unpicklable result
            conn.send((key, ("error", f"{type(e).__name__}: {e}"[:500])))


class _Handover(dict):
    """A results dict that passes each result on instead of keeping it."""

    def __init__(self, on_result):
        super().__init__()
        self._on_result = on_result

    def __setitem__(self, key, value):
        self._on_result(key, value)


def workers_for(n_jobs: int) -> int:
    """Both cores pay off from a few dozen files; below that a single worker starts faster."""
    return 1 if n_jobs < 24 else max(1, min(os.cpu_count() or 1, 4))


def read_all(fn: Callable, jobs, *, timeout_s: float, memory_mb: int, workers: int | None = None,
             expected: int | None = None, on_done: Callable[[], None] | None = None,
             on_result: Callable[[Any, Any], None] | None = None) -> dict:
    """Run fn(*args) for each (key, display_name, args) of `jobs` (any iterable: it is consumed as
    workers free up, so the caller can prepare the next files meanwhile); {key: result or IntakeError}.
    With `on_result(key, result)` results are handed over as they come instead (and not kept)."""
    results: dict = {}
    if on_result is not None:
        results = _Handover(on_result)
    source = iter(jobs)
    first = next(source, None)
    if first is None:
        return results
    ctx = multiprocessing.get_context("fork")
    n = workers or workers_for(expected if expected is not None else 1)
    names = {}
    live = {}   # conn -> (process, key in progress)

    exhausted = []

    def take():
        job = first_job.pop() if first_job else next(source, None)
        if job is None:
            exhausted.append(True)
        else:
            names[job[0]] = job[1]
        return job

    first_job = [first]

    def start():
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child, [parent, *live], fn, memory_mb, timeout_s), daemon=True)
        proc.start()
        child.close()
        live[parent] = (proc, None)
        return parent

    def feed(conn):
        proc, _ = live[conn]
        job = take()
        if job is not None:
            key, _, args = job
            conn.send((key, args))
            live[conn] = (proc, key)
        else:
            conn.send(None)
            conn.close()
            proc.join(5)
            del live[conn]

    for _ in range(n):
        feed(start())
        if exhausted:       # fewer files than workers: fork no more
            break
    from multiprocessing.connection import wait

    while live:
        busy = [c for c, (_, k) in live.items() if k is not None]
        if not busy:
            break
        # A worker stuck in C code ignores SIGALRM: the parent's own deadline catches it.
        ready = wait(busy, timeout=timeout_s + 10)
        if not ready:
            for conn in busy:
                proc, key = live.pop(conn)
                proc.kill()
                proc.join()
                results[key] = too_slow_error(names[key], timeout_s)
                if on_done:
                    on_done()
                feed(start())
            continue
        for conn in ready:
            proc, key = live[conn]
            try:
                got_key, (status, payload) = conn.recv()
            except (EOFError, OSError):
                live.pop(conn)
                proc.join()
                results[key] = too_big_error(names[key], memory_mb) if (proc.exitcode or 0) < 0 else \
                    read_failed_error(names[key], f"worker exited with {proc.exitcode}")
                if on_done:
                    on_done()
                feed(start())
                continue
            name = names[got_key]
            results[got_key] = (payload if status == "ok" else
                                IntakeError(payload) if status == "intake" else
                                too_slow_error(name, timeout_s) if status == "slow" else
                                too_big_error(name, memory_mb) if status == "memory" else
                                read_failed_error(name, payload))
            if on_done:
                on_done()
            feed(conn)
    return results
