"""Reading many returns in a few bounded worker processes.

Each worker is forked once, limits its own address space, and reads one file at a time under a
SIGALRM deadline; a worker that dies (out of memory, a crash in a C library) takes only its
current file with it: that file is refused as too big and a new worker takes its place. Results
come back keyed by job, so the caller records them in input order: the outcome is the same as
reading one by one in one process.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import resource
import signal
from collections import deque
from typing import Any, Callable

from tracker.intake.safety import _fail, _num
from tracker.model.findings import IntakeError

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
             on_result: Callable[[Any, Any], None] | None = None, depth: int = 2,
             grace_s: float = 10) -> dict:
    """Run fn(*args) for each (key, display_name, args) of `jobs` (any iterable: it is consumed as
    workers free up, so the caller can prepare the next files meanwhile); {key: result or IntakeError}.
    With `on_result(key, result)` results are handed over as they come instead (and not kept).

    Each worker has up to `depth` jobs sent ahead, so it never waits while the parent records or
    prepares. A worker that dies takes only the job it was reading: the jobs queued behind it go
    to its replacement."""
    results: dict = {}
    if on_result is not None:
        results = _Handover(on_result)
    source = iter(jobs)
    first = next(source, None)
    if first is None:
        return results
    ctx = multiprocessing.get_context("fork")
    n = workers or workers_for(expected if expected is not None else 1)
    sent = {}       # key -> (key, display name, args) of each job sent and not answered
    live: dict = {}     # conn -> (process, keys sent and not answered, oldest first)
    retry = deque()     # jobs queued behind a worker that died, to send again first
    pending = deque([first])
    exhausted = []

    def take():
        if retry:
            return retry.popleft()
        job = pending.popleft() if pending else next(source, None)
        if job is None:
            exhausted.append(True)
        else:
            sent[job[0]] = job
        return job

    def start():
        # Objects inherited from the parent (the registry, the campaign) are left out of the
        # workers' garbage collections: scanning them costs time and copies their pages.
        gc.freeze()
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child, [parent, *live], fn, memory_mb, timeout_s), daemon=True)
        proc.start()
        child.close()
        live[parent] = (proc, deque())
        return parent

    def feed(conn) -> None:
        """Top the worker up to `depth` jobs; a worker with none left is told to stop."""
        proc, keys = live[conn]
        while len(keys) < depth:
            job = take()
            if job is None:
                break
            key, _, args = job
            keys.append(key)
            try:
                conn.send((key, args))
            except OSError:     # the worker died meanwhile: its end of the pipe says so (lost)
                return
        if not keys:
            try:
                conn.send(None)
            except OSError:
                pass
            conn.close()
            proc.join(5)
            del live[conn]

    def lost(conn, error_for) -> None:
        """The worker is gone: its current job gets `error_for(name)`, the ones behind it go again."""
        proc, keys = live.pop(conn)
        key = keys.popleft()
        retry.extend(sent[k] for k in keys)
        results[key] = error_for(sent.pop(key)[1])
        if on_done:
            on_done()

    for _ in range(n):
        feed(start())
        if exhausted and not retry:       # fewer files than workers: fork no more
            break
    from multiprocessing.connection import wait

    while live:
        busy = [c for c, (_, keys) in live.items() if keys]
        if not busy:
            break
        # A worker stuck in C code ignores SIGALRM: the parent's own deadline catches it.
        ready = wait(busy, timeout=timeout_s + grace_s)
        if not ready:
            for conn in busy:
                proc = live[conn][0]
                proc.kill()
                proc.join()
                lost(conn, lambda name: too_slow_error(name, timeout_s))
                if retry or not exhausted:
                    feed(start())
            continue
        for conn in ready:
            proc, keys = live[conn]
            try:
                got_key, (status, payload) = conn.recv()
            except (EOFError, OSError):
                proc.join()
                code = proc.exitcode or 0
                lost(conn, lambda name: too_big_error(name, memory_mb) if code < 0 else
                     read_failed_error(name, f"worker exited with {code}"))
                if retry or not exhausted:
                    feed(start())
                continue
            keys.popleft()      # answers come back in the order the jobs were sent
            name = sent.pop(got_key)[1]
            results[got_key] = (payload if status == "ok" else
                                IntakeError(payload) if status == "intake" else
                                too_slow_error(name, timeout_s) if status == "slow" else
                                too_big_error(name, memory_mb) if status == "memory" else
                                read_failed_error(name, payload))
            if on_done:
                on_done()
            feed(conn)
    return results


def run_bounded(fn: Callable[..., Any], *args: Any, timeout_s: float, memory_mb: int,
                display_name: str = "") -> Any:
    """fn(*args) in one bounded worker, as read_all reads each file: its (picklable) result.

    IntakeError raised in the worker is raised here; a deadline passed raises "too_slow",
    memory run out or a worker killed by a signal "too_big", any other exception "read_failed"."""
    result = read_all(fn, [(0, display_name, args)], timeout_s=timeout_s, memory_mb=memory_mb, workers=1)[0]
    if isinstance(result, IntakeError):
        raise result
    return result


def _vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def too_slow_error(name: str, timeout_s: float) -> IntakeError:
    return _fail("too_slow", name, value=f"> {timeout_s:g} s", expected=f"<= {timeout_s:g} s",
                 seconds=_num(timeout_s))


def too_big_error(name: str, memory_mb: int) -> IntakeError:
    return _fail("too_big", name, value=f"> {memory_mb} MB", expected=f"<= {memory_mb} MB", megabytes=memory_mb)


def read_failed_error(name: str, detail: str) -> IntakeError:
    return _fail("read_failed", name, value=detail)
