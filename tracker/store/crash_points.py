"""Named crash points for the crash-safety tests.

`checkpoint("merge.recorded")` does nothing unless TRACKER_KILL_AT names that point (optionally with
the occurrence, "merge.recorded:3"): then the process kills itself there, as a power cut would: SIGKILL
on POSIX, TerminateProcess on Windows (os.kill with any other number), neither running any cleanup.
Tests use it to prove every point leaves the campaign consistent.
"""
import os
import signal

_HOW = getattr(signal, "SIGKILL", 9)
KILLED_RETURNCODE = -_HOW if os.name == "posix" else _HOW     # what the killed process's parent sees

_target = os.environ.get("TRACKER_KILL_AT", "")
_counts: dict[str, int] = {}


def checkpoint(name: str) -> None:
    if not _target:
        return
    point, _, nth = _target.partition(":")
    if point != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= int(nth or 1):
        os.kill(os.getpid(), _HOW)
