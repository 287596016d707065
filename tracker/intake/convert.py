"""Old formats (.xls, .ods) turned into .xlsx by headless LibreOffice, bounded in time."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tracker.intake.safety import _fail, _num, sniff_kind
from tracker.model.findings import IntakeError


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_with_libreoffice(path: str | os.PathLike, out_dir: str | os.PathLike,
                             timeout: float = 120, display_name: str = "") -> Path:
    """Convert an .xls/.ods file to out_dir/<stem>.xlsx with headless LibreOffice."""
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
        cmd = [exe, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
               f"-env:UserInstallation={(work / 'profile').as_uri()}",
               "--convert-to", "xlsx", "--outdir", str(work / "out"), str(src)]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "HOME": str(work)})
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
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


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _convert_failed(name: str, value: str, **params) -> IntakeError:
    """`value`: what LibreOffice said (its output's end), or the system's error."""
    return _fail("convert_failed", name, value=value, expected=".xlsx", **params)
