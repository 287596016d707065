"""Old formats (.xls, .ods) turned into .xlsx by headless LibreOffice, bounded in time, offline.

The files are untrusted: a unit's .ods or .xls may link images, other workbooks or web services
at any address its sender chose, and LibreOffice fetches a linked image as it loads the file (a
tracking pixel at least). Each conversion runs on a fresh private profile whose settings refuse
that: every HTTP/HTTPS/FTP request goes to a proxy that does not exist (LibreOffice 7.4 fetches
linked images whatever BlockUntrustedRefererLinks says; the proxy stops them), untrusted links are
blocked, links are never updated, formulas never recalculated on load (WEBSERVICE), macros never
run. On Linux it also runs without network when the system allows it (`unshare -rn`: a new
network namespace with no interface up), and silently as before when it does not.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tracker.intake.safety import _fail, _num, sniff_kind
from tracker.model.findings import IntakeError


SOFFICE_ENV = "TRACKER_SOFFICE"     # the LibreOffice program to use (soffice, soffice.exe, or its folder)


def find_soffice(environ=os.environ, platform: str = sys.platform) -> str | None:
    """LibreOffice's program: $TRACKER_SOFFICE when set (and nothing else then), else on PATH, else
    where its installer puts it: Windows' installer does not add it to PATH (Program Files, or
    Program Files (x86) for a 32-bit LibreOffice), nor does macOS's (/Applications)."""
    names = ("soffice.exe", "soffice.com") if platform == "win32" else ("soffice",)
    given = environ.get(SOFFICE_ENV, "").strip().strip('"')
    if given:
        path = Path(given)
        candidates = [path / n for n in names] + [path / "program" / n for n in names] if path.is_dir() else [path]
        return next((str(c) for c in candidates if c.is_file()), None)
    search = environ.get("PATH", os.defpath)
    found = shutil.which("soffice", path=search) or shutil.which("libreoffice", path=search)
    if found:
        return found
    if platform == "win32":
        roots = [environ.get(k, "") for k in ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)")]
        places = [Path(r) / "LibreOffice" / "program" / "soffice.exe" for r in dict.fromkeys(roots) if r]
    elif platform == "darwin":
        places = [Path("/Applications/LibreOffice.app/Contents/MacOS/soffice")]
    else:
        places = []
    return next((str(p) for p in places if p.is_file()), None)


def _soffice() -> str | None:
    return find_soffice()


# The private profile's settings (registrymodifications.xcu): (path, property, value).
_NOWHERE = ("127.0.0.1", "9")        # the discard port: nothing answers there, nothing leaves the machine
SETTINGS = [
    ("/org.openoffice.Inet/Settings", "ooInetProxyType", "1"),           # manual proxy...
    ("/org.openoffice.Inet/Settings", "ooInetHTTPProxyName", _NOWHERE[0]),
    ("/org.openoffice.Inet/Settings", "ooInetHTTPProxyPort", _NOWHERE[1]),
    ("/org.openoffice.Inet/Settings", "ooInetHTTPSProxyName", _NOWHERE[0]),
    ("/org.openoffice.Inet/Settings", "ooInetHTTPSProxyPort", _NOWHERE[1]),
    ("/org.openoffice.Inet/Settings", "ooInetFTPProxyName", _NOWHERE[0]),
    ("/org.openoffice.Inet/Settings", "ooInetFTPProxyPort", _NOWHERE[1]),
    ("/org.openoffice.Inet/Settings", "ooInetNoProxy", ""),            # ...for every host
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("/org.openoffice.Office.Calc/Content/Update", "Link", "1"),          # Calc: 1 = never update links
    ("/org.openoffice.Office.Calc/Formula/Load", "OOXMLRecalcMode", "1"),  # 1 = never recalculate
    ("/org.openoffice.Office.Calc/Formula/Load", "ODFRecalcMode", "1"),
]


def write_profile(profile: Path) -> None:
    """A LibreOffice user profile holding SETTINGS (read by soffice -env:UserInstallation=...)."""
    from xml.sax.saxutils import quoteattr, escape

    items = "".join(
        f'<item oor:path={quoteattr(path)}><prop oor:name={quoteattr(name)} oor:op="fuse">'
        f"<value>{escape(value)}</value></prop></item>\n" for path, name, value in SETTINGS)
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"{items}</oor:items>\n", encoding="utf-8")


_offline_prefix: list[str] | None = None


def offline_prefix() -> list[str]:
    """The command that runs another without network (`unshare -rn`), when this system allows it
    (Linux with unprivileged user namespaces); else nothing. Tried once per process."""
    global _offline_prefix
    if _offline_prefix is None:
        _offline_prefix = []
        exe = shutil.which("unshare") if sys.platform.startswith("linux") else None
        if exe:
            try:
                ok = subprocess.run([exe, "-rn", "true"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, timeout=10).returncode == 0
            except (OSError, subprocess.SubprocessError):
                ok = False
            if ok:
                _offline_prefix = [exe, "-rn"]
    return _offline_prefix


def convert_with_libreoffice(path: str | os.PathLike, out_dir: str | os.PathLike,
                             timeout: float = 120, display_name: str = "", offline: bool = True) -> Path:
    """Convert an .xls/.ods file to out_dir/<stem>.xlsx with headless LibreOffice, fetching nothing
    (see the module's doc). `offline=False`: the profile's settings alone (tests check them so)."""
    path, out_dir = Path(path), Path(out_dir)
    name = display_name or path.name
    exe = _soffice()
    if exe is None:
        raise _fail("needs_libreoffice", name, expected=".xlsx", suffix=path.suffix)
    kind = sniff_kind(path, name)
    ext = {"xls": ".xls", "ods": ".ods"}.get(kind, path.suffix or ".xls")
    work = Path(tempfile.mkdtemp(prefix="tracker-lo-"))
    try:
        # Private copy with an honest extension and an ASCII name; private profile dir so
        # concurrent conversions do not fight over one LibreOffice user installation.
        src = work / f"input{ext}"
        shutil.copyfile(path, src)
        (work / "out").mkdir()
        write_profile(work / "profile")
        cmd = [*(offline_prefix() if offline else []),
               exe, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
               f"-env:UserInstallation={(work / 'profile').as_uri()}",
               "--convert-to", "xlsx", "--outdir", str(work / "out"), str(src)]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "HOME": str(work)})
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc)
            raise _convert_failed(name, f"> {timeout:g} s", why="timeout", seconds=_num(timeout)) from None
        result = work / "out" / "input.xlsx"
        if proc.returncode != 0 or not result.is_file() or result.stat().st_size == 0:
            tail = output.decode("utf-8", "replace").strip()[-300:]
            raise _convert_failed(name, tail or f"exit {proc.returncode}", why="exit", exit_code=proc.returncode)
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / f"{path.stem}.xlsx"
        shutil.move(str(result), target)
        return target
    except OSError as exc:
        raise _convert_failed(name, exc.strerror or type(exc).__name__) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def kill_tree(proc: subprocess.Popen) -> None:
    """End a process and everything it started: soffice (a launcher) runs soffice.bin, which
    outlives a launcher killed alone. psutil finds the tree on every OS; on POSIX the session
    the process leads (start_new_session) also catches children already handed to init."""
    import psutil

    try:
        family = [psutil.Process(proc.pid)]
        family += family[0].children(recursive=True)
    except psutil.Error:
        family = []
    for p in family:
        try:
            p.kill()
        except psutil.Error:
            pass
    if hasattr(os, "killpg"):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    proc.kill()     # harmless when already gone; then reaped, its pipe drained
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:     # a straggler still holds the pipe: do not wait for it
        proc.wait()
    psutil.wait_procs(family, timeout=5)


def _convert_failed(name: str, value: str, **params) -> IntakeError:
    """`value`: what LibreOffice said (its output's end), or the system's error."""
    return _fail("convert_failed", name, value=value, expected=".xlsx", **params)
