"""How much memory a reading worker may use: the same limit on every OS, each OS's own way of keeping it.

- Linux: the worker caps its own address space (RLIMIT_AS). Past it an allocation fails:
  MemoryError in Python, or a crash (a signal) in C code.
- Windows: a Job Object per worker, held by the parent: a per-process memory limit (committed
  memory: past it allocations fail, as on Linux), kill-on-close (a worker never outlives the
  parent, however the parent ends) and no error dialog for a crash (the worker dies at once with
  the exception's status). A worker that dies is judged by the job's accounting (its peak reached
  the limit) and its exit status.
- Elsewhere (macOS, where RLIMIT_AS is not enforced), and on a Windows that does not keep a job's
  memory limit (wine does not), the parent watches each worker's resident memory with psutil and
  kills a worker past the limit; the worker also checks its own peak after each file, since a
  short peak may fall between two of the parent's looks.
"""
from __future__ import annotations

import os
import sys

MiB = 1024 * 1024
STARTUP_ALLOWANCE_MB = 256      # what a worker may use before it says it is ready (Windows)


def choose() -> str:
    """The bound this system can keep: "rlimit", "job" or "rss"."""
    if sys.platform.startswith("linux"):
        return "rlimit"
    if sys.platform == "win32" and _job_limits_kept():
        return "job"
    return "rss"


def crashed(exitcode: int | None) -> bool:
    """The worker died of something that is not an exit: a signal (POSIX), an exception status
    such as an access violation or an unhandled stack overflow (Windows: 0xC0000000 and above)."""
    if exitcode is None:
        return False
    if sys.platform == "win32":
        return exitcode >= 0xC0000000 or exitcode < 0
    return exitcode < 0


# ----------------------------------------------------------------------------- in the worker
class WorkerBound:
    """The worker's own part: the address-space cap (Linux), the check of its peak (rss)."""

    def __init__(self, bound: str, memory_mb: int):
        self.bound, self.memory_mb = bound, memory_mb
        self.baseline = 0

    def start(self) -> None:
        """Called once the worker is set up: from here on, reading may use `memory_mb` more."""
        if sys.platform == "win32":
            # A crash must end the worker at once (its file refused), never wait on an error dialog
            # (the job says so too; this holds where the worker could not join one).
            import ctypes

            ctypes.windll.kernel32.SetErrorMode(0x0001 | 0x0002 | 0x8000)   # FAILCRITICALERRORS, NOGPFAULTERRORBOX, NOOPENFILEERRORBOX
        if self.bound == "rlimit":
            import resource

            limit = _vm_bytes() + self.memory_mb * MiB
            hard = resource.getrlimit(resource.RLIMIT_AS)[1]
            resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
        elif self.bound == "rss":
            self.baseline = peak_rss()

    def exceeded(self) -> bool:
        """Whether the last file took the worker past its limit (its peak, which only grows: the
        worker is retired after saying so)."""
        return self.bound == "rss" and peak_rss() - self.baseline > self.memory_mb * MiB


def peak_rss() -> int:
    """The largest resident memory this process has had, in bytes."""
    try:
        import resource
    except ImportError:         # Windows: the peak working set
        import psutil

        return psutil.Process().memory_info().peak_wset
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024       # bytes on macOS, KiB elsewhere


def _vm_bytes() -> int:
    """The address space this process has mapped (Linux)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


# ----------------------------------------------------------------------------- in the parent
class Guard:
    """The parent's part for one worker, from its start to its end."""

    def __init__(self, bound: str, memory_mb: int, pid: int):
        self.bound, self.memory_mb, self.pid = bound, memory_mb, pid
        self.job = None
        self.limit = 0
        self.baseline = 0
        self.watch = bound == "rss"
        self._proc = None
        if bound == "job":
            self.limit = (memory_mb + STARTUP_ALLOWANCE_MB) * MiB
            self.job = _Job.create(self.limit)
            if self.job is None or not self.job.assign(pid):
                # a job we cannot create or join (a parent job forbidding nesting): watch instead
                self._close_job()
                self.watch = True

    def ready(self) -> None:
        """The worker is set up: its limit counts from what it uses now."""
        if self.job is not None:
            import psutil

            try:
                info = self._process().memory_info()
                used = getattr(info, "private", info.vms)      # committed memory, what the job limits
            except (psutil.Error, AttributeError):
                used = 0
            self.limit = used + self.memory_mb * MiB
            self.job.set_limit(self.limit)
        if self.watch and self._process():
            self.baseline = self._rss()

    def exceeded(self) -> bool:
        """Whether the worker is past its limit now (the watch; the OS keeps the others)."""
        return self.watch and self._rss() - self.baseline > self.memory_mb * MiB

    def died_of_memory(self) -> bool:
        """After the worker died: whether it had reached its limit (the job's accounting)."""
        if self.job is None or not self.limit:
            return False
        peak = self.job.peak()
        return peak is not None and peak >= self.limit - 32 * MiB

    def close(self) -> None:
        self._close_job()

    def _close_job(self) -> None:
        if self.job is not None:
            self.job.close()
            self.job = None

    def _process(self):
        if self._proc is None:
            import psutil

            try:
                self._proc = psutil.Process(self.pid)
            except psutil.Error:
                return None
        return self._proc

    def _rss(self) -> int:
        import psutil

        try:
            proc = self._process()
            return proc.memory_info().rss if proc else 0
        except psutil.Error:        # gone: its end of the pipe says so
            return 0


# ----------------------------------------------------------------------------- Windows Job Objects
_JOB_EXTENDED_LIMITS = 9        # JobObjectExtendedLimitInformation
_LIMIT_PROCESS_MEMORY = 0x100
_LIMIT_DIE_ON_UNHANDLED_EXCEPTION = 0x400
_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
_FLAGS = _LIMIT_PROCESS_MEMORY | _LIMIT_DIE_ON_UNHANDLED_EXCEPTION | _LIMIT_KILL_ON_JOB_CLOSE
_PROCESS_SET_QUOTA, _PROCESS_TERMINATE = 0x0100, 0x0001
_api = None


def _kernel32():
    """kernel32's job functions through ctypes (the standard library has none; pywin32 would
    bring 10 MB for five calls)."""
    global _api
    if _api is None:
        import ctypes
        from ctypes import wintypes

        class Basic(ctypes.Structure):
            _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                        ("LimitFlags", wintypes.DWORD), ("MinimumWorkingSetSize", ctypes.c_size_t),
                        ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", wintypes.DWORD),
                        ("Affinity", ctypes.c_size_t), ("PriorityClass", wintypes.DWORD),
                        ("SchedulingClass", wintypes.DWORD)]

        class Io(ctypes.Structure):
            _fields_ = [(n, ctypes.c_uint64) for n in ("ReadOperationCount", "WriteOperationCount",
                                                       "OtherOperationCount", "ReadTransferCount",
                                                       "WriteTransferCount", "OtherTransferCount")]

        class Extended(ctypes.Structure):
            _fields_ = [("BasicLimitInformation", Basic), ("IoInfo", Io), ("ProcessMemoryLimit", ctypes.c_size_t),
                        ("JobMemoryLimit", ctypes.c_size_t), ("PeakProcessMemoryUsed", ctypes.c_size_t),
                        ("PeakJobMemoryUsed", ctypes.c_size_t)]

        k = ctypes.WinDLL("kernel32", use_last_error=True)
        k.CreateJobObjectW.restype = wintypes.HANDLE
        k.CreateJobObjectW.argtypes = (ctypes.c_void_p, wintypes.LPCWSTR)
        k.SetInformationJobObject.argtypes = (wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD)
        k.QueryInformationJobObject.argtypes = (wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD,
                                                ctypes.c_void_p)
        k.OpenProcess.restype = wintypes.HANDLE
        k.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
        k.AssignProcessToJobObject.argtypes = (wintypes.HANDLE, wintypes.HANDLE)
        k.CloseHandle.argtypes = (wintypes.HANDLE,)
        _api = (ctypes, k, Extended)
    return _api


class _Job:
    def __init__(self, handle):
        self.handle = handle

    @classmethod
    def create(cls, limit: int) -> "_Job | None":
        ctypes, k, _ = _kernel32()
        handle = k.CreateJobObjectW(None, None)
        if not handle:
            return None
        job = cls(handle)
        if not job.set_limit(limit):
            job.close()
            return None
        return job

    def set_limit(self, limit: int) -> bool:
        ctypes, k, Extended = _kernel32()
        info = Extended()
        info.BasicLimitInformation.LimitFlags = _FLAGS
        info.ProcessMemoryLimit = limit
        return bool(k.SetInformationJobObject(self.handle, _JOB_EXTENDED_LIMITS, ctypes.byref(info),
                                              ctypes.sizeof(info)))

    def query(self):
        ctypes, k, Extended = _kernel32()
        info = Extended()
        if not k.QueryInformationJobObject(self.handle, _JOB_EXTENDED_LIMITS, ctypes.byref(info),
                                           ctypes.sizeof(info), None):
            return None
        return info

    def peak(self) -> int | None:
        info = self.query()
        return None if info is None else info.PeakProcessMemoryUsed

    def assign(self, pid: int) -> bool:
        _, k, _ = _kernel32()
        proc = k.OpenProcess(_PROCESS_SET_QUOTA | _PROCESS_TERMINATE, False, pid)
        if not proc:
            return False
        try:
            return bool(k.AssignProcessToJobObject(self.handle, proc))
        finally:
            k.CloseHandle(proc)

    def close(self) -> None:
        if self.handle:
            _kernel32()[1].CloseHandle(self.handle)
            self.handle = None


_kept: bool | None = None


def _job_limits_kept() -> bool:
    """Whether this Windows keeps a job's per-process memory limit: set one and read it back.
    Windows does; wine 8 accepts the call and keeps nothing (the limit reads back as 0)."""
    global _kept
    if _kept is None:
        _kept = False
        try:
            job = _Job.create(64 * MiB)
        except (OSError, AttributeError):
            job = None
        if job is not None:
            info = job.query()
            _kept = info is not None and info.ProcessMemoryLimit == 64 * MiB and \
                bool(info.BasicLimitInformation.LimitFlags & _LIMIT_PROCESS_MEMORY)
            job.close()
    return _kept
