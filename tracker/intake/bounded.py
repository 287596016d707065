"""Reading many returns in a few bounded worker processes.

Workers are fresh interpreters, started by spawn on every OS (Windows and macOS have nothing
else; a frozen tracker.exe needs it), each given the campaign once by `setup`, then jobs: a
module-level function and its arguments, one file at a time. Memory is bounded the way each OS
allows (tracker.intake.memory); time by the parent alone, whatever the worker is doing (a Python
loop or a call stuck in C): a file not read `timeout_s` after its worker began it is refused as
too slow, the worker killed and a new one started. A worker that dies takes only its current
file with it: refused as too big when it ran out of memory or crashed, as unreadable when it
exited; the files queued behind it go to its replacement. Results come back keyed by job, so the
caller records them in input order: the outcome is the same as reading one by one in one process.
"""
from __future__ import annotations

import multiprocessing
import signal
import time
from collections import deque
from multiprocessing.connection import wait
from typing import Any, Callable

from tracker.intake import memory
from tracker.intake.safety import _fail, _num
from tracker.model.errors import TrackerError
from tracker.model.findings import IntakeError

STARTUP_TIMEOUT_S = 120     # a worker not ready by then (a frozen machine) stops the reading
WATCH_EVERY_S = 0.2         # how often the parent looks at a watched worker's memory


def _worker(conn, setup: Callable | None, setup_args: tuple, fn: Callable, bound: str, memory_mb: int) -> None:
    """A worker's life. Messages to the parent: ("ready",) once set up, then ("done", key,
    status, payload) per job; ("failed", detail) if it cannot be set up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # the parent decides when to stop
    limit = memory.WorkerBound(bound, memory_mb)
    try:
        if setup is not None:
            setup(*setup_args)
        limit.start()
    except BaseException as e:      # said to the parent, which stops the reading; never a traceback
        conn.send(("failed", f"{type(e).__name__}: {e}"[:500]))
        return
    conn.send(("ready",))      # the first file's time counts from here
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):     # the parent is gone: stop, do not linger
            return
        if job is None:
            return
        key, args = job
        try:
            status, payload = "ok", fn(*args)
        except IntakeError as e:
            status, payload = "intake", e.finding
        except MemoryError:
            status, payload = "memory", None
        except BaseException as e:  # reported as a refusal, never a traceback
            status, payload = "error", f"{type(e).__name__}: {e}"[:500]
        if status != "memory" and limit.exceeded():
            status, payload = "memory", None
        try:
            conn.send(("done", key, status, payload))
        except MemoryError:
            status, payload = "memory", None
            conn.send(("done", key, status, payload))
        except Exception as e:  # an unpicklable result
            conn.send(("done", key, "error", f"{type(e).__name__}: {e}"[:500]))
        if status == "memory":      # what is left of a heap that ran out is no place to read the next file
            return


class _Handover(dict):
    """A results dict that passes each result on instead of keeping it."""

    def __init__(self, on_result):
        super().__init__()
        self._on_result = on_result

    def __setitem__(self, key, value):
        self._on_result(key, value)


def workers_for(n_jobs: int) -> int:
    """Both cores pay off from a few dozen files; below that a single worker starts faster."""
    import os

    return 1 if n_jobs < 24 else max(1, min(os.cpu_count() or 1, 4))


class _Slot:
    """One worker as the parent sees it."""
    __slots__ = ("proc", "conn", "guard", "keys", "ready", "started", "since")

    def __init__(self, proc, conn, guard):
        self.proc, self.conn, self.guard = proc, conn, guard
        self.keys: deque = deque()      # jobs sent and not answered, oldest first (the one being read)
        self.ready = False
        self.started = self.since = time.monotonic()


def read_all(fn: Callable, jobs, *, timeout_s: float, memory_mb: int, workers: int | None = None,
             expected: int | None = None, on_done: Callable[[], None] | None = None,
             on_result: Callable[[Any, Any], None] | None = None, depth: int = 2,
             setup: Callable | None = None, setup_args: tuple = (), bound: str | None = None) -> dict:
    """Run fn(*args) for each (key, display_name, args) of `jobs` (any iterable: it is consumed as
    workers free up, so the caller can prepare the next files meanwhile); {key: result or IntakeError}.
    With `on_result(key, result)` results are handed over as they come instead (and not kept).

    `fn` and `setup` are module-level functions (a worker imports them); `setup(*setup_args)` runs
    once in each worker before its first job: what every job needs (the campaign) crosses over
    once per worker, not once per file. Each worker has up to `depth` jobs sent ahead, so it never
    waits while the parent records or prepares. `bound`: the memory bound ("rlimit", "job",
    "rss"), by default the one this OS keeps (tests choose)."""
    results: dict = _Handover(on_result) if on_result is not None else {}
    source = iter(jobs)
    first = next(source, None)
    if first is None:
        return results
    ctx = multiprocessing.get_context("spawn")
    bound = bound or memory.choose()
    n = workers or workers_for(expected if expected is not None else 1)
    sent = {}           # key -> (key, display name, args) of each job sent and not answered
    live: dict = {}     # conn -> _Slot
    retry: deque = deque()      # jobs queued behind a worker that went, to send again first
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

    def start() -> _Slot:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child, setup, setup_args, fn, bound, memory_mb), daemon=True)
        proc.start()
        child.close()
        slot = _Slot(proc, parent, memory.Guard(bound, memory_mb, proc.pid))
        live[parent] = slot
        return slot

    def finish(slot: _Slot, kill: bool) -> None:
        """The worker's end: killed, or told to stop; its resources released."""
        live.pop(slot.conn, None)
        if kill:
            slot.proc.kill()
        else:
            try:
                slot.conn.send(None)
            except OSError:
                pass
        slot.proc.join(None if kill else 5)
        if slot.proc.exitcode is None:      # told to stop and did not
            slot.proc.kill()
            slot.proc.join()
        slot.conn.close()
        slot.guard.close()
        slot.proc.close()

    def feed(slot: _Slot) -> None:
        """Top the worker up to `depth` jobs; a worker with none left is told to stop."""
        while len(slot.keys) < depth:
            job = take()
            if job is None:
                break
            if not slot.keys:
                slot.since = time.monotonic()
            slot.keys.append(job[0])
            try:
                slot.conn.send((job[0], job[2]))
            except OSError:     # the worker died meanwhile: its end of the pipe says so (lost)
                return
        if not slot.keys:
            finish(slot, kill=False)

    def replace() -> None:
        if retry or not exhausted:
            feed(start())

    def give(key, result) -> None:
        results[key] = result
        if on_done:
            on_done()

    def lost(slot: _Slot, error_for, kill: bool) -> None:
        """The worker is gone or going: its current job gets `error_for(name)`, the ones behind it
        go again, to a new worker."""
        code = None
        if not kill:
            slot.proc.join()
            code = slot.proc.exitcode
            if not slot.ready:
                _cleanup(live)
                raise TrackerError(_startup_failed(f"exit {code}"))
        died_of_memory = not kill and slot.guard.died_of_memory()
        finish(slot, kill=kill)
        key = slot.keys.popleft()
        retry.extend(sent[k] for k in slot.keys)
        give(key, error_for(sent.pop(key)[1], code, died_of_memory))
        replace()

    def died(name, code, of_memory):
        if of_memory or memory.crashed(code):
            return too_big_error(name, memory_mb)
        return read_failed_error(name, f"worker exited with {code}")

    try:
        for _ in range(n):
            feed(start())
            if exhausted and not retry:       # fewer files than workers: start no more
                break
        while live:
            busy = [s for s in live.values() if s.keys]
            if not busy:
                break
            now = time.monotonic()
            for slot in busy:
                if not slot.ready:
                    if now - slot.started > STARTUP_TIMEOUT_S:
                        _cleanup(live)
                        raise TrackerError(_startup_failed(f"> {STARTUP_TIMEOUT_S} s"))
                elif now - slot.since >= timeout_s:
                    lost(slot, lambda name, *_: too_slow_error(name, timeout_s), kill=True)
                elif slot.guard.exceeded():
                    lost(slot, lambda name, *_: too_big_error(name, memory_mb), kill=True)
            busy = [s for s in live.values() if s.keys]
            if not busy:
                continue
            now = time.monotonic()
            until = min((s.since + timeout_s if s.ready else s.started + STARTUP_TIMEOUT_S) for s in busy) - now
            if any(s.guard.watch for s in busy):
                until = min(until, WATCH_EVERY_S)
            for conn in wait([s.conn for s in busy], timeout=max(0.0, until)):
                slot = live.get(conn)
                if slot is None:
                    continue
                try:
                    got = conn.recv()
                except (EOFError, OSError):
                    lost(slot, died, kill=False)
                    continue
                if got[0] == "ready":
                    slot.ready = True
                    slot.guard.ready()
                    slot.since = time.monotonic()
                    continue
                if got[0] == "failed":
                    _cleanup(live)
                    raise TrackerError(_startup_failed(got[1]))
                _, got_key, status, payload = got
                slot.keys.popleft()      # answers come back in the order the jobs were sent
                name = sent.pop(got_key)[1]
                give(got_key, payload if status == "ok" else
                     IntakeError(payload) if status == "intake" else
                     too_big_error(name, memory_mb) if status == "memory" else
                     read_failed_error(name, payload))
                if status == "memory":      # the worker has stopped: the rest of its queue goes again
                    finish(slot, kill=False)
                    retry.extend(sent[k] for k in slot.keys)
                    slot.keys.clear()
                    replace()
                    continue
                slot.since = time.monotonic()
                feed(slot)
    except BaseException:
        _cleanup(live)
        raise
    return results


def _cleanup(live: dict) -> None:
    """Every worker killed (an interrupted or failed reading leaves none behind)."""
    for slot in list(live.values()):
        try:
            slot.proc.kill()
            slot.proc.join()
            slot.conn.close()
            slot.guard.close()
        except (OSError, ValueError):
            pass
    live.clear()


def _startup_failed(detail: str) -> str:
    return (f"Không khởi động được tiến trình đọc tệp ({detail}); chưa tệp nào được ghi nhận. Chạy lại lệnh; nếu lỗi "
            "lặp lại, cài lại tracker hoặc khởi động lại máy, rồi chạy lại với biến môi trường TRACKER_DEBUG=1 và "
            "gửi kết quả cho nhóm phát triển.")


def run_bounded(fn: Callable[..., Any], *args: Any, timeout_s: float, memory_mb: int,
                display_name: str = "", bound: str | None = None) -> Any:
    """fn(*args) in one bounded worker, as read_all reads each file: its (picklable) result.

    IntakeError raised in the worker is raised here; a deadline passed raises "too_slow",
    memory run out or a worker that crashed "too_big", any other exception "read_failed"."""
    result = read_all(fn, [(0, display_name, args)], timeout_s=timeout_s, memory_mb=memory_mb, workers=1,
                      bound=bound)[0]
    if isinstance(result, IntakeError):
        raise result
    return result


def too_slow_error(name: str, timeout_s: float) -> IntakeError:
    return _fail("too_slow", name, value=f"> {timeout_s:g} s", expected=f"<= {timeout_s:g} s",
                 seconds=_num(timeout_s))


def too_big_error(name: str, memory_mb: int) -> IntakeError:
    return _fail("too_big", name, value=f"> {memory_mb} MB", expected=f"<= {memory_mb} MB", megabytes=memory_mb)


def read_failed_error(name: str, detail: str) -> IntakeError:
    return _fail("read_failed", name, value=detail)
