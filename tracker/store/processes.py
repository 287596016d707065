"""Whether a process of this machine is still running (to tell a lock or a temporary file left by a
killed run from one in use)."""
from __future__ import annotations

import os


def alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True        # exists, another user's (or a system that cannot tell: assume alive)
    return True


def _alive_windows(pid: int) -> bool:
    """os.kill(pid, 0) would send the process group Ctrl+C on Windows: ask the kernel instead."""
    import ctypes

    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)      # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() != 87               # ERROR_INVALID_PARAMETER: no such process
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259                           # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
